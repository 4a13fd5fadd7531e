/*
 * wire.c: the timed run's connection to the broker.
 *
 * The same protocol as lib/client.c (hello signed with purpose "hello",
 * pipelined submits, cumulative signed acks), but lean on purpose: the
 * bench and the broker share this machine's cores, and every microsecond
 * the load generator spends is taken from the broker it measures. So
 * receipts are verified once per frame (a real client must), while
 * delivered envelopes are only parsed for their message id, not verified
 * (lib/client.c does that, and its cost is the agent's, not the broker's).
 * No reconnect logic: a broken run is reported, not repaired; the crash
 * test uses the real client library instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "bench.h"
#include "repat/client.h"
#include "repat/codec.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/repat.h"
#include "repat/sign.h"

#define ACK_EVERY	32		/* deliveries per ack under load */
#define ACK_IDLE_NS	2000000ULL	/* ack the rest after 2 ms quiet */

struct wconn {
	struct repat_keystore ks;	/* the agent's keys */
	void *sock;			/* DEALER, CURVE client */
	uint8_t broker_curve[32];	/* pinned CURVE key */
	uint8_t my_curve[32];		/* ours */
	uint8_t broker_pub[32];		/* pinned Ed25519 key */
	bool welcomed;			/* hello accepted */
	uint64_t next_seq;		/* next delivery sequence expected */
	uint64_t acked;			/* last cumulative ack sent */
	uint64_t last_rx_ns;		/* last delivery or notice */
	uint64_t tx, rx;		/* frame bytes */
	uint64_t receipt_frames;	/* receipts received */
	uint8_t *idbuf;			/* receipt ids, reused */
	size_t idcap;
};

struct wconn *
wire_new(void *zctx, const char *dir, const char *endpoint, char *errbuf)
{
	struct wconn *c = repat_xcalloc(1, sizeof(*c));
	char curve[41];
	uint8_t secret[32];
	X509 *cert = NULL;
	int zero = 0, hwm = 1000000;

	c->next_seq = 1;
	if (repat_keystore_load(dir, NULL, &c->ks, errbuf) != 0)
		goto fail;
	if (bench_agent_pins(dir, curve, &cert) != 0 ||
	    zmq_z85_decode(c->broker_curve, curve) == NULL ||
	    zmq_z85_decode(c->my_curve, c->ks.curve_public) == NULL ||
	    zmq_z85_decode(secret, c->ks.curve_secret) == NULL ||
	    repat_cert_public_raw(cert, c->broker_pub) != 0) {
		repat_errf(errbuf, REPAT_EINVAL, "%s: broker pins or CURVE "
		    "keys unusable", dir);
		X509_free(cert);
		goto fail;
	}
	X509_free(cert);
	c->sock = zmq_socket(zctx, ZMQ_DEALER);
	zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, c->broker_curve, 32);
	zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, c->my_curve, 32);
	zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, secret, 32);
	repat_wipe(secret, sizeof(secret));
	zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	if (zmq_connect(c->sock, endpoint) != 0) {
		repat_errf(errbuf, REPAT_EIO, "%s: %s", endpoint,
		    zmq_strerror(errno));
		goto fail;
	}
	return c;
fail:
	wire_destroy(&c);
	return NULL;
}

void
wire_destroy(struct wconn **cp)
{
	struct wconn *c = *cp;

	if (c == NULL)
		return;
	if (c->sock != NULL)
		zmq_close(c->sock);
	repat_keystore_clear(&c->ks);
	free(c->idbuf);
	free(c);
	*cp = NULL;
}

void *
wire_socket(struct wconn *c)
{
	return c->sock;
}

const char *
wire_id(const struct wconn *c)
{
	return c->ks.id.agent_id;
}

const struct repat_keystore *
wire_keystore(const struct wconn *c)
{
	return &c->ks;
}

bool
wire_welcomed(const struct wconn *c)
{
	return c->welcomed;
}

int
wire_fd(struct wconn *c)
{
	int fd = -1;
	size_t sz = sizeof(fd);

	zmq_getsockopt(c->sock, ZMQ_FD, &fd, &sz);
	return fd;
}

bool
wire_readable(struct wconn *c)
{
	int ev = 0;
	size_t sz = sizeof(ev);

	return zmq_getsockopt(c->sock, ZMQ_EVENTS, &ev, &sz) == 0 &&
	    (ev & ZMQ_POLLIN) != 0;
}

void
wire_nosocket(struct wconn *c)
{
	c->sock = NULL;
}

void
wire_bytes(const struct wconn *c, uint64_t *tx, uint64_t *rx)
{
	*tx = c->tx;
	*rx = c->rx;
}

uint64_t
wire_receipt_frames(const struct wconn *c)
{
	return c->receipt_frames;
}

int
wire_send(struct wconn *c, const uint8_t *frame, size_t len)
{
	if (zmq_send(c->sock, frame, len, ZMQ_DONTWAIT) < 0)
		return -1;
	c->tx += len;
	return 0;
}

int
wire_hello(struct wconn *c, uint32_t window)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (repat_hello_frame(&c->ks, c->my_curve, c->broker_curve,
	    repat_now_ms(), window, c->acked, &buf, &len) != REPAT_OK)
		return -1;
	rc = wire_send(c, buf, len);
	free(buf);
	return rc;
}

static void
send_ack(struct wconn *c, uint64_t up_to)
{
	uint8_t *buf;
	size_t len;

	if (repat_ack_frame(&c->ks, up_to, repat_now_ms(), &buf, &len) !=
	    REPAT_OK)
		return;
	if (wire_send(c, buf, len) == 0)
		c->acked = up_to;
	free(buf);
}

void
wire_flush_ack(struct wconn *c, uint64_t now)
{
	if (c->next_seq - 1 > c->acked && now - c->last_rx_ns >= ACK_IDLE_NS)
		send_ack(c, c->next_seq - 1);
}

static void
on_receipt(struct wconn *c, const Repat__Receipt *r,
    const struct wire_handlers *h, uint64_t t)
{
	Repat__ReceiptBody *b;
	size_t i, n = 0;

	if (repat_verify_raw(c->broker_pub, REPAT_PURPOSE_RECEIPT,
	    r->body.data, r->body.len, r->signature.data,
	    r->signature.len) != 0) {
		fprintf(stderr, "repat-bench: %s: a receipt does not verify\n",
		    c->ks.id.agent_id);
		return;
	}
	if (REPAT_DECODE(Repat__ReceiptBody, receipt_body, r->body.data,
	    r->body.len, REPAT_MAX_FRAME, &b) != 0)
		return;
	c->receipt_frames++;
	if (c->idcap < b->n_message_ids * 16) {
		c->idcap = b->n_message_ids * 16;
		c->idbuf = repat_xrealloc(c->idbuf, c->idcap);
	}
	for (i = 0; i < b->n_message_ids; i++)
		if (b->message_ids[i].len == 16)
			memcpy(c->idbuf + 16 * n++, b->message_ids[i].data, 16);
	repat_msg_free(b);
	h->receipt(h->arg, c, c->idbuf, n, t);
}

static void
on_deliver(struct wconn *c, const Repat__Deliver *d,
    const struct wire_handlers *h, uint64_t t)
{
	struct repat_verified v;
	char err[REPAT_ERRBUF_LEN];

	if (d->seq != c->next_seq)
		return;		/* a redelivery, or a gap to be filled */
	c->next_seq++;
	c->last_rx_ns = t;
	memset(&v, 0, sizeof(v));
	if (repat_envelope_parse(d->signed_envelope.data,
	    d->signed_envelope.len, &v, err) == 0)
		h->deliver(h->arg, c, v.header->message_id.data, t);
	repat_verified_clear(&v);
}

static void
on_frame(struct wconn *c, Repat__Frame *f, const struct wire_handlers *h,
    uint64_t t)
{
	switch (f->command_case) {
	case REPAT__FRAME__COMMAND_WELCOME:
		c->welcomed = true;
		if (f->welcome->has_next_seq && f->welcome->next_seq >
		    c->next_seq)
			c->next_seq = f->welcome->next_seq;
		break;
	case REPAT__FRAME__COMMAND_RECEIPT:
		on_receipt(c, f->receipt, h, t);
		break;
	case REPAT__FRAME__COMMAND_REJECTION:
		h->rejection(h->arg, c, f->rejection->has_message_id &&
		    f->rejection->message_id.len == 16 ?
		    f->rejection->message_id.data : NULL, f->rejection->code,
		    f->rejection->reason, t);
		break;
	case REPAT__FRAME__COMMAND_DELIVER:
		on_deliver(c, f->deliver, h, t);
		break;
	case REPAT__FRAME__COMMAND_NOTICE:
		if (f->notice->has_seq && f->notice->seq == c->next_seq) {
			c->next_seq++;
			c->last_rx_ns = t;
			if (h->notice != NULL)
				h->notice(h->arg, c, t);
		}
		break;
	case REPAT__FRAME__COMMAND_BYE:
		fprintf(stderr, "repat-bench: %s: the broker said bye: %s\n",
		    c->ks.id.agent_id, f->bye->reason ? f->bye->reason : "");
		c->welcomed = false;
		break;
	default:
		break;
	}
}

void
wire_drain(struct wconn *c, const struct wire_handlers *h)
{
	Repat__Frame *f;
	zmq_msg_t m;
	uint64_t t;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		t = bench_ns();
		c->rx += zmq_msg_size(&m);
		if (repat_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m),
		    &f) == 0) {
			on_frame(c, f, h, t);
			repat_msg_free(f);
		}
		zmq_msg_close(&m);
		if (c->next_seq - 1 >= c->acked + ACK_EVERY)
			send_ack(c, c->next_seq - 1);
	}
}
