/*
 * handle_submit.c: the broker's pipeline for one submit (DESIGN.md §6).
 *
 *   1. decode within limits (repat_envelope_parse: structure only);
 *   2. the sender is this session's agent, or another agent of the same
 *      country relaying an offline file (recorded in the audit);
 *   3. the signing certificate verifies (cached by SHA-256 of its DER) and
 *      certifies header.sender; the signature verifies over the exact
 *      received envelope bytes;
 *   4. replay: the same id with identical bytes is receipted again, the
 *      same id with other bytes is refused DUPLICATE_ID;
 *   5. time: created at most clock_skew ahead, expires in the future;
 *   6. the recipient is registered;
 *   7. authorization (authorize.c);
 *   8. message + queue row (next seq of the recipient) + held row (for
 *      the retention sweep) + audit entry, under the savepoint dispatch
 *      opened; the receipt is signed and sent after the group's COMMIT.
 *
 * Every refusal is a Rejection with a stable code, a sentence a person
 * can act on and the broker's time, and an AUDIT_REJECTED entry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/repat.h"

void
reject(struct broker *b, struct session *s, const uint8_t *message_id,
    int code, const char *fmt, ...)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Rejection r = REPAT__REJECTION__INIT;
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (message_id != NULL) {
		r.has_message_id = 1;
		r.message_id.data = (uint8_t *)message_id;
		r.message_id.len = 16;
	}
	r.code = code;
	r.reason = reason;
	r.broker_time_ms = broker_now(b);
	f.command_case = REPAT__FRAME__COMMAND_REJECTION;
	f.rejection = &r;
	broker_queue_frame(b, s, &f);
	e.kind = REPAT__AUDIT_KIND__AUDIT_REJECTED;
	e.has_code = 1;
	e.code = code;
	e.sender = s->agent_id;
	if (message_id != NULL) {
		e.has_message_id = 1;
		e.message_id = r.message_id;
	}
	(void)broker_audit(b, &e);
}

static int
parse_code(int rc)
{
	return rc == REPAT_ETOOBIG ? REPAT__REJECT_CODE__REJECT_TOO_LARGE :
	    REPAT__REJECT_CODE__REJECT_MALFORMED;
}

static int
cert_code(int rc)
{
	if (rc == REPAT_EREVOKED)
		return REPAT__REJECT_CODE__REJECT_CERTIFICATE_REVOKED;
	if (rc == REPAT_EEXPIRED)
		return REPAT__REJECT_CODE__REJECT_CERTIFICATE_EXPIRED;
	return REPAT__REJECT_CODE__REJECT_BAD_CERTIFICATE;
}

/*
 * An identical replay. Negative, so that it can never be mistaken for a
 * Repat__RejectCode: REJECT_MALFORMED is 1, and a MALFORMED refusal taken
 * for a replay was receipted without being stored.
 */
#define IDENTICAL_REPLAY	(-1)

/*
 * IDENTICAL_REPLAY, 0 new, or a reject code for another message's id.
 */
static int
replay(struct broker *b, const struct repat_verified *v)
{
	sqlite3_stmt *st = store_stmt(&b->store, ST_MSG_GET);
	int r = 0;

	sqlite3_bind_blob(st, 1, v->header->message_id.data, 16,
	    SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = (sqlite3_column_bytes(st, 0) == 32 &&
		    memcmp(sqlite3_column_blob(st, 0), v->hash, 32) == 0) ?
		    IDENTICAL_REPLAY : REPAT__REJECT_CODE__REJECT_DUPLICATE_ID;
	sqlite3_reset(st);
	return r;
}

/*
 * The audit entry first, so that the message row is written once, with
 * the index of its acceptance entry (for proofs, checkpoint.c); then the
 * row, then its place in the recipient's stream (which references it),
 * then its held row for the retention sweep (purge.c), filed under
 * agreement, the case's.
 */
static int
persist(struct broker *b, const struct repat_verified *v,
    const uint8_t *bytes, size_t len, const char *relay,
    const char *agreement)
{
	Repat__Header *h = v->header;
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	uint8_t case_hash[32];
	uint64_t now = broker_now(b), seq;
	sqlite3_stmt *st;
	int rc;

	if ((rc = store_next_seq(&b->store, h->recipient, &seq)) != 0)
		return rc;
	audit_case_hash(&b->audit, h->case_ref, case_hash);
	e.kind = REPAT__AUDIT_KIND__AUDIT_ACCEPTED;
	e.has_message_id = 1;
	e.message_id = h->message_id;
	e.sender = h->sender;
	e.recipient = h->recipient;
	e.has_type = 1;
	e.type = h->type;
	e.has_case_hash = 1;
	e.case_hash.data = case_hash;
	e.case_hash.len = 32;
	e.has_content_hash = 1;
	e.content_hash.data = (uint8_t *)v->hash;
	e.content_hash.len = 32;
	e.agreement_id = h->agreement_id;
	e.has_seq = 1;
	e.seq = seq;
	e.relay = (char *)relay;
	if ((rc = broker_audit(b, &e)) != 0)
		return rc;
	st = store_stmt(&b->store, ST_MSG_PUT);
	sqlite3_bind_blob(st, 1, h->message_id.data, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, h->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, h->type);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)h->created_ms);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)h->expires_ms);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
	sqlite3_bind_blob(st, 8, v->hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, bytes, (int)len, SQLITE_STATIC);
	if (relay != NULL)
		sqlite3_bind_text(st, 10, relay, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)e.index);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	st = store_stmt(&b->store, ST_Q_PUT);
	sqlite3_bind_text(st, 1, h->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_int(st, 3, 0);
	sqlite3_bind_blob(st, 4, h->message_id.data, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)h->expires_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	st = store_stmt(&b->store, ST_HELD_PUT);
	sqlite3_bind_text(st, 1, agreement, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_blob(st, 3, h->message_id.data, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, h->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	deliver_wake(b, h->recipient);
	return REPAT_OK;
}

/*
 * Steps 2-7; 0 to accept (agreement then names the case's agreement, see
 * authorize), IDENTICAL_REPLAY, or a reject code. Step 3 was done by
 * prepare.c when the session was active as the frame arrived, here
 * otherwise.
 */
static int
check(struct broker *b, struct session *s, struct prepared *p,
    const char **relay, char *agreement, char *reason, size_t rlen)
{
	const struct repat_verified *v = &p->v;
	const struct cert_entry *ce = &p->cert;
	struct agent_row a;
	Repat__Header *h = v->header;
	uint64_t now = broker_now(b);
	char country[3];
	int rc;

	*relay = NULL;
	if (strcmp(h->sender, s->agent_id) != 0) {
		if (!repat_agent_id_country(h->sender, country) ||
		    strcmp(country, s->country) != 0) {
			snprintf(reason, rlen, "You are %s; you may submit "
			    "your own messages, or relay those of agents of "
			    "your country.", s->agent_id);
			return REPAT__REJECT_CODE__REJECT_SENDER_MISMATCH;
		}
		*relay = s->agent_id;
	}
	if (!p->checked)
		prepare_check_submit(b, p, now);
	if (p->cert_rc != 0) {
		snprintf(reason, rlen, "The sender's signing certificate is "
		    "not accepted (%s).", p->cert_err);
		return cert_code(p->cert_rc);
	}
	if (strcmp(ce->id.agent_id, h->sender) != 0) {
		snprintf(reason, rlen, "The signing certificate is %s's, not "
		    "the header's sender %s.", ce->id.agent_id, h->sender);
		return REPAT__REJECT_CODE__REJECT_SENDER_MISMATCH;
	}
	if (p->sig_rc != 0) {
		snprintf(reason, rlen, "The envelope signature does not "
		    "verify; the message was altered or signed with "
		    "another key.");
		return REPAT__REJECT_CODE__REJECT_BAD_SIGNATURE;
	}
	/* before the clock: an accepted message is receipted again even
	 * when its sender resends it after its expiry */
	if ((rc = replay(b, v)) != 0) {
		snprintf(reason, rlen, "Another message with this id was "
		    "accepted already; seal a new message.");
		return rc;
	}
	if (h->created_ms > now + (uint64_t)b->cfg.clock_skew_ms) {
		snprintf(reason, rlen, "The message was created in the "
		    "future by the broker's clock; set your clock right.");
		return REPAT__REJECT_CODE__REJECT_CLOCK_SKEW;
	}
	/*
	 * Times are stored as SQLite's signed 64-bit integers: a larger
	 * expiry would wrap negative and expire the message at the next
	 * sweep.
	 */
	if (h->expires_ms > (uint64_t)INT64_MAX) {
		snprintf(reason, rlen, "expires_ms is out of range; seal the "
		    "message again with a real expiry time.");
		return REPAT__REJECT_CODE__REJECT_MALFORMED;
	}
	if (h->expires_ms <= now) {
		snprintf(reason, rlen, "The message expired before it "
		    "reached the broker; send it again with a later expiry.");
		return REPAT__REJECT_CODE__REJECT_EXPIRED;
	}
	if (store_agent_get(&b->store, h->recipient, &a) != 0) {
		snprintf(reason, rlen, "The recipient %s is not registered "
		    "at this broker; check the directory.", h->recipient);
		return REPAT__REJECT_CODE__REJECT_UNKNOWN_RECIPIENT;
	}
	return authorize(b, v, &ce->id, agreement, reason, rlen);
}

/* p holds the frame's Submit, parsed by prepare.c (the batch owns it). */
int
handle_submit(struct broker *b, struct session *s, struct prepared *p)
{
	struct repat_verified *v = &p->v;
	Repat__Submit *m = p->frame->submit;
	char reason[REPAT_ERRBUF_LEN + 128];
	char agreement[REPAT_AGREEMENT_MAX_ID + 1];
	const uint8_t *id = NULL;
	const char *relay;
	char hex[33];
	int rc, code;

	if (!p->parsed)
		prepare_parse_submit(p);
	if (p->parse_rc != 0) {
		if (v->header != NULL && v->header->message_id.len == 16)
			id = v->header->message_id.data;
		reject(b, s, id, parse_code(p->parse_rc), "The envelope is "
		    "malformed (%s); seal it again with a current repat.",
		    p->parse_err);
		return REPAT_OK;
	}
	id = v->header->message_id.data;
	repat_hex(id, 16, hex);
	code = check(b, s, p, &relay, agreement, reason, sizeof(reason));
	if (code == IDENTICAL_REPLAY) {
		repat_log_debug("submit %s from %s: identical replay, receipt "
		    "again", hex, s->agent_id);
		session_receipt_add(s, id, v->hash);
		return REPAT_OK;
	}
	if (code != 0) {
		repat_log_info("submit %s from %s: %s", hex, s->agent_id,
		    repat_reject_code_name(code));
		reject(b, s, id, code, "%s", reason);
		/*
		 * A storage failure inside authorize may have written part of
		 * the case's effects (the case row, some withdrawal notices):
		 * an error makes dispatch roll the savepoint back.
		 */
		if (code == REPAT__REJECT_CODE__REJECT_STORAGE_FULL)
			return REPAT_EFULL;
		if (code == REPAT__REJECT_CODE__REJECT_INTERNAL)
			return REPAT_EDB;
		return REPAT_OK;
	}
	rc = persist(b, v, m->signed_envelope.data, m->signed_envelope.len,
	    relay, agreement);
	if (rc != 0) {
		repat_log_warnx("submit %s from %s: storage: %s", hex,
		    s->agent_id, repat_strerror(rc));
		reject(b, s, id, rc == REPAT_EFULL ?
		    REPAT__REJECT_CODE__REJECT_STORAGE_FULL :
		    REPAT__REJECT_CODE__REJECT_INTERNAL, "The broker could "
		    "not store the message; send it again later.");
		return rc;
	}
	repat_log_debug("submit %s from %s to %s: accepted", hex,
	    v->header->sender, v->header->recipient);
	session_receipt_add(s, id, v->hash);
	return REPAT_OK;
}
