/*
 * broker_harness.h: a real test region and a real repat-broker process for
 * the broker's end-to-end tests (broker_e2e_test.c, review_broker_test.c,
 * client_test.c).
 *
 * `repat region init` makes the region in a fresh temporary folder; the
 * broker's conf is rewritten for a free loopback port, open authorization
 * and fast redelivery; the broker binary ($REPAT_BUILD/repat-broker) runs
 * as a child process with its log in the folder. Agents are driven with
 * lib/client.c; envelopes are built and signed here (no payload sealing:
 * the broker never opens payloads, so the ciphertext is filler).
 */
#ifndef REPAT_BROKER_HARNESS_H
#define REPAT_BROKER_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/rand.h>
#include <zmq.h>

#include "repat/client.h"
#include "repat/clock.h"
#include "repat/codec.h"
#include "repat/conf.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/mem.h"
#include "repat/pki.h"
#include "repat/repat.h"
#include "repat/sign.h"

struct harness {
	char dir[256];		/* the temporary folder */
	char region[300];	/* DIR/region */
	char conf[350];		/* the broker's conf */
	char log[350];		/* the broker's stderr */
	char endpoint[64];	/* tcp://127.0.0.1:PORT */
	int port;
	pid_t pid;		/* the broker, 0 when stopped */
};

/* One agent: keys, pinned broker and a client. */
struct agent {
	struct repat_keystore ks;
	X509 *broker_cert;
	char curve[41];		/* the broker's CURVE key */
	repat_client_t *c;
};

static inline void
h_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static inline int
h_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		close(fd);
		return -1;
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static inline const char *
h_build(void)
{
	const char *b = getenv("REPAT_BUILD");

	return b != NULL ? b : "build";
}

/* Rewrites the broker conf: our port, open authorization, extra lines. */
static inline int
h_write_conf(struct harness *h, const char *extra)
{
	FILE *f = fopen(h->conf, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "endpoint = %s\ndatabase = broker.db\nsign_key = sign.key\n"
	    "sign_cert = sign.crt\ncurve_key = curve.key\n"
	    "curve_public = curve.pub\ntrust = trust\n"
	    "agreements = agreements\nauthorization = open\n"
	    "log_level = %s\n%s%s", h->endpoint,
	    getenv("REPAT_BROKER_LOG") ? getenv("REPAT_BROKER_LOG") : "info",
	    extra != NULL && strstr(extra, "redeliver_") != NULL ? "" :
	    "redeliver_min = 300ms\nredeliver_max = 2s\n",
	    extra ? extra : "");
	return fclose(f);
}

static inline int
h_setup(struct harness *h, const char *extra)
{
	char cmd[1024];

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/repat-e2e-XXXXXX");
	if (mkdtemp(h->dir) == NULL)
		return -1;
	snprintf(h->region, sizeof(h->region), "%s/region", h->dir);
	snprintf(h->conf, sizeof(h->conf), "%s/broker/broker.conf", h->region);
	snprintf(h->log, sizeof(h->log), "%s/broker.log", h->dir);
	snprintf(cmd, sizeof(cmd), "%s/repat region init --out %s >%s/init.log "
	    "2>&1", h_build(), h->region, h->dir);
	if (system(cmd) != 0)
		return -1;
	h->port = h_free_port();
	snprintf(h->endpoint, sizeof(h->endpoint), "tcp://127.0.0.1:%d",
	    h->port);
	return h_write_conf(h, extra);
}

static inline int
h_start(struct harness *h)
{
	char bin[512];
	int fd;

	snprintf(bin, sizeof(bin), "%s/repat-broker", h_build());
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execl(bin, "repat-broker", "-c", h->conf, (char *)NULL);
		_exit(127);
	}
	h_sleep_ms(150);
	return 0;
}

/* Stops the broker with sig; the exit status (or -1 when killed). */
static inline int
h_stop(struct harness *h, int sig)
{
	int st = 0;

	if (h->pid <= 0)
		return 0;
	kill(h->pid, sig);
	waitpid(h->pid, &st, 0);
	h->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The region and a running broker, extra added to its conf. */
static inline int
h_up(struct harness *h, const char *extra)
{
	if (h_setup(h, extra) != 0 || h_start(h) != 0) {
		fprintf(stderr, "cannot set up a region in %s\n", h->dir);
		return -1;
	}
	return 0;
}

static inline void
h_teardown(struct harness *h)
{
	char cmd[600];

	h_stop(h, SIGTERM);
	if (getenv("REPAT_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", h->dir);
	} else {
		fprintf(stderr, "kept %s\n", h->dir);
	}
}

/*
 * The region and broker of the test program (each runs one), and cmocka
 * group fixtures for it; a program that needs more in the broker's conf
 * writes its own setup around h_up(&H, extra).
 */
static struct harness H;

static inline int
h_group_setup(void **state)
{
	(void)state;
	return h_up(&H, NULL);
}

static inline int
h_group_teardown(void **state)
{
	(void)state;
	h_teardown(&H);
	return 0;
}

/* Loads agent id of the region (keys, pinned broker). */
static inline int
h_agent_load(struct harness *h, const char *id, struct agent *a)
{
	char dir[512], path[600], err[REPAT_ERRBUF_LEN];
	repat_conf_t *conf;
	FILE *f;
	int rc;

	memset(a, 0, sizeof(*a));
	snprintf(dir, sizeof(dir), "%s/agents/%s", h->region, id);
	if ((rc = repat_keystore_load(dir, NULL, &a->ks, err)) != 0) {
		fprintf(stderr, "%s: %s\n", id, err);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/broker.crt", dir);
	if ((rc = repat_cert_load(path, &a->broker_cert, err)) != 0) {
		fprintf(stderr, "%s: %s\n", id, err);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	if ((conf = repat_conf_load(path, err)) == NULL) {
		fprintf(stderr, "%s: %s\n", id, err);
		return REPAT_EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir,
	    repat_conf_str(conf, "broker_curve_key", "broker_curve.pub"));
	repat_conf_destroy(&conf);
	/* broker_curve_key names a file: Z85 may contain '#' */
	f = fopen(path, "r");
	if (f == NULL || fgets(a->curve, sizeof(a->curve), f) == NULL ||
	    strlen(a->curve) != 40) {
		fprintf(stderr, "%s: cannot read a Z85 key\n", path);
		if (f != NULL)
			fclose(f);
		return REPAT_EINVAL;
	}
	fclose(f);
	return REPAT_OK;
}

static inline int
h_agent_connect(struct harness *h, struct agent *a, uint64_t acked)
{
	struct repat_client_options o = { 0, acked };
	char err[REPAT_ERRBUF_LEN];
	int rc;

	if (a->c == NULL &&
	    (a->c = repat_client_new(&a->ks, h->endpoint, a->curve,
	    a->broker_cert, err)) == NULL) {
		fprintf(stderr, "client %s: %s\n", a->ks.id.agent_id, err);
		return REPAT_EINVAL;
	}
	rc = repat_client_connect(a->c, &o, 5000, err);
	if (rc != 0)
		fprintf(stderr, "connect %s: %s\n", a->ks.id.agent_id, err);
	return rc;
}

static inline void
h_agent_free(struct agent *a)
{
	repat_client_destroy(&a->c);
	X509_free(a->broker_cert);
	repat_keystore_clear(&a->ks);
	memset(a, 0, sizeof(*a));
}

/*
 * A signed envelope from signer (whose certificate goes in), with header
 * sender `sender` (normally the signer's id) to recipient. id: 16 bytes;
 * filler: a byte that makes otherwise equal envelopes differ.
 */
/*
 * A SignedEnvelope around header h, signed by signer, with a fake sealed
 * payload of filler bytes (the broker never opens payloads).
 */
static inline int
h_sign_header(const struct repat_keystore *signer, const Repat__Header *h,
    uint8_t filler, uint8_t **out, size_t *outlen)
{
	Repat__Envelope e = REPAT__ENVELOPE__INIT;
	Repat__SignedEnvelope se = REPAT__SIGNED_ENVELOPE__INIT;
	ProtobufCBinaryData cert;
	uint8_t enc[32], ct[64], sig[REPAT_SIG_LEN], *hb, *eb, *der = NULL;
	size_t hl, el, dl;
	int rc;

	memset(enc, 0x11, sizeof(enc));
	memset(ct, filler, sizeof(ct));
	repat_encode(&h->base, &hb, &hl);
	e.header.data = hb;
	e.header.len = hl;
	e.enc.data = enc;
	e.enc.len = sizeof(enc);
	e.ciphertext.data = ct;
	e.ciphertext.len = sizeof(ct);
	repat_encode(&e.base, &eb, &el);
	rc = repat_sign(signer->sign_key, REPAT_PURPOSE_ENVELOPE, eb, el, sig);
	if (rc == 0)
		rc = repat_cert_to_der(signer->sign_cert, &der, &dl);
	if (rc == 0) {
		cert.data = der;
		cert.len = dl;
		se.envelope.data = eb;
		se.envelope.len = el;
		se.signature.data = sig;
		se.signature.len = sizeof(sig);
		se.n_certificates = 1;
		se.certificates = &cert;
		repat_encode(&se.base, out, outlen);
	}
	free(der);
	free(hb);
	free(eb);
	return rc;
}

static inline int
h_envelope(const struct repat_keystore *signer, const char *sender,
    const char *recipient, const uint8_t id[16], uint64_t created,
    uint64_t expires, uint8_t filler, uint8_t **out, size_t *outlen)
{
	Repat__Header h = REPAT__HEADER__INIT;
	Repat__CaseFacts facts = REPAT__CASE_FACTS__INIT;

	h.version = REPAT_WIRE_VERSION;
	h.message_id.data = (uint8_t *)id;
	h.message_id.len = 16;
	h.case_ref = "TH-2026-000123";
	h.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_REFERRAL;
	h.sender = (char *)sender;
	h.recipient = (char *)recipient;
	h.created_ms = created;
	h.expires_ms = expires;
	h.facts = &facts;
	return h_sign_header(signer, &h, filler, out, outlen);
}


/* ---- raw DEALER sessions, for hand-made frames */

/* How h_raw_hello() spoils a hello; HELLO_OK does not. */
enum { HELLO_OK, HELLO_OTHER_CURVE, HELLO_OTHER_BROKER, HELLO_BAD_SIG,
    HELLO_SKEW, HELLO_NO_CERTS };

/* A DEALER with a's CURVE keys, connected to the broker; no hello yet. */
static inline void *
h_raw_dealer(struct harness *h, void *ctx, struct agent *a)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	uint8_t k[32];
	int linger = 0;

	zmq_z85_decode(k, a->curve);
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, k, 32);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, a->ks.curve_public, 40);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, a->ks.curve_secret, 40);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(s, h->endpoint), 0);
	return s;
}

/* Sends a's hello on s, spoiled as how says. */
static inline void
h_raw_hello(void *s, struct agent *a, int how)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Hello h = REPAT__HELLO__INIT;
	Repat__HelloBody body = REPAT__HELLO_BODY__INIT;
	ProtobufCBinaryData certs[2];
	uint8_t me[32], broker[32], sig[64], *bb, *fb, *d1, *d2;
	size_t bl, fl, l1, l2;

	zmq_z85_decode(me, a->ks.curve_public);
	zmq_z85_decode(broker, a->curve);
	if (how == HELLO_OTHER_CURVE)
		me[0] ^= 1;
	if (how == HELLO_OTHER_BROKER)
		broker[0] ^= 1;
	body.version = REPAT_WIRE_VERSION;
	body.agent_id = a->ks.id.agent_id;
	body.curve_key.data = me;
	body.curve_key.len = 32;
	body.broker_key.data = broker;
	body.broker_key.len = 32;
	body.time_ms = repat_now_ms() - (how == HELLO_SKEW ? 3600000 : 0);
	repat_encode(&body.base, &bb, &bl);
	assert_int_equal(repat_sign(a->ks.sign_key, REPAT_PURPOSE_HELLO, bb, bl,
	    sig), 0);
	if (how == HELLO_BAD_SIG)
		sig[5] ^= 1;
	assert_int_equal(repat_cert_to_der(a->ks.sign_cert, &d1, &l1), 0);
	assert_int_equal(repat_cert_to_der(a->ks.enc_cert, &d2, &l2), 0);
	certs[0].data = d1;
	certs[0].len = l1;
	certs[1].data = d2;
	certs[1].len = l2;
	h.body.data = bb;
	h.body.len = bl;
	h.signature.data = sig;
	h.signature.len = 64;
	h.n_certificates = how == HELLO_NO_CERTS ? 1 : 2;
	h.certificates = certs;
	f.command_case = REPAT__FRAME__COMMAND_HELLO;
	f.hello = &h;
	repat_encode(&f.base, &fb, &fl);
	assert_true(zmq_send(s, fb, fl, 0) >= 0);
	free(bb);
	free(fb);
	free(d1);
	free(d2);
}

/* The next frame on s within ms, decoded; NULL on timeout. */
static inline Repat__Frame *
h_raw_recv(void *s, int ms)
{
	zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
	zmq_msg_t m;
	Repat__Frame *f = NULL;

	if (zmq_poll(&it, 1, ms) <= 0)
		return NULL;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, s, 0) >= 0 &&
	    repat_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m), &f) != 0)
		f = NULL;
	zmq_msg_close(&m);
	return f;
}

/* A fresh id whose first bytes say who and which. */
static inline void
h_id(uint8_t id[16], uint8_t who, uint32_t n)
{
	RAND_bytes(id, 16);
	id[0] = who;
	id[1] = (uint8_t)(n >> 24);
	id[2] = (uint8_t)(n >> 16);
	id[3] = (uint8_t)(n >> 8);
	id[4] = (uint8_t)n;
}

static inline uint32_t
h_id_n(const uint8_t id[16])
{
	return (uint32_t)id[1] << 24 | (uint32_t)id[2] << 16 |
	    (uint32_t)id[3] << 8 | id[4];
}

#endif
