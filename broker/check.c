/*
 * check.c: `repat-broker check -c FILE`, the full check of a broker's
 * database, read-only and safe while the broker runs (one read
 * transaction). In order, stopping at the first problem found, which it
 * names:
 *
 *   1. PRAGMA integrity_check: every page and index of the file;
 *   2. the audit log recomputed (entries, Merkle tree, every signed
 *      checkpoint and the one kept beside the database), with the same
 *      code as `repat audit verify`, so operator and auditor agree;
 *   3. the accepted messages against the audit log (check_messages);
 *   4. every delivery stream without holes, each row delivered exactly
 *      when acknowledged;
 *   5. every payload still held listed once for the retention sweep.
 *
 * Steps 1 and 2 catch damage to the file and to the log; steps 3 and 4
 * catch what a hand with the sqlite3 CLI can do to well-formed rows that
 * the log does not cover by itself: an envelope altered, a message row
 * deleted, one slipped in, its sender, recipient or type rewritten, a
 * payload dropped without a purge, a message marked delivered that its
 * recipient never acknowledged.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "broker.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/mem.h"
#include "repat/pki.h"

/*
 * Every stream 1..next_seq-1 has exactly its rows, and a row is marked
 * delivered exactly when the recipient acknowledged it: an ack marks
 * every row up to its number in the same transaction (deliver.c).
 */
static int
check_streams(sqlite3 *db, char *err)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = repat_db_prepare(db, "SELECT a.id, a.next_seq - 1,"
	    " (SELECT count(*) FROM queue q WHERE q.recipient = a.id),"
	    " (SELECT coalesce(max(seq), 0) FROM queue q"
	    "   WHERE q.recipient = a.id), a.acked_seq FROM agents a");
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 1) != sqlite3_column_int64(st, 2) ||
		    sqlite3_column_int64(st, 1) != sqlite3_column_int64(st, 3) ||
		    sqlite3_column_int64(st, 4) > sqlite3_column_int64(st, 1))
			rc = repat_errf(err, REPAT_ECORRUPT, "the delivery "
			    "stream of %s has a hole or extra rows",
			    (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != 0)
		return rc;
	st = repat_db_prepare(db, "SELECT q.recipient, q.seq, q.state,"
	    " a.acked_seq FROM queue q JOIN agents a ON a.id = q.recipient"
	    " WHERE (q.state = 1) != (q.seq <= a.acked_seq)"
	    " OR q.state NOT IN (0, 1) LIMIT 1");
	if (sqlite3_step(st) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 2);

		rc = repat_errf(err, REPAT_ECORRUPT, "seq %lld of %s's stream "
		    "is marked %s (state %d), and %s acknowledged up to %lld",
		    sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 0),
		    state == 1 ? "delivered" : state == 0 ? "pending" :
		    "neither pending nor delivered", state,
		    (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 3));
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Every payload still held has one row in held, with the message's time
 * and recipient and, when known, its own place in queue: the retention
 * sweep reads only held (purge.c), so a payload missing there would be
 * kept forever, and a wrong seq could purge one not yet delivered.
 */
static int
check_held(sqlite3 *db, char *err)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = repat_db_prepare(db, "SELECT"
	    " (SELECT count(*) FROM messages WHERE envelope IS NOT NULL),"
	    " (SELECT count(*) FROM held),"
	    " (SELECT count(DISTINCT message_id) FROM held),"
	    " (SELECT count(*) FROM held h LEFT JOIN messages m"
	    "   ON m.id = h.message_id WHERE m.envelope IS NULL"
	    "   OR m.accepted_ms IS NOT h.accepted_ms"
	    "   OR m.recipient IS NOT h.recipient"
	    "   OR (h.seq IS NOT NULL AND NOT EXISTS (SELECT 1 FROM queue q"
	    "   WHERE q.recipient = h.recipient AND q.seq = h.seq"
	    "   AND q.message_id = h.message_id)))");
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = repat_errf(err, REPAT_ECORRUPT, "held: %s",
		    sqlite3_errmsg(db));
	else if (sqlite3_column_int64(st, 0) != sqlite3_column_int64(st, 1) ||
	    sqlite3_column_int64(st, 1) != sqlite3_column_int64(st, 2) ||
	    sqlite3_column_int64(st, 3) != 0)
		rc = repat_errf(err, REPAT_ECORRUPT, "held lists %lld rows for "
		    "%lld payloads held, %lld of them wrong; the retention "
		    "sweep would miss payloads",
		    (long long)sqlite3_column_int64(st, 1),
		    (long long)sqlite3_column_int64(st, 0),
		    (long long)sqlite3_column_int64(st, 3));
	sqlite3_finalize(st);
	return rc;
}

static int
check_audit(const struct broker_config *cfg, sqlite3 *db, char *err)
{
	struct repat_note_verifier key;
	struct repat_audit_report r;
	X509 *cert = NULL;
	char *file;
	int rc;

	if ((rc = repat_cert_load(cfg->sign_cert, &cert, err)) != 0)
		return rc;
	rc = repat_audit_broker_key(cert, &key, err);
	X509_free(cert);
	if (rc != 0)
		return rc;
	file = repat_xasprintf("%s.checkpoint", cfg->database);
	memset(&r, 0, sizeof(r));
	rc = repat_audit_verify_db(db, &key, access(file, F_OK) == 0 ? file :
	    NULL, &r);
	free(file);
	if (rc != 0)
		return repat_errf(err, rc, "audit log: %s", r.why);
	printf("audit log: %llu entries, %llu checkpoints verified\n",
	    (unsigned long long)r.entries, (unsigned long long)r.checkpoints);
	return 0;
}

/* The message id of column col as hex, for naming a row. */
static const char *
column_id(sqlite3_stmt *st, int col, char hex[33])
{
	if (sqlite3_column_bytes(st, col) != 16)
		return "(an id that is not 16 bytes)";
	return repat_hex(sqlite3_column_blob(st, col), 16, hex);
}

/* True when column col of st is the text want (NULL matches NULL). */
static bool
column_is(sqlite3_stmt *st, int col, const char *want)
{
	const char *have = (const char *)sqlite3_column_text(st, col);

	if (have == NULL || want == NULL)
		return have == want;
	return strcmp(have, want) == 0;
}

/*
 * One AUDIT_ACCEPTED entry against the messages table: the message it
 * names is stored, with the content hash, sender, recipient and type the
 * entry recorded. The log is verified before this runs, so the entry is
 * the reference.
 */
static int
check_accepted(sqlite3_stmt *find, const Repat__AuditEntry *e, char *err)
{
	char hex[33];
	int rc = REPAT_OK;

	if (!e->has_message_id || e->message_id.len != 16 ||
	    !e->has_content_hash || e->content_hash.len != 32)
		return repat_errf(err, REPAT_ECORRUPT, "audit entry %llu "
		    "accepts a message without an id or a hash",
		    (unsigned long long)e->index);
	repat_hex(e->message_id.data, 16, hex);
	sqlite3_bind_blob(find, 1, e->message_id.data, 16, SQLITE_STATIC);
	if (sqlite3_step(find) != SQLITE_ROW)
		rc = repat_errf(err, REPAT_ECORRUPT, "message %s, accepted in "
		    "audit entry %llu, is not stored (its row was deleted)",
		    hex, (unsigned long long)e->index);
	else if (sqlite3_column_bytes(find, 0) != 32 ||
	    memcmp(sqlite3_column_blob(find, 0), e->content_hash.data,
	    32) != 0)
		rc = repat_errf(err, REPAT_ECORRUPT, "message %s: its stored "
		    "hash is not the one audit entry %llu accepted", hex,
		    (unsigned long long)e->index);
	else if (sqlite3_column_type(find, 1) != SQLITE_NULL &&
	    (uint64_t)sqlite3_column_int64(find, 1) != e->index)
		rc = repat_errf(err, REPAT_ECORRUPT, "message %s points at "
		    "audit entry %lld, but was accepted in entry %llu", hex,
		    sqlite3_column_int64(find, 1),
		    (unsigned long long)e->index);
	else if (!column_is(find, 2, e->sender) ||
	    !column_is(find, 3, e->recipient) ||
	    (e->has_type && sqlite3_column_int(find, 4) != (int)e->type))
		rc = repat_errf(err, REPAT_ECORRUPT, "message %s: its stored "
		    "sender, recipient or type is not what audit entry %llu "
		    "accepted", hex, (unsigned long long)e->index);
	sqlite3_reset(find);
	return rc;
}

/* What the walk of the log gathers for the checks of the rows. */
struct log_facts {
	uint64_t accepted;		/* AUDIT_ACCEPTED entries */
	uint8_t (*purged)[16];		/* ids of AUDIT_PURGED entries */
	size_t npurged;
	size_t cap;
};

static void
add_purged(struct log_facts *lf, const Repat__AuditEntry *e)
{
	if (!e->has_message_id || e->message_id.len != 16)
		return;
	if (lf->npurged == lf->cap) {
		lf->cap = lf->cap ? lf->cap * 2 : 256;
		lf->purged = repat_xrealloc(lf->purged, lf->cap * 16);
	}
	memcpy(lf->purged[lf->npurged++], e->message_id.data, 16);
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/*
 * Each acceptance in the log has its message row; counts the acceptances
 * and gathers the purges, sorted, into lf.
 */
static int
check_log_to_rows(sqlite3 *db, struct log_facts *lf, char *err)
{
	Repat__AuditEntry *e;
	sqlite3_stmt *entries, *find;
	int rc = REPAT_OK;

	entries = repat_db_prepare(db, "SELECT entry FROM audit ORDER BY idx");
	find = repat_db_prepare(db, "SELECT hash, audit_idx, sender,"
	    " recipient, type FROM messages WHERE id = ?1");
	while (rc == 0 && sqlite3_step(entries) == SQLITE_ROW) {
		if (REPAT_DECODE(Repat__AuditEntry, audit_entry,
		    sqlite3_column_blob(entries, 0),
		    (size_t)sqlite3_column_bytes(entries, 0), REPAT_MAX_FRAME,
		    &e) != 0) {
			rc = repat_errf(err, REPAT_ECORRUPT, "an audit entry "
			    "does not decode");
			break;
		}
		if (e->kind == REPAT__AUDIT_KIND__AUDIT_ACCEPTED) {
			rc = check_accepted(find, e, err);
			lf->accepted++;
		} else if (e->kind == REPAT__AUDIT_KIND__AUDIT_PURGED) {
			add_purged(lf, e);
		}
		repat_msg_free(e);
	}
	sqlite3_finalize(entries);
	sqlite3_finalize(find);
	if (lf->npurged > 0)
		qsort(lf->purged, lf->npurged, 16, cmp_id);
	return rc;
}

/* Each payload gone was purged by the broker, which audits every purge. */
static int
check_purged(sqlite3 *db, const struct log_facts *lf, char *err)
{
	sqlite3_stmt *st;
	char hex[33];
	int rc = REPAT_OK;

	st = repat_db_prepare(db, "SELECT id FROM messages"
	    " WHERE envelope IS NULL");
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) == 16 && lf->npurged > 0 &&
		    bsearch(sqlite3_column_blob(st, 0), lf->purged,
		    lf->npurged, 16, cmp_id) != NULL)
			continue;
		rc = repat_errf(err, REPAT_ECORRUPT, "message %s: its "
		    "envelope is gone, but the audit log records no purge of "
		    "it", column_id(st, 0, hex));
	}
	sqlite3_finalize(st);
	return rc;
}

/* Each held envelope still hashes to the hash it was accepted with. */
static int
check_envelopes(sqlite3 *db, char *err)
{
	sqlite3_stmt *st;
	uint8_t h[32];
	char hex[33];
	int rc = REPAT_OK;

	st = repat_db_prepare(db, "SELECT id, hash, envelope FROM messages"
	    " WHERE envelope IS NOT NULL");
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (EVP_Digest(sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), h, NULL, EVP_sha256(),
		    NULL) != 1)
			rc = repat_errf(err, REPAT_ECRYPTO, "SHA-256 failed");
		else if (sqlite3_column_bytes(st, 1) != 32 ||
		    memcmp(sqlite3_column_blob(st, 1), h, 32) != 0)
			rc = repat_errf(err, REPAT_ECORRUPT, "message %s: its "
			    "stored envelope was altered (its SHA-256 is not "
			    "the accepted one)", column_id(st, 0, hex));
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Every message in a stream is stored, and one still waiting for its
 * recipient still holds its envelope (purge.c never takes those).
 */
static int
check_waiting(sqlite3 *db, char *err)
{
	sqlite3_stmt *st;
	char hex[33];
	int rc = REPAT_OK;

	st = repat_db_prepare(db, "SELECT q.recipient, q.seq, q.message_id,"
	    " m.id IS NULL FROM queue q LEFT JOIN messages m"
	    " ON m.id = q.message_id WHERE q.kind = 0 AND (m.id IS NULL"
	    " OR (q.state = 0 AND m.envelope IS NULL)) LIMIT 1");
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = repat_errf(err, REPAT_ECORRUPT, "message %s, seq %lld of "
		    "%s's stream, %s", column_id(st, 2, hex),
		    sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 3) ? "is not stored" :
		    "waits for delivery but its envelope is gone");
	sqlite3_finalize(st);
	return rc;
}

/*
 * The accepted messages against the audit log, both ways: every
 * acceptance has its row with the same hash, and there are no other rows
 * (ids are unique, so equal counts mean one row per acceptance); every
 * payload gone was purged.
 */
static int
check_messages(sqlite3 *db, char *err)
{
	struct log_facts lf;
	sqlite3_stmt *st;
	uint64_t stored = 0;
	int rc;

	memset(&lf, 0, sizeof(lf));
	if ((rc = check_log_to_rows(db, &lf, err)) != 0)
		goto out;
	st = repat_db_prepare(db, "SELECT count(*) FROM messages");
	if (sqlite3_step(st) == SQLITE_ROW)
		stored = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (stored != lf.accepted) {
		rc = repat_errf(err, REPAT_ECORRUPT, "%llu messages are "
		    "stored but the audit log accepted %llu: rows were added "
		    "outside the broker", (unsigned long long)stored,
		    (unsigned long long)lf.accepted);
		goto out;
	}
	if ((rc = check_envelopes(db, err)) != 0 ||
	    (rc = check_waiting(db, err)) != 0 ||
	    (rc = check_purged(db, &lf, err)) != 0)
		goto out;
	printf("messages: %llu accepted, each stored as accepted, %zu "
	    "purges\n", (unsigned long long)lf.accepted, lf.npurged);
out:
	free(lf.purged);
	return rc;
}

int
ops_check(const char *conf)
{
	struct broker_config cfg;
	char err[REPAT_ERRBUF_LEN];
	sqlite3 *db = NULL;
	int rc;

	if ((rc = broker_config_load(conf, &cfg, err)) != 0) {
		fprintf(stderr, "repat-broker check: %s\n", err);
		return 1;
	}
	rc = repat_db_open(cfg.database, NULL, BROKER_SCHEMA_VERSION,
	    REPAT_DB_READONLY, &db, err);
	if (rc == 0)
		(void)sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc == 0)
		rc = repat_db_integrity_check(db, err);
	if (rc == 0)
		rc = check_audit(&cfg, db, err);
	if (rc == 0)
		rc = check_messages(db, err);
	if (rc == 0)
		rc = check_streams(db, err);
	if (rc == 0)
		rc = check_held(db, err);
	if (db != NULL)
		sqlite3_close_v2(db);
	if (rc != 0)
		fprintf(stderr, "repat-broker check: %s: %s\n", cfg.database,
		    err);
	else
		printf("%s: ok\n", cfg.database);
	broker_config_clear(&cfg);
	return rc == 0 ? 0 : 1;
}
