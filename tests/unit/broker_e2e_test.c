/*
 * broker_e2e_test.c: the real repat-broker process and real agents (lib/
 * client.c) on loopback: admission, submit -> receipt, delivery in order
 * exactly once, offline recipients, SIGKILL and restart, refusals, and
 * expiry. See broker_harness.h for the region and the process.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <zmq.h>

#include "broker_harness.h"
#include "repat/merkle.h"
#include "repat/note.h"

#define A_ID "TH.DATIP"
#define B_ID "MM.DSW"
#define C_ID "MM.DNR"
#define D_ID "TH.IOM"		/* often offline */
#define DAY (24ULL * 3600 * 1000)

static int
group_setup(void **state)
{
	(void)state;
	return h_up(&H, "test_mode = yes\n");
}

/* ------------------------------------------------------------ helpers */

/* What a drain saw. */
struct seen {
	uint8_t *got;		/* per message number: deliveries */
	uint32_t n;		/* numbers expected, 0..n-1 */
	uint8_t from;		/* the sender byte expected in ids */
	uint32_t delivered;	/* distinct deliveries */
	uint32_t dups;		/* deliveries seen twice */
	uint32_t bad;		/* unverified or unexpected */
	uint32_t notified;	/* ids in NOTICE_DELIVERED */
	uint32_t expired;	/* ids in NOTICE_EXPIRED */
	uint64_t last_seq;
	uint32_t gaps;		/* seq not last_seq + 1 */
	uint8_t watch[16];	/* an id whose expiry notice we wait for */
	bool watch_expired;
	bool watch_dead;	/* ... or dead-letter notice */
};

static void
seen_init(struct seen *s, uint32_t n, uint8_t from)
{
	memset(s, 0, sizeof(*s));
	s->got = calloc(n + 1, 1);
	s->n = n;
	s->from = from;
}

static void
on_event(struct seen *s, const struct repat_client_event *ev)
{
	const Repat__NoticeBody *nb = ev->notice_body;
	uint32_t k;
	size_t i;

	if (s->last_seq != 0 && ev->seq != s->last_seq + 1)
		s->gaps++;
	s->last_seq = ev->seq;
	if (ev->kind == REPAT_EVENT_DELIVER) {
		const uint8_t *id = ev->v.header->message_id.data;

		if (!ev->v.verified) {
			s->bad++;
			return;
		}
		if (id[0] != s->from)
			return;		/* left over from an earlier test */
		if ((k = h_id_n(id)) >= s->n) {
			s->bad++;
			return;
		}
		if (s->got[k]++ > 0)
			s->dups++;
		else
			s->delivered++;
		return;
	}
	if (ev->kind != REPAT_EVENT_NOTICE || nb == NULL ||
	    !ev->notice_verified) {
		s->bad++;
		return;
	}
	if (nb->kind == REPAT__NOTICE_KIND__NOTICE_DELIVERED)
		s->notified += (uint32_t)nb->n_message_ids;
	if (nb->kind == REPAT__NOTICE_KIND__NOTICE_DEAD_LETTER)
		for (i = 0; i < nb->n_message_ids; i++)
			if (memcmp(nb->message_ids[i].data, s->watch, 16) == 0)
				s->watch_dead = true;
	if (nb->kind == REPAT__NOTICE_KIND__NOTICE_EXPIRED) {
		s->expired += (uint32_t)nb->n_message_ids;
		for (i = 0; i < nb->n_message_ids; i++)
			if (memcmp(nb->message_ids[i].data, s->watch, 16) == 0)
				s->watch_expired = true;
	}
}

/*
 * Receives until done(s) or no event for idle_ms, acking every 32
 * events and at the end. Returns the number of events.
 */
static uint32_t
drain(struct agent *a, struct seen *s, bool (*done)(const struct seen *),
    int idle_ms)
{
	struct repat_client_event ev;
	char err[REPAT_ERRBUF_LEN];
	uint32_t n = 0;
	uint64_t todo = 0;

	while (done == NULL || !done(s)) {
		if (repat_client_next_event(a->c, idle_ms, &ev) != 0)
			break;
		if (ev.kind == REPAT_EVENT_BYE) {
			repat_client_event_clear(&ev);
			break;
		}
		on_event(s, &ev);
		todo = ev.seq;
		repat_client_event_clear(&ev);
		if (++n % 32 == 0) {
			(void)repat_client_ack(a->c, todo, err);
			todo = 0;
		}
	}
	if (todo != 0)
		(void)repat_client_ack(a->c, todo, err);
	return n;
}

static bool
all_delivered(const struct seen *s)
{
	return s->delivered == s->n;
}

/* Builds n envelopes from a to `to` with ids (who, 0..n-1). */
static struct repat_submit_item *
make_items(struct agent *a, const char *to, uint8_t who, uint32_t n,
    uint64_t expires)
{
	struct repat_submit_item *it = calloc(n, sizeof(*it));
	uint8_t id[16], *buf;
	size_t len;
	uint32_t i;
	uint64_t now = repat_now_ms();

	for (i = 0; i < n; i++) {
		h_id(id, who, i);
		assert_int_equal(h_envelope(&a->ks, a->ks.id.agent_id, to, id,
		    now, expires ? expires : now + DAY, 0, &buf, &len), 0);
		it[i].bytes = buf;
		it[i].len = len;
	}
	return it;
}

static void
free_items(struct repat_submit_item *it, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		free((void *)it[i].bytes);
		free(it[i].result.receipt);
	}
	free(it);
}

static uint32_t
count_receipted(const struct repat_submit_item *it, uint32_t n)
{
	uint32_t i, k = 0;

	for (i = 0; i < n; i++)
		k += it[i].answered && it[i].result.receipted;
	return k;
}

static uint32_t
e2e_n(void)
{
	const char *e = getenv("REPAT_E2E_N");

	if (e != NULL)
		return (uint32_t)atoi(e);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return 2000;	/* ASan makes every signature ~3x slower, TSan more */
#else
	return 10000;
#endif
}

/* Submits one envelope; the rejection code or 0 when receipted. */
static int
submit_one(struct agent *a, const uint8_t *buf, size_t len)
{
	struct repat_submit_result r;
	char err[REPAT_ERRBUF_LEN];
	int rc;

	rc = repat_client_submit(a->c, buf, len, 5000, &r, err);
	assert_int_equal(rc, 0);
	free(r.receipt);
	return r.receipted ? 0 : r.code;
}

/* ------------------------------------------------------------ tests */

static void
hello_submit_deliver_ack(void **state)
{
	struct agent a, b;
	struct seen sa, sb;
	uint8_t id[16], *buf;
	size_t len;
	uint64_t t = 0;
	char err[REPAT_ERRBUF_LEN];

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	assert_int_equal(repat_client_ping(a.c, 3000, &t, err), 0);
	assert_true(t + 60000 > repat_now_ms() && t < repat_now_ms() + 60000);
	h_id(id, 9, 0);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, repat_now_ms(),
	    repat_now_ms() + DAY, 0, &buf, &len), 0);
	assert_int_equal(submit_one(&a, buf, len), 0);
	seen_init(&sb, 1, 9);
	drain(&b, &sb, all_delivered, 3000);
	assert_int_equal(sb.delivered, 1);
	assert_int_equal(sb.bad, 0);
	/* the sender learns of the delivery with the recipient's ack */
	seen_init(&sa, 1, 0);
	while (sa.notified == 0 && drain(&a, &sa, NULL, 1500) > 0)
		;
	assert_int_equal(sa.notified, 1);
	free(buf);
	free(sa.got);
	free(sb.got);
	h_agent_free(&a);
	h_agent_free(&b);
}

/* One agent of the stream test: sends n to `to`, receives n from `from`. */
struct streamer {
	struct agent a;
	const char *id;
	const char *to;
	uint8_t who;		/* our id byte */
	uint8_t from;		/* the id byte of who sends to us */
	uint32_t n;
	uint32_t receipted;
	struct seen seen;
};

static bool
stream_done(const struct seen *s)
{
	return s->delivered == s->n && s->notified >= s->n;
}

static void *
stream_run(void *arg)
{
	struct streamer *st = arg;
	struct repat_submit_item *it;
	char err[REPAT_ERRBUF_LEN];
	uint64_t end = repat_now_ms() + 45000;

	it = make_items(&st->a, st->to, st->who, st->n, 0);
	if (repat_client_submit_batch(st->a.c, it, st->n, 128, 2000, 15000,
	    err) != 0)
		fprintf(stderr, "%s: %s\n", st->id, err);
	st->receipted = count_receipted(it, st->n);
	free_items(it, st->n);
	while (!stream_done(&st->seen) && repat_now_ms() < end)
		if (drain(&st->a, &st->seen, stream_done, 3000) == 0)
			break;
	return NULL;
}

static void
three_agents_two_countries_exactly_once(void **state)
{
	struct streamer st[3];
	const char *ids[3] = { A_ID, B_ID, C_ID };
	pthread_t th[3];
	uint32_t n = e2e_n();
	int i;

	(void)state;
	memset(st, 0, sizeof(st));
	for (i = 0; i < 3; i++) {
		st[i].id = ids[i];
		st[i].to = ids[(i + 1) % 3];
		st[i].who = (uint8_t)(10 + i);
		st[i].from = (uint8_t)(10 + (i + 2) % 3);
		st[i].n = n;
		assert_int_equal(h_agent_load(&H, ids[i], &st[i].a), 0);
		assert_int_equal(h_agent_connect(&H, &st[i].a, 0), 0);
		seen_init(&st[i].seen, n, st[i].from);
	}
	for (i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, stream_run, &st[i]);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 3; i++) {
		fprintf(stderr, "%s: receipted %u, delivered %u, notified %u, "
		    "dups %u, bad %u, gaps %u\n", st[i].id, st[i].receipted,
		    st[i].seen.delivered, st[i].seen.notified, st[i].seen.dups,
		    st[i].seen.bad, st[i].seen.gaps);
		assert_int_equal(st[i].receipted, n);
		assert_int_equal(st[i].seen.delivered, n);
		assert_int_equal(st[i].seen.dups, 0);
		assert_int_equal(st[i].seen.bad, 0);
		assert_int_equal(st[i].seen.gaps, 0);
		assert_true(st[i].seen.notified >= n);
		free(st[i].seen.got);
		h_agent_free(&st[i].a);
	}
}

static void
offline_recipient_gets_everything_in_order(void **state)
{
	struct agent a, d;
	struct repat_submit_item *it;
	struct repat_client_event ev;
	char err[REPAT_ERRBUF_LEN];
	uint32_t n = 300, k = 0;
	uint64_t seq = 0;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, D_ID, &d), 0);
	/* D says hello once (registration), then goes away */
	assert_int_equal(h_agent_connect(&H, &d, 0), 0);
	repat_client_close(d.c);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	it = make_items(&a, D_ID, 20, n, 0);
	assert_int_equal(repat_client_submit_batch(a.c, it, n, 64, 2000, 10000,
	    err), 0);
	assert_int_equal(count_receipted(it, n), n);
	free_items(it, n);
	h_sleep_ms(300);
	assert_int_equal(h_agent_connect(&H, &d, 0), 0);
	while (k < n && repat_client_next_event(d.c, 3000, &ev) == 0) {
		if (ev.kind == REPAT_EVENT_DELIVER) {
			assert_true(ev.v.verified);
			/* acceptance order: number k arrives k-th */
			assert_int_equal(h_id_n(ev.v.header->message_id.data), k);
			k++;
		}
		assert_true(ev.seq > seq);
		seq = ev.seq;
		if (ev.seq % 50 == 0)
			(void)repat_client_ack(d.c, ev.seq, err);
		repat_client_event_clear(&ev);
	}
	assert_int_equal(k, n);
	(void)repat_client_ack(d.c, seq, err);
	h_sleep_ms(100);
	h_agent_free(&a);
	h_agent_free(&d);
}

struct killer_arg {
	struct agent *a;
	struct repat_submit_item *it;
	uint32_t n;
	int rc;
};

static void *
killer_submit(void *arg)
{
	struct killer_arg *k = arg;
	char err[REPAT_ERRBUF_LEN];

	k->rc = repat_client_submit_batch(k->a->c, k->it, k->n, 64, 700, 20000,
	    err);
	if (k->rc != 0)
		fprintf(stderr, "submit during kill: %s\n", err);
	return NULL;
}

static void
sigkill_during_stream_loses_nothing(void **state)
{
	struct agent a, b;
	struct killer_arg k;
	struct seen sb;
	pthread_t th;
	uint32_t n = 3000, i;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	k.a = &a;
	k.n = n;
	k.it = make_items(&a, B_ID, 30, n, 0);
	pthread_create(&th, NULL, killer_submit, &k);
	h_sleep_ms(250);
	assert_int_equal(h_stop(&H, SIGKILL), -1);
	assert_int_equal(h_start(&H), 0);
	pthread_join(th, NULL);
	assert_int_equal(k.rc, 0);
	assert_int_equal(count_receipted(k.it, n), n);
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	seen_init(&sb, n, 30);
	for (i = 0; i < 10 && sb.delivered < n; i++)
		drain(&b, &sb, all_delivered, 3000);
	assert_int_equal(sb.delivered, n);
	assert_int_equal(sb.dups, 0);
	assert_int_equal(sb.bad, 0);
	free(sb.got);
	free_items(k.it, n);
	h_agent_free(&a);
	h_agent_free(&b);
}

/*
 * Flips one byte of the filler ciphertext (filler 0x5a), so the envelope
 * still parses and only its signature fails.
 */
static void
forge(uint8_t *buf, size_t len)
{
	static const uint8_t run[8] = { 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
	    0x5a, 0x5a };
	size_t i;

	for (i = 0; i + sizeof(run) <= len; i++)
		if (memcmp(buf + i, run, sizeof(run)) == 0) {
			buf[i + 4] ^= 0x01;
			return;
		}
	fail_msg("no filler run to forge");
}

/*
 * Groups of hundreds of submits are verified on the worker threads
 * (prepare.c): forged and mis-signed envelopes among good ones get their
 * own codes, in any position of a group, and only the good ones are
 * delivered, once each.
 */
static void
parallel_verification_keeps_every_answer(void **state)
{
	struct agent a, b;
	struct repat_submit_item *it;
	struct seen sb;
	uint8_t id[16], *buf;
	size_t len;
	char err[REPAT_ERRBUF_LEN];
	uint32_t n = e2e_n() / 10, i, good = 0;
	int want;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	it = calloc(n, sizeof(*it));
	for (i = 0; i < n; i++) {
		h_id(id, 41, i);
		/* every 11th signed by B's key under A's name */
		assert_int_equal(h_envelope(i % 11 == 5 ? &b.ks : &a.ks, A_ID,
		    B_ID, id, repat_now_ms(), repat_now_ms() + DAY, 0x5a, &buf, &len), 0);
		if (i % 7 == 3)
			forge(buf, len);
		it[i].bytes = buf;
		it[i].len = len;
	}
	assert_int_equal(repat_client_submit_batch(a.c, it, n, 256, 3000,
	    15000, err), 0);
	for (i = 0; i < n; i++) {
		want = i % 11 == 5 ?
		    REPAT__REJECT_CODE__REJECT_SENDER_MISMATCH : i % 7 == 3 ?
		    REPAT__REJECT_CODE__REJECT_BAD_SIGNATURE : 0;
		assert_true(it[i].answered);
		assert_int_equal(it[i].result.code, want);
		assert_int_equal(it[i].result.receipted, want == 0);
		good += want == 0;
	}
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	seen_init(&sb, n, 41);
	for (i = 0; i < 10 && sb.delivered < good; i++)
		drain(&b, &sb, NULL, 1500);
	assert_int_equal(sb.delivered, good);
	assert_int_equal(sb.dups, 0);
	assert_int_equal(sb.bad, 0);
	for (i = 0; i < n; i++)
		assert_int_equal(sb.got[i], (i % 11 != 5 && i % 7 != 3));
	free(sb.got);
	free_items(it, n);
	h_agent_free(&a);
	h_agent_free(&b);
}

/* ---- hand-made hellos on a raw DEALER (broker_harness.h) */

/* Sends a hello made `how`; the Bye code, or 0 for a Welcome. */
static int
hello_answer(void *ctx, struct agent *a, int how)
{
	void *s = h_raw_dealer(&H, ctx, a);
	Repat__Frame *f;
	int code = -1;

	h_raw_hello(s, a, how);
	f = h_raw_recv(s, 3000);
	if (f != NULL && f->command_case == REPAT__FRAME__COMMAND_WELCOME)
		code = 0;
	else if (f != NULL && f->command_case == REPAT__FRAME__COMMAND_BYE)
		code = f->bye->has_code ? (int)f->bye->code : -2;
	repat_msg_free(f);
	zmq_close(s);
	return code;
}

static void
hello_refusals(void **state)
{
	struct agent c;
	void *ctx = zmq_ctx_new();

	(void)state;
	assert_int_equal(h_agent_load(&H, C_ID, &c), 0);
	assert_int_equal(hello_answer(ctx, &c, HELLO_OK), 0);
	assert_int_equal(hello_answer(ctx, &c, HELLO_OTHER_CURVE),
	    REPAT__REJECT_CODE__REJECT_CURVE_KEY_MISMATCH);
	assert_int_equal(hello_answer(ctx, &c, HELLO_OTHER_BROKER),
	    REPAT__REJECT_CODE__REJECT_WRONG_BROKER);
	assert_int_equal(hello_answer(ctx, &c, HELLO_BAD_SIG),
	    REPAT__REJECT_CODE__REJECT_BAD_SIGNATURE);
	assert_int_equal(hello_answer(ctx, &c, HELLO_SKEW),
	    REPAT__REJECT_CODE__REJECT_CLOCK_SKEW);
	assert_int_equal(hello_answer(ctx, &c, HELLO_NO_CERTS),
	    REPAT__REJECT_CODE__REJECT_BAD_CERTIFICATE);
	zmq_ctx_term(ctx);
	h_agent_free(&c);
}

static void
submit_refusals(void **state)
{
	struct agent a, b, d;
	uint8_t id[16], *x, *y;
	size_t xl, yl;
	uint64_t now = repat_now_ms();

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_load(&H, D_ID, &d), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	/* another country's agent's message: not A's to submit */
	h_id(id, 40, 0);
	assert_int_equal(h_envelope(&b.ks, B_ID, C_ID, id, now, now + DAY, 0,
	    &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl),
	    REPAT__REJECT_CODE__REJECT_SENDER_MISMATCH);
	free(x);
	/* header says A, certificate is D's */
	h_id(id, 40, 1);
	assert_int_equal(h_envelope(&d.ks, A_ID, B_ID, id, now, now + DAY, 0,
	    &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl),
	    REPAT__REJECT_CODE__REJECT_SENDER_MISMATCH);
	free(x);
	/* a same-country relay is accepted */
	h_id(id, 40, 2);
	assert_int_equal(h_envelope(&d.ks, D_ID, B_ID, id, now, now + DAY, 0,
	    &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl), 0);
	free(x);
	/* replay: identical bytes receipted again, other bytes refused */
	h_id(id, 40, 3);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, now, now + DAY, 1,
	    &x, &xl), 0);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, now, now + DAY, 2,
	    &y, &yl), 0);
	assert_int_equal(submit_one(&a, x, xl), 0);
	assert_int_equal(submit_one(&a, x, xl), 0);
	assert_int_equal(submit_one(&a, y, yl),
	    REPAT__REJECT_CODE__REJECT_DUPLICATE_ID);
	/* a flipped signature byte */
	free(y);
	h_id(id, 40, 4);
	free(x);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, now, now + DAY, 1,
	    &x, &xl), 0);
	{
		Repat__SignedEnvelope *se;
		uint8_t *z;
		size_t zl;

		assert_int_equal(REPAT_DECODE(Repat__SignedEnvelope,
		    signed_envelope, x, xl, REPAT_MAX_ENVELOPE, &se), 0);
		se->signature.data[0] ^= 1;
		repat_encode(&se->base, &z, &zl);
		repat_msg_free(se);
		assert_int_equal(submit_one(&a, z, zl),
		    REPAT__REJECT_CODE__REJECT_BAD_SIGNATURE);
		free(z);
	}
	free(x);
	/* time: expired, from the future; unknown recipient */
	h_id(id, 40, 5);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, now - 2 * DAY,
	    now - DAY, 1, &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl),
	    REPAT__REJECT_CODE__REJECT_EXPIRED);
	free(x);
	h_id(id, 40, 6);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, now + 3600000,
	    now + DAY, 1, &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl),
	    REPAT__REJECT_CODE__REJECT_CLOCK_SKEW);
	free(x);
	h_id(id, 40, 7);
	assert_int_equal(h_envelope(&a.ks, A_ID, "TH.NOBODY", id, now,
	    now + DAY, 1, &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl),
	    REPAT__REJECT_CODE__REJECT_UNKNOWN_RECIPIENT);
	free(x);
	/* garbage inside a valid submit frame */
	{
		uint8_t junk[40];

		memset(junk, 0xee, sizeof(junk));
		assert_int_equal(repat_client_submit(a.c, junk, sizeof(junk),
		    1000, &(struct repat_submit_result){ 0 }, (char[256]){ 0 }),
		    REPAT_EINVAL);
	}
	h_agent_free(&a);
	h_agent_free(&b);
	h_agent_free(&d);
}

static void
garbage_and_oversize_do_not_hurt_others(void **state)
{
	struct agent a, c;
	void *ctx = zmq_ctx_new(), *s;
	uint8_t junk[64], *big;
	size_t bigl = REPAT_MAX_FRAME + 100;
	Repat__Frame *f;
	uint64_t t;
	char err[REPAT_ERRBUF_LEN];

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, C_ID, &c), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	memset(junk, 0xff, sizeof(junk));
	/* before hello: garbage gets no answer at all */
	s = h_raw_dealer(&H, ctx, &c);
	assert_true(zmq_send(s, junk, sizeof(junk), 0) >= 0);
	assert_null(h_raw_recv(s, 500));
	/* after hello: a rejection, and the session keeps working */
	h_raw_hello(s, &c, HELLO_OK);
	f = h_raw_recv(s, 3000);
	assert_non_null(f);
	assert_int_equal(f->command_case, REPAT__FRAME__COMMAND_WELCOME);
	repat_msg_free(f);
	assert_true(zmq_send(s, junk, sizeof(junk), 0) >= 0);
	for (;;) {
		f = h_raw_recv(s, 3000);
		assert_non_null(f);
		if (f->command_case == REPAT__FRAME__COMMAND_REJECTION)
			break;
		repat_msg_free(f);	/* pending deliveries of C */
	}
	assert_int_equal(f->rejection->code,
	    REPAT__REJECT_CODE__REJECT_MALFORMED);
	repat_msg_free(f);
	/* oversize: the connection is dropped by ZMQ_MAXMSGSIZE */
	big = calloc(1, bigl);
	assert_true(zmq_send(s, big, bigl, 0) >= 0);
	free(big);
	h_sleep_ms(200);
	assert_int_equal(repat_client_ping(a.c, 3000, &t, err), 0);
	zmq_close(s);
	zmq_ctx_term(ctx);
	h_agent_free(&a);
	h_agent_free(&c);
}

static bool
watch_done(const struct seen *s)
{
	return s->watch_expired;
}

static void
expired_message_notifies_sender(void **state)
{
	struct agent a, d;
	struct seen sa, sd;
	uint8_t id[16], *x;
	size_t xl;
	uint64_t now = repat_now_ms();
	int i;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, D_ID, &d), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	/* D is offline; the message lives 1.2 s */
	h_id(id, 50, 0);
	assert_int_equal(h_envelope(&a.ks, A_ID, D_ID, id, now, now + 1200, 0,
	    &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl), 0);
	free(x);
	seen_init(&sa, 1, 50);
	memcpy(sa.watch, id, 16);
	for (i = 0; i < 6 && !sa.watch_expired; i++)
		drain(&a, &sa, watch_done, 1000);
	assert_true(sa.watch_expired);
	/* D finds the expiry notice in place of the message */
	assert_int_equal(h_agent_connect(&H, &d, 0), 0);
	seen_init(&sd, 1, 50);
	memcpy(sd.watch, id, 16);
	for (i = 0; i < 6 && !sd.watch_expired; i++)
		drain(&d, &sd, watch_done, 1000);
	assert_true(sd.watch_expired);
	assert_int_equal(sd.delivered, 0);
	free(sa.got);
	free(sd.got);
	h_agent_free(&a);
	h_agent_free(&d);
}

static void
proof_of_acceptance_verifies(void **state)
{
	struct agent a, b;
	struct repat_note_verifier v;
	struct repat_identity bid;
	Repat__Proof *p = NULL;
	Repat__AuditEntry *e;
	char err[REPAT_ERRBUF_LEN], name[300];
	uint8_t id[16], *buf, pub[32], root[32], lh[32], hashes[65][32];
	uint64_t size, size1;
	size_t len, i;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_load(&H, B_ID, &b), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	h_id(id, 60, 0);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, repat_now_ms(),
	    repat_now_ms() + DAY, 0, &buf, &len), 0);
	assert_int_equal(submit_one(&a, buf, len), 0);
	free(buf);
	assert_int_equal(repat_client_proof(a.c, id, 0, 3000, &p, err), 0);
	/* the checkpoint is signed by the pinned broker certificate's key */
	assert_int_equal(repat_cert_identity(a.broker_cert, &bid, err), 0);
	assert_int_equal(repat_cert_public_raw(a.broker_cert, pub), 0);
	snprintf(name, sizeof(name), "repat-broker/%s", bid.agent_id);
	assert_int_equal(repat_note_verifier_init(&v, name, pub), 0);
	assert_int_equal(repat_checkpoint_open(p->checkpoint.data,
	    p->checkpoint.len, &v, &size, root, err), 0);
	assert_true(p->has_leaf && p->has_leaf_index);
	assert_int_equal(REPAT_DECODE(Repat__AuditEntry, audit_entry,
	    p->leaf.data, p->leaf.len, REPAT_MAX_FRAME, &e), 0);
	assert_int_equal(e->kind, REPAT__AUDIT_KIND__AUDIT_ACCEPTED);
	assert_memory_equal(e->message_id.data, id, 16);
	repat_msg_free(e);
	assert_true(p->n_inclusion <= 65);
	for (i = 0; i < p->n_inclusion; i++) {
		assert_int_equal(p->inclusion[i].len, 32);
		memcpy(hashes[i], p->inclusion[i].data, 32);
	}
	repat_merkle_leaf_hash(p->leaf.data, p->leaf.len, lh);
	assert_int_equal(repat_merkle_verify_inclusion(p->leaf_index, size, lh,
	    (const uint8_t (*)[32])hashes, p->n_inclusion, root), 0);
	lh[0] ^= 1;
	assert_int_not_equal(repat_merkle_verify_inclusion(p->leaf_index,
	    size, lh, (const uint8_t (*)[32])hashes, p->n_inclusion, root), 0);
	repat_msg_free(p);
	/* consistency from that size to a later checkpoint */
	size1 = size;
	assert_int_equal(repat_client_ping(a.c, 1000, &size, err), 0);
	h_id(id, 60, 1);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, repat_now_ms(),
	    repat_now_ms() + DAY, 0, &buf, &len), 0);
	assert_int_equal(submit_one(&a, buf, len), 0);
	free(buf);
	assert_int_equal(repat_client_proof(a.c, NULL, size1, 3000, &p, err),
	    0);
	assert_int_equal(repat_checkpoint_open(p->checkpoint.data,
	    p->checkpoint.len, &v, &size, lh, err), 0);
	assert_true(size > size1);
	for (i = 0; i < p->n_consistency; i++)
		memcpy(hashes[i], p->consistency[i].data, 32);
	assert_int_equal(repat_merkle_verify_consistency(size1, size,
	    (const uint8_t (*)[32])hashes, p->n_consistency, root, lh), 0);
	repat_msg_free(p);
	/* someone else's message: no proof */
	assert_int_equal(h_agent_connect(&H, &b, 0), 0);
	h_id(id, 60, 2);
	assert_int_equal(h_envelope(&a.ks, A_ID, B_ID, id, repat_now_ms(),
	    repat_now_ms() + DAY, 0, &buf, &len), 0);
	assert_int_equal(submit_one(&a, buf, len), 0);
	free(buf);
	{
		struct agent c;

		assert_int_equal(h_agent_load(&H, "MM.DNR", &c), 0);
		assert_int_equal(h_agent_connect(&H, &c, 0), 0);
		assert_int_equal(repat_client_proof(c.c, id, 0, 3000, &p, err),
		    REPAT_EREFUSED);
		h_agent_free(&c);
	}
	h_agent_free(&a);
	h_agent_free(&b);
}

static bool
dead_done(const struct seen *s)
{
	return s->watch_dead;
}

/* Restarts the broker with extra conf lines (NULL: the default ones). */
static void
restart_with(const char *extra)
{
	char conf[512];

	snprintf(conf, sizeof(conf), "test_mode = yes\n%s", extra ? extra : "");
	assert_int_equal(h_stop(&H, SIGTERM), 0);
	assert_int_equal(h_write_conf(&H, conf), 0);
	assert_int_equal(h_start(&H), 0);
}

/*
 * Connects A and D, lets D take and ack what it had waiting, and submits
 * one message from A to D with id h_id(id, byte, 0).
 */
static void
one_message_a_to_d(struct agent *a, struct agent *d, uint8_t byte,
    uint8_t id[16])
{
	struct seen sd;
	uint8_t *x;
	size_t xl;

	assert_int_equal(h_agent_load(&H, A_ID, a), 0);
	assert_int_equal(h_agent_load(&H, D_ID, d), 0);
	assert_int_equal(h_agent_connect(&H, a, 0), 0);
	assert_int_equal(h_agent_connect(&H, d, 0), 0);
	seen_init(&sd, 1, byte);
	drain(d, &sd, NULL, 600);
	free(sd.got);
	h_id(id, byte, 0);
	assert_int_equal(h_envelope(&a->ks, A_ID, D_ID, id, repat_now_ms(),
	    repat_now_ms() + DAY, 0, &x, &xl), 0);
	assert_int_equal(submit_one(a, x, xl), 0);
	free(x);
}

static void
unacked_message_is_dead_lettered(void **state)
{
	struct agent a, d;
	struct seen sa;
	struct repat_client_event ev;
	uint8_t id[16];
	int i, got = 0;

	(void)state;
	restart_with("delivery_limit = 2\nredeliver_min = 200ms\n"
	    "redeliver_max = 400ms\n");
	one_message_a_to_d(&a, &d, 70, id);
	/* D takes its deliveries but never acks */
	for (i = 0; i < 20 && got == 0; i++) {
		if (repat_client_next_event(d.c, 200, &ev) != 0)
			continue;
		if (ev.kind == REPAT_EVENT_DELIVER &&
		    memcmp(ev.v.header->message_id.data, id, 16) == 0)
			got = 1;
		repat_client_event_clear(&ev);
	}
	assert_int_equal(got, 1);
	seen_init(&sa, 1, 70);
	memcpy(sa.watch, id, 16);
	for (i = 0; i < 8 && !sa.watch_dead; i++) {
		(void)repat_client_next_event(d.c, 100, &ev);
		repat_client_event_clear(&ev);
		drain(&a, &sa, dead_done, 800);
	}
	assert_true(sa.watch_dead);
	free(sa.got);
	h_agent_free(&a);
	h_agent_free(&d);
	restart_with(NULL);
}

/*
 * Waits for the first event on d's stream; returns its kind and, for a
 * delivery, whether it carries id (*is_id).
 */
static int
first_event(struct agent *d, const uint8_t id[16], bool *is_id,
    int *notice_kind)
{
	struct repat_client_event ev;
	int i, kind = -1;

	*is_id = false;
	*notice_kind = -1;
	for (i = 0; i < 20 && kind < 0; i++) {
		if (repat_client_next_event(d->c, 200, &ev) != 0)
			continue;
		kind = ev.kind;
		if (ev.kind == REPAT_EVENT_DELIVER)
			*is_id = memcmp(ev.v.header->message_id.data, id,
			    16) == 0;
		if (ev.kind == REPAT_EVENT_NOTICE && ev.notice_body != NULL)
			*notice_kind = ev.notice_body->kind;
		repat_client_event_clear(&ev);
	}
	return kind;
}

/*
 * A recipient that crashes on a message and comes back (a new connection
 * with the same key, no bye) never acks it: its sends count across those
 * hellos until delivery_limit dead-letters it, and the rest of the
 * stream flows again. A bye ends the count (`repat watch` retrying a
 * failed --exec says one). The timers are too slow to play a part: every
 * send here is a hello's.
 */
static void
poison_message_is_dead_lettered_across_reconnects(void **state)
{
	struct agent a, d;
	struct seen sa;
	uint8_t id[16];
	bool is_id;
	int round, nk;

	(void)state;
	restart_with("delivery_limit = 3\nredeliver_min = 60s\n"
	    "redeliver_max = 60s\n");
	one_message_a_to_d(&a, &d, 71, id);
	h_agent_free(&d);
	/*
	 * A session that ends with a bye after two sends, then three
	 * connections of one client, each on a new socket without a bye:
	 * sends 1, 2, 3 of the new count.
	 */
	assert_int_equal(h_agent_load(&H, D_ID, &d), 0);
	for (round = 0; round < 5; round++) {
		if (round == 2) {
			h_agent_free(&d);	/* bye */
			assert_int_equal(h_agent_load(&H, D_ID, &d), 0);
		}
		assert_int_equal(h_agent_connect(&H, &d, 0), 0);
		assert_int_equal(first_event(&d, id, &is_id, &nk),
		    REPAT_EVENT_DELIVER);
		assert_true(is_id);
	}
	/* The fourth hello of the session finds the limit: a dead letter. */
	assert_int_equal(h_agent_connect(&H, &d, 0), 0);
	assert_int_equal(first_event(&d, id, &is_id, &nk), REPAT_EVENT_NOTICE);
	assert_int_equal(nk, REPAT__NOTICE_KIND__NOTICE_DEAD_LETTER);
	seen_init(&sa, 1, 71);
	memcpy(sa.watch, id, 16);
	drain(&a, &sa, dead_done, 2000);
	assert_true(sa.watch_dead);
	free(sa.got);
	seen_init(&sa, 1, 71);
	drain(&d, &sa, NULL, 400);	/* ack the dead letter */
	free(sa.got);
	h_agent_free(&a);
	h_agent_free(&d);
	restart_with(NULL);
}

static void
clock_offset_expires_waiting_messages(void **state)
{
	struct agent a;
	struct seen sa;
	uint8_t id[16], *x;
	size_t xl;
	int i;

	(void)state;
	assert_int_equal(h_agent_load(&H, A_ID, &a), 0);
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	/* to D, offline, for an hour */
	h_id(id, 80, 0);
	assert_int_equal(h_envelope(&a.ks, A_ID, D_ID, id, repat_now_ms(),
	    repat_now_ms() + 3600000, 0, &x, &xl), 0);
	assert_int_equal(submit_one(&a, x, xl), 0);
	free(x);
	repat_client_close(a.c);
	/* two hours later by the broker's (test) clock */
	restart_with("clock_offset = 2h\nclock_skew = 3h\n");
	assert_int_equal(h_agent_connect(&H, &a, 0), 0);
	seen_init(&sa, 1, 80);
	memcpy(sa.watch, id, 16);
	for (i = 0; i < 6 && !sa.watch_expired; i++)
		drain(&a, &sa, watch_done, 1000);
	assert_true(sa.watch_expired);
	free(sa.got);
	h_agent_free(&a);
	restart_with(NULL);
}

static void
revoked_agent_is_closed_at_sighup(void **state)
{
	struct agent c;
	struct repat_client_event ev;
	char cmd[2048];
	int i, bye = 0;

	(void)state;
	assert_int_equal(h_agent_load(&H, "MM.DNR", &c), 0);
	assert_int_equal(h_agent_connect(&H, &c, 0), 0);
	snprintf(cmd, sizeof(cmd), "%s/repat ca revoke --ca %s/ca/MM --cert "
	    "%s/agents/MM.DNR/sign.crt >/dev/null 2>&1 && cp %s/ca/MM/ca.crl "
	    "%s/broker/trust/MM.crl", h_build(), H.region, H.region, H.region,
	    H.region);
	assert_int_equal(system(cmd), 0);
	kill(H.pid, SIGHUP);
	for (i = 0; i < 30 && !bye; i++) {
		if (repat_client_next_event(c.c, 200, &ev) != 0)
			continue;
		if (ev.kind == REPAT_EVENT_BYE) {
			bye = 1;
			assert_int_equal(ev.bye_code,
			    REPAT__REJECT_CODE__REJECT_CERTIFICATE_REVOKED);
		}
		repat_client_event_clear(&ev);
	}
	assert_int_equal(bye, 1);
	/* and its next hello is refused */
	assert_int_equal(h_agent_connect(&H, &c, 0), REPAT_EREFUSED);
	h_agent_free(&c);
}

static void
sigterm_then_check_and_status(void **state)
{
	char cmd[1024];

	(void)state;
	assert_int_equal(h_stop(&H, SIGTERM), 0);
	/* a sanitizer build of the broker reports into its log */
	snprintf(cmd, sizeof(cmd), "grep -q Sanitizer %s", H.log);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/repat-broker check -c %s >/dev/null",
	    h_build(), H.conf);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/repat-broker status --json -c %s "
	    ">%s/status.json", h_build(), H.conf, H.dir);
	assert_int_equal(system(cmd), 0);
	/* an unknown key is an error naming the key */
	snprintf(cmd, sizeof(cmd), "echo 'no_such_key = 1' >> %s && "
	    "%s/repat-broker check -c %s 2>&1 | grep -q no_such_key", H.conf,
	    h_build(), H.conf);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(h_write_conf(&H, "test_mode = yes\n"), 0);
	assert_int_equal(h_start(&H), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hello_submit_deliver_ack),
		cmocka_unit_test(hello_refusals),
		cmocka_unit_test(submit_refusals),
		cmocka_unit_test(garbage_and_oversize_do_not_hurt_others),
		cmocka_unit_test(offline_recipient_gets_everything_in_order),
		cmocka_unit_test(expired_message_notifies_sender),
		cmocka_unit_test(three_agents_two_countries_exactly_once),
		cmocka_unit_test(sigkill_during_stream_loses_nothing),
		cmocka_unit_test(parallel_verification_keeps_every_answer),
		cmocka_unit_test(proof_of_acceptance_verifies),
		cmocka_unit_test(unacked_message_is_dead_lettered),
		cmocka_unit_test(poison_message_is_dead_lettered_across_reconnects),
		cmocka_unit_test(clock_offset_expires_waiting_messages),
		cmocka_unit_test(revoked_agent_is_closed_at_sighup),
		cmocka_unit_test(sigterm_then_check_and_status),
	};

	/* REPAT_TEST_FILTER=name runs one test (a shell pattern) */
	if (getenv("REPAT_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("REPAT_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, h_group_teardown);
}
