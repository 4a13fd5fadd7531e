/*
 * cmd_send.c: `repat send`, `repat reply` and `repat submit`: messages
 * into the outbox, then to the broker.
 *
 * Every message is sealed, then stored in the outbox (durable), and only
 * then submitted. When the broker cannot be reached the command exits 3
 * (REPAT_EXIT_QUEUED): the message waits in the outbox and the next
 * connecting command (`repat sync`, `watch`, another send) submits the
 * same stored bytes, which the broker receipts once. --cc copies are
 * separate envelopes, each sealed to its own recipient, with copy_of
 * naming the main message.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "session.h"
#include "repat/codec.h"
#include "repat/describe.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/mem.h"

#define MAX_CC 16

static const char send_help[] =
"usage: repat send --to AGENT_ID|CC/role --type TYPE --case REF\n"
"                  --form FORM.json [--cc AGENT_ID|CC/role]...\n"
"                  [--in-reply-to ID] [--amends ID] [--expires-days N]\n"
"                  [--agreement ID] [--operator NAME] [--dir AGENTDIR]\n"
"                  [--passphrase-file F] [--json]\n"
"\n"
"Validates the form, seals it to the recipient's verified encryption\n"
"certificate (from the directory, refreshed from the broker when the\n"
"recipient is unknown), keeps it in the outbox and submits it. Prints the\n"
"broker's receipt. CC/role (MM/focal_point) is resolved from the\n"
"directory; when several agents match, they are listed and nothing is\n"
"sent. --cc sends a linked copy (its own envelope, copy_of = the main\n"
"message) to another agent.\n"
"\n"
"Exit: 0 receipted, 1 refused or invalid, 2 usage, 3 broker unreachable\n"
"(kept in the outbox; `repat sync` will send it), 4 recipient not\n"
"trustworthy.\n"
"\n"
"example:\n"
"  repat send --dir region/agents/TH.WPC.PATHUMTHANI --to MM.DSW \\\n"
"      --type case_referral --case TH-2026-000123 \\\n"
"      --form examples/forms/case_referral.json --operator somchai\n";

static const char reply_help[] =
"usage: repat reply MESSAGE_ID --type TYPE --form FORM.json\n"
"                   [--cc AGENT_ID|CC/role]... [--amends ID]\n"
"                   [--expires-days N] [--agreement ID] [--operator NAME]\n"
"                   [--dir AGENTDIR] [--passphrase-file F] [--json]\n"
"\n"
"Replies to a message in the inbox: the recipient is its sender, the case\n"
"is its case, and in_reply_to is its id. Otherwise like `repat send`.\n"
"\n"
"example:\n"
"  repat reply --dir region/agents/MM.DNR 0f3c...e1 \\\n"
"      --type nationality_verification_result \\\n"
"      --form examples/forms/nationality_verification_result.json\n";

static const char submit_help[] =
"usage: repat submit FILE [--dir AGENTDIR] [--passphrase-file F] [--json]\n"
"\n"
"Hands a message file written by `repat seal` (perhaps on another\n"
"machine, carried by hand) to the broker. This agent may be its sender or\n"
"another agent of the sender's country relaying it. The file is verified\n"
"first, kept in the outbox and submitted; exit 3 when the broker is\n"
"unreachable (`repat sync` will send it).\n"
"\n"
"example:\n"
"  repat submit --dir region/agents/TH.DATIP referral.repat\n";

/* What send and reply have in common. */
struct send_args {
	struct cli_message_opts m;	/* what seal takes too */
	const char *cc[MAX_CC];		/* --cc, in order */
	size_t ncc;
	bool json;			/* --json */
};

static int
parse_send_args(const char *cmd, int argc, char **argv, struct send_args *a)
{
	static const struct option opts[] = {
		CLI_MESSAGE_OPTIONS,
		{ "cc", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_message_opts *m = &a->m;
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = cli_message_getopt(cmd, argc, argv, opts, m)) != -1) {
		switch (c) {
		case 'C':
			if (a->ncc == MAX_CC)
				return cli_usage(cmd, "at most %d --cc",
				    MAX_CC);
			a->cc[a->ncc++] = optarg;
			break;
		case 'e':
			if (cli_parse_expires_days(optarg, &m->expires_days))
				return cli_usage(cmd, "--expires-days must be "
				    "1 to 3650");
			break;
		case 'j': a->json = true; break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	return REPAT_EXIT_OK;
}

/* Prints what became of stored messages; the worst outcome's exit code. */
static int
report(struct agent_session *s, uint8_t (*ids)[16], size_t n, bool json,
    const char *why_queued)
{
	struct ls_msg m;
	char hex[33], when[32];
	int worst = REPAT_EXIT_OK;
	size_t i;

	if (json)
		printf("{\"messages\":[");
	for (i = 0; i < n; i++) {
		if (local_store_find(s->store, ids[i], &m) != REPAT_OK)
			continue;
		free(m.envelope);
		repat_hex(ids[i], 16, hex);
		if (strcmp(m.status, LS_REJECTED) == 0)
			worst = REPAT_EXIT_FAIL;
		else if (strcmp(m.status, LS_QUEUED) == 0 &&
		    worst == REPAT_EXIT_OK)
			worst = REPAT_EXIT_QUEUED;
		if (json) {
			printf("%s{\"message_id\":\"%s\",\"type\":\"%s\","
			    "\"case_ref\":\"%s\",\"recipient\":\"%s\","
			    "\"status\":\"%s\"", i ? "," : "", hex,
			    repat_message_type_name(m.type), m.case_ref,
			    m.recipient, m.status);
			if (m.broker_time_ms)
				printf(",\"broker_time\":\"%s\"",
				    repat_time_iso(m.broker_time_ms, when,
				    sizeof(when)));
			if (m.reject_code)
				printf(",\"reject_code\":\"%s\"",
				    session_reject_name(m.reject_code));
			printf("}");
			continue;
		}
		if (strcmp(m.status, LS_REJECTED) == 0)
			printf("REFUSED %s %s to %s, case %s: %s: %s\n",
			    repat_message_type_name(m.type), hex, m.recipient,
			    m.case_ref, session_reject_name(m.reject_code),
			    m.reason);
		else if (strcmp(m.status, LS_QUEUED) == 0)
			printf("queued  %s %s to %s, case %s\n",
			    repat_message_type_name(m.type), hex, m.recipient,
			    m.case_ref);
		else
			printf("sent    %s %s to %s, case %s: receipted by the "
			    "broker at %s\n", repat_message_type_name(m.type),
			    hex, m.recipient, m.case_ref,
			    repat_time_iso(m.broker_time_ms, when,
			    sizeof(when)));
	}
	if (json)
		printf("]}\n");
	if (worst == REPAT_EXIT_QUEUED)
		fprintf(stderr, "repat %s: %s: kept in the outbox; `repat "
		    "sync` will send it.\n", s->cmd, why_queued);
	return worst;
}

/* Connects and submits the whole outbox; then reports on ids. */
static int
submit_and_report(struct agent_session *s, uint8_t (*ids)[16], size_t n,
    bool json)
{
	struct session_stats st;
	int rc;

	memset(&st, 0, sizeof(st));
	if (session_watch_running(s)) {
		/* Connecting would take the watch's session over. */
		fprintf(stderr, "repat %s: a `repat watch` is running for this "
		    "agent; it submits the message\n", s->cmd);
		session_wait_outbox(s, (const uint8_t (*)[16])ids, n,
		    2 * s->timeout_ms);
		return report(s, ids, n, json, "the running watch did not "
		    "get an answer in time");
	}
	rc = session_connect(s);
	if (rc != REPAT_EXIT_OK && rc != REPAT_EXIT_QUEUED) {
		fprintf(stderr, "repat %s: nothing was submitted; the message "
		    "is kept in the outbox: fix the above, then run `repat "
		    "sync`\n", s->cmd);
		return rc;
	}
	if (rc == REPAT_EXIT_OK) {
		rc = session_flush(s, &st, false);
		if (rc != REPAT_EXIT_OK && rc != REPAT_EXIT_QUEUED)
			return rc;
	}
	if (st.not_kept_code != 0) {
		char why[96];

		/* The broker answered: say what it said, not "no answer". */
		snprintf(why, sizeof(why), "the broker did not keep it for "
		    "now (%s)", session_reject_name(st.not_kept_code));
		return report(s, ids, n, json, why);
	}
	return report(s, ids, n, json, s->client != NULL ?
	    "the broker did not answer in time" : "the broker is unreachable");
}

/* One sealed message of a send: recipient, spec, result. */
struct sealing {
	char to[REPAT_MAX_AGENT_ID + 1];
	uint8_t id[16];
	uint8_t *bytes;
	size_t len;
};

/*
 * Seals the main message and its copies to already resolved recipients,
 * stores them all in one transaction, then submits.
 */
static int
send_sealed(struct agent_session *s, const struct send_args *a, int type,
    const char *operator_name, struct sealing *msgs, size_t n)
{
	struct cli_message msg;
	struct repat_message_spec *spec = &msg.spec;
	Repat__CheckpointRef ckpt;
	ProtobufCMessage *form = NULL;
	X509 *cert = NULL;
	uint8_t (*ids)[16] = NULL, ckpt_root[32];
	char err[REPAT_ERRBUF_LEN] = "";
	uint64_t now = repat_now_ms();
	size_t i;
	int rc;

	if ((rc = cli_message_spec(s->cmd, &a->m, type, now, &msg)) != 0)
		return rc;
	/* The form first: a wrong form costs no passphrase. */
	if ((rc = cli_load_form(s->cmd, type, a->m.form, &form)) != 0)
		return rc;
	if ((rc = session_keys(s)) != 0)
		goto out;
	spec->form = form;
	spec->operator_name = operator_name;
	/* Recipients cross-check it: the broker shows everyone one log. */
	if (session_checkpoint_ref(s, &ckpt, ckpt_root))
		spec->checkpoint = &ckpt;
	for (i = 0; i < n; i++) {
		if ((rc = session_recipient_cert(s, msgs[i].to, &cert)) != 0)
			goto out;
		spec->recipient = msgs[i].to;
		spec->copy_of = i > 0 ? msgs[0].id : NULL;
		rc = repat_envelope_seal(&s->ks, cert, spec, now,
		    &msgs[i].bytes, &msgs[i].len, msgs[i].id, err);
		X509_free(cert);
		cert = NULL;
		if (rc != REPAT_OK) {
			rc = cli_fail(s->cmd, REPAT_EXIT_FAIL, "%s", err);
			goto out;
		}
	}
	/* Durable first: nothing is submitted that is not in the outbox. */
	if (local_store_begin(s->store, err) != REPAT_OK)
		goto store_failed;
	for (i = 0; i < n; i++)
		if (local_store_outbox_add(s->store, msgs[i].bytes,
		    msgs[i].len, false, now, err) != REPAT_OK)
			goto store_failed;
	if (local_store_commit(s->store, err) != REPAT_OK)
		goto store_failed;
	ids = repat_xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++)
		memcpy(ids[i], msgs[i].id, 16);
	rc = submit_and_report(s, ids, n, a->json);
	goto out;
store_failed:
	local_store_rollback(s->store);
	rc = cli_fail(s->cmd, REPAT_EXIT_FAIL, "the outbox: %s (nothing was "
	    "sent)", err);
out:
	free(ids);
	repat_form_free(form);
	return rc;
}

/* Resolves recipients, then seals and sends; frees what it sealed. */
static int
send_common(struct agent_session *s, const struct send_args *a,
    const char *to)
{
	struct sealing msgs[1 + MAX_CC];
	const char *operator_name;
	size_t i, n = 1 + a->ncc;
	int rc, type;

	memset(msgs, 0, sizeof(msgs));
	if ((type = repat_message_type_parse(a->m.type)) < 0)
		return cli_usage(s->cmd, "unknown type '%s' (see `repat form "
		    "types`)", a->m.type);
	if (!repat_case_ref_valid(a->m.case_ref))
		return cli_usage(s->cmd, "'%s' is not a case reference "
		    "(CC-YYYY-NNNNNN, e.g. TH-2026-000123)", a->m.case_ref);
	if ((rc = session_operator(s, a->m.operator_name, &operator_name)) !=
	    0)
		return rc;
	if ((rc = session_resolve(s, to, msgs[0].to, sizeof(msgs[0].to))) != 0)
		return rc;
	for (i = 0; i < a->ncc; i++)
		if ((rc = session_resolve(s, a->cc[i], msgs[i + 1].to,
		    sizeof(msgs[i + 1].to))) != 0)
			return rc;
	rc = send_sealed(s, a, type, operator_name, msgs, n);
	for (i = 0; i < n; i++)
		free(msgs[i].bytes);
	return rc;
}

int
cmd_send(int argc, char **argv)
{
	struct agent_session s;
	struct send_args a;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(send_help, stdout);
		return REPAT_EXIT_OK;
	}
	if ((rc = parse_send_args("send", argc, argv, &a)) != 0)
		return rc;
	if (optind != argc)
		return cli_usage("send", "unexpected argument '%s'",
		    argv[optind]);
	if (!a.m.to || !a.m.type || !a.m.case_ref || !a.m.form)
		return cli_usage("send", "--to, --type, --case and --form are "
		    "required");
	if ((rc = session_open(&s, "send", a.m.dir, a.m.pass_file)) == 0)
		rc = send_common(&s, &a, a.m.to);
	session_close(&s);
	return rc;
}

int
cmd_reply(int argc, char **argv)
{
	struct agent_session s;
	struct send_args a;
	struct ls_msg m;
	uint8_t id[16];
	char sender[REPAT_MAX_AGENT_ID + 1], case_ref[REPAT_MAX_CASE_REF + 1];
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(reply_help, stdout);
		return REPAT_EXIT_OK;
	}
	if ((rc = parse_send_args("reply", argc, argv, &a)) != 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage("reply", "give the MESSAGE_ID to reply to");
	if (a.m.to || a.m.case_ref || a.m.in_reply_to)
		return cli_usage("reply", "--to, --case and --in-reply-to come "
		    "from the original message");
	if (!a.m.type || !a.m.form)
		return cli_usage("reply", "--type and --form are required");
	if ((rc = cli_parse_id("reply", "MESSAGE_ID", argv[optind], id)) != 0)
		return rc;
	if ((rc = session_open(&s, "reply", a.m.dir, a.m.pass_file)) != 0)
		goto out;
	memset(&m, 0, sizeof(m));
	if (local_store_find(s.store, id, &m) != REPAT_OK || m.sent) {
		rc = cli_fail("reply", REPAT_EXIT_FAIL, "no received message "
		    "%s in the inbox (see `repat inbox`; run `repat sync` "
		    "first)", argv[optind]);
		goto out_msg;
	}
	if (strcmp(m.status, LS_UNVERIFIED) == 0) {
		rc = cli_fail("reply", REPAT_EXIT_UNTRUSTED, "message %s did "
		    "not verify (%s); do not reply to it", argv[optind],
		    m.reason);
		goto out_msg;
	}
	snprintf(sender, sizeof(sender), "%s", m.sender);
	snprintf(case_ref, sizeof(case_ref), "%s", m.case_ref);
	a.m.case_ref = case_ref;
	a.m.in_reply_to = argv[optind];
	rc = send_common(&s, &a, sender);
out_msg:
	free(m.envelope);
out:
	session_close(&s);
	return rc;
}

/* Verifies a message file and keeps it in the outbox; the id in id. */
static int
store_file(struct agent_session *s, const uint8_t *buf, size_t len,
    uint8_t id[16])
{
	struct repat_verified v;
	char err[REPAT_ERRBUF_LEN] = "";
	bool relayed;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = session_keys(s)) != 0)
		return rc;
	if (repat_envelope_verify(s->ks.trust, buf, len, repat_now_ms(), &v,
	    err) != REPAT_OK) {
		rc = cli_fail(s->cmd, REPAT_EXIT_UNTRUSTED, "NOT TRUSTWORTHY: "
		    "%s", err);
		goto out;
	}
	relayed = strcmp(v.header->sender, s->agent_id) != 0;
	if (relayed && strcmp(v.sender.country, s->ks.id.country) != 0) {
		rc = cli_fail(s->cmd, REPAT_EXIT_FAIL, "this message is from "
		    "%s; only an agent of %s can relay it to the broker",
		    v.header->sender, v.sender.country);
		goto out;
	}
	memcpy(id, v.header->message_id.data, 16);
	if (local_store_outbox_add(s->store, buf, len, relayed, repat_now_ms(),
	    err) != REPAT_OK) {
		rc = cli_fail(s->cmd, REPAT_EXIT_FAIL, "the outbox: %s", err);
		goto out;
	}
	if (relayed)
		fprintf(stderr, "repat submit: relaying %s's message for "
		    "%s\n", v.header->sender, v.header->recipient);
	rc = REPAT_EXIT_OK;
out:
	repat_verified_clear(&v);
	return rc;
}

int
cmd_submit(int argc, char **argv)
{
	struct cli_file_opts o;
	struct agent_session s;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t *buf = NULL, ids[1][16];
	size_t len = 0;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(submit_help, stdout);
		return REPAT_EXIT_OK;
	}
	if ((rc = cli_parse_file_opts("submit", argc, argv, &o)) != 0)
		return rc;
	if (repat_file_read(o.file, REPAT_MAX_ENVELOPE, &buf, &len, err) !=
	    REPAT_OK)
		return cli_fail("submit", REPAT_EXIT_FAIL, "%s", err);
	if ((rc = session_open(&s, "submit", o.dir, o.pass_file)) == 0 &&
	    (rc = store_file(&s, buf, len, ids[0])) == 0)
		rc = submit_and_report(&s, ids, 1, o.json);
	session_close(&s);
	free(buf);
	return rc;
}
