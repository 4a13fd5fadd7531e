/*
 * form_rules.c: the cross-field rules of each form type (DOMAIN.md §7),
 * after the generic walk has checked every single value. docs/forms.md
 * lists every rule; keep the two in step.
 *
 * The rules read forms that may have failed the generic walk (a bad date, a
 * missing required string), so every one of them is NULL-safe and treats a
 * value it cannot read as absent.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "forms.pb-c.h"
#include "form_int.h"

/* The person's age in years as of now: the youngest the birth date allows. */
int
form_age_years(const char *dob, time_t now)
{
	struct tm tm;
	int y, m, d, age;

	if (dob == NULL || !form_date_parse(dob, &y, &m, &d))
		return -1;
	if (m == 0)
		m = 12;
	if (d == 0)
		d = 31;
	gmtime_r(&now, &tm);
	age = tm.tm_year + 1900 - y;
	if (tm.tm_mon + 1 < m || (tm.tm_mon + 1 == m && tm.tm_mday < d))
		age--;
	return age;
}

/* Today as "YYYY-MM-DD", for comparisons with reduced-precision dates. */
static void
today(time_t now, char out[11])
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/*
 * a is after b. ISO dates of any precision compare as strings on their
 * common prefix; "2026" is not after "2026-05" (it may be the same time).
 */
static bool
date_after(const char *a, const char *b)
{
	size_t n;

	if (a == NULL || b == NULL)
		return false;
	n = strlen(a) < strlen(b) ? strlen(a) : strlen(b);
	return strncmp(a, b, n) > 0;
}

/*
 * "Not in the future" means not after the latest date anywhere on Earth
 * (UTC+14): a Thai case worker's today (UTC+7) is often UTC's tomorrow,
 * and the recipient validates again on another clock.
 */
static void
not_future(struct repat_form_report *r, const char *path, const char *date,
    time_t now)
{
	char t[11];
	int y, m, d;

	today(now + 14 * 3600, t);
	if (date != NULL && form_date_parse(date, &y, &m, &d) &&
	    date_after(date, t))
		form_problem(r, false, path, "in the future (today is %s)", t);
}

/*
 * DOMAIN.md §7.7: under 18, or possibly under 18: when the age rests on no
 * document and may be under 21, the person is treated as a child.
 */
static int
youngest_age(const char *dob, bool has_est, uint32_t est, time_t now)
{
	int a = form_age_years(dob, now);

	if (has_est && (a < 0 || (uint32_t)a > est))
		a = est > 200 ? 200 : (int)est;
	return a;
}

static bool
age_says_child(int age, bool documented)
{
	if (age < 0)
		return false;
	return age < 18 || (!documented && age < 21);
}

static bool
referral_is_child(const Repat__CaseReferral *c, time_t now)
{
	int age = youngest_age(c->date_of_birth, c->has_estimated_age,
	    c->estimated_age, now);

	if (c->has_is_child && c->is_child)
		return true;
	return age_says_child(age,
	    c->age_basis == REPAT__AGE_BASIS__AGE_BASIS_DOCUMENT);
}

static void
rules_identification(const Repat__IdentificationNotice *n,
    struct repat_form_report *r, time_t now)
{
	not_future(r, "identified_on", n->identified_on, now);
	if (n->victim_objected_to_notification)
		form_problem(r, true, "victim_objected_to_notification",
		    "the person objected: the broker will refuse to notify "
		    "the country of origin");
}

static void
rules_guardian(const Repat__Guardian *g, struct repat_form_report *r)
{
	if (g == NULL)
		form_problem(r, false, "guardian", "required: the person is a "
		    "child (under 18, or age uncertain and possibly under 18)");
}

static void
rules_referral(const Repat__CaseReferral *c, struct repat_form_report *r,
    time_t now)
{
	char path[128];
	int age;
	size_t i;

	not_future(r, "date_of_birth", c->date_of_birth, now);
	if (c->date_of_birth == NULL && !c->has_estimated_age)
		form_problem(r, false, "date_of_birth", "required: give "
		    "date_of_birth or estimated_age");
	if (c->has_estimated_age && c->estimated_age > 120)
		form_problem(r, false, "estimated_age", "not a human age: %u",
		    c->estimated_age);
	if (c->age_basis == REPAT__AGE_BASIS__AGE_BASIS_DOCUMENT &&
	    c->date_of_birth == NULL)
		form_problem(r, false, "age_basis", "\"document\" needs the "
		    "date_of_birth the document shows");
	age = youngest_age(c->date_of_birth, c->has_estimated_age,
	    c->estimated_age, now);
	if (!c->has_is_child)
		form_problem(r, false, "is_child", "required: say whether the "
		    "person is, or may be, a child (true when in doubt)");
	if (c->has_is_child && !c->is_child && referral_is_child(c, now))
		form_problem(r, false, "is_child", "false, but the age (%d%s) "
		    "means the person must be treated as a child; set it to "
		    "true", age, c->age_basis ==
		    REPAT__AGE_BASIS__AGE_BASIS_DOCUMENT ? "" : ", not from a "
		    "document");
	if (referral_is_child(c, now)) {
		rules_guardian(c->guardian, r);
		if (c->child_views == NULL)
			form_problem(r, false, "child_views", "required: a "
			    "child's own views are recorded (DOMAIN.md §7.7)");
	}
	if (c->medical_needs_summary != NULL &&
	    strcasestr(c->medical_needs_summary, "HIV") != NULL)
		form_problem(r, true, "medical_needs_summary", "mentions HIV: "
		    "test results travel only with explicit medical_share "
		    "consent (DOMAIN.md §7.4)");
	if (c->n_exploitation_types == 0)
		form_problem(r, false, "exploitation_types", "required: at "
		    "least one exploitation type");
	if (c->n_risk_factors > 0 && !c->has_risk_level)
		form_problem(r, false, "risk_level", "required when "
		    "risk_factors are given");
	for (i = 0; i < c->n_accompanying_children; i++) {
		const Repat__AccompanyingChild *ch =
		    c->accompanying_children[i];

		snprintf(path, sizeof(path),
		    "accompanying_children[%zu].date_of_birth", i);
		not_future(r, path, ch->date_of_birth, now);
		if (youngest_age(ch->date_of_birth, ch->has_estimated_age,
		    ch->estimated_age, now) >= 18) {
			snprintf(path, sizeof(path), "accompanying_children"
			    "[%zu]", i);
			form_problem(r, false, path, "18 or older: not a "
			    "child");
		}
	}
}

static void
rules_nv_request(const Repat__NationalityVerificationRequest *q,
    struct repat_form_report *r, time_t now)
{
	const Repat__ClaimedIdentity *id = q->claimed_identity;

	if (id == NULL)
		return;
	not_future(r, "claimed_identity.date_of_birth", id->date_of_birth,
	    now);
	if (id->has_estimated_age && id->estimated_age > 120)
		form_problem(r, false, "claimed_identity.estimated_age",
		    "not a human age: %u", id->estimated_age);
}

static void
rules_nv_result(const Repat__NationalityVerificationResult *v,
    struct repat_form_report *r, time_t now)
{
	not_future(r, "verified_on", v->verified_on, now);
	if (v->national_id_number != NULL && v->status !=
	    REPAT__NATIONALITY_STATUS__NATIONALITY_STATUS_CONFIRMED)
		form_problem(r, false, "national_id_number", "only sent when "
		    "the status is \"confirmed\" (data minimisation)");
	if (v->status ==
	    REPAT__NATIONALITY_STATUS__NATIONALITY_STATUS_MORE_INFO_NEEDED &&
	    v->more_info_requested == NULL)
		form_problem(r, false, "more_info_requested", "required when "
		    "the status is \"more_info_needed\": say what is missing");
}

static void
rules_tracing(const Repat__FamilyTracingRequest *t,
    struct repat_form_report *r)
{
	if (t->n_family_contacts == 0 && t->origin_address == NULL)
		form_problem(r, false, "family_contacts", "required: at least "
		    "one family contact or an origin_address to trace from");
}

static void
rules_assessment(const Repat__FamilyAssessmentResult *a,
    struct repat_form_report *r, time_t now)
{
	not_future(r, "assessed_on", a->assessed_on, now);
	if (a->has_is_child && a->is_child &&
	    a->best_interests_determination == NULL)
		form_problem(r, false, "best_interests_determination",
		    "required for a child (DOMAIN.md §7.7)");
	if (!a->family_located && a->has_family_willing && a->family_willing)
		form_problem(r, false, "family_willing", "true, but the family "
		    "was not located");
	if (a->has_recommended_placement && a->recommended_placement ==
	    REPAT__RECOMMENDED_PLACEMENT__RECOMMENDED_PLACEMENT_FAMILY) {
		if (!a->family_located)
			form_problem(r, false, "recommended_placement",
			    "\"family\", but the family was not located");
		else if (a->assessment_outcome ==
		    REPAT__ASSESSMENT_OUTCOME__ASSESSMENT_OUTCOME_UNSAFE)
			form_problem(r, false, "recommended_placement",
			    "\"family\", but the assessment is \"unsafe\"");
	}
	if (a->has_family_linked_to_trafficking &&
	    a->family_linked_to_trafficking && a->assessment_outcome ==
	    REPAT__ASSESSMENT_OUTCOME__ASSESSMENT_OUTCOME_SAFE)
		form_problem(r, true, "assessment_outcome", "\"safe\" although "
		    "the family is linked to the trafficking; check it");
	if (a->best_interests_determination != NULL)
		not_future(r, "best_interests_determination.decided_on",
		    a->best_interests_determination->decided_on, now);
}

static void
rules_legal(const Repat__LegalProceedingsUpdate *l,
    struct repat_form_report *r)
{
	if (l->proceeding_stage ==
	    REPAT__PROCEEDING_STAGE__PROCEEDING_STAGE_NONE &&
	    l->witness_required)
		form_problem(r, false, "witness_required", "true, but there "
		    "are no proceedings (stage \"none\")");
}

static void
rules_travel(const Repat__TravelDocumentNotice *t,
    struct repat_form_report *r, time_t now)
{
	char day[11];

	today(now, day);
	if (t->issued_on != NULL && t->valid_until != NULL &&
	    !date_after(t->valid_until, t->issued_on))
		form_problem(r, false, "valid_until", "not after issued_on");
	else if (t->valid_until != NULL && date_after(day, t->valid_until))
		form_problem(r, true, "valid_until", "the document has "
		    "expired");
	not_future(r, "issued_on", t->issued_on, now);
}

static void
rules_plan(const Repat__RepatriationPlan *p, struct repat_form_report *r)
{
	bool rejected = p->plan_status ==
	    REPAT__PLAN_STATUS__PLAN_STATUS_REJECTED;

	if (p->n_case_refs == 0)
		form_problem(r, false, "case_refs", "required: at least one "
		    "case");
	if (rejected) {
		if (p->status_reason == NULL)
			form_problem(r, false, "status_reason", "required when "
			    "the plan is rejected: why, or a counter-proposal");
		return;
	}
	if (p->proposed_date == NULL)
		form_problem(r, false, "proposed_date", "required unless the "
		    "plan is rejected");
	if (!p->has_channel)
		form_problem(r, false, "channel", "required unless the plan is "
		    "rejected");
	else if (p->channel != REPAT__CHANNEL__CHANNEL_AIR &&
	    p->crossing_point_code == NULL)
		form_problem(r, false, "crossing_point_code", "required for a "
		    "land or BLO return");
	if (p->receiving_agency_id == NULL)
		form_problem(r, false, "receiving_agency_id", "required unless "
		    "the plan is rejected");
}

static void
rules_schedule(const Repat__HandoverSchedule *s,
    struct repat_form_report *r)
{
	if (s->n_case_refs == 0)
		form_problem(r, false, "case_refs", "required: at least one "
		    "person (case) to hand over");
}

static void
rules_record(const Repat__HandoverRecord *h, struct repat_form_report *r)
{
	if (h->n_handed_over_case_refs == 0)
		form_problem(r, false, "handed_over_case_refs", "required: the "
		    "list of persons handed over");
	if (h->n_officials == 0)
		form_problem(r, false, "officials", "required: the officials "
		    "present");
}

static void
rules_reception(const Repat__ReceptionReport *p, struct repat_form_report *r,
    time_t now)
{
	not_future(r, "arrived_on", p->arrived_on, now);
	if (p->onward_escort_date != NULL &&
	    date_after(p->arrived_on, p->onward_escort_date))
		form_problem(r, false, "onward_escort_date", "before "
		    "arrived_on");
}

static void
rules_followup(const Repat__ReintegrationFollowup *f,
    struct repat_form_report *r, time_t now)
{
	not_future(r, "followup_on", f->followup_on, now);
	if (f->next_followup_due != NULL &&
	    !date_after(f->next_followup_due, f->followup_on))
		form_problem(r, false, "next_followup_due", "not after "
		    "followup_on");
}

static void
rules_consent(const Repat__ConsentUpdate *c, struct repat_form_report *r)
{
	bool granted = c->decision ==
	    REPAT__CONSENT_DECISION__CONSENT_DECISION_GRANTED;
	char path[32];
	size_t i, j;

	if (c->n_scope == 0)
		form_problem(r, false, "scope", "required: at least one scope");
	for (i = 0; i < c->n_scope; i++)
		for (j = 0; j < i; j++)
			if (c->scope[i] == c->scope[j]) {
				snprintf(path, sizeof(path), "scope[%zu]", i);
				form_problem(r, false, path, "listed twice");
			}
	if (granted && !c->rights_explained)
		form_problem(r, false, "rights_explained", "consent is only "
		    "valid when the person was told their rights and the "
		    "timeframes (DOMAIN.md §7.1)");
	if (!c->has_is_child || !c->is_child)
		return;
	if (!c->has_guardian_consent)
		form_problem(r, false, "guardian_consent", "required for a "
		    "child");
	else if (granted && !c->guardian_consent)
		form_problem(r, false, "guardian_consent", "a child's consent "
		    "needs the guardian's consent too");
	if (c->guardian_name == NULL)
		form_problem(r, false, "guardian_name", "required for a child");
}

static void
rules_closure(const Repat__CaseClosure *c, struct repat_form_report *r,
    time_t now)
{
	not_future(r, "closed_on", c->closed_on, now);
	if (c->reason == REPAT__CLOSURE_REASON__CLOSURE_REASON_THIRD_COUNTRY &&
	    c->referred_to == NULL)
		form_problem(r, false, "referred_to", "required when the "
		    "reason is \"third_country\": the agency now in charge");
}

void
form_rules(int type, const ProtobufCMessage *m, struct repat_form_report *r,
    time_t now)
{
	switch (type) {
	case 1:
		rules_identification((const void *)m, r, now);
		break;
	case 2:
		rules_referral((const void *)m, r, now);
		break;
	case 3:
		rules_nv_request((const void *)m, r, now);
		break;
	case 4:
		rules_nv_result((const void *)m, r, now);
		break;
	case 5:
		rules_tracing((const void *)m, r);
		break;
	case 6:
		rules_assessment((const void *)m, r, now);
		break;
	case 7:
		rules_legal((const void *)m, r);
		break;
	case 8:
		rules_travel((const void *)m, r, now);
		break;
	case 9:
		rules_plan((const void *)m, r);
		break;
	case 10:
		rules_schedule((const void *)m, r);
		break;
	case 11:
		rules_record((const void *)m, r);
		break;
	case 12:
		rules_reception((const void *)m, r, now);
		break;
	case 13:
		rules_followup((const void *)m, r, now);
		break;
	case 14:
		rules_consent((const void *)m, r);
		break;
	case 15:
		rules_closure((const void *)m, r, now);
		break;
	default:
		break;
	}
}

bool
repat_form_is_child(int type, const ProtobufCMessage *m)
{
	time_t now = time(NULL);

	if (m == NULL || form_type_of(m->descriptor) != type)
		return false;
	switch (type) {
	case 1:
		return ((const Repat__IdentificationNotice *)m)->is_child;
	case 2:
		return referral_is_child((const void *)m, now);
	case 5:
		return ((const Repat__FamilyTracingRequest *)m)->is_child;
	case 6:
		return ((const Repat__FamilyAssessmentResult *)m)->is_child;
	case 14:
		return ((const Repat__ConsentUpdate *)m)->is_child;
	default:
		return false;
	}
}
