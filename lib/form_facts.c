/*
 * form_facts.c: the header's case facts a form implies (DESIGN.md §4,
 * docs/forms.md "Facts"). The sender's librepat derives them when it seals;
 * the recipient's derives them again from the opened payload and refuses
 * the message when the two differ (repat_facts_equal).
 *
 * Only non-personal flags and vocabulary values leave the form this way.
 */
#include <stdlib.h>
#include <string.h>

#include "forms.pb-c.h"
#include "form_int.h"
#include "repat/err.h"
#include "repat/mem.h"

static const char *const summaries[] = {
	NULL,
	"destination -> origin: a person was formally identified",
	"shelter -> origin: the case form (identity, family, needs, risks)",
	"ask the origin's registration authority to verify nationality",
	"the nationality authority's answer",
	"ask the origin's tracing office to find and assess the family",
	"the tracing office's family assessment (and best interests)",
	"police, prosecutor or court: where the legal proceedings stand",
	"origin: the travel document issued for the return",
	"the return plan: proposed, accepted or rejected",
	"the agreed handover: when, where, who",
	"the handover as it happened, countersigned",
	"origin: the person arrived at the reception facility",
	"origin -> former host: reintegration follow-up",
	"consent granted or withdrawn, with its language",
	"the case is closed, and why",
};

const char *
repat_form_type_summary(int type)
{
	if (type < 1 || type > 15)
		return NULL;
	return summaries[type];
}

/* Copies the distinct scopes of s[0..n) into a new array. */
static void
set_scopes(Repat__ConsentScope **out, size_t *nout,
    const Repat__ConsentScope *s, size_t n)
{
	size_t i, j;

	*out = repat_xcalloc(n, sizeof(**out));
	*nout = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < *nout; j++)
			if ((*out)[j] == s[i])
				break;
		if (j == *nout)
			(*out)[(*nout)++] = s[i];
	}
}

#define SET(f, field, v)	do {					\
	(f)->has_##field = 1;						\
	(f)->field = (v);						\
} while (0)

static void
facts_consent(const Repat__ConsentUpdate *c, Repat__CaseFacts *f)
{
	/*
	 * Whether the guardian agreed travels as a fact, so the broker can
	 * hold a child's case (known from its earlier messages) to it even
	 * when this form says is_child false.
	 */
	SET(f, is_child, c->has_is_child && c->is_child);
	SET(f, guardian_consent, c->has_guardian_consent &&
	    c->guardian_consent);
	if (c->n_scope == 0)
		return;
	if (c->decision == REPAT__CONSENT_DECISION__CONSENT_DECISION_GRANTED)
		set_scopes(&f->consent_granted, &f->n_consent_granted,
		    c->scope, c->n_scope);
	else
		set_scopes(&f->consent_withdrawn, &f->n_consent_withdrawn,
		    c->scope, c->n_scope);
}

/*
 * Legal clearance: nothing legal holds the person back. True when there are
 * no proceedings or they are closed, when the person is not needed as a
 * witness, or when their testimony was already deposited.
 */
static bool
legal_clearance(const Repat__LegalProceedingsUpdate *l)
{
	if (l->proceeding_stage ==
	    REPAT__PROCEEDING_STAGE__PROCEEDING_STAGE_NONE ||
	    l->proceeding_stage ==
	    REPAT__PROCEEDING_STAGE__PROCEEDING_STAGE_CLOSED)
		return true;
	return !l->witness_required ||
	    (l->has_testimony_deposited && l->testimony_deposited);
}

int
repat_form_facts(int type, const ProtobufCMessage *form, Repat__CaseFacts *f)
{
	if (form == NULL || form_type_of(form->descriptor) != type)
		return REPAT_EINVAL;
	switch (type) {
	case 1: {
		const Repat__IdentificationNotice *n = (const void *)form;

		SET(f, is_child, n->is_child);
		SET(f, victim_objected, n->victim_objected_to_notification);
		break;
	}
	case 2: {
		const Repat__CaseReferral *c = (const void *)form;

		/*
		 * The stated flag, never the age: an age computed from the
		 * date of birth changes with the day the form is opened, and
		 * the recipient must derive the same facts as the sender.
		 * Validation requires the flag and refuses false for a child.
		 */
		SET(f, is_child, c->is_child);
		SET(f, guardian_recorded, c->guardian != NULL);
		SET(f, risk_assessment_recorded, c->has_risk_level);
		SET(f, return_wish, c->return_wish);
		break;
	}
	case 4:
		SET(f, nationality_status,
		    ((const Repat__NationalityVerificationResult *)
		    (const void *)form)->status);
		break;
	case 6: {
		const Repat__FamilyAssessmentResult *a = (const void *)form;

		SET(f, assessment_outcome, a->assessment_outcome);
		SET(f, family_located, a->family_located);
		SET(f, best_interests_recorded,
		    a->best_interests_determination != NULL);
		break;
	}
	case 7:
		SET(f, legal_clearance, legal_clearance((const void *)form));
		break;
	case 9:
		SET(f, plan_status, ((const Repat__RepatriationPlan *)
		    (const void *)form)->plan_status);
		break;
	case 10:
		SET(f, receiving_social_worker_named,
		    ((const Repat__HandoverSchedule *)(const void *)form)->
		    receiving_social_worker != NULL);
		break;
	case 11:
		SET(f, receiving_social_worker_named,
		    ((const Repat__HandoverRecord *)(const void *)form)->
		    receiving_social_worker != NULL);
		break;
	case 14:
		facts_consent((const void *)form, f);
		break;
	case 15:
		SET(f, closure_reason, ((const Repat__CaseClosure *)
		    (const void *)form)->reason);
		break;
	default:
		break;	/* 3, 5, 8, 12, 13: no facts */
	}
	return REPAT_OK;
}

void
repat_facts_clear(Repat__CaseFacts *f)
{
	free(f->consent_granted);
	free(f->consent_withdrawn);
	repat__case_facts__init(f);
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Repeated enums compared as sets: sorted copies without duplicates. */
static bool
same_set(const int *a, size_t na, const int *b, size_t nb)
{
	int *sa, *sb;
	size_t i, ka = 0, kb = 0;
	bool eq;

	sa = repat_xcalloc(na, sizeof(int));
	sb = repat_xcalloc(nb, sizeof(int));
	if (na)
		memcpy(sa, a, na * sizeof(int));
	if (nb)
		memcpy(sb, b, nb * sizeof(int));
	qsort(sa, na, sizeof(int), cmp_int);
	qsort(sb, nb, sizeof(int), cmp_int);
	for (i = 0; i < na; i++)
		if (ka == 0 || sa[ka - 1] != sa[i])
			sa[ka++] = sa[i];
	for (i = 0; i < nb; i++)
		if (kb == 0 || sb[kb - 1] != sb[i])
			sb[kb++] = sb[i];
	eq = ka == kb && (ka == 0 || memcmp(sa, sb, ka * sizeof(int)) == 0);
	free(sa);
	free(sb);
	return eq;
}

/*
 * Walks CaseFacts' descriptor, so a fact added to proto/repat.proto is
 * compared without touching this function. Every fact is a bool or an
 * enum (int-sized); an unset fact differs from one set to false.
 */
bool
repat_facts_equal(const Repat__CaseFacts *a, const Repat__CaseFacts *b)
{
	const ProtobufCMessageDescriptor *d = &repat__case_facts__descriptor;
	const ProtobufCFieldDescriptor *fd;
	const char *pa = (const char *)a, *pb = (const char *)b;
	int ha, hb;
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		fd = &d->fields[i];
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			if (!same_set(*(int *const *)(pa + fd->offset),
			    *(const size_t *)(pa + fd->quantifier_offset),
			    *(int *const *)(pb + fd->offset),
			    *(const size_t *)(pb + fd->quantifier_offset)))
				return false;
			continue;
		}
		ha = *(const protobuf_c_boolean *)(pa + fd->quantifier_offset);
		hb = *(const protobuf_c_boolean *)(pb + fd->quantifier_offset);
		if (ha != hb)
			return false;
		if (ha && *(const int *)(pa + fd->offset) !=
		    *(const int *)(pb + fd->offset))
			return false;
	}
	return true;
}
