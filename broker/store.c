/*
 * store.c: the broker's SQLite file (DESIGN.md §9).
 *
 * One writer connection, used only by the loop's thread, with every
 * statement prepared once. A group of commands runs in one transaction
 * (BEGIN IMMEDIATE .. COMMIT) with a savepoint per command, so one bad
 * submit never rolls back its neighbours. synchronous=FULL makes COMMIT
 * the durability point. wal_autocheckpoint is off: a second connection
 * checkpoints on its own thread (walckpt.c), so a checkpoint never stalls
 * a COMMIT.
 *
 * Schema (user_version 10):
 *
 *   meta(name, value)          audit key, broker facts
 *   agents(id, ..., next_seq, acked_seq)
 *                              registered agents, their certificates and
 *                              their delivery stream: next_seq is the next
 *                              number to assign, acked_seq the cumulative
 *                              ack
 *   messages(id, ...)          accepted envelopes; the envelope bytes are
 *                              purged after the retention period (purge.c),
 *                              the row stays for replay detection
 *   queue(recipient, seq, kind, message_id | notice, state)
 *                              the per-recipient stream: seq 1, 2, 3, ...
 *                              no gaps; kind 0 a message, 1 a notice;
 *                              state 0 pending, 1 delivered: 0 exactly
 *                              when seq > agents.acked_seq, so pending
 *                              rows are read by key range (version 10)
 *   audit(idx, entry, leaf_hash)
 *                              the audit log, leaves of the Merkle tree
 *   cases(case_ref, record, next_due_ms)
 *                              (version 2) the SOP's cases, CaseRecord
 *                              blobs (repat_case_encode); (version 8) the
 *                              earliest due time of their open requests
 *   reminders(request_id, ...) (version 4) overdue requests reminded
 *   frontiers(size, hashes)    (version 5) the Merkle frontier at the latest
 *                              checkpoint (popcount(size) hashes of 32 bytes)
 *   checkpoints(size, root, note, signed_ms)
 *                              (version 3) signed audit checkpoints, the
 *                              latest also in DATABASE.checkpoint
 *   held(agreement, accepted_ms, message_id, recipient, seq)
 *                              (version 9) one row per payload still held
 *                              in messages, filed under the agreement whose
 *                              retention applies ('' none: the retention
 *                              setting; '?' not filed yet, held since
 *                              before version 9), with its delivery's
 *                              place (recipient, seq) in queue; purge.c
 *                              deletes the row with the payload
 *
 * Compatibility: a change to any table bumps BROKER_SCHEMA_VERSION and
 * adds a migration below; old migrations are never edited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"

static const struct repat_db_migration migrations[BROKER_SCHEMA_VERSION] = {
	{ "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	  "CREATE TABLE agents("
	  " id TEXT PRIMARY KEY,"
	  " country TEXT NOT NULL,"
	  " role INTEGER NOT NULL,"
	  " sign_cert BLOB NOT NULL,"
	  " enc_cert BLOB NOT NULL,"
	  " sign_pub BLOB NOT NULL,"
	  " registered_ms INTEGER NOT NULL,"
	  " last_seen_ms INTEGER NOT NULL DEFAULT 0,"
	  " next_seq INTEGER NOT NULL DEFAULT 1,"
	  " acked_seq INTEGER NOT NULL DEFAULT 0);"
	  "CREATE TABLE messages("
	  " id BLOB PRIMARY KEY,"
	  " sender TEXT NOT NULL,"
	  " recipient TEXT NOT NULL REFERENCES agents(id),"
	  " type INTEGER NOT NULL,"
	  " created_ms INTEGER NOT NULL,"
	  " expires_ms INTEGER NOT NULL,"
	  " accepted_ms INTEGER NOT NULL,"
	  " hash BLOB NOT NULL,"
	  " envelope BLOB,"
	  " relay TEXT);"
	  "CREATE TABLE queue("
	  " recipient TEXT NOT NULL REFERENCES agents(id),"
	  " seq INTEGER NOT NULL,"
	  " kind INTEGER NOT NULL,"
	  " message_id BLOB REFERENCES messages(id),"
	  " notice BLOB,"
	  " accepted_ms INTEGER NOT NULL,"
	  " expires_ms INTEGER NOT NULL,"
	  " state INTEGER NOT NULL DEFAULT 0,"
	  " PRIMARY KEY(recipient, seq)) WITHOUT ROWID;"
	  "CREATE INDEX queue_expiry ON queue(expires_ms)"
	  " WHERE state = 0 AND kind = 0;"
	  "CREATE INDEX queue_pending ON queue(recipient, state);"
	  "CREATE TABLE audit("
	  " idx INTEGER PRIMARY KEY,"
	  " entry BLOB NOT NULL,"
	  " leaf_hash BLOB NOT NULL);" },
	/* 2: cases of the SOP state machine, as CaseRecord blobs */
	{ "CREATE TABLE cases("
	  " case_ref TEXT PRIMARY KEY,"
	  " record BLOB NOT NULL,"
	  " updated_ms INTEGER NOT NULL);" },
	/* version 3: signed audit checkpoints (checkpoint.c) */
	{ "CREATE TABLE checkpoints("
	  " size INTEGER PRIMARY KEY,"
	  " root BLOB NOT NULL,"
	  " note BLOB NOT NULL,"
	  " signed_ms INTEGER NOT NULL);" },
	/* version 4: overdue requests already reminded (remind.c) */
	{ "CREATE TABLE reminders("
	  " request_id BLOB PRIMARY KEY,"
	  " waiting_on TEXT NOT NULL,"
	  " due_ms INTEGER NOT NULL,"
	  " sent_ms INTEGER NOT NULL);" },
	/*
	 * version 5: the Merkle frontier at the latest checkpoint, so that
	 * start-up replays only the audit tail instead of every leaf.
	 */
	{ "CREATE TABLE frontiers("
	  " size INTEGER PRIMARY KEY,"
	  " hashes BLOB NOT NULL);" },
	/* version 6: payloads still held, oldest first, for purge.c */
	{ "CREATE INDEX messages_held ON messages(accepted_ms)"
	  " WHERE envelope IS NOT NULL;" },
	/*
	 * version 7: the index of each message's AUDIT_ACCEPTED entry, so a
	 * proof request finds it without scanning the log (NULL for messages
	 * accepted before version 7: found by a scan).
	 */
	{ "ALTER TABLE messages ADD COLUMN audit_idx INTEGER;" },
	/*
	 * version 8: the earliest due time of a case's open requests (NULL:
	 * none), so the reminder sweep reads only cases with something due
	 * instead of decoding every case every 5 s (1 s a sweep at 1,000,000
	 * cases). Cases stored before version 8 get 0: read until next
	 * written.
	 */
	{ "ALTER TABLE cases ADD COLUMN next_due_ms INTEGER;"
	  "UPDATE cases SET next_due_ms = 0;"
	  "CREATE INDEX cases_due ON cases(next_due_ms)"
	  " WHERE next_due_ms IS NOT NULL;" },
	/*
	 * version 9: the payloads still held, by agreement and age, with
	 * their delivery's place in queue, so that the retention sweep reads
	 * only rows past their own agreement's retention and asks queue by
	 * primary key whether a delivery is pending (purge.c; the sweep over
	 * messages_held took the oldest 256 past the shortest retention, and
	 * was starved by rows kept longer). A table, not new columns of
	 * messages: filling columns would rewrite every held payload in this
	 * one transaction, and columns after the envelope are read through
	 * its overflow pages. The agreement of a payload held before version
	 * 9 is in its case record, which SQL cannot read: those are filed
	 * under '?' (never an agreement id) and purge.c files them once they
	 * are past the shortest retention. The second INSERT covers a held
	 * payload without a queue row, which would never be purged if left
	 * out.
	 */
	{ "CREATE TABLE held("
	  " agreement TEXT NOT NULL,"
	  " accepted_ms INTEGER NOT NULL,"
	  " message_id BLOB NOT NULL REFERENCES messages(id),"
	  " recipient TEXT NOT NULL,"
	  " seq INTEGER,"
	  " PRIMARY KEY(agreement, accepted_ms, message_id)) WITHOUT ROWID;"
	  "INSERT OR IGNORE INTO held SELECT '?', m.accepted_ms, m.id,"
	  " m.recipient, q.seq FROM queue q JOIN messages m"
	  " ON m.id = q.message_id WHERE m.envelope IS NOT NULL;"
	  "INSERT OR IGNORE INTO held SELECT '?', accepted_ms, id, recipient,"
	  " NULL FROM messages WHERE envelope IS NOT NULL;"
	  "DROP INDEX messages_held;" },
	/*
	 * version 10: no index of queue by (recipient, state). A row is
	 * pending exactly when its seq is past the recipient's acked_seq
	 * (check.c holds the store to it), so every reader finds the pending
	 * rows by primary-key range; the index only cost two updates per
	 * row, at insert and at ack, and its pages in every commit.
	 */
	{ "DROP INDEX IF EXISTS queue_pending;" },
};

_Static_assert(ST_COUNT_ <= 32, "struct store holds 32 statements");

static const char *const sql[ST_COUNT_] = {
	[ST_AGENT_GET] = "SELECT sign_pub, next_seq, acked_seq FROM agents"
	    " WHERE id = ?1",
	[ST_AGENT_PUT] = "INSERT INTO agents(id, country, role, sign_cert,"
	    " enc_cert, sign_pub, registered_ms) VALUES(?1,?2,?3,?4,?5,?6,?7)"
	    " ON CONFLICT(id) DO UPDATE SET role = excluded.role,"
	    " sign_cert = excluded.sign_cert, enc_cert = excluded.enc_cert,"
	    " sign_pub = excluded.sign_pub",
	[ST_AGENT_SEQ] = "SELECT next_seq, acked_seq FROM agents WHERE id = ?1",
	[ST_AGENT_NEXT] = "UPDATE agents SET next_seq = next_seq + 1"
	    " WHERE id = ?1 RETURNING next_seq - 1",
	[ST_AGENT_ACKED] = "UPDATE agents SET acked_seq = ?2 WHERE id = ?1"
	    " AND acked_seq < ?2",
	[ST_AGENT_SEEN] = "UPDATE agents SET last_seen_ms = ?2 WHERE id = ?1",
	[ST_MSG_GET] = "SELECT hash FROM messages WHERE id = ?1",
	[ST_MSG_PUT] = "INSERT INTO messages(id, sender, recipient, type,"
	    " created_ms, expires_ms, accepted_ms, hash, envelope, relay,"
	    " audit_idx) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	[ST_Q_PUT] = "INSERT INTO queue(recipient, seq, kind, message_id,"
	    " notice, accepted_ms, expires_ms) VALUES(?1,?2,?3,?4,?5,?6,?7)",
	[ST_Q_GET] = "SELECT q.kind, q.notice, q.accepted_ms, m.envelope"
	    " FROM queue q LEFT JOIN messages m ON m.id = q.message_id"
	    " WHERE q.recipient = ?1 AND q.seq = ?2",
	[ST_Q_RANGE] = "SELECT q.seq, q.kind, q.message_id, m.sender, m.type"
	    " FROM queue q LEFT JOIN messages m ON m.id = q.message_id"
	    " WHERE q.recipient = ?1 AND q.seq > ?2 AND q.seq <= ?3"
	    " AND q.state = 0 ORDER BY q.seq",
	[ST_Q_DELIVERED] = "UPDATE queue SET state = 1 WHERE recipient = ?1"
	    " AND seq > ?2 AND seq <= ?3 AND state = 0",
	[ST_Q_EXPIRED] = "SELECT q.recipient, q.seq, q.message_id, m.sender,"
	    " m.type FROM queue q JOIN messages m ON m.id = q.message_id"
	    " WHERE q.state = 0 AND q.kind = 0 AND q.expires_ms <= ?1"
	    " ORDER BY q.expires_ms LIMIT 256",
	[ST_Q_TO_NOTICE] = "UPDATE queue SET kind = 1, notice = ?3"
	    " WHERE recipient = ?1 AND seq = ?2",
	[ST_AUDIT_PUT] = "INSERT INTO audit(idx, entry, leaf_hash)"
	    " VALUES(?1,?2,?3)",
	[ST_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	[ST_META_PUT] = "INSERT OR REPLACE INTO meta(name, value) VALUES(?1,?2)",
	[ST_AGENT_ALL] = "SELECT sign_cert, enc_cert FROM agents ORDER BY id",
	[ST_AGENT_IDENT] = "SELECT country, role FROM agents WHERE id = ?1",
	[ST_CASE_GET] = "SELECT record FROM cases WHERE case_ref = ?1",
	[ST_CASE_PUT] = "INSERT OR REPLACE INTO cases(case_ref, record,"
	    " updated_ms, next_due_ms) VALUES(?1,?2,?3,?4)",
	/* prepared once: each submit runs in its own savepoint */
	[ST_SAVEPOINT] = "SAVEPOINT cmd",
	[ST_RELEASE] = "RELEASE cmd",
	[ST_ROLLBACK_TO] = "ROLLBACK TO cmd",
	[ST_HELD_PUT] = "INSERT INTO held(agreement, accepted_ms, message_id,"
	    " recipient, seq) VALUES(?1,?2,?3,?4,?5)",
};

/*
 * The start-up check (DESIGN.md §9: only what is fast): the first and the
 * last entry of every table, and of every index, which walks the root
 * and the leftmost and rightmost pages of each b-tree. A file cut short
 * loses its last pages and a damaged root page breaks every read, so both
 * are refused here, with SQLite's own sentence, instead of being served.
 * `repat-broker check` reads every page.
 */
static int
probe_edges(sqlite3 *db, const char *query, const char *name, bool index,
    char *errbuf)
{
	sqlite3_stmt *s = NULL;
	int rc;

	/* A partial index cannot be forced without its WHERE: not damage. */
	if (sqlite3_prepare_v2(db, query, -1, &s, NULL) != SQLITE_OK && index)
		return REPAT_OK;
	if (s == NULL)
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s: %s", name,
		    sqlite3_errmsg(db));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s: %s; run "
		    "repat-broker check, then restore from a backup", name,
		    sqlite3_errstr(rc));
	return REPAT_OK;
}

/* True for a table with rowids (not WITHOUT ROWID). */
static bool
has_rowid(sqlite3 *db, const char *table)
{
	sqlite3_stmt *s = NULL;
	char *q = sqlite3_mprintf("SELECT rowid FROM \"%w\" LIMIT 0", table);
	bool yes = sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK;

	sqlite3_finalize(s);
	sqlite3_free(q);
	return yes;
}

static int
quick_check(sqlite3 *db, char *errbuf)
{
	sqlite3_stmt *s;
	char *q;
	const char *name, *tbl;
	bool index;
	int rc = REPAT_OK, step;

	if (sqlite3_prepare_v2(db, "SELECT type, name, tbl_name FROM "
	    "sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE "
	    "'sqlite_%'", -1, &s, NULL) != SQLITE_OK)
		return repat_errf(errbuf, REPAT_ECORRUPT, "the schema does not "
		    "read: %s", sqlite3_errmsg(db));
	while (rc == REPAT_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		index = strcmp((const char *)sqlite3_column_text(s, 0),
		    "index") == 0;
		name = (const char *)sqlite3_column_text(s, 1);
		tbl = (const char *)sqlite3_column_text(s, 2);
		/* INDEXED BY makes SQLite walk that very b-tree. */
		if (index)
			q = sqlite3_mprintf("SELECT 1 FROM \"%w\" INDEXED BY "
			    "\"%w\" LIMIT 1", tbl, name);
		else if (has_rowid(db, name))
			q = sqlite3_mprintf("SELECT * FROM (SELECT * FROM "
			    "\"%w\" ORDER BY rowid LIMIT 1) UNION ALL SELECT * "
			    "FROM (SELECT * FROM \"%w\" ORDER BY rowid DESC "
			    "LIMIT 1)", name, name);
		else
			q = sqlite3_mprintf("SELECT * FROM \"%w\" LIMIT 1",
			    name);
		rc = probe_edges(db, q, name, index, errbuf);
		sqlite3_free(q);
	}
	if (rc == REPAT_OK && step != SQLITE_DONE)
		rc = repat_errf(errbuf, REPAT_ECORRUPT, "the schema does not "
		    "read: %s", sqlite3_errstr(step));
	sqlite3_finalize(s);
	return rc;
}

int
store_open(struct store *st, const char *path, char *errbuf)
{
	int rc, i;

	memset(st, 0, sizeof(*st));
	rc = repat_db_open(path, migrations, BROKER_SCHEMA_VERSION,
	    REPAT_DB_NO_AUTOCHECKPOINT, &st->db, errbuf);
	if (rc != 0)
		return rc;
	rc = repat_db_open(path, migrations, BROKER_SCHEMA_VERSION,
	    REPAT_DB_NO_AUTOCHECKPOINT, &st->ckpt, errbuf);
	if (rc != 0) {
		store_close(st);
		return rc;
	}
	/*
	 * 16 MB of pages instead of SQLite's 2 MB: the messages' id index
	 * is written at random places and envelopes are read back for
	 * delivery soon after they were written; both then come from memory.
	 */
	if ((rc = repat_db_exec(st->db, "PRAGMA cache_size = -16384",
	    errbuf)) != 0 || (rc = quick_check(st->db, errbuf)) != 0) {
		store_close(st);
		return rc;
	}
	for (i = 0; i < ST_COUNT_; i++)
		st->st[i] = repat_db_prepare(st->db, sql[i]);
	return REPAT_OK;
}

void
store_close(struct store *st)
{
	int i;

	walckpt_stop(&st->wal);
	for (i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(st->st[i]);
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	if (st->ckpt != NULL)
		sqlite3_close_v2(st->ckpt);
	memset(st, 0, sizeof(*st));
}

sqlite3_stmt *
store_stmt(struct store *st, int i)
{
	sqlite3_stmt *s = st->st[i];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int
store_begin(struct store *st)
{
	char errbuf[REPAT_ERRBUF_LEN];
	int rc;

	if (st->in_tx)
		return REPAT_OK;
	rc = repat_db_exec(st->db, "BEGIN IMMEDIATE", errbuf);
	if (rc != 0) {
		repat_log_warnx("store: begin: %s", errbuf);
		return rc;
	}
	st->in_tx = true;
	return REPAT_OK;
}

int
store_commit(struct store *st, char *errbuf)
{
	int rc;

	if (!st->in_tx)
		return REPAT_OK;
	rc = repat_db_exec(st->db, "COMMIT", errbuf);
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	st->in_tx = false;
	walckpt_catch_up(&st->wal);
	return REPAT_OK;
}

void
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
}

int
store_savepoint(struct store *st)
{
	/*
	 * SQLite may roll the whole transaction back by itself on
	 * SQLITE_FULL, IOERR, BUSY or NOMEM. A SAVEPOINT then would open a
	 * new transaction that its RELEASE commits alone, behind the
	 * group's back (its audit leaves would be dropped from memory while
	 * on disk). Refuse: the group's COMMIT fails and nothing of it is
	 * answered, so clients resend.
	 */
	if (st->in_tx && sqlite3_get_autocommit(st->db)) {
		repat_log_warnx("store: the transaction was rolled back by "
		    "SQLite; dropping the rest of the group");
		return REPAT_EDB;
	}
	return repat_db_step_done(store_stmt(st, ST_SAVEPOINT));
}

void
store_release(struct store *st)
{
	(void)repat_db_step_done(store_stmt(st, ST_RELEASE));
}

void
store_rollback_to(struct store *st)
{
	(void)repat_db_step_done(store_stmt(st, ST_ROLLBACK_TO));
	(void)repat_db_step_done(store_stmt(st, ST_RELEASE));
}

int
store_meta_get(struct store *st, const char *name, uint8_t **out,
    size_t *len)
{
	sqlite3_stmt *s = store_stmt(st, ST_META_GET);
	int n;

	*out = NULL;
	*len = 0;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return REPAT_ENOENT;
	}
	n = sqlite3_column_bytes(s, 0);
	*out = repat_xmalloc((size_t)n + 1);
	if (n > 0)
		memcpy(*out, sqlite3_column_blob(s, 0), (size_t)n);
	*len = (size_t)n;
	sqlite3_reset(s);
	return REPAT_OK;
}

int
store_meta_put(struct store *st, const char *name, const uint8_t *v,
    size_t len)
{
	sqlite3_stmt *s = store_stmt(st, ST_META_PUT);

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, v, (int)len, SQLITE_STATIC);
	return repat_db_step_done(s);
}

int
store_agent_get(struct store *st, const char *id, struct agent_row *a)
{
	sqlite3_stmt *s = store_stmt(st, ST_AGENT_GET);

	memset(a, 0, sizeof(*a));
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return REPAT_ENOENT;
	}
	snprintf(a->id, sizeof(a->id), "%s", id);
	if (sqlite3_column_bytes(s, 0) == 32)
		memcpy(a->sign_pub, sqlite3_column_blob(s, 0), 32);
	a->next_seq = (uint64_t)sqlite3_column_int64(s, 1);
	a->acked_seq = (uint64_t)sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return REPAT_OK;
}

int
store_agent_put(struct store *st, const struct repat_identity *id,
    const uint8_t *sign_der, size_t sign_len, const uint8_t *enc_der,
    size_t enc_len, const uint8_t pub[32], uint64_t now_ms, bool *created)
{
	struct agent_row a;
	sqlite3_stmt *s;

	*created = store_agent_get(st, id->agent_id, &a) == REPAT_ENOENT;
	s = store_stmt(st, ST_AGENT_PUT);
	sqlite3_bind_text(s, 1, id->agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id->country, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, id->role);
	sqlite3_bind_blob(s, 4, sign_der, (int)sign_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, enc_der, (int)enc_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, pub, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)now_ms);
	return repat_db_step_done(s);
}

int
store_next_seq(struct store *st, const char *recipient, uint64_t *seq)
{
	sqlite3_stmt *s = store_stmt(st, ST_AGENT_NEXT);
	int rc;

	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? REPAT_ENOENT : repat_db_err(rc);
	}
	*seq = (uint64_t)sqlite3_column_int64(s, 0);
	/* RETURNING: the row change happens when the statement completes. */
	return repat_db_step_done(s);
}

int
store_agent_identity(struct store *st, const char *id,
    struct repat_identity *out)
{
	sqlite3_stmt *s = store_stmt(st, ST_AGENT_IDENT);
	const char *cc;

	memset(out, 0, sizeof(*out));
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return REPAT_ENOENT;
	}
	snprintf(out->agent_id, sizeof(out->agent_id), "%s", id);
	cc = (const char *)sqlite3_column_text(s, 0);
	snprintf(out->country, sizeof(out->country), "%s", cc ? cc : "");
	out->role = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return REPAT_OK;
}

int
store_case_get(struct store *st, const char *case_ref, struct repat_case *c)
{
	sqlite3_stmt *s = store_stmt(st, ST_CASE_GET);
	char err[REPAT_ERRBUF_LEN];
	int rc;

	memset(c, 0, sizeof(*c));
	sqlite3_bind_text(s, 1, case_ref, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return REPAT_ENOENT;
	}
	rc = repat_case_decode(sqlite3_column_blob(s, 0),
	    (size_t)sqlite3_column_bytes(s, 0), c, err);
	sqlite3_reset(s);
	if (rc != 0)	/* err may quote the record: not logged */
		repat_log_warnx("store: a stored case does not decode (%s); "
		    "run repat-broker check", repat_strerror(rc));
	return rc;
}

int
store_case_put(struct store *st, const struct repat_case *c)
{
	sqlite3_stmt *s = store_stmt(st, ST_CASE_PUT);
	uint64_t due;
	uint8_t *buf;
	size_t len;
	int rc;

	repat_case_encode(c, &buf, &len);
	sqlite3_bind_text(s, 1, c->case_ref, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, buf, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)c->updated_ms);
	if ((due = repat_case_next_due(c)) != 0)
		sqlite3_bind_int64(s, 4, (sqlite3_int64)due);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(buf);
	return rc == SQLITE_DONE ? REPAT_OK : repat_db_err(rc);
}
