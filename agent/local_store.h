/*
 * local_store.h: an agent's own SQLite file, AGENTDIR/agent.db (0600).
 *
 * What it keeps (DESIGN.md §9), and what it never keeps:
 *  - outbox: every message this agent sealed (or relayed), as the exact
 *    SignedEnvelope bytes, stored BEFORE the first submit so a crash or an
 *    unreachable broker loses nothing; resubmitting the same bytes is safe
 *    (the broker answers with the original receipt). State queued ->
 *    receipted | rejected, then delivered / expired from broker notices.
 *  - inbox: deliveries as received, payloads still sealed; opened only in
 *    memory by `repat show` / `repat watch --exec`.
 *  - directory: certificate pairs of other agents, verified against the
 *    agent's pinned bundle before they are cached.
 *  - notices, a log of who viewed which message or case, and meta values
 *    (the delivery sequence number stored and acked).
 * Decrypted forms are never written here.
 *
 * Schema changes add a migration at the end of local_store.c and never
 * edit an old one (user_version counts them).
 *
 * Ownership: a local_store_t is the caller's (local_store_close); rows
 * filled by the calls own nothing unless a field says so. One thread.
 */
#ifndef REPAT_AGENT_LOCAL_STORE_H
#define REPAT_AGENT_LOCAL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "repat.pb-c.h"
#include "repat/limits.h"

typedef struct local_store local_store_t;

/* Opens (creating) DIR/agent.db. An errbuf sentence on failure. */
int local_store_open(const char *dir, local_store_t **out, char *errbuf);
void local_store_close(local_store_t **ls);
/* The connection, for tests and one-off queries. Borrowed. */
sqlite3 *local_store_db(local_store_t *ls);

/* Explicit transactions around several calls (BEGIN IMMEDIATE). */
int local_store_begin(local_store_t *ls, char *errbuf);
int local_store_commit(local_store_t *ls, char *errbuf);
void local_store_rollback(local_store_t *ls);

/* ---- meta values */

/* The highest delivery sequence number stored and processed (0: none). */
uint64_t local_store_acked_seq(local_store_t *ls);
int local_store_set_acked_seq(local_store_t *ls, uint64_t seq, char *errbuf);

/* ---- messages, sent and received */

/* Status words shown by `repat inbox` (also in --json). */
#define LS_QUEUED	"queued"
#define LS_RECEIPTED	"receipted"
#define LS_REJECTED	"rejected"
#define LS_DELIVERED	"delivered"
#define LS_EXPIRED	"expired"
#define LS_NEW		"new"
#define LS_READ		"read"
#define LS_UNVERIFIED	"unverified"

/* One message as listed: a row of the outbox (sent) or the inbox. */
struct ls_msg {
	bool sent;				/* outbox row, else inbox */
	bool has_id;				/* id is known */
	uint8_t id[REPAT_MESSAGE_ID_LEN];
	char sender[REPAT_MAX_AGENT_ID + 1];
	char recipient[REPAT_MAX_AGENT_ID + 1];
	char case_ref[REPAT_MAX_CASE_REF + 1];
	int type;				/* Repat__MessageType */
	uint64_t created_ms;			/* the header's */
	uint64_t expires_ms;			/* the header's */
	uint64_t time_ms;			/* stored (sent) or received */
	uint64_t broker_time_ms;		/* receipt or acceptance */
	uint64_t delivered_ms;			/* delivered notice, 0: none */
	bool has_reply_to;
	uint8_t in_reply_to[REPAT_MESSAGE_ID_LEN];
	bool has_copy_of;
	uint8_t copy_of[REPAT_MESSAGE_ID_LEN];
	char status[16];			/* one of the LS_* words */
	int reject_code;			/* Repat__RejectCode, 0: none */
	char reason[256];			/* rejection or verify error */
	uint64_t seq;				/* inbox: delivery sequence */
	bool relayed;				/* outbox: another agent's */
	bool exec_done;				/* inbox: watch --exec ran OK */
	uint8_t *envelope;			/* with _find only; free() */
	size_t envelope_len;
};

/*
 * Stores a serialized SignedEnvelope in the outbox as queued (it parses
 * the header itself). The same bytes again: 0, nothing changes; the same
 * id with other bytes: REPAT_EEXIST.
 */
int local_store_outbox_add(local_store_t *ls, const uint8_t *bytes,
    size_t len, bool relayed, uint64_t now_ms, char *errbuf);

/* Ids and bytes of the queued outbox, oldest first; free with _free. */
struct ls_queued {
	uint8_t id[REPAT_MESSAGE_ID_LEN];
	uint8_t *bytes;
	size_t len;
};
int local_store_outbox_queued(local_store_t *ls, struct ls_queued **out,
    size_t *n);
void local_store_queued_free(struct ls_queued *q, size_t n);

/*
 * Records the broker's answer for id: receipted (receipt bytes kept) or
 * rejected (code and reason).
 */
int local_store_outbox_answer(local_store_t *ls, const uint8_t id[16],
    bool receipted, int code, const char *reason, uint64_t broker_time_ms,
    const uint8_t *receipt, size_t receipt_len, char *errbuf);

/*
 * Stores a delivery. v_header may be NULL when the bytes did not even
 * parse; verify_error is "" when the envelope verified. Returns 1 when a
 * new row was added, 0 for a message id already in the inbox (a
 * redelivery), or a negative REPAT_E*.
 */
int local_store_inbox_add(local_store_t *ls, uint64_t seq,
    const uint8_t *bytes, size_t len, const Repat__Header *v_header,
    uint64_t accepted_ms, const char *verify_error, uint64_t now_ms,
    char *errbuf);
int local_store_inbox_mark_read(local_store_t *ls, const uint8_t id[16]);
int local_store_inbox_mark_exec(local_store_t *ls, const uint8_t id[16]);

/*
 * Finds a message by id, in the inbox first, then the outbox, with its
 * envelope bytes (m->envelope, the caller frees). REPAT_ENOENT when none.
 */
int local_store_find(local_store_t *ls, const uint8_t id[16],
    struct ls_msg *m);

/* What `repat inbox` / `repat case` list. Strings NULL: no filter. */
struct ls_filter {
	const char *case_ref;
	int type;			/* 0: any */
	const char *from;		/* received from, or sent to */
	bool unread;			/* only new received messages */
	bool received_only;
	int limit;			/* 0: no limit (most recent first) */
	bool oldest_first;		/* timeline order */
};
/* Calls fn for each row; stops at fn's first non-zero return. */
int local_store_list(local_store_t *ls, const struct ls_filter *f,
    int (*fn)(const struct ls_msg *, void *), void *arg);

/* ---- notices */

struct ls_notice {
	int kind;			/* Repat__NoticeKind */
	uint64_t seq;
	char case_ref[REPAT_MAX_CASE_REF + 1];
	char ids[8 * 33];		/* hex ids joined by ',' (first 8) */
	uint64_t due_ms;
	int awaited_type;
	uint64_t broker_time_ms;
	uint64_t received_ms;
	bool verified;
};

/*
 * Stores a notice and applies it to the outbox (delivered, expired and
 * dead-letter notices update the messages they name). body may be NULL
 * when the notice did not decode; it is then kept as unverified bytes.
 */
int local_store_notice_add(local_store_t *ls, uint64_t seq,
    const Repat__NoticeBody *body, const uint8_t *bytes, size_t len,
    bool verified, uint64_t now_ms, char *errbuf);
int local_store_notices(local_store_t *ls, const char *case_ref,
    int (*fn)(const struct ls_notice *, void *), void *arg);

/* ---- the directory cache */

/* Empties the cache, before a refresh fills it again (in a transaction). */
int local_store_directory_clear(local_store_t *ls, char *errbuf);
int local_store_directory_put(local_store_t *ls, const char *agent_id,
    int role, const uint8_t *sign_der, size_t sign_len,
    const uint8_t *enc_der, size_t enc_len, uint64_t verified_ms,
    char *errbuf);
/* The encryption certificate (DER, caller frees) of agent_id. */
int local_store_directory_enc(local_store_t *ls, const char *agent_id,
    uint8_t **der, size_t *len);
/* Agent ids of country (and role when >0), sorted; caller frees each. */
int local_store_directory_find(local_store_t *ls, const char *country,
    int role, char ***ids, size_t *n);
size_t local_store_directory_count(local_store_t *ls);

/* ---- who looked at what */

/*
 * Records that viewer looked at message id (or NULL) of case_ref (or
 * NULL) with command what ("show", "case", "watch --exec").
 */
int local_store_view_log(local_store_t *ls, const uint8_t *id,
    const char *case_ref, const char *viewer, const char *what,
    uint64_t now_ms, char *errbuf);
/* Number of views recorded for id (tests, `repat show --json`). */
int local_store_view_count(local_store_t *ls, const uint8_t id[16]);

#endif
