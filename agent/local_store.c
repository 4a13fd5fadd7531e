/*
 * local_store.c: the agent's SQLite file (see local_store.h).
 *
 * Everything goes through short prepared statements on one connection
 * opened by repat_db_open (WAL, synchronous=FULL, 0600, migrations). The
 * outbox keeps the exact bytes that were signed, so every resubmit sends
 * the same bytes; the inbox deduplicates on the message id, so a message
 * redelivered after a crash (stored, not yet acked) is kept once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local_store.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"

struct local_store {
	sqlite3 *db;		/* the one connection */
};

static const struct repat_db_migration migrations[] = {
	{
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL);"
	"CREATE TABLE outbox ("
	"  message_id BLOB PRIMARY KEY,"
	"  envelope BLOB NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  recipient TEXT NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  case_ref TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  in_reply_to BLOB,"
	"  copy_of BLOB,"
	"  stored_ms INTEGER NOT NULL,"
	"  relayed INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued', 'receipted', 'rejected')),"
	"  reject_code INTEGER,"
	"  reason TEXT,"
	"  broker_time_ms INTEGER,"
	"  receipt BLOB,"
	"  outcome TEXT,"		/* delivered, expired, dead_letter */
	"  outcome_ms INTEGER);"
	"CREATE INDEX outbox_state ON outbox(state, stored_ms);"
	"CREATE INDEX outbox_case ON outbox(case_ref);"
	"CREATE TABLE inbox ("
	"  rowid INTEGER PRIMARY KEY,"
	"  seq INTEGER NOT NULL,"
	"  message_id BLOB UNIQUE,"		/* NULL when it did not parse */
	"  envelope BLOB NOT NULL,"
	"  sender TEXT,"
	"  recipient TEXT,"
	"  type INTEGER,"
	"  case_ref TEXT,"
	"  created_ms INTEGER,"
	"  expires_ms INTEGER,"
	"  in_reply_to BLOB,"
	"  copy_of BLOB,"
	"  accepted_ms INTEGER,"
	"  received_ms INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'read')),"
	"  verify_error TEXT NOT NULL DEFAULT '',"
	"  exec_done INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX inbox_case ON inbox(case_ref);"
	"CREATE TABLE notices ("
	"  rowid INTEGER PRIMARY KEY,"
	"  seq INTEGER,"
	"  kind INTEGER,"
	"  case_ref TEXT,"
	"  message_ids TEXT NOT NULL DEFAULT '',"
	"  due_ms INTEGER,"
	"  awaited_type INTEGER,"
	"  broker_time_ms INTEGER,"
	"  received_ms INTEGER NOT NULL,"
	"  verified INTEGER NOT NULL,"
	"  bytes BLOB);"
	"CREATE TABLE directory ("
	"  agent_id TEXT PRIMARY KEY,"
	"  country TEXT NOT NULL,"
	"  role INTEGER NOT NULL,"
	"  sign_cert BLOB NOT NULL,"
	"  enc_cert BLOB NOT NULL,"
	"  verified_ms INTEGER NOT NULL);"
	"CREATE TABLE views ("
	"  rowid INTEGER PRIMARY KEY,"
	"  message_id BLOB,"
	"  case_ref TEXT,"
	"  viewer TEXT NOT NULL,"
	"  what TEXT NOT NULL,"
	"  time_ms INTEGER NOT NULL);"
	"CREATE INDEX views_message ON views(message_id);"
	},
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
local_store_open(const char *dir, local_store_t **out, char *errbuf)
{
	local_store_t *ls;
	char *path;
	int rc;

	*out = NULL;
	ls = repat_xcalloc(1, sizeof(*ls));
	path = repat_xasprintf("%s/agent.db", dir);
	rc = repat_db_open(path, migrations, NMIGRATIONS, 0, &ls->db, errbuf);
	free(path);
	if (rc != REPAT_OK) {
		free(ls);
		return rc;
	}
	*out = ls;
	return REPAT_OK;
}

void
local_store_close(local_store_t **lsp)
{
	if (lsp == NULL || *lsp == NULL)
		return;
	sqlite3_close_v2((*lsp)->db);
	free(*lsp);
	*lsp = NULL;
}

sqlite3 *
local_store_db(local_store_t *ls)
{
	return ls->db;
}

int
local_store_begin(local_store_t *ls, char *errbuf)
{
	return repat_db_exec(ls->db, "BEGIN IMMEDIATE", errbuf);
}

int
local_store_commit(local_store_t *ls, char *errbuf)
{
	return repat_db_exec(ls->db, "COMMIT", errbuf);
}

void
local_store_rollback(local_store_t *ls)
{
	if (!sqlite3_get_autocommit(ls->db))
		(void)sqlite3_exec(ls->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- small statement helpers */

static sqlite3_stmt *
prep(local_store_t *ls, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(ls->db, sql, -1, &st, NULL) != SQLITE_OK)
		repat_fatalx("local store: prepare \"%.60s\": %s", sql,
		    sqlite3_errmsg(ls->db));
	return st;
}

/* Steps a statement that returns no rows and finalizes it. */
static int
done(local_store_t *ls, sqlite3_stmt *st, char *errbuf)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? REPAT_OK : repat_db_fail(ls->db, rc, errbuf);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void
bind_id(sqlite3_stmt *st, int i, protobuf_c_boolean has,
    const ProtobufCBinaryData *b)
{
	if (has && b->len == REPAT_MESSAGE_ID_LEN)
		sqlite3_bind_blob(st, i, b->data, (int)b->len,
		    SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void
col_text(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

static bool
col_id(sqlite3_stmt *st, int i, uint8_t out[REPAT_MESSAGE_ID_LEN])
{
	if (sqlite3_column_bytes(st, i) != REPAT_MESSAGE_ID_LEN)
		return false;
	memcpy(out, sqlite3_column_blob(st, i), REPAT_MESSAGE_ID_LEN);
	return true;
}

/* ---- meta */

uint64_t
local_store_acked_seq(local_store_t *ls)
{
	sqlite3_stmt *st = prep(ls,
	    "SELECT value FROM meta WHERE key = 'acked_seq'");
	uint64_t v = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
local_store_set_acked_seq(local_store_t *ls, uint64_t seq, char *errbuf)
{
	sqlite3_stmt *st = prep(ls, "INSERT INTO meta (key, value) "
	    "VALUES ('acked_seq', ?1) ON CONFLICT (key) DO UPDATE SET "
	    "value = max(value, excluded.value)");

	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	return done(ls, st, errbuf);
}

/* ---- outbox */

int
local_store_outbox_add(local_store_t *ls, const uint8_t *bytes, size_t len,
    bool relayed, uint64_t now_ms, char *errbuf)
{
	struct repat_verified v;
	sqlite3_stmt *st;
	const Repat__Header *h;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = repat_envelope_parse(bytes, len, &v, errbuf)) != REPAT_OK)
		goto out;
	h = v.header;
	st = prep(ls, "SELECT envelope FROM outbox WHERE message_id = ?1");
	sqlite3_bind_blob(st, 1, h->message_id.data, (int)h->message_id.len,
	    SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if ((size_t)sqlite3_column_bytes(st, 0) == len &&
		    memcmp(sqlite3_column_blob(st, 0), bytes, len) == 0)
			rc = REPAT_OK;
		else
			rc = repat_errf(errbuf, REPAT_EEXIST, "the outbox "
			    "already holds another message with this id");
		sqlite3_finalize(st);
		goto out;
	}
	sqlite3_finalize(st);
	st = prep(ls, "INSERT INTO outbox (message_id, envelope, sender, "
	    "recipient, type, case_ref, created_ms, expires_ms, in_reply_to, "
	    "copy_of, stored_ms, relayed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9, ?10, ?11, ?12)");
	sqlite3_bind_blob(st, 1, h->message_id.data, (int)h->message_id.len,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, bytes, (int)len, SQLITE_STATIC);
	bind_text(st, 3, h->sender);
	bind_text(st, 4, h->recipient);
	sqlite3_bind_int(st, 5, (int)h->type);
	bind_text(st, 6, h->case_ref);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)h->created_ms);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)h->expires_ms);
	bind_id(st, 9, h->has_in_reply_to, &h->in_reply_to);
	bind_id(st, 10, h->has_copy_of, &h->copy_of);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)now_ms);
	sqlite3_bind_int(st, 12, relayed ? 1 : 0);
	rc = done(ls, st, errbuf);
out:
	repat_verified_clear(&v);
	return rc;
}

int
local_store_outbox_queued(local_store_t *ls, struct ls_queued **out,
    size_t *n)
{
	sqlite3_stmt *st = prep(ls, "SELECT message_id, envelope FROM outbox "
	    "WHERE state = 'queued' ORDER BY stored_ms, rowid");
	struct ls_queued *q = NULL;
	size_t cap = 0, len;

	*n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			q = repat_xrealloc(q, cap * sizeof(*q));
		}
		col_id(st, 0, q[*n].id);
		len = (size_t)sqlite3_column_bytes(st, 1);
		q[*n].bytes = repat_xmalloc(len ? len : 1);
		memcpy(q[*n].bytes, sqlite3_column_blob(st, 1), len);
		q[*n].len = len;
		(*n)++;
	}
	sqlite3_finalize(st);
	*out = q;
	return REPAT_OK;
}

void
local_store_queued_free(struct ls_queued *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(q[i].bytes);
	free(q);
}

int
local_store_outbox_answer(local_store_t *ls, const uint8_t id[16],
    bool receipted, int code, const char *reason, uint64_t broker_time_ms,
    const uint8_t *receipt, size_t receipt_len, char *errbuf)
{
	sqlite3_stmt *st = prep(ls, "UPDATE outbox SET state = ?2, "
	    "reject_code = ?3, reason = ?4, broker_time_ms = ?5, receipt = ?6 "
	    "WHERE message_id = ?1 AND state = 'queued'");

	sqlite3_bind_blob(st, 1, id, REPAT_MESSAGE_ID_LEN, SQLITE_STATIC);
	bind_text(st, 2, receipted ? LS_RECEIPTED : LS_REJECTED);
	if (receipted)
		sqlite3_bind_null(st, 3);
	else
		sqlite3_bind_int(st, 3, code);
	bind_text(st, 4, receipted ? NULL : reason);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)broker_time_ms);
	if (receipt != NULL)
		sqlite3_bind_blob(st, 6, receipt, (int)receipt_len,
		    SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	return done(ls, st, errbuf);
}

/* ---- inbox */

int
local_store_inbox_add(local_store_t *ls, uint64_t seq, const uint8_t *bytes,
    size_t len, const Repat__Header *h, uint64_t accepted_ms,
    const char *verify_error, uint64_t now_ms, char *errbuf)
{
	sqlite3_stmt *st;
	int rc;

	st = prep(ls, "INSERT OR IGNORE INTO inbox (seq, message_id, "
	    "envelope, sender, recipient, type, case_ref, created_ms, "
	    "expires_ms, in_reply_to, copy_of, accepted_ms, received_ms, "
	    "verify_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	    "?11, ?12, ?13, ?14)");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	sqlite3_bind_blob(st, 3, bytes, (int)len, SQLITE_STATIC);
	if (h != NULL) {
		bind_id(st, 2, 1, &h->message_id);
		bind_text(st, 4, h->sender);
		bind_text(st, 5, h->recipient);
		sqlite3_bind_int(st, 6, (int)h->type);
		bind_text(st, 7, h->case_ref);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)h->created_ms);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)h->expires_ms);
		bind_id(st, 10, h->has_in_reply_to, &h->in_reply_to);
		bind_id(st, 11, h->has_copy_of, &h->copy_of);
	}
	sqlite3_bind_int64(st, 12, (sqlite3_int64)accepted_ms);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)now_ms);
	bind_text(st, 14, verify_error ? verify_error : "");
	if ((rc = done(ls, st, errbuf)) != REPAT_OK)
		return rc;
	return sqlite3_changes(ls->db) > 0 ? 1 : 0;
}

static int
inbox_set(local_store_t *ls, const char *sql, const uint8_t id[16])
{
	sqlite3_stmt *st = prep(ls, sql);

	sqlite3_bind_blob(st, 1, id, REPAT_MESSAGE_ID_LEN, SQLITE_STATIC);
	return done(ls, st, NULL);
}

int
local_store_inbox_mark_read(local_store_t *ls, const uint8_t id[16])
{
	return inbox_set(ls, "UPDATE inbox SET state = 'read' "
	    "WHERE message_id = ?1", id);
}

int
local_store_inbox_mark_exec(local_store_t *ls, const uint8_t id[16])
{
	return inbox_set(ls, "UPDATE inbox SET exec_done = 1 "
	    "WHERE message_id = ?1", id);
}

/*
 * One SELECT shape for both tables, so listing, finding and the case
 * timeline read rows the same way. Columns:
 *  0 sent, 1 id, 2 sender, 3 recipient, 4 type, 5 case, 6 created,
 *  7 expires, 8 time, 9 broker time, 10 outcome ms, 11 in_reply_to,
 *  12 copy_of, 13 status, 14 code, 15 reason, 16 seq, 17 relayed,
 *  18 exec_done, 19 envelope
 */
#define SELECT_SENT							\
	"SELECT 1 AS sent, message_id, sender, recipient, type, case_ref, "\
	"created_ms, expires_ms, stored_ms AS t, broker_time_ms, "	\
	"outcome_ms, in_reply_to, copy_of, "				\
	"CASE WHEN state = 'receipted' AND outcome IS NOT NULL "	\
	"THEN outcome ELSE state END AS status, reject_code, reason, 0, "\
	"relayed, 0, %s FROM outbox"
#define SELECT_RECEIVED							\
	"SELECT 0 AS sent, message_id, sender, recipient, type, case_ref, "\
	"created_ms, expires_ms, received_ms AS t, accepted_ms, 0, "	\
	"in_reply_to, copy_of, "					\
	"CASE WHEN verify_error != '' THEN 'unverified' ELSE state END "\
	"AS status, "\
	"0, verify_error, seq, 0, exec_done, %s FROM inbox"

static void
read_row(sqlite3_stmt *st, struct ls_msg *m, bool with_envelope)
{
	const void *b;
	size_t len;

	memset(m, 0, sizeof(*m));
	m->sent = sqlite3_column_int(st, 0) != 0;
	m->has_id = col_id(st, 1, m->id);
	col_text(st, 2, m->sender, sizeof(m->sender));
	col_text(st, 3, m->recipient, sizeof(m->recipient));
	m->type = sqlite3_column_int(st, 4);
	col_text(st, 5, m->case_ref, sizeof(m->case_ref));
	m->created_ms = (uint64_t)sqlite3_column_int64(st, 6);
	m->expires_ms = (uint64_t)sqlite3_column_int64(st, 7);
	m->time_ms = (uint64_t)sqlite3_column_int64(st, 8);
	m->broker_time_ms = (uint64_t)sqlite3_column_int64(st, 9);
	m->delivered_ms = (uint64_t)sqlite3_column_int64(st, 10);
	m->has_reply_to = col_id(st, 11, m->in_reply_to);
	m->has_copy_of = col_id(st, 12, m->copy_of);
	col_text(st, 13, m->status, sizeof(m->status));
	m->reject_code = sqlite3_column_int(st, 14);
	col_text(st, 15, m->reason, sizeof(m->reason));
	m->seq = (uint64_t)sqlite3_column_int64(st, 16);
	m->relayed = sqlite3_column_int(st, 17) != 0;
	m->exec_done = sqlite3_column_int(st, 18) != 0;
	if (!with_envelope)
		return;
	len = (size_t)sqlite3_column_bytes(st, 19);
	b = sqlite3_column_blob(st, 19);
	m->envelope = repat_xmalloc(len ? len : 1);
	if (len)
		memcpy(m->envelope, b, len);
	m->envelope_len = len;
}

int
local_store_find(local_store_t *ls, const uint8_t id[16], struct ls_msg *m)
{
	sqlite3_stmt *st;
	char *sql;
	int i, rc = REPAT_ENOENT;

	for (i = 0; i < 2 && rc == REPAT_ENOENT; i++) {
		if (i == 0)
			sql = repat_xasprintf(SELECT_RECEIVED
			    " WHERE message_id = ?1", "envelope");
		else
			sql = repat_xasprintf(SELECT_SENT
			    " WHERE message_id = ?1", "envelope");
		st = prep(ls, sql);
		free(sql);
		sqlite3_bind_blob(st, 1, id, REPAT_MESSAGE_ID_LEN,
		    SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			read_row(st, m, true);
			rc = REPAT_OK;
		}
		sqlite3_finalize(st);
	}
	return rc;
}

int
local_store_list(local_store_t *ls, const struct ls_filter *f,
    int (*fn)(const struct ls_msg *, void *), void *arg)
{
	sqlite3_stmt *st;
	struct ls_msg m;
	char *sql;
	int rc = 0;

	/*
	 * ?1 case, ?2 type, ?3 peer, ?4 unread, ?5 received only. The peer
	 * filter matches the sender of received and the recipient of sent
	 * messages.
	 */
	sql = repat_xasprintf("SELECT * FROM (" SELECT_SENT " UNION ALL "
	    SELECT_RECEIVED ") WHERE (?1 IS NULL OR case_ref = ?1) AND "
	    "(?2 = 0 OR type = ?2) AND (?3 IS NULL OR (sent = 1 AND "
	    "recipient = ?3) OR (sent = 0 AND sender = ?3)) AND "
	    "(?4 = 0 OR (sent = 0 AND status = 'new')) AND "
	    "(?5 = 0 OR sent = 0) ORDER BY t %s, sent %s LIMIT ?6",
	    "NULL", "NULL", f->oldest_first ? "ASC" : "DESC",
	    f->oldest_first ? "DESC" : "ASC");
	st = prep(ls, sql);
	free(sql);
	bind_text(st, 1, f->case_ref);
	sqlite3_bind_int(st, 2, f->type);
	bind_text(st, 3, f->from);
	sqlite3_bind_int(st, 4, f->unread ? 1 : 0);
	sqlite3_bind_int(st, 5, f->received_only ? 1 : 0);
	sqlite3_bind_int(st, 6, f->limit > 0 ? f->limit : -1);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		read_row(st, &m, false);
		rc = fn(&m, arg);
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- notices */

static void
ids_text(const Repat__NoticeBody *b, char *out, size_t outlen)
{
	char hex[2 * REPAT_MESSAGE_ID_LEN + 1];
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < b->n_message_ids && i < 8; i++) {
		if (b->message_ids[i].len != REPAT_MESSAGE_ID_LEN)
			continue;
		off += (size_t)snprintf(out + off, outlen - off, "%s%s",
		    off ? "," : "", repat_hex(b->message_ids[i].data,
		    REPAT_MESSAGE_ID_LEN, hex));
		if (off >= outlen)
			break;
	}
}

/* A verified delivered / expired / dead-letter notice updates the outbox. */
static int
apply_notice(local_store_t *ls, const Repat__NoticeBody *b, char *errbuf)
{
	const char *outcome;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	switch (b->kind) {
	case REPAT__NOTICE_KIND__NOTICE_DELIVERED:
		outcome = LS_DELIVERED;
		break;
	case REPAT__NOTICE_KIND__NOTICE_EXPIRED:
		outcome = LS_EXPIRED;
		break;
	case REPAT__NOTICE_KIND__NOTICE_DEAD_LETTER:
		outcome = "dead_letter";
		break;
	default:
		return REPAT_OK;
	}
	for (i = 0; i < b->n_message_ids; i++) {
		if (b->message_ids[i].len != REPAT_MESSAGE_ID_LEN)
			continue;
		st = prep(ls, "UPDATE outbox SET outcome = ?2, "
		    "outcome_ms = ?3 WHERE message_id = ?1");
		sqlite3_bind_blob(st, 1, b->message_ids[i].data,
		    REPAT_MESSAGE_ID_LEN, SQLITE_STATIC);
		bind_text(st, 2, outcome);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)b->broker_time_ms);
		if ((rc = done(ls, st, errbuf)) != REPAT_OK)
			return rc;
	}
	return REPAT_OK;
}

int
local_store_notice_add(local_store_t *ls, uint64_t seq,
    const Repat__NoticeBody *b, const uint8_t *bytes, size_t len,
    bool verified, uint64_t now_ms, char *errbuf)
{
	char ids[8 * 33];
	sqlite3_stmt *st;
	int rc;

	st = prep(ls, "INSERT INTO notices (seq, kind, case_ref, message_ids, "
	    "due_ms, awaited_type, broker_time_ms, received_ms, verified, "
	    "bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (b != NULL) {
		ids_text(b, ids, sizeof(ids));
		sqlite3_bind_int(st, 2, (int)b->kind);
		bind_text(st, 3, b->case_ref);
		bind_text(st, 4, ids);
		if (b->has_due_ms)
			sqlite3_bind_int64(st, 5, (sqlite3_int64)b->due_ms);
		if (b->has_awaited_type)
			sqlite3_bind_int(st, 6, (int)b->awaited_type);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)b->broker_time_ms);
	} else {
		bind_text(st, 4, "");
	}
	sqlite3_bind_int64(st, 8, (sqlite3_int64)now_ms);
	sqlite3_bind_int(st, 9, verified ? 1 : 0);
	if (bytes != NULL)
		sqlite3_bind_blob(st, 10, bytes, (int)len, SQLITE_STATIC);
	if ((rc = done(ls, st, errbuf)) != REPAT_OK)
		return rc;
	if (b != NULL && verified)
		return apply_notice(ls, b, errbuf);
	return REPAT_OK;
}

int
local_store_notices(local_store_t *ls, const char *case_ref,
    int (*fn)(const struct ls_notice *, void *), void *arg)
{
	sqlite3_stmt *st = prep(ls, "SELECT kind, seq, case_ref, message_ids, "
	    "due_ms, awaited_type, broker_time_ms, received_ms, verified "
	    "FROM notices WHERE (?1 IS NULL OR case_ref = ?1) "
	    "ORDER BY received_ms, rowid");
	struct ls_notice n;
	int rc = 0;

	bind_text(st, 1, case_ref);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		memset(&n, 0, sizeof(n));
		n.kind = sqlite3_column_int(st, 0);
		n.seq = (uint64_t)sqlite3_column_int64(st, 1);
		col_text(st, 2, n.case_ref, sizeof(n.case_ref));
		col_text(st, 3, n.ids, sizeof(n.ids));
		n.due_ms = (uint64_t)sqlite3_column_int64(st, 4);
		n.awaited_type = sqlite3_column_int(st, 5);
		n.broker_time_ms = (uint64_t)sqlite3_column_int64(st, 6);
		n.received_ms = (uint64_t)sqlite3_column_int64(st, 7);
		n.verified = sqlite3_column_int(st, 8) != 0;
		rc = fn(&n, arg);
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- directory */

int
local_store_directory_clear(local_store_t *ls, char *errbuf)
{
	return repat_db_exec(ls->db, "DELETE FROM directory", errbuf);
}

int
local_store_directory_put(local_store_t *ls, const char *agent_id, int role,
    const uint8_t *sign_der, size_t sign_len, const uint8_t *enc_der,
    size_t enc_len, uint64_t verified_ms, char *errbuf)
{
	sqlite3_stmt *st = prep(ls, "INSERT OR REPLACE INTO directory "
	    "(agent_id, country, role, sign_cert, enc_cert, verified_ms) "
	    "VALUES (?1, substr(?1, 1, 2), ?2, ?3, ?4, ?5)");

	bind_text(st, 1, agent_id);
	sqlite3_bind_int(st, 2, role);
	sqlite3_bind_blob(st, 3, sign_der, (int)sign_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, enc_der, (int)enc_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)verified_ms);
	return done(ls, st, errbuf);
}

int
local_store_directory_enc(local_store_t *ls, const char *agent_id,
    uint8_t **der, size_t *len)
{
	sqlite3_stmt *st = prep(ls, "SELECT enc_cert FROM directory "
	    "WHERE agent_id = ?1");
	int rc = REPAT_ENOENT;

	bind_text(st, 1, agent_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		*der = repat_xmalloc(*len ? *len : 1);
		memcpy(*der, sqlite3_column_blob(st, 0), *len);
		rc = REPAT_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int
local_store_directory_find(local_store_t *ls, const char *country, int role,
    char ***ids, size_t *n)
{
	sqlite3_stmt *st = prep(ls, "SELECT agent_id FROM directory "
	    "WHERE country = ?1 AND (?2 <= 0 OR role = ?2) ORDER BY agent_id");
	const unsigned char *t;

	*ids = NULL;
	*n = 0;
	bind_text(st, 1, country);
	sqlite3_bind_int(st, 2, role);
	while (sqlite3_step(st) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		*ids = repat_xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = repat_xstrdup(t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	return REPAT_OK;
}

size_t
local_store_directory_count(local_store_t *ls)
{
	sqlite3_stmt *st = prep(ls, "SELECT count(*) FROM directory");
	size_t n = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- views */

int
local_store_view_log(local_store_t *ls, const uint8_t *id,
    const char *case_ref, const char *viewer, const char *what,
    uint64_t now_ms, char *errbuf)
{
	sqlite3_stmt *st = prep(ls, "INSERT INTO views (message_id, case_ref, "
	    "viewer, what, time_ms) VALUES (?1, ?2, ?3, ?4, ?5)");

	if (id != NULL)
		sqlite3_bind_blob(st, 1, id, REPAT_MESSAGE_ID_LEN,
		    SQLITE_STATIC);
	bind_text(st, 2, case_ref);
	bind_text(st, 3, viewer);
	bind_text(st, 4, what);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now_ms);
	return done(ls, st, errbuf);
}

int
local_store_view_count(local_store_t *ls, const uint8_t id[16])
{
	sqlite3_stmt *st = prep(ls, "SELECT count(*) FROM views "
	    "WHERE message_id = ?1");
	int n = 0;

	sqlite3_bind_blob(st, 1, id, REPAT_MESSAGE_ID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}
