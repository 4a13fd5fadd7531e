/*
 * agreement.h: bilateral agreements (MoU + SOP) and frameworks, their
 * detached per-party signatures, and the authorization lookup the broker
 * makes for every submit (DESIGN.md §7; the format is in docs/agreements.md).
 *
 * An agreement is one JSON file, parsed strictly (duplicate or unknown keys
 * refused). Each party signs the exact file bytes with a detached file
 * FILE.sig.CC made by one of its focal points; the signer's certificate is
 * checked against the pinned CA of that country at the signing time, so a
 * signature stays valid after the certificate expires. Only agreements
 * signed by every party are loaded into a set. A set is immutable once
 * loaded: the broker reloads on SIGHUP by loading a new set and swapping.
 *
 * Ownership: a struct repat_agreement and a repat_agreements_t are the
 * caller's (repat_agreement_free, repat_agreements_destroy); pointers into
 * a set (agreements, agent ids) are borrowed for the set's lifetime.
 * Thread-safe: a loaded set is read-only and may be shared between threads.
 */
#ifndef REPAT_AGREEMENT_H
#define REPAT_AGREEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repat/err.h"
#include "repat/limits.h"
#include "repat/pki.h"

#define REPAT_AGREEMENT_MAX_ID		64	/* [A-Za-z0-9._-]{1,64} */
#define REPAT_AGREEMENT_MAX_PARTIES	8	/* COMMIT has six */
#define REPAT_AGREEMENT_MAX_FLOWS	256
#define REPAT_AGREEMENT_MAX_FOCAL	128	/* agent ids over all parties */
#define REPAT_AGREEMENT_MAX_DEADLINES	32
#define REPAT_AGREEMENT_MAX_CROSSINGS	32
#define REPAT_AGREEMENT_SIG_MAX		(32 * 1024)	/* one FILE.sig.CC */
/* How far ahead of the checker's clock a signing time may be. */
#define REPAT_AGREEMENT_SKEW_MS		(5 * 60 * 1000)

enum repat_agreement_kind {
	REPAT_AGREEMENT_BILATERAL = 1,	/* two parties; grants routing */
	REPAT_AGREEMENT_FRAMEWORK = 2	/* COMMIT: grants nothing by itself */
};

/* Which side of a case may use a flow (DOMAIN.md §2). */
enum repat_side {
	REPAT_SIDE_ANY = 0,		/* either country of the case */
	REPAT_SIDE_DESTINATION = 1,	/* identified the person */
	REPAT_SIDE_ORIGIN = 2		/* the person's (presumed) country */
};

/* One allowed message flow: type from a role to a role. */
struct repat_flow {
	int type;		/* Repat__MessageType */
	int from_role;		/* Repat__Role of the sender */
	int to_role;		/* Repat__Role of the recipient */
	int side;		/* enum repat_side the sender must be on */
};

/* A reply deadline: a request of request_type awaits reply_type. */
struct repat_deadline_rule {
	int request_type;	/* Repat__MessageType */
	int reply_type;		/* Repat__MessageType */
	uint64_t period_ms;	/* from "days" or "minutes" */
	bool placeholder;	/* no source states it (DOMAIN.md §5) */
};

/* One agent named by a party for a role. */
struct repat_focal_point {
	char country[3];			/* the party */
	int role;				/* Repat__Role */
	char agent_id[REPAT_MAX_AGENT_ID + 1];	/* CC.ORG[.UNIT] */
};

struct repat_crossing {
	char code[33];		/* e.g. "TH-MM-MAESOT" */
	char *name;		/* free text, e.g. "Mae Sot - Myawaddy" */
};

/* One parsed agreement file. */
struct repat_agreement {
	char id[REPAT_AGREEMENT_MAX_ID + 1];
	char *title;				/* free text */
	char *legal_reference;			/* free text */
	int kind;				/* enum repat_agreement_kind */
	size_t nparties;
	char parties[REPAT_AGREEMENT_MAX_PARTIES][3];	/* ISO 3166-1 */
	uint64_t in_force_from_ms;		/* 00:00 UTC of the first day */
	uint64_t in_force_until_ms;		/* end of last day; 0 = open */
	char supersedes[REPAT_AGREEMENT_MAX_ID + 1];	/* "" = none */
	size_t nfocal;
	struct repat_focal_point *focal;	/* nfocal entries */
	size_t nflows;
	struct repat_flow *flows;		/* nflows entries */
	size_t ndeadlines;
	struct repat_deadline_rule *deadlines;	/* ndeadlines entries */
	uint32_t retention_days;		/* payloads kept; 0 = unset */
	size_t ncrossings;
	struct repat_crossing *crossings;	/* ncrossings entries */
	uint8_t sha256[REPAT_HASH_LEN];		/* of the exact file bytes */
};

/* ---- one agreement file */

/*
 * Parses the agreement in buf[0..len) (the exact file bytes). On success
 * *out is the caller's (repat_agreement_free). REPAT_EINVAL / REPAT_ETOOBIG
 * with errbuf naming the first problem (duplicate or unknown key, bad
 * date, unknown role or type, a focal point of another country, ...).
 */
int repat_agreement_parse(const uint8_t *buf, size_t len,
    struct repat_agreement **out, char *errbuf)
    __attribute__((warn_unused_result));
/* Reads and parses a file (at most REPAT_MAX_CONFIG bytes). */
int repat_agreement_load(const char *path, struct repat_agreement **out,
    char *errbuf) __attribute__((warn_unused_result));
void repat_agreement_free(struct repat_agreement **a);

/* True when now_ms lies in [in_force_from, in_force_until). */
bool repat_agreement_in_force(const struct repat_agreement *a,
    uint64_t now_ms);
bool repat_agreement_has_party(const struct repat_agreement *a,
    const char *country);
/* True when agent_id is named by its country for role (role 0 = any). */
bool repat_agreement_names(const struct repat_agreement *a,
    const char *agent_id, int role);
/* The deadline rule for a request type, or NULL. Borrowed. */
const struct repat_deadline_rule *repat_agreement_deadline(
    const struct repat_agreement *a, int request_type);

/* ---- detached signatures: FILE.sig.CC, one per party */

/*
 * Signs the agreement file at path as the party of ks (ks->id.country),
 * which must be a party, with ks->id.agent_id one of its focal points
 * (role focal_point). Writes path.sig.CC atomically (mode 0644), replacing
 * an earlier signature of the same party. signed_at is now_ms.
 */
int repat_agreement_sign(const char *path, const struct repat_keystore *ks,
    uint64_t now_ms, char *errbuf);

enum repat_sig_state {
	REPAT_SIG_MISSING = 0,	/* no FILE.sig.CC */
	REPAT_SIG_VALID = 1,
	REPAT_SIG_INVALID = 2	/* present but refused: reason says why */
};

struct repat_party_status {
	char country[3];
	int state;				/* enum repat_sig_state */
	char signer[REPAT_MAX_AGENT_ID + 1];	/* as claimed; may be "" */
	uint64_t signed_at_ms;			/* as the file claims */
	char reason[REPAT_ERRBUF_LEN];		/* why missing or invalid */
};

struct repat_agreement_status {
	char id[REPAT_AGREEMENT_MAX_ID + 1];	/* "" when unparsable */
	int kind;				/* enum repat_agreement_kind */
	size_t nparties;
	struct repat_party_status parties[REPAT_AGREEMENT_MAX_PARTIES];
	bool all_signed;		/* every party's signature is valid */
	bool in_force;			/* at now_ms, by its dates */
	uint64_t in_force_from_ms;
	uint64_t in_force_until_ms;	/* 0 = open-ended */
	char reason[REPAT_ERRBUF_LEN];	/* the parse error, when there is one */
};

/*
 * Checks the agreement file at path and each party's signature file
 * against trust at now_ms, filling st. Returns 0 when the file parses and
 * every signature is valid; REPAT_EAGREEMENT when some signature is missing
 * or invalid (st->parties says which and why); another negative code when
 * the file itself cannot be read or parsed (st->reason says why).
 */
int repat_agreement_check(const char *path, repat_trust_t *trust,
    uint64_t now_ms, struct repat_agreement_status *st);

/* ---- a loaded set */

typedef struct repat_agreements repat_agreements_t;

/* Called for each file refused while loading (reason: one sentence). */
typedef void (*repat_agreement_refused_fn)(const char *path, int code,
    const char *reason, void *arg);

/*
 * Loads every DIR/ *.json (in name order) whose parties have all signed
 * validly (repat_agreement_check). Refused files (unparsable, not fully
 * signed, a duplicate id) are reported through refused (may be NULL) and
 * skipped. Returns NULL only when dir cannot be read (errbuf says why); an
 * empty set is valid.
 */
repat_agreements_t *repat_agreements_load(const char *dir,
    repat_trust_t *trust, uint64_t now_ms, repat_agreement_refused_fn refused,
    void *arg, char *errbuf);
/* A set from already-parsed agreements, taking them over (*as NULLed). */
repat_agreements_t *repat_agreements_from(struct repat_agreement **as,
    size_t n);
void repat_agreements_destroy(repat_agreements_t **set);

size_t repat_agreements_count(const repat_agreements_t *set);
const struct repat_agreement *repat_agreements_get(
    const repat_agreements_t *set, size_t i);
const struct repat_agreement *repat_agreements_find(
    const repat_agreements_t *set, const char *id);
/*
 * True when a is superseded at now_ms: another agreement of the set names
 * it in `supersedes` and is itself in force.
 */
bool repat_agreements_superseded(const repat_agreements_t *set,
    const struct repat_agreement *a, uint64_t now_ms);

/* What the broker knows about one submit, for the agreement lookup. */
struct repat_route {
	const struct repat_identity *sender;	/* authenticated sender */
	const struct repat_identity *recipient;	/* from the directory */
	int type;				/* Repat__MessageType */
	int sender_side;		/* enum repat_side; ANY: no check */
	/*
	 * The two countries of the case (destination, origin), or NULL to
	 * use the sender's and the recipient's countries (a new case).
	 */
	const char (*case_countries)[3];
	const char *agreement_id;	/* the header's, or NULL / "" for any */
};

/*
 * Finds the bilateral agreement that authorizes route at now_ms: in force,
 * not superseded, binding both countries of the case, naming the sender
 * and the recipient among its focal points under their roles, and allowing
 * this type from the sender's role to the recipient's role (and side).
 * 0 with *agreement set (borrowed from set), or REPAT_EREFUSED with *code
 * a Repat__RejectCode (NO_AGREEMENT, ROLE_NOT_ALLOWED, UNKNOWN_RECIPIENT)
 * and reason (REPAT_ERRBUF_LEN) a sentence a person can act on.
 */
int repat_agreements_authorize(const repat_agreements_t *set,
    const struct repat_route *route, uint64_t now_ms,
    const struct repat_agreement **agreement, int *code, char *reason)
    __attribute__((warn_unused_result));

/*
 * The agent named for role by country in an agreement in force at now_ms
 * binding country (the first named, in set order; an agreement with
 * `peer` as the other party preferred when peer is not NULL). Borrowed, or
 * NULL when none. The CLI turns "MM/focal_point" into "MM.DSW" with it.
 */
const char *repat_agreements_focal_point(const repat_agreements_t *set,
    const char *country, int role, const char *peer, uint64_t now_ms);

#endif
