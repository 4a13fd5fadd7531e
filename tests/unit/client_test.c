/*
 * client_test.c: lib/client.c against a real repat-broker process
 * (broker_harness.h): pinning of the broker's CURVE key and certificate,
 * timeouts, the automatic hello after the broker restarts, the event
 * stream's sequence rules, and the CRLs the directory carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <zmq.h>

#include "broker_harness.h"
#include "repat/ca.h"

#define A_ID "TH.DATIP"
#define B_ID "MM.DSW"
#define DAY (24ULL * 3600 * 1000)

static void
bad_keys_refused_at_new(void **state)
{
	struct agent a;
	char err[REPAT_ERRBUF_LEN];

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_null(repat_client_new(&a.ks, H.endpoint, "short", a.broker_cert,
	    err));
	assert_null(repat_client_new(&a.ks, H.endpoint,
	    "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", a.broker_cert, err));
	h_agent_free(&a);
}

static void
wrong_broker_key_never_connects(void **state)
{
	struct agent a;
	char pub[41], sec[41], err[REPAT_ERRBUF_LEN];
	repat_client_t *c;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	c = repat_client_new(&a.ks, H.endpoint, pub, a.broker_cert, err);
	assert_non_null(c);
	assert_int_not_equal(repat_client_connect(c, NULL, 1500, err), 0);
	repat_client_destroy(&c);
	assert_null(c);
	h_agent_free(&a);
}

static void
wrong_pinned_certificate_refused(void **state)
{
	struct agent a;
	char err[REPAT_ERRBUF_LEN];
	repat_client_t *c;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	/* pin some other Ed25519 certificate: the welcome's does not match */
	c = repat_client_new(&a.ks, H.endpoint, a.curve, a.ks.sign_cert, err);
	assert_non_null(c);
	assert_int_equal(repat_client_connect(c, NULL, 3000, err), REPAT_ESIG);
	repat_client_destroy(&c);
	h_agent_free(&a);
}

static void
no_broker_times_out(void **state)
{
	struct agent a;
	char ep[64], err[REPAT_ERRBUF_LEN];
	repat_client_t *c;
	uint64_t t0 = repat_now_ms();

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", h_free_port());
	c = repat_client_new(&a.ks, ep, a.curve, a.broker_cert, err);
	assert_non_null(c);
	assert_int_equal(repat_client_connect(c, NULL, 800, err),
	    REPAT_ETIMEOUT);
	assert_true(repat_now_ms() - t0 < 3000);
	repat_client_destroy(&c);
	h_agent_free(&a);
}

static void
hello_again_after_broker_restart(void **state)
{
	struct agent a, b;
	struct repat_submit_result r;
	struct repat_client_event ev;
	char err[REPAT_ERRBUF_LEN];
	uint8_t id[16], *buf;
	size_t len;
	uint64_t t;
	int i, rc = -1;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	repat_client_close(b.c);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	assert_int_equal(h_stop(&H, SIGTERM), 0);
	assert_int_equal(h_start(&H), 0);
	/* the client notices the new handshake and says hello again */
	for (i = 0; i < 20 && rc != 0; i++)
		rc = repat_client_ping(a.c, 500, &t, err);
	assert_int_equal(rc, 0);
	h_id(id, 1, 1);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, repat_now_ms(),
	    repat_now_ms() + DAY, 0, &buf, &len), 0);
	assert_int_equal(repat_client_submit(a.c, buf, len, 5000, &r, err), 0);
	assert_true(r.receipted);
	assert_non_null(r.receipt);
	assert_memory_equal(r.message_id, id, 16);
	free(r.receipt);
	/* the same bytes again: receipted again (resend is safe) */
	assert_int_equal(repat_client_submit(a.c, buf, len, 5000, &r, err), 0);
	assert_true(r.receipted);
	free(r.receipt);
	free(buf);
	/* delivered once, with a verified envelope, sequence 1 */
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	assert_int_equal(repat_client_next_event(b.c, 3000, &ev), 0);
	assert_int_equal(ev.kind, REPAT_EVENT_DELIVER);
	assert_int_equal(ev.seq, 1);
	assert_true(ev.v.verified);
	assert_memory_equal(ev.v.header->message_id.data, id, 16);
	repat_client_event_clear(&ev);
	assert_int_equal(repat_client_last_seq(b.c), 1);
	assert_int_equal(repat_client_ack(b.c, 1, err), 0);
	assert_int_equal(repat_client_next_event(b.c, 700, &ev),
	    REPAT_ETIMEOUT);
	/* reconnecting with acked_seq 1: nothing is handed up twice */
	assert_int_equal(h_agent_connect(&H, &b, 1), 0);
	assert_int_equal(repat_client_next_event(b.c, 700, &ev),
	    REPAT_ETIMEOUT);
	h_agent_free(&a);
	h_agent_free(&b);
}

static void
batch_answers_garbage_locally_and_sends_the_rest(void **state)
{
	struct agent a;
	struct repat_submit_item it[2];
	uint8_t junk[40], id[16], *buf;
	size_t len;
	char err[REPAT_ERRBUF_LEN];

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	memset(junk, 0xee, sizeof(junk));
	h_id(id, 2, 2);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, repat_now_ms(),
	    repat_now_ms() + DAY, 0, &buf, &len), 0);
	memset(it, 0, sizeof(it));
	it[0].bytes = junk;
	it[0].len = sizeof(junk);
	it[1].bytes = buf;
	it[1].len = len;
	assert_int_equal(repat_client_submit_batch(a.c, it, 2, 0, 500, 5000,
	    err), 0);
	assert_true(it[0].answered);
	assert_false(it[0].result.receipted);
	assert_int_equal(it[0].result.code,
	    REPAT__REJECT_CODE__REJECT_MALFORMED);
	assert_null(it[0].result.receipt);
	assert_true(it[1].answered);
	assert_true(it[1].result.receipted);
	free(it[1].result.receipt);
	free(buf);
	h_agent_free(&a);
}

static void
directory_lists_registered_agents(void **state)
{
	struct agent a;
	Repat__Directory *d = NULL;
	char err[REPAT_ERRBUF_LEN];

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	assert_int_equal(repat_client_directory(a.c, 3000, &d, err), 0);
	assert_non_null(d);
	assert_true(d->n_entries >= 2);
	assert_int_equal(d->entries[0]->n_certificates, 2);
	repat_msg_free(d);
	assert_int_equal(repat_client_case_query(a.c, "NOT-A-REF", 3000,
	    &(Repat__CaseState *){ NULL }, err), REPAT_EREFUSED);
	h_agent_free(&a);
}

/* The broker holds a CRL for each of the region's six countries. */
static void
directory_carries_the_crls(void **state)
{
	struct agent a;
	Repat__Directory *d = NULL;
	char err[REPAT_ERRBUF_LEN];
	uint64_t gen;
	size_t i;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	assert_int_equal(repat_client_directory(a.c, 3000, &d, err), 0);
	assert_int_equal(d->n_crls, 6);
	/* The agent's bundle came from the same region: nothing is new. */
	gen = repat_trust_generation(a.ks.trust);
	for (i = 0; i < d->n_crls; i++)
		assert_int_equal(repat_trust_add_crl(a.ks.trust,
		    d->crls[i].data, d->crls[i].len, err), REPAT_EEXIST);
	assert_true(repat_trust_generation(a.ks.trust) == gen);
	repat_msg_free(d);
	h_agent_free(&a);
}

/* A second broker whose frames hold 4096 bytes. */
static struct harness Small;

static int
small_setup(void **state)
{
	(void)state;
	return h_setup(&Small, "max_frame = 4096\n") == 0 &&
	    h_start(&Small) == 0 ? 0 : -1;
}

static int
small_teardown(void **state)
{
	(void)state;
	h_teardown(&Small);
	return 0;
}

/*
 * With a frame too small for everything, the CRLs go in whole and the
 * entries are cut (docs/decisions/0006): an agent can use an entry it
 * cached before, but a CRL it misses leaves it sealing to revoked offices.
 */
static void
crls_fit_before_entries(void **state)
{
	static const char *const ids[] = {
		"TH.DATIP", "MM.DSW", "KH.MOSVY", "LA.MLSW", "VN.MPS"
	};
	struct agent a[5];
	Repat__Directory *d = NULL;
	char err[REPAT_ERRBUF_LEN];
	size_t i;

	(void)state;
	memset(a, 0, sizeof(a));
	for (i = 0; i < 5; i++) {
		assert_int_equal(h_agent_load(&Small, ids[i], &a[i]), 0);
		assert_int_equal(h_agent_connect(&Small, &a[i], 0), 0);
	}
	assert_int_equal(repat_client_directory(a[0].c, 3000, &d, err), 0);
	assert_int_equal(d->n_crls, 6);
	assert_true(d->n_entries >= 1 && d->n_entries < 5);
	repat_msg_free(d);
	for (i = 0; i < 5; i++)
		h_agent_free(&a[i]);
}

/* Takes every event waiting for a (acking it), until 700 ms of quiet. */
static void
drain_events(struct agent *a)
{
	struct repat_client_event ev;
	char err[REPAT_ERRBUF_LEN];

	while (repat_client_next_event(a->c, 700, &ev) == 0) {
		assert_int_equal(repat_client_ack(a->c, ev.seq, err), 0);
		repat_client_event_clear(&ev);
	}
}

/* The TH CA revokes cert; the DER of its new CRL (OPENSSL_free it). */
static int
revoke_at_th_ca(X509 *cert, unsigned char **der)
{
	char err[REPAT_ERRBUF_LEN], dir[400];
	repat_ca_t *ca;
	int len;

	snprintf(dir, sizeof(dir), "%s/ca/TH", H.region);
	assert_int_equal(repat_ca_open(dir, NULL, &ca, err), 0);
	assert_int_equal(repat_ca_revoke(ca, cert, -1, err), 0);
	*der = NULL;
	len = i2d_X509_CRL(repat_ca_crl_get(ca), der);
	repat_ca_close(&ca);
	return len;
}

/*
 * A CRL installed while connected (`repat watch` refreshes the directory
 * every 15 minutes) reaches the client's sender cache at once: the next
 * delivery from a sender it revokes does not verify, though that sender's
 * certificate was verified and cached a moment before. (The broker is not
 * given the CRL here, so it still takes the sender's messages.) Last: it
 * revokes TH.DATIP for B.
 */
static void
sender_cache_forgets_after_a_crl_is_installed(void **state)
{
	struct agent a, b;
	struct repat_submit_result r;
	struct repat_client_event ev;
	char err[REPAT_ERRBUF_LEN];
	unsigned char *der;
	uint8_t id[16], *buf;
	size_t len;
	uint32_t n;
	int dlen;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	drain_events(&b);
	for (n = 0; n < 2; n++) {
		if (n == 1) {
			dlen = revoke_at_th_ca(a.ks.sign_cert, &der);
			assert_true(dlen > 0);
			assert_int_equal(repat_trust_add_crl(b.ks.trust, der,
			    (size_t)dlen, err), 0);
			OPENSSL_free(der);
		}
		h_id(id, 3, n);
		assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, repat_now_ms(),
		    repat_now_ms() + DAY, 0, &buf, &len), 0);
		assert_int_equal(repat_client_submit(a.c, buf, len, 5000, &r,
		    err), 0);
		assert_true(r.receipted);
		free(r.receipt);
		free(buf);
		assert_int_equal(repat_client_next_event(b.c, 3000, &ev), 0);
		assert_int_equal(ev.kind, REPAT_EVENT_DELIVER);
		assert_memory_equal(ev.v.header->message_id.data, id, 16);
		if (n == 0) {
			assert_true(ev.v.verified);
		} else {
			assert_false(ev.v.verified);
			assert_non_null(strstr(ev.verify_error, "revoked"));
		}
		assert_int_equal(repat_client_ack(b.c, ev.seq, err), 0);
		repat_client_event_clear(&ev);
	}
	h_agent_free(&a);
	h_agent_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_keys_refused_at_new),
		cmocka_unit_test(wrong_broker_key_never_connects),
		cmocka_unit_test(wrong_pinned_certificate_refused),
		cmocka_unit_test(no_broker_times_out),
		cmocka_unit_test(hello_again_after_broker_restart),
		cmocka_unit_test(batch_answers_garbage_locally_and_sends_the_rest),
		cmocka_unit_test(directory_lists_registered_agents),
		cmocka_unit_test(directory_carries_the_crls),
		cmocka_unit_test_setup_teardown(crls_fit_before_entries,
		    small_setup, small_teardown),
		/* last: it revokes A for B */
		cmocka_unit_test(sender_cache_forgets_after_a_crl_is_installed),
	};

	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
