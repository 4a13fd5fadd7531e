/*
 * bench.c: repat-bench, proof by measurement (docs/performance.md).
 *
 *   repat-bench [options]             the timed run and the ceiling
 *   repat-bench crash-load ...        load for tests/crash (crash.c)
 *   repat-bench crash-verify ...      the crash test's final check
 *
 * A run creates a test region (N agents in M countries) with `repat
 * region init`, starts repat-broker on it (or targets one already running
 * with --broker-conf), connects every agent, seals and signs every
 * message BEFORE timing starts, then plays them at full speed (a window
 * of messages in flight) or at a fixed rate, recording for each message
 * submit -> receipt and submit -> delivery at the recipient. Each message
 * is an identification notice opening a new case. Afterwards it measures
 * this machine's ceiling for the broker's unavoidable work (ceiling.c) and
 * prints the broker's throughput as a ratio of it.
 *
 * At a fixed rate, latency counts from the moment a message was due, not
 * when the bench got round to sending it, so a stalled broker cannot hide
 * its stall by slowing the load down (coordinated omission).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bench.h"
#include "repat/codec.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/form.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/sign.h"

struct opts {
	int agents;			/* --agents */
	int countries;			/* --countries */
	long messages;			/* --messages */
	int payload;			/* --payload: sealed size wanted */
	double rate;			/* --rate, 0: full speed */
	int window;			/* --window: in flight at full speed */
	const char *authorization;	/* --authorization */
	const char *broker_conf;	/* --broker-conf: a running broker */
	pid_t broker_pid;		/* --broker-pid */
	const char *dir;		/* --dir: keep the region there */
	bool json;			/* --json */
	bool no_consume;		/* --no-consume: leave them queued */
	bool restart;			/* --restart-test */
	int ceiling_runs;		/* --ceiling-runs, 0: none */
	int timeout_s;			/* --timeout: no progress */
	int threads;			/* sealing threads */
	const char *set[16];		/* --set key=value for broker.conf */
	int nset;
};

/* One message of the run. */
struct msg {
	uint8_t *frame;			/* the encoded Submit frame */
	size_t frame_len;
	uint32_t sender;		/* index into conns */
	uint32_t recipient;
	uint8_t id[16];
	uint64_t t_sub;			/* ns: due (rate) or sent */
	uint64_t t_rcpt;		/* ns, 0: not yet */
	uint64_t t_dlv;			/* ns, 0: not yet */
	int8_t state;			/* 0 pending, 1 receipted, 2 rejected */
};

struct run {
	struct opts *o;
	struct wconn **conns;		/* every agent */
	int nconns;
	struct msg *m;
	size_t n;
	uint32_t *table;		/* id -> index + 1 */
	size_t tmask;
	size_t sent, receipted, rejected, delivered, answered, notices;
	size_t receipt_ids;		/* ids in receipts, replays included */
	int reject_code;		/* the first rejection seen */
	char reject_reason[256];
	uint64_t t0, t_last_rcpt, t_last_dlv, t_last_progress;
	size_t sealed_len;		/* one SignedEnvelope, bytes */
};

static uint64_t
id_key(const uint8_t id[16])
{
	uint64_t k;

	memcpy(&k, id + 4, sizeof(k));
	return k * 0x9e3779b97f4a7c15ULL;
}

static void
table_put(struct run *r, size_t i)
{
	size_t h = id_key(r->m[i].id) & r->tmask;

	while (r->table[h] != 0)
		h = (h + 1) & r->tmask;
	r->table[h] = (uint32_t)i + 1;
}

static struct msg *
table_get(struct run *r, const uint8_t id[16])
{
	size_t h = id_key(id) & r->tmask;
	uint32_t v;

	while ((v = r->table[h]) != 0) {
		if (memcmp(r->m[v - 1].id, id, 16) == 0)
			return &r->m[v - 1];
		h = (h + 1) & r->tmask;
	}
	return NULL;
}

/* ------------------------------------------------------------ handlers */

static void
h_receipt(void *arg, struct wconn *c, const uint8_t *ids, size_t n,
    uint64_t t)
{
	struct run *r = arg;
	struct msg *m;
	size_t i;

	(void)c;
	r->receipt_ids += n;
	for (i = 0; i < n; i++) {
		if ((m = table_get(r, ids + 16 * i)) == NULL || m->state != 0)
			continue;
		m->state = 1;
		m->t_rcpt = t;
		r->receipted++;
		r->answered++;
		r->t_last_rcpt = t;
		r->t_last_progress = t;
	}
}

static void
h_rejection(void *arg, struct wconn *c, const uint8_t *id, int code,
    const char *reason, uint64_t t)
{
	struct run *r = arg;
	struct msg *m;

	(void)c;
	if (r->reject_code == 0) {
		r->reject_code = code;
		snprintf(r->reject_reason, sizeof(r->reject_reason), "%s",
		    reason ? reason : "");
	}
	if (id == NULL || (m = table_get(r, id)) == NULL || m->state != 0)
		return;
	m->state = 2;
	r->rejected++;
	r->answered++;
	r->t_last_progress = t;
}

static void
h_deliver(void *arg, struct wconn *c, const uint8_t id[16], uint64_t t)
{
	struct run *r = arg;
	struct msg *m;

	(void)c;
	if ((m = table_get(r, id)) == NULL || m->t_dlv != 0)
		return;
	m->t_dlv = t;
	r->delivered++;
	r->t_last_dlv = t;
	r->t_last_progress = t;
}

static void
h_notice(void *arg, struct wconn *c, uint64_t t)
{
	struct run *r = arg;

	(void)c;
	(void)t;
	r->notices++;
}

/* ------------------------------------------------------------ sealing */

struct seal_job {
	struct run *r;
	int t, nt;			/* this thread of nt */
	const char *pad;		/* operator text */
	unsigned base;			/* case numbers start here */
	int failed;
	char err[REPAT_ERRBUF_LEN];
};

static int
seal_one(struct run *r, size_t i, const char *pad, unsigned base,
    uint8_t **out, size_t *outlen, char *err)
{
	struct repat_message_spec spec;
	const struct repat_keystore *sks, *rks;
	ProtobufCMessage *form = NULL;
	char case_ref[32];
	struct tm tm;
	time_t now = time(NULL);
	int rc;

	sks = wire_keystore(r->conns[r->m[i].sender]);
	rks = wire_keystore(r->conns[r->m[i].recipient]);
	if ((rc = bench_notice_form(rks->id.country, &form)) != 0)
		return repat_errf(err, rc, "the identification notice does "
		    "not validate");
	gmtime_r(&now, &tm);
	/* A new case per message, numbered from a random base per run. */
	snprintf(case_ref, sizeof(case_ref), "%s-%04d-%06u", sks->id.country,
	    tm.tm_year + 1900 - (int)(((base % 1000000) + i) / 1000000),
	    (unsigned)((base + i) % 1000000));
	memset(&spec, 0, sizeof(spec));
	spec.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE;
	spec.case_ref = case_ref;
	spec.recipient = rks->id.agent_id;
	spec.form = form;
	spec.operator_name = pad;
	rc = repat_envelope_seal(sks, rks->enc_cert, &spec, repat_now_ms(),
	    out, outlen, r->m[i].id, err);
	repat_form_free(form);
	return rc;
}

static void *
seal_thread(void *arg)
{
	struct seal_job *j = arg;
	struct run *r = j->r;
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Submit s = REPAT__SUBMIT__INIT;
	uint8_t *env;
	size_t i, len;

	for (i = (size_t)j->t; i < r->n; i += (size_t)j->nt) {
		if (seal_one(r, i, j->pad, j->base, &env, &len, j->err) != 0) {
			j->failed = 1;
			return NULL;
		}
		s.signed_envelope.data = env;
		s.signed_envelope.len = len;
		f.command_case = REPAT__FRAME__COMMAND_SUBMIT;
		f.submit = &s;
		repat_encode(&f.base, &r->m[i].frame, &r->m[i].frame_len);
		if (i == 0)
			r->sealed_len = len;
		free(env);
	}
	return NULL;
}

/*
 * The operator text (the one free-text field an identification notice's
 * sealed payload carries: the person sending) that makes one sealed
 * message the smallest size >= the size wanted. The payload is padded to
 * buckets, so sizes move in steps; never rounding down keeps the figures
 * conservative. *got is the sealed size.
 */
static char *
choose_pad(struct run *r, int want, size_t *got)
{
	char err[REPAT_ERRBUF_LEN], *pad;
	uint8_t *env, id[16];
	size_t len = 0, l;

	memcpy(id, r->m[0].id, 16);
	for (l = 0;; l += 16) {
		pad = repat_xmalloc(l + 1);
		memset(pad, 'x', l);
		pad[l] = '\0';
		if (l > 0)
			memcpy(pad, "Duty officer ", l < 13 ? l : 13);
		if (seal_one(r, 0, l ? pad : NULL, 0, &env, &len, err) != 0) {
			free(pad);
			pad = NULL;
			break;
		}
		free(env);
		if (len >= (size_t)want || l >= (size_t)want + 4096)
			break;
		free(pad);
	}
	memcpy(r->m[0].id, id, 16);
	*got = len;
	if (pad != NULL && pad[0] == '\0') {
		free(pad);
		pad = NULL;
	}
	return pad;
}

static int
prepare(struct run *r)
{
	struct seal_job *jobs;
	pthread_t *th;
	char *pad;
	size_t got, i, nsend;
	unsigned base;
	int t, nt = r->o->threads, failed = 0;

	nsend = (size_t)(r->o->no_consume ? r->nconns / 2 : r->nconns);
	for (i = 0; i < r->n; i++) {
		if (r->o->no_consume) {
			r->m[i].sender = (uint32_t)(2 * (i % nsend));
			r->m[i].recipient = r->m[i].sender + 1;
		} else {
			r->m[i].sender = (uint32_t)(i % nsend);
			r->m[i].recipient = (uint32_t)((i + 1) % nsend);
		}
	}
	pad = choose_pad(r, r->o->payload, &got);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	base = (unsigned)rand() % 1000000;
	jobs = repat_xcalloc((size_t)nt, sizeof(*jobs));
	th = repat_xcalloc((size_t)nt, sizeof(*th));
	for (t = 0; t < nt; t++) {
		jobs[t].r = r;
		jobs[t].t = t;
		jobs[t].nt = nt;
		jobs[t].pad = pad;
		jobs[t].base = base;
		pthread_create(&th[t], NULL, seal_thread, &jobs[t]);
	}
	for (t = 0; t < nt; t++) {
		pthread_join(th[t], NULL);
		if (jobs[t].failed && !failed) {
			failed = 1;
			fprintf(stderr, "repat-bench: sealing: %s\n",
			    jobs[t].err);
		}
	}
	free(jobs);
	free(th);
	free(pad);
	if (failed)
		return -1;
	for (r->tmask = 1; r->tmask < 2 * r->n; r->tmask <<= 1)
		;
	r->table = repat_xcalloc(r->tmask, sizeof(*r->table));
	r->tmask--;
	for (i = 0; i < r->n; i++)
		table_put(r, i);
	return 0;
}

/* ------------------------------------------------------------ the run */

static void
progress(struct run *r, uint64_t now, bool last)
{
	double s = (double)(now - r->t0) / 1e9;

	fprintf(stderr, "%s[%6.1fs] sent %zu  receipted %zu  rejected %zu  "
	    "delivered %zu  (%.0f accepted/s)%s", isatty(2) ? "\r" : "", s,
	    r->sent, r->receipted,
	    r->rejected, r->delivered, s > 0 ? (double)r->receipted / s : 0,
	    last || !isatty(2) ? "\n" : "  ");
}

static bool
finished(const struct run *r)
{
	if (r->answered < r->n)
		return false;
	return r->o->no_consume || r->delivered >= r->receipted;
}

/* How long the loop may sleep: 0 when there is something to do now. */
static uint64_t
wait_ns(const struct run *r, uint64_t interval, uint64_t now)
{
	uint64_t due;

	if (r->sent >= r->n)
		return 1000000;
	if (interval > 0) {
		due = r->t0 + r->sent * interval;
		return due > now ? due - now : 0;
	}
	return r->sent - r->answered < (size_t)r->o->window ? 0 : 1000000;
}

/*
 * One thread plays every connection. It sleeps in ppoll() on the
 * sockets' ZMQ_FDs with a nanosecond timeout rather than zmq_poll()'s
 * milliseconds, so at a fixed rate it neither spins (stealing a core
 * from the broker it measures) nor sends late. A ZMQ_FD only says that
 * the socket's state may have changed: every socket is drained after a
 * wake, and ZMQ_EVENTS is checked after our own sends before sleeping.
 */
static void
play(struct run *r)
{
	struct wire_handlers h = { r, h_receipt, h_rejection, h_deliver,
	    h_notice };
	struct pollfd *pf;
	struct wconn **live;
	struct timespec ts;
	uint64_t now, last_print, interval = 0, w;
	int i, nl = 0;

	pf = repat_xcalloc((size_t)r->nconns, sizeof(*pf));
	live = repat_xcalloc((size_t)r->nconns, sizeof(*live));
	for (i = 0; i < r->nconns; i++)
		if (wire_socket(r->conns[i]) != NULL) {
			pf[nl].fd = wire_fd(r->conns[i]);
			pf[nl].events = POLLIN;
			live[nl++] = r->conns[i];
		}
	if (r->o->rate > 0)
		interval = (uint64_t)(1e9 / r->o->rate);
	r->t0 = last_print = r->t_last_progress = bench_ns();
	while (!finished(r)) {
		now = bench_ns();
		while (r->sent < r->n && wait_ns(r, interval, now) == 0) {
			struct msg *m = &r->m[r->sent];

			m->t_sub = interval > 0 ? r->t0 + r->sent * interval :
			    now;
			if (wire_send(r->conns[m->sender], m->frame,
			    m->frame_len) != 0)
				break;
			r->sent++;
		}
		for (i = 0; i < nl; i++)
			wire_drain(live[i], &h);
		now = bench_ns();
		for (i = 0; i < nl; i++)
			wire_flush_ack(live[i], now);
		w = wait_ns(r, interval, now);
		for (i = 0; i < nl && w > 0; i++)
			if (wire_readable(live[i]))
				w = 0;
		if (w > 0) {
			ts.tv_sec = (time_t)(w / 1000000000ULL);
			ts.tv_nsec = (long)(w % 1000000000ULL);
			(void)ppoll(pf, (nfds_t)nl, &ts, NULL);
		}
		now = bench_ns();
		if (now - last_print >= 1000000000ULL) {
			last_print = now;
			progress(r, now, false);
		}
		if (now - r->t_last_progress > (uint64_t)r->o->timeout_s *
		    1000000000ULL) {
			fprintf(stderr, "\nrepat-bench: no progress for %d s; "
			    "stopping\n", r->o->timeout_s);
			break;
		}
	}
	progress(r, bench_ns(), true);
	free(pf);
	free(live);
}

/* ------------------------------------------------------------ setup */

static int
connect_all(struct run *r, void *zctx, const char *agents_dir,
    char **ids, const char *endpoint)
{
	struct wire_handlers h = { r, h_receipt, h_rejection, h_deliver,
	    h_notice };
	char err[REPAT_ERRBUF_LEN], *dir;
	uint64_t deadline;
	int i, ok;

	r->conns = repat_xcalloc((size_t)r->nconns, sizeof(*r->conns));
	for (i = 0; i < r->nconns; i++) {
		dir = repat_xasprintf("%s/%s", agents_dir, ids[i]);
		r->conns[i] = wire_new(zctx, dir, endpoint, err);
		free(dir);
		if (r->conns[i] == NULL) {
			fprintf(stderr, "repat-bench: %s\n", err);
			return -1;
		}
		wire_hello(r->conns[i], 1024);
	}
	deadline = bench_ns() + 10000000000ULL;
	do {
		bench_sleep_ns(2000000);
		for (i = 0, ok = 0; i < r->nconns; i++) {
			wire_drain(r->conns[i], &h);
			ok += wire_welcomed(r->conns[i]);
		}
	} while (ok < r->nconns && bench_ns() < deadline);
	if (ok < r->nconns) {
		fprintf(stderr, "repat-bench: only %d of %d agents were "
		    "admitted by the broker\n", ok, r->nconns);
		return -1;
	}
	/* Recipients that must not consume leave after registering. */
	if (r->o->no_consume)
		for (i = 1; i < r->nconns; i += 2) {
			zmq_close(wire_socket(r->conns[i]));
			wire_nosocket(r->conns[i]);
		}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: repat-bench [--agents N] [--countries M] [--messages K]\n"
	    "                   [--payload BYTES] [--rate N/s] [--window W]\n"
	    "                   [--authorization sop|open] [--dir DIR]\n"
	    "                   [--broker-conf FILE --broker-pid PID]\n"
	    "                   [--no-consume] [--restart-test]\n"
	    "                   [--set broker.conf-key=value ...]\n"
	    "                   [--ceiling-runs R] [--timeout S] [--json]\n"
	    "       repat-bench crash-load|crash-verify ... (tests/crash)\n\n"
	    "Starts a test region and broker (or targets a running one),\n"
	    "plays K identification notices (each opening a new case) sealed\n"
	    "and signed before timing starts, at full speed (W in flight) or\n"
	    "at a fixed rate, and reports throughput, latency percentiles,\n"
	    "broker CPU and peak RSS, then this machine's ceiling.\n\n"
	    "example:\n"
	    "  repat-bench --agents 8 --countries 4 --messages 20000 \\\n"
	    "      --payload 2048 --authorization open\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "agents", required_argument, NULL, 'a' },
		{ "countries", required_argument, NULL, 'c' },
		{ "messages", required_argument, NULL, 'n' },
		{ "payload", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "authorization", required_argument, NULL, 'A' },
		{ "broker-conf", required_argument, NULL, 'B' },
		{ "broker-pid", required_argument, NULL, 'P' },
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-consume", no_argument, NULL, 'N' },
		{ "restart-test", no_argument, NULL, 'R' },
		{ "ceiling-runs", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'T' },
		{ "set", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->agents = 8;
	o->countries = 4;
	o->messages = 10000;
	o->payload = 2048;
	o->window = 512;
	o->authorization = "sop";
	o->ceiling_runs = 5;
	o->timeout_s = 20;
	o->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'a': o->agents = atoi(optarg); break;
		case 'c': o->countries = atoi(optarg); break;
		case 'n': o->messages = atol(optarg); break;
		case 'p': o->payload = atoi(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 'w': o->window = atoi(optarg); break;
		case 'A': o->authorization = optarg; break;
		case 'B': o->broker_conf = optarg; break;
		case 'P': o->broker_pid = (pid_t)atoi(optarg); break;
		case 'd': o->dir = optarg; break;
		case 'j': o->json = true; break;
		case 'N': o->no_consume = true; break;
		case 'R': o->restart = true; break;
		case 'C': o->ceiling_runs = atoi(optarg); break;
		case 't': o->timeout_s = atoi(optarg); break;
		case 'T': o->threads = atoi(optarg); break;
		case 'S':
			if (o->nset == 16 || strchr(optarg, '=') == NULL) {
				usage(stderr);
				return -1;
			}
			o->set[o->nset++] = optarg;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || o->agents < 2 || o->messages < 1 ||
	    o->window < 1 || o->payload < 0 || o->threads < 1 ||
	    (o->no_consume && o->agents % 2 != 0) ||
	    (strcmp(o->authorization, "sop") != 0 &&
	    strcmp(o->authorization, "open") != 0)) {
		usage(stderr);
		return -1;
	}
	if (o->threads > 16)
		o->threads = 16;
	return 0;
}

/* ------------------------------------------------------------ report */

struct lat {
	double p50, p90, p99, max;
	size_t n;
};

static void
latencies(const struct run *r, bool delivered, struct lat *l)
{
	double *v = repat_xcalloc(r->n + 1, sizeof(*v));
	size_t i, n = 0;
	uint64_t t;

	for (i = 0; i < r->n; i++) {
		t = delivered ? r->m[i].t_dlv : r->m[i].t_rcpt;
		if (t != 0 && r->m[i].state == 1)
			v[n++] = (double)(t - r->m[i].t_sub) / 1e6;
	}
	l->n = n;
	l->p50 = bench_quantile(v, n, 0.50);
	l->p90 = bench_quantile(v, n, 0.90);
	l->p99 = bench_quantile(v, n, 0.99);
	l->max = n ? v[n - 1] : 0;
	free(v);
}

/* The 1-minute load average: this machine may be shared. */
static double
loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

struct report {
	double accepted_s, delivered_s, cpu_s, wall_s;
	double self_cpu_s;		/* this process (the load generator) */
	long hwm_kb, rss_kb;
	double written_per_msg;		/* broker's storage writes, bytes */
	double bound_per_s;		/* ceiling work + load gen, all cores */
	double wire_per_msg;
	double receipt_size;		/* ids per receipt */
	struct lat rcpt, dlv;
	struct ceiling ceil;
	bool have_ceiling;
	double restart_listen_ms, restart_serving_ms;
	long queued_at_restart;
	double load0, load1;		/* load average before and after */
};

/* The counters the report subtracts, read as the timed run starts. */
struct counters {
	double broker_cpu_s;		/* -1: no broker process of ours */
	double self_cpu_s;
	long long broker_written;	/* bytes, -1: not known */
};

static void
print_text(const struct run *r, const struct report *p)
{
	const struct opts *o = r->o;

	printf("repat-bench: %ld messages, %d agents in %d countries, "
	    "authorization = %s\n", o->messages, o->agents, o->countries,
	    o->authorization);
	printf("  load        %s, sealed message %zu bytes (asked %d), "
	    "%.0f frame bytes on the wire per message\n", o->rate > 0 ?
	    "fixed rate" : "full speed", r->sealed_len, o->payload,
	    p->wire_per_msg);
	if (o->rate > 0)
		printf("  offered     %.0f messages/s\n", o->rate);
	else
		printf("  window      %d messages in flight\n", o->window);
	printf("  answers     %zu receipted, %zu rejected, %zu delivered, "
	    "%zu delivered notices\n", r->receipted, r->rejected,
	    r->delivered, r->notices);
	if (r->reject_code != 0)
		printf("  first rejection: %s: %s\n",
		    repat_reject_code_name(r->reject_code), r->reject_reason);
	printf("  throughput  %.0f accepted/s, %.0f delivered/s over %.2f s\n",
	    p->accepted_s, p->delivered_s, p->wall_s);
	printf("  submit->receipt    ms: p50 %.2f  p90 %.2f  p99 %.2f  max "
	    "%.2f  (n=%zu)\n", p->rcpt.p50, p->rcpt.p90, p->rcpt.p99,
	    p->rcpt.max, p->rcpt.n);
	if (!o->no_consume)
		printf("  submit->delivered  ms: p50 %.2f  p90 %.2f  p99 %.2f  "
		    "max %.2f  (n=%zu)\n", p->dlv.p50, p->dlv.p90, p->dlv.p99,
		    p->dlv.max, p->dlv.n);
	printf("  receipts    %.1f message ids per receipt frame\n",
	    p->receipt_size);
	if (p->cpu_s >= 0)
		printf("  broker      CPU %.2f s (%.0f%% of one core, %.0f us "
		    "per accepted message), peak RSS %.1f MB, RSS now "
		    "%.1f MB\n",
		    p->cpu_s, 100 * p->cpu_s / p->wall_s, r->receipted ?
		    1e6 * p->cpu_s / (double)r->receipted : 0,
		    (double)p->hwm_kb / 1024, (double)p->rss_kb / 1024);
	if (p->written_per_msg >= 0)
		printf("  storage     broker wrote %.1f KB per accepted message "
		    "during the run (WAL and database pages)\n",
		    p->written_per_msg / 1024);
	printf("  load gen    CPU %.2f s (%.0f%% of one core, %.0f us per "
	    "message), on the same machine\n", p->self_cpu_s,
	    100 * p->self_cpu_s / p->wall_s, r->sent ?
	    1e6 * p->self_cpu_s / (double)r->sent : 0);
	printf("  machine     %ld cores, load average %.2f before, %.2f after "
	    "the timed run\n", sysconf(_SC_NPROCESSORS_ONLN), p->load0,
	    p->load1);
	if (o->nset > 0) {
		int j;

		printf("  broker.conf");
		for (j = 0; j < o->nset; j++)
			printf(" %s", o->set[j]);
		printf("\n");
	}
	if (p->have_ceiling) {
		const struct ceiling *c = &p->ceil;

		printf("  ceiling     %.0f msgs/s on %d cores (verify %.0f/s, "
		    "sign %.0f/s, FULL commit of %d: %.2f ms = %.0f msgs/s); "
		    "one-thread bound %.0f msgs/s\n", c->ceiling, c->cores,
		    c->verify_per_s, c->sign_per_s, c->batch, c->commit_ms,
		    c->commit_msgs_per_s, c->serial);
		printf("  commit of 1 message (latency floor): p50 %.2f ms, "
		    "p99 %.2f ms\n", c->commit1_ms, c->commit1_p99_ms);
		if (o->no_consume)
			printf("  ratio       accepted %.0f%% of the ceiling "
			    "(%.0f%% of the one-thread bound); nothing "
			    "consumed\n", 100 * p->accepted_s / c->ceiling,
			    100 * p->accepted_s / c->serial);
		else
			printf("  ratio       accepted %.0f%%, delivered "
			    "%.0f%% of the ceiling (%.0f%% / %.0f%% of the "
			    "one-thread bound)\n",
			    100 * p->accepted_s / c->ceiling,
			    100 * p->delivered_s / c->ceiling,
			    100 * p->accepted_s / c->serial,
			    100 * p->delivered_s / c->serial);
		if (p->bound_per_s > 0)
			printf("  bound       a broker doing only the ceiling's "
			    "work could pass %.0f msgs/s (%.0f%% of the "
			    "ceiling) beside this load generator: per message "
			    "%.0f us to verify + %.1f us to write the rows + "
			    "%.0f us of load generator, on %d cores\n",
			    p->bound_per_s,
			    100 * p->bound_per_s / c->ceiling,
			    1e6 * c->cores / c->verify_per_s,
			    c->commit_cpu_us,
			    1e6 * p->self_cpu_s / (double)r->sent, c->cores);
	}
	if (p->restart_listen_ms > 0)
		printf("  restart     after SIGKILL with %ld queued: listening "
		    "in %.0f ms, serving (hello answered) in %.0f ms\n",
		    p->queued_at_restart, p->restart_listen_ms,
		    p->restart_serving_ms);
}

static void
print_json(const struct run *r, const struct report *p)
{
	const struct opts *o = r->o;
	const struct ceiling *c = &p->ceil;

	printf("{\"messages\": %ld, \"agents\": %d, \"countries\": %d, "
	    "\"authorization\": \"%s\", \"rate\": %.0f, \"window\": %d, "
	    "\"sealed_bytes\": %zu, \"wire_bytes_per_message\": %.0f, "
	    "\"receipted\": %zu, \"rejected\": %zu, \"delivered\": %zu, "
	    "\"first_reject_code\": %d, "
	    "\"accepted_per_s\": %.1f, \"delivered_per_s\": %.1f, "
	    "\"seconds\": %.3f, ", o->messages, o->agents, o->countries,
	    o->authorization, o->rate, o->window, r->sealed_len,
	    p->wire_per_msg, r->receipted, r->rejected, r->delivered,
	    r->reject_code, p->accepted_s, p->delivered_s, p->wall_s);
	printf("\"receipt_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
	    "\"max\": %.3f}, \"delivered_ms\": {\"p50\": %.3f, \"p90\": %.3f, "
	    "\"p99\": %.3f, \"max\": %.3f}, \"ids_per_receipt\": %.2f, ",
	    p->rcpt.p50, p->rcpt.p90, p->rcpt.p99, p->rcpt.max, p->dlv.p50,
	    p->dlv.p90, p->dlv.p99, p->dlv.max, p->receipt_size);
	printf("\"broker_cpu_s\": %.3f, \"broker_peak_rss_kb\": %ld, "
	    "\"broker_rss_kb\": %ld, \"load_before\": %.2f, "
	    "\"load_after\": %.2f, \"broker_written_per_message\": %.0f, "
	    "\"load_generator_cpu_s\": %.3f", p->cpu_s, p->hwm_kb, p->rss_kb,
	    p->load0, p->load1, p->written_per_msg, p->self_cpu_s);
	if (p->have_ceiling)
		printf(", \"ceiling\": {\"cores\": %d, \"verify_per_s\": %.0f, "
		    "\"sign_per_s\": %.0f, \"batch\": %d, \"commit_ms\": %.3f, "
		    "\"commit_msgs_per_s\": %.0f, \"ceiling_per_s\": %.0f, "
		    "\"serial_per_s\": %.0f, \"accepted_ratio\": %.3f, "
		    "\"delivered_ratio\": %.3f, \"commit1_ms\": %.3f, "
		    "\"commit1_p99_ms\": %.3f, \"commit_cpu_us\": %.2f, "
		    "\"bound_per_s\": %.0f}",
		    c->cores, c->verify_per_s,
		    c->sign_per_s, c->batch, c->commit_ms, c->commit_msgs_per_s,
		    c->ceiling, c->serial, p->accepted_s / c->ceiling,
		    p->delivered_s / c->ceiling, c->commit1_ms,
		    c->commit1_p99_ms, c->commit_cpu_us, p->bound_per_s);
	if (p->restart_listen_ms > 0)
		printf(", \"restart\": {\"queued\": %ld, "
		    "\"listening_ms\": %.1f, \"serving_ms\": %.1f}",
		    p->queued_at_restart, p->restart_listen_ms,
		    p->restart_serving_ms);
	printf("}\n");
}

/* The conf's group_commit_size, or the broker's default. */
static int
conf_group_size(const char *conf)
{
	char line[512];
	int v = 256;
	FILE *f;

	if ((f = fopen(conf, "r")) == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " group_commit_size = %d", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The conf's authorization, "sop" when absent (the default). */
static const char *
conf_authorization(const char *conf)
{
	char line[512], v[16];
	const char *a = "sop";
	FILE *f;

	if ((f = fopen(conf, "r")) == NULL)
		return a;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " authorization = %15s", v) == 1) {
			a = strcmp(v, "open") == 0 ? "open" : "sop";
			break;
		}
	fclose(f);
	return a;
}

static void
measure_ceiling(struct run *r, const char *dbdir, int batch,
    struct report *p)
{
	const struct repat_keystore *ks = wire_keystore(r->conns[0]);
	Repat__Frame *f;
	uint8_t pub[32];

	/* The first message's envelope, signed by agent 0. */
	if (r->m[0].sender != 0 || repat_frame_decode(r->m[0].frame,
	    r->m[0].frame_len, &f) != 0)
		return;
	if (repat_cert_public_raw(ks->sign_cert, pub) == 0 &&
	    ceiling_measure(f->submit->signed_envelope.data,
	    f->submit->signed_envelope.len, pub, ks->sign_key, dbdir, batch,
	    (int)sysconf(_SC_NPROCESSORS_ONLN), r->o->ceiling_runs,
	    &p->ceil) == 0)
		p->have_ceiling = true;
	repat_msg_free(f);
	/*
	 * What the cores could pass if the broker did nothing but the
	 * ceiling's work (the verification, and the CPU of writing the
	 * rows), while this process drives it from the same cores: the upper
	 * bound of the ratio on this machine (full speed only; at a fixed
	 * rate the load generator mostly waits).
	 */
	if (p->have_ceiling && r->o->rate <= 0 && r->sent > 0 &&
	    p->ceil.verify_per_s > 0) {
		p->bound_per_s = p->ceil.cores / (p->ceil.cores /
		    p->ceil.verify_per_s + p->ceil.commit_cpu_us / 1e6 +
		    p->self_cpu_s / (double)r->sent);
		if (p->bound_per_s > p->ceil.ceiling)
			p->bound_per_s = p->ceil.ceiling;
	}
}

/* SIGKILL, restart, time to "listening" and to a welcome. */
static void
restart_test(struct run *r, const char *bindir, const char *conf,
    const char *log, pid_t *pid, void *zctx, const char *agent_dir,
    const char *endpoint, struct report *p)
{
	struct wire_handlers h = { r, h_receipt, h_rejection, h_deliver,
	    h_notice };
	char err[REPAT_ERRBUF_LEN];
	struct wconn *c;
	uint64_t t0, t1;
	long off;

	p->queued_at_restart = (long)(r->receipted - r->delivered);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	off = bench_file_size(log);
	t0 = bench_ns();
	*pid = bench_broker_start(bindir, conf, log);
	if (bench_broker_wait(*pid, log, off, 30000) != 0) {
		fprintf(stderr, "repat-bench: the broker did not restart (see "
		    "%s)\n", log);
		return;
	}
	t1 = bench_ns();
	p->restart_listen_ms = (double)(t1 - t0) / 1e6;
	if ((c = wire_new(zctx, agent_dir, endpoint, err)) == NULL)
		return;
	wire_hello(c, 1);
	while (!wire_welcomed(c) && bench_ns() - t0 < 30000000000ULL) {
		zmq_pollitem_t it = { wire_socket(c), 0, ZMQ_POLLIN, 0 };

		zmq_poll(&it, 1, 1);
		wire_drain(c, &h);
	}
	if (wire_welcomed(c))
		p->restart_serving_ms = (double)(bench_ns() - t0) / 1e6;
	wire_destroy(&c);
}

static void
fill_report(struct run *r, pid_t pid, const struct counters *before,
    struct report *p)
{
	uint64_t tx, rx, ttx = 0, trx = 0, frames = 0;
	uint64_t end;
	long long written;
	int i;

	end = r->t_last_rcpt > r->t_last_dlv ? r->t_last_rcpt : r->t_last_dlv;
	if (end <= r->t0)
		end = bench_ns();
	p->wall_s = (double)(end - r->t0) / 1e9;
	p->accepted_s = r->t_last_rcpt > r->t0 ? (double)r->receipted /
	    ((double)(r->t_last_rcpt - r->t0) / 1e9) : 0;
	p->delivered_s = r->t_last_dlv > r->t0 ? (double)r->delivered /
	    ((double)(r->t_last_dlv - r->t0) / 1e9) : 0;
	p->cpu_s = pid > 0 && before->broker_cpu_s >= 0 ?
	    bench_proc_cpu(pid) - before->broker_cpu_s : -1;
	p->self_cpu_s = bench_proc_cpu(getpid()) - before->self_cpu_s;
	written = pid > 0 ? bench_proc_written(pid) : -1;
	/* 0: nothing reached a block device (a tmpfs --dir): not known. */
	p->written_per_msg = written > 0 && before->broker_written >= 0 &&
	    r->receipted > 0 ? (double)(written - before->broker_written) /
	    (double)r->receipted : -1;
	p->hwm_kb = pid > 0 ? bench_proc_hwm(pid) : -1;
	p->rss_kb = pid > 0 ? bench_proc_rss(pid) : -1;
	for (i = 0; i < r->nconns; i++) {
		wire_bytes(r->conns[i], &tx, &rx);
		ttx += tx;
		trx += rx;
		frames += wire_receipt_frames(r->conns[i]);
	}
	p->wire_per_msg = r->sent ? (double)(ttx + trx) / (double)r->sent : 0;
	p->receipt_size = frames ? (double)r->receipt_ids / (double)frames : 0;
	latencies(r, false, &p->rcpt);
	latencies(r, true, &p->dlv);
}

static int
bench_main(int argc, char **argv)
{
	struct opts o;
	struct run r;
	struct report p;
	struct counters before;
	char *bindir, *top = NULL, *conf = NULL, *log = NULL, **ids = NULL;
	char *agents_dir = NULL, *dbdir = NULL, endpoint[64];
	char tmpl[] = "/tmp/repat-bench-XXXXXX";
	pid_t pid = -1;
	void *zctx = NULL;
	int port = 0, rc = 1, i;
	size_t k;

	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	r.o = &o;
	bindir = bench_bindir(argv[0]);
	if (o.broker_conf != NULL) {
		/* A running broker of a region made by `repat region init`. */
		conf = repat_xstrdup(o.broker_conf);
		dbdir = bench_bindir(conf);
		top = repat_xasprintf("%s/..", dbdir);
		pid = o.broker_pid > 0 ? o.broker_pid : -1;
		/* Say what the running broker does, not what we would do. */
		o.authorization = conf_authorization(conf);
		fprintf(stderr, "repat-bench: --broker-conf: agents are taken "
		    "from %s/agents (ids CC.BENCHk of a region made with "
		    "repat-bench --dir)\n", top);
	} else {
		top = repat_xstrdup(o.dir ? o.dir : mkdtemp(tmpl));
		port = bench_free_port();
		fprintf(stderr, "repat-bench: creating a region of %d agents "
		    "in %d countries in %s\n", o.agents, o.countries, top);
		if (bench_region(bindir, top, port, o.agents, o.countries,
		    &ids) != 0)
			goto out;
		if (strcmp(o.authorization, "sop") == 0 &&
		    bench_agreements(bindir, top, o.agents, o.countries) != 0)
			goto out;
		conf = repat_xasprintf("%s/r/broker/broker.conf", top);
		dbdir = repat_xasprintf("%s/r/broker", top);
		{
			const char *kv[40] = { "authorization", o.authorization,
			    "log_level", "info" };
			char *sets[16];
			int k2 = 4, j;

			for (j = 0; j < o.nset; j++) {
				sets[j] = repat_xstrdup(o.set[j]);
				*strchr(sets[j], '=') = '\0';
				kv[k2++] = sets[j];
				kv[k2++] = sets[j] + strlen(sets[j]) + 1;
			}
			kv[k2] = NULL;
			k2 = bench_conf_set(conf, kv);
			for (j = 0; j < o.nset; j++)
				free(sets[j]);
			if (k2 != 0)
				goto out;
		}
		log = repat_xasprintf("%s/broker.log", top);
		pid = bench_broker_start(bindir, conf, log);
		if (bench_broker_wait(pid, log, 0, 20000) != 0) {
			fprintf(stderr, "repat-bench: the broker did not start "
			    "(see %s)\n", log);
			goto out;
		}
	}
	if (ids == NULL)
		ids = bench_agent_ids(o.agents, o.countries);
	agents_dir = repat_xasprintf(o.broker_conf ? "%s/agents" :
	    "%s/r/agents", top);
	if (bench_conf_endpoint(conf, endpoint, sizeof(endpoint)) != 0) {
		fprintf(stderr, "repat-bench: %s: no endpoint\n", conf);
		goto out;
	}
	zctx = zmq_ctx_new();
	r.nconns = o.agents;
	if (connect_all(&r, zctx, agents_dir, ids, endpoint) != 0)
		goto out;
	r.n = (size_t)o.messages;
	r.m = repat_xcalloc(r.n, sizeof(*r.m));
	fprintf(stderr, "repat-bench: sealing and signing %zu messages on %d "
	    "threads (not timed)\n", r.n, o.threads);
	if (prepare(&r) != 0)
		goto out;
	fprintf(stderr, "repat-bench: playing (authorization = %s)\n",
	    o.authorization);
	before.broker_cpu_s = pid > 0 ? bench_proc_cpu(pid) : -1;
	before.self_cpu_s = bench_proc_cpu(getpid());
	before.broker_written = pid > 0 ? bench_proc_written(pid) : -1;
	p.load0 = loadavg();
	play(&r);
	p.load1 = loadavg();
	fill_report(&r, pid, &before, &p);
	if (r.receipted == 0 && r.reject_code != 0)
		fprintf(stderr, "repat-bench: every message was refused (%s: "
		    "%s)%s\n", repat_reject_code_name(r.reject_code),
		    r.reject_reason,
		    strcmp(o.authorization, "sop") == 0 ? "; without signed "
		    "agreements in the region's agreements folder use "
		    "--authorization open" : "");
	if (o.restart && pid > 0 && o.broker_conf == NULL) {
		char *adir = repat_xasprintf("%s/%s", agents_dir, ids[0]);

		restart_test(&r, bindir, conf, log, &pid, zctx, adir, endpoint,
		    &p);
		free(adir);
	}
	if (o.ceiling_runs > 0) {
		fprintf(stderr, "repat-bench: measuring the ceiling (%d "
		    "runs)\n", o.ceiling_runs);
		measure_ceiling(&r, dbdir, conf_group_size(conf), &p);
	}
	if (o.json)
		print_json(&r, &p);
	else
		print_text(&r, &p);
	rc = r.receipted > 0 && r.answered == r.n ? 0 : 1;
out:
	for (i = 0; r.conns != NULL && i < r.nconns; i++)
		wire_destroy(&r.conns[i]);
	free(r.conns);
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	if (pid > 0 && o.broker_conf == NULL) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	/* A failed run keeps its region: the messages point into it. */
	if (rc == 0 && o.broker_conf == NULL && o.dir == NULL && top != NULL)
		bench_rmtree(top);
	for (k = 0; k < r.n; k++)
		free(r.m[k].frame);
	free(r.m);
	free(r.table);
	for (i = 0; ids != NULL && i < o.agents; i++)
		free(ids[i]);
	free(ids);
	free(agents_dir);
	free(conf);
	free(log);
	free(dbdir);
	free(top);
	free(bindir);
	return rc;
}

int
main(int argc, char **argv)
{
	char *bindir;
	int rc;

	repat_log_init("repat-bench", REPAT_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && (strncmp(argv[1], "crash-", 6) == 0 ||
	    strcmp(argv[1], "fill") == 0)) {
		bindir = bench_bindir(argv[0]);
		rc = crash_main(argc - 1, argv + 1, bindir);
		free(bindir);
		return rc;
	}
	return bench_main(argc, argv);
}
