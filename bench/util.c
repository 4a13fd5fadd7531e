/*
 * util.c: what repat-bench's modes share: clocks, the test region (made
 * by the sibling `repat region init`, so the bench exercises the same
 * set-up code as everyone else), the broker as a child process, and the
 * /proc readings (CPU, peak RSS) the report is built from.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/form.h"
#include "repat/mem.h"

static const char *const countries[] = {
	"TH", "MM", "KH", "LA", "VN", "CN", "MY", "ID", "PH", "SG",
	"BN", "BD", "IN", "NP", "LK", "PK"
};
#define NCOUNTRIES (sizeof(countries) / sizeof(countries[0]))

uint64_t
bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
bench_sleep_ns(uint64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

char *
bench_bindir(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	if (slash == NULL)
		return repat_xstrdup(".");
	return repat_xasprintf("%.*s", (int)(slash - argv0), argv0);
}

int
bench_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd, port = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int
run_quiet(char *const argv[], const char *log)
{
	pid_t pid;
	int st, fd;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char **
bench_agent_ids(int n, int m)
{
	char **ids = repat_xcalloc((size_t)n, sizeof(*ids));
	int i;

	for (i = 0; i < n; i++)
		ids[i] = repat_xasprintf("%s.BENCH%d",
		    countries[i % m % (int)NCOUNTRIES], i);
	return ids;
}

int
bench_conf_endpoint(const char *conf, char *out, size_t len)
{
	char line[512], ep[256];
	int rc = -1;
	FILE *f;

	if ((f = fopen(conf, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " endpoint = %255s", ep) == 1) {
			snprintf(out, len, "%s", ep);
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

int
bench_region(const char *bindir, const char *dir, int port, int n, int m,
    char ***ids_out)
{
	char *spec, *specpath, *repat, *out, *log, portbuf[16], **ids;
	size_t cap, len;
	FILE *f;
	int i, rc;

	if (m < 1 || (size_t)m > NCOUNTRIES || n < 1 || n > 999) {
		fprintf(stderr, "repat-bench: --countries wants 1 to %zu and "
		    "--agents 1 to 999\n", NCOUNTRIES);
		return -1;
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "repat-bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	ids = bench_agent_ids(n, m);
	cap = 4096 + (size_t)n * 80;
	spec = repat_xmalloc(cap);
	len = (size_t)snprintf(spec, cap, "{\"name\": \"bench\", "
	    "\"passphrase\": false, \"days\": 30, \"countries\": [");
	for (i = 0; i < m; i++)
		len += (size_t)snprintf(spec + len, cap - len, "%s\"%s\"",
		    i ? ", " : "", countries[i]);
	len += (size_t)snprintf(spec + len, cap - len, "], \"broker\": "
	    "{\"id\": \"%s.BROKER\", \"port\": %d}, \"agents\": [",
	    countries[0], port);
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(spec + len, cap - len,
		    "%s{\"id\": \"%s\", \"role\": \"focal_point\"}",
		    i ? ", " : "", ids[i]);
	}
	snprintf(spec + len, cap - len, "]}\n");
	specpath = repat_xasprintf("%s/region.json", dir);
	if ((f = fopen(specpath, "w")) == NULL || fputs(spec, f) < 0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "repat-bench: cannot write %s\n", specpath);
		rc = -1;
		goto out;
	}
	repat = repat_xasprintf("%s/repat", bindir);
	out = repat_xasprintf("%s/r", dir);
	log = repat_xasprintf("%s/region.log", dir);
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	{
		char *argv[] = { repat, "region", "init", "--out", out,
		    "--spec", specpath, "--port", portbuf, NULL };

		rc = run_quiet(argv, log);
	}
	if (rc != 0) {
		fprintf(stderr, "repat-bench: `repat region init` failed "
		    "(see %s)\n", log);
		rc = -1;
	}
	free(repat);
	free(out);
	free(log);
out:
	free(spec);
	free(specpath);
	if (rc != 0) {
		for (i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		return -1;
	}
	*ids_out = ids;
	return 0;
}

/* One bilateral agreement between countries a and b, signed by both. */
static int
agreement_pair(const char *bindir, const char *top, int n, int m, int a,
    int b)
{
	const char *cc[2] = { countries[a], countries[b] };
	char *path, *repat, *log, *dir, *text;
	size_t cap = 4096 + (size_t)n * 40, len;
	int i, k, rc = 0;
	FILE *f;

	text = repat_xmalloc(cap);
	len = (size_t)snprintf(text, cap, "{\"id\": \"BENCH-%s-%s\", "
	    "\"title\": \"repat-bench agreement %s-%s\", "
	    "\"legal_reference\": \"none: a benchmark region\", "
	    "\"kind\": \"bilateral\", \"parties\": [\"%s\", \"%s\"], "
	    "\"in_force_from\": \"2020-01-01\", \"focal_points\": {",
	    cc[0], cc[1], cc[0], cc[1], cc[0], cc[1]);
	for (k = 0; k < 2; k++) {
		len += (size_t)snprintf(text + len, cap - len,
		    "%s\"%s\": {\"focal_point\": [", k ? ", " : "", cc[k]);
		for (i = k ? b : a; i < n; i += m)
			len += (size_t)snprintf(text + len, cap - len,
			    "%s\"%s.BENCH%d\"", i == (k ? b : a) ? "" : ", ",
			    cc[k], i);
		len += (size_t)snprintf(text + len, cap - len, "]}");
	}
	snprintf(text + len, cap - len, "}, \"sop\": {\"flows\": [{"
	    "\"types\": [\"identification_notice\"], \"from\": "
	    "\"focal_point\", \"to\": \"focal_point\"}]}, "
	    "\"retention_days\": 30}\n");
	path = repat_xasprintf("%s/r/broker/agreements/BENCH-%s-%s.json", top,
	    cc[0], cc[1]);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "repat-bench: cannot write %s\n", path);
		rc = -1;
	}
	repat = repat_xasprintf("%s/repat", bindir);
	log = repat_xasprintf("%s/agreements.log", top);
	for (k = 0; k < 2 && rc == 0; k++) {
		char *argv[] = { repat, "agreement", "sign", path, "--dir",
		    NULL, NULL };

		dir = repat_xasprintf("%s/r/agents/%s.BENCH%d", top, cc[k],
		    k ? b : a);
		argv[5] = dir;
		if (run_quiet(argv, log) != 0) {
			fprintf(stderr, "repat-bench: `repat agreement sign` "
			    "failed for %s (see %s)\n", cc[k], log);
			rc = -1;
		}
		free(dir);
	}
	free(repat);
	free(log);
	free(path);
	free(text);
	return rc;
}

int
bench_agreements(const char *bindir, const char *top, int n, int m)
{
	int i;

	if (m < 2)
		return 0;
	for (i = 0; i < (m == 2 ? 1 : m); i++)
		if (agreement_pair(bindir, top, n, m, i, (i + 1) % m) != 0)
			return -1;
	return 0;
}

int
bench_conf_set(const char *conf, const char *const *kv)
{
	char err[REPAT_ERRBUF_LEN], *out, *line, *save, *text;
	const char *const *p;
	uint8_t *buf;
	size_t len, cap, olen = 0, klen;
	bool skip;
	int rc;

	if (repat_file_read(conf, 1024 * 1024, &buf, &len, err) != 0) {
		fprintf(stderr, "repat-bench: %s\n", err);
		return -1;
	}
	text = repat_xmalloc(len + 1);
	memcpy(text, buf, len);
	text[len] = '\0';
	free(buf);
	cap = len + 4096;
	out = repat_xmalloc(cap);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		skip = false;
		for (p = kv; *p != NULL; p += 2) {
			klen = strlen(*p);
			if (strncmp(line, *p, klen) == 0 &&
			    (line[klen] == ' ' || line[klen] == '='))
				skip = true;
		}
		if (!skip)
			olen += (size_t)snprintf(out + olen, cap - olen, "%s\n",
			    line);
	}
	for (p = kv; *p != NULL; p += 2)
		olen += (size_t)snprintf(out + olen, cap - olen, "%s = %s\n",
		    p[0], p[1]);
	rc = repat_file_write(conf, out, olen, 0644, err);
	if (rc != 0)
		fprintf(stderr, "repat-bench: %s\n", err);
	free(out);
	free(text);
	return rc == 0 ? 0 : -1;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
bench_rmtree(const char *dir)
{
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

long
bench_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

pid_t
bench_broker_start(const char *bindir, const char *conf, const char *log)
{
	char *bin = repat_xasprintf("%s/repat-broker", bindir);
	pid_t pid;
	int fd;

	if ((pid = fork()) == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execl(bin, bin, "-c", conf, (char *)NULL);
		_exit(127);
	}
	free(bin);
	return pid;
}

int
bench_broker_wait(pid_t pid, const char *log, long offset, int timeout_ms)
{
	uint64_t deadline = bench_ns() + (uint64_t)timeout_ms * 1000000ULL;
	char buf[65536];
	ssize_t n;
	int fd, st;

	while (bench_ns() < deadline) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		if ((fd = open(log, O_RDONLY)) >= 0) {
			if (lseek(fd, offset, SEEK_SET) == offset &&
			    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
				buf[n] = '\0';
				if (strstr(buf, "listening on") != NULL) {
					close(fd);
					return 0;
				}
			}
			close(fd);
		}
		bench_sleep_ns(5000000);
	}
	return -1;
}

double
bench_proc_cpu(pid_t pid)
{
	char path[64], buf[4096], *p;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* After the ")" closing comm: state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long
status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0) {
			v = strtol(line + klen, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long long
bench_proc_written(pid_t pid)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

long
bench_proc_hwm(pid_t pid)
{
	return status_kb(pid, "VmHWM:");
}

long
bench_proc_rss(pid_t pid)
{
	return status_kb(pid, "VmRSS:");
}

int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_quantile(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

int
bench_agent_pins(const char *dir, char curve[41], X509 **cert)
{
	char err[REPAT_ERRBUF_LEN], *p;
	uint8_t *buf;
	size_t len;
	int rc;

	p = repat_xasprintf("%s/broker_curve.pub", dir);
	rc = repat_file_read(p, 256, &buf, &len, err);
	free(p);
	if (rc != 0 || len < 40) {
		if (rc == 0)
			free(buf);
		fprintf(stderr, "repat-bench: %s/broker_curve.pub: %s\n", dir,
		    rc ? err : "too short");
		return -1;
	}
	memcpy(curve, buf, 40);
	curve[40] = '\0';
	free(buf);
	p = repat_xasprintf("%s/broker.crt", dir);
	rc = repat_cert_load(p, cert, err);
	free(p);
	if (rc != 0) {
		fprintf(stderr, "repat-bench: %s\n", err);
		return -1;
	}
	return 0;
}

int
bench_notice_form(const char *cc, ProtobufCMessage **form)
{
	struct repat_form_report rep;
	char date[16], *json;
	time_t t = time(NULL) - 86400;
	struct tm tm;
	int rc;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	json = repat_xasprintf("{\"identified_on\": \"%s\", "
	    "\"identifying_body\": \"mdt\", \"presumed_nationality\": \"%s\", "
	    "\"is_child\": false, \"victim_objected_to_notification\": "
	    "false}", date, cc);
	memset(&rep, 0, sizeof(rep));
	rc = repat_form_from_json(
	    REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE, json,
	    strlen(json), form, &rep);
	free(json);
	return rc;
}
