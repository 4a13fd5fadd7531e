/*
 * audit.c: the broker's audit log (DESIGN.md §8).
 *
 * Every decision becomes an AuditEntry, serialized and stored with its
 * RFC 9162 leaf hash in the same transaction as the decision itself, so
 * the log and the queue never disagree after a crash. The in-memory
 * frontier (merkle.h) only ever holds committed leaves: entries of the
 * open transaction wait in `pending` and join the tree after COMMIT, and
 * a savepoint or transaction rollback drops them.
 *
 * Case references appear only as HMAC-SHA256 under a random key kept in
 * the meta table, so the log can be shown to an auditor without naming a
 * case. TODO: signed C2SP checkpoints every N entries or T seconds (the
 * audit/checkpoint work), kept outside the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "broker.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"

static int
count_entries(sqlite3 *db, uint64_t *n)
{
	sqlite3_stmt *s;
	int rc;

	s = repat_db_prepare(db, "SELECT count(*), coalesce(max(idx), -1)"
	    " FROM audit");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(s, 0);
		if (sqlite3_column_int64(s, 1) + 1 != (sqlite3_int64)*n)
			rc = SQLITE_CORRUPT;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? REPAT_OK : REPAT_ECORRUPT;
}

/*
 * Start-up without reading every leaf: the frontier stored at the latest
 * checkpoint gives the tree at that size (its root is then compared with
 * the signed checkpoint by checkpoint_open), and only the entries written
 * since are read, each checked against its leaf hash (DESIGN.md §9: the
 * audit tail since the last checkpoint).
 */
static int
restore_tree(struct audit *a, sqlite3 *db, uint64_t n)
{
	uint8_t frontier[REPAT_MERKLE_MAX_FRONTIER][REPAT_MERKLE_HASH_LEN], h[32];
	sqlite3_stmt *s;
	const uint8_t *entry;
	uint64_t size = 0, want;
	size_t len = 0;
	int rc;

	s = repat_db_prepare(db, "SELECT size, hashes FROM frontiers"
	    " WHERE size <= ?1 ORDER BY size DESC LIMIT 1");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)n);
	if (sqlite3_step(s) == SQLITE_ROW) {
		size = (uint64_t)sqlite3_column_int64(s, 0);
		len = (size_t)sqlite3_column_bytes(s, 1);
		if (len % 32 == 0 && len / 32 <= REPAT_MERKLE_MAX_FRONTIER)
			memcpy(frontier, sqlite3_column_blob(s, 1), len);
	}
	sqlite3_finalize(s);
	if (size == 0 || len % 32 != 0 || repat_merkle_tree_restore(size,
	    (const uint8_t (*)[32])frontier, len / 32, &a->tree) != 0)
		return repat_audit_db_tree(db, n, &a->tree);
	a->base_size = size;
	repat_merkle_tree_root(a->tree, a->base_root);
	s = repat_db_prepare(db, "SELECT idx, entry, leaf_hash FROM audit"
	    " WHERE idx >= ?1 ORDER BY idx");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)size);
	rc = REPAT_OK;
	for (want = size; rc == REPAT_OK && sqlite3_step(s) == SQLITE_ROW;
	    want++) {
		entry = sqlite3_column_blob(s, 1);
		repat_merkle_leaf_hash(entry, (size_t)sqlite3_column_bytes(s, 1),
		    h);
		if ((uint64_t)sqlite3_column_int64(s, 0) != want ||
		    sqlite3_column_bytes(s, 2) != 32 ||
		    memcmp(h, sqlite3_column_blob(s, 2), 32) != 0)
			rc = REPAT_ECORRUPT;
		else
			rc = repat_merkle_tree_append(a->tree, h);
	}
	sqlite3_finalize(s);
	if (rc == REPAT_OK && want != n)
		rc = REPAT_ECORRUPT;
	return rc;
}

int
audit_open(struct audit *a, struct store *st, char *errbuf)
{
	uint8_t *key;
	size_t len;
	uint64_t n;
	int rc;

	memset(a, 0, sizeof(*a));
	if (store_meta_get(st, "audit_case_key", &key, &len) == 0 &&
	    len == 32) {
		memcpy(a->case_key, key, 32);
		repat_free_secret(key, len);
	} else {
		free(key);
		if (RAND_bytes(a->case_key, 32) != 1)
			return repat_err_openssl(errbuf, REPAT_ECRYPTO);
		if ((rc = store_meta_put(st, "audit_case_key", a->case_key,
		    32)) != 0)
			return repat_errf(errbuf, rc, "audit: cannot store key");
	}
	if (count_entries(st->db, &n) != 0)
		return repat_errf(errbuf, REPAT_ECORRUPT,
		    "audit: entry indexes are not contiguous; run "
		    "repat-broker check");
	if ((rc = restore_tree(a, st->db, n)) != 0)
		return repat_errf(errbuf, rc, "audit: the entries since the "
		    "last checkpoint do not match their leaf hashes; run "
		    "repat-broker check");
	a->next = a->committed = n;
	return REPAT_OK;
}

void
audit_close(struct audit *a)
{
	repat_merkle_tree_destroy(&a->tree);
	free(a->pending);
	repat_wipe(a->case_key, sizeof(a->case_key));
	memset(a, 0, sizeof(*a));
}

int
audit_append(struct audit *a, struct store *st, Repat__AuditEntry *e,
    uint64_t now_ms)
{
	sqlite3_stmt *s;
	uint8_t *buf;
	size_t len;
	int rc;

	e->index = a->next;
	e->time_ms = now_ms;
	repat_encode(&e->base, &buf, &len);
	if (a->npending == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		a->pending = repat_xrealloc(a->pending, a->cap * 32);
	}
	repat_merkle_leaf_hash(buf, len, a->pending[a->npending]);
	s = store_stmt(st, ST_AUDIT_PUT);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)e->index);
	sqlite3_bind_blob(s, 2, buf, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, a->pending[a->npending], 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(buf);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	a->npending++;
	a->next++;
	return REPAT_OK;
}

void
audit_case_hash(const struct audit *a, const char *case_ref, uint8_t out[32])
{
	unsigned int n = 32;

	if (HMAC(EVP_sha256(), a->case_key, 32, (const uint8_t *)case_ref,
	    strlen(case_ref), out, &n) == NULL)
		repat_fatalx("audit: HMAC failed");
}

void
audit_committed(struct audit *a)
{
	size_t i;

	for (i = 0; i < a->npending; i++)
		if (repat_merkle_tree_append(a->tree, a->pending[i]) != 0)
			repat_fatalx("audit: tree full");
	a->npending = 0;
	a->committed = a->next;
}

void
audit_rolled_back(struct audit *a)
{
	a->npending = 0;
	a->next = a->committed;
}

uint64_t
audit_mark(const struct audit *a)
{
	return a->next;
}

void
audit_rewind(struct audit *a, uint64_t mark)
{
	a->next = mark;
	a->npending = (size_t)(mark - a->committed);
}
