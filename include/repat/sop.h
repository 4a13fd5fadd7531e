/*
 * sop.h: the case state machine the broker enforces (DOMAIN.md §2 and §7,
 * DESIGN.md §6 step 3). docs/agreements.md holds the normative table
 * (type -> states, sender side, consent scope, gate, transition) and the
 * state diagram; lib/sop.c implements exactly that table.
 *
 * A case is keyed by its pseudonymous case_ref and owned by exactly two
 * countries: the destination (which identified the person and sent the
 * identification notice) and the origin (which received it). It holds only
 * non-personal facts accumulated from accepted headers.
 *
 * The broker, for each submit:
 *   1. loads the case (or none) for header.case_ref;
 *   2. repat_sop_authorize(): agreement lookup + repat_sop_check();
 *   3. on success, in the same transaction as the message:
 *      repat_sop_apply() and persist the case (and its deadlines);
 *   4. when effects.notify_withdrawal, sends consent_withdrawn notices to
 *      every agent in case.recipients except the sender.
 * Overdue requests: repat_case_overdue() / repat_case_next_due().
 *
 * struct repat_case is fixed-size with plain fields, so it can be stored as
 * columns or as a blob; nothing in it points elsewhere. Not thread-safe:
 * one writer per case (the broker's writer thread).
 */
#ifndef REPAT_SOP_H
#define REPAT_SOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repat/agreement.h"
#include "repat/codec.h"
#include "repat/limits.h"
#include "repat/pki.h"

#define REPAT_CASE_MAX_DEADLINES	32	/* open requests per case */
#define REPAT_CASE_MAX_RECIPIENTS	32	/* agents that received data */
#define REPAT_MAX_CASE_RECORD		(16 * 1024)	/* one CaseRecord */

/* Case states (diagram in docs/agreements.md). Stored: never renumber. */
enum repat_case_state {
	REPAT_CASE_NONE = 0,		/* no case under this reference */
	REPAT_CASE_OPEN = 1,		/* identified, origin notified */
	REPAT_CASE_PLAN_PROPOSED = 2,	/* a repatriation plan awaits reply */
	REPAT_CASE_PLANNED = 3,		/* the plan is accepted (once) */
	REPAT_CASE_HANDOVER_RECORDED = 4, /* one side's record, unconfirmed */
	REPAT_CASE_HANDED_OVER = 5,	/* record confirmed by the other side */
	REPAT_CASE_RECEIVED = 6,	/* reception report accepted */
	REPAT_CASE_FOLLOW_UP = 7,	/* reintegration follow-up under way */
	REPAT_CASE_THIRD_COUNTRY = 8,	/* nationality not confirmed */
	REPAT_CASE_CLOSED = 9,		/* closed with a reason; final */
	REPAT_CASE_STATE_COUNT_
};

/* Facts accumulated from accepted headers (0 = not known for enums). */
struct repat_case_facts {
	bool is_child;			/* sticky: once a child, always */
	bool guardian_recorded;		/* sticky */
	bool best_interests_recorded;	/* sticky */
	bool risk_assessment_recorded;	/* sticky */
	bool receiving_social_worker_named; /* sticky */
	bool legal_clearance;		/* latest legal_proceedings_update */
	bool family_located;		/* latest family_assessment_result */
	bool travel_document;		/* a travel document was notified */
	int return_wish;		/* Repat__ReturnWish, latest referral */
	int nationality_status;		/* Repat__NationalityStatus, latest */
	int assessment_outcome;		/* Repat__AssessmentOutcome, latest */
	int closure_reason;		/* Repat__ClosureReason once closed */
};

/* A request awaiting its reply (an agreement's sop.deadlines rule). */
struct repat_case_deadline {
	uint8_t request_id[REPAT_MESSAGE_ID_LEN];	/* the request's id */
	int request_type;			/* Repat__MessageType */
	int awaited_type;			/* Repat__MessageType */
	char waiting_on[REPAT_MAX_AGENT_ID + 1];	/* its recipient */
	uint64_t opened_ms;			/* request accepted */
	uint64_t due_ms;			/* opened_ms + period */
	bool placeholder;			/* period a placeholder */
};

struct repat_case {
	char case_ref[REPAT_MAX_CASE_REF + 1];	/* CC-YYYY-NNNNNN */
	int state;				/* enum repat_case_state */
	char countries[2][3];			/* destination, origin */
	char agreement_id[REPAT_AGREEMENT_MAX_ID + 1]; /* opened under */
	uint64_t opened_ms;
	uint64_t updated_ms;			/* last accepted message */
	struct repat_case_facts facts;
	uint32_t consent_granted;		/* bit (1 << scope) */
	uint32_t consent_withdrawn;		/* bit (1 << scope); disjoint */
	int plan_side;				/* proposer's repat_side */
	uint8_t plan_id[REPAT_MESSAGE_ID_LEN];	/* the pending proposal */
	int handover_side;			/* side of the first record */
	uint8_t handover_id[REPAT_MESSAGE_ID_LEN]; /* the first record */
	uint32_t ndeadlines;
	struct repat_case_deadline deadlines[REPAT_CASE_MAX_DEADLINES];
	uint32_t nrecipients;
	bool recipients_overflow;		/* more than the table holds */
	char recipients[REPAT_CASE_MAX_RECIPIENTS][REPAT_MAX_AGENT_ID + 1];
};

/* One submitted message as the SOP sees it (all borrowed). */
struct repat_sop_msg {
	const char *case_ref;			/* header.case_ref */
	int type;				/* header.type */
	const Repat__CaseFacts *facts;		/* header.facts, not NULL */
	const uint8_t *message_id;		/* 16 bytes */
	const uint8_t *in_reply_to;		/* 16 bytes, or NULL */
	bool is_copy;				/* header.copy_of is set */
	const struct repat_identity *sender;	/* authenticated */
	const struct repat_identity *recipient;	/* from the directory */
	uint64_t now_ms;			/* the broker's clock */
};

/* What repat_sop_apply did, for the broker's notices and audit. */
struct repat_sop_effects {
	int state_before;			/* enum repat_case_state */
	int state_after;
	bool opened_case;			/* the message opened it */
	bool notify_withdrawal;		/* send consent_withdrawn notices */
	uint32_t withdrawn_scopes;		/* new, bit (1 << scope) */
	bool deadline_opened;
	struct repat_case_deadline opened;	/* when deadline_opened */
	bool deadline_closed;
	struct repat_case_deadline closed;	/* when deadline_closed */
};

/* "open", "plan_proposed", ... (docs/agreements.md); "?" when unknown. */
const char *repat_case_state_name(int state);
/* The side of country in case c, or -1 when it is not one of its two. */
int repat_case_side(const struct repat_case *c, const char *country);

/*
 * Decides whether m is allowed on case c (NULL or state NONE: no case yet)
 * under agreement a (the one repat_agreements_authorize returned; used for
 * deadlines). 0 when allowed; REPAT_EREFUSED with *code a
 * Repat__RejectCode and reason (REPAT_ERRBUF_LEN) a sentence otherwise.
 * Pure: changes nothing.
 */
int repat_sop_check(const struct repat_case *c, const struct repat_agreement *a,
    const struct repat_sop_msg *m, int *code, char *reason)
    __attribute__((warn_unused_result));

/*
 * The whole decision of DESIGN.md §6 step 3: finds the agreement
 * (repat_agreements_authorize, with the case's countries and the sender's
 * side), then repat_sop_check. agreement_id is the header's (NULL or ""
 * for any). On success *a is borrowed from set.
 */
int repat_sop_authorize(const repat_agreements_t *set,
    const struct repat_case *c, const struct repat_sop_msg *m,
    const char *agreement_id, const struct repat_agreement **a, int *code,
    char *reason) __attribute__((warn_unused_result));

/*
 * Applies an allowed m to c (zeroed or state NONE for the message opening
 * the case): facts, consent, state, deadlines, recipients. Call only after
 * repat_sop_check allowed m on this very c; fx may be NULL.
 */
void repat_sop_apply(struct repat_case *c, const struct repat_agreement *a,
    const struct repat_sop_msg *m, struct repat_sop_effects *fx);

/*
 * Overdue requests of c at now_ms (due_ms <= now_ms) into out (up to max),
 * earliest first; returns how many are overdue (may exceed max).
 */
size_t repat_case_overdue(const struct repat_case *c, uint64_t now_ms,
    struct repat_case_deadline *out, size_t max);
/* The earliest due_ms of c's open requests, or 0 when none. */
uint64_t repat_case_next_due(const struct repat_case *c);

/* True when scope (Repat__ConsentScope) is granted and not withdrawn. */
bool repat_case_consent(const struct repat_case *c, int scope);

/* ---- storage: the CaseRecord message of proto/repat.proto */

/* Serializes c as a CaseRecord; *out (of *len bytes) is the caller's. */
void repat_case_encode(const struct repat_case *c, uint8_t **out,
    size_t *len);
/*
 * Parses a CaseRecord into c (zeroed first). REPAT_EDECODE / REPAT_ETOOBIG
 * when it does not decode, REPAT_ECORRUPT when a field is out of range or
 * the case breaks an invariant; errbuf says which.
 */
int repat_case_decode(const uint8_t *buf, size_t len, struct repat_case *c,
    char *errbuf) __attribute__((warn_unused_result));

/* c's accumulated facts as a CaseFacts (for CaseState); self-contained. */
struct repat_case_facts_pb {
	Repat__CaseFacts facts;			/* points into arrays below */
	Repat__ConsentScope granted[5];
	Repat__ConsentScope withdrawn[5];
};
void repat_case_facts_export(const struct repat_case *c,
    struct repat_case_facts_pb *out);

/*
 * Checks the invariants of docs/agreements.md ("Invariants") and aborts
 * with the broken one; compiled to nothing under NDEBUG.
 */
void repat_case_assert_invariants(const struct repat_case *c);
/* The same as a predicate, naming the broken invariant into why. */
bool repat_case_invariants_hold(const struct repat_case *c, char *why);

#endif
