/*
 * bench.h: repat-bench's internal header, one section per file.
 *
 *   bench.c    main: options, the region and broker, the timed run, report
 *   wire.c     a lean broker connection for the timed run (no verification
 *              of deliveries, so the bench measures the broker)
 *   ceiling.c  this machine's ceiling for the broker's unavoidable work
 *   crash.c    `repat-bench crash-load` / `crash-verify` (the crash test)
 *              and `fill` (the storage tests)
 *   util.c     time, processes, percentiles, the test region and its
 *              agreements
 */
#ifndef REPAT_BENCH_H
#define REPAT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "repat.pb-c.h"
#include "repat/clock.h"
#include "repat/pki.h"

/* ---------------------------------------------------------- util.c */

/* Monotonic time in nanoseconds. */
uint64_t bench_ns(void);
void bench_sleep_ns(uint64_t ns);

/* The folder holding argv0 (for sibling binaries); caller frees. */
char *bench_bindir(const char *argv0);

/* A free loopback TCP port, or 0. */
int bench_free_port(void);

/*
 * Creates a test region in dir with `repat region init` (the sibling
 * binary): n agents CC.BENCHk (focal points) spread over m countries.
 * Agent ids are written to ids (n entries, caller frees each and the
 * array). 0 or -1 with a message on stderr.
 */
int bench_region(const char *bindir, const char *dir, int port, int n,
    int m, char ***ids);

/*
 * Under authorization = sop: a bilateral agreement between each country
 * and the next (identification notices between their focal points),
 * signed by both with `repat agreement sign`, in DIR/r/broker/agreements.
 */
int bench_agreements(const char *bindir, const char *top, int n, int m);

/* Agent ids CC.BENCHk of a bench region (n, m); caller frees each. */
char **bench_agent_ids(int n, int m);
/* The endpoint a broker.conf binds; 0 or -1. */
int bench_conf_endpoint(const char *conf, char *out, size_t len);

/*
 * Rewrites DIR/broker/broker.conf keys (key = value lines replaced or
 * appended). kv is a NULL-terminated list of key, value pairs.
 */
int bench_conf_set(const char *conf, const char *const *kv);

/* Starts repat-broker -c conf with output appended to log; its pid or -1. */
pid_t bench_broker_start(const char *bindir, const char *conf,
    const char *log);
/*
 * Waits until the log holds "listening on" after offset (the log's size
 * when the broker was started), up to timeout_ms. 0, or -1 when the broker
 * exited or did not start in time.
 */
int bench_broker_wait(pid_t pid, const char *log, long offset,
    int timeout_ms);
long bench_file_size(const char *path);
/* Removes dir and everything under it (the bench's own temp region). */
void bench_rmtree(const char *dir);

/* utime + stime of pid in seconds, or -1. */
double bench_proc_cpu(pid_t pid);
/* VmHWM (peak RSS) of pid in kB, or -1. */
long bench_proc_hwm(pid_t pid);
long bench_proc_rss(pid_t pid);
/* Bytes pid caused to be written to storage (/proc/PID/io), or -1. */
long long bench_proc_written(pid_t pid);

/* Sorts v (n values) and returns the q-quantile (0..1). */
double bench_quantile(double *v, size_t n, double q);
int bench_cmp_double(const void *a, const void *b);

/* Loads the broker certificate and CURVE key an agent folder pins. */
int bench_agent_pins(const char *agent_dir, char curve_z85[41], X509 **cert);

/*
 * An identification notice of yesterday naming cc, validated into *form
 * (free with repat_form_free). 0 or the form error.
 */
int bench_notice_form(const char *cc, ProtobufCMessage **form);

/* ---------------------------------------------------------- wire.c */

struct wconn;

/* Receive callbacks of the timed run. */
struct wire_handlers {
	void *arg;
	/* a receipt covering these ids (16 bytes each) */
	void (*receipt)(void *arg, struct wconn *c, const uint8_t *ids,
	    size_t n, uint64_t t_ns);
	void (*rejection)(void *arg, struct wconn *c, const uint8_t *id,
	    int code, const char *reason, uint64_t t_ns);
	void (*deliver)(void *arg, struct wconn *c, const uint8_t id[16],
	    uint64_t t_ns);
	void (*notice)(void *arg, struct wconn *c, uint64_t t_ns);
};

struct wconn *wire_new(void *zctx, const char *agent_dir,
    const char *endpoint, char *errbuf);
void wire_destroy(struct wconn **c);
/* Sends hello; wire_poll answers the welcome. */
int wire_hello(struct wconn *c, uint32_t window);
bool wire_welcomed(const struct wconn *c);
/* The socket's ZMQ_FD, for ppoll(); edge-like, see bench.c play(). */
int wire_fd(struct wconn *c);
/* A frame is waiting (ZMQ_EVENTS). */
bool wire_readable(struct wconn *c);
/* After the caller closed the socket (an agent that only registers). */
void wire_nosocket(struct wconn *c);
void *wire_socket(struct wconn *c);
const char *wire_id(const struct wconn *c);
const struct repat_keystore *wire_keystore(const struct wconn *c);
/* Sends a pre-encoded Submit frame. 0 or -1 (would block). */
int wire_send(struct wconn *c, const uint8_t *frame, size_t len);
/* Drains what is readable, calling h; acks as it goes. */
void wire_drain(struct wconn *c, const struct wire_handlers *h);
/* Acks what was received and is not acked yet (idle flush). */
void wire_flush_ack(struct wconn *c, uint64_t now_ns);
/* Bytes sent and received as frames on this connection. */
void wire_bytes(const struct wconn *c, uint64_t *tx, uint64_t *rx);
uint64_t wire_receipt_frames(const struct wconn *c);

/* ---------------------------------------------------------- ceiling.c */

struct ceiling {
	double verify_per_s;		/* envelope verifies, all cores */
	double sign_per_s;		/* Ed25519 receipt signs, all cores */
	double commit_msgs_per_s;	/* SQLite FULL group commit, msgs/s */
	double commit_ms;		/* one group commit, median */
	double commit_cpu_us;		/* CPU of that commit per message */
	double commit1_ms;		/* a commit of one message, median */
	double commit1_p99_ms;		/* and its 99th percentile */
	int cores;
	int batch;			/* group size used */
	double ceiling;			/* messages/s, all cores */
	double serial;			/* messages/s, one thread, no overlap */
};

/*
 * Measures the ceiling with runs repetitions (medians): envelope is one
 * sealed SignedEnvelope, pub its signer's key, key a signing key for the
 * receipt signatures, dbdir the folder of the broker's database.
 */
int ceiling_measure(const uint8_t *envelope, size_t len,
    const uint8_t pub[32], EVP_PKEY *key, const char *dbdir, int batch,
    int cores, int runs, struct ceiling *out);

/* ---------------------------------------------------------- crash.c */

int crash_main(int argc, char **argv, const char *bindir);

#endif
