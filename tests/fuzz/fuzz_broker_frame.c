/*
 * fuzz_broker_frame.c: frames fed to the dispatcher of an in-process
 * broker, as a CURVE-authenticated peer would send them: every handler's
 * decode and check path (hello, submit, ack, queries, bye) runs against a
 * real SQLite store, audit log and trust bundle (tests/data/broker/),
 * after prepare.c decoded it and checked a submit's signature, as the
 * loop does. No sockets: answers are queued and dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../broker/broker.h"
#include "repat/clock.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/sign.h"

/*
 * The bundle's CRLs were issued on 2026-11-29 for 30 days, and the
 * committed frames were signed then: the broker's clock runs from that
 * day, whatever today's date, so inputs keep reaching past the
 * certificate and time checks instead of all failing there.
 */
#define FIXTURE_MS	1795957200000LL		/* 2026-11-29T13:00:00Z */

static struct broker B;
static uint8_t peer_key[32] = { 1, 2, 3 };
static char dbpath[64];

static void
cleanup(void)
{
	char p[80];

	broker_free(&B);
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

static int
init(void)
{
	struct repat_identity id = { "TH.DATIP", "TH", 1 };
	char err[REPAT_ERRBUF_LEN];
	uint8_t pub[32] = { 0 };
	bool created;
	int fd;

	repat_log_init("fuzz", REPAT_LOG_ERROR);
	B.cfg.clock_offset_ms = FIXTURE_MS - (int64_t)repat_now_ms();
	B.lock_fd = -1;
	B.cfg.authorization = BROKER_AUTH_OPEN;
	B.cfg.max_frame = REPAT_MAX_FRAME;
	B.cfg.inflight = 8;
	B.cfg.redeliver_min_ms = 1000;
	B.cfg.redeliver_max_ms = 4000;
	B.cfg.delivery_limit = 3;
	B.cfg.default_expiry_ms = 86400000;
	B.cfg.clock_skew_ms = 300000;
	B.cfg.group_commit_size = 1;
	snprintf(dbpath, sizeof(dbpath), "/tmp/repat-fuzz-broker-XXXXXX");
	if ((fd = mkstemp(dbpath)) < 0)
		return -1;
	close(fd);
	if ((B.trust = repat_trust_load("tests/data/broker/trust",
	    err)) == NULL ||
	    repat_key_generate(EVP_PKEY_ED25519, &B.sign_key) != 0 ||
	    prepare_pool_start(&B.pool, &B, 0) != 0 ||
	    store_open(&B.store, dbpath, err) != 0 ||
	    audit_open(&B.audit, &B.store, err) != 0) {
		fprintf(stderr, "fuzz_broker_frame: %s\n", err);
		return -1;
	}
	B.cert_der = calloc(1, 1);
	B.cert_der_len = 1;
	if (store_begin(&B.store) != 0 ||
	    store_agent_put(&B.store, &id, (const uint8_t *)"x", 1,
	    (const uint8_t *)"y", 1, pub, 1, &created) != 0 ||
	    store_commit(&B.store, err) != 0)
		return -1;
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct prepared p;
	struct session *s;

	if (ready == 0)
		ready = init() == 0 ? 1 : -1;
	if (ready < 0)
		abort();
	if ((s = session_get(&B.sessions, peer_key)) == NULL)
		return 0;
	if (s->state != SESSION_ACTIVE) {
		/* alternate: half the inputs meet an admitted session */
		if (size > 0 && (data[0] & 1)) {
			s->state = SESSION_ACTIVE;
			snprintf(s->agent_id, sizeof(s->agent_id), "TH.DATIP");
			memcpy(s->country, "TH", 3);
			s->window = 8;
		}
	}
	memset(&p, 0, sizeof(p));
	p.data = data;
	p.len = size;
	p.verify = s->state == SESSION_ACTIVE;
	prepare_start(&B.pool, &p, 1);
	prepare_wait(&B.pool);
	if (broker_group_begin(&B) == 0) {
		dispatch(&B, s, &p);
		broker_group_end(&B);
	}
	prepared_clear(&p);
	return 0;
}
