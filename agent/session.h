/*
 * session.h: what the agent-side commands (send, reply, submit, sync,
 * inbox, show, case, watch) share: the agent folder's agent.conf, its keys
 * (loaded only when a command needs them, so `repat inbox` asks for no
 * passphrase), the local store, the broker connection, and the two steps
 * every connecting command takes: submit the outbox, take in deliveries
 * and notices (acking only what is committed).
 *
 * agent.conf keys read here: id, role, broker_endpoint, broker_curve_key
 * (Z85, or a file holding it), broker_cert (default broker.crt),
 * operators (optional list "a, b"), connect_timeout (default 5s).
 *
 * Functions returning int return an exit code (cli.h) unless they say
 * they return a REPAT_E* code. One thread.
 */
#ifndef REPAT_AGENT_SESSION_H
#define REPAT_AGENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "local_store.h"
#include "repat/agreement.h"
#include "repat/client.h"
#include "repat/conf.h"
#include "repat/pki.h"

/* A checkpoint a sender put in its header, to cross-check (DESIGN §8). */
struct session_ckpt {
	uint64_t size;			/* tree size */
	uint8_t root[32];		/* root hash */
};

struct agent_session {
	const char *cmd;		/* the subcommand, for messages */
	const char *dir;		/* the agent folder, borrowed */
	const char *pass_file;		/* --passphrase-file or NULL */
	repat_conf_t *conf;		/* agent.conf, NULL when absent */
	char agent_id[REPAT_MAX_AGENT_ID + 1];	/* from agent.conf or keys */
	struct repat_keystore ks;	/* valid when keys_loaded */
	bool keys_loaded;
	local_store_t *store;		/* agent.db */
	X509 *broker_cert;		/* pinned, when connecting */
	repat_client_t *client;		/* NULL until connected */
	repat_agreements_t *agreements;	/* fully signed, cached; or NULL */
	bool agreements_tried;		/* loaded once per command */
	int timeout_ms;			/* connect and answer timeout */
	struct session_ckpt *ckpts;	/* senders' checkpoints to check */
	size_t nckpts;
	int lock_fd;			/* watch.lock, when locked */
	bool locked;			/* this process is the watch */
	bool quiet;			/* no progress lines */
};

/* Loads agent.conf and opens the local store. An exit code. */
int session_open(struct agent_session *s, const char *cmd,
    const char *dir_opt, const char *pass_file);
/* Loads the keys (asking for the passphrase when needed). */
int session_keys(struct agent_session *s);
void session_close(struct agent_session *s);

/*
 * Connects to the broker. REPAT_EXIT_QUEUED when it does not answer
 * (printing nothing: callers say what that means for them), another exit
 * code when refused or misconfigured (printed).
 */
int session_connect(struct agent_session *s);

/*
 * One connection per agent: the broker keys sessions by the agent's CURVE
 * key, so a second process connecting as the same agent takes the session
 * over. A running `repat watch` holds AGENTDIR/watch.lock; other commands
 * then leave the broker to it (session_watch_running) and wait for it to
 * submit what they stored (session_wait_outbox).
 */
/* Takes the lock for this process; REPAT_EXIT_FAIL when another holds it. */
int session_watch_lock(struct agent_session *s);
/* True when another process holds the watch lock. */
bool session_watch_running(struct agent_session *s);
/*
 * Waits up to ms for the outbox rows ids (all queued rows when n is 0) to
 * be answered; true when none is left queued.
 */
bool session_wait_outbox(struct agent_session *s,
    const uint8_t (*ids)[16], size_t n, int ms);

/* What session_flush and session_receive did. */
struct session_stats {
	size_t submitted, receipted, rejected, queued;	/* outbox */
	size_t received, duplicates, unverified;	/* deliveries */
	size_t notices;
	uint64_t last_seq;
	int not_kept_code;	/* a transient refusal's code, 0 none */
};

/*
 * Submits every queued outbox message (the stored bytes) and records the
 * answers. print: a line per rejection on stderr. REPAT_EXIT_OK, or
 * REPAT_EXIT_QUEUED when the broker stopped answering.
 */
int session_flush(struct agent_session *s, struct session_stats *st,
    bool print);

/*
 * The hook watch uses to process each stored delivery before its ack: 0
 * lets the ack go up to it, non-zero holds the ack before it (and stops
 * the receive loop). NULL: ack everything stored.
 */
typedef int (*session_deliver_fn)(struct agent_session *s,
    const struct repat_client_event *ev, bool is_new, void *arg);

/*
 * Receives events until idle_ms pass without one (0: forever), storing
 * each delivery and notice and acking in batches, only after COMMIT.
 * on_event (may be NULL) sees each event after it is stored. Returns
 * REPAT_EXIT_OK, REPAT_EXIT_QUEUED when the connection is lost, or
 * REPAT_EXIT_FAIL when a hook held the ack (*held set).
 */
int session_receive(struct agent_session *s, int idle_ms,
    struct session_stats *st, session_deliver_fn fn, void *arg,
    void (*on_event)(struct agent_session *, const struct
    repat_client_event *, void *), bool *held);

/* What session_refresh_directory did. */
struct session_directory {
	size_t ok;		/* entries verified and cached */
	size_t refused;		/* entries that did not verify (said) */
	size_t unsaved;		/* verified, but not written (said) */
	size_t crls_updated;	/* CRLs installed into trust/ */
	size_t crls_refused;	/* CRLs not installed (said) */
};

/*
 * Fetches the directory, first installs every CRL in it that the agent's
 * own pinned CAs signed and that is newer than the one held (the others
 * are said on stderr and skipped), then caches every entry that verifies
 * against the agent's own bundle and CRLs (also as
 * DIR/directory/ID/{sign,enc}.crt). Counts in *sd. A REPAT_E* code, for
 * the fetch and the local store only.
 */
int session_refresh_directory(struct agent_session *s,
    struct session_directory *sd, char *errbuf);

/*
 * The operator for this command: opt, else $REPAT_OPERATOR, else NULL.
 * When agent.conf lists operators, it must be one of them (and given).
 */
int session_operator(struct agent_session *s, const char *opt,
    const char **out);
/* Who is looking, for the views log: the operator or the login name. */
const char *session_viewer(const char *operator_name);

/*
 * The recipient's encryption certificate from the directory cache (or
 * DIR/directory/ID/enc.crt), verified now against the bundle. Refreshes
 * the directory from the broker once when the agent is unknown.
 */
int session_recipient_cert(struct agent_session *s, const char *to,
    X509 **out);

/*
 * Resolves "CC/role" to one agent id from the directory cache (into out);
 * a concrete id is copied. Lists candidates and returns REPAT_EXIT_USAGE
 * when it is ambiguous or unknown.
 */
int session_resolve(struct agent_session *s, const char *to, char *out,
    size_t outlen);

/*
 * The agent's copy of the fully signed agreements (agent.conf
 * `agreements`, default AGENTDIR/agreements), loaded once; NULL when there
 * are none. Borrowed until session_close.
 */
const repat_agreements_t *session_agreements(struct agent_session *s);

/*
 * The reply deadline rule for a request of type between this agent's
 * country and peer's, from an agreement in force binding both; NULL when
 * none. Borrowed.
 */
const struct repat_deadline_rule *session_deadline(struct agent_session *s,
    const char *peer, int type);

/*
 * The audit checkpoint this agent verified last, for a new message's
 * header (spec.checkpoint); root holds the hash ref points to. False when
 * the agent has none yet (`repat proof` makes one).
 */
bool session_checkpoint_ref(struct agent_session *s,
    Repat__CheckpointRef *ref, uint8_t root[32]);

/*
 * Cross-checks the checkpoints that delivered messages carried against
 * the agent's own view of the broker's log, asking the broker for the
 * consistency proofs (a fork raises AGENTDIR/AUDIT-ALARM). REPAT_EXIT_OK,
 * or REPAT_EXIT_UNTRUSTED when the broker showed parties different logs;
 * other failures only warn (nothing proven either way).
 */
int session_cross_check(struct agent_session *s);

/* The broker's rejection code as its proto name ("NO_AGREEMENT"). */
/*
 * True for refusals that say nothing about the message (storage full,
 * internal error, rate limited): it stays queued and is sent again.
 */
bool session_reject_transient(int code);
const char *session_reject_name(int code);

#endif
