/*
 * ceiling.c: what this machine can do at best for the broker's
 * unavoidable work per message, measured in the same run as the broker:
 *
 *   - one Ed25519 verification of the envelope (repat_verify_raw, the
 *     libsodium path the broker uses), on every core in parallel;
 *   - the SQLite group commit of the rows a submit must write (message,
 *     queue, audit), WAL with synchronous=FULL, in groups of the broker's
 *     group_commit_size, on a temporary database in the broker's folder
 *     (same filesystem, same fsync);
 *   - the broker's share of the receipt signature: one Ed25519 sign per
 *     group, on every core.
 *
 * ceiling = 1 / max(t_verify + t_sign / B, t_commit): verification and
 * signing spread over all cores while the one writer's commit (mostly
 * waiting for fsync) overlaps them. `serial` is the one-thread bound with
 * no overlap, which is what a single-threaded broker can reach at best.
 * Each figure is the median of `runs` runs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench.h"
#include "repat/codec.h"
#include "repat/mem.h"
#include "repat/sign.h"

#define RUN_NS		300000000ULL	/* one crypto run per thread */
#define COMMIT_NS	1000000000ULL	/* one commit run, at least 3 groups */

struct crypto_job {
	const uint8_t *msg;		/* what is verified or signed */
	size_t len;
	const uint8_t *sig;		/* the envelope's signature */
	const uint8_t *pub;		/* its key */
	EVP_PKEY *key;			/* or the key to sign with */
	uint64_t count;			/* operations done */
	bool ok;			/* every verification passed */
};

static void *
verify_thread(void *arg)
{
	struct crypto_job *j = arg;
	uint64_t end = bench_ns() + RUN_NS;

	j->ok = true;
	while (bench_ns() < end) {
		if (repat_verify_raw(j->pub, REPAT_PURPOSE_ENVELOPE, j->msg,
		    j->len, j->sig, REPAT_SIG_LEN) != 0)
			j->ok = false;
		j->count++;
	}
	return NULL;
}

static void *
sign_thread(void *arg)
{
	struct crypto_job *j = arg;
	uint64_t end = bench_ns() + RUN_NS;
	uint8_t sig[REPAT_SIG_LEN];

	j->ok = true;
	while (bench_ns() < end) {
		if (repat_sign(j->key, REPAT_PURPOSE_RECEIPT, j->msg, j->len,
		    sig) != 0)
			j->ok = false;
		j->count++;
	}
	return NULL;
}

/* Operations per second over all cores, or -1. */
static double
crypto_rate(void *(*fn)(void *), const struct crypto_job *tmpl, int cores)
{
	struct crypto_job *jobs;
	pthread_t *th;
	uint64_t total = 0, t0;
	double secs;
	bool ok = true;
	int i;

	jobs = repat_xcalloc((size_t)cores, sizeof(*jobs));
	th = repat_xcalloc((size_t)cores, sizeof(*th));
	t0 = bench_ns();
	for (i = 0; i < cores; i++) {
		jobs[i] = *tmpl;
		pthread_create(&th[i], NULL, fn, &jobs[i]);
	}
	for (i = 0; i < cores; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].count;
		ok = ok && jobs[i].ok;
	}
	secs = (double)(bench_ns() - t0) / 1e9;
	free(jobs);
	free(th);
	return ok ? (double)total / secs : -1;
}

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0;"
    "CREATE TABLE agents(id TEXT PRIMARY KEY, next_seq INTEGER NOT NULL);"
    "CREATE TABLE messages(id BLOB PRIMARY KEY, sender TEXT NOT NULL,"
    " recipient TEXT NOT NULL REFERENCES agents(id), type INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " accepted_ms INTEGER NOT NULL, hash BLOB NOT NULL, envelope BLOB,"
    " relay TEXT);"
    "CREATE TABLE queue(recipient TEXT NOT NULL REFERENCES agents(id),"
    " seq INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " message_id BLOB REFERENCES messages(id), notice BLOB,"
    " accepted_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(recipient, seq))"
    " WITHOUT ROWID;"
    "CREATE INDEX queue_expiry ON queue(expires_ms)"
    " WHERE state = 0 AND kind = 0;"
    "CREATE TABLE audit(idx INTEGER PRIMARY KEY, entry BLOB NOT NULL,"
    " leaf_hash BLOB NOT NULL);"
    "INSERT INTO agents VALUES('MM.BENCH1', 1);";

struct commit_db {
	sqlite3 *db;
	sqlite3_stmt *msg, *next, *q, *audit;
	uint64_t n;			/* rows written so far */
};

static int
commit_open(struct commit_db *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	unlink(path);
	if (sqlite3_open(path, &c->db) != SQLITE_OK ||
	    sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	sqlite3_prepare_v2(c->db, "INSERT INTO messages VALUES(?1,"
	    "'TH.BENCH0','MM.BENCH1',1,?2,?3,?2,?4,?5,NULL)", -1, &c->msg,
	    NULL);
	sqlite3_prepare_v2(c->db, "UPDATE agents SET next_seq = next_seq + 1"
	    " WHERE id = 'MM.BENCH1' RETURNING next_seq - 1", -1, &c->next,
	    NULL);
	sqlite3_prepare_v2(c->db, "INSERT INTO queue(recipient, seq, kind,"
	    " message_id, accepted_ms, expires_ms) VALUES('MM.BENCH1',?1,0,"
	    "?2,?3,?4)", -1, &c->q, NULL);
	sqlite3_prepare_v2(c->db, "INSERT INTO audit VALUES(?1,?2,?3)", -1,
	    &c->audit, NULL);
	return c->msg && c->next && c->q && c->audit ? 0 : -1;
}

static void
commit_close(struct commit_db *c, const char *path)
{
	char *p;

	sqlite3_finalize(c->msg);
	sqlite3_finalize(c->next);
	sqlite3_finalize(c->q);
	sqlite3_finalize(c->audit);
	sqlite3_close(c->db);
	unlink(path);
	p = repat_xasprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = repat_xasprintf("%s-shm", path);
	unlink(p);
	free(p);
}

/* One message's rows, as handle_submit.c writes them. */
static int
commit_rows(struct commit_db *c, const uint8_t *env, size_t len)
{
	uint8_t id[16], hash[32], entry[160];
	int64_t now = (int64_t)repat_now_ms(), seq;
	int rc;

	c->n++;
	memset(id, 0, sizeof(id));
	memcpy(id, &c->n, sizeof(c->n));
	memset(hash, 0xa5, sizeof(hash));
	memset(entry, 0x5a, sizeof(entry));
	sqlite3_bind_blob(c->msg, 1, id, 16, SQLITE_STATIC);
	sqlite3_bind_int64(c->msg, 2, now);
	sqlite3_bind_int64(c->msg, 3, now + 86400000);
	sqlite3_bind_blob(c->msg, 4, hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(c->msg, 5, env, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(c->msg);
	sqlite3_reset(c->msg);
	if (rc != SQLITE_DONE || sqlite3_step(c->next) != SQLITE_ROW)
		return -1;
	seq = sqlite3_column_int64(c->next, 0);
	(void)sqlite3_step(c->next);
	sqlite3_reset(c->next);
	sqlite3_bind_int64(c->q, 1, seq);
	sqlite3_bind_blob(c->q, 2, id, 16, SQLITE_STATIC);
	sqlite3_bind_int64(c->q, 3, now);
	sqlite3_bind_int64(c->q, 4, now + 86400000);
	rc = sqlite3_step(c->q);
	sqlite3_reset(c->q);
	if (rc != SQLITE_DONE)
		return -1;
	sqlite3_bind_int64(c->audit, 1, (int64_t)c->n);
	sqlite3_bind_blob(c->audit, 2, entry, sizeof(entry), SQLITE_STATIC);
	sqlite3_bind_blob(c->audit, 3, hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(c->audit);
	sqlite3_reset(c->audit);
	return rc == SQLITE_DONE ? 0 : -1;
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Messages per second and the median group commit in ms, or -1. With
 * p99 != NULL the 99th percentile commit too (the latency floor); with
 * cpu_us != NULL the CPU the writing took per message (SQLite and the
 * kernel's writes; not the wait for fsync), in µs.
 */
static double
commit_rate(const char *dbdir, const uint8_t *env, size_t len, int batch,
    double *commit_ms, double *p99, double *cpu_us)
{
	struct commit_db c;
	char *path = repat_xasprintf("%s/bench-ceiling-%d.db", dbdir,
	    (int)getpid());
	double ms[4096], rate = -1;
	uint64_t t0, t1, start, cpu0 = 0;
	size_t groups = 0;
	int i;

	if (commit_open(&c, path) != 0)
		goto out;
	cpu0 = thread_cpu_ns();
	start = bench_ns();
	while (groups < 3 || (bench_ns() - start < COMMIT_NS &&
	    groups < sizeof(ms) / sizeof(ms[0]))) {
		t0 = bench_ns();
		if (sqlite3_exec(c.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto out;
		for (i = 0; i < batch; i++)
			if (commit_rows(&c, env, len) != 0)
				goto out;
		if (sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto out;
		t1 = bench_ns();
		ms[groups++] = (double)(t1 - t0) / 1e6;
	}
	rate = (double)groups * batch / ((double)(bench_ns() - start) / 1e9);
	if (cpu_us != NULL)
		*cpu_us = (double)(thread_cpu_ns() - cpu0) / 1e3 /
		    ((double)groups * batch);
	*commit_ms = bench_quantile(ms, groups, 0.5);
	if (p99 != NULL)
		*p99 = bench_quantile(ms, groups, 0.99);
out:
	if (rate < 0)
		fprintf(stderr, "repat-bench: ceiling database %s: %s\n", path,
		    c.db ? sqlite3_errmsg(c.db) : "cannot open");
	commit_close(&c, path);
	free(path);
	return rate;
}

static double
median(double *v, int n)
{
	return bench_quantile(v, (size_t)n, 0.5);
}

int
ceiling_measure(const uint8_t *envelope, size_t len, const uint8_t pub[32],
    EVP_PKEY *key, const char *dbdir, int batch, int cores, int runs,
    struct ceiling *out)
{
	struct crypto_job j;
	Repat__SignedEnvelope *se;
	uint8_t *body;
	size_t blen = 64 + (size_t)batch * 52;
	double v[16], s[16], c[16], cm[16], cc[16], one[16], one99[16];
	int i, rc = -1;

	if (runs > 16)
		runs = 16;
	memset(out, 0, sizeof(*out));
	if (REPAT_DECODE(Repat__SignedEnvelope, signed_envelope, envelope, len,
	    len, &se) != 0)
		return -1;
	body = repat_xcalloc(1, blen);
	for (i = 0; i < runs; i++) {
		memset(&j, 0, sizeof(j));
		j.msg = se->envelope.data;
		j.len = se->envelope.len;
		j.sig = se->signature.data;
		j.pub = pub;
		v[i] = crypto_rate(verify_thread, &j, cores);
		memset(&j, 0, sizeof(j));
		j.msg = body;
		j.len = blen;
		j.key = key;
		s[i] = crypto_rate(sign_thread, &j, cores);
		c[i] = commit_rate(dbdir, envelope, len, batch, &cm[i], NULL,
		    &cc[i]);
		if (v[i] < 0 || s[i] < 0 || c[i] < 0 || commit_rate(dbdir,
		    envelope, len, 1, &one[i], &one99[i], NULL) < 0)
			goto out;
	}
	out->cores = cores;
	out->batch = batch;
	out->verify_per_s = median(v, runs);
	out->sign_per_s = median(s, runs);
	out->commit_msgs_per_s = median(c, runs);
	out->commit_ms = median(cm, runs);
	out->commit_cpu_us = median(cc, runs);
	out->commit1_ms = median(one, runs);
	out->commit1_p99_ms = median(one99, runs);
	{
		double tv = 1 / out->verify_per_s, ts = 1 / out->sign_per_s;
		double tc = 1 / out->commit_msgs_per_s;
		double crypto = tv + ts / batch;

		out->ceiling = 1 / (crypto > tc ? crypto : tc);
		out->serial = 1 / (cores * crypto + tc);
	}
	rc = 0;
out:
	free(body);
	repat_msg_free(se);
	return rc;
}
