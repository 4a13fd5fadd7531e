/*
 * session.c: agent.conf, keys, local store and broker connection for the
 * agent-side commands (see session.h).
 *
 * The order of durable steps is the point of this file: a message is in
 * the outbox before it is submitted; a delivery is committed to the inbox
 * (and the stored sequence number with it) before it is acked. A crash
 * anywhere loses nothing and duplicates nothing: the outbox resubmits the
 * same bytes, the inbox ignores a message id it already holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "session.h"
#include "repat/agreement.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/log.h"
#include "repat/mem.h"

#define ACK_BATCH	32	/* per COMMIT and signed ack: half the window */
#define PROGRESS_EVERY	100	/* a progress line every so many events */

/*
 * A misspelt key would silently fall back to its default (`operator`
 * for `operators` turns the operator check off): refused, as broker.conf
 * refuses one.
 */
static int
check_conf_keys(struct agent_session *s)
{
	static const char *const known[] = {
		"id", "role", "broker_endpoint", "broker_curve_key",
		"broker_cert", "trust", "operators", "connect_timeout",
		"agreements", "log_level", NULL
	};
	const char *unused;
	int i, line;

	for (i = 0; known[i] != NULL; i++)
		(void)repat_conf_str(s->conf, known[i], NULL);
	if ((unused = repat_conf_unused(s->conf, &line)) != NULL)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s:%d: %s: unknown "
		    "key (known: id, role, broker_endpoint, broker_curve_key, "
		    "broker_cert, trust, operators, connect_timeout, "
		    "agreements, log_level)", repat_conf_path(s->conf), line,
		    unused);
	return REPAT_EXIT_OK;
}

int
session_open(struct agent_session *s, const char *cmd, const char *dir_opt,
    const char *pass_file)
{
	char err[REPAT_ERRBUF_LEN] = "", *path;
	const char *lvl;
	struct stat st;
	int64_t t;

	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->pass_file = pass_file;
	s->timeout_ms = 5000;
	if ((s->dir = cli_agent_dir(dir_opt)) == NULL)
		return REPAT_EXIT_USAGE;
	if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail(cmd, REPAT_EXIT_FAIL, "%s is not an agent "
		    "folder (make one with `repat region init` or `repat "
		    "init`)", s->dir);
	path = repat_xasprintf("%s/agent.conf", s->dir);
	if (stat(path, &st) == 0 &&
	    (s->conf = repat_conf_load(path, err)) == NULL) {
		free(path);
		return cli_fail(cmd, REPAT_EXIT_FAIL, "%s", err);
	}
	free(path);
	if (s->conf != NULL) {
		int rc = check_conf_keys(s);

		if (rc != REPAT_EXIT_OK) {
			repat_conf_destroy(&s->conf);
			return rc;
		}
		lvl = repat_conf_str(s->conf, "log_level", NULL);
		if (lvl != NULL && repat_log_level_parse(lvl) >= 0)
			repat_log_set_level(repat_log_level_parse(lvl));
		snprintf(s->agent_id, sizeof(s->agent_id), "%s",
		    repat_conf_str(s->conf, "id", ""));
		if (repat_conf_int(s->conf, "connect_timeout", 5000, 100,
		    600000, true, &t, err) != REPAT_OK)
			return cli_fail(cmd, REPAT_EXIT_FAIL, "%s", err);
		s->timeout_ms = (int)t;
	}
	if (local_store_open(s->dir, &s->store, err) != REPAT_OK)
		return cli_fail(cmd, REPAT_EXIT_FAIL, "%s", err);
	return REPAT_EXIT_OK;
}

int
session_keys(struct agent_session *s)
{
	int rc;

	if (s->keys_loaded)
		return REPAT_EXIT_OK;
	if ((rc = cli_load_keystore(s->cmd, s->dir, s->pass_file, &s->ks)) !=
	    REPAT_EXIT_OK)
		return rc;
	s->keys_loaded = true;
	if (s->agent_id[0] != '\0' &&
	    strcmp(s->agent_id, s->ks.id.agent_id) != 0)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "agent.conf says id "
		    "%s but the keys in %s are %s's; fix agent.conf",
		    s->agent_id, s->dir, s->ks.id.agent_id);
	snprintf(s->agent_id, sizeof(s->agent_id), "%s", s->ks.id.agent_id);
	return REPAT_EXIT_OK;
}

void
session_close(struct agent_session *s)
{
	repat_client_destroy(&s->client);
	free(s->ckpts);
	s->ckpts = NULL;
	s->nckpts = 0;
	if (s->locked)
		close(s->lock_fd);
	s->locked = false;
	repat_agreements_destroy(&s->agreements);
	X509_free(s->broker_cert);
	s->broker_cert = NULL;
	if (s->keys_loaded)
		repat_keystore_clear(&s->ks);
	s->keys_loaded = false;
	local_store_close(&s->store);
	repat_conf_destroy(&s->conf);
}

/* broker_curve_key holds the Z85 key itself, or names a file holding it. */
static int
curve_key(struct agent_session *s, char out[41], char *err)
{
	const char *v = repat_conf_str(s->conf, "broker_curve_key", NULL);
	uint8_t *buf;
	char *path;
	size_t len;
	int rc;

	if (v == NULL)
		return repat_errf(err, REPAT_EINVAL, "%s/agent.conf has no "
		    "broker_curve_key", s->dir);
	if (strlen(v) == 40) {
		memcpy(out, v, 41);
		return REPAT_OK;
	}
	path = repat_conf_path_value(s->conf, "broker_curve_key", NULL);
	rc = repat_file_read(path, 1024, &buf, &len, err);
	free(path);
	if (rc == REPAT_ENOENT)
		return repat_errf(err, REPAT_EINVAL, "%s/agent.conf: "
		    "broker_curve_key is neither a 40-character Z85 key nor a "
		    "file (Z85 keys may hold '#', which starts a comment in "
		    "agent.conf: put the key in a file, e.g. broker.curve, and "
		    "name that file)", s->dir);
	if (rc != REPAT_OK)
		return rc;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' '))
		len--;
	if (len != 40)
		rc = repat_errf(err, REPAT_EINVAL, "broker_curve_key: not a "
		    "40-character Z85 key");
	else
		memcpy(out, buf, 40), out[40] = '\0';
	free(buf);
	return rc;
}

/* The pinned broker certificate (agent.conf broker_cert), loaded once. */
static int
load_broker_cert(struct agent_session *s, char *err)
{
	char *path;
	int rc;

	if (s->broker_cert != NULL)
		return REPAT_OK;
	path = s->conf ? repat_conf_path_value(s->conf, "broker_cert",
	    "broker.crt") : repat_xasprintf("%s/broker.crt", s->dir);
	rc = repat_cert_load(path, &s->broker_cert, err);
	free(path);
	return rc;
}

bool
session_checkpoint_ref(struct agent_session *s, Repat__CheckpointRef *ref,
    uint8_t root[32])
{
	struct repat_note_verifier key;
	char err[REPAT_ERRBUF_LEN] = "";

	if (load_broker_cert(s, err) != REPAT_OK ||
	    repat_audit_broker_key(s->broker_cert, &key, err) != REPAT_OK)
		return false;
	return repat_audit_sender_ref(s->dir, &key, ref, root) == REPAT_OK;
}

/* Remembers a delivered header's checkpoint, once per (size, root). */
static void
note_checkpoint(struct agent_session *s, const Repat__CheckpointRef *c)
{
	size_t i;

	if (c == NULL || c->root_hash.len != 32 || c->tree_size == 0)
		return;
	for (i = 0; i < s->nckpts; i++)
		if (s->ckpts[i].size == c->tree_size &&
		    memcmp(s->ckpts[i].root, c->root_hash.data, 32) == 0)
			return;
	s->ckpts = repat_xrealloc(s->ckpts, (s->nckpts + 1) *
	    sizeof(*s->ckpts));
	s->ckpts[s->nckpts].size = c->tree_size;
	memcpy(s->ckpts[s->nckpts].root, c->root_hash.data, 32);
	s->nckpts++;
}

int
session_cross_check(struct agent_session *s)
{
	struct repat_note_verifier key;
	char err[REPAT_ERRBUF_LEN] = "";
	int rc, xrc = REPAT_EXIT_OK;
	size_t i;

	if (s->nckpts == 0 || s->client == NULL)
		return REPAT_EXIT_OK;
	if (load_broker_cert(s, err) != REPAT_OK ||
	    repat_audit_broker_key(s->broker_cert, &key, err) != REPAT_OK) {
		fprintf(stderr, "repat %s: audit cross-check skipped: %s\n",
		    s->cmd, err);
		return REPAT_EXIT_OK;
	}
	for (i = 0; i < s->nckpts; i++) {
		rc = repat_audit_cross_check(s->client, s->dir, &key,
		    s->ckpts[i].size, s->ckpts[i].root, s->timeout_ms, err);
		if (rc == REPAT_ECORRUPT || rc == REPAT_ESIG) {
			xrc = cli_fail(s->cmd, REPAT_EXIT_UNTRUSTED, "AUDIT "
			    "ALARM: %s (see %s/AUDIT-ALARM)", err, s->dir);
			break;
		}
		if (rc != REPAT_OK)
			fprintf(stderr, "repat %s: audit cross-check of a "
			    "sender's checkpoint not done: %s\n", s->cmd, err);
	}
	free(s->ckpts);
	s->ckpts = NULL;
	s->nckpts = 0;
	return xrc;
}

int
session_connect(struct agent_session *s)
{
	struct repat_client_options opts;
	char err[REPAT_ERRBUF_LEN] = "", curve[41];
	const char *endpoint;
	int rc;

	if (s->client != NULL)
		return REPAT_EXIT_OK;
	if ((rc = session_keys(s)) != REPAT_EXIT_OK)
		return rc;
	if (s->conf == NULL)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s has no agent.conf "
		    "naming the broker (broker_endpoint, broker_curve_key, "
		    "broker_cert)", s->dir);
	endpoint = repat_conf_str(s->conf, "broker_endpoint", NULL);
	if (endpoint == NULL)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s/agent.conf has "
		    "no broker_endpoint", s->dir);
	if (repat_endpoint_check(endpoint, err) != 0)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s/agent.conf: "
		    "broker_endpoint: %s", s->dir, err);
	if (curve_key(s, curve, err) != REPAT_OK)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s", err);
	if (load_broker_cert(s, err) != REPAT_OK)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "the pinned broker "
		    "certificate: %s", err);
	s->client = repat_client_new(&s->ks, endpoint, curve, s->broker_cert,
	    err);
	if (s->client == NULL)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s", err);
	memset(&opts, 0, sizeof(opts));
	opts.acked_seq = local_store_acked_seq(s->store);
	rc = repat_client_connect(s->client, &opts, s->timeout_ms, err);
	if (rc == REPAT_OK)
		return REPAT_EXIT_OK;
	repat_client_destroy(&s->client);
	switch (rc) {
	case REPAT_ETIMEOUT:
	case REPAT_EIO:
		repat_log_debug("broker %s: %s", endpoint, err);
		return REPAT_EXIT_QUEUED;
	case REPAT_EFULL:
	case REPAT_EDB:
		/* The broker answered, for now without admitting: say why. */
		fprintf(stderr, "repat %s: %s\n", s->cmd, err);
		return REPAT_EXIT_QUEUED;
	case REPAT_ESIG:
	case REPAT_ECERT:
		return cli_fail(s->cmd, REPAT_EXIT_UNTRUSTED, "the broker at "
		    "%s is NOT the pinned one: %s", endpoint, err);
	default:
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "the broker refused "
		    "this agent: %s", err);
	}
}

static int
open_lock(struct agent_session *s)
{
	char *path = repat_xasprintf("%s/watch.lock", s->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	return fd;
}

int
session_watch_lock(struct agent_session *s)
{
	int fd;

	if (s->locked)
		return REPAT_EXIT_OK;
	if ((fd = open_lock(s)) < 0)
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s/watch.lock: %s",
		    s->dir, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "another `repat "
		    "watch` is running for %s; one agent keeps one connection",
		    s->dir);
	}
	s->lock_fd = fd;
	s->locked = true;
	return REPAT_EXIT_OK;
}

bool
session_watch_running(struct agent_session *s)
{
	bool held;
	int fd;

	if (s->locked || (fd = open_lock(s)) < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

static bool
still_queued(struct agent_session *s, const uint8_t (*ids)[16], size_t n)
{
	struct ls_queued *q;
	struct ls_msg m;
	size_t i, nq;
	bool queued = false;

	if (n == 0) {
		if (local_store_outbox_queued(s->store, &q, &nq) != REPAT_OK)
			return true;
		local_store_queued_free(q, nq);
		return nq > 0;
	}
	for (i = 0; i < n && !queued; i++) {
		if (local_store_find(s->store, ids[i], &m) != REPAT_OK)
			continue;
		queued = strcmp(m.status, LS_QUEUED) == 0;
		free(m.envelope);
	}
	return queued;
}

bool
session_wait_outbox(struct agent_session *s, const uint8_t (*ids)[16],
    size_t n, int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000000L };
	int waited;

	for (waited = 0; waited < ms; waited += 100) {
		if (!still_queued(s, ids, n))
			return true;
		nanosleep(&ts, NULL);
	}
	return !still_queued(s, ids, n);
}

const char *
session_reject_name(int code)
{
	const char *name = repat_reject_code_name(code);

	return strncmp(name, "REJECT_", 7) == 0 ? name + 7 : name;
}

bool
session_reject_transient(int code)
{
	return code == REPAT__REJECT_CODE__REJECT_STORAGE_FULL ||
	    code == REPAT__REJECT_CODE__REJECT_INTERNAL ||
	    code == REPAT__REJECT_CODE__REJECT_RATE_LIMITED;
}

/* Records one answered submit; a rejection is said on stderr when print. */
static int
record_answer(struct agent_session *s, const struct repat_submit_result *r,
    struct session_stats *st, bool print, char *err)
{
	char hex[33];

	/*
	 * The broker kept nothing and says why: its disk is full, its
	 * database failed, or it is shedding load. The message is fine; it
	 * stays queued and the next sync sends the same bytes.
	 */
	if (!r->receipted && session_reject_transient(r->code)) {
		st->queued++;
		st->not_kept_code = r->code;
		if (print)
			fprintf(stderr, "repat %s: message %s not kept by the "
			    "broker for now (%s): it stays in the outbox\n",
			    s->cmd, repat_hex(r->message_id, 16, hex),
			    session_reject_name(r->code));
		return REPAT_OK;
	}
	if (r->receipted)
		st->receipted++;
	else
		st->rejected++;
	if (!r->receipted && print)
		fprintf(stderr, "repat %s: message %s REFUSED by the broker "
		    "(%s): %s\n", s->cmd, repat_hex(r->message_id, 16, hex),
		    session_reject_name(r->code), r->reason);
	return local_store_outbox_answer(s->store, r->message_id,
	    r->receipted, r->code, r->reason, r->broker_time_ms, r->receipt,
	    r->receipt_len, err);
}

int
session_flush(struct agent_session *s, struct session_stats *st, bool print)
{
	struct repat_submit_item *items;
	struct ls_queued *q;
	char err[REPAT_ERRBUF_LEN] = "";
	size_t n, i;
	int rc, xrc = REPAT_EXIT_OK;

	if (local_store_outbox_queued(s->store, &q, &n) != REPAT_OK || n == 0)
		return REPAT_EXIT_OK;
	items = repat_xcalloc(n, sizeof(*items));
	for (i = 0; i < n; i++) {
		items[i].bytes = q[i].bytes;
		items[i].len = q[i].len;
	}
	st->submitted += n;
	rc = repat_client_submit_batch(s->client, items, n, 0,
	    s->timeout_ms / 3, s->timeout_ms, err);
	if (local_store_begin(s->store, err) != REPAT_OK) {
		xrc = cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s", err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!items[i].answered) {
			st->queued++;
			continue;
		}
		/* The receipt names the id the broker saw; keep our row's. */
		memcpy(items[i].result.message_id, q[i].id, 16);
		if (record_answer(s, &items[i].result, st, print, err) != 0) {
			local_store_rollback(s->store);
			xrc = cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s", err);
			goto out;
		}
	}
	if (local_store_commit(s->store, err) != REPAT_OK) {
		local_store_rollback(s->store);
		xrc = cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s", err);
		goto out;
	}
	if (rc != REPAT_OK)
		repat_log_debug("submit: %s", err);
	if (st->queued > 0)
		xrc = REPAT_EXIT_QUEUED;
out:
	for (i = 0; i < n; i++)
		free(items[i].result.receipt);
	free(items);
	local_store_queued_free(q, n);
	return xrc;
}

/* Stores one event in the open transaction; 1 when new, 0 duplicate. */
static int
store_event(struct agent_session *s, const struct repat_client_event *ev,
    struct session_stats *st, char *err)
{
	const Repat__Header *h = ev->v.header;
	char why[320];
	int rc;

	if (ev->kind == REPAT_EVENT_NOTICE) {
		st->notices++;
		return local_store_notice_add(s->store, ev->seq,
		    ev->notice_body, ev->notice, ev->notice_len,
		    ev->notice_verified && ev->notice_body != NULL &&
		    strcmp(ev->notice_body->to, s->agent_id) == 0,
		    repat_now_ms(), err) == REPAT_OK ? 1 : -1;
	}
	why[0] = '\0';
	if (!ev->v.verified)
		snprintf(why, sizeof(why), "%s", ev->verify_error[0] ?
		    ev->verify_error : "the envelope did not verify");
	else if (h != NULL && strcmp(h->recipient, s->agent_id) != 0)
		snprintf(why, sizeof(why), "addressed to %s, not to this "
		    "agent", h->recipient);
	rc = local_store_inbox_add(s->store, ev->seq, ev->envelope,
	    ev->envelope_len, h, ev->accepted_ms, why, repat_now_ms(), err);
	if (rc == 1 && why[0] == '\0' && h != NULL)
		note_checkpoint(s, h->sender_checkpoint);
	if (rc == 1) {
		st->received++;
		if (why[0] != '\0') {
			st->unverified++;
			fprintf(stderr, "repat %s: WARNING: delivery %llu is "
			    "NOT TRUSTWORTHY and was quarantined: %s\n",
			    s->cmd, (unsigned long long)ev->seq, why);
		}
	} else if (rc == 0) {
		st->duplicates++;
	}
	return rc;
}

/* Commits what is stored, records the sequence number, then acks. */
static int
commit_and_ack(struct agent_session *s, uint64_t seq, bool *open, char *err)
{
	char ackerr[REPAT_ERRBUF_LEN] = "";
	int rc;

	if (*open) {
		if (seq > 0 && (rc = local_store_set_acked_seq(s->store, seq,
		    err)) != REPAT_OK)
			return rc;
		if ((rc = local_store_commit(s->store, err)) != REPAT_OK)
			return rc;
		*open = false;
	} else if (seq > 0 && (rc = local_store_set_acked_seq(s->store, seq,
	    err)) != REPAT_OK) {
		return rc;
	}
	/*
	 * An ack that does not get out is harmless: the broker delivers
	 * again and the inbox keeps the message once. Only storage errors
	 * are errors here.
	 */
	if (seq > 0 && s->client != NULL &&
	    repat_client_ack(s->client, seq, ackerr) != REPAT_OK)
		repat_log_debug("ack %llu: %s", (unsigned long long)seq,
		    ackerr);
	return REPAT_OK;
}

static void
progress(struct agent_session *s, const struct session_stats *st)
{
	size_t n = st->received + st->duplicates + st->notices;

	if (s->quiet || n == 0 || n % PROGRESS_EVERY != 0)
		return;
	fprintf(stderr, "repat %s: %zu messages and notices received so "
	    "far...\n", s->cmd, n);
}

int
session_receive(struct agent_session *s, int idle_ms,
    struct session_stats *st, session_deliver_fn fn, void *arg,
    void (*on_event)(struct agent_session *, const struct
    repat_client_event *, void *), bool *held)
{
	struct repat_client_event ev;
	char err[REPAT_ERRBUF_LEN] = "";
	uint64_t todo = 0;		/* stored, not yet acked */
	size_t batch = 0;
	bool open = false;
	int rc, isnew, xrc = REPAT_EXIT_OK;

	if (held != NULL)
		*held = false;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		rc = repat_client_next_event(s->client, idle_ms > 0 ? idle_ms :
		    1000, &ev);
		if (rc == REPAT_ETIMEOUT) {
			if (commit_and_ack(s, todo, &open, err) != REPAT_OK)
				goto fail;
			todo = 0;
			batch = 0;
			if (idle_ms > 0)
				break;
			continue;
		}
		if (rc != REPAT_OK || ev.kind == REPAT_EVENT_BYE) {
			if (rc == REPAT_OK && !s->quiet)
				fprintf(stderr, "repat %s: the broker closed "
				    "the session (%s): %s\n", s->cmd,
				    session_reject_name(ev.bye_code),
				    ev.bye_reason);
			repat_client_event_clear(&ev);
			if (commit_and_ack(s, todo, &open, err) != REPAT_OK)
				goto fail;
			repat_client_destroy(&s->client);
			return REPAT_EXIT_QUEUED;
		}
		if (!open) {
			if (local_store_begin(s->store, err) != REPAT_OK)
				goto fail_ev;
			open = true;
		}
		if ((isnew = store_event(s, &ev, st, err)) < 0)
			goto fail_ev;
		st->last_seq = ev.seq;
		if (fn != NULL && ev.kind == REPAT_EVENT_DELIVER) {
			/* The hook runs on a committed row, before the ack. */
			if (commit_and_ack(s, todo, &open, err) != REPAT_OK)
				goto fail_ev;
			todo = 0;
			if (on_event != NULL)
				on_event(s, &ev, arg);
			if (fn(s, &ev, isnew == 1, arg) != 0) {
				if (held != NULL)
					*held = true;
				repat_client_event_clear(&ev);
				return REPAT_EXIT_FAIL;
			}
			todo = ev.seq;
		} else {
			todo = ev.seq;
			if (on_event != NULL)
				on_event(s, &ev, arg);
		}
		repat_client_event_clear(&ev);
		progress(s, st);
		if (++batch >= ACK_BATCH || fn != NULL) {
			if (commit_and_ack(s, todo, &open, err) != REPAT_OK)
				goto fail;
			todo = 0;
			batch = 0;
		}
	}
	return xrc;
fail_ev:
	repat_client_event_clear(&ev);
fail:
	local_store_rollback(s->store);
	return cli_fail(s->cmd, REPAT_EXIT_FAIL, "storing deliveries: %s "
	    "(nothing was acked that is not stored)", err);
}

/* Writes DIR/directory/ID/NAME.crt, where `repat seal` looks. */
static int
write_cert(struct agent_session *s, const char *id, const char *name,
    X509 *cert, char *err)
{
	const char *sub[2] = { "", id };
	char *path;
	int i, rc;

	for (i = 0; i < 2; i++) {
		path = repat_xasprintf("%s/directory/%s", s->dir, sub[i]);
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			rc = repat_errf(err, errno == ENOSPC ? REPAT_EFULL :
			    REPAT_EIO, "cannot create %s: %s", path,
			    strerror(errno));
			free(path);
			return rc;
		}
		free(path);
	}
	path = repat_xasprintf("%s/directory/%s/%s.crt", s->dir, id, name);
	rc = repat_pki_write_pem(path, cert, REPAT_PEM_CERT, err);
	free(path);
	return rc;
}

/* Verifies one directory entry and caches it; REPAT_E* when refused. */
static int
cache_entry(struct agent_session *s, const Repat__DirectoryEntry *e,
    uint64_t now, char *err)
{
	struct repat_identity id;
	X509 *sign = NULL, *enc = NULL;
	int rc;

	if (e->n_certificates < 2)
		return repat_errf(err, REPAT_ECERT, "an entry without both "
		    "certificates");
	if (e->certificates[0].len > REPAT_MAX_CERT ||
	    e->certificates[1].len > REPAT_MAX_CERT ||
	    repat_cert_from_der(e->certificates[0].data,
	    e->certificates[0].len, &sign) != REPAT_OK ||
	    repat_cert_from_der(e->certificates[1].data,
	    e->certificates[1].len, &enc) != REPAT_OK) {
		rc = repat_errf(err, REPAT_ECERT, "an entry whose "
		    "certificates do not decode");
		goto out;
	}
	if ((rc = repat_trust_verify_pair(s->ks.trust, sign, enc, now, &id,
	    err)) != REPAT_OK)
		goto out;
	if ((rc = local_store_directory_put(s->store, id.agent_id, id.role,
	    e->certificates[0].data, e->certificates[0].len,
	    e->certificates[1].data, e->certificates[1].len, now, err)) !=
	    REPAT_OK)
		goto out;
	if ((rc = write_cert(s, id.agent_id, "sign", sign, err)) == REPAT_OK)
		rc = write_cert(s, id.agent_id, "enc", enc, err);
out:
	X509_free(sign);
	X509_free(enc);
	return rc;
}

/*
 * Offers each CRL the broker sent to the trust bundle, before any entry is
 * verified, so that a revocation counts in this very refresh (and for the
 * rest of the command: the keystore's trust is the one every check uses).
 * The broker is not trusted for them: one that no pinned CA signed, past
 * its next update or older than the one held is said and skipped, never
 * fatal; the one already held is the everyday case and says nothing.
 */
static void
install_crls(struct agent_session *s, const Repat__Directory *d,
    struct session_directory *sd)
{
	char why[REPAT_ERRBUF_LEN];
	size_t i, n = d->n_crls;
	int rc;

	if (n > REPAT_MAX_CRLS) {
		fprintf(stderr, "repat %s: warning: the broker sent %zu CRLs; "
		    "only the first %d were looked at\n", s->cmd, n,
		    REPAT_MAX_CRLS);
		n = REPAT_MAX_CRLS;
	}
	for (i = 0; i < n; i++) {
		why[0] = '\0';
		rc = repat_trust_add_crl(s->ks.trust, d->crls[i].data,
		    d->crls[i].len, why);
		if (rc == REPAT_OK) {
			sd->crls_updated++;
		} else if (rc == REPAT_EIO || rc == REPAT_EFULL) {
			sd->crls_updated++;	/* in use, not saved */
			fprintf(stderr, "repat %s: warning: CRL %zu from the "
			    "broker: %s\n", s->cmd, i, why);
		} else if (rc != REPAT_EEXIST) {
			sd->crls_refused++;
			fprintf(stderr, "repat %s: warning: CRL %zu from the "
			    "broker NOT installed: %s\n", s->cmd, i, why);
		}
	}
}

int
session_refresh_directory(struct agent_session *s,
    struct session_directory *sd, char *errbuf)
{
	Repat__Directory *d = NULL;
	char why[REPAT_ERRBUF_LEN];
	uint64_t now = repat_now_ms();
	size_t i;
	int rc;

	memset(sd, 0, sizeof(*sd));
	if ((rc = repat_client_directory(s->client, s->timeout_ms, &d,
	    errbuf)) != REPAT_OK)
		return rc;
	install_crls(s, d, sd);
	if ((rc = local_store_begin(s->store, errbuf)) != REPAT_OK)
		goto out;
	if ((rc = local_store_directory_clear(s->store, errbuf)) != REPAT_OK)
		goto rollback;
	for (i = 0; i < d->n_entries; i++) {
		why[0] = '\0';
		if ((rc = cache_entry(s, d->entries[i], now, why)) == REPAT_OK) {
			sd->ok++;
			continue;
		}
		/* A folder that cannot be written is not a trust failure. */
		if (rc == REPAT_EIO || rc == REPAT_EFULL) {
			sd->unsaved++;
			fprintf(stderr, "repat %s: directory entry %zu NOT "
			    "SAVED: %s\n", s->cmd, i, why);
			continue;
		}
		sd->refused++;
		fprintf(stderr, "repat %s: directory entry %zu REFUSED (not "
		    "cached): %s\n", s->cmd, i, why);
	}
	if ((rc = local_store_commit(s->store, errbuf)) == REPAT_OK)
		goto out;
rollback:
	local_store_rollback(s->store);
out:
	repat_msg_free(d);
	return rc;
}

/* Splits "a, b,c" and looks for name. */
static bool
in_list(const char *list, const char *name)
{
	const char *p = list, *e;
	size_t n = strlen(name);

	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		e = p;
		while (*e != '\0' && *e != ',')
			e++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == n && n > 0 && strncmp(p, name, n) == 0)
			return true;
		p = e;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return false;
}

int
session_operator(struct agent_session *s, const char *opt, const char **out)
{
	const char *list = s->conf ? repat_conf_str(s->conf, "operators",
	    NULL) : NULL;
	const char *name = opt ? opt : getenv("REPAT_OPERATOR");

	if (name != NULL && *name == '\0')
		name = NULL;
	*out = name;
	if (list == NULL)
		return REPAT_EXIT_OK;
	if (list[strspn(list, " \t,")] == '\0')
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s/agent.conf: "
		    "operators is empty, so nobody may send or read: list "
		    "them (operators = name1, name2) or remove the line",
		    s->dir);
	if (name == NULL)
		return cli_usage(s->cmd, "this agent records who sends: give "
		    "--operator NAME (or set REPAT_OPERATOR), one of: %s",
		    list);
	if (!in_list(list, name))
		return cli_fail(s->cmd, REPAT_EXIT_FAIL, "'%s' is not an "
		    "operator of %s (agent.conf lists: %s)", name,
		    s->agent_id, list);
	return REPAT_EXIT_OK;
}

const char *
session_viewer(const char *operator_name)
{
	struct passwd *pw;
	const char *u;

	if (operator_name != NULL && *operator_name != '\0')
		return operator_name;
	if ((u = getenv("REPAT_OPERATOR")) != NULL && *u != '\0')
		return u;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_name;
	return "unknown";
}

static int
cached_cert(struct agent_session *s, const char *to, X509 **out)
{
	uint8_t *der;
	size_t len;
	int rc;

	if (local_store_directory_enc(s->store, to, &der, &len) != REPAT_OK)
		return REPAT_ENOENT;
	rc = repat_cert_from_der(der, len, out);
	free(der);
	return rc;
}

int
session_recipient_cert(struct agent_session *s, const char *to, X509 **out)
{
	struct session_directory sd;
	char err[REPAT_ERRBUF_LEN] = "", *path;
	int rc;

	*out = NULL;
	if ((rc = session_keys(s)) != REPAT_EXIT_OK)
		return rc;
	if (cached_cert(s, to, out) != REPAT_OK) {
		path = repat_xasprintf("%s/directory/%s/enc.crt", s->dir, to);
		if (access(path, R_OK) == 0) {
			free(path);
			return cli_recipient_cert(s->cmd, &s->ks, s->dir, to,
			    NULL, out);
		}
		free(path);
		/* Unknown here: ask the broker's directory once. */
		if (!session_watch_running(s) &&
		    session_connect(s) == REPAT_EXIT_OK &&
		    session_refresh_directory(s, &sd, err) == REPAT_OK)
			(void)cached_cert(s, to, out);
		if (*out == NULL)
			return cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s is not in "
			    "this agent's directory%s. Check the id, run "
			    "`repat sync` when the broker is reachable, or "
			    "put its encryption certificate in "
			    "%s/directory/%s/enc.crt", to, s->client ? "" :
			    session_watch_running(s) ? " (the running `repat "
			    "watch` refreshes it when it connects)" :
			    " and the broker is unreachable", s->dir, to);
	}
	if ((rc = cli_check_recipient_cert(s->cmd, &s->ks, to, *out)) !=
	    REPAT_EXIT_OK) {
		X509_free(*out);
		*out = NULL;
	}
	return rc;
}

static void
free_ids(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

const repat_agreements_t *
session_agreements(struct agent_session *s)
{
	char err[REPAT_ERRBUF_LEN] = "", *dir;
	struct stat st;

	if (s->agreements_tried)
		return s->agreements;
	s->agreements_tried = true;
	if (session_keys(s) != REPAT_EXIT_OK)
		return NULL;
	dir = s->conf ? repat_conf_path_value(s->conf, "agreements",
	    "agreements") : repat_xasprintf("%s/agreements", s->dir);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		s->agreements = repat_agreements_load(dir, s->ks.trust,
		    repat_now_ms(), NULL, NULL, err);
	free(dir);
	return s->agreements;
}

const struct repat_deadline_rule *
session_deadline(struct agent_session *s, const char *peer, int type)
{
	const repat_agreements_t *set = session_agreements(s);
	const struct repat_agreement *a;
	const struct repat_deadline_rule *r;
	uint64_t now = repat_now_ms();
	char cc[3];
	size_t i;

	if (set == NULL || !repat_agent_id_country(peer, cc))
		return NULL;
	for (i = 0; i < repat_agreements_count(set); i++) {
		a = repat_agreements_get(set, i);
		if (a->kind != REPAT_AGREEMENT_BILATERAL ||
		    !repat_agreement_in_force(a, now) ||
		    repat_agreements_superseded(set, a, now) ||
		    !repat_agreement_has_party(a, s->ks.id.country) ||
		    !repat_agreement_has_party(a, cc))
			continue;
		if ((r = repat_agreement_deadline(a, type)) != NULL)
			return r;
	}
	return NULL;
}

/* The agent an agreement in force names for role in country. */
static bool
focal_point(struct agent_session *s, const char *cc, int role, char *out,
    size_t outlen)
{
	const repat_agreements_t *set = session_agreements(s);
	const char *id;

	if (set == NULL)
		return false;
	id = repat_agreements_focal_point(set, cc, role, s->ks.id.country,
	    repat_now_ms());
	if (id == NULL)
		return false;
	snprintf(out, outlen, "%s", id);
	return true;
}

int
session_resolve(struct agent_session *s, const char *to, char *out,
    size_t outlen)
{
	char cc[3], err[REPAT_ERRBUF_LEN] = "", **ids = NULL;
	const char *slash = strchr(to, '/');
	struct session_directory sd;
	size_t n = 0, i;
	int role;

	if (slash == NULL) {
		if (!repat_agent_id_valid(to))
			return cli_usage(s->cmd, "'%s' is neither an agent id "
			    "(CC.ORG[.UNIT]) nor CC/role", to);
		snprintf(out, outlen, "%s", to);
		return REPAT_EXIT_OK;
	}
	if (slash - to != 2 || (memcpy(cc, to, 2), cc[2] = '\0',
	    !repat_country_valid(cc)))
		return cli_usage(s->cmd, "'%s': give CC/role, e.g. "
		    "MM/focal_point", to);
	if ((role = repat_role_parse(slash + 1)) < 0)
		return cli_usage(s->cmd, "'%s': unknown role '%s' (roles: "
		    "focal_point, nationality, embassy, tracing, shelter, "
		    "police, io)", to, slash + 1);
	local_store_directory_find(s->store, cc, role, &ids, &n);
	if (n == 0 && !session_watch_running(s) &&
	    session_connect(s) == REPAT_EXIT_OK &&
	    session_refresh_directory(s, &sd, err) == REPAT_OK)
		local_store_directory_find(s->store, cc, role, &ids, &n);
	if (n == 1) {
		snprintf(out, outlen, "%s", ids[0]);
		free_ids(ids, n);
		return REPAT_EXIT_OK;
	}
	if (n > 1 && focal_point(s, cc, role, out, outlen)) {
		fprintf(stderr, "repat %s: %s is %s, the agent named for it by "
		    "an agreement in force\n", s->cmd, to, out);
		free_ids(ids, n);
		return REPAT_EXIT_OK;
	}
	if (n == 0) {
		fprintf(stderr, "repat %s: no %s agent of %s in the directory; "
		    "run `repat sync` to refresh it, or give an agent id\n",
		    s->cmd, slash + 1, cc);
		return REPAT_EXIT_USAGE;
	}
	fprintf(stderr, "repat %s: %s names %zu agents; give one of them "
	    "with --to:\n", s->cmd, to, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  %s\n", ids[i]);
	free_ids(ids, n);
	return REPAT_EXIT_USAGE;
}
