/*
 * audit_verify_test.c: lib/audit_verify.c on real broker databases.
 *
 * Each test builds a broker.db through the broker's own store and audit
 * code (libbroker: store_open, audit_open, audit_append in transactions),
 * signs checkpoints over it with a fresh Ed25519 key (lib/note.c), stores
 * them as the broker does (checkpoints table and DATABASE.checkpoint),
 * then changes the database with plain SQL the way an attacker or a bad
 * restore would: a changed byte, a deleted entry, reordered entries, a
 * truncated log, a rehashed entry, forged and swapped checkpoints. Each is
 * detected and located. The agent's view (AGENTDIR/checkpoint) is checked
 * against a second, forked log built from the same start: the fork is
 * detected and AGENTDIR/AUDIT-ALARM raised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../broker/broker.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/note.h"

#define NENTRIES 40
#define ORIGIN "repat-broker/TH.BROKER"

struct fx {
	char dir[64];
	char db[96];
	char file[192];
	EVP_PKEY *key;
	repat_note_signer_t *signer;
	struct repat_note_verifier v;
	sqlite3 *h;		/* the database, read-write, for tampering */
};

static void
rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/*
 * Appends entries [from, to) to the log in db through the broker's code,
 * one transaction per 7 entries; variant changes the entries' contents
 * (a fork) from index fork_at on.
 */
static void
append_entries(struct store *st, struct audit *a, uint64_t to, int variant,
    uint64_t fork_at)
{
	Repat__AuditEntry e;
	uint8_t id[16], ch[32];
	char err[REPAT_ERRBUF_LEN];
	uint64_t i;

	assert_int_equal(store_begin(st), 0);
	for (i = a->committed; i < to; i++) {
		repat__audit_entry__init(&e);
		memset(id, 0, sizeof(id));
		id[0] = (uint8_t)i;
		id[15] = i >= fork_at ? (uint8_t)variant : 0;
		e.kind = i % 3 == 0 ? REPAT__AUDIT_KIND__AUDIT_ACCEPTED :
		    i % 3 == 1 ? REPAT__AUDIT_KIND__AUDIT_DELIVERED :
		    REPAT__AUDIT_KIND__AUDIT_REJECTED;
		e.has_message_id = 1;
		e.message_id.data = id;
		e.message_id.len = 16;
		e.sender = "TH.DATIP";
		e.recipient = "MM.DSW";
		e.has_type = 1;
		e.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE;
		audit_case_hash(a, "TH-2026-000123", ch);
		e.has_case_hash = 1;
		e.case_hash.data = ch;
		e.case_hash.len = 32;
		if (e.kind == REPAT__AUDIT_KIND__AUDIT_REJECTED) {
			e.has_code = 1;
			e.code = REPAT__REJECT_CODE__REJECT_NO_AGREEMENT;
		}
		assert_int_equal(audit_append(a, st, &e, 1700000000000ULL +
		    i), 0);
		if ((i + 1) % 7 == 0 || i + 1 == to) {
			assert_int_equal(store_commit(st, err), 0);
			audit_committed(a);
			if (i + 1 < to)
				assert_int_equal(store_begin(st), 0);
		}
	}
	if (st->in_tx) {
		assert_int_equal(store_commit(st, err), 0);
		audit_committed(a);
	}
}

/* Signs the committed tree and stores it like the broker (table, file). */
static void
checkpoint(struct fx *f, struct store *st, struct audit *a, bool file)
{
	char err[REPAT_ERRBUF_LEN], *note;
	uint8_t root[32];
	sqlite3_stmt *s;
	size_t len;

	repat_merkle_tree_root(a->tree, root);
	assert_int_equal(repat_checkpoint_sign(f->signer, a->committed, root,
	    &note, &len, err), 0);
	s = repat_db_prepare(st->db, "INSERT INTO checkpoints(size, root,"
	    " note, signed_ms) VALUES(?1, ?2, ?3, 0)");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)a->committed);
	sqlite3_bind_blob(s, 2, root, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, note, (int)len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	if (file)
		assert_int_equal(repat_file_write(f->file, note, len, 0600,
		    err), 0);
	free(note);
}

/* A log of NENTRIES entries with checkpoints at 8, 20 and 40. */
static void
build(struct fx *f, const char *db, const char *file, int variant,
    uint64_t fork_at, uint64_t n)
{
	char err[REPAT_ERRBUF_LEN];
	struct store st;
	struct audit a;

	assert_int_equal(store_open(&st, db, err), 0);
	assert_int_equal(audit_open(&a, &st, err), 0);
	append_entries(&st, &a, 8, variant, fork_at);
	checkpoint(f, &st, &a, false);
	append_entries(&st, &a, 20, variant, fork_at);
	checkpoint(f, &st, &a, false);
	append_entries(&st, &a, n, variant, fork_at);
	snprintf(f->file, sizeof(f->file), "%s", file);
	checkpoint(f, &st, &a, true);
	audit_close(&a);
	store_close(&st);
}

static int
setup(void **state)
{
	struct fx *f = repat_xcalloc(1, sizeof(*f));
	char err[REPAT_ERRBUF_LEN], file[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/repat-audit-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/broker.db", f->dir);
	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (f->key == NULL)
		return -1;
	f->signer = repat_note_signer_new(ORIGIN, f->key, err);
	if (f->signer == NULL)
		return -1;
	f->v = *repat_note_signer_verifier(f->signer);
	snprintf(file, sizeof(file), "%s.checkpoint", f->db);
	build(f, f->db, file, 0, UINT64_MAX, NENTRIES);
	if (sqlite3_open_v2(f->db, &f->h, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sqlite3_close_v2(f->h);
	repat_note_signer_destroy(&f->signer);
	EVP_PKEY_free(f->key);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void
sql(struct fx *f, const char *q)
{
	char *msg = NULL;

	if (sqlite3_exec(f->h, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
}

static int
verify(struct fx *f, struct repat_audit_report *r)
{
	return repat_audit_verify_db(f->h, &f->v, f->file, r);
}

/*
 * A second log from the same broker key that agrees with f's up to entry
 * keep - 1 and differs after: a copy of the database, cut back, grown
 * again with other entries and checkpointed at 20 and NENTRIES.
 */
static void
fork_from(struct fx *f, const char *db, const char *file, uint64_t keep)
{
	char err[REPAT_ERRBUF_LEN], q[300], saved[192];
	struct store st;
	struct audit a;
	sqlite3 *g;

	snprintf(q, sizeof(q), "VACUUM INTO '%s'", db);
	sql(f, q);
	assert_int_equal(sqlite3_open_v2(db, &g, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	snprintf(q, sizeof(q), "DELETE FROM audit WHERE idx >= %llu;"
	    "DELETE FROM checkpoints WHERE size > %llu",
	    (unsigned long long)keep, (unsigned long long)keep);
	assert_int_equal(sqlite3_exec(g, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close_v2(g);
	assert_int_equal(store_open(&st, db, err), 0);
	assert_int_equal(audit_open(&a, &st, err), 0);
	assert_int_equal(a.committed, keep);
	snprintf(saved, sizeof(saved), "%s", f->file);
	append_entries(&st, &a, 20, 7, keep);
	checkpoint(f, &st, &a, false);
	append_entries(&st, &a, NENTRIES, 7, keep);
	snprintf(f->file, sizeof(f->file), "%s", file);
	checkpoint(f, &st, &a, true);
	snprintf(f->file, sizeof(f->file), "%s", saved);
	audit_close(&a);
	store_close(&st);
}

/* ------------------------------------------------------------ tests */

static void
intact_log_verifies(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	assert_int_equal(verify(f, &r), 0);
	assert_int_equal(r.entries, NENTRIES);
	assert_int_equal(r.checkpoints, 4);	/* 3 rows and the file */
	assert_int_equal(r.latest_size, NENTRIES);
	assert_true(r.bad_from == REPAT_AUDIT_NONE);
	assert_string_equal(r.why, "");
	/* also without the file */
	assert_int_equal(repat_audit_verify_db(f->h, &f->v, NULL, &r), 0);
	assert_int_equal(r.checkpoints, 3);
}

static void
changed_byte_located(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	/* flip the last byte of entry 13 (a case_hash or time byte) */
	sql(f, "UPDATE audit SET entry = substr(entry, 1, length(entry) - 1)"
	    " || CASE WHEN substr(entry, -1) = X'00' THEN X'01' ELSE X'00'"
	    " END WHERE idx = 13");
	assert_int_equal(verify(f, &r), REPAT_ECORRUPT);
	assert_int_equal(r.bad_from, 13);
	assert_int_equal(r.bad_to, 14);
	assert_non_null(strstr(r.why, "entry 13"));
}

static void
deleted_entry_located(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	sql(f, "DELETE FROM audit WHERE idx = 17");
	assert_int_equal(verify(f, &r), REPAT_ECORRUPT);
	assert_int_equal(r.bad_from, 17);
	assert_non_null(strstr(r.why, "missing"));
}

static void
reordered_entries_located(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	sql(f, "UPDATE audit SET idx = -1 WHERE idx = 5;"
	    "UPDATE audit SET idx = 5 WHERE idx = 6;"
	    "UPDATE audit SET idx = 6 WHERE idx = -1");
	assert_int_equal(verify(f, &r), REPAT_ECORRUPT);
	assert_int_equal(r.bad_from, 5);
	assert_non_null(strstr(r.why, "says it is entry 6"));
}

static void
truncated_log_located(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	/* the table's checkpoint 40 is deleted too: the file still knows */
	sql(f, "DELETE FROM audit WHERE idx >= 30;"
	    "DELETE FROM checkpoints WHERE size > 30");
	assert_int_equal(verify(f, &r), REPAT_ECORRUPT);
	assert_int_equal(r.bad_from, 30);
	assert_int_equal(r.bad_to, NENTRIES);
	assert_non_null(strstr(r.why, "the checkpoint file"));
	/* without the file, a truncated log is a shorter log */
	assert_int_equal(repat_audit_verify_db(f->h, &f->v, NULL, &r), 0);
	assert_int_equal(r.latest_size, 20);
}

static void
rehashed_entry_located_by_checkpoint(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;
	sqlite3_stmt *s;
	uint8_t buf[512], h[32];
	int n;

	/* entry 10 gains an unknown field; its leaf hash is recomputed */
	assert_int_equal(sqlite3_prepare_v2(f->h, "SELECT entry FROM audit"
	    " WHERE idx = 10", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_bytes(s, 0);
	assert_true(n > 0 && n + 3 <= (int)sizeof(buf));
	memcpy(buf, sqlite3_column_blob(s, 0), (size_t)n);
	sqlite3_finalize(s);
	memcpy(buf + n, "\x98\x06\x01", 3);	/* field 99 = 1 */
	n += 3;
	repat_merkle_leaf_hash(buf, (size_t)n, h);
	assert_int_equal(sqlite3_prepare_v2(f->h, "UPDATE audit SET entry ="
	    " ?1, leaf_hash = ?2 WHERE idx = 10", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_blob(s, 1, buf, n, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, h, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	assert_int_equal(verify(f, &r), REPAT_ECORRUPT);
	/* checkpoint 8 still holds; checkpoint 20 does not */
	assert_int_equal(r.bad_from, 8);
	assert_int_equal(r.bad_to, 20);
	assert_non_null(strstr(r.why, "checkpoint 20"));
}

static void
forged_checkpoint_refused(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	/* the size line of checkpoint 20 says 21: the signature breaks */
	sql(f, "UPDATE checkpoints SET note = CAST(replace(CAST(note AS TEXT),"
	    " char(10) || '20' || char(10), char(10) || '21' || char(10))"
	    " AS BLOB) WHERE size = 20");
	assert_int_equal(verify(f, &r), REPAT_ESIG);
	assert_non_null(strstr(r.why, "checkpoint 20"));
}

static void
bad_entry_and_forged_checkpoint_both_told(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	sql(f, "DELETE FROM audit WHERE idx = 13;"
	    "UPDATE checkpoints SET note = CAST(replace(CAST(note AS TEXT),"
	    " char(10) || '20' || char(10), char(10) || '21' || char(10))"
	    " AS BLOB) WHERE size = 20");
	assert_int_equal(verify(f, &r), REPAT_ESIG);
	assert_int_equal(r.bad_from, 13);
	assert_non_null(strstr(r.why, "entry 13"));
	assert_non_null(strstr(r.why, "checkpoint 20"));
}

static void
swapped_checkpoint_refused(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	sql(f, "UPDATE checkpoints SET note = (SELECT note FROM checkpoints"
	    " WHERE size = 8) WHERE size = 20");
	assert_int_equal(verify(f, &r), REPAT_ECORRUPT);
	assert_int_equal(r.bad_from, 20);
	assert_non_null(strstr(r.why, "swapped"));
}

static void
checkpoint_root_row_rewritten(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;

	sql(f, "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 8");
	assert_int_equal(verify(f, &r), REPAT_ECORRUPT);
	assert_int_equal(r.bad_from, 8);
}

static void
wrong_key_refused(void **state)
{
	struct fx *f = *state;
	struct repat_audit_report r;
	struct repat_note_verifier other;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char err[REPAT_ERRBUF_LEN];
	repat_note_signer_t *s = repat_note_signer_new(ORIGIN, k, err);

	other = *repat_note_signer_verifier(s);
	assert_int_equal(repat_audit_verify_db(f->h, &other, f->file, &r),
	    REPAT_ESIG);
	repat_note_signer_destroy(&s);
	EVP_PKEY_free(k);
}

static void
db_proofs_verify(void **state)
{
	struct fx *f = *state;
	uint8_t root8[32], root40[32], h[32];
	uint8_t p[REPAT_MERKLE_MAX_PROOF][32];
	uint8_t id[16] = { 0 }, *leaf;
	uint64_t index;
	size_t n, len;

	assert_int_equal(repat_audit_db_root(f->h, 8, root8), 0);
	assert_int_equal(repat_audit_db_root(f->h, NENTRIES, root40), 0);
	/* entry 12 is an acceptance (12 % 3 == 0) of message id[0] = 12 */
	id[0] = 12;
	assert_int_equal(repat_audit_db_find_accepted(f->h, id, NENTRIES,
	    &index, &leaf, &len), 0);
	assert_int_equal(index, 12);
	repat_merkle_leaf_hash(leaf, len, h);
	free(leaf);
	assert_int_equal(repat_audit_db_inclusion(f->h, 12, NENTRIES, p, &n),
	    0);
	assert_int_equal(repat_merkle_verify_inclusion(12, NENTRIES, h,
	    (const uint8_t (*)[32])p, n, root40), 0);
	assert_int_equal(repat_audit_db_consistency(f->h, 8, NENTRIES, p, &n),
	    0);
	assert_int_equal(repat_merkle_verify_consistency(8, NENTRIES,
	    (const uint8_t (*)[32])p, n, root8, root40), 0);
	/* not an acceptance, and beyond the size */
	id[0] = 13;
	assert_int_equal(repat_audit_db_find_accepted(f->h, id, NENTRIES,
	    &index, &leaf, &len), REPAT_ENOENT);
	id[0] = 12;
	assert_int_equal(repat_audit_db_find_accepted(f->h, id, 12, &index,
	    &leaf, &len), REPAT_ENOENT);
}

/* The latest note of db (the largest checkpoint row). */
static char *
latest_note(sqlite3 *h, uint64_t size, size_t *len)
{
	sqlite3_stmt *s;
	char *note;

	assert_int_equal(sqlite3_prepare_v2(h, "SELECT note FROM checkpoints"
	    " WHERE size = ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)size);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	*len = (size_t)sqlite3_column_bytes(s, 0);
	note = repat_xmalloc(*len + 1);
	memcpy(note, sqlite3_column_blob(s, 0), *len);
	sqlite3_finalize(s);
	return note;
}

static void
agent_view_detects_fork(void **state)
{
	struct fx *f = *state;
	char err[REPAT_ERRBUF_LEN], fork_db[128], fork_file[160], *note;
	char alarm[128], *buf;
	uint8_t p[REPAT_MERKLE_MAX_PROOF][32], root[32];
	uint64_t size;
	sqlite3 *g;
	size_t len, n;
	FILE *mem;

	/* first sight: stored as is */
	note = latest_note(f->h, 8, &len);
	assert_int_equal(repat_audit_view_update(f->dir, &f->v,
	    (uint8_t *)note, len, NULL, 0, &size, root, err), 0);
	free(note);
	assert_int_equal(size, 8);
	assert_int_equal(repat_audit_view_load(f->dir, &f->v, &size, root,
	    err), 0);
	assert_int_equal(size, 8);
	/* a later checkpoint with its consistency proof: accepted */
	note = latest_note(f->h, 20, &len);
	assert_int_equal(repat_audit_db_consistency(f->h, 8, 20, p, &n), 0);
	assert_int_equal(repat_audit_view_update(f->dir, &f->v,
	    (uint8_t *)note, len, (const uint8_t (*)[32])p, n, &size, root,
	    err), 0);
	assert_int_equal(size, 20);
	free(note);

	/*
	 * A fork: the same broker key signs a second log that agrees up to
	 * entry 14 and differs from 15 on. The agent holding checkpoint 20
	 * of the first log is shown checkpoint 40 of the second.
	 */
	snprintf(fork_db, sizeof(fork_db), "%s/fork.db", f->dir);
	snprintf(fork_file, sizeof(fork_file), "%s/fork.db.checkpoint",
	    f->dir);
	fork_from(f, fork_db, fork_file, 15);
	assert_int_equal(sqlite3_open_v2(fork_db, &g, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	note = latest_note(g, NENTRIES, &len);
	assert_int_equal(repat_audit_db_consistency(g, 20, NENTRIES, p, &n),
	    0);
	snprintf(alarm, sizeof(alarm), "%s/%s", f->dir,
	    REPAT_AUDIT_ALARM_FILE);
	assert_int_equal(access(alarm, F_OK), -1);
	assert_int_equal(repat_audit_view_update(f->dir, &f->v,
	    (uint8_t *)note, len, (const uint8_t (*)[32])p, n, &size, root,
	    err), REPAT_ECORRUPT);
	assert_non_null(strstr(err, "forked"));
	free(note);
	/* the view did not move, the alarm is up and printed */
	assert_int_equal(repat_audit_view_load(f->dir, &f->v, &size, root,
	    err), 0);
	assert_int_equal(size, 20);
	assert_int_equal(access(alarm, F_OK), 0);
	buf = NULL;
	mem = open_memstream(&buf, &len);
	assert_true(repat_audit_alarm_print(f->dir, mem));
	fclose(mem);
	assert_non_null(strstr(buf, "AUDIT ALARM"));
	assert_non_null(strstr(buf, "forked"));
	free(buf);
	/* an older checkpoint than the view: rolled back */
	note = latest_note(g, 8, &len);
	assert_int_equal(repat_audit_view_update(f->dir, &f->v,
	    (uint8_t *)note, len, NULL, 0, &size, root, err), REPAT_ECORRUPT);
	assert_non_null(strstr(err, "older"));
	free(note);
	/* the fork's own log is internally consistent: only a view sees it */
	{
		struct repat_audit_report r;

		assert_int_equal(repat_audit_verify_db(g, &f->v, fork_file, &r),
		    0);
	}
	sqlite3_close_v2(g);
	/* a hand-edited view file is refused */
	snprintf(alarm, sizeof(alarm), "%s/%s", f->dir,
	    REPAT_AUDIT_CHECKPOINT_FILE);
	assert_int_equal(repat_file_write(alarm, "x\n", 2, 0600, err), 0);
	assert_int_not_equal(repat_audit_view_load(f->dir, &f->v, &size,
	    root, err), 0);
}

static void
entry_json_has_no_case_reference(void **state)
{
	struct fx *f = *state;
	Repat__AuditEntry *e;
	sqlite3_stmt *s;
	char *js;

	assert_int_equal(sqlite3_prepare_v2(f->h, "SELECT entry FROM audit"
	    " WHERE idx = 2", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(REPAT_DECODE(Repat__AuditEntry, audit_entry,
	    sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
	    REPAT_MAX_FRAME, &e), 0);
	sqlite3_finalize(s);
	js = repat_audit_entry_json(e);
	repat_msg_free(e);
	assert_non_null(strstr(js, "\"index\":2"));
	assert_non_null(strstr(js, "\"kind\":\"AUDIT_REJECTED\""));
	assert_non_null(strstr(js, "\"code\":\"REJECT_NO_AGREEMENT\""));
	assert_non_null(strstr(js, "\"case_hash\":\""));
	assert_null(strstr(js, "TH-2026-000123"));
	free(js);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(intact_log_verifies),
		T(changed_byte_located),
		T(deleted_entry_located),
		T(reordered_entries_located),
		T(truncated_log_located),
		T(rehashed_entry_located_by_checkpoint),
		T(forged_checkpoint_refused),
		T(bad_entry_and_forged_checkpoint_both_told),
		T(swapped_checkpoint_refused),
		T(checkpoint_root_row_rewritten),
		T(wrong_key_refused),
		T(db_proofs_verify),
		T(agent_view_detects_fork),
		T(entry_json_has_no_case_reference),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
