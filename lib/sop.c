/*
 * sop.c: the case state machine (DOMAIN.md §2, §7). It decides, from the
 * typed header facts alone, whether a message may move a case now, and
 * applies the move: accumulated facts, consent, state, reply deadlines and
 * the list of agents that received data (for withdrawal notices).
 *
 * The rules are one table (rules[] below) plus a few type-specific gates;
 * docs/agreements.md "Normative table" is the same table in prose and must
 * change with it. Transitions, and the function performing each:
 *
 *   NONE -> OPEN                  identification_notice     open_case()
 *   OPEN -> PLAN_PROPOSED         repatriation_plan proposed apply_plan()
 *   PLAN_PROPOSED -> PLANNED      plan accepted (reply)      apply_plan()
 *   PLAN_PROPOSED -> OPEN         plan rejected (reply)      apply_plan()
 *   PLANNED -> OPEN               legal update, no clearance apply_state()
 *   PLANNED -> HANDOVER_RECORDED  handover_record            apply_state()
 *   HANDOVER_RECORDED -> HANDED_OVER  the other side's reply apply_state()
 *   HANDED_OVER -> RECEIVED       reception_report           apply_state()
 *   RECEIVED -> FOLLOW_UP         reintegration_followup     apply_state()
 *   OPEN|PLAN_PROPOSED -> THIRD_COUNTRY  nationality not confirmed or
 *                                 possibly stateless         apply_state()
 *   THIRD_COUNTRY -> OPEN         nationality confirmed      apply_state()
 *   any but CLOSED -> CLOSED      case_closure with a reason apply_state()
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repat/err.h"
#include "repat/sop.h"

#define T(x)		REPAT__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define SCOPE(x)	REPAT__CONSENT_SCOPE__CONSENT_SCOPE_##x
#define RC(x)		REPAT__REJECT_CODE__REJECT_##x
#define NS(x)		REPAT__NATIONALITY_STATUS__NATIONALITY_STATUS_##x
#define AO(x)		REPAT__ASSESSMENT_OUTCOME__ASSESSMENT_OUTCOME_##x
#define ST(x)		(1u << REPAT_CASE_##x)
/* Every state but NONE and CLOSED: OPEN..THIRD_COUNTRY. */
#define NOT_CLOSED	((1u << REPAT_CASE_CLOSED) - 2u)
#define NTYPES		16

/*
 * Per type: the states it may arrive in, the side its (cross-border)
 * sender must be on and the consent scope it needs (0: none).
 */
static const struct rule {
	uint32_t states;
	int side;
	int scope;
} rules[NTYPES] = {
	[T(IDENTIFICATION_NOTICE)] = { 0, REPAT_SIDE_DESTINATION, 0 },
	[T(CASE_REFERRAL)] = { ST(OPEN) | ST(PLAN_PROPOSED) |
	    ST(THIRD_COUNTRY), REPAT_SIDE_DESTINATION, SCOPE(SHARE_CASE) },
	[T(NATIONALITY_VERIFICATION_REQUEST)] = { ST(OPEN) |
	    ST(PLAN_PROPOSED) | ST(THIRD_COUNTRY), REPAT_SIDE_DESTINATION,
	    SCOPE(SHARE_CASE) },
	[T(NATIONALITY_VERIFICATION_RESULT)] = { ST(OPEN) |
	    ST(PLAN_PROPOSED) | ST(THIRD_COUNTRY), REPAT_SIDE_ORIGIN,
	    SCOPE(SHARE_CASE) },
	[T(FAMILY_TRACING_REQUEST)] = { ST(OPEN) | ST(PLAN_PROPOSED),
	    REPAT_SIDE_DESTINATION, SCOPE(FAMILY_TRACING) },
	[T(FAMILY_ASSESSMENT_RESULT)] = { ST(OPEN) | ST(PLAN_PROPOSED),
	    REPAT_SIDE_ORIGIN, SCOPE(FAMILY_TRACING) },
	[T(LEGAL_PROCEEDINGS_UPDATE)] = { ST(OPEN) | ST(PLAN_PROPOSED) |
	    ST(PLANNED) | ST(THIRD_COUNTRY), REPAT_SIDE_DESTINATION,
	    SCOPE(SHARE_CASE) },
	[T(TRAVEL_DOCUMENT_NOTICE)] = { ST(OPEN) | ST(PLAN_PROPOSED) |
	    ST(PLANNED), REPAT_SIDE_ORIGIN, SCOPE(SHARE_CASE) },
	[T(REPATRIATION_PLAN)] = { ST(OPEN) | ST(PLAN_PROPOSED),
	    REPAT_SIDE_ANY, SCOPE(SHARE_CASE) },
	[T(HANDOVER_SCHEDULE)] = { ST(PLANNED), REPAT_SIDE_ANY,
	    SCOPE(SHARE_CASE) },
	[T(HANDOVER_RECORD)] = { ST(PLANNED) | ST(HANDOVER_RECORDED),
	    REPAT_SIDE_ANY, SCOPE(SHARE_CASE) },
	[T(RECEPTION_REPORT)] = { ST(HANDED_OVER), REPAT_SIDE_ORIGIN,
	    SCOPE(SHARE_CASE) },
	[T(REINTEGRATION_FOLLOWUP)] = { ST(RECEIVED) | ST(FOLLOW_UP),
	    REPAT_SIDE_ORIGIN, SCOPE(FOLLOWUP_FEEDBACK) },
	[T(CONSENT_UPDATE)] = { NOT_CLOSED, REPAT_SIDE_ANY, 0 },
	[T(CASE_CLOSURE)] = { NOT_CLOSED, REPAT_SIDE_ANY, 0 },
};

static const char *const state_names[REPAT_CASE_STATE_COUNT_] = {
	[REPAT_CASE_NONE] = "none",
	[REPAT_CASE_OPEN] = "open",
	[REPAT_CASE_PLAN_PROPOSED] = "plan_proposed",
	[REPAT_CASE_PLANNED] = "planned",
	[REPAT_CASE_HANDOVER_RECORDED] = "handover_recorded",
	[REPAT_CASE_HANDED_OVER] = "handed_over",
	[REPAT_CASE_RECEIVED] = "received",
	[REPAT_CASE_FOLLOW_UP] = "follow_up",
	[REPAT_CASE_THIRD_COUNTRY] = "third_country",
	[REPAT_CASE_CLOSED] = "closed",
};

const char *
repat_case_state_name(int state)
{
	if (state < 0 || state >= REPAT_CASE_STATE_COUNT_)
		return "?";
	return state_names[state];
}

int
repat_case_side(const struct repat_case *c, const char *country)
{
	if (strcmp(c->countries[0], country) == 0)
		return REPAT_SIDE_DESTINATION;
	if (strcmp(c->countries[1], country) == 0)
		return REPAT_SIDE_ORIGIN;
	return -1;
}

static const char *
side_name(int side)
{
	return side == REPAT_SIDE_DESTINATION ? "the destination country" :
	    side == REPAT_SIDE_ORIGIN ? "the country of origin" : "either side";
}

static const char *
tname(int type)
{
	const char *n = repat_message_type_name(type);

	return n != NULL ? n : "?";
}

static const char *
scope_name(int scope)
{
	static const char *const names[] = { "?", "notify_origin",
	    "share_case", "family_tracing", "medical_share",
	    "followup_feedback" };

	return scope >= 1 && scope <= 5 ? names[scope] : "?";
}

bool
repat_case_consent(const struct repat_case *c, int scope)
{
	uint32_t bit = 1u << scope;

	return (c->consent_granted & bit) && !(c->consent_withdrawn & bit);
}

/* ---------------------------------------------------------------- facts */

/*
 * Merges the facts m is authoritative for into f (docs/agreements.md
 * "Facts each type records"). Recorded-flags are sticky: a later message
 * cannot un-record a guardian or un-make a child.
 */
static void
merge_facts(struct repat_case_facts *f, const struct repat_sop_msg *m)
{
	const Repat__CaseFacts *h = m->facts;

	if (h->has_is_child && h->is_child)
		f->is_child = true;
	switch (m->type) {
	case T(CASE_REFERRAL):
		if (h->has_risk_assessment_recorded &&
		    h->risk_assessment_recorded)
			f->risk_assessment_recorded = true;
		if (h->has_return_wish)
			f->return_wish = (int)h->return_wish;
		/* FALLTHROUGH */
	case T(CONSENT_UPDATE):
		if (h->has_guardian_recorded && h->guardian_recorded)
			f->guardian_recorded = true;
		break;
	case T(NATIONALITY_VERIFICATION_RESULT):
		if (h->has_nationality_status)
			f->nationality_status = (int)h->nationality_status;
		break;
	case T(FAMILY_ASSESSMENT_RESULT):
		if (h->has_assessment_outcome)
			f->assessment_outcome = (int)h->assessment_outcome;
		if (h->has_family_located)
			f->family_located = h->family_located;
		if (h->has_best_interests_recorded &&
		    h->best_interests_recorded)
			f->best_interests_recorded = true;
		break;
	case T(LEGAL_PROCEEDINGS_UPDATE):
		if (h->has_legal_clearance)
			f->legal_clearance = h->legal_clearance;
		break;
	case T(TRAVEL_DOCUMENT_NOTICE):
		f->travel_document = true;
		break;
	case T(HANDOVER_SCHEDULE):
	case T(HANDOVER_RECORD):
		if (h->has_receiving_social_worker_named &&
		    h->receiving_social_worker_named)
			f->receiving_social_worker_named = true;
		break;
	case T(CASE_CLOSURE):
		if (h->has_closure_reason)
			f->closure_reason = (int)h->closure_reason;
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------- checking */

static int
refuse(int *code, char *reason, int c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
refuse(int *code, char *reason, int c, const char *fmt, ...)
{
	va_list ap;

	*code = c;
	if (reason != NULL) {
		va_start(ap, fmt);
		vsnprintf(reason, REPAT_ERRBUF_LEN, fmt, ap);
		va_end(ap);
	}
	return REPAT_EREFUSED;
}

/*
 * The return gate (DOMAIN.md §7 rules 6 and 7) on the facts a plan would
 * be proposed or accepted with. Child safeguards first: they are the more
 * specific refusal.
 */
static int
plan_gate(const struct repat_case_facts *f, int *code, char *reason)
{
	if (f->is_child && !f->guardian_recorded)
		return refuse(code, reason, RC(CHILD_SAFEGUARD), "a child's "
		    "repatriation plan needs a guardian recorded first");
	if (f->is_child && !f->best_interests_recorded)
		return refuse(code, reason, RC(CHILD_SAFEGUARD), "a child's "
		    "repatriation plan needs a best-interests determination "
		    "first");
	if (f->is_child &&
	    f->assessment_outcome != AO(SAFE))
		return refuse(code, reason, RC(CHILD_SAFEGUARD), "a child's "
		    "repatriation plan needs a family assessment that found "
		    "return safe");
	if (f->nationality_status !=
	    NS(CONFIRMED))
		return refuse(code, reason, RC(RETURN_GATE), "a repatriation "
		    "plan needs nationality confirmed by the country of origin "
		    "first");
	if (f->assessment_outcome == 0)
		return refuse(code, reason, RC(RETURN_GATE), "a repatriation "
		    "plan needs a family assessment first");
	if (f->assessment_outcome ==
	    AO(UNSAFE))
		return refuse(code, reason, RC(RETURN_GATE), "the family "
		    "assessment found return unsafe: no repatriation plan");
	if (!f->legal_clearance)
		return refuse(code, reason, RC(RETURN_GATE), "a repatriation "
		    "plan needs legal clearance (legal_proceedings_update) "
		    "first");
	if (!f->risk_assessment_recorded)
		return refuse(code, reason, RC(RETURN_GATE), "a repatriation "
		    "plan needs a risk assessment recorded first");
	if (f->return_wish != REPAT__RETURN_WISH__RETURN_WISH_YES)
		return refuse(code, reason, RC(RETURN_GATE), "the person has "
		    "not stated a wish to return");
	return 0;
}

static int
check_plan(const struct repat_case *c, const struct repat_sop_msg *m,
    const struct repat_case_facts *f, int side, int *code, char *reason)
{
	const Repat__CaseFacts *h = m->facts;

	if (!h->has_plan_status)
		return refuse(code, reason, RC(MISSING_FACT), "a repatriation "
		    "plan must say whether it is proposed, accepted or "
		    "rejected");
	if (h->plan_status == REPAT__PLAN_STATUS__PLAN_STATUS_PROPOSED) {
		if (c->state != REPAT_CASE_OPEN)
			return refuse(code, reason, RC(SOP_ORDER), "a plan is "
			    "already pending on case %s: accept or reject it "
			    "first", c->case_ref);
		return plan_gate(f, code, reason);
	}
	if (c->state != REPAT_CASE_PLAN_PROPOSED)
		return refuse(code, reason, RC(SOP_ORDER), "no repatriation "
		    "plan is pending on case %s", c->case_ref);
	if (m->in_reply_to == NULL ||
	    memcmp(m->in_reply_to, c->plan_id, REPAT_MESSAGE_ID_LEN) != 0)
		return refuse(code, reason, RC(SOP_ORDER), "a plan is accepted "
		    "or rejected in reply (in_reply_to) to the pending "
		    "proposal");
	if (side == c->plan_side)
		return refuse(code, reason, RC(ROLE_NOT_ALLOWED), "only the "
		    "other country accepts or rejects a proposed plan");
	if (h->plan_status == REPAT__PLAN_STATUS__PLAN_STATUS_ACCEPTED)
		return plan_gate(f, code, reason);
	return 0;
}

static int
check_handover(const struct repat_case *c, const struct repat_sop_msg *m,
    const struct repat_case_facts *f, int side, int *code, char *reason)
{
	/* A schedule only plans; the gates hold at the record itself. */
	if (m->type == T(HANDOVER_SCHEDULE))
		return 0;
	if (!f->travel_document)
		return refuse(code, reason, RC(SOP_ORDER), "no travel document "
		    "has been notified on case %s: handover comes after it",
		    c->case_ref);
	if (f->is_child && !f->receiving_social_worker_named)
		return refuse(code, reason, RC(CHILD_SAFEGUARD), "a child is "
		    "handed over only to a named receiving social worker");
	if (c->state == REPAT_CASE_PLANNED)
		return 0;
	/* HANDOVER_RECORDED: only the other side's confirmation. */
	if (m->in_reply_to == NULL || memcmp(m->in_reply_to, c->handover_id,
	    REPAT_MESSAGE_ID_LEN) != 0)
		return refuse(code, reason, RC(SOP_ORDER), "the handover is "
		    "already recorded: the other side confirms it in reply "
		    "(in_reply_to) to that record");
	if (side == c->handover_side)
		return refuse(code, reason, RC(ROLE_NOT_ALLOWED), "the other "
		    "country confirms a handover record, not the one that "
		    "made it");
	return 0;
}

static int
check_closure(const struct repat_case *c, const struct repat_sop_msg *m,
    int *code, char *reason)
{
	const Repat__CaseFacts *h = m->facts;
	int r;

	if (!h->has_closure_reason)
		return refuse(code, reason, RC(MISSING_FACT), "a case is never "
		    "closed without a reason");
	r = (int)h->closure_reason;
	if (r == REPAT__CLOSURE_REASON__CLOSURE_REASON_THIRD_COUNTRY &&
	    c->state != REPAT_CASE_THIRD_COUNTRY)
		return refuse(code, reason, RC(SOP_ORDER), "only a case whose "
		    "nationality was not confirmed closes to a third country");
	if (r == REPAT__CLOSURE_REASON__CLOSURE_REASON_REINTEGRATED &&
	    c->state != REPAT_CASE_RECEIVED &&
	    c->state != REPAT_CASE_FOLLOW_UP)
		return refuse(code, reason, RC(SOP_ORDER), "a case closes as "
		    "reintegrated only after the reception report");
	if (r < 1 || r > REPAT__CLOSURE_REASON__CLOSURE_REASON_DECEASED)
		return refuse(code, reason, RC(MISSING_FACT), "unknown closure "
		    "reason");
	return 0;
}

static bool
scope_listed(const Repat__ConsentScope *v, size_t n, int scope)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((int)v[i] == scope)
			return true;
	return false;
}

/*
 * f: the case's facts merged with m's. A child's consent counts only with
 * the guardian's (DOMAIN.md §7.7), and a case is a child's once any of its
 * messages said so: a consent update that calls the person an adult does
 * not change that. Withdrawing needs no guardian.
 */
static int
check_consent_update(const struct repat_sop_msg *m,
    const struct repat_case_facts *f, int *code, char *reason)
{
	const Repat__CaseFacts *h = m->facts;
	size_t i;

	if (f->is_child && h->n_consent_granted > 0 &&
	    !(h->has_guardian_consent && h->guardian_consent))
		return refuse(code, reason, RC(CHILD_SAFEGUARD), "case %s is "
		    "a child's: consent counts only with the guardian's "
		    "(guardian_consent: true)", m->case_ref);

	for (i = 0; i < h->n_consent_granted; i++)
		if (h->consent_granted[i] < 1 || h->consent_granted[i] > 5 ||
		    scope_listed(h->consent_withdrawn, h->n_consent_withdrawn,
		    (int)h->consent_granted[i]))
			return refuse(code, reason, RC(MALFORMED), "a consent "
			    "update grants an unknown scope or grants and "
			    "withdraws the same scope");
	for (i = 0; i < h->n_consent_withdrawn; i++)
		if (h->consent_withdrawn[i] < 1 || h->consent_withdrawn[i] > 5)
			return refuse(code, reason, RC(MALFORMED), "a consent "
			    "update withdraws an unknown scope");
	return 0;
}

/* Would applying m open a reply deadline? */
static const struct repat_deadline_rule *
opens_deadline(const struct repat_agreement *a, const struct repat_sop_msg *m)
{
	const struct repat_deadline_rule *r;

	if (a == NULL || m->is_copy ||
	    (r = repat_agreement_deadline(a, m->type)) == NULL)
		return NULL;
	/* A plan or handover record in reply is the reply, not a request. */
	if (r->reply_type == m->type && m->in_reply_to != NULL)
		return NULL;
	if (m->type == T(REPATRIATION_PLAN) && (!m->facts->has_plan_status ||
	    m->facts->plan_status != REPAT__PLAN_STATUS__PLAN_STATUS_PROPOSED))
		return NULL;
	return r;
}

static int
check_new_case(const struct repat_sop_msg *m, int *code, char *reason)
{
	if (m->type != T(IDENTIFICATION_NOTICE) || m->is_copy)
		return refuse(code, reason, RC(CASE_NOT_OPEN), "no case %s is "
		    "open: a case opens with an identification_notice from "
		    "the destination country", m->case_ref);
	if (strcmp(m->sender->country, m->recipient->country) == 0)
		return refuse(code, reason, RC(SOP_ORDER), "an identification "
		    "notice goes from the destination country to the country "
		    "of origin");
	if (m->facts->has_victim_objected && m->facts->victim_objected)
		return refuse(code, reason, RC(VICTIM_OBJECTED), "the person "
		    "objected to notifying the country of origin");
	return 0;
}

/* The rules every message on an existing, open case meets. */
static int
check_common(const struct repat_case *c, const struct repat_sop_msg *m,
    int side, bool domestic, int *code, char *reason)
{
	const struct rule *r = &rules[m->type];

	if (m->type == T(IDENTIFICATION_NOTICE) && !m->is_copy)
		return refuse(code, reason, RC(CASE_EXISTS), "case %s is "
		    "already open", c->case_ref);
	if (c->state == REPAT_CASE_CLOSED)
		return refuse(code, reason, RC(CASE_NOT_OPEN), "case %s is "
		    "closed", c->case_ref);
	if (m->type == T(IDENTIFICATION_NOTICE)) {
		/* A copy of the notice (to the embassy) while still open. */
		if (c->state != REPAT_CASE_OPEN || side !=
		    REPAT_SIDE_DESTINATION)
			return refuse(code, reason, RC(SOP_ORDER), "a copy of "
			    "the identification notice is sent by the "
			    "destination while the case is open");
		return 0;
	}
	if (!m->is_copy && !(r->states & (1u << c->state)))
		return refuse(code, reason, RC(SOP_ORDER), "%s is not allowed "
		    "while case %s is %s", tname(m->type), c->case_ref,
		    repat_case_state_name(c->state));
	if (!domestic && r->side != REPAT_SIDE_ANY && side != r->side)
		return refuse(code, reason, RC(ROLE_NOT_ALLOWED), "%s is sent "
		    "by %s of the case", tname(m->type), side_name(r->side));
	if (r->scope != 0 && (c->consent_withdrawn & (1u << r->scope)))
		return refuse(code, reason, RC(CONSENT_WITHDRAWN), "consent to "
		    "%s was withdrawn on case %s", scope_name(r->scope),
		    c->case_ref);
	if (r->scope != 0 && !(c->consent_granted & (1u << r->scope)))
		return refuse(code, reason, RC(CONSENT_REQUIRED), "%s needs "
		    "the person's consent to %s (consent_update) first",
		    tname(m->type), scope_name(r->scope));
	return 0;
}

int
repat_sop_check(const struct repat_case *c, const struct repat_agreement *a,
    const struct repat_sop_msg *m, int *code, char *reason)
{
	struct repat_case_facts f;
	int sside, rside, rc;
	bool domestic;

	*code = 0;
	if (reason != NULL)
		reason[0] = '\0';
	if (m->type < 1 || m->type >= NTYPES)
		return refuse(code, reason, RC(MALFORMED), "unknown message "
		    "type %d", m->type);
	if (c == NULL || c->state == REPAT_CASE_NONE)
		return check_new_case(m, code, reason);
	sside = repat_case_side(c, m->sender->country);
	rside = repat_case_side(c, m->recipient->country);
	if (sside < 0 || rside < 0)
		return refuse(code, reason, RC(CASE_OTHER_COUNTRIES), "case %s "
		    "belongs to %s and %s only", c->case_ref, c->countries[0],
		    c->countries[1]);
	domestic = sside == rside;
	if ((rc = check_common(c, m, sside, domestic, code, reason)) != 0)
		return rc;
	f = c->facts;
	merge_facts(&f, m);
	switch (m->is_copy ? 0 : m->type) {
	case T(CASE_CLOSURE):
		rc = check_closure(c, m, code, reason);
		break;
	case T(CONSENT_UPDATE):
		rc = check_consent_update(m, &f, code, reason);
		break;
	case T(NATIONALITY_VERIFICATION_RESULT):
		if (!m->facts->has_nationality_status)
			rc = refuse(code, reason, RC(MISSING_FACT), "a "
			    "nationality verification result carries its "
			    "status");
		break;
	case T(TRAVEL_DOCUMENT_NOTICE):
		if (f.nationality_status !=
		    NS(CONFIRMED))
			rc = refuse(code, reason, RC(SOP_ORDER), "travel "
			    "documents are issued to confirmed nationals: "
			    "confirm nationality first");
		break;
	case T(REPATRIATION_PLAN):
		rc = check_plan(c, m, &f, sside, code, reason);
		break;
	case T(HANDOVER_SCHEDULE):
	case T(HANDOVER_RECORD):
		rc = check_handover(c, m, &f, sside, code, reason);
		break;
	default:
		break;
	}
	if (rc != 0)
		return rc;
	if (opens_deadline(a, m) != NULL &&
	    c->ndeadlines == REPAT_CASE_MAX_DEADLINES)
		return refuse(code, reason, RC(SOP_ORDER), "case %s has %d "
		    "unanswered requests: answer some first", c->case_ref,
		    REPAT_CASE_MAX_DEADLINES);
	return 0;
}

int
repat_sop_authorize(const repat_agreements_t *set, const struct repat_case *c,
    const struct repat_sop_msg *m, const char *agreement_id,
    const struct repat_agreement **a, int *code, char *reason)
{
	struct repat_route r;
	bool has_case = c != NULL && c->state != REPAT_CASE_NONE;
	int side;

	memset(&r, 0, sizeof(r));
	r.sender = m->sender;
	r.recipient = m->recipient;
	r.type = m->type;
	r.agreement_id = agreement_id;
	r.sender_side = REPAT_SIDE_DESTINATION;	/* a new case's sender */
	if (has_case) {
		side = repat_case_side(c, m->sender->country);
		if (side < 0 || repat_case_side(c, m->recipient->country) < 0)
			return refuse(code, reason, RC(CASE_OTHER_COUNTRIES),
			    "case %s belongs to %s and %s only", c->case_ref,
			    c->countries[0], c->countries[1]);
		r.sender_side = side;
		r.case_countries = c->countries;
	}
	if (repat_agreements_authorize(set, &r, m->now_ms, a, code,
	    reason) != 0)
		return REPAT_EREFUSED;
	return repat_sop_check(c, *a, m, code, reason);
}

/* ------------------------------------------------------------- applying */

static void
add_recipient(struct repat_case *c, const char *id)
{
	uint32_t i;

	for (i = 0; i < c->nrecipients; i++)
		if (strcmp(c->recipients[i], id) == 0)
			return;
	if (c->nrecipients == REPAT_CASE_MAX_RECIPIENTS) {
		c->recipients_overflow = true;
		return;
	}
	snprintf(c->recipients[c->nrecipients++], REPAT_MAX_AGENT_ID + 1, "%s",
	    id);
}

static void
drop_deadline(struct repat_case *c, uint32_t i, struct repat_sop_effects *fx)
{
	fx->deadline_closed = true;
	fx->closed = c->deadlines[i];
	memmove(&c->deadlines[i], &c->deadlines[i + 1],
	    (c->ndeadlines - i - 1) * sizeof(c->deadlines[0]));
	c->ndeadlines--;
	memset(&c->deadlines[c->ndeadlines], 0, sizeof(c->deadlines[0]));
}

/*
 * A reply closes the request it answers: by in_reply_to when given, else
 * the oldest request awaiting this type from the sender's country.
 */
static void
close_deadline(struct repat_case *c, const struct repat_sop_msg *m,
    struct repat_sop_effects *fx)
{
	char cc[3];
	uint32_t i;

	for (i = 0; i < c->ndeadlines; i++) {
		struct repat_case_deadline *d = &c->deadlines[i];

		if (d->awaited_type != m->type)
			continue;
		if (m->in_reply_to != NULL) {
			if (memcmp(d->request_id, m->in_reply_to,
			    REPAT_MESSAGE_ID_LEN) == 0) {
				drop_deadline(c, i, fx);
				return;
			}
			continue;
		}
		if (repat_agent_id_country(d->waiting_on, cc) &&
		    strcmp(cc, m->sender->country) == 0) {
			drop_deadline(c, i, fx);
			return;
		}
	}
}

static void
open_deadline(struct repat_case *c, const struct repat_agreement *a,
    const struct repat_sop_msg *m, struct repat_sop_effects *fx)
{
	const struct repat_deadline_rule *r = opens_deadline(a, m);
	struct repat_case_deadline *d;

	if (r == NULL || c->ndeadlines == REPAT_CASE_MAX_DEADLINES)
		return;
	d = &c->deadlines[c->ndeadlines++];
	memset(d, 0, sizeof(*d));
	memcpy(d->request_id, m->message_id, REPAT_MESSAGE_ID_LEN);
	d->request_type = m->type;
	d->awaited_type = r->reply_type;
	snprintf(d->waiting_on, sizeof(d->waiting_on), "%s",
	    m->recipient->agent_id);
	d->opened_ms = m->now_ms;
	d->due_ms = m->now_ms + r->period_ms;
	d->placeholder = r->placeholder;
	fx->deadline_opened = true;
	fx->opened = *d;
}

static void
apply_consent(struct repat_case *c, const Repat__CaseFacts *h,
    struct repat_sop_effects *fx)
{
	uint32_t bit;
	size_t i;

	for (i = 0; i < h->n_consent_granted; i++) {
		bit = 1u << h->consent_granted[i];
		c->consent_granted |= bit;
		c->consent_withdrawn &= ~bit;
	}
	for (i = 0; i < h->n_consent_withdrawn; i++) {
		bit = 1u << h->consent_withdrawn[i];
		if (!(c->consent_withdrawn & bit))
			fx->withdrawn_scopes |= bit;
		c->consent_withdrawn |= bit;
		c->consent_granted &= ~bit;
	}
	fx->notify_withdrawal = fx->withdrawn_scopes != 0;
}

static void
apply_plan(struct repat_case *c, const struct repat_sop_msg *m, int side)
{
	switch (m->facts->plan_status) {
	case REPAT__PLAN_STATUS__PLAN_STATUS_PROPOSED:
		c->state = REPAT_CASE_PLAN_PROPOSED;
		c->plan_side = side;
		memcpy(c->plan_id, m->message_id, REPAT_MESSAGE_ID_LEN);
		break;
	case REPAT__PLAN_STATUS__PLAN_STATUS_ACCEPTED:
		c->state = REPAT_CASE_PLANNED;
		break;
	default:
		c->state = REPAT_CASE_OPEN;
		c->plan_side = 0;
		memset(c->plan_id, 0, sizeof(c->plan_id));
		break;
	}
}

/* A pending plan falls (third-country path): so does its deadline. */
static void
drop_plan(struct repat_case *c)
{
	struct repat_sop_effects ignored;
	uint32_t i;

	for (i = 0; c->plan_side != 0 && i < c->ndeadlines; i++)
		if (memcmp(c->deadlines[i].request_id, c->plan_id,
		    REPAT_MESSAGE_ID_LEN) == 0) {
			drop_deadline(c, i, &ignored);
			break;
		}
	c->plan_side = 0;
	memset(c->plan_id, 0, sizeof(c->plan_id));
}

static void
apply_state(struct repat_case *c, const struct repat_sop_msg *m, int side)
{
	int ns = c->facts.nationality_status;

	switch (m->type) {
	case T(NATIONALITY_VERIFICATION_RESULT):
		if (ns == NS(NOT_CONFIRMED) ||
		    ns == NS(POSSIBLY_STATELESS)) {
			c->state = REPAT_CASE_THIRD_COUNTRY;
			drop_plan(c);
		} else if (ns == NS(CONFIRMED) &&
		    c->state == REPAT_CASE_THIRD_COUNTRY) {
			c->state = REPAT_CASE_OPEN;
		}
		break;
	case T(LEGAL_PROCEEDINGS_UPDATE):
		/* New proceedings hold the person back: the plan falls. */
		if (c->state == REPAT_CASE_PLANNED && !c->facts.legal_clearance)
			c->state = REPAT_CASE_OPEN;
		break;
	case T(REPATRIATION_PLAN):
		apply_plan(c, m, side);
		break;
	case T(HANDOVER_RECORD):
		if (c->state == REPAT_CASE_PLANNED) {
			c->state = REPAT_CASE_HANDOVER_RECORDED;
			c->handover_side = side;
			memcpy(c->handover_id, m->message_id,
			    REPAT_MESSAGE_ID_LEN);
		} else {
			c->state = REPAT_CASE_HANDED_OVER;
		}
		break;
	case T(RECEPTION_REPORT):
		c->state = REPAT_CASE_RECEIVED;
		break;
	case T(REINTEGRATION_FOLLOWUP):
		c->state = REPAT_CASE_FOLLOW_UP;
		break;
	case T(CASE_CLOSURE):
		c->state = REPAT_CASE_CLOSED;
		c->ndeadlines = 0;
		memset(c->deadlines, 0, sizeof(c->deadlines));
		break;
	default:
		break;
	}
}

static void
open_case(struct repat_case *c, const struct repat_agreement *a,
    const struct repat_sop_msg *m)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->case_ref, sizeof(c->case_ref), "%s", m->case_ref);
	c->state = REPAT_CASE_OPEN;
	memcpy(c->countries[0], m->sender->country, 3);
	memcpy(c->countries[1], m->recipient->country, 3);
	if (a != NULL)
		snprintf(c->agreement_id, sizeof(c->agreement_id), "%s", a->id);
	c->opened_ms = m->now_ms;
}

void
repat_sop_apply(struct repat_case *c, const struct repat_agreement *a,
    const struct repat_sop_msg *m, struct repat_sop_effects *fxp)
{
	struct repat_sop_effects fx;
	int side;

	memset(&fx, 0, sizeof(fx));
	fx.state_before = c->state;
	if (c->state == REPAT_CASE_NONE) {
		assert(m->type == T(IDENTIFICATION_NOTICE));
		open_case(c, a, m);
		fx.opened_case = true;
	}
	side = repat_case_side(c, m->sender->country);
	assert(side > 0);
	if (!m->is_copy) {
		merge_facts(&c->facts, m);
		close_deadline(c, m, &fx);
		if (m->type == T(CONSENT_UPDATE))
			apply_consent(c, m->facts, &fx);
		apply_state(c, m, side);
		if (c->state != REPAT_CASE_CLOSED)
			open_deadline(c, a, m, &fx);
	}
	add_recipient(c, m->recipient->agent_id);
	c->updated_ms = m->now_ms;
	fx.state_after = c->state;
	repat_case_assert_invariants(c);
	if (fxp != NULL)
		*fxp = fx;
}

/* ------------------------------------------------------------- deadlines */

static int
cmp_due(const void *x, const void *y)
{
	const struct repat_case_deadline *a = x, *b = y;

	return a->due_ms < b->due_ms ? -1 : a->due_ms > b->due_ms;
}

size_t
repat_case_overdue(const struct repat_case *c, uint64_t now_ms,
    struct repat_case_deadline *out, size_t max)
{
	struct repat_case_deadline tmp[REPAT_CASE_MAX_DEADLINES];
	size_t n = 0, i;

	for (i = 0; i < c->ndeadlines && i < REPAT_CASE_MAX_DEADLINES; i++)
		if (c->deadlines[i].due_ms <= now_ms)
			tmp[n++] = c->deadlines[i];
	qsort(tmp, n, sizeof(tmp[0]), cmp_due);
	for (i = 0; i < n && i < max; i++)
		out[i] = tmp[i];
	return n;
}

uint64_t
repat_case_next_due(const struct repat_case *c)
{
	uint64_t best = 0;
	uint32_t i;

	for (i = 0; i < c->ndeadlines && i < REPAT_CASE_MAX_DEADLINES; i++)
		if (best == 0 || c->deadlines[i].due_ms < best)
			best = c->deadlines[i].due_ms;
	return best;
}

/* ---------------------------------------------------------------- storage */

void
repat_case_facts_export(const struct repat_case *c,
    struct repat_case_facts_pb *out)
{
	Repat__CaseFacts init = REPAT__CASE_FACTS__INIT;
	const struct repat_case_facts *f = &c->facts;
	Repat__CaseFacts *p = &out->facts;
	int s;

	*p = init;
	p->has_is_child = 1;
	p->is_child = f->is_child;
	p->has_guardian_recorded = 1;
	p->guardian_recorded = f->guardian_recorded;
	p->has_best_interests_recorded = 1;
	p->best_interests_recorded = f->best_interests_recorded;
	p->has_risk_assessment_recorded = 1;
	p->risk_assessment_recorded = f->risk_assessment_recorded;
	p->has_legal_clearance = 1;
	p->legal_clearance = f->legal_clearance;
	p->has_receiving_social_worker_named = 1;
	p->receiving_social_worker_named = f->receiving_social_worker_named;
	p->has_family_located = 1;
	p->family_located = f->family_located;
	p->has_return_wish = f->return_wish != 0;
	p->return_wish = (Repat__ReturnWish)f->return_wish;
	p->has_nationality_status = f->nationality_status != 0;
	p->nationality_status = (Repat__NationalityStatus)f->nationality_status;
	p->has_assessment_outcome = f->assessment_outcome != 0;
	p->assessment_outcome = (Repat__AssessmentOutcome)f->assessment_outcome;
	p->has_closure_reason = f->closure_reason != 0;
	p->closure_reason = (Repat__ClosureReason)f->closure_reason;
	p->consent_granted = out->granted;
	p->consent_withdrawn = out->withdrawn;
	for (s = 1; s <= 5; s++) {
		if (c->consent_granted & (1u << s))
			out->granted[p->n_consent_granted++] =
			    (Repat__ConsentScope)s;
		if (c->consent_withdrawn & (1u << s))
			out->withdrawn[p->n_consent_withdrawn++] =
			    (Repat__ConsentScope)s;
	}
}

void
repat_case_encode(const struct repat_case *c, uint8_t **out, size_t *len)
{
	Repat__CaseRecord rec = REPAT__CASE_RECORD__INIT;
	Repat__CaseDeadline dl[REPAT_CASE_MAX_DEADLINES];
	Repat__CaseDeadline *dlp[REPAT_CASE_MAX_DEADLINES];
	char *rcp[REPAT_CASE_MAX_RECIPIENTS];
	struct repat_case_facts_pb fpb;
	uint32_t i;

	repat_case_facts_export(c, &fpb);
	/* Consent travels as the two bitmasks, not inside the facts. */
	fpb.facts.n_consent_granted = 0;
	fpb.facts.n_consent_withdrawn = 0;
	rec.case_ref = (char *)c->case_ref;
	rec.state = (uint32_t)c->state;
	rec.destination = (char *)c->countries[0];
	rec.origin = (char *)c->countries[1];
	rec.agreement_id = c->agreement_id[0] != '\0' ?
	    (char *)c->agreement_id : NULL;
	rec.opened_ms = c->opened_ms;
	rec.updated_ms = c->updated_ms;
	rec.facts = &fpb.facts;
	rec.has_consent_granted = rec.has_consent_withdrawn = 1;
	rec.consent_granted = c->consent_granted;
	rec.consent_withdrawn = c->consent_withdrawn;
	if (c->plan_side != 0) {
		rec.has_plan_side = rec.has_plan_id = 1;
		rec.plan_side = (uint32_t)c->plan_side;
		rec.plan_id.data = (uint8_t *)c->plan_id;
		rec.plan_id.len = REPAT_MESSAGE_ID_LEN;
	}
	if (c->handover_side != 0) {
		rec.has_handover_side = rec.has_handover_id = 1;
		rec.handover_side = (uint32_t)c->handover_side;
		rec.handover_id.data = (uint8_t *)c->handover_id;
		rec.handover_id.len = REPAT_MESSAGE_ID_LEN;
	}
	for (i = 0; i < c->ndeadlines && i < REPAT_CASE_MAX_DEADLINES; i++) {
		const struct repat_case_deadline *d = &c->deadlines[i];

		repat__case_deadline__init(&dl[i]);
		dl[i].request_id.data = (uint8_t *)d->request_id;
		dl[i].request_id.len = REPAT_MESSAGE_ID_LEN;
		dl[i].request_type = (Repat__MessageType)d->request_type;
		dl[i].awaited_type = (Repat__MessageType)d->awaited_type;
		dl[i].waiting_on = (char *)d->waiting_on;
		dl[i].opened_ms = d->opened_ms;
		dl[i].due_ms = d->due_ms;
		dl[i].has_placeholder = 1;
		dl[i].placeholder = d->placeholder;
		dlp[i] = &dl[i];
	}
	rec.n_deadlines = i;
	rec.deadlines = dlp;
	for (i = 0; i < c->nrecipients && i < REPAT_CASE_MAX_RECIPIENTS; i++)
		rcp[i] = (char *)c->recipients[i];
	rec.n_recipients = i;
	rec.recipients = rcp;
	rec.has_recipients_overflow = rec.has_travel_document = 1;
	rec.recipients_overflow = c->recipients_overflow;
	rec.travel_document = c->facts.travel_document;
	repat_encode(&rec.base, out, len);
}

static bool
copy_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= dstlen)
		return false;
	memcpy(dst, src != NULL ? src : "", n + 1);
	return true;
}

static bool
copy_id(uint8_t dst[REPAT_MESSAGE_ID_LEN], protobuf_c_boolean has,
    const ProtobufCBinaryData *b)
{
	if (!has || b->len == 0)
		return true;
	if (b->len != REPAT_MESSAGE_ID_LEN)
		return false;
	memcpy(dst, b->data, REPAT_MESSAGE_ID_LEN);
	return true;
}

static int
import_facts(struct repat_case_facts *f, const Repat__CaseFacts *p)
{
	f->is_child = p->has_is_child && p->is_child;
	f->guardian_recorded = p->has_guardian_recorded &&
	    p->guardian_recorded;
	f->best_interests_recorded = p->has_best_interests_recorded &&
	    p->best_interests_recorded;
	f->risk_assessment_recorded = p->has_risk_assessment_recorded &&
	    p->risk_assessment_recorded;
	f->legal_clearance = p->has_legal_clearance && p->legal_clearance;
	f->receiving_social_worker_named =
	    p->has_receiving_social_worker_named &&
	    p->receiving_social_worker_named;
	f->family_located = p->has_family_located && p->family_located;
	f->return_wish = p->has_return_wish ? (int)p->return_wish : 0;
	f->nationality_status = p->has_nationality_status ?
	    (int)p->nationality_status : 0;
	f->assessment_outcome = p->has_assessment_outcome ?
	    (int)p->assessment_outcome : 0;
	f->closure_reason = p->has_closure_reason ? (int)p->closure_reason : 0;
	if (f->return_wish < 0 || f->return_wish > 3 ||
	    f->nationality_status < 0 || f->nationality_status > 4 ||
	    f->assessment_outcome < 0 || f->assessment_outcome > 3 ||
	    f->closure_reason < 0 || f->closure_reason > 5)
		return REPAT_ECORRUPT;
	return 0;
}

static int
import_lists(struct repat_case *c, const Repat__CaseRecord *r, char *errbuf)
{
	size_t i;

	if (r->n_deadlines > REPAT_CASE_MAX_DEADLINES ||
	    r->n_recipients > REPAT_CASE_MAX_RECIPIENTS)
		return repat_errf(errbuf, REPAT_ECORRUPT, "case record: too "
		    "many deadlines or recipients");
	for (i = 0; i < r->n_deadlines; i++) {
		const Repat__CaseDeadline *d = r->deadlines[i];
		struct repat_case_deadline *o = &c->deadlines[i];

		if (d->request_id.len != REPAT_MESSAGE_ID_LEN ||
		    d->request_type < 1 || d->request_type >= NTYPES ||
		    d->awaited_type < 1 || d->awaited_type >= NTYPES ||
		    !repat_agent_id_valid(d->waiting_on) ||
		    !copy_str(o->waiting_on, sizeof(o->waiting_on),
		    d->waiting_on))
			return repat_errf(errbuf, REPAT_ECORRUPT, "case "
			    "record: deadline %zu is malformed", i);
		memcpy(o->request_id, d->request_id.data, REPAT_MESSAGE_ID_LEN);
		o->request_type = (int)d->request_type;
		o->awaited_type = (int)d->awaited_type;
		o->opened_ms = d->opened_ms;
		o->due_ms = d->due_ms;
		o->placeholder = d->has_placeholder && d->placeholder;
	}
	c->ndeadlines = (uint32_t)r->n_deadlines;
	for (i = 0; i < r->n_recipients; i++)
		if (!repat_agent_id_valid(r->recipients[i]) ||
		    !copy_str(c->recipients[i], sizeof(c->recipients[i]),
		    r->recipients[i]))
			return repat_errf(errbuf, REPAT_ECORRUPT, "case "
			    "record: recipient %zu is not an agent id", i);
	c->nrecipients = (uint32_t)r->n_recipients;
	return 0;
}

int
repat_case_decode(const uint8_t *buf, size_t len, struct repat_case *c,
    char *errbuf)
{
	Repat__CaseRecord *r;
	char why[REPAT_ERRBUF_LEN];
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = REPAT_DECODE(Repat__CaseRecord, case_record, buf, len,
	    REPAT_MAX_CASE_RECORD, &r)) != 0)
		return repat_errf(errbuf, rc, "case record does not decode");
	rc = REPAT_ECORRUPT;
	if (r->state < 1 || r->state >= REPAT_CASE_STATE_COUNT_ ||
	    !copy_str(c->case_ref, sizeof(c->case_ref), r->case_ref) ||
	    strlen(r->destination) != 2 || strlen(r->origin) != 2 ||
	    !copy_str(c->agreement_id, sizeof(c->agreement_id),
	    r->agreement_id) || r->plan_side > 2 || r->handover_side > 2 ||
	    ((r->consent_granted | r->consent_withdrawn) & ~0x3eu) != 0 ||
	    !copy_id(c->plan_id, r->has_plan_id, &r->plan_id) ||
	    !copy_id(c->handover_id, r->has_handover_id, &r->handover_id) ||
	    import_facts(&c->facts, r->facts) != 0) {
		repat_errf(errbuf, rc, "case record: a field is out of range");
		goto fail;
	}
	c->state = (int)r->state;
	memcpy(c->countries[0], r->destination, 3);
	memcpy(c->countries[1], r->origin, 3);
	c->opened_ms = r->opened_ms;
	c->updated_ms = r->updated_ms;
	c->consent_granted = r->consent_granted;
	c->consent_withdrawn = r->consent_withdrawn;
	c->plan_side = (int)r->plan_side;
	c->handover_side = (int)r->handover_side;
	c->recipients_overflow = r->has_recipients_overflow &&
	    r->recipients_overflow;
	c->facts.travel_document = r->has_travel_document &&
	    r->travel_document;
	if ((rc = import_lists(c, r, errbuf)) != 0)
		goto fail;
	if (!repat_case_invariants_hold(c, why)) {
		rc = repat_errf(errbuf, REPAT_ECORRUPT, "case record %s: %s "
		    "broken", c->case_ref, why);
		goto fail;
	}
	repat_msg_free(r);
	return 0;
fail:
	repat_msg_free(r);
	memset(c, 0, sizeof(*c));
	return rc;
}

/* ------------------------------------------------------------- invariants */

#define INV(cond, text)						\
	do {							\
		if (!(cond)) {					\
			if (why != NULL)			\
				snprintf(why, REPAT_ERRBUF_LEN,	\
				    "invariant %s", text);	\
			return false;				\
		}						\
	} while (0)

/* Planned and later (until closed): the return gate held when accepted. */
static bool
past_gate(int s)
{
	return s == REPAT_CASE_PLANNED || s == REPAT_CASE_HANDOVER_RECORDED ||
	    s == REPAT_CASE_HANDED_OVER || s == REPAT_CASE_RECEIVED ||
	    s == REPAT_CASE_FOLLOW_UP;
}

bool
repat_case_invariants_hold(const struct repat_case *c, char *why)
{
	const struct repat_case_facts *f = &c->facts;
	int ns = f->nationality_status;
	uint32_t i;

	INV(c->state >= 0 && c->state < REPAT_CASE_STATE_COUNT_,
	    "1: the state is known");
	if (c->state == REPAT_CASE_NONE)
		return true;
	INV(repat_country_valid(c->countries[0]) &&
	    repat_country_valid(c->countries[1]) &&
	    strcmp(c->countries[0], c->countries[1]) != 0,
	    "2: a case has two different countries");
	INV((c->consent_granted & c->consent_withdrawn) == 0,
	    "3: no scope is both granted and withdrawn");
	INV(c->ndeadlines <= REPAT_CASE_MAX_DEADLINES &&
	    c->nrecipients <= REPAT_CASE_MAX_RECIPIENTS,
	    "4: the tables are within their bounds");
	for (i = 0; i < c->ndeadlines; i++)
		INV(c->deadlines[i].due_ms >= c->deadlines[i].opened_ms &&
		    c->deadlines[i].awaited_type >= 1 &&
		    c->deadlines[i].awaited_type < NTYPES,
		    "5: a deadline awaits a known type, due after it opened");
	INV(!past_gate(c->state) || (ns ==
	    NS(CONFIRMED) &&
	    f->assessment_outcome != 0 && f->assessment_outcome !=
	    AO(UNSAFE) &&
	    f->legal_clearance && f->risk_assessment_recorded &&
	    f->return_wish == REPAT__RETURN_WISH__RETURN_WISH_YES),
	    "6: a planned case passed the return gate");
	INV(!past_gate(c->state) || !f->is_child || (f->guardian_recorded &&
	    f->best_interests_recorded && f->assessment_outcome ==
	    AO(SAFE)),
	    "7: a planned child's case passed the child safeguards");
	INV(c->state < REPAT_CASE_HANDOVER_RECORDED ||
	    c->state > REPAT_CASE_FOLLOW_UP || (f->travel_document &&
	    (!f->is_child || f->receiving_social_worker_named)),
	    "8: a handover had a travel document (and a social worker)");
	INV(c->state != REPAT_CASE_THIRD_COUNTRY || (ns != 0 && ns !=
	    NS(CONFIRMED)),
	    "9: a third-country case has no confirmed nationality");
	INV(c->state != REPAT_CASE_CLOSED || (f->closure_reason >= 1 &&
	    c->ndeadlines == 0), "10: a closed case has a reason and no "
	    "open requests");
	INV(c->state != REPAT_CASE_PLAN_PROPOSED || c->plan_side > 0,
	    "11: a pending plan has a proposer");
	return true;
}

void
repat_case_assert_invariants(const struct repat_case *c)
{
#ifndef NDEBUG
	char why[REPAT_ERRBUF_LEN];

	if (!repat_case_invariants_hold(c, why)) {
		fprintf(stderr, "case %s: %s broken\n", c->case_ref, why);
		abort();
	}
#else
	(void)c;
#endif
}
