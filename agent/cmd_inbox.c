/*
 * cmd_inbox.c: `repat inbox`, `repat show` and `repat case`: reading what
 * the agent holds.
 *
 * The store keeps payloads sealed; `show` opens one in memory after
 * verifying it again, prints it (or writes it to --out FILE when asked,
 * the only way a decrypted form reaches the disk) and records the view.
 * `case` puts a case's messages and notices in time order, asks the broker
 * for the case's SOP state and deadlines when it is reachable, and says
 * what is pending on whom; it records the view too.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "session.h"
#include "repat/codec.h"
#include "repat/describe.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/form.h"
#include "repat/mem.h"

static const char inbox_help[] =
"usage: repat inbox [--all | --unread] [--case REF] [--type TYPE]\n"
"                   [--from AGENT_ID] [--limit N] [--dir AGENTDIR] [--json]\n"
"\n"
"Lists received and sent messages, newest first (the 50 most recent\n"
"unless --all or --limit): time, case, type, from (<-) or to (->), status\n"
"and message id. Statuses: new, read, unverified (quarantined) for\n"
"received messages; queued, receipted, delivered, rejected, expired for\n"
"sent ones. --from matches the sender of received and the recipient of\n"
"sent messages. Run `repat sync` first to fetch new messages.\n"
"\n"
"example:\n"
"  repat inbox --dir region/agents/MM.DSW --unread\n";

static const char show_help[] =
"usage: repat show MESSAGE_ID [--out FILE] [--operator NAME]\n"
"                  [--dir AGENTDIR] [--passphrase-file F] [--json]\n"
"\n"
"Verifies a stored message again (signature, sender certificate, CRL),\n"
"opens it in memory and prints its header and form. The view is recorded\n"
"(who, when). --out FILE writes the form JSON to FILE (mode 0600)\n"
"instead of printing it: decrypted personal data then IS on disk, so\n"
"delete the file when done. Sent messages show their header and status\n"
"only: their form is sealed to the recipient. A delivery quarantined on\n"
"arrival is opened only once it verifies against the trust bundle as it\n"
"is now (e.g. after a stale CRL was replaced), with a note.\n"
"\n"
"example:\n"
"  repat show --dir region/agents/MM.DSW 0f3c9a1b2c3d4e5f60718293a4b5c6d7\n";

static const char case_help[] =
"usage: repat case REF [--operator NAME] [--dir AGENTDIR]\n"
"                  [--passphrase-file F] [--json]\n"
"\n"
"A case's timeline: everything sent and received on it and the broker's\n"
"notices, in time order; its SOP state from the broker when reachable;\n"
"what is pending on whom, with overdue deadlines marked (from the broker,\n"
"or from the messages held here when it cannot be asked). Connecting also\n"
"submits the outbox. The view is recorded.\n"
"\n"
"example:\n"
"  repat case --dir region/agents/TH.DATIP TH-2026-000123\n";

/* ---- inbox */

static void
short_time(uint64_t ms, char out[32])
{
	char iso[32];

	repat_time_iso(ms, iso, sizeof(iso));
	/* "2026-11-29T12:01:02Z" -> "2026-11-29 12:01" */
	snprintf(out, 32, "%.10s %.5s", iso, iso + 11);
}

static json_t *
msg_json(const struct ls_msg *m)
{
	json_t *o = json_object();
	char hex[33], when[32];

	if (m->has_id)
		json_object_set_new(o, "message_id",
		    json_string(repat_hex(m->id, 16, hex)));
	json_object_set_new(o, "direction", json_string(m->sent ? "sent" :
	    "received"));
	json_object_set_new(o, "time", json_string(repat_time_iso(m->time_ms,
	    when, sizeof(when))));
	json_object_set_new(o, "case_ref", json_string(m->case_ref));
	json_object_set_new(o, "type", json_string(m->type ?
	    repat_message_type_name(m->type) : ""));
	json_object_set_new(o, "sender", json_string(m->sender));
	json_object_set_new(o, "recipient", json_string(m->recipient));
	json_object_set_new(o, "status", json_string(m->status));
	if (m->has_reply_to)
		json_object_set_new(o, "in_reply_to",
		    json_string(repat_hex(m->in_reply_to, 16, hex)));
	if (m->has_copy_of)
		json_object_set_new(o, "copy_of",
		    json_string(repat_hex(m->copy_of, 16, hex)));
	if (m->broker_time_ms)
		json_object_set_new(o, "broker_time", json_string(
		    repat_time_iso(m->broker_time_ms, when, sizeof(when))));
	if (m->reject_code)
		json_object_set_new(o, "reject_code",
		    json_string(session_reject_name(m->reject_code)));
	if (m->reason[0] != '\0')
		json_object_set_new(o, "reason", json_string(m->reason));
	if (!m->sent) {
		json_object_set_new(o, "seq", json_integer((json_int_t)m->seq));
		json_object_set_new(o, "exec_done", json_boolean(m->exec_done));
	}
	if (m->relayed)
		json_object_set_new(o, "relayed", json_true());
	return o;
}

struct listing {
	json_t *array;		/* --json: collected rows */
	size_t n;
};

static int
print_row(const struct ls_msg *m, void *arg)
{
	struct listing *l = arg;
	char when[32], hex[33], peer[REPAT_MAX_AGENT_ID + 4];

	l->n++;
	if (l->array != NULL) {
		json_array_append_new(l->array, msg_json(m));
		return 0;
	}
	if (l->n == 1)
		printf("%-16s  %-14s  %-32s  %-22s  %-10s  %s\n", "TIME (UTC)",
		    "CASE", "TYPE", "FROM/TO", "STATUS", "ID");
	short_time(m->time_ms, when);
	snprintf(peer, sizeof(peer), "%s %s", m->sent ? "->" : "<-",
	    m->sent ? m->recipient : (m->sender[0] ? m->sender : "?"));
	printf("%-16s  %-14s  %-32s  %-22s  %-10s  %s\n", when, m->case_ref,
	    m->type ? repat_message_type_name(m->type) : "?", peer, m->status,
	    m->has_id ? repat_hex(m->id, 16, hex) : "-");
	return 0;
}

int
cmd_inbox(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ "unread", no_argument, NULL, 'u' },
		{ "case", required_argument, NULL, 'c' },
		{ "type", required_argument, NULL, 'T' },
		{ "from", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_session s;
	struct ls_filter f;
	struct listing l;
	const char *dir = NULL;
	bool json = false, all = false;
	char *end;
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(inbox_help, stdout);
		return REPAT_EXIT_OK;
	}
	memset(&f, 0, sizeof(f));
	memset(&l, 0, sizeof(l));
	f.limit = 50;
	optind = 1;
	while ((c = cli_getopt("inbox", argc, argv, opts)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'a': all = true; break;
		case 'u': f.unread = true; break;
		case 'c': f.case_ref = optarg; break;
		case 'T':
			if ((f.type = repat_message_type_parse(optarg)) < 0)
				return cli_usage("inbox", "unknown type '%s'",
				    optarg);
			break;
		case 'f': f.from = optarg; break;
		case 'l':
			f.limit = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || f.limit < 1)
				return cli_usage("inbox", "--limit must be a "
				    "positive number");
			break;
		case 'j': json = true; break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind != argc)
		return cli_usage("inbox", "unexpected argument '%s'",
		    argv[optind]);
	if (all && f.unread)
		return cli_usage("inbox", "--all and --unread exclude each "
		    "other");
	if (all)
		f.limit = 0;
	if ((rc = session_open(&s, "inbox", dir, NULL)) != 0)
		goto out;
	if (json)
		l.array = json_array();
	local_store_list(s.store, &f, print_row, &l);
	if (json) {
		json_dumpf(l.array, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(l.array);
	} else if (l.n == 0) {
		printf("no messages%s (run `repat sync` to fetch new ones)\n",
		    f.unread || f.case_ref || f.type || f.from ?
		    " match" : "");
	} else if (f.limit > 0 && l.n == (size_t)f.limit) {
		printf("(the %d most recent; --all for everything)\n",
		    f.limit);
	}
out:
	session_close(&s);
	return rc;
}

/* ---- show */

struct show_args {
	const char *dir, *out, *operator_name, *pass_file;
	bool json;
};

/* Prints or writes an opened message; the view is the caller's to log. */
static int
print_opened(const struct ls_msg *m, const struct repat_verified *v,
    const ProtobufCMessage *form, const char *op, const struct show_args *a)
{
	char err[REPAT_ERRBUF_LEN] = "", *f = NULL, *h;
	json_t *o;
	int rc = REPAT_EXIT_OK;

	if (form != NULL)
		f = repat_form_to_json(form);
	if (a->out != NULL && f != NULL) {
		if (repat_file_write(a->out, f, strlen(f), 0600, err) !=
		    REPAT_OK)
			rc = cli_fail("show", REPAT_EXIT_FAIL, "%s", err);
		else
			fprintf(stderr, "repat show: the form is in %s (mode "
			    "0600): personal data, delete it when done\n",
			    a->out);
	}
	if (a->json) {
		h = repat_header_json(v->header);
		o = json_object();
		json_object_set_new(o, "header", json_loads(h, 0, NULL));
		json_object_set_new(o, "status", msg_json(m));
		json_object_set_new(o, "sender_verified", json_true());
		if (op != NULL)
			json_object_set_new(o, "operator", json_string(op));
		json_object_set_new(o, "form", f && !a->out ?
		    json_loads(f, 0, NULL) : json_null());
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		free(h);
	} else {
		repat_header_print(stdout, v->header);
		if (op != NULL)
			printf("%-18s %s\n", "operator", op);
		printf("%-18s %s%s%s\n", "status", m->status,
		    m->reason[0] ? ": " : "", m->reason);
		if (form == NULL)
			printf("\n(sent by this agent: the form is sealed to "
			    "%s and cannot be read here)\n", m->recipient);
		else if (a->out == NULL)
			printf("\n%s\n", f);
	}
	repat_free_secret(f, f ? strlen(f) : 0);
	return rc;
}

static int
show_message(struct agent_session *s, struct ls_msg *m,
    const struct show_args *a)
{
	struct repat_verified v;
	struct repat_form_report report;
	ProtobufCMessage *form = NULL;
	char err[REPAT_ERRBUF_LEN] = "", *op = NULL, hex[33];
	const char *viewer;
	bool quarantined;
	int rc;

	memset(&v, 0, sizeof(v));
	memset(&report, 0, sizeof(report));
	/*
	 * A quarantined delivery is checked again against the trust bundle
	 * as it is now: one that failed only for a CRL gone stale at the
	 * time (or a CA pinned since) is readable once a fresh CRL is in;
	 * a bad signature, a revocation or another recipient still fail.
	 */
	quarantined = !m->sent && strcmp(m->status, LS_UNVERIFIED) == 0;
	if ((rc = session_keys(s)) != 0)
		return rc;
	rc = repat_envelope_verify(s->ks.trust, m->envelope, m->envelope_len,
	    repat_now_ms(), &v, err);
	if (rc == REPAT_EEXPIRED && m->broker_time_ms > 0) {
		/*
		 * An old message outlives its sender's certificate: it is
		 * still good if the certificate was valid when the broker
		 * took the message. A revocation is never excused.
		 */
		repat_verified_clear(&v);
		rc = repat_envelope_verify(s->ks.trust, m->envelope,
		    m->envelope_len, m->broker_time_ms, &v, err);
		if (rc == REPAT_OK)
			fprintf(stderr, "repat show: note: the sender's "
			    "certificate has expired since; it was valid when "
			    "the broker accepted the message\n");
	}
	if (rc == REPAT_OK && quarantined &&
	    strcmp(v.header->recipient, s->agent_id) != 0)
		rc = repat_errf(err, REPAT_ECERT, "addressed to %s, not to "
		    "this agent", v.header->recipient);
	if (rc != REPAT_OK && quarantined) {
		rc = cli_fail("show", REPAT_EXIT_UNTRUSTED, "NOT "
		    "TRUSTWORTHY: this delivery was quarantined: %s (now: %s)",
		    m->reason, err);
		goto out;
	}
	if (rc != REPAT_OK) {
		rc = cli_fail("show", REPAT_EXIT_UNTRUSTED, "NOT TRUSTWORTHY "
		    "now: %s", err);
		goto out;
	}
	if (quarantined)
		fprintf(stderr, "repat show: note: this delivery was "
		    "quarantined when it arrived (%s); it verifies now "
		    "against the current trust bundle\n", m->reason);
	if (!m->sent && repat_envelope_open(&s->ks, &v, &form, &op, &report,
	    err) != REPAT_OK) {
		if (report.n > 0)
			repat_form_report_print(&report, stderr);
		rc = cli_fail("show", REPAT_EXIT_UNTRUSTED, "NOT TRUSTWORTHY: "
		    "%s", err);
		goto out;
	}
	viewer = session_viewer(a->operator_name);
	if (local_store_view_log(s->store, m->id, m->case_ref, viewer,
	    a->out ? "show --out" : "show", repat_now_ms(), err) != REPAT_OK) {
		/* No view record, no view: the log is the safeguard. */
		rc = cli_fail("show", REPAT_EXIT_FAIL, "cannot record the "
		    "view: %s", err);
		goto out;
	}
	if (!m->sent)
		(void)local_store_inbox_mark_read(s->store, m->id);
	rc = print_opened(m, &v, form, op, a);
	if (!a->json && !m->sent)
		fprintf(stderr, "(message %s: signature, sender certificate "
		    "and form verified; view recorded for %s)\n",
		    repat_hex(m->id, 16, hex), viewer);
out:
	if (op != NULL)
		repat_free_secret(op, strlen(op));
	repat_form_free(form);
	repat_verified_clear(&v);
	return rc;
}

int
cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "operator", required_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_session s;
	struct show_args a;
	struct ls_msg m;
	uint8_t id[16];
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(show_help, stdout);
		return REPAT_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((c = cli_getopt("show", argc, argv, opts)) != -1) {
		switch (c) {
		case 'd': a.dir = optarg; break;
		case 'o': a.out = optarg; break;
		case 'p': a.operator_name = optarg; break;
		case 'P': a.pass_file = optarg; break;
		case 'j': a.json = true; break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind + 1 != argc)
		return cli_usage("show", "give exactly one MESSAGE_ID");
	if ((rc = cli_parse_id("show", "MESSAGE_ID", argv[optind], id)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	if ((rc = session_open(&s, "show", a.dir, a.pass_file)) != 0)
		goto out;
	if ((rc = session_operator(&s, a.operator_name, &a.operator_name)) !=
	    0)
		goto out;
	if (local_store_find(s.store, id, &m) != REPAT_OK) {
		rc = cli_fail("show", REPAT_EXIT_FAIL, "no message %s here "
		    "(see `repat inbox`; run `repat sync` to fetch new ones)",
		    argv[optind]);
		goto out;
	}
	rc = show_message(&s, &m, &a);
out:
	free(m.envelope);
	session_close(&s);
	return rc;
}

/* ---- case */

struct timeline {
	json_t *array;		/* --json: messages */
	json_t *notice_array;	/* --json: notices */
	struct ls_msg *rows;	/* every message, oldest first */
	size_t n;
	struct ls_notice *notices;	/* every notice, oldest first */
	size_t nn;
	size_t unread;		/* received, not yet shown */
	size_t queued;		/* sent, still in the outbox */
};

static int
timeline_row(const struct ls_msg *m, void *arg)
{
	struct timeline *t = arg;

	t->rows = repat_xrealloc(t->rows, (t->n + 1) * sizeof(*t->rows));
	t->rows[t->n] = *m;
	t->n++;
	if (!m->sent && strcmp(m->status, LS_NEW) == 0)
		t->unread++;
	if (m->sent && strcmp(m->status, LS_QUEUED) == 0)
		t->queued++;
	if (t->array != NULL)
		json_array_append_new(t->array, msg_json(m));
	return 0;
}

static void
print_message(const struct ls_msg *m)
{
	char when[32], hex[33];

	short_time(m->time_ms, when);
	printf("  %s  %s %-22s %-32s %-10s %s\n", when, m->sent ? "->" : "<-",
	    m->sent ? m->recipient : m->sender, m->type ?
	    repat_message_type_name(m->type) : "?", m->status,
	    m->has_id ? repat_hex(m->id, 16, hex) : "-");
}

/*
 * Requests that await a reply, when no agreement says it: the pairs of
 * DOMAIN.md §3. Agreements add periods (session_deadline).
 */
#define MT(name)	REPAT__MESSAGE_TYPE__MESSAGE_TYPE_##name

static int
awaited_reply(struct agent_session *s, const struct ls_msg *m,
    uint64_t *period_ms)
{
	const struct repat_deadline_rule *r;
	const char *peer = m->sent ? m->recipient : m->sender;

	*period_ms = 0;
	if ((r = session_deadline(s, peer, m->type)) != NULL) {
		*period_ms = r->period_ms;
		return r->reply_type;
	}
	switch (m->type) {
	case MT(NATIONALITY_VERIFICATION_REQUEST):
		return MT(NATIONALITY_VERIFICATION_RESULT);
	case MT(FAMILY_TRACING_REQUEST):
		return MT(FAMILY_ASSESSMENT_RESULT);
	case MT(REPATRIATION_PLAN):
		return MT(REPATRIATION_PLAN);
	default:
		return 0;
	}
}

static bool
answered(const struct timeline *t, const struct ls_msg *req, int reply)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].has_reply_to && t->rows[i].type == reply &&
		    t->rows[i].sent != req->sent &&
		    memcmp(t->rows[i].in_reply_to, req->id, 16) == 0)
			return true;
	return false;
}

/*
 * What this agent's own messages say is pending when the broker cannot be
 * asked: requests (not themselves replies) with no reply linked to them.
 */
static void
local_pending(struct agent_session *s, const struct timeline *t,
    uint64_t now, json_t *array)
{
	const struct ls_msg *m;
	uint64_t period, due;
	char when[32], hex[33];
	json_t *o;
	size_t i;
	int reply;

	for (i = 0; i < t->n; i++) {
		m = &t->rows[i];
		if (m->has_reply_to || !m->has_id ||
		    strcmp(m->status, LS_REJECTED) == 0 ||
		    strcmp(m->status, LS_UNVERIFIED) == 0 ||
		    (reply = awaited_reply(s, m, &period)) == 0 ||
		    answered(t, m, reply))
			continue;
		due = period ? m->created_ms + period : 0;
		/* Shown by its random end: ids start with their time. */
		repat_hex(m->id, 16, hex);
		if (array != NULL) {
			o = json_object();
			json_object_set_new(o, "request_id", json_string(hex));
			json_object_set_new(o, "awaited_type", json_string(
			    repat_message_type_name(reply)));
			json_object_set_new(o, "waiting_on", json_string(
			    m->sent ? m->recipient : s->agent_id));
			if (due) {
				json_object_set_new(o, "due", json_string(
				    repat_time_iso(due, when, sizeof(when))));
				json_object_set_new(o, "overdue",
				    json_boolean(due < now));
			}
			json_array_append_new(array, o);
			continue;
		}
		if (m->sent)
			printf("  %s owes %s (request ...%s)", m->recipient,
			    repat_message_type_name(reply), hex + 24);
		else
			printf("  you owe %s to %s (request ...%s)",
			    repat_message_type_name(reply), m->sender,
			    hex + 24);
		if (due) {
			short_time(due, when);
			printf(", due %s", when);
			if (due < now)
				printf("  OVERDUE by %llu days",
				    (unsigned long long)((now - due) /
				    86400000ULL));
		}
		putchar('\n');
	}
}

static const char *
notice_kind(int kind)
{
	switch (kind) {
	case REPAT__NOTICE_KIND__NOTICE_DELIVERED: return "delivered";
	case REPAT__NOTICE_KIND__NOTICE_EXPIRED: return "expired";
	case REPAT__NOTICE_KIND__NOTICE_REMINDER: return "reminder";
	case REPAT__NOTICE_KIND__NOTICE_CONSENT_WITHDRAWN:
		return "consent_withdrawn";
	case REPAT__NOTICE_KIND__NOTICE_DEAD_LETTER: return "dead_letter";
	default: return "unknown";
	}
}

static uint64_t
notice_time(const struct ls_notice *n)
{
	return n->broker_time_ms ? n->broker_time_ms : n->received_ms;
}

static void
print_notice(const struct ls_notice *n)
{
	char when[32];

	short_time(notice_time(n), when);
	printf("  %s  notice %-18s%s %s", when, notice_kind(n->kind),
	    n->verified ? "" : " (UNVERIFIED)", n->ids);
	if (n->kind == REPAT__NOTICE_KIND__NOTICE_REMINDER && n->awaited_type)
		printf(" awaiting %s", repat_message_type_name(
		    n->awaited_type));
	if (n->kind == REPAT__NOTICE_KIND__NOTICE_CONSENT_WITHDRAWN)
		printf(" -- consent was withdrawn: stop using the data it "
		    "covered");
	putchar('\n');
}

/* Messages and notices merged in time order. */
static void
print_timeline(const struct timeline *t)
{
	size_t i = 0, j = 0;

	if (t->n == 0 && t->nn == 0)
		printf("  no messages on this case here\n");
	while (i < t->n || j < t->nn) {
		if (j == t->nn || (i < t->n &&
		    t->rows[i].time_ms <= notice_time(&t->notices[j])))
			print_message(&t->rows[i++]);
		else
			print_notice(&t->notices[j++]);
	}
}

static int
notice_row(const struct ls_notice *n, void *arg)
{
	struct timeline *t = arg;
	json_t *array = t->notice_array, *o;
	char when[32];

	t->notices = repat_xrealloc(t->notices, (t->nn + 1) *
	    sizeof(*t->notices));
	t->notices[t->nn++] = *n;
	if (array != NULL) {
		o = json_object();
		json_object_set_new(o, "kind", json_string(notice_kind(
		    n->kind)));
		json_object_set_new(o, "time", json_string(repat_time_iso(
		    n->broker_time_ms, when, sizeof(when))));
		json_object_set_new(o, "message_ids", json_string(n->ids));
		json_object_set_new(o, "verified", json_boolean(n->verified));
		if (n->due_ms)
			json_object_set_new(o, "due", json_string(
			    repat_time_iso(n->due_ms, when, sizeof(when))));
		json_array_append_new(array, o);
	}
	return 0;
}

/* The broker's view of the case, or why there is none. */
static Repat__CaseState *
query_case(struct agent_session *s, const char *ref, char *why, size_t n)
{
	struct session_stats st;
	Repat__CaseState *cs = NULL;
	char err[REPAT_ERRBUF_LEN] = "";
	int rc;

	memset(&st, 0, sizeof(st));
	rc = session_connect(s);
	if (rc == REPAT_EXIT_QUEUED) {
		snprintf(why, n, "the broker is unreachable");
		return NULL;
	}
	if (rc != REPAT_EXIT_OK) {
		snprintf(why, n, "could not connect (see above)");
		return NULL;
	}
	(void)session_flush(s, &st, true);
	if (repat_client_case_query(s->client, ref, s->timeout_ms, &cs, err) !=
	    REPAT_OK) {
		snprintf(why, n, "%s", err);
		return NULL;
	}
	return cs;
}

/* "name: {...}" on one line, whatever the indentation of json. */
static void
print_compact(const char *name, const char *json)
{
	json_t *v = json_loads(json, 0, NULL);
	char *one = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	printf("%s: %s\n", name, one ? one : json);
	free(one);
	json_decref(v);
}

static void
print_state(const Repat__CaseState *cs, const char *me, uint64_t now)
{
	char when[32], *facts;
	size_t i;
	uint64_t late;

	printf("\nstate (from the broker): %s", cs->state);
	if (cs->n_countries > 0) {
		printf(", countries");
		for (i = 0; i < cs->n_countries; i++)
			printf(" %s", cs->countries[i]);
	}
	putchar('\n');
	if (cs->facts != NULL &&
	    (facts = repat_form_to_json(&cs->facts->base)) != NULL) {
		print_compact("facts", facts);
		free(facts);
	}
	printf("\npending:\n");
	if (cs->n_deadlines == 0)
		printf("  nothing awaited by the SOP\n");
	for (i = 0; i < cs->n_deadlines; i++) {
		const Repat__Deadline *d = cs->deadlines[i];

		short_time(d->due_ms, when);
		if (strcmp(d->waiting_on, me) == 0)
			printf("  you owe %s, due %s",
			    repat_message_type_name(d->awaited_type), when);
		else
			printf("  %s owes %s, due %s", d->waiting_on,
			    repat_message_type_name(d->awaited_type), when);
		if (d->due_ms < now) {
			late = (now - d->due_ms) / 86400000ULL;
			printf("  OVERDUE by %llu day%s",
			    (unsigned long long)late, late == 1 ? "" : "s");
		}
		putchar('\n');
	}
}

static json_t *
state_json(const Repat__CaseState *cs, uint64_t now)
{
	json_t *o = json_object(), *a = json_array(), *d;
	char when[32], hex[33], *facts;
	size_t i;

	json_object_set_new(o, "state", json_string(cs->state));
	for (i = 0; i < cs->n_deadlines; i++) {
		const Repat__Deadline *dl = cs->deadlines[i];

		d = json_object();
		json_object_set_new(d, "awaited_type", json_string(
		    repat_message_type_name(dl->awaited_type)));
		json_object_set_new(d, "waiting_on",
		    json_string(dl->waiting_on));
		json_object_set_new(d, "due", json_string(repat_time_iso(
		    dl->due_ms, when, sizeof(when))));
		json_object_set_new(d, "overdue", json_boolean(dl->due_ms <
		    now));
		if (dl->request_id.len == 16)
			json_object_set_new(d, "request_id", json_string(
			    repat_hex(dl->request_id.data, 16, hex)));
		json_array_append_new(a, d);
	}
	json_object_set_new(o, "deadlines", a);
	if (cs->facts != NULL &&
	    (facts = repat_form_to_json(&cs->facts->base)) != NULL) {
		json_object_set_new(o, "facts", json_loads(facts, 0, NULL));
		free(facts);
	}
	return o;
}

int
cmd_case(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "operator", required_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_session s;
	struct ls_filter f;
	struct timeline t;
	Repat__CaseState *cs = NULL;
	const char *dir = NULL, *pass_file = NULL, *op = NULL, *ref;
	char err[REPAT_ERRBUF_LEN] = "", why[REPAT_ERRBUF_LEN] = "";
	json_t *o = NULL, *notices = NULL;
	uint64_t now = repat_now_ms();
	bool json = false;
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(case_help, stdout);
		return REPAT_EXIT_OK;
	}
	optind = 1;
	while ((c = cli_getopt("case", argc, argv, opts)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p': op = optarg; break;
		case 'P': pass_file = optarg; break;
		case 'j': json = true; break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind + 1 != argc)
		return cli_usage("case", "give exactly one case REF");
	ref = argv[optind];
	if (!repat_case_ref_valid(ref))
		return cli_usage("case", "'%s' is not a case reference "
		    "(CC-YYYY-NNNNNN)", ref);
	memset(&t, 0, sizeof(t));
	if ((rc = session_open(&s, "case", dir, pass_file)) != 0)
		goto out;
	if ((rc = session_operator(&s, op, &op)) != 0)
		goto out;
	if (local_store_view_log(s.store, NULL, ref, session_viewer(op),
	    "case", now, err) != REPAT_OK) {
		rc = cli_fail("case", REPAT_EXIT_FAIL, "cannot record the "
		    "view: %s", err);
		goto out;
	}
	cs = query_case(&s, ref, why, sizeof(why));
	memset(&f, 0, sizeof(f));
	f.case_ref = ref;
	f.oldest_first = true;
	if (json) {
		o = json_object();
		t.array = json_array();
		t.notice_array = notices = json_array();
	}
	local_store_list(s.store, &f, timeline_row, &t);
	local_store_notices(s.store, ref, notice_row, &t);
	if (!json) {
		printf("case %s\n\ntimeline:\n", ref);
		print_timeline(&t);
	}
	if (json) {
		json_object_set_new(o, "case_ref", json_string(ref));
		json_object_set_new(o, "messages", t.array);
		json_object_set_new(o, "notices", notices);
		json_object_set_new(o, "broker", cs ? state_json(cs, now) :
		    json_null());
		if (cs == NULL) {
			json_object_set_new(o, "broker_error",
			    json_string(why));
			json_object_set_new(o, "pending_local", json_array());
			local_pending(&s, &t, now, json_object_get(o,
			    "pending_local"));
		}
		json_object_set_new(o, "unread", json_integer((json_int_t)
		    t.unread));
		json_object_set_new(o, "queued", json_integer((json_int_t)
		    t.queued));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		if (cs != NULL)
			print_state(cs, s.agent_id, now);
		else
			printf("\nstate: unknown (%s)\npending (from the "
			    "messages held here):\n", why);
		if (cs == NULL)
			local_pending(&s, &t, now, NULL);
		if (t.unread)
			printf("  on this agent: %zu unread message%s "
			    "(`repat show ID`)\n", t.unread,
			    t.unread == 1 ? "" : "s");
		if (t.queued)
			printf("  in the outbox: %zu message%s not yet "
			    "submitted (`repat sync`)\n", t.queued,
			    t.queued == 1 ? "" : "s");
	}
	rc = REPAT_EXIT_OK;
out:
	free(t.rows);
	free(t.notices);
	repat_msg_free(cs);
	session_close(&s);
	return rc;
}
