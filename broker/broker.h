/*
 * broker.h: repat-broker's internal header, one section per file.
 *
 * The broker is one thread and one event loop (broker.c): a ZeroMQ ROUTER
 * bound as CURVE server, its ZAP handler (zap.c) and timers. Frames are
 * taken in groups; each group runs in one SQLite transaction with a
 * savepoint per command (store.c), and everything the group wants to send
 * waits in the out queue until COMMIT returned (the durability promise of
 * DESIGN.md §6): only then are receipts signed and frames sent.
 *
 *   broker.c     loop, signals, group commit, timers
 *   config.c     broker.conf
 *   session.c    sessions keyed by CURVE key, the out queue
 *   dispatch.c   the one switch from command to handler
 *   handle_*.c   one inbound command each
 *   authorize.c  open / sop authorization
 *   certcache.c  verified signing certificates by SHA-256 of their DER
 *   store.c      the SQLite schema and statements
 *   walckpt.c    WAL checkpoints on their own thread
 *   deliver.c    in-order delivery with credit, redelivery, expiry, notices
 *   audit.c      audit entries as Merkle leaves
 *   checkpoint.c signed checkpoints of the audit log, proofs, restore-ack
 *   zap.c        the ZAP handler (CURVE key -> User-Id)
 *   ops.c        register, status and check subcommands
 *   remind.c     overdue requests: reminders and the --overdue report
 */
#ifndef REPAT_BROKER_H
#define REPAT_BROKER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <zmq.h>

#include "repat.pb-c.h"
#include "repat/envelope.h"
#include "repat/merkle.h"
#include "repat/note.h"
#include "repat/pki.h"
#include "repat/sop.h"

#define BROKER_AUTH_SOP		0
#define BROKER_AUTH_OPEN	1

#define BROKER_CURVE_LEN	32
#define BROKER_MAX_ROUTING_ID	256
#define BROKER_MAX_SESSIONS	4096
#define BROKER_CERT_CACHE	1024
#define BROKER_DEFAULT_WINDOW	64

/* ---------------------------------------------------------- config.c */

struct broker_config {
	char *path;			/* the conf file, for messages */
	char *endpoint;			/* tcp://ADDR:PORT */
	char *database;			/* resolved path */
	char *sign_key;			/* Ed25519 key file */
	char *sign_cert;		/* its certificate (role broker) */
	char *curve_key;		/* Z85 CURVE secret key file */
	char *curve_public;		/* Z85 CURVE public key file */
	char *trust;			/* trust bundle folder */
	char *agreements;		/* agreements folder */
	char *passphrase_file;		/* for an encrypted sign_key, or NULL */
	int authorization;		/* BROKER_AUTH_* */
	int log_level;			/* REPAT_LOG_* */
	int64_t max_frame;		/* bytes, <= REPAT_MAX_FRAME */
	int64_t inflight;		/* deliveries in flight per agent */
	int64_t redeliver_min_ms;	/* first redelivery delay */
	int64_t redeliver_max_ms;	/* backoff cap */
	int64_t delivery_limit;		/* sends before dead-lettering */
	int64_t default_expiry_ms;	/* notices' lifetime */
	int64_t handshake_rate;		/* CURVE handshakes per second */
	int64_t retention_ms;		/* payloads kept after delivery when
					   the case's agreement sets none */
	int64_t clock_skew_ms;		/* allowed clock difference */
	int64_t group_commit_size;	/* commands per transaction */
	int64_t group_commit_wait_ms;	/* wait to fill a group */
	int64_t heartbeat_ms;		/* ZMQ heartbeat interval */
	int64_t checkpoint_ms;		/* WAL checkpoint period */
	int64_t verify_threads;		/* -1: online CPUs - 1 */
	int64_t ckpt_entries;		/* audit checkpoint every N entries */
	int64_t ckpt_interval_ms;	/* or T ms, whichever comes first */
	bool test_mode;			/* allows clock_offset */
	int64_t clock_offset_ms;	/* test_mode only */
};

/* Loads path; errbuf names file, line and key. */
int broker_config_load(const char *path, struct broker_config *cfg,
    char *errbuf);
void broker_config_clear(struct broker_config *cfg);

/* ---------------------------------------------------------- certcache.c */

/* A signing certificate verified against the trust bundle. */
struct cert_entry {
	uint8_t der_hash[32];		/* SHA-256 of the DER */
	struct repat_identity id;	/* who it certifies */
	uint8_t pub[32];		/* raw Ed25519 key */
	uint64_t verified_ms;		/* when; entries live CERT_CACHE_TTL */
	bool used;			/* slot holds an entry */
};

struct cert_cache {
	struct cert_entry slot[BROKER_CERT_CACHE];	/* by der_hash */
};

/*
 * Verifies a DER signing certificate at now_ms (or finds it verified
 * recently). REPAT_ECERT / EREVOKED / EEXPIRED with errbuf.
 */
int certcache_verify(struct cert_cache *cc, repat_trust_t *trust,
    const uint8_t *der, size_t len, uint64_t now_ms,
    const struct cert_entry **out, char *errbuf);
/* Forgets everything (CRLs reloaded). */
void certcache_clear(struct cert_cache *cc);

/* ---------------------------------------------------------- session.c */

enum session_state {
	SESSION_NEW = 0,	/* CURVE-authenticated, no valid hello yet */
	SESSION_ACTIVE,		/* hello accepted */
};

struct session {
	uint8_t key[BROKER_CURVE_LEN];	/* CURVE public key: the session's key */
	uint8_t rid[BROKER_MAX_ROUTING_ID];	/* current routing id */
	size_t rid_len;
	int state;			/* enum session_state */
	char agent_id[REPAT_MAX_AGENT_ID + 1];	/* once ACTIVE */
	char country[3];
	uint8_t sign_pub[32];		/* the agent's Ed25519 key, acks */
	uint32_t window;		/* deliveries in flight */
	uint64_t acked;			/* cumulative ack */
	uint64_t sent;			/* highest seq sent this session */
	uint64_t last_progress_ms;	/* last send or ack */
	uint64_t backoff_ms;		/* current redelivery delay */
	uint32_t head_attempts;		/* sends of seq acked + 1 */
	bool unreachable;		/* ROUTER said EHOSTUNREACH */
	bool welcome_owed;		/* admitted in the group being run */
	bool dirty;			/* has something to deliver */
	uint64_t last_seen_ms;		/* last frame */
	uint64_t stored_seen_ms;	/* last_seen written to the store */
	/* the group's receipt, signed after COMMIT */
	uint8_t (*r_ids)[16];
	uint8_t (*r_hashes)[32];
	size_t r_n;
	size_t r_cap;
};

struct session_table {
	struct session **s;	/* each allocated alone: pointers stay valid */
	size_t n;
	size_t cap;
};

struct session *session_find(struct session_table *t, const uint8_t *key);
struct session *session_get(struct session_table *t, const uint8_t *key);
struct session *session_by_agent(struct session_table *t, const char *agent);
void session_remove(struct session_table *t, struct session *s);
void session_table_clear(struct session_table *t);
void session_receipt_add(struct session *s, const uint8_t id[16],
    const uint8_t hash[32]);

/* ---------------------------------------------------------- walckpt.c */

/* The thread that checkpoints the WAL beside the loop. */
struct walckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* wakes the thread */
	pthread_cond_t idle;		/* the thread's pass ended */
	sqlite3 *db;			/* the store's ckpt connection */
	sqlite3 *writer;		/* whose wal hook wakes the thread */
	int64_t period_ms;		/* at least this often */
	bool running;
	bool stop;			/* under mu */
	bool wanted;			/* under mu: the WAL is large */
	bool busy;			/* under mu: checkpointing */
	bool hold;			/* under mu: the writer will finish */
	int frames;			/* the writer's: WAL size at commit */
};

/* Starts checkpointing ckpt's WAL; writer's commits wake the thread. */
int walckpt_start(struct walckpt *w, sqlite3 *writer, sqlite3 *ckpt,
    int64_t period_ms);
/*
 * The writer's, right after a COMMIT: when the WAL is large, finishes a
 * checkpoint so that the next transaction starts the WAL file again.
 */
void walckpt_catch_up(struct walckpt *w);
/* Joins the thread and checkpoints once more; idempotent. */
void walckpt_stop(struct walckpt *w);

/* ---------------------------------------------------------- store.c */

struct store {
	sqlite3 *db;			/* the writer */
	sqlite3 *ckpt;			/* WAL checkpoints only (walckpt.c) */
	struct walckpt wal;
	bool in_tx;			/* BEGIN issued */
	sqlite3_stmt *st[32];		/* prepared statements, ST_* */
};

/* The store's statements (store.c has the SQL). */
enum {
	ST_AGENT_GET = 0,
	ST_AGENT_PUT,
	ST_AGENT_SEQ,
	ST_AGENT_NEXT,
	ST_AGENT_ACKED,
	ST_AGENT_SEEN,
	ST_MSG_GET,
	ST_MSG_PUT,
	ST_Q_PUT,
	ST_Q_GET,
	ST_Q_RANGE,
	ST_Q_DELIVERED,
	ST_Q_EXPIRED,
	ST_Q_TO_NOTICE,
	ST_AUDIT_PUT,
	ST_META_GET,
	ST_META_PUT,
	ST_AGENT_ALL,
	ST_AGENT_IDENT,
	ST_CASE_GET,
	ST_CASE_PUT,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_HELD_PUT,
	ST_COUNT_
};

#define BROKER_SCHEMA_VERSION 10

/*
 * held.agreement of a payload held since before schema 9 and not filed
 * under its agreement yet (purge.c). Never an agreement id, which are
 * [A-Za-z0-9._-]; migration 9 writes it literally.
 */
#define HELD_UNFILED	"?"

int store_open(struct store *st, const char *path, char *errbuf);
void store_close(struct store *st);
int store_begin(struct store *st);
int store_commit(struct store *st, char *errbuf);
void store_rollback(struct store *st);
int store_savepoint(struct store *st);
void store_release(struct store *st);
void store_rollback_to(struct store *st);
/* Prepared statement i, reset and cleared. */
sqlite3_stmt *store_stmt(struct store *st, int i);
/* meta table: small blobs by name. *out is the caller's. */
int store_meta_get(struct store *st, const char *name, uint8_t **out,
    size_t *len);
int store_meta_put(struct store *st, const char *name, const uint8_t *v,
    size_t len);

/* A registered agent's row. */
struct agent_row {
	char id[REPAT_MAX_AGENT_ID + 1];
	uint8_t sign_pub[32];
	uint64_t next_seq;		/* next delivery seq to assign */
	uint64_t acked_seq;		/* cumulative ack */
};

/* REPAT_ENOENT when not registered. */
int store_agent_get(struct store *st, const char *id, struct agent_row *a);
int store_agent_put(struct store *st, const struct repat_identity *id,
    const uint8_t *sign_der, size_t sign_len, const uint8_t *enc_der,
    size_t enc_len, const uint8_t pub[32], uint64_t now_ms, bool *created);
/* Takes the next seq of recipient. */
int store_next_seq(struct store *st, const char *recipient, uint64_t *seq);
/* The stored identity (country, role) of a registered agent. */
int store_agent_identity(struct store *st, const char *id,
    struct repat_identity *out);
/* The case under case_ref; REPAT_ENOENT when none. */
int store_case_get(struct store *st, const char *case_ref,
    struct repat_case *c);
int store_case_put(struct store *st, const struct repat_case *c);

/* ---------------------------------------------------------- audit.c */

struct audit {
	repat_merkle_tree_t *tree;	/* committed leaves */
	uint64_t next;			/* next index, including uncommitted */
	uint64_t committed;		/* tree size at last COMMIT */
	uint8_t (*pending)[32];		/* leaf hashes since COMMIT */
	size_t npending;
	size_t cap;
	uint8_t case_key[32];		/* HMAC key for case references */
	uint64_t base_size;		/* restored from a frontier of this size */
	uint8_t base_root[32];		/* the tree's root at base_size */
};

int audit_open(struct audit *a, struct store *st, char *errbuf);
void audit_close(struct audit *a);
/* Appends e (index and time set here) inside the open transaction. */
int audit_append(struct audit *a, struct store *st, Repat__AuditEntry *e,
    uint64_t now_ms);
/* The HMAC of a case reference under the audit key. */
void audit_case_hash(const struct audit *a, const char *case_ref,
    uint8_t out[32]);
/* After COMMIT / ROLLBACK / savepoint rollback. */
void audit_committed(struct audit *a);
void audit_rolled_back(struct audit *a);
uint64_t audit_mark(const struct audit *a);
void audit_rewind(struct audit *a, uint64_t mark);

/* ---------------------------------------------------------- checkpoint.c */

/* The latest signed audit checkpoint and how to make the next one. */
struct checkpointer {
	repat_note_signer_t *signer;	/* broker key, "repat-broker/ID" */
	char *file;			/* DATABASE.checkpoint */
	uint64_t size;			/* latest signed tree size */
	uint8_t root[32];		/* its root */
	char *note;			/* its signed note, or NULL */
	size_t note_len;
	uint64_t signed_ms;		/* when it was signed */
	uint64_t failed_ms;		/* last refusal to sign, for the log */
};

struct broker;
struct session;

/*
 * After audit_open: the signer, and the start-up check that the database
 * is not behind DATABASE.checkpoint (REPAT_ECORRUPT naming the way out,
 * `repat-broker restore-ack`).
 */
int checkpoint_open(struct broker *b, char *errbuf);
void checkpoint_close(struct checkpointer *c);
/*
 * Signs a checkpoint of the committed tree when checkpoint_entries new
 * entries or checkpoint_interval passed (or force and anything new), after
 * checking it extends the previous one. Stores it in the checkpoints
 * table and DATABASE.checkpoint.
 */
int checkpoint_maybe(struct broker *b, bool force);
/* The ProofRequest handler's body (inside the group). */
int checkpoint_proof(struct broker *b, struct session *s,
    Repat__ProofRequest *m);
/* `repat-broker restore-ack -c CONF`: accepts a restored database. */
int checkpoint_restore_ack(const char *conf);

/* ---------------------------------------------------------- prepare.c */

/*
 * One received frame of a group, with the work that needs no broker
 * state done ahead of the loop, on all cores: the Frame decoded and, for
 * a submit, the envelope parsed, its certificate looked up and its
 * signature verified. The loop then runs the commands in arrival order
 * with the results (handle_submit.c).
 */
struct prepared {
	uint8_t key[BROKER_CURVE_LEN];	/* the sender's CURVE key */
	uint8_t rid[BROKER_MAX_ROUTING_ID];	/* its routing id */
	size_t rid_len;
	const uint8_t *data;		/* the Frame's bytes (in the batch) */
	size_t len;
	bool verify;			/* in: its session was active */
	int decode_rc;			/* out: repat_frame_decode */
	Repat__Frame *frame;		/* out: owned */
	/* submits only */
	bool parsed;			/* parse_rc and v are set */
	int parse_rc;			/* repat_envelope_parse */
	char parse_err[REPAT_ERRBUF_LEN];
	struct repat_verified v;	/* owned */
	bool checked;			/* the three below are set */
	int cert_rc;			/* certcache_verify */
	char cert_err[REPAT_ERRBUF_LEN];
	struct cert_entry cert;		/* a copy: the cache may move on */
	int sig_rc;			/* repat_envelope_check_signature */
};

/* Fork-join workers for prepare_all (the loop's thread works too). */
struct prepare_pool {
	pthread_t *threads;
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t go;		/* a new batch (generation) */
	pthread_cond_t done;		/* a worker finished the batch */
	pthread_mutex_t cert_mu;	/* the cert cache and trust bundle */
	bool started;
	uint64_t generation;		/* under mu */
	int finished;			/* under mu: workers done with it */
	bool stop;			/* under mu */
	struct broker *b;
	struct prepared *jobs;		/* the batch being prepared */
	size_t njobs;
	_Atomic size_t next;		/* next job to take */
	uint64_t now_ms;		/* certificates are checked at */
	bool fanned_out;		/* the workers have the group */
};

/* Starts nthreads workers (0: none, everything on the loop's thread). */
int prepare_pool_start(struct prepare_pool *pp, struct broker *b,
    int nthreads);
void prepare_pool_stop(struct prepare_pool *pp);
/*
 * Starts preparing jobs[0..n) on the workers (small groups, or no
 * workers: at once on the calling thread); prepare_wait returns when all
 * are prepared. One group at a time.
 */
void prepare_start(struct prepare_pool *pp, struct prepared *jobs, size_t n);
void prepare_wait(struct prepare_pool *pp);
/* Parses a submit's envelope (any thread). */
void prepare_parse_submit(struct prepared *p);
/*
 * Checks a parsed submit's certificate (under pool.cert_mu) and signature
 * (any thread).
 */
void prepare_check_submit(struct broker *b, struct prepared *p,
    uint64_t now_ms);
/* Frees what p owns and zeroes it. */
void prepared_clear(struct prepared *p);

/* ---------------------------------------------------------- broker.c */

/*
 * Received frames that run in one transaction. While the loop runs one
 * group, the workers prepare the next (prepare.c).
 */
struct group {
	struct prepared *jobs;
	zmq_msg_t *msgs;		/* the frames' bytes, jobs[i].data */
	size_t n;
	bool pending;			/* collected, not yet run */
};

/* Frees what g holds; it is empty again. */
void group_clear(struct group *g);

/* A frame waiting for COMMIT before it is sent. */
struct outframe {
	uint8_t key[BROKER_CURVE_LEN];	/* session it is for */
	uint8_t rid[BROKER_MAX_ROUTING_ID];	/* routing id when queued */
	size_t rid_len;
	uint8_t *data;
	size_t len;
};

/*
 * Where the retention sweep goes on from (purge.c): a key in held,
 * ordered by (agreement, accepted_ms, message_id). Zeroed: a new pass.
 */
struct purge_cursor {
	bool named;			/* agreement names a group of this pass */
	bool in_group;			/* and rows of it remain to be read */
	char agreement[REPAT_AGREEMENT_MAX_ID + 1];	/* the group */
	int64_t accepted_ms;		/* the last row looked at in it, */
	uint8_t message_id[16];		/* or (0, zeros) for none yet */
};

struct broker {
	struct broker_config cfg;	/* the conf */
	void *zctx;			/* ZeroMQ context */
	void *router;			/* ROUTER, CURVE server */
	void *zap;			/* REP on inproc://zeromq.zap.01 */
	EVP_PKEY *sign_key;		/* receipts, notices */
	uint8_t *cert_der;		/* our certificate, DER */
	size_t cert_der_len;
	uint8_t curve_pub[BROKER_CURVE_LEN];	/* our CURVE public key */
	char curve_secret_z85[41];	/* wiped at exit */
	repat_trust_t *trust;		/* pinned bundle with CRLs */
	bool crl_cap_warned;		/* logged: a CRL did not fit a Directory */
	repat_agreements_t *agreements;	/* fully signed, for sop */
	struct store store;		/* SQLite */
	struct audit audit;		/* Merkle log */
	struct cert_cache certs;	/* verified signing certificates */
	struct session_table sessions;	/* by CURVE key */
	struct outframe *out;		/* frames waiting for COMMIT */
	size_t nout;
	size_t outcap;
	uint32_t refusals;		/* not yet audited */
	uint64_t refusals_since_ms;
	uint64_t last_sweep_ms;
	uint64_t last_remind_ms;	/* last scan for overdue requests */
	uint64_t last_purge_ms;		/* last retention sweep (purge.c) */
	bool purge_again;		/* it was cut short: go on soon */
	struct purge_cursor purge;	/* where the next one starts */
	uint64_t zap_tokens;		/* handshake bucket, thousandths */
	uint64_t zap_refill_ms;		/* its last refill */
	bool accepting;			/* false after SIGTERM */
	int lock_fd;			/* DATABASE.lock, held while running */
	struct checkpointer ckpt;	/* signed audit checkpoints */
	struct prepare_pool pool;	/* decode and verify on all cores */
	struct group groups[2];		/* one being run, one prepared */
	int next_group;			/* the one to collect into */
};

extern volatile sig_atomic_t broker_got_term;
extern volatile sig_atomic_t broker_got_hup;

/*
 * Blocks every signal in the calling thread, saving the mask in old, and
 * restores it: threads created in between never take the broker's signals,
 * which must interrupt the loop's poll.
 */
void broker_signals_block(sigset_t *old);
void broker_signals_restore(const sigset_t *old);
/* The broker's clock (with the test offset). */
uint64_t broker_now(const struct broker *b);
int broker_init(struct broker *b, const char *conf, char *errbuf);
int broker_run(struct broker *b);
void broker_free(struct broker *b);
/* Queues an encoded Frame for s, sent after COMMIT. Takes data. */
void broker_queue(struct broker *b, const struct session *s, uint8_t *data,
    size_t len);
void broker_queue_frame(struct broker *b, const struct session *s,
    const Repat__Frame *f);
/*
 * Sends now (after COMMIT) to s's routing id with ZMQ_DONTWAIT. Marks s
 * unreachable on EHOSTUNREACH. 0, or REPAT_EIO when it was not sent.
 */
int broker_send(struct broker *b, struct session *s, const uint8_t *data,
    size_t len);
/* Appends an audit entry of the open group; logs and returns errors. */
int broker_audit(struct broker *b, Repat__AuditEntry *e);
/* Counts an unauthenticated refusal (aggregated into the audit). */
void broker_refusal(struct broker *b);
/* Begins a group transaction and ends it, flushing the out queue. */
int broker_group_begin(struct broker *b);
void broker_group_end(struct broker *b);

/* ---------------------------------------------------------- dispatch.c */

/* One received frame, already authenticated by CURVE, prepared. */
void dispatch(struct broker *b, struct session *s, struct prepared *p);

/* ---------------------------------------------------------- handle_*.c */

/*
 * Handlers run inside the group's transaction under a savepoint; they
 * return 0, or a storage error after which dispatch rolls the savepoint
 * back. Answers are queued and sent after COMMIT.
 */
int handle_hello(struct broker *b, struct session *s, Repat__Hello *h);
int handle_submit(struct broker *b, struct session *s, struct prepared *p);
int handle_ack(struct broker *b, struct session *s, Repat__Ack *m);
int handle_ping(struct broker *b, struct session *s, Repat__Ping *m);
int handle_directory(struct broker *b, struct session *s);
int handle_case_query(struct broker *b, struct session *s,
    Repat__CaseQuery *m);
int handle_proof(struct broker *b, struct session *s,
    Repat__ProofRequest *m);
int handle_bye(struct broker *b, struct session *s);

/* Rejection helpers (handle_submit.c). */
void reject(struct broker *b, struct session *s, const uint8_t *message_id,
    int code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* After a CRL reload: closes sessions whose certificates fail now. */
void session_recheck_all(struct broker *b);
/* Bye to a peer and forgets its session. */
void session_close(struct broker *b, struct session *s, int code,
    const char *reason);

/* ---------------------------------------------------------- authorize.c */

/*
 * 0 when the message may pass, else a Repat__RejectCode with reason.
 * Runs inside the group's transaction (later submits see earlier ones).
 * On 0, agreement holds the id of the agreement the message's case was
 * opened under, whose retention applies to it ("" for none).
 */
int authorize(struct broker *b, const struct repat_verified *v,
    const struct repat_identity *sender,
    char agreement[REPAT_AGREEMENT_MAX_ID + 1], char *reason,
    size_t reasonlen);
/*
 * The SOP check, filled by the agreements work. With no agreement loaded
 * it refuses with REJECT_NO_AGREEMENT.
 */
int authorize_sop(struct broker *b, const struct repat_verified *v,
    const struct repat_identity *sender, char *reason, size_t reasonlen);
/* Loads the agreements folder (SIGHUP); the count loaded. */
int authorize_reload(struct broker *b);

/* ---------------------------------------------------------- deliver.c */

/* Aborts when s breaks the stream invariants (deliver.c's comment). */
void deliver_assert_invariants(const struct session *s, uint64_t last);
/* Sends what s may receive now (after COMMIT). */
void deliver_pump(struct broker *b, struct session *s);
void deliver_pump_all(struct broker *b);
/* Marks the recipient's session dirty, if connected. */
void deliver_wake(struct broker *b, const char *agent);
/* Queues a signed notice into agent's stream (inside the group). */
int deliver_notice(struct broker *b, const char *to, Repat__NoticeBody *nb);
/*
 * Acknowledgement of seq from + 1 .. up_to, from the stored acked_seq
 * (inside the group).
 */
int deliver_acked(struct broker *b, struct session *s, uint64_t from,
    uint64_t up_to, Repat__Ack *ack);
/* Timers: redelivery with backoff, expiry; run as their own group. */
void deliver_timers(struct broker *b);
/*
 * Replaces the head of s's stream (sent delivery_limit times without an
 * ack) by a dead-letter notice and tells its sender; inside a group.
 */
void deliver_dead_letter_head(struct broker *b, struct session *s);
/* Writes s->last_seen_ms to the store (inside a group). */
void store_seen(struct broker *b, struct session *s);

/* ---------------------------------------------------------- zap.c */

/* Answers every waiting ZAP request (accepting CURVE, User-Id = Z85). */
void zap_serve(struct broker *b);

/* ---------------------------------------------------------- ops.c */

/* Takes DATABASE.lock (flock) or fails: one writer per database. */
int broker_lock(const char *database, int *fd, char *errbuf);
int ops_register(const char *conf, int argc, char **argv);
int ops_status(const char *conf, bool json, bool overdue);

/* ---------------------------------------------------------- remind.c */

/* Reminds overdue requests once each (inside a group; throttled). */
void remind_sweep(struct broker *b);
/* purge.c: deletes delivered payloads past their retention period. */
void purge_sweep(struct broker *b);
/* After an agreement reload: a new pass at the next sweep. */
void purge_restart(struct broker *b);
/* `status --overdue`: the overdue requests of every case. */
int remind_report(sqlite3 *db, uint64_t now, bool json);

/* ---------------------------------------------------------- check.c */

/* `repat-broker check`: 0 when the whole database is sound. */
int ops_check(const char *conf);

#endif
