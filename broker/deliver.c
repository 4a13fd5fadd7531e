/*
 * deliver.c: per-recipient streams, credit, redelivery and expiry
 * (DESIGN.md §6 steps 6-7, docs/protocol.md "Delivery").
 *
 * Each agent has one stream of sequence numbers 1, 2, 3, ... with no
 * gaps, assigned at acceptance; messages addressed to it and notices for
 * it (delivered, expired, dead letter) share the stream, so one
 * cumulative ack covers both. Invariants:
 *
 *   1. acked <= sent <= next_seq - 1 for a session (sent is reset to
 *      acked on every hello, reconnect and redelivery round);
 *   2. at most `window` numbers past acked are in flight;
 *   3. a number, once assigned, always holds something to deliver: a
 *      message that expires or is dead-lettered before its ack is replaced
 *      in place by a signed notice saying so, so the stream never has a
 *      hole the recipient would wait for.
 *
 * Redelivery: when nothing is acked for backoff_ms after a send, the
 * window is sent again from acked + 1 and the backoff doubles up to
 * redeliver_max; an ack resets it. After delivery_limit sends of the same
 * head message it is dead-lettered. The send counter is in memory, kept
 * across hellos on the same session (a crash or a dropped link) and
 * ended by a bye or a broker restart.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/sign.h"

/* One pending row of a stream. */
struct qrow {
	uint64_t seq;
	int kind;			/* 0 message, 1 notice */
	uint8_t id[16];
	char sender[REPAT_MAX_AGENT_ID + 1];
	int type;
};

static int
send_seq(struct broker *b, struct session *s, uint64_t seq)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Deliver d = REPAT__DELIVER__INIT;
	sqlite3_stmt *st = store_stmt(&b->store, ST_Q_GET);
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	sqlite3_bind_text(st, 1, s->agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		repat_log_warnx("deliver %s seq %llu: row missing",
		    s->agent_id, (unsigned long long)seq);
		return REPAT_ENOENT;
	}
	if (sqlite3_column_int(st, 0) == 0) {
		d.seq = seq;
		d.signed_envelope.data = (uint8_t *)sqlite3_column_blob(st, 3);
		d.signed_envelope.len = (size_t)sqlite3_column_bytes(st, 3);
		d.accepted_ms = (uint64_t)sqlite3_column_int64(st, 2);
		f.command_case = REPAT__FRAME__COMMAND_DELIVER;
		f.deliver = &d;
		repat_encode(&f.base, &buf, &len);
	} else {
		/* A notice row holds a whole encoded Frame. */
		len = (size_t)sqlite3_column_bytes(st, 1);
		buf = repat_xmalloc(len + 1);
		memcpy(buf, sqlite3_column_blob(st, 1), len);
	}
	sqlite3_reset(st);
	rc = broker_send(b, s, buf, len);
	free(buf);
	return rc;
}

void
deliver_assert_invariants(const struct session *s, uint64_t last)
{
	assert(s->state != SESSION_ACTIVE || s->agent_id[0] != '\0');
	assert(s->state != SESSION_ACTIVE || s->window >= 1);
	assert(s->acked <= s->sent);
	assert(s->sent <= last);
	(void)s;
	(void)last;
}

void
deliver_pump(struct broker *b, struct session *s)
{
	struct agent_row a;
	uint64_t last;

	s->dirty = false;
	if (s->state != SESSION_ACTIVE || s->unreachable ||
	    store_agent_get(&b->store, s->agent_id, &a) != 0)
		return;
	last = a.next_seq - 1;
	deliver_assert_invariants(s, last);
	while (s->sent < last && s->sent < s->acked + s->window) {
		if (send_seq(b, s, s->sent + 1) != 0)
			return;
		s->sent++;
		if (s->sent == s->acked + 1)
			s->head_attempts++;
		s->last_progress_ms = broker_now(b);
	}
}

void
deliver_pump_all(struct broker *b)
{
	size_t i;

	for (i = 0; i < b->sessions.n; i++)
		if (b->sessions.s[i]->dirty)
			deliver_pump(b, b->sessions.s[i]);
}

void
deliver_wake(struct broker *b, const char *agent)
{
	struct session *s = session_by_agent(&b->sessions, agent);

	if (s != NULL)
		s->dirty = true;
}

/* Signs nb into an encoded Frame holding Notice{body, signature, seq}. */
static void
notice_frame(struct broker *b, Repat__NoticeBody *nb, uint64_t seq,
    uint8_t **out, size_t *outlen)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Notice n = REPAT__NOTICE__INIT;
	uint8_t sig[REPAT_SIG_LEN], *body;
	size_t len;

	nb->broker_time_ms = broker_now(b);
	repat_encode(&nb->base, &body, &len);
	if (repat_sign(b->sign_key, REPAT_PURPOSE_NOTICE, body, len, sig) != 0)
		repat_fatalx("notice: signing failed");
	n.body.data = body;
	n.body.len = len;
	n.signature.data = sig;
	n.signature.len = sizeof(sig);
	n.has_seq = 1;
	n.seq = seq;
	f.command_case = REPAT__FRAME__COMMAND_NOTICE;
	f.notice = &n;
	repat_encode(&f.base, out, outlen);
	free(body);
}

int
deliver_notice(struct broker *b, const char *to, Repat__NoticeBody *nb)
{
	sqlite3_stmt *st;
	uint8_t *buf;
	size_t len;
	uint64_t seq, now = broker_now(b);
	int rc;

	nb->to = (char *)to;
	if ((rc = store_next_seq(&b->store, to, &seq)) != 0) {
		if (rc == REPAT_ENOENT)
			return REPAT_OK;	/* a relayed sender, never seen */
		return rc;
	}
	notice_frame(b, nb, seq, &buf, &len);
	st = store_stmt(&b->store, ST_Q_PUT);
	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_int(st, 3, 1);
	sqlite3_bind_blob(st, 5, buf, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 7,
	    (sqlite3_int64)(now + (uint64_t)b->cfg.default_expiry_ms));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(buf);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	deliver_wake(b, to);
	return REPAT_OK;
}

/* Pending rows of agent in (from, to], into a new array. */
static size_t
pending_rows(struct broker *b, const char *agent, uint64_t from, uint64_t to,
    struct qrow **out)
{
	sqlite3_stmt *st = store_stmt(&b->store, ST_Q_RANGE);
	struct qrow *r = NULL;
	size_t n = 0, cap = 0;
	const char *snd;

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)to);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			r = repat_xrealloc(r, cap * sizeof(*r));
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].seq = (uint64_t)sqlite3_column_int64(st, 0);
		r[n].kind = sqlite3_column_int(st, 1);
		if (sqlite3_column_bytes(st, 2) == 16)
			memcpy(r[n].id, sqlite3_column_blob(st, 2), 16);
		if ((snd = (const char *)sqlite3_column_text(st, 3)) != NULL)
			snprintf(r[n].sender, sizeof(r[n].sender), "%s", snd);
		r[n].type = sqlite3_column_int(st, 4);
		n++;
	}
	sqlite3_reset(st);
	*out = r;
	return n;
}

/* Marks every pending row of agent in (from, to] delivered, in one step. */
static int
mark_delivered(struct broker *b, const char *agent, uint64_t from,
    uint64_t to)
{
	sqlite3_stmt *st = store_stmt(&b->store, ST_Q_DELIVERED);

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)to);
	return repat_db_step_done(st);
}

static int
audit_delivered(struct broker *b, struct session *s, const struct qrow *r)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;

	e.kind = REPAT__AUDIT_KIND__AUDIT_DELIVERED;
	e.has_message_id = 1;
	e.message_id.data = (uint8_t *)r->id;
	e.message_id.len = 16;
	e.sender = (char *)r->sender;
	e.recipient = s->agent_id;
	e.has_type = 1;
	e.type = r->type;
	e.has_seq = 1;
	e.seq = r->seq;
	return broker_audit(b, &e);
}

/* One NOTICE_DELIVERED to sender listing its messages among rows. */
static int
notify_sender(struct broker *b, const char *sender, struct qrow *r, size_t n,
    Repat__Ack *ack)
{
	Repat__NoticeBody nb = REPAT__NOTICE_BODY__INIT;
	ProtobufCBinaryData *ids;
	size_t i, k = 0;
	int rc;

	ids = repat_xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++) {
		if (r[i].kind != 0 || strcmp(r[i].sender, sender) != 0)
			continue;
		ids[k].data = r[i].id;
		ids[k].len = 16;
		k++;
		r[i].kind = -1;		/* done */
	}
	nb.kind = REPAT__NOTICE_KIND__NOTICE_DELIVERED;
	nb.n_message_ids = k;
	nb.message_ids = ids;
	nb.ack = ack;
	rc = deliver_notice(b, sender, &nb);
	free(ids);
	return rc;
}

int
deliver_acked(struct broker *b, struct session *s, uint64_t from,
    uint64_t up_to, Repat__Ack *ack)
{
	struct qrow *r;
	sqlite3_stmt *st;
	size_t n, i;
	int rc = REPAT_OK;

	n = pending_rows(b, s->agent_id, from, up_to, &r);
	rc = mark_delivered(b, s->agent_id, from, up_to);
	for (i = 0; i < n && rc == 0; i++)
		if (r[i].kind == 0)
			rc = audit_delivered(b, s, &r[i]);
	for (i = 0; i < n && rc == 0; i++)
		if (r[i].kind == 0)
			rc = notify_sender(b, r[i].sender, r, n, ack);
	free(r);
	if (rc != 0)
		return rc;
	st = store_stmt(&b->store, ST_AGENT_ACKED);
	sqlite3_bind_text(st, 1, s->agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)up_to);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return REPAT_EDB;
	repat_log_debug("ack %s up to %llu", s->agent_id,
	    (unsigned long long)up_to);
	s->acked = up_to;
	if (s->sent < up_to)
		s->sent = up_to;
	s->backoff_ms = (uint64_t)b->cfg.redeliver_min_ms;
	s->head_attempts = 0;
	s->last_progress_ms = broker_now(b);
	s->dirty = true;
	return REPAT_OK;
}

/*
 * Replaces row r of recipient's stream by a notice of kind and tells the
 * sender with a notice of the same kind (inside the group).
 */
static int
dead_letter(struct broker *b, const char *recipient, const struct qrow *r,
    int kind)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	Repat__NoticeBody nb = REPAT__NOTICE_BODY__INIT;
	ProtobufCBinaryData id = { 16, (uint8_t *)r->id };
	sqlite3_stmt *st;
	uint8_t *buf;
	size_t len;
	char hex[33];
	int rc;

	e.kind = kind == REPAT__NOTICE_KIND__NOTICE_EXPIRED ?
	    REPAT__AUDIT_KIND__AUDIT_EXPIRED :
	    REPAT__AUDIT_KIND__AUDIT_DEAD_LETTERED;
	e.has_message_id = 1;
	e.message_id = id;
	e.sender = (char *)r->sender;
	e.recipient = (char *)recipient;
	e.has_type = 1;
	e.type = r->type;
	e.has_seq = 1;
	e.seq = r->seq;
	if ((rc = broker_audit(b, &e)) != 0)
		return rc;
	nb.kind = kind;
	nb.to = (char *)recipient;
	nb.n_message_ids = 1;
	nb.message_ids = &id;
	notice_frame(b, &nb, r->seq, &buf, &len);
	st = store_stmt(&b->store, ST_Q_TO_NOTICE);
	sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->seq);
	sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(buf);
	if (rc != SQLITE_DONE)
		return REPAT_EDB;
	repat_log_info("%s %s from %s to %s (seq %llu)",
	    kind == REPAT__NOTICE_KIND__NOTICE_EXPIRED ? "expired" :
	    "dead-lettered", repat_hex(r->id, 16, hex), r->sender, recipient,
	    (unsigned long long)r->seq);
	repat__notice_body__init(&nb);
	nb.kind = kind;
	nb.n_message_ids = 1;
	nb.message_ids = &id;
	return deliver_notice(b, r->sender, &nb);
}

static void
expire_sweep(struct broker *b)
{
	sqlite3_stmt *st = store_stmt(&b->store, ST_Q_EXPIRED);
	struct qrow *r = NULL;
	char (*to)[REPAT_MAX_AGENT_ID + 1] = NULL;
	uint64_t mark;
	size_t n = 0, i;
	const char *t;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)broker_now(b));
	while (sqlite3_step(st) == SQLITE_ROW) {
		r = repat_xrealloc(r, (n + 1) * sizeof(*r));
		to = repat_xrealloc(to, (n + 1) * sizeof(*to));
		memset(&r[n], 0, sizeof(r[n]));
		t = (const char *)sqlite3_column_text(st, 0);
		snprintf(to[n], sizeof(to[n]), "%s", t ? t : "");
		r[n].seq = (uint64_t)sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 2) == 16)
			memcpy(r[n].id, sqlite3_column_blob(st, 2), 16);
		t = (const char *)sqlite3_column_text(st, 3);
		snprintf(r[n].sender, sizeof(r[n].sender), "%s", t ? t : "");
		r[n].type = sqlite3_column_int(st, 4);
		n++;
	}
	sqlite3_reset(st);
	for (i = 0; i < n; i++) {
		if (store_savepoint(&b->store) != 0)
			break;
		mark = audit_mark(&b->audit);
		if (dead_letter(b, to[i], &r[i],
		    REPAT__NOTICE_KIND__NOTICE_EXPIRED) != 0) {
			store_rollback_to(&b->store);
			audit_rewind(&b->audit, mark);
		} else {
			store_release(&b->store);
		}
		deliver_wake(b, to[i]);
	}
	free(r);
	free(to);
}

void
deliver_dead_letter_head(struct broker *b, struct session *s)
{
	struct qrow *r;
	uint64_t mark;
	size_t n;
	int rc = 0;

	n = pending_rows(b, s->agent_id, s->acked, s->acked + 1, &r);
	repat_log_debug("dead-letter head of %s: %zu row(s), kind %d",
	    s->agent_id, n, n > 0 ? r[0].kind : -1);
	if (n == 1 && r[0].kind == 0 && (rc = store_savepoint(&b->store)) == 0) {
		mark = audit_mark(&b->audit);
		if ((rc = dead_letter(b, s->agent_id, &r[0],
		    REPAT__NOTICE_KIND__NOTICE_DEAD_LETTER)) != 0) {
			repat_log_warnx("dead-letter %s seq %llu: %s",
			    s->agent_id, (unsigned long long)r[0].seq,
			    repat_strerror(rc));
			store_rollback_to(&b->store);
			audit_rewind(&b->audit, mark);
		} else {
			store_release(&b->store);
		}
	}
	/* Not dead-lettered for a storage error: the next round tries again. */
	if (rc == 0)
		s->head_attempts = 0;
	free(r);
}

/* last_seen_ms for `repat-broker status`, written every 10 s at most. */
void
store_seen(struct broker *b, struct session *s)
{
	sqlite3_stmt *st = store_stmt(&b->store, ST_AGENT_SEEN);

	sqlite3_bind_text(st, 1, s->agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->last_seen_ms);
	(void)sqlite3_step(st);
	sqlite3_reset(st);
	s->stored_seen_ms = s->last_seen_ms;
}

void
deliver_timers(struct broker *b)
{
	struct session *s;
	uint64_t now = broker_now(b);
	size_t i;

	if (broker_group_begin(b) != 0)
		return;
	for (i = 0; i < b->sessions.n; i++) {
		s = b->sessions.s[i];
		if (s->state == SESSION_ACTIVE &&
		    s->last_seen_ms > s->stored_seen_ms + 10000)
			store_seen(b, s);
		if (s->state != SESSION_ACTIVE || s->sent <= s->acked ||
		    now - s->last_progress_ms < s->backoff_ms)
			continue;
		if (s->head_attempts >= (uint32_t)b->cfg.delivery_limit)
			deliver_dead_letter_head(b, s);
		repat_log_debug("redeliver %s from seq %llu (backoff %llu ms)",
		    s->agent_id, (unsigned long long)s->acked + 1,
		    (unsigned long long)s->backoff_ms);
		s->sent = s->acked;
		s->backoff_ms *= 2;
		if (s->backoff_ms > (uint64_t)b->cfg.redeliver_max_ms)
			s->backoff_ms = (uint64_t)b->cfg.redeliver_max_ms;
		s->last_progress_ms = now;
		s->unreachable = false;
		s->dirty = true;
	}
	expire_sweep(b);
	remind_sweep(b);
	purge_sweep(b);
	broker_group_end(b);
}
