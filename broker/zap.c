/*
 * zap.c: the ZAP handler (ZeroMQ RFC 27) for the broker's CURVE server.
 *
 * libzmq asks this REP socket, bound to inproc://zeromq.zap.01 in the
 * broker's context, about every CURVE handshake. Every key that completed
 * the handshake is accepted: who may do what is decided at hello, where
 * the agent proves that its certificate signed this very key. The answer's
 * User-Id is the Z85 of the client's key; the loop keys sessions by it.
 * Anything but a well-formed CURVE request is refused with 400, and so
 * are handshakes beyond the rate limit (take_token).
 */
#include <string.h>

#include <zmq.h>

#include "broker.h"
#include "repat/log.h"

#define ZAP_FRAMES 7

static void
reply(void *zap, const zmq_msg_t *reqid, const char *status,
    const char *text, const char *user)
{
	zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(zap, zmq_msg_data((zmq_msg_t *)reqid),
	    zmq_msg_size((zmq_msg_t *)reqid), ZMQ_SNDMORE);
	zmq_send(zap, status, strlen(status), ZMQ_SNDMORE);
	zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(zap, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(zap, "", 0, 0);
}

static bool
frame_is(zmq_msg_t *m, const char *s)
{
	return zmq_msg_size(m) == strlen(s) &&
	    memcmp(zmq_msg_data(m), s, strlen(s)) == 0;
}

/*
 * Handshakes are rate-limited (a token bucket of handshake_rate per
 * second, bursts of HANDSHAKE_BURST seconds' worth): a peer that cannot say
 * hello must not be able to keep the broker busy with CURVE handshakes.
 * Agents connect rarely, so the default leaves them untouched.
 */
#define HANDSHAKE_BURST 10

static bool
take_token(struct broker *b)
{
	uint64_t now = broker_now(b);
	uint64_t cap = (uint64_t)b->cfg.handshake_rate * HANDSHAKE_BURST *
	    1000;

	/* Tokens are kept in thousandths, refilled rate per 1000 ms. */
	if (now > b->zap_refill_ms) {
		b->zap_tokens += (now - b->zap_refill_ms) *
		    (uint64_t)b->cfg.handshake_rate;
		if (b->zap_tokens > cap || b->zap_refill_ms == 0)
			b->zap_tokens = cap;
		b->zap_refill_ms = now;
	}
	if (b->zap_tokens < 1000)
		return false;
	b->zap_tokens -= 1000;
	return true;
}

static void
serve_one(struct broker *b)
{
	zmq_msg_t f[ZAP_FRAMES];
	char z85[41];
	int n = 0, more = 1, i;
	size_t sz = sizeof(more);
	bool toolong = false;
	zmq_msg_t extra;

	while (more && n < ZAP_FRAMES) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], b->zap, 0) < 0) {
			zmq_msg_close(&f[n]);
			break;
		}
		n++;
		zmq_getsockopt(b->zap, ZMQ_RCVMORE, &more, &sz);
	}
	while (more) {	/* drain anything past the 7 frames */
		zmq_msg_init(&extra);
		zmq_msg_recv(&extra, b->zap, 0);
		zmq_msg_close(&extra);
		zmq_getsockopt(b->zap, ZMQ_RCVMORE, &more, &sz);
		toolong = true;
	}
	if (!toolong && n == ZAP_FRAMES && !take_token(b)) {
		reply(b->zap, &f[1], "400", "too many handshakes", "");
		broker_refusal(b);
	} else if (!toolong && n == ZAP_FRAMES && frame_is(&f[0], "1.0") &&
	    frame_is(&f[5], "CURVE") && zmq_msg_size(&f[6]) == 32 &&
	    zmq_z85_encode(z85, zmq_msg_data(&f[6]), 32) != NULL) {
		reply(b->zap, &f[1], "200", "OK", z85);
	} else if (n >= 2) {
		reply(b->zap, &f[1], "400", "not a CURVE request", "");
		broker_refusal(b);
	}
	for (i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

void
zap_serve(struct broker *b)
{
	zmq_pollitem_t it = { b->zap, 0, ZMQ_POLLIN, 0 };

	while (zmq_poll(&it, 1, 0) > 0 && (it.revents & ZMQ_POLLIN))
		serve_one(b);
}
