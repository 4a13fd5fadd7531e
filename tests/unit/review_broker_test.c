/*
 * review_broker_test.c: regressions for the findings of the security and
 * robustness review of the broker's network-facing code, against a real
 * repat-broker process (broker_harness.h).
 *
 * Storage faults are injected with a SQLite trigger that a second
 * connection adds to the broker's own database file while it runs: the
 * broker's prepared statements are re-prepared and the trigger's RAISE
 * makes exactly one chosen INSERT fail, as a full disk or an I/O error
 * would, without mocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <zmq.h>

#include "broker_harness.h"

#define A_ID "TH.DATIP"
#define B_ID "MM.DSW"
#define C_ID "MM.DNR"
#define DAY (24ULL * 3600 * 1000)
#define SCOPE_SHARE REPAT__CONSENT_SCOPE__CONSENT_SCOPE_SHARE_CASE
#define T_NOTICE REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE
#define T_CONSENT REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CONSENT_UPDATE

/* A signed envelope of type on case_ref with the given consent facts. */
static void
envelope(const struct repat_keystore *signer, const char *recipient,
    int type, const char *case_ref, Repat__ConsentScope *granted,
    size_t ngranted, Repat__ConsentScope *withdrawn, size_t nwithdrawn,
    uint64_t expires, uint8_t id[16], uint8_t **out, size_t *outlen)
{
	Repat__Header h = REPAT__HEADER__INIT;
	Repat__CaseFacts facts = REPAT__CASE_FACTS__INIT;

	RAND_bytes(id, 16);
	facts.n_consent_granted = ngranted;
	facts.consent_granted = granted;
	facts.n_consent_withdrawn = nwithdrawn;
	facts.consent_withdrawn = withdrawn;
	h.version = REPAT_WIRE_VERSION;
	h.message_id.data = id;
	h.message_id.len = 16;
	h.case_ref = (char *)case_ref;
	h.type = type;
	h.sender = (char *)signer->id.agent_id;
	h.recipient = (char *)recipient;
	h.created_ms = repat_now_ms();
	h.expires_ms = expires != 0 ? expires : repat_now_ms() + DAY;
	h.facts = &facts;
	assert_int_equal(h_sign_header(signer, &h, 0x22, out, outlen), 0);
}

/* Submits and returns the answer (receipted or the reject code). */
static void
submit(struct agent *a, const uint8_t *buf, size_t len,
    struct repat_submit_result *res)
{
	char err[REPAT_ERRBUF_LEN];

	memset(res, 0, sizeof(*res));
	assert_int_equal(repat_client_submit(a->c, buf, len, 10000, res, err),
	    0);
	free(res->receipt);
	res->receipt = NULL;
}

/* The broker's database, opened beside it (WAL: it keeps running). */
static sqlite3 *
broker_db(void)
{
	char path[512];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/broker/broker.db", H.region);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static int64_t
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/*
 * Finding: a storage failure inside authorize (the case row stored, then
 * a consent-withdrawn notice to the second recipient failing) was refused
 * INTERNAL but the savepoint was released, so the case kept the
 * withdrawal and the first recipient's notice stayed queued for a message
 * the broker refused. Now the whole submit rolls back: no notice, and the
 * same bytes sent again once storage works notify both recipients.
 */
static void
authorize_storage_failure_rolls_back(void **state)
{
	struct agent a, b, c;
	struct repat_submit_result res;
	Repat__ConsentScope share = SCOPE_SHARE;
	uint8_t id[16], *buf;
	size_t len;
	sqlite3 *db;
	const char *ref = "TH-2026-000777";

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_load(&H, C_ID, &c), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	assert_int_equal(h_agent_connect(&H, &c, 0), 0);

	/* the case opens (recipient B), consent granted to C */
	envelope(&a.ks, B_ID, T_NOTICE,
	    ref, NULL, 0, NULL, 0, 0, id, &buf, &len);
	submit(&a, buf, len, &res);
	free(buf);
	assert_true(res.receipted);
	envelope(&a.ks, C_ID, T_CONSENT,
	    ref, &share, 1, NULL, 0, 0, id, &buf, &len);
	submit(&a, buf, len, &res);
	free(buf);
	assert_true(res.receipted);

	db = broker_db();
	assert_int_equal(count(db, "SELECT count(*) FROM queue WHERE kind = 1"
	    " AND recipient IN ('MM.DSW', 'MM.DNR')"), 0);
	exec(db, "CREATE TRIGGER review_fault BEFORE INSERT ON queue"
	    " WHEN NEW.kind = 1 AND NEW.recipient = 'MM.DNR'"
	    " BEGIN SELECT RAISE(ABORT, 'injected fault'); END");

	/* the withdrawal: B's notice is written, C's fails */
	envelope(&a.ks, B_ID, T_CONSENT,
	    ref, NULL, 0, &share, 1, 0, id, &buf, &len);
	submit(&a, buf, len, &res);
	assert_false(res.receipted);
	assert_int_equal(res.code, REPAT__REJECT_CODE__REJECT_INTERNAL);
	assert_int_equal(count(db, "SELECT count(*) FROM queue WHERE kind = 1"
	    " AND recipient = 'MM.DSW'"), 0);

	/* storage works again: the same bytes notify both recipients */
	exec(db, "DROP TRIGGER review_fault");
	submit(&a, buf, len, &res);
	free(buf);
	assert_true(res.receipted);
	assert_int_equal(count(db, "SELECT count(*) FROM queue WHERE kind = 1"
	    " AND recipient = 'MM.DSW'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM queue WHERE kind = 1"
	    " AND recipient = 'MM.DNR'"), 1);
	sqlite3_close(db);
	h_agent_free(&a);
	h_agent_free(&b);
	h_agent_free(&c);
}

/*
 * Finding: expires_ms above INT64_MAX was stored as a negative SQLite
 * integer, so a receipted message "expired" at the next sweep instead of
 * being delivered. Now it is refused MALFORMED; the largest storable
 * expiry is still accepted.
 */
static void
expiry_beyond_int64_is_refused(void **state)
{
	struct agent a;
	struct repat_submit_result res;
	uint8_t id[16], *buf;
	size_t len;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	envelope(&a.ks, B_ID, T_NOTICE,
	    "TH-2026-000778", NULL, 0, NULL, 0, UINT64_MAX - 1, id, &buf,
	    &len);
	submit(&a, buf, len, &res);
	free(buf);
	assert_false(res.receipted);
	assert_int_equal(res.code, REPAT__REJECT_CODE__REJECT_MALFORMED);
	envelope(&a.ks, B_ID, T_NOTICE,
	    "TH-2026-000778", NULL, 0, NULL, 0, (uint64_t)INT64_MAX, id, &buf,
	    &len);
	submit(&a, buf, len, &res);
	free(buf);
	if (!res.receipted)
		fail_msg("refused %d: %s", res.code, res.reason);
	h_agent_free(&a);
}

/* Appends v as a protobuf varint; the new length. */
static size_t
varint(uint8_t *out, size_t at, uint64_t v)
{
	while (v >= 0x80) {
		out[at++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[at++] = (uint8_t)v;
	return at;
}

/* A DEALER with a's CURVE key that said a valid hello. */
static void *
raw_agent(void *ctx, struct agent *a)
{
	void *s = h_raw_dealer(&H, ctx, a);
	Repat__Frame *in;
	int welcomed = 0;

	h_raw_hello(s, a, HELLO_OK);
	while (!welcomed && (in = h_raw_recv(s, 5000)) != NULL) {
		welcomed = in->command_case == REPAT__FRAME__COMMAND_WELCOME;
		repat_msg_free(in);
	}
	assert_true(welcomed);
	return s;
}

/*
 * Finding: protobuf-c keeps unknown fields and packs them again, so the
 * Ack a recipient sent (with up to a frame's worth of unknown fields)
 * was copied into the NOTICE_DELIVERED of every sender in the acked range
 * and stored and sent that many times. Now the notice carries the signed
 * body and signature only.
 */
static void
ack_unknown_fields_not_copied_into_notices(void **state)
{
	struct agent a, b;
	struct repat_submit_result res;
	Repat__AckBody ab = REPAT__ACK_BODY__INIT;
	Repat__Ack ack = REPAT__ACK__INIT;
	Repat__Frame *in;
	zmq_pollitem_t it;
	zmq_msg_t m;
	uint8_t id[16], sig[64], *buf, *body, *ackb, *frame;
	size_t len, bl, al, fl, pad = 60000;
	uint64_t seq = 0;
	sqlite3 *db;
	void *ctx, *s;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	ctx = zmq_ctx_new();
	s = raw_agent(ctx, &b);
	envelope(&a.ks, B_ID, T_NOTICE,
	    "TH-2026-000779", NULL, 0, NULL, 0, 0, id, &buf, &len);
	submit(&a, buf, len, &res);
	free(buf);
	assert_true(res.receipted);

	/* B's raw stream until the delivery of that message */
	it = (zmq_pollitem_t){ s, 0, ZMQ_POLLIN, 0 };
	while (seq == 0 && zmq_poll(&it, 1, 5000) > 0) {
		struct repat_verified v;
		char err[REPAT_ERRBUF_LEN];

		zmq_msg_init(&m);
		in = NULL;
		if (zmq_msg_recv(&m, s, 0) >= 0 &&
		    repat_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m),
		    &in) == 0 &&
		    in->command_case == REPAT__FRAME__COMMAND_DELIVER &&
		    repat_envelope_parse(in->deliver->signed_envelope.data,
		    in->deliver->signed_envelope.len, &v, err) == 0) {
			if (memcmp(v.header->message_id.data, id, 16) == 0)
				seq = in->deliver->seq;
			repat_verified_clear(&v);
		}
		repat_msg_free(in);
		zmq_msg_close(&m);
	}
	assert_true(seq > 0);

	/* a valid signed ack, with 60 kB of unknown field 50 after it */
	ab.recipient = b.ks.id.agent_id;
	ab.up_to_seq = seq;
	ab.time_ms = repat_now_ms();
	repat_encode(&ab.base, &body, &bl);
	assert_int_equal(repat_sign(b.ks.sign_key, REPAT_PURPOSE_ACK, body, bl,
	    sig), 0);
	ack.body.data = body;
	ack.body.len = bl;
	ack.signature.data = sig;
	ack.signature.len = 64;
	repat_encode(&ack.base, &ackb, &al);
	ackb = repat_xrealloc(ackb, al + 16 + pad);
	al = varint(ackb, al, (50 << 3) | 2);
	al = varint(ackb, al, pad);
	memset(ackb + al, 0x5a, pad);
	al += pad;
	frame = repat_xmalloc(al + 16);
	fl = varint(frame, 0, (7 << 3) | 2);
	fl = varint(frame, fl, al);
	memcpy(frame + fl, ackb, al);
	fl += al;
	assert_true(zmq_send(s, frame, fl, 0) >= 0);
	free(frame);
	free(ackb);
	free(body);

	/* the broker marked it delivered and told A, with a small notice */
	db = broker_db();
	for (int i = 0; i < 100 && count(db, "SELECT count(*) FROM agents "
	    "WHERE id = 'MM.DSW' AND acked_seq > 0") == 0; i++)
		h_sleep_ms(50);
	assert_true(count(db, "SELECT count(*) FROM queue WHERE kind = 1 AND "
	    "recipient = 'TH.DATIP'") >= 1);
	assert_true(count(db, "SELECT max(length(notice)) FROM queue WHERE "
	    "kind = 1 AND recipient = 'TH.DATIP'") < 4096);
	sqlite3_close(db);
	zmq_close(s);
	zmq_ctx_term(ctx);
	h_agent_free(&a);
	h_agent_free(&b);
}

/* A second broker with authorization = sop (the region's agreements). */
static struct harness S;

static int
sop_setup(void **state)
{
	char buf[4096];
	size_t n;
	FILE *f;
	char *p;

	(void)state;
	if (h_setup(&S, NULL) != 0)
		return -1;
	if ((f = fopen(S.conf, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strstr(buf, "authorization = open")) == NULL)
		return -1;
	memcpy(p, "authorization = sop ", 20);
	if ((f = fopen(S.conf, "w")) == NULL)
		return -1;
	fwrite(buf, 1, n, f);
	fclose(f);
	return h_start(&S);
}

static int
sop_teardown(void **state)
{
	(void)state;
	h_teardown(&S);
	return 0;
}

/*
 * Finding: check() said "identical replay" with 1, which is also
 * REJECT_MALFORMED. A consent_update that grants and withdraws the same
 * scope is refused MALFORMED by the SOP, and that refusal was taken for a
 * replay: the broker signed a receipt for a message it never stored (nor
 * audited). Now it is refused, and nothing is stored under its id.
 */
static void
sop_malformed_refusal_is_not_a_receipt(void **state)
{
	struct agent a, b;
	struct repat_submit_result res;
	Repat__ConsentScope share = SCOPE_SHARE;
	uint8_t id[16], *buf;
	size_t len;
	sqlite3 *db;
	sqlite3_stmt *st;
	char path[512];
	int rows;
	const char *ref = "TH-2026-000901";

	(void)state;
	assert_int_equal(h_agent_load(&S, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&S, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&S, &a, 0), 0);
	assert_int_equal(h_agent_connect(&S, &b, 0), 0);
	envelope(&a.ks, B_ID, T_NOTICE,
	    ref, NULL, 0, NULL, 0, 0, id, &buf, &len);
	submit(&a, buf, len, &res);
	free(buf);
	if (!res.receipted)
		fail_msg("identification notice refused %d: %s", res.code,
		    res.reason);
	envelope(&a.ks, B_ID, T_CONSENT,
	    ref, &share, 1, &share, 1, 0, id, &buf, &len);
	submit(&a, buf, len, &res);
	free(buf);
	assert_false(res.receipted);
	assert_int_equal(res.code, REPAT__REJECT_CODE__REJECT_MALFORMED);

	snprintf(path, sizeof(path), "%s/broker/broker.db", S.region);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
	    "messages WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(rows, 0);
	h_agent_free(&a);
	h_agent_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(authorize_storage_failure_rolls_back),
		cmocka_unit_test(expiry_beyond_int64_is_refused),
		cmocka_unit_test(ack_unknown_fields_not_copied_into_notices),
		cmocka_unit_test_setup_teardown(
		    sop_malformed_refusal_is_not_a_receipt, sop_setup,
		    sop_teardown),
	};

	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
