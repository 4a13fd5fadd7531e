/*
 * crash.c: the load and the check of the crash test (tests/crash).
 *
 *   repat-bench crash-load --region DIR --state DIR [--rate N]
 *                          [--timeout S]
 *
 * plays two streams of messages (TH.DATIP -> MM.DSW and MM.DNR ->
 * TH.WPC.PATHUMTHANI of a `repat region init` region) through the real
 * client library while tests/crash/crashtest.sh kills the broker with
 * SIGKILL and restarts it. Senders seal each message, submit until it is
 * receipted (resending the same bytes, as lib/client.c promises is safe)
 * and log every receipted id to STATE/receipted.log. Consumers behave as
 * an application must: each delivery is written to STATE/delivered.log
 * before its ack, and on reconnecting they tell the broker what they have
 * stored (acked_seq), so a delivery is handed up once even when the ack
 * died with the broker. When STATE/stop appears, senders finish what they
 * sent, consumers wait for every receipted message, and the logs are
 * checked:
 *
 *   - every receipted message was delivered exactly once;
 *   - nothing was delivered that was not submitted by the test.
 *
 *   repat-bench crash-verify --state DIR
 *
 * runs the same check on the logs alone. Exit 0 when it holds.
 *
 *   repat-bench fill --region DIR [--count N] [--drain] ...
 *
 * submits one message at a time until refused (or counts deliveries), for
 * the hostile-storage tests (tests/integ/51-*, 52-*); see fill() below.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "repat/client.h"
#include "repat/codec.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/form.h"
#include "repat/mem.h"

#define BATCH		8
#define CONNECT_MS	2000

struct crash_ctx {
	const char *region;		/* the region folder */
	const char *state;		/* logs and the stop file */
	double rate;			/* messages/s per sender */
	int timeout_s;			/* crash-load: drain after stop; fill: per answer */
	char endpoint[128];		/* the broker's */
	pthread_mutex_t lock;		/* logs and counters */
	FILE *receipted;		/* STATE/receipted.log */
	FILE *delivered;		/* STATE/delivered.log */
	size_t nreceipted, ndelivered, nrejected;
	int senders_left;		/* senders still running */
	bool failed;			/* a thread gave up */
};

struct crash_peer {
	struct crash_ctx *x;
	const char *from, *to;		/* agent ids */
	const char *self;		/* the consumer's agent id */
};

static bool
stop_requested(const struct crash_ctx *x)
{
	struct stat st;
	char *p = repat_xasprintf("%s/stop", x->state);
	bool r = stat(p, &st) == 0;

	free(p);
	return r;
}

/* A connected client for agent id (keys in *ks), retrying until stop. */
static repat_client_t *
connect_agent(struct crash_ctx *x, const char *id, struct repat_keystore *ks,
    uint64_t acked, bool loadkeys)
{
	struct repat_client_options o;
	char err[REPAT_ERRBUF_LEN], curve[41], *dir;
	repat_client_t *c = NULL;
	X509 *cert = NULL;
	int tries = 0;

	dir = repat_xasprintf("%s/agents/%s", x->region, id);
	if (loadkeys && repat_keystore_load(dir, NULL, ks, err) != 0) {
		fprintf(stderr, "crash-load: %s\n", err);
		goto out;
	}
	if (bench_agent_pins(dir, curve, &cert) != 0)
		goto out;
	if ((c = repat_client_new(ks, x->endpoint, curve, cert, err)) == NULL) {
		fprintf(stderr, "crash-load: %s\n", err);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.acked_seq = acked;
	while (repat_client_connect(c, &o, CONNECT_MS, err) != 0) {
		if (++tries > 300) {
			fprintf(stderr, "crash-load: %s: %s\n", id, err);
			repat_client_destroy(&c);
			break;
		}
		bench_sleep_ns(100000000ULL);
	}
out:
	X509_free(cert);
	free(dir);
	return c;
}

static int
seal_next(const struct repat_keystore *ks, X509 *to_enc, const char *to_cc,
    const char *to, unsigned n, uint8_t **out, size_t *len)
{
	struct repat_message_spec spec;
	ProtobufCMessage *form = NULL;
	char err[REPAT_ERRBUF_LEN], case_ref[32];
	uint8_t id[16];
	struct tm tm;
	time_t now = time(NULL);
	int rc;

	if ((rc = bench_notice_form(to_cc, &form)) != 0)
		return rc;
	gmtime_r(&now, &tm);
	snprintf(case_ref, sizeof(case_ref), "%s-%04d-%06u", ks->id.country,
	    tm.tm_year + 1900, n % 1000000);
	memset(&spec, 0, sizeof(spec));
	spec.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE;
	spec.case_ref = case_ref;
	spec.recipient = to;
	spec.form = form;
	rc = repat_envelope_seal(ks, to_enc, &spec, repat_now_ms(), out, len,
	    id, err);
	repat_form_free(form);
	if (rc != 0)
		fprintf(stderr, "crash-load: seal: %s\n", err);
	return rc;
}

/* Drains notices (delivered) so the sender's stream keeps moving. */
static void
drain_notices(repat_client_t *c)
{
	struct repat_client_event ev;
	char err[REPAT_ERRBUF_LEN];
	uint64_t last = 0;

	while (repat_client_next_event(c, 0, &ev) == 0) {
		if (ev.kind != REPAT_EVENT_BYE)
			last = ev.seq;
		repat_client_event_clear(&ev);
	}
	if (last > 0)
		(void)repat_client_ack(c, last, err);
}

static void
log_receipts(struct crash_ctx *x, struct repat_submit_item *it, size_t n,
    bool *done)
{
	char hex[33];
	size_t i;

	pthread_mutex_lock(&x->lock);
	for (i = 0; i < n; i++) {
		/* A resubmitted, already logged item is receipted again. */
		if (!it[i].answered || done[i]) {
			free(it[i].result.receipt);
			it[i].result.receipt = NULL;
			continue;
		}
		if (it[i].result.receipted) {
			done[i] = true;
			repat_hex(it[i].result.message_id, 16, hex);
			fprintf(x->receipted, "%s\n", hex);
			x->nreceipted++;
		} else {
			/* Refused (e.g. storage): sent again next round. */
			if (x->nrejected++ < 3)
				fprintf(stderr, "crash-load: refused (code "
				    "%d): %s\n", it[i].result.code,
				    it[i].result.reason);
		}
		free(it[i].result.receipt);
		it[i].result.receipt = NULL;
	}
	fflush(x->receipted);
	pthread_mutex_unlock(&x->lock);
}

static void *
sender(void *arg)
{
	struct crash_peer *p = arg;
	struct crash_ctx *x = p->x;
	struct repat_keystore ks, rks;
	struct repat_submit_item it[BATCH];
	uint8_t *env[BATCH];
	size_t len[BATCH], i, n;
	bool done[BATCH];
	char err[REPAT_ERRBUF_LEN], *rdir;
	repat_client_t *c;
	unsigned seq = (unsigned)(rand() % 500000);
	uint64_t pause = x->rate > 0 ? (uint64_t)(BATCH * 1e9 / x->rate) : 0;
	int rc;

	memset(&ks, 0, sizeof(ks));
	memset(&rks, 0, sizeof(rks));
	rdir = repat_xasprintf("%s/agents/%s", x->region, p->to);
	rc = repat_keystore_load(rdir, NULL, &rks, err);
	free(rdir);
	if (rc != 0 || (c = connect_agent(x, p->from, &ks, 0, true)) == NULL)
		goto fail;
	while (!stop_requested(x)) {
		for (n = 0; n < BATCH; n++) {
			if (seal_next(&ks, rks.enc_cert, rks.id.country, p->to,
			    seq++, &env[n], &len[n]) != 0)
				goto fail;
			memset(&it[n], 0, sizeof(it[n]));
			it[n].bytes = env[n];
			it[n].len = len[n];
			done[n] = false;
		}
		/* Until every one of them is receipted: same bytes again. */
		for (;;) {
			rc = repat_client_submit_batch(c, it, n, BATCH, 300,
			    1500, err);
			log_receipts(x, it, n, done);
			for (i = 0; i < n && done[i]; i++)
				;
			if (i == n)
				break;
			if (rc != 0) {
				repat_client_close(c);
				bench_sleep_ns(50000000ULL);
				(void)repat_client_connect(c, NULL, CONNECT_MS,
				    err);
			}
		}
		for (i = 0; i < n; i++)
			free(env[i]);
		drain_notices(c);
		if (pause > 0)
			bench_sleep_ns(pause);
	}
	repat_client_destroy(&c);
	repat_keystore_clear(&ks);
	repat_keystore_clear(&rks);
	pthread_mutex_lock(&x->lock);
	x->senders_left--;
	pthread_mutex_unlock(&x->lock);
	return NULL;
fail:
	pthread_mutex_lock(&x->lock);
	x->failed = true;
	x->senders_left--;
	pthread_mutex_unlock(&x->lock);
	repat_keystore_clear(&ks);
	repat_keystore_clear(&rks);
	return NULL;
}

static bool
consumer_done(struct crash_ctx *x, uint64_t *idle_since)
{
	bool done;

	pthread_mutex_lock(&x->lock);
	done = x->senders_left == 0 && x->ndelivered >= x->nreceipted;
	if (x->senders_left == 0 && *idle_since == 0)
		*idle_since = bench_ns();
	if (*idle_since != 0 && bench_ns() - *idle_since >
	    (uint64_t)x->timeout_s * 1000000000ULL) {
		fprintf(stderr, "crash-load: %zu receipted, %zu delivered "
		    "after %d s of drain: giving up\n", x->nreceipted,
		    x->ndelivered, x->timeout_s);
		done = true;
	}
	pthread_mutex_unlock(&x->lock);
	return done;
}

/* Stores one delivery (the application's commit), before its ack. */
static void
store_delivery(struct crash_ctx *x, const struct repat_client_event *ev,
    const char *self)
{
	char hex[33];

	pthread_mutex_lock(&x->lock);
	if (ev->v.verified && ev->v.header != NULL) {
		repat_hex(ev->v.header->message_id.data, 16, hex);
		fprintf(x->delivered, "%s %s %llu\n", hex, self,
		    (unsigned long long)ev->seq);
		x->ndelivered++;
	} else {
		fprintf(x->delivered, "UNVERIFIED %s %llu %s\n", self,
		    (unsigned long long)ev->seq, ev->verify_error);
	}
	fflush(x->delivered);
	pthread_mutex_unlock(&x->lock);
}

static void *
consumer(void *arg)
{
	struct crash_peer *p = arg;
	struct crash_ctx *x = p->x;
	struct repat_client_event ev;
	struct repat_keystore ks;
	char err[REPAT_ERRBUF_LEN];
	repat_client_t *c;
	uint64_t stored = 0, acked = 0, idle = 0;
	int rc;

	memset(&ks, 0, sizeof(ks));
	if ((c = connect_agent(x, p->self, &ks, 0, true)) == NULL)
		goto fail;
	while (!consumer_done(x, &idle)) {
		rc = repat_client_next_event(c, 200, &ev);
		if (rc == REPAT_ETIMEOUT) {
			if (stored > acked &&
			    repat_client_ack(c, stored, err) == 0)
				acked = stored;
			continue;
		}
		if (rc != 0 || ev.kind == REPAT_EVENT_BYE) {
			if (rc == 0)
				repat_client_event_clear(&ev);
			repat_client_destroy(&c);
			/* What we stored is what the broker may forget. */
			if ((c = connect_agent(x, p->self, &ks, stored,
			    false)) == NULL)
				goto fail;
			acked = stored;
			continue;
		}
		if (ev.seq > stored) {
			if (ev.kind == REPAT_EVENT_DELIVER)
				store_delivery(x, &ev, p->self);
			stored = ev.seq;
		}
		repat_client_event_clear(&ev);
		if (stored >= acked + 16 && repat_client_ack(c, stored,
		    err) == 0)
			acked = stored;
	}
	if (stored > acked)
		(void)repat_client_ack(c, stored, err);
	repat_client_destroy(&c);
	repat_keystore_clear(&ks);
	return NULL;
fail:
	pthread_mutex_lock(&x->lock);
	x->failed = true;
	pthread_mutex_unlock(&x->lock);
	repat_keystore_clear(&ks);
	return NULL;
}

/* ------------------------------------------------------------ verify */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the first word of every line; *n lines. */
static char **
read_ids(const char *path, size_t *n, size_t *unverified)
{
	char line[512], **v = NULL, *sp;
	size_t cap = 0;
	FILE *f;

	*n = 0;
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((sp = strpbrk(line, " \n")) != NULL)
			*sp = '\0';
		if (strcmp(line, "UNVERIFIED") == 0) {
			if (unverified != NULL)
				(*unverified)++;
			continue;
		}
		if (strlen(line) != 32)
			continue;	/* no torn lines: never killed */
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = repat_xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = repat_xstrdup(line);
	}
	fclose(f);
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static int
verify(const char *state)
{
	char *rp = repat_xasprintf("%s/receipted.log", state);
	char *dp = repat_xasprintf("%s/delivered.log", state);
	char **r, **d;
	size_t nr, nd, i = 0, j = 0, missing = 0, dup = 0, extra = 0;
	size_t unverified = 0, rdup = 0;
	int rc;

	r = read_ids(rp, &nr, NULL);
	d = read_ids(dp, &nd, &unverified);
	while (i < nr || j < nd) {
		int c = i == nr ? 1 : j == nd ? -1 : strcmp(r[i], d[j]);

		if (i + 1 < nr && c <= 0 && strcmp(r[i], r[i + 1]) == 0) {
			rdup++;
			i++;
			continue;
		}
		if (c == 0) {
			i++;
			j++;
			while (j < nd && strcmp(d[j], d[j - 1]) == 0) {
				if (dup++ < 5)
					printf("delivered twice: %s\n", d[j]);
				j++;
			}
		} else if (c < 0) {
			if (missing++ < 5)
				printf("receipted, never delivered: %s\n",
				    r[i]);
			i++;
		} else {
			if (extra++ < 5)
				printf("delivered, never receipted: %s\n",
				    d[j]);
			j++;
		}
	}
	printf("crash-verify: %zu receipted, %zu deliveries: %zu missing, "
	    "%zu duplicated, %zu not receipted, %zu unverified, %zu receipted "
	    "twice\n", nr, nd, missing, dup, extra, unverified, rdup);
	rc = nr > 0 && missing == 0 && dup == 0 && extra == 0 &&
	    unverified == 0 && rdup == 0 ? 0 : 1;
	for (i = 0; i < nr; i++)
		free(r[i]);
	for (i = 0; i < nd; i++)
		free(d[i]);
	free(r);
	free(d);
	free(rp);
	free(dp);
	return rc;
}

/* ------------------------------------------------------------ fill */

/*
 * repat-bench fill --region DIR [--from ID --to ID] [--count N]
 * [--timeout S]: submits up to N messages one at a time (N = 0: until
 * refused), waiting up to S seconds (default 5) for each answer, and
 * prints one line: "receipted R refused CODE_NAME: reason" or
 * "receipted R timeout". Exit 0 when all N were receipted, 3 when
 * refused, 4 on a timeout (no answer: the broker dropped the submit).
 * With --drain it connects as --to instead and counts verified
 * deliveries until 1.5 s pass without one ("delivered D").
 */
static int
fill(struct crash_ctx *x, const char *from, const char *to, long count,
    bool drain)
{
	struct repat_submit_result res;
	struct repat_client_event ev;
	struct repat_keystore ks, rks;
	char err[REPAT_ERRBUF_LEN], *rdir;
	repat_client_t *c = NULL;
	uint8_t *env;
	size_t len;
	long n = 0, seq = 0;
	unsigned base = (unsigned)(bench_ns() / 1000) % 900000;
	int rc = 1;

	memset(&ks, 0, sizeof(ks));
	memset(&rks, 0, sizeof(rks));
	if (drain) {
		if ((c = connect_agent(x, to, &ks, 0, true)) == NULL)
			goto out;
		while (repat_client_next_event(c, 1500, &ev) == 0) {
			if (ev.kind == REPAT_EVENT_DELIVER && ev.v.verified)
				n++;
			seq = (long)ev.seq;
			repat_client_event_clear(&ev);
			if (seq % 16 == 0)
				(void)repat_client_ack(c, (uint64_t)seq, err);
		}
		if (seq > 0)
			(void)repat_client_ack(c, (uint64_t)seq, err);
		printf("delivered %ld\n", n);
		rc = 0;
		goto out;
	}
	rdir = repat_xasprintf("%s/agents/%s", x->region, to);
	rc = repat_keystore_load(rdir, NULL, &rks, err);
	free(rdir);
	if (rc != 0 || (c = connect_agent(x, from, &ks, 0, true)) == NULL) {
		rc = 1;
		goto out;
	}
	for (n = 0; count == 0 || n < count; n++) {
		if (seal_next(&ks, rks.enc_cert, rks.id.country, to,
		    base + (unsigned)n, &env, &len) != 0) {
			rc = 1;
			goto out;
		}
		rc = repat_client_submit(c, env, len, x->timeout_s * 1000, &res,
		    err);
		free(env);
		free(res.receipt);
		if (rc != 0) {
			printf("receipted %ld timeout: %s\n", n, err);
			rc = 4;
			goto out;
		}
		if (!res.receipted) {
			printf("receipted %ld refused %s: %s\n", n,
			    res.code == 0 ? "?" :
			    repat_reject_code_name(res.code), res.reason);
			rc = 3;
			goto out;
		}
	}
	printf("receipted %ld\n", n);
	rc = 0;
out:
	repat_client_destroy(&c);
	repat_keystore_clear(&ks);
	repat_keystore_clear(&rks);
	return rc;
}

/* ------------------------------------------------------------ main */

static int
crash_load(struct crash_ctx *x)
{
	struct crash_peer peers[2] = {
		{ x, "TH.DATIP", "MM.DSW", "MM.DSW" },
		{ x, "MM.DNR", "TH.WPC.PATHUMTHANI", "TH.WPC.PATHUMTHANI" },
	};
	pthread_t s[2], c[2];
	char *conf, *p;
	int i;

	conf = repat_xasprintf("%s/broker/broker.conf", x->region);
	if (bench_conf_endpoint(conf, x->endpoint, sizeof(x->endpoint)) != 0) {
		fprintf(stderr, "crash-load: %s: no endpoint\n", conf);
		free(conf);
		return 1;
	}
	free(conf);
	p = repat_xasprintf("%s/receipted.log", x->state);
	x->receipted = fopen(p, "a");
	free(p);
	p = repat_xasprintf("%s/delivered.log", x->state);
	x->delivered = fopen(p, "a");
	free(p);
	if (x->receipted == NULL || x->delivered == NULL) {
		fprintf(stderr, "crash-load: %s: %s\n", x->state,
		    strerror(errno));
		return 1;
	}
	pthread_mutex_init(&x->lock, NULL);
	x->senders_left = 2;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (i = 0; i < 2; i++) {
		pthread_create(&c[i], NULL, consumer, &peers[i]);
		pthread_create(&s[i], NULL, sender, &peers[i]);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(s[i], NULL);
		pthread_join(c[i], NULL);
	}
	fclose(x->receipted);
	fclose(x->delivered);
	pthread_mutex_destroy(&x->lock);
	printf("crash-load: %zu receipted, %zu delivered, %zu refused and "
	    "sent again%s\n", x->nreceipted, x->ndelivered, x->nrejected,
	    x->failed ? " (a thread gave up)" : "");
	if (x->failed)
		return 1;
	return verify(x->state);
}

int
crash_main(int argc, char **argv, const char *bindir)
{
	static const struct option lo[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'n' },
		{ "drain", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct crash_ctx x;
	const char *from = "TH.DATIP", *to = "MM.DSW";
	long count = 0;
	bool drain = false;
	int ch;

	(void)bindir;
	memset(&x, 0, sizeof(x));
	x.rate = 400;
	x.timeout_s = strcmp(argv[0], "fill") == 0 ? 5 : 30;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'r': x.region = optarg; break;
		case 's': x.state = optarg; break;
		case 'R': x.rate = atof(optarg); break;
		case 't': x.timeout_s = atoi(optarg); break;
		case 'f': from = optarg; break;
		case 'o': to = optarg; break;
		case 'n': count = atol(optarg); break;
		case 'd': drain = true; break;
		default: goto usage;
		}
	}
	if (strcmp(argv[0], "fill") == 0 && x.region != NULL &&
	    optind == argc) {
		char *conf = repat_xasprintf("%s/broker/broker.conf", x.region);
		int rc = bench_conf_endpoint(conf, x.endpoint,
		    sizeof(x.endpoint));

		free(conf);
		return rc != 0 ? 1 : fill(&x, from, to, count, drain);
	}
	if (x.state == NULL || optind != argc)
		goto usage;
	if (strcmp(argv[0], "crash-verify") == 0)
		return verify(x.state);
	if (strcmp(argv[0], "crash-load") == 0 && x.region != NULL)
		return crash_load(&x);
usage:
	fprintf(stderr, "usage: repat-bench crash-load --region DIR "
	    "--state DIR [--rate N] [--timeout S]\n"
	    "       repat-bench crash-verify --state DIR\n"
	    "       repat-bench fill --region DIR [--from ID] [--to ID] "
	    "[--count N] [--timeout S (5)] [--drain]\n"
	    "example (tests/crash/crashtest.sh does this):\n"
	    "  repat-bench crash-load --region /tmp/r --state /tmp/s &\n"
	    "  ... kill -9 the broker, restart it ...; touch /tmp/s/stop\n");
	return 2;
}
