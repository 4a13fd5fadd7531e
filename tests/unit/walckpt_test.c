/*
 * walckpt_test.c: the broker's WAL checkpoint thread (broker/walckpt.c) on
 * a real SQLite file, with the broker's own store.
 *
 * Under steady writes SQLite never restarts a WAL that a concurrent
 * checkpointer keeps almost, but not quite, copied back: the file grew for
 * as long as the load lasted (110 MB after 100 s in repat-bench). The
 * writer now finishes the checkpoint itself past a bound, between two
 * transactions. These tests write far more than that bound and check the
 * file stays near it, that every row is still there, and that stopping
 * the thread leaves a database another connection reads whole.
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
#include <sqlite3.h>

#include "../../broker/broker.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"

/* 30,000 transactions of ~2 pages: 240 MB of WAL if it were never reused */
#define TXNS 30000
#define ROW_BYTES 6000
/*
 * The hard bound: 16,000 pages of 4 KB (WAL_STALL_FRAMES), where the
 * writer waits for the thread, plus one transaction. Unloaded, the peak is
 * 33-35 MB (the 8,000-page restart bound and one pass of the thread).
 */
#define WAL_LIMIT_BYTES (68LL << 20)

static char dir[64];
static char path[128];

static long long
file_size(const char *suffix)
{
	char p[160];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static int
setup(void **state)
{
	(void)state;
	repat_log_init("walckpt_test", REPAT_LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/repat-walckpt-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/broker.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * One transaction through the store: BEGIN IMMEDIATE .. store_commit;
 * false when a step failed. No assertion here: a failed one would leave
 * the checkpoint thread running on a store whose stack frame is gone.
 */
static bool
write_row(struct store *st, sqlite3_stmt *ins, int i)
{
	char err[REPAT_ERRBUF_LEN], name[32];
	int rc;

	if (store_begin(st) != 0)
		return false;
	snprintf(name, sizeof(name), "row-%d", i);
	sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_zeroblob(ins, 2, ROW_BYTES);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc != SQLITE_DONE) {
		store_rollback(st);
		return false;
	}
	return store_commit(st, err) == 0;
}

static void
wal_stays_bounded_under_steady_writes(void **state)
{
	char err[REPAT_ERRBUF_LEN];
	struct store st;
	sqlite3_stmt *ins, *count;
	sqlite3 *reader;
	long long wal, peak = 0;
	int i, written = 0;

	(void)state;
	assert_int_equal(store_open(&st, path, err), 0);
	/* the bound is about WAL size, not durability: no fsync per row */
	assert_int_equal(repat_db_exec(st.db, "PRAGMA synchronous=OFF", err),
	    0);
	assert_int_equal(walckpt_start(&st.wal, st.db, st.ckpt, 100), 0);
	ins = repat_db_prepare(st.db, "INSERT INTO meta(name, value)"
	    " VALUES(?1, ?2)");
	assert_non_null(ins);
	for (i = 0; i < TXNS && write_row(&st, ins, i); i++) {
		written++;
		if (i % 1000 == 999 && (wal = file_size("-wal")) > peak)
			peak = wal;
	}
	sqlite3_finalize(ins);
	store_close(&st);	/* stops the thread, checkpoints once more */
	fprintf(stderr, "peak WAL %lld bytes after %d transactions of %d "
	    "bytes\n", peak, written, ROW_BYTES);
	assert_int_equal(written, TXNS);
	assert_true(peak > 0);
	assert_true(peak < WAL_LIMIT_BYTES);

	/* every row is there, read by a connection of its own */
	assert_int_equal(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*),"
	    " sum(length(value)) FROM meta WHERE name LIKE 'row-%'", -1,
	    &count, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(count), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(count, 0), TXNS);
	assert_true(sqlite3_column_int64(count, 1) ==
	    (sqlite3_int64)TXNS * ROW_BYTES);
	sqlite3_finalize(count);
	sqlite3_close(reader);
}

static void
stop_is_idempotent_and_start_needs_no_load(void **state)
{
	char err[REPAT_ERRBUF_LEN];
	struct store st;

	(void)state;
	assert_int_equal(store_open(&st, path, err), 0);
	assert_int_equal(walckpt_start(&st.wal, st.db, st.ckpt, 100), 0);
	assert_true(st.wal.running);
	/* a quiet store: the thread only waits for its period */
	usleep(250 * 1000);
	walckpt_stop(&st.wal);
	assert_false(st.wal.running);
	walckpt_stop(&st.wal);
	store_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wal_stays_bounded_under_steady_writes),
		cmocka_unit_test(stop_is_idempotent_and_start_needs_no_load),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
