/*
 * cmd_watch.c: `repat watch`: stay connected and react to each event.
 *
 * Without --exec it prints one line per delivery and notice. With --exec
 * CMD it runs CMD (through /bin/sh -c) for each delivered message, the
 * form JSON on its standard input and the header in REPAT_* environment
 * variables, and acks the message only when CMD exits 0. A failing CMD
 * holds the ack (acks are cumulative, so nothing after it is acked
 * either): watch drops the connection, waits, reconnects, and the broker
 * delivers the message again. The form is handed over through a pipe and
 * never written to disk by repat.
 *
 * Unattended (dist/systemd/repat-agent@.service): the passphrase comes
 * from --passphrase-file or REPAT_PASSPHRASE; lost connections are retried
 * with exponential backoff; SIGTERM stops it between events.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "session.h"
#include "repat/codec.h"
#include "repat/describe.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/form.h"
#include "repat/mem.h"

#define BACKOFF_MAX_S	60	/* longest wait between reconnects */
/*
 * An idle connection is checked this often. Short, because another
 * process connecting as the same agent (`repat case`) takes the session
 * over, and the broker then ignores this connection until it says hello
 * again.
 */
#define PING_EVERY_MS	10000
/*
 * The directory, and the CRLs it carries, are fetched at every connect and
 * again this often: a watch may stay connected for longer than a CRL's
 * validity, and a revocation should reach it within minutes.
 */
#define DIRECTORY_EVERY_MS	(15 * 60 * 1000)

static const char watch_help[] =
"usage: repat watch [--exec CMD] [--exec-timeout S] [--once]\n"
"                   [--retry-seconds N] [--dir AGENTDIR]\n"
"                   [--passphrase-file F] [--json]\n"
"\n"
"Stays connected to the broker and prints each delivery and notice as it\n"
"arrives (--json: one JSON object per line). Submits the outbox whenever\n"
"it connects. Refreshes the directory and the CRLs (as `repat sync` does)\n"
"when it connects and every 15 minutes. Reconnects with backoff when the\n"
"broker goes away.\n"
"\n"
"--exec CMD runs CMD with /bin/sh for every delivered message: the form\n"
"JSON on standard input; REPAT_MESSAGE_ID, REPAT_TYPE, REPAT_CASE,\n"
"REPAT_SENDER, REPAT_RECIPIENT, REPAT_CREATED, REPAT_EXPIRES, REPAT_SEQ,\n"
"REPAT_IN_REPLY_TO, REPAT_COPY_OF, REPAT_AMENDS, REPAT_SENDER_OPERATOR\n"
"and REPAT_HEADER_JSON in its environment. The message is acknowledged\n"
"only when CMD exits 0; otherwise watch waits --retry-seconds (default\n"
"10), reconnects and the message is delivered again. A command running\n"
"longer than --exec-timeout seconds (default 300, 0: no limit) is stopped\n"
"and counts as failed. Messages that do not verify are quarantined, never\n"
"given to CMD.\n"
"\n"
"One agent keeps one connection: while a watch runs, `repat send` and\n"
"`repat sync` for the same agent leave the broker to it.\n"
"\n"
"--once: process what is waiting, then exit (0 all done, 1 a command\n"
"failed, 3 broker unreachable). For unattended use give the passphrase\n"
"with --passphrase-file or REPAT_PASSPHRASE.\n"
"\n"
"example:\n"
"  repat watch --dir region/agents/MM.DSW \\\n"
"      --exec 'python3 /opt/casefile/import.py'\n";

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct watch {
	const char *exec;	/* --exec CMD or NULL */
	bool json;		/* one JSON object per event */
	long timeout_s;		/* --exec-timeout, 0: none */
	int failed_status;	/* the last failing command's exit status */
};

static void
print_event(struct agent_session *s, const struct repat_client_event *ev,
    void *arg)
{
	struct watch *w = arg;
	const Repat__Header *h = ev->v.header;
	const Repat__NoticeBody *n = ev->notice_body;
	char now[32], hex[33], *hj;
	json_t *o;

	(void)s;
	repat_time_iso(repat_now_ms(), now, sizeof(now));
	if (w->json) {
		o = json_object();
		json_object_set_new(o, "time", json_string(now));
		json_object_set_new(o, "seq",
		    json_integer((json_int_t)ev->seq));
		if (ev->kind == REPAT_EVENT_DELIVER) {
			json_object_set_new(o, "event", json_string("deliver"));
			json_object_set_new(o, "verified",
			    json_boolean(ev->v.verified));
			if (h != NULL) {
				hj = repat_header_json(h);
				json_object_set_new(o, "header",
				    json_loads(hj, 0, NULL));
				free(hj);
			}
		} else {
			json_object_set_new(o, "event", json_string("notice"));
			json_object_set_new(o, "verified",
			    json_boolean(ev->notice_verified));
			if (n != NULL)
				json_object_set_new(o, "kind", json_integer(
				    n->kind));
		}
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		fflush(stdout);
		json_decref(o);
		return;
	}
	if (ev->kind == REPAT_EVENT_DELIVER && h != NULL)
		printf("%s  deliver  %s %s from %s %s%s\n", now, h->case_ref,
		    repat_message_type_name(h->type), h->sender,
		    repat_hex(h->message_id.data, 16, hex),
		    ev->v.verified ? "" : "  NOT TRUSTWORTHY (quarantined)");
	else if (ev->kind == REPAT_EVENT_DELIVER)
		printf("%s  deliver  seq %llu NOT TRUSTWORTHY (quarantined): "
		    "%s\n", now, (unsigned long long)ev->seq,
		    ev->verify_error);
	else if (n != NULL)
		printf("%s  notice   %s%s%s%s\n", now, n->case_ref ?
		    n->case_ref : "", n->case_ref ? " " : "",
		    protobuf_c_enum_descriptor_get_value(
		    &repat__notice_kind__descriptor, (int)n->kind) ?
		    protobuf_c_enum_descriptor_get_value(
		    &repat__notice_kind__descriptor, (int)n->kind)->name + 7 :
		    "UNKNOWN", ev->notice_verified ? "" : " (UNVERIFIED)");
	fflush(stdout);
}

static void
set_id_env(const char *name, protobuf_c_boolean has,
    const ProtobufCBinaryData *b)
{
	char hex[33];

	if (has && b->len == 16)
		setenv(name, repat_hex(b->data, 16, hex), 1);
	else
		unsetenv(name);
}

/* In the child: the header into the environment, then the command. */
static void
exec_child(const char *cmd, int in_fd, const struct repat_client_event *ev,
    const char *op)
{
	const Repat__Header *h = ev->v.header;
	char buf[32], *hj;

	/* Its own process group, so a timeout stops what it started too. */
	(void)setpgid(0, 0);
	if (dup2(in_fd, STDIN_FILENO) < 0)
		_exit(127);
	close(in_fd);
	signal(SIGPIPE, SIG_DFL);
	set_id_env("REPAT_MESSAGE_ID", 1, &h->message_id);
	setenv("REPAT_TYPE", repat_message_type_name(h->type), 1);
	setenv("REPAT_CASE", h->case_ref, 1);
	setenv("REPAT_SENDER", h->sender, 1);
	setenv("REPAT_RECIPIENT", h->recipient, 1);
	setenv("REPAT_CREATED", repat_time_iso(h->created_ms, buf,
	    sizeof(buf)), 1);
	setenv("REPAT_EXPIRES", repat_time_iso(h->expires_ms, buf,
	    sizeof(buf)), 1);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ev->seq);
	setenv("REPAT_SEQ", buf, 1);
	set_id_env("REPAT_IN_REPLY_TO", h->has_in_reply_to, &h->in_reply_to);
	set_id_env("REPAT_COPY_OF", h->has_copy_of, &h->copy_of);
	set_id_env("REPAT_AMENDS", h->has_amends, &h->amends);
	if (op != NULL)
		setenv("REPAT_SENDER_OPERATOR", op, 1);
	else
		unsetenv("REPAT_SENDER_OPERATOR");
	hj = repat_header_json(h);
	setenv("REPAT_HEADER_JSON", hj, 1);
	free(hj);
	/* The command must not inherit the passphrase. */
	unsetenv("REPAT_PASSPHRASE");
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Feeds text to fd (non-blocking) until done, the reader stops, or late. */
static void
feed(int fd, const char *text, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	size_t len = strlen(text), off = 0;
	ssize_t w;

	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (off < len && repat_now_ms() < deadline) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		w = write(fd, text + off, len - off);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			break;	/* the command stopped reading: its business */
		off += (size_t)w;
	}
}

/* Waits for pid until deadline, then kills it; its wait status, or -1. */
static int
reap(pid_t pid, uint64_t deadline, bool *killed)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000000L };
	int status, sig = SIGTERM;
	pid_t r;

	*killed = false;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (repat_now_ms() >= deadline) {
			/* TERM first; KILL when it ignores that for 5 s. */
			kill(-pid, sig);
			*killed = true;
			sig = SIGKILL;
			deadline = repat_now_ms() + 5000;
		}
		nanosleep(&ts, NULL);
	}
}

/*
 * Runs cmd with text on its stdin, for at most timeout_s seconds (0: no
 * limit); its wait status, or -1 when it could not be run.
 */
static int
run_command(const char *cmd, const char *text,
    const struct repat_client_event *ev, const char *op, long timeout_s,
    bool *killed)
{
	uint64_t deadline = timeout_s > 0 ?
	    repat_now_ms() + (uint64_t)timeout_s * 1000 : UINT64_MAX;
	pid_t pid;
	int fds[2];

	*killed = false;
	if (pipe(fds) != 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		exec_child(cmd, fds[0], ev, op);
	}
	(void)setpgid(pid, pid);	/* no race with the child's own call */
	close(fds[0]);
	feed(fds[1], text, deadline);
	close(fds[1]);
	return reap(pid, deadline, killed);
}

static bool
already_done(struct agent_session *s, const uint8_t id[16])
{
	struct ls_msg m;
	bool done = false;

	if (local_store_find(s->store, id, &m) == REPAT_OK) {
		done = m.exec_done;
		free(m.envelope);
	}
	return done;
}

/* The --exec hook: 0 acks the message, non-zero holds the ack. */
static int
exec_hook(struct agent_session *s, const struct repat_client_event *ev,
    bool is_new, void *arg)
{
	struct watch *w = arg;
	struct repat_form_report report;
	ProtobufCMessage *form = NULL;
	const Repat__Header *h = ev->v.header;
	char err[REPAT_ERRBUF_LEN] = "", *op = NULL, *text = NULL, hex[33];
	bool killed;
	int status, rc = 0;

	if (!ev->v.verified || h == NULL ||
	    strcmp(h->recipient, s->agent_id) != 0)
		return 0;	/* quarantined in the inbox; never to CMD */
	if (!is_new && already_done(s, h->message_id.data))
		return 0;
	repat_hex(h->message_id.data, 16, hex);
	memset(&report, 0, sizeof(report));
	if (repat_envelope_open(&s->ks, &ev->v, &form, &op, &report, err) !=
	    REPAT_OK) {
		fprintf(stderr, "repat watch: message %s is NOT TRUSTWORTHY "
		    "and was not given to the command: %s\n", hex, err);
		return 0;
	}
	text = repat_form_to_json(form);
	status = run_command(w->exec, text, ev, op, w->timeout_s, &killed);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		(void)local_store_inbox_mark_exec(s->store, h->message_id.data);
		(void)local_store_view_log(s->store, h->message_id.data,
		    h->case_ref, "watch --exec", w->exec, repat_now_ms(), err);
	} else {
		w->failed_status = status;
		fprintf(stderr, "repat watch: the command %s for message %s; "
		    "not acknowledged, it will be delivered again\n",
		    status == -1 ? "could not be run" : killed ? "took longer "
		    "than --exec-timeout and was stopped" : WIFEXITED(status) ?
		    "failed" : "was killed", hex);
		rc = 1;
	}
	repat_free_secret(text, strlen(text));
	if (op != NULL)
		repat_free_secret(op, strlen(op));
	repat_form_free(form);
	return rc;
}

static void
sleep_s(int seconds)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
	int i;

	for (i = 0; i < seconds && !stopping; i++)
		nanosleep(&ts, NULL);
}

/* Refreshes the directory and its CRLs; failures are only said. */
static void
refresh_directory(struct agent_session *s)
{
	struct session_directory sd;
	char err[REPAT_ERRBUF_LEN] = "";

	if (session_refresh_directory(s, &sd, err) != REPAT_OK)
		fprintf(stderr, "repat watch: directory not refreshed: %s\n",
		    err);
	else if (sd.crls_updated > 0)
		fprintf(stderr, "repat watch: %zu CRL%s updated from the "
		    "broker\n", sd.crls_updated,
		    sd.crls_updated == 1 ? "" : "s");
}

/* One connected period: flush, receive, ping; returns why it ended. */
static int
connected(struct agent_session *s, struct watch *w, bool once,
    struct session_stats *st, bool *held)
{
	char err[REPAT_ERRBUF_LEN] = "";
	uint64_t last_ping = repat_now_ms(), last_dir, t;
	int rc;

	if ((rc = session_flush(s, st, true)) != REPAT_EXIT_OK)
		return rc;
	refresh_directory(s);
	last_dir = repat_now_ms();
	while (!stopping) {
		rc = session_receive(s, once ? 1500 : 1000, st,
		    w->exec ? exec_hook : NULL, w, print_event, held);
		/* An alarm is raised and said; the watch keeps delivering. */
		if (rc == REPAT_EXIT_OK && session_cross_check(s) !=
		    REPAT_EXIT_OK && once)
			rc = REPAT_EXIT_UNTRUSTED;
		if (rc != REPAT_EXIT_OK || once)
			return rc;
		/* What `repat send` left for this watch to submit. */
		if ((rc = session_flush(s, st, true)) != REPAT_EXIT_OK)
			return rc;
		if (repat_now_ms() - last_dir > DIRECTORY_EVERY_MS) {
			refresh_directory(s);
			last_dir = repat_now_ms();
		}
		if (repat_now_ms() - last_ping > PING_EVERY_MS) {
			if (repat_client_ping(s->client, s->timeout_ms, &t,
			    err) != REPAT_OK) {
				repat_client_destroy(&s->client);
				return REPAT_EXIT_QUEUED;
			}
			last_ping = repat_now_ms();
		}
	}
	return REPAT_EXIT_OK;
}

static int
watch_loop(struct agent_session *s, struct watch *w, bool once, int retry)
{
	struct session_stats st;
	bool held = false;
	int rc, backoff = 1;

	memset(&st, 0, sizeof(st));
	while (!stopping) {
		rc = session_connect(s);
		if (rc == REPAT_EXIT_QUEUED) {
			if (once)
				return cli_fail("watch", rc, "the broker is "
				    "unreachable");
			fprintf(stderr, "repat watch: the broker is "
			    "unreachable; trying again in %d s\n", backoff);
			sleep_s(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S :
			    backoff * 2;
			continue;
		}
		if (rc != REPAT_EXIT_OK)
			return rc;
		if (!once && !w->json)
			fprintf(stderr, "repat watch: connected as %s\n",
			    s->agent_id);
		backoff = 1;
		rc = connected(s, w, once, &st, &held);
		if (once || stopping)
			return rc;
		if (held) {
			/* Drop the session so the broker delivers it again. */
			repat_client_destroy(&s->client);
			sleep_s(retry);
			continue;
		}
		if (rc == REPAT_EXIT_QUEUED)
			fprintf(stderr, "repat watch: connection lost; "
			    "reconnecting\n");
		else if (rc != REPAT_EXIT_OK)
			return rc;
	}
	return REPAT_EXIT_OK;
}

int
cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "exec", required_argument, NULL, 'x' },
		{ "once", no_argument, NULL, 'o' },
		{ "retry-seconds", required_argument, NULL, 'r' },
		{ "exec-timeout", required_argument, NULL, 't' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_session s;
	struct sigaction sa;
	struct watch w;
	const char *dir = NULL, *pass_file = NULL;
	char *end;
	bool once = false;
	long retry = 10;
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(watch_help, stdout);
		return REPAT_EXIT_OK;
	}
	memset(&w, 0, sizeof(w));
	w.timeout_s = 300;
	optind = 1;
	while ((c = cli_getopt("watch", argc, argv, opts)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'x': w.exec = optarg; break;
		case 'o': once = true; break;
		case 'r':
			retry = strtol(optarg, &end, 10);
			if (*end != '\0' || retry < 0 || retry > 86400)
				return cli_usage("watch", "--retry-seconds "
				    "must be 0 to 86400");
			break;
		case 't':
			w.timeout_s = strtol(optarg, &end, 10);
			if (*end != '\0' || w.timeout_s < 0 ||
			    w.timeout_s > 86400)
				return cli_usage("watch", "--exec-timeout must "
				    "be 0 to 86400 seconds");
			break;
		case 'P': pass_file = optarg; break;
		case 'j': w.json = true; break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind != argc)
		return cli_usage("watch", "unexpected argument '%s'",
		    argv[optind]);
	if (w.exec != NULL && *w.exec == '\0')
		return cli_usage("watch", "--exec needs a command");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = session_open(&s, "watch", dir, pass_file)) == 0 &&
	    (rc = session_watch_lock(&s)) == 0 &&
	    (rc = session_keys(&s)) == 0) {
		s.quiet = !once;
		rc = watch_loop(&s, &w, once, (int)retry);
	}
	session_close(&s);
	if (stopping && rc != REPAT_EXIT_USAGE)
		rc = REPAT_EXIT_OK;
	return rc;
}
