/*
 * client.c: an agent's connection to the broker (see repat/client.h).
 *
 * One DEALER socket (CURVE client, no routing id, ZMQ_IMMEDIATE so that
 * nothing waits in a dead connection's pipe) plus a socket monitor: every
 * completed CURVE handshake after the first means the connection was
 * re-established (network loss, broker restart), and the broker may have
 * forgotten the session, so the client says hello again by itself and
 * re-sends its last ack. Frames that arrive while the caller waits for
 * something else (deliveries during a submit) are held in a FIFO and
 * handed out by repat_client_next_event() in order.
 *
 * Nothing the broker sends is trusted for content: receipts and notices
 * are verified with the pinned broker certificate's key, delivered
 * envelopes with repat_envelope_verify against the agent's own bundle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zmq.h>

#include "repat/client.h"
#include "repat/clock.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/limits.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/repat.h"
#include "repat/sign.h"

#define DEFAULT_WINDOW	64
#define IDLE_PING_MS	5000
#define HEARTBEAT_MS	5000
#define HELD		1	/* recv_other: frame kept for next_event */

/*
 * A sender certificate repat_envelope_verify accepted recently: a busy
 * sender's chain (and CRL) is not verified again for every delivery
 * within SENDER_TTL_MS, nor after a CRL was installed in the trust bundle
 * (a newer generation). The signature is always verified.
 */
#define SENDER_CACHE	16
#define SENDER_TTL_MS	(5 * 60 * 1000ULL)

struct sender_cache {
	uint8_t der_hash[32];		/* SHA-256 of the certificate DER */
	struct repat_identity id;	/* what verification established */
	uint8_t pub[32];		/* its Ed25519 key */
	uint64_t verified_ms;		/* 0: empty slot */
	uint64_t trust_gen;		/* repat_trust_generation() then */
};

struct repat_client {
	const struct repat_keystore *ks;	/* borrowed */
	char *endpoint;			/* tcp://host:port */
	uint8_t broker_curve[32];	/* pinned CURVE key */
	uint8_t broker_pub[32];		/* pinned Ed25519 key */
	uint8_t *broker_der;		/* pinned certificate, DER */
	size_t broker_der_len;
	uint8_t my_curve[32];		/* our CURVE public key, raw */
	void *zctx;			/* own context: monitor is inproc */
	void *sock;			/* DEALER */
	void *mon;			/* PAIR, monitor events */
	char mon_ep[64];
	int serial;			/* names the monitor endpoint */
	bool connected;			/* welcome received */
	int handshakes;			/* CURVE handshakes seen */
	uint32_t window;
	uint64_t acked;			/* last ack we sent */
	uint64_t next_seq;		/* next sequence to hand up */
	uint64_t broker_time;		/* from welcome/pong */
	uint64_t last_rx;		/* local ms of the last frame */
	Repat__Frame **held;		/* frames for next_event, FIFO */
	size_t nheld;
	size_t held_cap;
	struct sender_cache senders[SENDER_CACHE];	/* verified certs */
	int bye_code;			/* last Bye seen */
	char bye_reason[256];
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

repat_client_t *
repat_client_new(const struct repat_keystore *ks, const char *endpoint,
    const char *broker_curve_public_z85, X509 *broker_cert, char *errbuf)
{
	repat_client_t *c;

	if (broker_curve_public_z85 == NULL ||
	    strlen(broker_curve_public_z85) != 40) {
		repat_errf(errbuf, REPAT_EINVAL, "the broker's CURVE key is "
		    "not 40 Z85 characters");
		return NULL;
	}
	c = repat_xcalloc(1, sizeof(*c));
	c->ks = ks;
	c->endpoint = repat_xstrdup(endpoint);
	c->next_seq = 1;
	if (zmq_z85_decode(c->broker_curve, broker_curve_public_z85) == NULL ||
	    zmq_z85_decode(c->my_curve, ks->curve_public) == NULL) {
		repat_errf(errbuf, REPAT_EINVAL, "a CURVE key is not Z85");
		goto fail;
	}
	if (repat_cert_public_raw(broker_cert, c->broker_pub) != 0 ||
	    repat_cert_to_der(broker_cert, &c->broker_der,
	    &c->broker_der_len) != 0) {
		repat_errf(errbuf, REPAT_ECERT, "the broker certificate "
		    "holds no Ed25519 key");
		goto fail;
	}
	c->zctx = zmq_ctx_new();
	return c;
fail:
	free(c->endpoint);
	free(c->broker_der);
	free(c);
	return NULL;
}

static void
held_clear(repat_client_t *c)
{
	size_t i;

	for (i = 0; i < c->nheld; i++)
		repat_msg_free(c->held[i]);
	c->nheld = 0;
}

static void
close_sockets(repat_client_t *c)
{
	if (c->sock != NULL)
		zmq_close(c->sock);
	if (c->mon != NULL)
		zmq_close(c->mon);
	c->sock = c->mon = NULL;
	c->connected = false;
	c->handshakes = 0;
}

static int send_frame(repat_client_t *c, const Repat__Frame *f);

void
repat_client_close(repat_client_t *c)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Bye bye = REPAT__BYE__INIT;

	if (c->sock != NULL && c->connected) {
		f.command_case = REPAT__FRAME__COMMAND_BYE;
		f.bye = &bye;
		(void)send_frame(c, &f);
	}
	close_sockets(c);
	held_clear(c);
}

void
repat_client_destroy(repat_client_t **cp)
{
	repat_client_t *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	repat_client_close(c);
	free(c->held);
	zmq_ctx_term(c->zctx);
	free(c->endpoint);
	free(c->broker_der);
	free(c);
	*cp = NULL;
}

uint64_t
repat_client_broker_time(const repat_client_t *c)
{
	return c->broker_time;
}

uint64_t
repat_client_last_seq(const repat_client_t *c)
{
	return c->next_seq - 1;
}

/* ------------------------------------------------------------ frames */

static int
send_frame(repat_client_t *c, const Repat__Frame *f)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (c->sock == NULL)
		return REPAT_EIO;
	repat_encode(&f->base, &buf, &len);
	rc = zmq_send(c->sock, buf, len, ZMQ_DONTWAIT);
	free(buf);
	return rc < 0 ? REPAT_EIO : REPAT_OK;
}

int
repat_hello_frame(const struct repat_keystore *ks, const uint8_t curve_key[32],
    const uint8_t broker_key[32], uint64_t time_ms, uint32_t window,
    uint64_t acked_seq, uint8_t **out, size_t *outlen)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Hello h = REPAT__HELLO__INIT;
	Repat__HelloBody body = REPAT__HELLO_BODY__INIT;
	ProtobufCBinaryData certs[2];
	uint8_t sig[REPAT_SIG_LEN], *buf, *d1 = NULL, *d2 = NULL;
	size_t len, l1, l2;
	int rc = REPAT_ECRYPTO;

	body.version = REPAT_WIRE_VERSION;
	body.agent_id = (char *)ks->id.agent_id;
	body.curve_key.data = (uint8_t *)curve_key;
	body.curve_key.len = 32;
	body.broker_key.data = (uint8_t *)broker_key;
	body.broker_key.len = 32;
	body.time_ms = time_ms;
	body.has_window = 1;
	body.window = window;
	body.has_acked_seq = 1;
	body.acked_seq = acked_seq;
	repat_encode(&body.base, &buf, &len);
	if (repat_sign(ks->sign_key, REPAT_PURPOSE_HELLO, buf, len, sig) != 0 ||
	    repat_cert_to_der(ks->sign_cert, &d1, &l1) != 0 ||
	    repat_cert_to_der(ks->enc_cert, &d2, &l2) != 0)
		goto out;
	certs[0].data = d1;
	certs[0].len = l1;
	certs[1].data = d2;
	certs[1].len = l2;
	h.body.data = buf;
	h.body.len = len;
	h.signature.data = sig;
	h.signature.len = sizeof(sig);
	h.n_certificates = 2;
	h.certificates = certs;
	f.command_case = REPAT__FRAME__COMMAND_HELLO;
	f.hello = &h;
	repat_encode(&f.base, out, outlen);
	rc = REPAT_OK;
out:
	free(buf);
	free(d1);
	free(d2);
	return rc;
}

int
repat_ack_frame(const struct repat_keystore *ks, uint64_t up_to_seq,
    uint64_t time_ms, uint8_t **out, size_t *outlen)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Ack a = REPAT__ACK__INIT;
	Repat__AckBody body = REPAT__ACK_BODY__INIT;
	uint8_t sig[REPAT_SIG_LEN], *buf;
	size_t len;

	body.recipient = (char *)ks->id.agent_id;
	body.up_to_seq = up_to_seq;
	body.time_ms = time_ms;
	repat_encode(&body.base, &buf, &len);
	if (repat_sign(ks->sign_key, REPAT_PURPOSE_ACK, buf, len, sig) != 0) {
		free(buf);
		return REPAT_ECRYPTO;
	}
	a.body.data = buf;
	a.body.len = len;
	a.signature.data = sig;
	a.signature.len = sizeof(sig);
	f.command_case = REPAT__FRAME__COMMAND_ACK;
	f.ack = &a;
	repat_encode(&f.base, out, outlen);
	free(buf);
	return REPAT_OK;
}

static int
send_bytes(repat_client_t *c, uint8_t *buf, size_t len)
{
	int rc;

	if (c->sock == NULL) {
		free(buf);
		return REPAT_EIO;
	}
	rc = zmq_send(c->sock, buf, len, ZMQ_DONTWAIT);
	free(buf);
	return rc < 0 ? REPAT_EIO : REPAT_OK;
}

static int
send_hello(repat_client_t *c)
{
	uint8_t *buf;
	size_t len;
	int rc;

	rc = repat_hello_frame(c->ks, c->my_curve, c->broker_curve, repat_now_ms(),
	    c->window, c->acked, &buf, &len);
	return rc != REPAT_OK ? rc : send_bytes(c, buf, len);
}

static void
hold(repat_client_t *c, Repat__Frame *f)
{
	if (c->nheld == c->held_cap) {
		c->held_cap = c->held_cap ? c->held_cap * 2 : 64;
		c->held = repat_xrealloc(c->held,
		    c->held_cap * sizeof(*c->held));
	}
	c->held[c->nheld++] = f;
}

/* A monitor event: re-hello after every handshake but the first. */
static int
monitor_event(repat_client_t *c)
{
	zmq_msg_t m;
	uint16_t ev = 0;
	int more = 0, rc = 0;
	size_t sz = sizeof(more);

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return 0;
	}
	if (zmq_msg_size(&m) >= 2)
		memcpy(&ev, zmq_msg_data(&m), 2);
	zmq_getsockopt(c->mon, ZMQ_RCVMORE, &more, &sz);
	while (more) {
		zmq_msg_close(&m);
		zmq_msg_init(&m);
		zmq_msg_recv(&m, c->mon, 0);
		zmq_getsockopt(c->mon, ZMQ_RCVMORE, &more, &sz);
	}
	zmq_msg_close(&m);
	if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		if (c->handshakes++ > 0) {
			repat_log_debug("client: reconnected, hello again");
			c->connected = false;
			(void)send_hello(c);
		}
		rc = 1;
	} else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
	    ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
	    ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
		rc = -1;
	}
	return rc;
}

static int send_ack(repat_client_t *c, uint64_t up_to);

/*
 * Receives one frame within timeout_ms (monitor events handled on the
 * way). Welcome, Pong and Bye update the client's state; Deliver and
 * Notice are returned like any other. REPAT_ETIMEOUT when none.
 */
static int
recv_frame(repat_client_t *c, int timeout_ms, Repat__Frame **out)
{
	zmq_pollitem_t it[2];
	zmq_msg_t m;
	uint64_t deadline = mono_ms() + (uint64_t)(timeout_ms > 0 ?
	    timeout_ms : 0);
	long left;
	int rc;

	*out = NULL;
	if (c->sock == NULL)
		return REPAT_EIO;
	for (;;) {
		left = (long)(deadline - mono_ms());
		if ((int64_t)(deadline - mono_ms()) < 0)
			left = 0;
		it[0] = (zmq_pollitem_t){ c->sock, 0, ZMQ_POLLIN, 0 };
		it[1] = (zmq_pollitem_t){ c->mon, 0, ZMQ_POLLIN, 0 };
		rc = zmq_poll(it, 2, left);
		if (rc < 0 && errno != EINTR)
			return REPAT_EIO;
		if (rc > 0 && (it[1].revents & ZMQ_POLLIN)) {
			(void)monitor_event(c);
			continue;
		}
		if (rc > 0 && (it[0].revents & ZMQ_POLLIN))
			break;
		if (left == 0)
			return REPAT_ETIMEOUT;
	}
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->sock, 0) < 0) {
		zmq_msg_close(&m);
		return REPAT_EIO;
	}
	c->last_rx = mono_ms();
	rc = repat_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m), out);
	zmq_msg_close(&m);
	if (rc != 0)
		return REPAT_EPROTO;
	switch ((*out)->command_case) {
	case REPAT__FRAME__COMMAND_WELCOME:
		if ((*out)->welcome->broker_certificate.len ==
		    c->broker_der_len &&
		    CRYPTO_memcmp((*out)->welcome->broker_certificate.data,
		    c->broker_der, c->broker_der_len) == 0) {
			c->connected = true;
			c->broker_time = (*out)->welcome->broker_time_ms;
			/*
			 * Below next_seq the broker holds our signed ack: we
			 * processed those (perhaps in an earlier run).
			 */
			if ((*out)->welcome->has_next_seq &&
			    (*out)->welcome->next_seq > c->next_seq)
				c->next_seq = (*out)->welcome->next_seq;
			if (c->acked > 0)
				(void)send_ack(c, c->acked);
		}
		break;
	case REPAT__FRAME__COMMAND_PONG:
		c->broker_time = (*out)->pong->broker_time_ms;
		break;
	case REPAT__FRAME__COMMAND_BYE:
		c->connected = false;
		c->bye_code = (*out)->bye->has_code ? (int)(*out)->bye->code : 0;
		snprintf(c->bye_reason, sizeof(c->bye_reason), "%s",
		    (*out)->bye->reason ? (*out)->bye->reason : "");
		break;
	default:
		break;
	}
	return REPAT_OK;
}

/* Receives; deliveries, notices and byes are held for next_event. */
static int
recv_other(repat_client_t *c, int timeout_ms, Repat__Frame **out)
{
	int rc;

	rc = recv_frame(c, timeout_ms, out);
	if (rc != 0)
		return rc;
	switch ((*out)->command_case) {
	case REPAT__FRAME__COMMAND_DELIVER:
	case REPAT__FRAME__COMMAND_NOTICE:
	case REPAT__FRAME__COMMAND_BYE:
		hold(c, *out);
		if ((*out)->command_case == REPAT__FRAME__COMMAND_BYE) {
			*out = NULL;
			return REPAT_EREFUSED;
		}
		*out = NULL;
		return HELD;
	default:
		return REPAT_OK;
	}
}

/* ------------------------------------------------------------ connect */

static int
open_sockets(repat_client_t *c, char *errbuf)
{
	uint8_t secret[32];
	int one = 1, linger = 200, ivl = HEARTBEAT_MS, tmo = 3 * HEARTBEAT_MS;
	int rmin = 100, rmax = 2000;
	int64_t max = REPAT_MAX_FRAME + 4096;

	c->sock = zmq_socket(c->zctx, ZMQ_DEALER);
	if (zmq_z85_decode(secret, c->ks->curve_secret) == NULL) {
		close_sockets(c);
		return repat_errf(errbuf, REPAT_EINVAL, "curve.key is not Z85");
	}
	zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, c->broker_curve, 32);
	zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, c->my_curve, 32);
	zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, secret, 32);
	repat_wipe(secret, sizeof(secret));
	zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &one, sizeof(one));
	zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	zmq_setsockopt(c->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl));
	zmq_setsockopt(c->sock, ZMQ_HEARTBEAT_TIMEOUT, &tmo, sizeof(tmo));
	zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL, &rmin, sizeof(rmin));
	zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL_MAX, &rmax, sizeof(rmax));
	snprintf(c->mon_ep, sizeof(c->mon_ep), "inproc://repat-client-%d",
	    c->serial++);
	if (zmq_socket_monitor(c->sock, c->mon_ep,
	    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
		close_sockets(c);
		return repat_errf(errbuf, REPAT_EIO, "monitor: %s",
		    zmq_strerror(errno));
	}
	c->mon = zmq_socket(c->zctx, ZMQ_PAIR);
	if (zmq_connect(c->mon, c->mon_ep) != 0 ||
	    zmq_connect(c->sock, c->endpoint) != 0) {
		repat_errf(errbuf, REPAT_EINVAL, "%s: %s", c->endpoint,
		    zmq_strerror(errno));
		close_sockets(c);
		return REPAT_EINVAL;
	}
	return REPAT_OK;
}

/* Waits for the first CURVE handshake. */
static int
wait_handshake(repat_client_t *c, uint64_t deadline, char *errbuf)
{
	zmq_pollitem_t it;
	int64_t left;
	int rc;

	while (c->handshakes == 0) {
		left = (int64_t)(deadline - mono_ms());
		if (left <= 0)
			return repat_errf(errbuf, REPAT_ETIMEOUT, "%s: no "
			    "answer from the broker", c->endpoint);
		it = (zmq_pollitem_t){ c->mon, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, (long)left) <= 0)
			continue;
		if ((rc = monitor_event(c)) < 0)
			return repat_errf(errbuf, REPAT_EREFUSED, "%s: the "
			    "CURVE handshake failed (is broker_curve_key "
			    "right?)", c->endpoint);
	}
	return REPAT_OK;
}

int
repat_client_connect(repat_client_t *c,
    const struct repat_client_options *opts, int timeout_ms, char *errbuf)
{
	Repat__Frame *f;
	uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;
	int64_t left;
	int rc;

	close_sockets(c);
	held_clear(c);
	c->window = DEFAULT_WINDOW;
	if (opts != NULL) {
		if (opts->window > 0)
			c->window = opts->window;
		c->acked = opts->acked_seq;
		c->next_seq = opts->acked_seq + 1;
	}
	if ((rc = open_sockets(c, errbuf)) != 0)
		return rc;
	if ((rc = wait_handshake(c, deadline, errbuf)) != 0 ||
	    (rc = send_hello(c)) != 0)
		goto fail;
	while (!c->connected) {
		left = (int64_t)(deadline - mono_ms());
		if (left <= 0) {
			rc = repat_errf(errbuf, REPAT_ETIMEOUT, "%s: no welcome "
			    "from the broker", c->endpoint);
			goto fail;
		}
		if ((rc = recv_frame(c, (int)left, &f)) == REPAT_ETIMEOUT)
			continue;
		if (rc != 0) {
			repat_errf(errbuf, rc, "%s: %s", c->endpoint,
			    repat_strerror(rc));
			goto fail;
		}
		switch (f->command_case) {
		case REPAT__FRAME__COMMAND_WELCOME:
			repat_msg_free(f);
			if (!c->connected) {
				rc = repat_errf(errbuf, REPAT_ESIG, "the broker's "
				    "certificate is not the pinned one");
				goto fail;
			}
			break;
		case REPAT__FRAME__COMMAND_BYE:
			repat_msg_free(f);
			rc = repat_errf(errbuf, REPAT_EREFUSED, "the broker "
			    "refused the hello: %s", c->bye_reason);
			goto fail;
		case REPAT__FRAME__COMMAND_REJECTION:
			/*
			 * Without a message id it answers the hello: the
			 * broker could not record it (its disk is full). For
			 * now, not for good: REPAT_EFULL or REPAT_EDB, so a
			 * watch keeps trying.
			 */
			if (f->rejection->has_message_id) {
				repat_msg_free(f);
				break;
			}
			rc = repat_errf(errbuf, f->rejection->code ==
			    REPAT__REJECT_CODE__REJECT_STORAGE_FULL ?
			    REPAT_EFULL : REPAT_EDB, "the broker could not "
			    "admit this agent for now (%s): %s",
			    repat_reject_code_name((int)f->rejection->code),
			    f->rejection->reason ? f->rejection->reason : "");
			repat_msg_free(f);
			goto fail;
		case REPAT__FRAME__COMMAND_DELIVER:
		case REPAT__FRAME__COMMAND_NOTICE:
			hold(c, f);
			break;
		default:
			repat_msg_free(f);
			break;
		}
	}
	return REPAT_OK;
fail:
	close_sockets(c);
	return rc;
}

/* ------------------------------------------------------------ receipts */

/* Verifies a receipt; *body is decoded and the caller's. */
static int
receipt_body(repat_client_t *c, const Repat__Receipt *r,
    Repat__ReceiptBody **body)
{
	*body = NULL;
	if (repat_verify_raw(c->broker_pub, REPAT_PURPOSE_RECEIPT, r->body.data,
	    r->body.len, r->signature.data, r->signature.len) != 0)
		return REPAT_ESIG;
	if (REPAT_DECODE(Repat__ReceiptBody, receipt_body, r->body.data,
	    r->body.len, REPAT_MAX_FRAME, body) != 0)
		return REPAT_EDECODE;
	if (strcmp((*body)->sender, c->ks->id.agent_id) != 0 ||
	    (*body)->n_message_ids != (*body)->n_envelope_hashes) {
		repat_msg_free(*body);
		*body = NULL;
		return REPAT_EPROTO;
	}
	return REPAT_OK;
}

/* Position of id in the receipt whose hash matches, or -1. */
static ssize_t
receipt_find(const Repat__ReceiptBody *b, const uint8_t id[16],
    const uint8_t hash[32])
{
	size_t i;

	for (i = 0; i < b->n_message_ids; i++)
		if (b->message_ids[i].len == 16 &&
		    memcmp(b->message_ids[i].data, id, 16) == 0)
			return b->envelope_hashes[i].len == 32 &&
			    memcmp(b->envelope_hashes[i].data, hash, 32) == 0 ?
			    (ssize_t)i : -1;
	return -1;
}

static void
fill_receipt(struct repat_submit_result *res, const Repat__Receipt *r,
    const Repat__ReceiptBody *b)
{
	res->receipted = true;
	res->code = 0;
	res->reason[0] = '\0';
	res->broker_time_ms = b->broker_time_ms;
	free(res->receipt);
	repat_encode(&r->base, &res->receipt, &res->receipt_len);
}

static void
fill_rejection(struct repat_submit_result *res, const Repat__Rejection *r)
{
	res->receipted = false;
	res->code = r->code;
	snprintf(res->reason, sizeof(res->reason), "%s", r->reason);
	res->broker_time_ms = r->broker_time_ms;
}

static int
submit_frame(const uint8_t *bytes, size_t len, uint8_t **out, size_t *outlen)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Submit s = REPAT__SUBMIT__INIT;

	s.signed_envelope.data = (uint8_t *)bytes;
	s.signed_envelope.len = len;
	f.command_case = REPAT__FRAME__COMMAND_SUBMIT;
	f.submit = &s;
	repat_encode(&f.base, out, outlen);
	return REPAT_OK;
}

/* Internal state of one batch item. */
struct pending {
	uint8_t *frame;		/* encoded Submit */
	size_t frame_len;
	uint64_t sent_ms;	/* 0: not sent yet */
};

static int
parse_item(struct repat_submit_item *it, struct pending *p, char *errbuf)
{
	struct repat_verified v;
	int rc;

	memset(&v, 0, sizeof(v));
	memset(&it->result, 0, sizeof(it->result));
	it->answered = false;
	rc = repat_envelope_parse(it->bytes, it->len, &v, errbuf);
	if (rc == 0) {
		memcpy(it->result.message_id, v.header->message_id.data, 16);
		memcpy(it->result.envelope_hash, v.hash, 32);
		submit_frame(it->bytes, it->len, &p->frame, &p->frame_len);
	}
	repat_verified_clear(&v);
	return rc == 0 ? REPAT_OK : REPAT_EINVAL;
}

/*
 * Applies one answer frame to the in-flight items; *got: the items it
 * answered. A receipt whose signature or body is bad answers nothing and
 * its error is returned.
 */
static int
apply_answer(repat_client_t *c, Repat__Frame *f,
    struct repat_submit_item *items, size_t n, size_t *inflight,
    size_t *ninflight, size_t *got)
{
	Repat__ReceiptBody *b = NULL;
	size_t i, k = 0;
	struct repat_submit_item *it;
	int rc;

	*got = 0;
	/* A receipt's signature is checked once, not once per item. */
	if (f->command_case == REPAT__FRAME__COMMAND_RECEIPT &&
	    (rc = receipt_body(c, f->receipt, &b)) != 0)
		return rc;
	for (i = 0; i < *ninflight; i++) {
		it = &items[inflight[i]];
		if (b == NULL) {
			if (!f->rejection->has_message_id ||
			    f->rejection->message_id.len != 16 ||
			    memcmp(f->rejection->message_id.data,
			    it->result.message_id, 16) != 0)
				goto keep;
			fill_rejection(&it->result, f->rejection);
		} else {
			if (receipt_find(b, it->result.message_id,
			    it->result.envelope_hash) < 0)
				goto keep;
			fill_receipt(&it->result, f->receipt, b);
		}
		it->answered = true;
		(*got)++;
		continue;
keep:
		inflight[k++] = inflight[i];
	}
	*ninflight = k;
	if (b != NULL)
		repat_msg_free(b);
	(void)n;
	return 0;
}

int
repat_client_submit_batch(repat_client_t *c, struct repat_submit_item *items,
    size_t n, size_t pipeline, int resend_ms, int timeout_ms, char *errbuf)
{
	struct pending *p;
	size_t *inflight, ninflight = 0, next = 0, done = 0, i;
	uint64_t last_answer = mono_ms(), now;
	Repat__Frame *f;
	int rc = REPAT_OK;

	if (c->sock == NULL)
		return repat_errf(errbuf, REPAT_EIO, "%s: not connected",
		    c->endpoint);
	if (pipeline == 0)
		pipeline = DEFAULT_WINDOW;
	if (resend_ms <= 0)
		resend_ms = timeout_ms / 3 > 0 ? timeout_ms / 3 : 1000;
	p = repat_xcalloc(n + 1, sizeof(*p));
	inflight = repat_xcalloc(pipeline + 1, sizeof(*inflight));
	for (i = 0; i < n; i++)
		if (parse_item(&items[i], &p[i], errbuf) != 0) {
			/* answered here: the broker would refuse it the same */
			items[i].answered = true;
			items[i].result.code = REPAT__REJECT_CODE__REJECT_MALFORMED;
			snprintf(items[i].result.reason,
			    sizeof(items[i].result.reason), "%s", errbuf);
			done++;
			rc = REPAT_EINVAL;
		}
	if (n == 1 && rc == REPAT_EINVAL)
		goto out;
	rc = REPAT_OK;
	while (done < n) {
		now = mono_ms();
		while (ninflight < pipeline && next < n) {
			if (!items[next].answered) {
				inflight[ninflight++] = next;
				p[next].sent_ms = 0;
			}
			next++;
		}
		for (i = 0; i < ninflight; i++) {
			struct pending *q = &p[inflight[i]];

			if (q->sent_ms != 0 && now - q->sent_ms < (uint64_t)resend_ms)
				continue;
			if (zmq_send(c->sock, q->frame, q->frame_len,
			    ZMQ_DONTWAIT) >= 0 || q->sent_ms == 0)
				q->sent_ms = now;
		}
		if (now - last_answer > (uint64_t)timeout_ms) {
			rc = repat_errf(errbuf, REPAT_ETIMEOUT, "%s: %zu of %zu "
			    "messages unanswered", c->endpoint, n - done, n);
			break;
		}
		rc = recv_other(c, 50, &f);
		if (rc == REPAT_EREFUSED) {
			repat_errf(errbuf, rc, "the broker closed the session: "
			    "%s", c->bye_reason);
			break;
		}
		rc = REPAT_OK;
		if (f == NULL)
			continue;
		if (f->command_case == REPAT__FRAME__COMMAND_RECEIPT ||
		    f->command_case == REPAT__FRAME__COMMAND_REJECTION) {
			rc = apply_answer(c, f, items, n, inflight, &ninflight,
			    &i);
			if (i > 0) {
				done += i;
				last_answer = mono_ms();
			}
		}
		repat_msg_free(f);
		/*
		 * Not the pinned broker's signature: waiting would only end
		 * in "no answer", and hide why (the broker runs with another
		 * key than the certificate the agents pinned).
		 */
		if (rc != REPAT_OK) {
			repat_errf(errbuf, REPAT_ESIG, "%s: a receipt does not "
			    "verify against the pinned broker certificate "
			    "(%s); nothing counts as received", c->endpoint,
			    repat_strerror(rc));
			rc = REPAT_ESIG;
			break;
		}
	}
out:
	for (i = 0; i < n; i++)
		free(p[i].frame);
	free(p);
	free(inflight);
	return rc;
}

int
repat_client_submit(repat_client_t *c, const uint8_t *bytes, size_t len,
    int timeout_ms, struct repat_submit_result *res, char *errbuf)
{
	struct repat_submit_item it;
	int rc;

	memset(&it, 0, sizeof(it));
	it.bytes = bytes;
	it.len = len;
	rc = repat_client_submit_batch(c, &it, 1, 1, timeout_ms / 3,
	    timeout_ms, errbuf);
	*res = it.result;
	if (rc == 0 && !it.answered)
		rc = REPAT_ETIMEOUT;
	return rc;
}

/* ------------------------------------------------------------ events */

static int
send_ack(repat_client_t *c, uint64_t up_to)
{
	uint8_t *buf;
	size_t len;
	int rc;

	rc = repat_ack_frame(c->ks, up_to, repat_now_ms(), &buf, &len);
	return rc != REPAT_OK ? rc : send_bytes(c, buf, len);
}

int
repat_client_ack(repat_client_t *c, uint64_t up_to_seq, char *errbuf)
{
	int rc;

	if (up_to_seq > c->acked)
		c->acked = up_to_seq;
	if ((rc = send_ack(c, up_to_seq)) != 0)
		return repat_errf(errbuf, rc, "cannot send the ack: %s",
		    repat_strerror(rc));
	return REPAT_OK;
}

void
repat_client_event_clear(struct repat_client_event *ev)
{
	free(ev->envelope);
	free(ev->notice);
	repat_verified_clear(&ev->v);
	repat_msg_free(ev->notice_body);
	memset(ev, 0, sizeof(*ev));
}

static struct sender_cache *
sender_slot(repat_client_t *c, const ProtobufCBinaryData *der,
    uint8_t hash[32])
{
	size_t i;

	if (EVP_Digest(der->data, der->len, hash, NULL, EVP_sha256(),
	    NULL) != 1)
		return NULL;
	for (i = 0; i < SENDER_CACHE; i++)
		if (c->senders[i].verified_ms != 0 &&
		    memcmp(c->senders[i].der_hash, hash, 32) == 0)
			return &c->senders[i];
	return NULL;
}

/* 0 when a cached sender certificate and the signature verify. */
static int
verify_cached(repat_client_t *c, struct repat_client_event *ev)
{
	struct sender_cache *sc;
	struct repat_verified *v = &ev->v;
	char err[REPAT_ERRBUF_LEN];
	uint8_t h[32];
	uint64_t now = repat_now_ms();

	if (repat_envelope_parse(ev->envelope, ev->envelope_len, v, err) != 0)
		return REPAT_EINVAL;
	sc = sender_slot(c, &v->signed_envelope->certificates[0], h);
	if (sc == NULL || now < sc->verified_ms ||
	    now - sc->verified_ms > SENDER_TTL_MS ||
	    sc->trust_gen != repat_trust_generation(c->ks->trust) ||
	    strcmp(sc->id.agent_id, v->header->sender) != 0 ||
	    repat_envelope_check_signature(v, sc->pub) != 0)
		return REPAT_ESIG;
	v->sender = sc->id;
	v->verified = true;
	return REPAT_OK;
}

static void
remember_sender(repat_client_t *c, const struct repat_verified *v)
{
	struct sender_cache *sc;
	uint8_t h[32];
	size_t i, oldest = 0;

	if (sender_slot(c, &v->signed_envelope->certificates[0], h) != NULL)
		return;
	for (i = 1; i < SENDER_CACHE; i++)
		if (c->senders[i].verified_ms < c->senders[oldest].verified_ms)
			oldest = i;
	sc = &c->senders[oldest];
	if (repat_cert_public_raw(v->sender_cert, sc->pub) != 0)
		return;
	memcpy(sc->der_hash, h, 32);
	sc->id = v->sender;
	sc->verified_ms = repat_now_ms();
	sc->trust_gen = repat_trust_generation(c->ks->trust);
}

static void
deliver_event(repat_client_t *c, const Repat__Deliver *d,
    struct repat_client_event *ev)
{
	char err[REPAT_ERRBUF_LEN] = "";

	ev->kind = REPAT_EVENT_DELIVER;
	ev->seq = d->seq;
	ev->accepted_ms = d->accepted_ms;
	ev->envelope_len = d->signed_envelope.len;
	ev->envelope = repat_xmalloc(ev->envelope_len + 1);
	memcpy(ev->envelope, d->signed_envelope.data, ev->envelope_len);
	if (verify_cached(c, ev) == 0)
		return;
	repat_verified_clear(&ev->v);
	if (repat_envelope_verify(c->ks->trust, ev->envelope, ev->envelope_len,
	    repat_now_ms(), &ev->v, err) != 0) {
		snprintf(ev->verify_error, sizeof(ev->verify_error), "%s",
		    err[0] ? err : "the envelope does not verify");
		ev->v.verified = false;
		return;
	}
	remember_sender(c, &ev->v);
}

static void
notice_event(repat_client_t *c, Repat__Frame *f,
    struct repat_client_event *ev)
{
	const Repat__Notice *n = f->notice;

	ev->kind = REPAT_EVENT_NOTICE;
	ev->seq = n->seq;
	repat_encode(&f->base, &ev->notice, &ev->notice_len);
	ev->notice_verified = repat_verify_raw(c->broker_pub,
	    REPAT_PURPOSE_NOTICE, n->body.data, n->body.len,
	    n->signature.data, n->signature.len) == 0;
	if (REPAT_DECODE(Repat__NoticeBody, notice_body, n->body.data,
	    n->body.len, REPAT_MAX_FRAME, &ev->notice_body) != 0) {
		ev->notice_body = NULL;
		ev->notice_verified = false;
	}
}

/* Next frame: the held FIFO first, then the socket. */
static int
next_frame(repat_client_t *c, int timeout_ms, Repat__Frame **f)
{
	Repat__Frame fr = REPAT__FRAME__INIT;
	Repat__Ping ping = REPAT__PING__INIT;

	if (c->nheld > 0) {
		*f = c->held[0];
		memmove(c->held, c->held + 1, (c->nheld - 1) * sizeof(*c->held));
		c->nheld--;
		return REPAT_OK;
	}
	if (mono_ms() - c->last_rx > IDLE_PING_MS) {
		/*
		 * A quiet link may be a reconnected one the broker has not
		 * seen yet: a ping makes it learn our new routing id.
		 */
		fr.command_case = REPAT__FRAME__COMMAND_PING;
		fr.ping = &ping;
		(void)send_frame(c, &fr);
		c->last_rx = mono_ms();
	}
	if (timeout_ms > IDLE_PING_MS)
		timeout_ms = IDLE_PING_MS;
	return recv_frame(c, timeout_ms, f);
}

int
repat_client_next_event(repat_client_t *c, int timeout_ms,
    struct repat_client_event *ev)
{
	uint64_t deadline = mono_ms() + (uint64_t)(timeout_ms > 0 ?
	    timeout_ms : 0);
	Repat__Frame *f;
	uint64_t seq;
	int64_t left;
	int rc;

	memset(ev, 0, sizeof(*ev));
	for (;;) {
		left = (int64_t)(deadline - mono_ms());
		if (left < 0)
			left = 0;
		rc = next_frame(c, (int)left, &f);
		if (rc == REPAT_ETIMEOUT) {
			if (left == 0)
				return rc;
			continue;
		}
		if (rc == REPAT_EPROTO)
			continue;	/* a garbled frame: wait for redelivery */
		if (rc != 0)
			return rc;
		switch (f->command_case) {
		case REPAT__FRAME__COMMAND_DELIVER:
			seq = f->deliver->seq;
			if (seq != c->next_seq)
				break;	/* duplicate or out of order */
			deliver_event(c, f->deliver, ev);
			c->next_seq++;
			repat_msg_free(f);
			return REPAT_OK;
		case REPAT__FRAME__COMMAND_NOTICE:
			if (!f->notice->has_seq || f->notice->seq != c->next_seq)
				break;
			notice_event(c, f, ev);
			c->next_seq++;
			repat_msg_free(f);
			return REPAT_OK;
		case REPAT__FRAME__COMMAND_BYE:
			ev->kind = REPAT_EVENT_BYE;
			ev->bye_code = c->bye_code;
			snprintf(ev->bye_reason, sizeof(ev->bye_reason), "%s",
			    c->bye_reason);
			repat_msg_free(f);
			return REPAT_OK;
		default:
			break;
		}
		repat_msg_free(f);
	}
}

/* ------------------------------------------------------------ queries */

/* Waits up to ms for the link, answering monitor events (re-hello). */
static void
wait_link(repat_client_t *c, int ms)
{
	zmq_pollitem_t it = { c->mon, 0, ZMQ_POLLIN, 0 };

	if (zmq_poll(&it, 1, ms) > 0)
		(void)monitor_event(c);
}

/*
 * Sends req and waits for a frame of case want (or a Rejection without
 * message id, or Bye). On success *out is the frame, the caller's.
 */
static int
request(repat_client_t *c, const Repat__Frame *req, int want, int timeout_ms,
    Repat__Frame **out, char *errbuf)
{
	uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;
	Repat__Frame *f;
	int64_t left;
	int rc;

	*out = NULL;
	/* With ZMQ_IMMEDIATE a send fails while the link is down: retry. */
	while ((rc = send_frame(c, req)) != 0) {
		if (c->sock == NULL || (int64_t)(deadline - mono_ms()) <= 0)
			return repat_errf(errbuf, rc, "%s: not connected",
			    c->endpoint);
		wait_link(c, 50);
	}
	for (;;) {
		left = (int64_t)(deadline - mono_ms());
		if (left <= 0)
			return repat_errf(errbuf, REPAT_ETIMEOUT, "%s: no "
			    "answer", c->endpoint);
		rc = recv_other(c, (int)left, &f);
		if (rc == REPAT_ETIMEOUT || rc == HELD)
			continue;
		if (rc != 0)
			return repat_errf(errbuf, rc, "%s: %s", c->endpoint,
			    rc == REPAT_EREFUSED ? c->bye_reason :
			    repat_strerror(rc));
		if ((int)f->command_case == want) {
			*out = f;
			return REPAT_OK;
		}
		if (f->command_case == REPAT__FRAME__COMMAND_REJECTION &&
		    !f->rejection->has_message_id) {
			rc = repat_errf(errbuf, REPAT_EREFUSED, "%s",
			    f->rejection->reason);
			repat_msg_free(f);
			return rc;
		}
		repat_msg_free(f);
	}
}

/* Detaches the oneof member of f and frees the rest. */
static void *
detach(Repat__Frame *f, void *member)
{
	f->command_case = REPAT__FRAME__COMMAND__NOT_SET;
	repat_msg_free(f);
	return member;
}

int
repat_client_directory(repat_client_t *c, int timeout_ms,
    Repat__Directory **out, char *errbuf)
{
	Repat__Frame req = REPAT__FRAME__INIT, *f;
	Repat__DirectoryRequest d = REPAT__DIRECTORY_REQUEST__INIT;
	int rc;

	*out = NULL;
	req.command_case = REPAT__FRAME__COMMAND_DIRECTORY_REQUEST;
	req.directory_request = &d;
	rc = request(c, &req, REPAT__FRAME__COMMAND_DIRECTORY, timeout_ms, &f,
	    errbuf);
	if (rc == 0)
		*out = detach(f, f->directory);
	return rc;
}

int
repat_client_case_query(repat_client_t *c, const char *case_ref,
    int timeout_ms, Repat__CaseState **out, char *errbuf)
{
	Repat__Frame req = REPAT__FRAME__INIT, *f;
	Repat__CaseQuery q = REPAT__CASE_QUERY__INIT;
	int rc;

	*out = NULL;
	q.case_ref = (char *)case_ref;
	req.command_case = REPAT__FRAME__COMMAND_CASE_QUERY;
	req.case_query = &q;
	rc = request(c, &req, REPAT__FRAME__COMMAND_CASE_STATE, timeout_ms, &f,
	    errbuf);
	if (rc == 0)
		*out = detach(f, f->case_state);
	return rc;
}

int
repat_client_proof(repat_client_t *c, const uint8_t *message_id,
    uint64_t old_size, int timeout_ms, Repat__Proof **out, char *errbuf)
{
	Repat__Frame req = REPAT__FRAME__INIT, *f;
	Repat__ProofRequest q = REPAT__PROOF_REQUEST__INIT;
	int rc;

	*out = NULL;
	if (message_id != NULL) {
		q.has_message_id = 1;
		q.message_id.data = (uint8_t *)message_id;
		q.message_id.len = 16;
	}
	if (old_size > 0) {
		q.has_old_size = 1;
		q.old_size = old_size;
	}
	req.command_case = REPAT__FRAME__COMMAND_PROOF_REQUEST;
	req.proof_request = &q;
	rc = request(c, &req, REPAT__FRAME__COMMAND_PROOF, timeout_ms, &f,
	    errbuf);
	if (rc == 0)
		*out = detach(f, f->proof);
	return rc;
}

int
repat_client_ping(repat_client_t *c, int timeout_ms, uint64_t *broker_time_ms,
    char *errbuf)
{
	Repat__Frame req = REPAT__FRAME__INIT, *f;
	Repat__Ping p = REPAT__PING__INIT;
	int rc;

	p.has_nonce = 1;
	p.nonce = mono_ms();
	req.command_case = REPAT__FRAME__COMMAND_PING;
	req.ping = &p;
	rc = request(c, &req, REPAT__FRAME__COMMAND_PONG, timeout_ms, &f,
	    errbuf);
	if (rc == 0) {
		*broker_time_ms = f->pong->broker_time_ms;
		repat_msg_free(f);
	}
	return rc;
}
