/*
 * broker.c: repat-broker's event loop and group commit.
 *
 * One thread polls the ROUTER (CURVE server), the ZAP handler and the
 * timers. Readable frames are taken in groups of up to group_commit_size
 * (waiting up to group_commit_wait to fill one): the group runs in one
 * transaction, each command under its own savepoint, and everything it
 * wants to say waits in the out queue. Only after COMMIT returned OK are
 * receipts sent and deliveries pumped, so a receipt always means "on
 * disk" (DESIGN.md §6). A failed COMMIT sends nothing: clients resend the
 * same bytes and get their receipt then.
 *
 * Signals only set flags. SIGTERM stops taking frames between groups, so
 * the group in flight is committed and answered before exit 0. SIGHUP
 * reloads the trust bundle (CRLs) and agreements and closes the sessions
 * of agents whose certificates no longer verify.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <zmq.h>

#include "broker.h"
#include "repat/clock.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/sign.h"

volatile sig_atomic_t broker_got_term;
volatile sig_atomic_t broker_got_hup;

#define REFUSAL_FLUSH_MS 60000
#define SWEEP_MS 500

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		broker_got_hup = 1;
	else
		broker_got_term = 1;
}

void
broker_signals_block(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
}

void
broker_signals_restore(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

uint64_t
broker_now(const struct broker *b)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    b->cfg.clock_offset_ms);
}

static int
read_z85(const char *path, char out[41], char *errbuf)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = repat_file_read(path, 256, &buf, &len, errbuf)) != 0)
		return rc;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' '))
		len--;
	if (len != 40) {
		repat_free_secret(buf, len);
		return repat_errf(errbuf, REPAT_EINVAL,
		    "%s: not a 40-character Z85 CURVE key", path);
	}
	memcpy(out, buf, 40);
	out[40] = '\0';
	repat_free_secret(buf, len);
	return REPAT_OK;
}

static int
check_broker_role(const struct broker_config *c,
    const struct repat_identity *id, char *errbuf)
{
	if (id->role != REPAT__ROLE__ROLE_BROKER)
		return repat_errf(errbuf, REPAT_ECERT, "%s certifies %s as %s, "
		    "not as a broker", c->sign_cert, id->agent_id,
		    repat_role_name(id->role));
	return REPAT_OK;
}

/*
 * The broker's own certificate, checked at start against its key and its
 * trust bundle: with a key that is not the certificate's, every receipt
 * fails its senders' check and they only see a broker that never answers.
 * A stale CRL of its own country is left to the agents' checks (a
 * warning here): the broker must run to hand out the newer one.
 */
static int
check_own_certificate(struct broker *b, X509 *cert, char *errbuf)
{
	const struct broker_config *c = &b->cfg;
	struct repat_identity id;
	char why[REPAT_ERRBUF_LEN];
	int rc;

	if (X509_check_private_key(cert, b->sign_key) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ECERT, "%s is not the "
		    "certificate of the key in %s", c->sign_cert, c->sign_key);
	}
	rc = repat_trust_verify(b->trust, cert, repat_now_ms(), &id, why);
	if (rc == REPAT_EEXPIRED) {
		repat_log_warnx("%s: %s", c->sign_cert, why);
		return repat_cert_identity(cert, &id, errbuf) != 0 ?
		    REPAT_ECERT : check_broker_role(c, &id, errbuf);
	}
	if (rc != 0)
		return repat_errf(errbuf, rc, "%s: %s", c->sign_cert, why);
	return check_broker_role(c, &id, errbuf);
}

static int
load_keys(struct broker *b, char *errbuf)
{
	const struct broker_config *c = &b->cfg;
	char pub[41];
	char *pass = NULL;
	X509 *cert = NULL;
	int rc;

	rc = repat_key_load(c->sign_key, NULL, &b->sign_key, errbuf);
	if (rc == REPAT_EPASS) {
		if ((rc = repat_passphrase(c->passphrase_file,
		    "broker signing key passphrase: ", &pass, errbuf)) != 0)
			return rc;
		rc = repat_key_load(c->sign_key, pass, &b->sign_key, errbuf);
		repat_free_secret(pass, strlen(pass));
	}
	if (rc != 0)
		return rc;
	if ((b->trust = repat_trust_load(c->trust, errbuf)) == NULL)
		return REPAT_ECERT;
	if ((rc = repat_cert_load(c->sign_cert, &cert, errbuf)) != 0)
		return rc;
	if ((rc = check_own_certificate(b, cert, errbuf)) == 0 &&
	    (rc = repat_cert_to_der(cert, &b->cert_der, &b->cert_der_len)) !=
	    0)
		repat_errf(errbuf, rc, "%s: cannot encode", c->sign_cert);
	X509_free(cert);
	if (rc != 0)
		return rc;
	if ((rc = read_z85(c->curve_key, b->curve_secret_z85, errbuf)) != 0 ||
	    (rc = read_z85(c->curve_public, pub, errbuf)) != 0 ||
	    (rc = repat_curve_pair_check(c->curve_key, b->curve_secret_z85,
	    c->curve_public, pub, errbuf)) != 0)
		return rc;
	if (zmq_z85_decode(b->curve_pub, pub) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "%s: bad Z85",
		    c->curve_public);
	return REPAT_OK;
}

static int
setup_sockets(struct broker *b, char *errbuf)
{
	uint8_t secret[32];
	int one = 1, zero = 0, ivl, tmo, linger = 500;
	int64_t max = b->cfg.max_frame;

	b->zctx = zmq_ctx_new();
	b->zap = zmq_socket(b->zctx, ZMQ_REP);
	if (zmq_bind(b->zap, "inproc://zeromq.zap.01") != 0)
		return repat_errf(errbuf, REPAT_EIO, "zap: %s",
		    zmq_strerror(errno));
	b->router = zmq_socket(b->zctx, ZMQ_ROUTER);
	if (zmq_z85_decode(secret, b->curve_secret_z85) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "%s: bad Z85",
		    b->cfg.curve_key);
	ivl = (int)b->cfg.heartbeat_ms;
	tmo = ivl * 3;
	zmq_setsockopt(b->router, ZMQ_CURVE_SERVER, &one, sizeof(one));
	zmq_setsockopt(b->router, ZMQ_CURVE_SECRETKEY, secret, 32);
	repat_wipe(secret, sizeof(secret));
	zmq_setsockopt(b->router, ZMQ_ZAP_DOMAIN, "repat", 5);
	zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	zmq_setsockopt(b->router, ZMQ_ROUTER_HANDOVER, &zero, sizeof(zero));
	zmq_setsockopt(b->router, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl));
	zmq_setsockopt(b->router, ZMQ_HEARTBEAT_TIMEOUT, &tmo, sizeof(tmo));
	zmq_setsockopt(b->router, ZMQ_HEARTBEAT_TTL, &tmo, sizeof(tmo));
	zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(b->router, b->cfg.endpoint) != 0)
		return repat_errf(errbuf, REPAT_EIO, "%s: %s",
		    b->cfg.endpoint, zmq_strerror(errno));
	return REPAT_OK;
}

/* The group's batch and the workers that prepare it (prepare.c). */
static int
start_pool(struct broker *b, char *errbuf)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t n = b->cfg.verify_threads;
	int i;

	if (n < 0)
		n = cpus > 1 ? cpus - 1 : 0;
	for (i = 0; i < 2; i++) {
		b->groups[i].jobs = repat_xcalloc(
		    (size_t)b->cfg.group_commit_size, sizeof(struct prepared));
		b->groups[i].msgs = repat_xcalloc(
		    (size_t)b->cfg.group_commit_size, sizeof(zmq_msg_t));
	}
	if (prepare_pool_start(&b->pool, b, (int)n) != 0)
		return repat_errf(errbuf, REPAT_EIO, "cannot start %lld "
		    "verification threads", (long long)n);
	return REPAT_OK;
}

int
broker_audit(struct broker *b, Repat__AuditEntry *e)
{
	int rc;

	rc = audit_append(&b->audit, &b->store, e, broker_now(b));
	if (rc != 0)
		repat_log_warnx("audit: cannot append: %s",
		    repat_strerror(rc));
	return rc;
}

static int
audit_start(struct broker *b)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	char err[REPAT_ERRBUF_LEN];
	int rc;

	if ((rc = store_begin(&b->store)) != 0)
		return rc;
	e.kind = REPAT__AUDIT_KIND__AUDIT_BROKER_STARTED;
	rc = broker_audit(b, &e);
	if (rc == 0 && b->cfg.authorization == BROKER_AUTH_OPEN) {
		repat__audit_entry__init(&e);
		e.kind = REPAT__AUDIT_KIND__AUDIT_OPEN_AUTHORIZATION;
		e.detail = "authorization = open: no agreement is checked";
		rc = broker_audit(b, &e);
	}
	if (rc == 0 && b->cfg.test_mode) {
		repat__audit_entry__init(&e);
		e.kind = REPAT__AUDIT_KIND__AUDIT_TEST_CLOCK;
		e.detail = "test_mode = yes: the clock may be shifted";
		rc = broker_audit(b, &e);
	}
	if (rc == 0)
		rc = store_commit(&b->store, err);
	if (rc != 0) {
		store_rollback(&b->store);
		audit_rolled_back(&b->audit);
		return rc;
	}
	audit_committed(&b->audit);
	return REPAT_OK;
}

int
broker_init(struct broker *b, const char *conf, char *errbuf)
{
	struct sigaction sa;
	int rc;

	memset(b, 0, sizeof(*b));
	b->accepting = true;
	b->lock_fd = -1;
	/* First: a SIGTERM during start-up must still end in a clean exit. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = broker_config_load(conf, &b->cfg, errbuf)) != 0)
		return rc;
	repat_log_init("repat-broker", b->cfg.log_level);
	if ((rc = load_keys(b, errbuf)) != 0)
		return rc;
	if ((rc = broker_lock(b->cfg.database, &b->lock_fd, errbuf)) != 0)
		return rc;
	if ((rc = store_open(&b->store, b->cfg.database, errbuf)) != 0)
		return rc;
	if ((rc = audit_open(&b->audit, &b->store, errbuf)) != 0)
		return rc;
	if ((rc = checkpoint_open(b, errbuf)) != 0)
		return rc;
	if ((rc = setup_sockets(b, errbuf)) != 0)
		return rc;
	/* the store's two connections live on two threads */
	if (!sqlite3_threadsafe())
		return repat_errf(errbuf, REPAT_EINVAL, "this SQLite is built "
		    "without thread support (SQLITE_THREADSAFE=0)");
	if ((rc = start_pool(b, errbuf)) != 0)
		return rc;
	if (walckpt_start(&b->store.wal, b->store.db, b->store.ckpt,
	    b->cfg.checkpoint_ms) != 0)
		return repat_errf(errbuf, REPAT_EIO, "cannot start the WAL "
		    "checkpoint thread");
	if ((rc = audit_start(b)) != 0)
		return repat_errf(errbuf, rc, "%s: cannot write the audit log",
		    b->cfg.database);
	(void)checkpoint_maybe(b, true);
	(void)authorize_reload(b);
	if (b->cfg.authorization == BROKER_AUTH_OPEN)
		repat_log_warnx("authorization = open: every registered agent "
		    "may write to every other (tests only)");
	if (b->cfg.test_mode)
		repat_log_warnx("test_mode = yes: clock offset %lld ms",
		    (long long)b->cfg.clock_offset_ms);
	repat_log_info("listening on %s, database %s, audit size %llu",
	    b->cfg.endpoint, b->cfg.database,
	    (unsigned long long)b->audit.committed);
	return REPAT_OK;
}

void
broker_free(struct broker *b)
{
	size_t i;

	prepare_pool_stop(&b->pool);
	for (i = 0; i < 2; i++) {
		group_clear(&b->groups[i]);
		free(b->groups[i].jobs);
		free(b->groups[i].msgs);
	}
	for (i = 0; i < b->nout; i++)
		free(b->out[i].data);
	free(b->out);
	session_table_clear(&b->sessions);
	if (b->router != NULL)
		zmq_close(b->router);
	if (b->zap != NULL)
		zmq_close(b->zap);
	if (b->zctx != NULL)
		zmq_ctx_term(b->zctx);
	checkpoint_close(&b->ckpt);
	audit_close(&b->audit);
	store_close(&b->store);
	repat_agreements_destroy(&b->agreements);
	repat_trust_destroy(&b->trust);
	EVP_PKEY_free(b->sign_key);
	free(b->cert_der);
	repat_wipe(b->curve_secret_z85, sizeof(b->curve_secret_z85));
	broker_config_clear(&b->cfg);
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------ sending */

void
broker_queue(struct broker *b, const struct session *s, uint8_t *data,
    size_t len)
{
	struct outframe *o;

	if (b->nout == b->outcap) {
		b->outcap = b->outcap ? b->outcap * 2 : 64;
		b->out = repat_xrealloc(b->out, b->outcap * sizeof(*b->out));
	}
	o = &b->out[b->nout++];
	memcpy(o->key, s->key, BROKER_CURVE_LEN);
	memcpy(o->rid, s->rid, s->rid_len);
	o->rid_len = s->rid_len;
	o->data = data;
	o->len = len;
}

void
broker_queue_frame(struct broker *b, const struct session *s,
    const Repat__Frame *f)
{
	uint8_t *buf;
	size_t len;

	repat_encode(&f->base, &buf, &len);
	broker_queue(b, s, buf, len);
}

static int
send_to(struct broker *b, const uint8_t *rid, size_t rid_len,
    const uint8_t *data, size_t len)
{
	if (zmq_send(b->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return -errno;
	if (zmq_send(b->router, data, len, ZMQ_DONTWAIT) < 0)
		return -errno;
	return 0;
}

int
broker_send(struct broker *b, struct session *s, const uint8_t *data,
    size_t len)
{
	int rc;

	if (s->unreachable)
		return REPAT_EIO;
	rc = send_to(b, s->rid, s->rid_len, data, len);
	if (rc == -EHOSTUNREACH) {
		repat_log_debug("session %s: peer gone", s->agent_id);
		s->unreachable = true;
	}
	return rc == 0 ? REPAT_OK : REPAT_EIO;
}

static void
flush_out(struct broker *b, bool send)
{
	struct session *s;
	struct outframe *o;
	size_t i;

	for (i = 0; i < b->nout; i++) {
		o = &b->out[i];
		if (send && send_to(b, o->rid, o->rid_len, o->data,
		    o->len) == -EHOSTUNREACH &&
		    (s = session_find(&b->sessions, o->key)) != NULL &&
		    s->rid_len == o->rid_len &&
		    memcmp(s->rid, o->rid, o->rid_len) == 0)
			s->unreachable = true;
		free(o->data);
	}
	b->nout = 0;
}

/* ------------------------------------------------------------ groups */

static void
sign_receipt(struct broker *b, struct session *s)
{
	Repat__ReceiptBody body = REPAT__RECEIPT_BODY__INIT;
	Repat__Receipt r = REPAT__RECEIPT__INIT;
	Repat__Frame f = REPAT__FRAME__INIT;
	ProtobufCBinaryData *ids, *hashes;
	uint8_t sig[REPAT_SIG_LEN], *buf;
	size_t i, len;

	ids = repat_xcalloc(s->r_n, sizeof(*ids));
	hashes = repat_xcalloc(s->r_n, sizeof(*hashes));
	for (i = 0; i < s->r_n; i++) {
		ids[i].data = s->r_ids[i];
		ids[i].len = 16;
		hashes[i].data = s->r_hashes[i];
		hashes[i].len = 32;
	}
	body.n_message_ids = body.n_envelope_hashes = s->r_n;
	body.message_ids = ids;
	body.envelope_hashes = hashes;
	body.broker_time_ms = broker_now(b);
	body.sender = s->agent_id;
	repat_encode(&body.base, &buf, &len);
	if (repat_sign(b->sign_key, REPAT_PURPOSE_RECEIPT, buf, len, sig) != 0)
		repat_fatalx("receipt: signing failed");
	r.body.data = buf;
	r.body.len = len;
	r.signature.data = sig;
	r.signature.len = sizeof(sig);
	f.command_case = REPAT__FRAME__COMMAND_RECEIPT;
	f.receipt = &r;
	broker_queue_frame(b, s, &f);
	free(buf);
	free(ids);
	free(hashes);
	s->r_n = 0;
}

int
broker_group_begin(struct broker *b)
{
	return store_begin(&b->store);
}

/* After a failed COMMIT, the sessions' view of acks is reloaded. */
static void
resync_sessions(struct broker *b)
{
	struct agent_row a;
	struct session *s;
	size_t i;

	for (i = 0; i < b->sessions.n; i++) {
		s = b->sessions.s[i];
		s->r_n = 0;
		if (s->state != SESSION_ACTIVE ||
		    store_agent_get(&b->store, s->agent_id, &a) != 0)
			continue;
		s->acked = a.acked_seq;
		if (s->sent < s->acked)
			s->sent = s->acked;
	}
}

/* The answer to a submit the database did not keep; rc says why. */
static void
unkept_rejection(struct broker *b, int rc, Repat__Frame *f,
    Repat__Rejection *r)
{
	r->code = rc == REPAT_EFULL ?
	    REPAT__REJECT_CODE__REJECT_STORAGE_FULL :
	    REPAT__REJECT_CODE__REJECT_INTERNAL;
	r->reason = rc == REPAT_EFULL ? "The broker's storage is full: this "
	    "message was not kept. Keep it in your outbox and send it again "
	    "later; the broker's operator must free space." : "The broker "
	    "could not write this message to its database: it was not kept. "
	    "Send it again later; the broker's operator should run "
	    "repat-broker check.";
	r->broker_time_ms = broker_now(b);
	r->has_message_id = 1;
	f->command_case = REPAT__FRAME__COMMAND_REJECTION;
	f->rejection = r;
}

/*
 * A hello the database could not record (its admission, its audit entry)
 * is told so, with the same code a submit would get: without an answer
 * the agent waits for a welcome and reports the broker unreachable. The
 * agent says hello again later.
 */
static void
hello_rejection(struct broker *b, int rc, Repat__Frame *f,
    Repat__Rejection *r)
{
	unkept_rejection(b, rc, f, r);
	r->has_message_id = 0;
	r->reason = rc == REPAT_EFULL ? "The broker's storage is full: it "
	    "could not record your hello. Try again later; the broker's "
	    "operator must free space." : "The broker could not record your "
	    "hello in its database. Try again later.";
}

/*
 * A group whose COMMIT failed kept nothing: each submit that was waiting
 * for a receipt is told so, with a code the sender can act on, instead of
 * being left to time out. No audit entry: the database just refused to
 * take one; the log line is the record.
 */
static void
refuse_uncommitted(struct broker *b, int rc)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Rejection r = REPAT__REJECTION__INIT;
	struct session *s;
	size_t i, j;

	unkept_rejection(b, rc, &f, &r);
	for (i = 0; i < b->sessions.n; i++) {
		s = b->sessions.s[i];
		for (j = 0; j < s->r_n; j++) {
			r.message_id.data = s->r_ids[j];
			r.message_id.len = 16;
			broker_queue_frame(b, s, &f);
		}
		if (s->welcome_owed) {
			Repat__Frame hf = REPAT__FRAME__INIT;
			Repat__Rejection hr = REPAT__REJECTION__INIT;

			hello_rejection(b, rc, &hf, &hr);
			broker_queue_frame(b, s, &hf);
			s->welcome_owed = false;
		}
	}
}

void
broker_group_end(struct broker *b)
{
	char err[REPAT_ERRBUF_LEN];
	size_t i;
	int rc;

	rc = store_commit(&b->store, err);
	if (rc != 0) {
		repat_log_warnx("commit failed, group not kept, its submits "
		    "refused: %s", err);
		audit_rolled_back(&b->audit);
		flush_out(b, false);
		refuse_uncommitted(b, rc);
		flush_out(b, true);
		resync_sessions(b);
		return;
	}
	/* Receipts are signed only now: "acknowledged" means on disk. */
	for (i = 0; i < b->sessions.n; i++) {
		b->sessions.s[i]->welcome_owed = false;
		if (b->sessions.s[i]->r_n > 0)
			sign_receipt(b, b->sessions.s[i]);
	}
	audit_committed(&b->audit);
	(void)checkpoint_maybe(b, false);
	flush_out(b, true);
	deliver_pump_all(b);
}

void
broker_refusal(struct broker *b)
{
	if (b->refusals++ == 0)
		b->refusals_since_ms = broker_now(b);
}

static void
flush_refusals(struct broker *b, bool force)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;

	if (b->refusals == 0 || (!force &&
	    broker_now(b) - b->refusals_since_ms < REFUSAL_FLUSH_MS))
		return;
	if (broker_group_begin(b) != 0)
		return;
	e.kind = REPAT__AUDIT_KIND__AUDIT_AGENT_REFUSED;
	e.has_count = 1;
	e.count = b->refusals;
	e.detail = "refused or unauthenticated peers (aggregated)";
	repat_log_info("refused %u unauthenticated frames or hellos",
	    b->refusals);
	b->refusals = 0;
	(void)broker_audit(b, &e);
	broker_group_end(b);
}

/* ------------------------------------------------------------ input */

/*
 * A group holds at most group_commit_size frames and about this many
 * bytes, so that a burst of maximum-size frames cannot make the loop hold
 * gigabytes before it commits.
 */
#define GROUP_MAX_BYTES (16u << 20)

/*
 * Receives one message (routing id + body) into the next batch slot.
 * Returns 1 when one was taken, 0 when one was refused (malformed or
 * unauthenticated), -1 when none is waiting.
 */
static int
take_frame(struct broker *b, struct group *g)
{
	struct prepared *p = &g->jobs[g->n];
	zmq_msg_t rid, *body = &g->msgs[g->n], extra;
	const char *user;
	struct session *s;
	int more = 0, taken = 0;
	size_t sz = sizeof(more);

	zmq_msg_init(&rid);
	if (zmq_msg_recv(&rid, b->router, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&rid);
		return -1;
	}
	zmq_msg_init(body);
	if (zmq_msg_recv(body, b->router, ZMQ_DONTWAIT) < 0)
		goto out;
	zmq_getsockopt(b->router, ZMQ_RCVMORE, &more, &sz);
	if (more) {
		/* One Frame per ZeroMQ message: multipart is malformed. */
		while (more) {
			zmq_msg_init(&extra);
			zmq_msg_recv(&extra, b->router, 0);
			zmq_msg_close(&extra);
			zmq_getsockopt(b->router, ZMQ_RCVMORE, &more, &sz);
		}
		broker_refusal(b);
		goto out;
	}
	user = zmq_msg_gets(body, "User-Id");
	if (user == NULL || strlen(user) != 40 ||
	    zmq_z85_decode(p->key, user) == NULL ||
	    zmq_msg_size(&rid) > BROKER_MAX_ROUTING_ID) {
		broker_refusal(b);
		goto out;
	}
	p->rid_len = zmq_msg_size(&rid);
	memcpy(p->rid, zmq_msg_data(&rid), p->rid_len);
	p->data = zmq_msg_data(body);
	p->len = zmq_msg_size(body);
	s = session_find(&b->sessions, p->key);
	p->verify = s != NULL && s->state == SESSION_ACTIVE;
	g->n++;
	taken = 1;
out:
	if (!taken)
		zmq_msg_close(body);
	zmq_msg_close(&rid);
	return taken;
}

/* Runs one prepared frame: its session, then dispatch. */
static void
run_frame(struct broker *b, struct prepared *p)
{
	struct session *s;

	if ((s = session_get(&b->sessions, p->key)) == NULL) {
		broker_refusal(b);
		return;
	}
	if (s->rid_len != p->rid_len ||
	    memcmp(s->rid, p->rid, s->rid_len) != 0) {
		/* The peer reconnected (new routing id): same CURVE key. */
		s->rid_len = p->rid_len;
		memcpy(s->rid, p->rid, s->rid_len);
		s->unreachable = false;
		if (s->state == SESSION_ACTIVE) {
			s->sent = s->acked;
			s->dirty = true;
		}
	}
	s->unreachable = false;
	s->last_seen_ms = broker_now(b);
	dispatch(b, s, p);
}

void
group_clear(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		prepared_clear(&g->jobs[i]);
		zmq_msg_close(&g->msgs[i]);
	}
	g->n = 0;
	g->pending = false;
}

/*
 * Takes what is waiting, up to a group; waits up to group_commit_wait to
 * fill it only when nothing else is pending.
 */
static void
collect(struct broker *b, struct group *g, bool may_wait)
{
	zmq_pollitem_t it = { b->router, 0, ZMQ_POLLIN, 0 };
	uint64_t deadline;
	int64_t left, tries = 0;
	size_t bytes = 0;
	int rc;

	deadline = broker_now(b) + (uint64_t)b->cfg.group_commit_wait_ms;
	/* refused frames count too: a flood of them still ends the group */
	while (tries < b->cfg.group_commit_size && bytes < GROUP_MAX_BYTES) {
		if ((rc = take_frame(b, g)) >= 0) {
			tries++;
			/* a prepared submit holds about 4 copies of it */
			if (rc > 0)
				bytes += 4 * g->jobs[g->n - 1].len;
			continue;
		}
		left = (int64_t)(deadline - broker_now(b));
		if (!may_wait || left <= 0 || deadline < broker_now(b) ||
		    zmq_poll(&it, 1, (long)left) <= 0)
			break;
	}
}

/*
 * A group whose transaction could not even begin (the database locked by
 * another program past the busy timeout, or failing): each submit of an
 * admitted session is told, as after a failed COMMIT, instead of being
 * dropped unanswered.
 */
static void
refuse_group(struct broker *b, struct group *g, int rc)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Rejection r = REPAT__REJECTION__INIT;
	struct prepared *p;
	struct session *s;
	size_t i;

	repat_log_warnx("cannot begin a transaction, %zu frames refused: %s",
	    g->n, repat_strerror(rc));
	unkept_rejection(b, rc, &f, &r);
	for (i = 0; i < g->n; i++) {
		p = &g->jobs[i];
		/*
		 * Straight to the frame's routing id: a first hello has no
		 * session yet (run_frame makes it), and a reconnected peer's
		 * session still holds its old id.
		 */
		if (p->frame != NULL &&
		    p->frame->command_case == REPAT__FRAME__COMMAND_HELLO) {
			Repat__Frame hf = REPAT__FRAME__INIT;
			Repat__Rejection hr = REPAT__REJECTION__INIT;
			uint8_t *buf;
			size_t len;

			hello_rejection(b, rc, &hf, &hr);
			repat_encode(&hf.base, &buf, &len);
			(void)send_to(b, p->rid, p->rid_len, buf, len);
			free(buf);
			continue;
		}
		if (p->frame == NULL ||
		    p->frame->command_case != REPAT__FRAME__COMMAND_SUBMIT ||
		    (s = session_find(&b->sessions, p->key)) == NULL ||
		    s->state != SESSION_ACTIVE)
			continue;
		if (!p->parsed)
			prepare_parse_submit(p);
		if (p->parse_rc != 0)
			continue;
		r.message_id = p->v.header->message_id;
		broker_queue_frame(b, s, &f);
	}
	flush_out(b, true);
}

/* Runs a prepared group in one transaction and answers it. */
static void
run_group(struct broker *b, struct group *g)
{
	size_t i;
	int rc;

	if ((rc = broker_group_begin(b)) != 0) {
		refuse_group(b, g, rc);
	} else {
		for (i = 0; i < g->n; i++)
			run_frame(b, &g->jobs[i]);
		broker_group_end(b);
	}
	group_clear(g);
}

/* The group the workers prepared last: run next. */
static struct group *
ready_group(struct broker *b)
{
	return &b->groups[!b->next_group];
}

/*
 * One step of the pipeline: collect the next group and hand it to the
 * workers, then run the group they prepared in the previous step. A
 * receipt still waits for its group's COMMIT; preparing ahead only moves
 * the decoding and the signature checks off the loop's thread.
 */
static void
take_group(struct broker *b)
{
	struct group *next = &b->groups[b->next_group];
	struct group *ready = ready_group(b);

	collect(b, next, !ready->pending);
	if (ready->pending)
		prepare_wait(&b->pool);
	if (next->n > 0) {
		prepare_start(&b->pool, next->jobs, next->n);
		next->pending = true;
		b->next_group = !b->next_group;
	}
	if (ready->pending)
		run_group(b, ready);
}

/* Runs what was received and prepared, so that nothing waits (SIGTERM). */
static void
drain_groups(struct broker *b)
{
	struct group *ready = ready_group(b);

	if (ready->pending) {
		prepare_wait(&b->pool);
		run_group(b, ready);
	}
}

/* ------------------------------------------------------------ reload */

static void
reload(struct broker *b)
{
	char err[REPAT_ERRBUF_LEN];
	repat_trust_t *t;

	broker_got_hup = 0;
	drain_groups(b);
	if ((t = repat_trust_load(b->cfg.trust, err)) == NULL) {
		repat_log_warnx("reload: keeping the old trust bundle: %s",
		    err);
	} else {
		repat_trust_destroy(&b->trust);
		b->trust = t;
		b->crl_cap_warned = false;
		certcache_clear(&b->certs);
		repat_log_info("reload: trust bundle and CRLs reloaded");
	}
	(void)authorize_reload(b);
	session_recheck_all(b);
}

int
broker_run(struct broker *b)
{
	zmq_pollitem_t items[2] = {
		{ b->router, 0, ZMQ_POLLIN, 0 },
		{ b->zap, 0, ZMQ_POLLIN, 0 },
	};
	uint64_t now;
	int rc;

	while (!broker_got_term) {
		rc = zmq_poll(items, 2, ready_group(b)->pending ? 0 : 100);
		if (rc < 0 && errno != EINTR) {
			repat_log_warn("zmq_poll");
			drain_groups(b);
			return REPAT_EIO;
		}
		if (broker_got_hup)
			reload(b);
		if (items[1].revents & ZMQ_POLLIN)
			zap_serve(b);
		if (!broker_got_term && ((items[0].revents & ZMQ_POLLIN) ||
		    ready_group(b)->pending))
			take_group(b);
		now = broker_now(b);
		if (now - b->last_sweep_ms >= SWEEP_MS) {
			b->last_sweep_ms = now;
			deliver_timers(b);
			flush_refusals(b, false);
			(void)checkpoint_maybe(b, false);
		}
	}
	drain_groups(b);
	flush_refusals(b, true);
	(void)checkpoint_maybe(b, true);
	walckpt_stop(&b->store.wal);
	repat_log_info("stopping: every receipted message is on disk");
	return REPAT_OK;
}
