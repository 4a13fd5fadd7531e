/*
 * client_test.c: lib/client.c against a real repat-broker process
 * (broker_harness.h): pinning of the broker's CURVE key and certificate,
 * timeouts, the automatic hello after the broker restarts, and the event
 * stream's sequence rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <zmq.h>

#include "broker_harness.h"

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
	uint64_t t0 = h_now();

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", h_free_port());
	c = repat_client_new(&a.ks, ep, a.curve, a.broker_cert, err);
	assert_non_null(c);
	assert_int_equal(repat_client_connect(c, NULL, 800, err),
	    REPAT_ETIMEOUT);
	assert_true(h_now() - t0 < 3000);
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
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, h_now(),
	    h_now() + DAY, 0, &buf, &len), 0);
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
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, h_now(),
	    h_now() + DAY, 0, &buf, &len), 0);
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
	};

	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
