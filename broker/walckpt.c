/*
 * walckpt.c: WAL checkpoints on their own thread.
 *
 * A checkpoint copies the WAL's pages into the database file and fsyncs
 * it: with 2.6 KB envelopes at full speed that is tens of megabytes a
 * second. Run on the loop's thread it stalled every submit behind it
 * (the p99 latencies of docs/performance.md); here it runs beside the
 * loop on the store's second connection, which nothing else touches
 * while the thread lives. SQLite's PASSIVE checkpoint never blocks the
 * writer and the writer never blocks it, so a COMMIT (the durability
 * point) waits for nothing but its own fsync.
 *
 * The writer's wal hook wakes the thread when the WAL holds
 * WAL_WAKE_FRAMES pages, so the WAL stays a few megabytes and is reused
 * from its start once a checkpoint caught up; the period is the upper
 * bound on how long a quiet broker leaves pages only in the WAL.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "repat/log.h"

/* SQLite's own autocheckpoint size: 1000 pages, 4 MB. */
#define WAL_WAKE_FRAMES 1000

/*
 * SQLite reuses the WAL from its start only when a write transaction
 * begins with every frame already copied back. Under steady load a
 * commit always lands while the thread copies, so the file would grow for
 * as long as the load lasts (110 MB after 100 s at 10,000 msgs/s).
 * Past this size the writer, between two transactions, copies the few
 * frames the thread has not reached yet itself; its next transaction then
 * starts the WAL again from the beginning.
 */
#define WAL_RESTART_FRAMES (8 * WAL_WAKE_FRAMES)

/*
 * Past this size the writer waits for the thread's pass to end before
 * copying the rest itself. A thread starved of CPU copies slower than the
 * loop writes, and each of its passes then lets the WAL grow by what was
 * written meanwhile (65 MB with three busy loops beside walckpt_test):
 * writes must slow down to what the disk and the checkpoint can take, or
 * the WAL has no bound at all.
 */
#define WAL_STALL_FRAMES (2 * WAL_RESTART_FRAMES)

static void
checkpoint_once(sqlite3 *db)
{
	int log = 0, done = 0, rc;

	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &log, &done);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		repat_log_warnx("store: wal checkpoint: %s",
		    sqlite3_errmsg(db));
}

static void *
run(void *arg)
{
	struct walckpt *w = arg;
	struct timespec until;
	int rc;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		if (!w->wanted || w->hold) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += w->period_ms / 1000;
			until.tv_nsec += (w->period_ms % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
			if (w->stop)
				break;
			/*
			 * The writer finishes this one at its next commit; a
			 * whole period without one means it went quiet.
			 */
			if (w->hold && rc != ETIMEDOUT)
				continue;
			w->hold = false;
		}
		w->wanted = false;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		checkpoint_once(w->db);
		pthread_mutex_lock(&w->mu);
		w->busy = false;
		pthread_cond_signal(&w->idle);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Called by SQLite on the writer's thread after each COMMIT. */
static int
on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct walckpt *w = arg;

	(void)db;
	(void)name;
	w->frames = frames;
	if (frames >= WAL_WAKE_FRAMES) {
		pthread_mutex_lock(&w->mu);
		w->wanted = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	return SQLITE_OK;
}

int
walckpt_start(struct walckpt *w, sqlite3 *writer, sqlite3 *ckpt,
    int64_t period_ms)
{
	pthread_condattr_t ca;
	sigset_t old;
	int rc;

	memset(w, 0, sizeof(*w));
	w->db = ckpt;
	w->writer = writer;
	w->period_ms = period_ms;
	pthread_mutex_init(&w->mu, NULL);
	/* a clock stepped back must not hold checkpoints off */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->idle, NULL);
	broker_signals_block(&old);
	rc = pthread_create(&w->thread, NULL, run, w);
	broker_signals_restore(&old);
	if (rc != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_cond_destroy(&w->idle);
		pthread_mutex_destroy(&w->mu);
		return REPAT_EIO;
	}
	w->running = true;
	sqlite3_wal_hook(writer, on_commit, w);
	return REPAT_OK;
}

void
walckpt_stop(struct walckpt *w)
{
	if (!w->running)
		return;
	sqlite3_wal_hook(w->writer, NULL, NULL);
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->mu);
	w->running = false;
	/* The thread is gone: the connection is the caller's again. */
	checkpoint_once(w->db);
}

void
walckpt_catch_up(struct walckpt *w)
{
	bool busy;

	if (!w->running || w->frames < WAL_RESTART_FRAMES)
		return;
	/* the thread starts no new pass until the writer has done its own */
	pthread_mutex_lock(&w->mu);
	w->hold = true;
	while (w->busy && w->frames >= WAL_STALL_FRAMES)
		pthread_cond_wait(&w->idle, &w->mu);
	busy = w->busy;
	pthread_mutex_unlock(&w->mu);
	if (busy)
		return;		/* its pass ends soon: after a later commit */
	checkpoint_once(w->writer);
	w->frames = 0;
	pthread_mutex_lock(&w->mu);
	w->hold = false;
	pthread_mutex_unlock(&w->mu);
}
