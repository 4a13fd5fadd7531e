/*
 * cmd_sync.c: `repat sync`: one round with the broker.
 *
 * Submit the outbox (the stored bytes), refresh the directory (the CRLs
 * it carries installed when this agent's own pinned CAs signed them, then
 * every entry verified against the bundle before it is cached), take in
 * deliveries and notices until the broker has nothing more for a moment
 * (each committed before it is acked), and say what happened.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "session.h"
#include "repat/codec.h"
#include "repat/describe.h"
#include "repat/err.h"

static const char sync_help[] =
"usage: repat sync [--dir AGENTDIR] [--wait-ms N] [--passphrase-file F]\n"
"                  [--json]\n"
"\n"
"Connects to the broker, submits every message waiting in the outbox,\n"
"refreshes the directory of agents and the CRLs (a CRL is installed into\n"
"AGENTDIR/trust only when the pinned CA of its country signed it and it\n"
"is newer than the one held), fetches deliveries (verified, stored\n"
"sealed, then acknowledged) and notices (delivered, expired, reminder,\n"
"consent withdrawn) and prints a summary. --wait-ms is how long to wait\n"
"for more deliveries before finishing (default 1500).\n"
"\n"
"Exit: 0 done, 3 broker unreachable (the outbox is kept), 1 failed.\n"
"\n"
"example:\n"
"  repat sync --dir region/agents/MM.DSW\n";

static void
print_summary(const struct session_stats *st,
    const struct session_directory *sd, bool dir_done, bool json)
{
	if (json) {
		printf("{\"submitted\":%zu,\"receipted\":%zu,\"rejected\":%zu,"
		    "\"queued\":%zu,\"received\":%zu,\"duplicates\":%zu,"
		    "\"unverified\":%zu,\"notices\":%zu,\"last_seq\":%llu",
		    st->submitted, st->receipted, st->rejected, st->queued,
		    st->received, st->duplicates, st->unverified, st->notices,
		    (unsigned long long)st->last_seq);
		if (dir_done)
			printf(",\"directory\":%zu,\"directory_refused\":%zu,"
			    "\"directory_unsaved\":%zu,\"crls_updated\":%zu,"
			    "\"crls_refused\":%zu", sd->ok, sd->refused,
			    sd->unsaved, sd->crls_updated, sd->crls_refused);
		printf("}\n");
		return;
	}
	printf("sent: %zu receipted, %zu refused, %zu still queued\n",
	    st->receipted, st->rejected, st->queued);
	printf("received: %zu new message%s", st->received,
	    st->received == 1 ? "" : "s");
	if (st->unverified)
		printf(" (%zu NOT TRUSTWORTHY, quarantined)", st->unverified);
	if (st->duplicates)
		printf(", %zu already held", st->duplicates);
	printf(", %zu notices\n", st->notices);
	if (!dir_done)
		return;
	printf("directory: %zu agents verified%s%s\n", sd->ok,
	    sd->refused ? ", some entries REFUSED (see above)" : "",
	    sd->unsaved ? ", some NOT SAVED (see above)" : "");
	printf("CRLs: %zu updated%s\n", sd->crls_updated, sd->crls_refused ?
	    ", some NOT installed (see above)" : "");
}

/* Notices a person must act on are said as they come in. */
static void
say_notice(struct agent_session *s, const struct repat_client_event *ev,
    void *arg)
{
	const Repat__NoticeBody *n = ev->notice_body;
	char hex[33], when[32];

	(void)s;
	(void)arg;
	if (ev->kind != REPAT_EVENT_NOTICE || n == NULL || !ev->notice_verified)
		return;
	hex[0] = '\0';
	if (n->n_message_ids > 0 && n->message_ids[0].len == 16)
		repat_hex(n->message_ids[0].data, 16, hex);
	switch (n->kind) {
	case REPAT__NOTICE_KIND__NOTICE_REMINDER:
		printf("REMINDER: case %s awaits %s from you%s%s\n",
		    n->case_ref ? n->case_ref : "?", n->has_awaited_type ?
		    repat_message_type_name(n->awaited_type) : "a reply",
		    n->has_due_ms ? ", due " : "", n->has_due_ms ?
		    repat_time_iso(n->due_ms, when, sizeof(when)) : "");
		break;
	case REPAT__NOTICE_KIND__NOTICE_CONSENT_WITHDRAWN:
		printf("CONSENT WITHDRAWN on case %s: stop using and sharing "
		    "the data it covered\n", n->case_ref ? n->case_ref : "?");
		break;
	case REPAT__NOTICE_KIND__NOTICE_EXPIRED:
	case REPAT__NOTICE_KIND__NOTICE_DEAD_LETTER:
		printf("NOT DELIVERED: message %s %s before its recipient "
		    "took it; send it again if it still matters\n", hex,
		    n->kind == REPAT__NOTICE_KIND__NOTICE_EXPIRED ?
		    "expired" : "was given up");
		break;
	default:
		break;
	}
}

/*
 * A running `repat watch` holds this agent's one connection and already
 * does what sync does; connecting would take its session over. Wait for it
 * to submit the outbox instead.
 */
static int
watch_is_syncing(struct agent_session *s, bool json)
{
	bool drained = session_wait_outbox(s, NULL, 0, 2 * s->timeout_ms);

	if (json)
		printf("{\"watch_running\":true,\"outbox_drained\":%s}\n",
		    drained ? "true" : "false");
	else
		printf("a `repat watch` is running for this agent: it submits "
		    "the outbox and stores deliveries as they arrive%s\n",
		    drained ? "; the outbox is empty" : "");
	if (drained)
		return REPAT_EXIT_OK;
	return cli_fail("sync", REPAT_EXIT_QUEUED, "messages are still "
	    "queued; the watch will send them when the broker answers");
}

int
cmd_sync(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_session s;
	struct session_stats st;
	const char *dir = NULL, *pass_file = NULL;
	struct session_directory sd;
	char err[REPAT_ERRBUF_LEN] = "", *end;
	bool json = false, dir_done = false;
	long wait_ms = 1500;
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(sync_help, stdout);
		return REPAT_EXIT_OK;
	}
	optind = 1;
	while ((c = cli_getopt("sync", argc, argv, opts)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'w':
			wait_ms = strtol(optarg, &end, 10);
			if (*end != '\0' || wait_ms < 1 || wait_ms > 600000)
				return cli_usage("sync", "--wait-ms must be 1 "
				    "to 600000");
			break;
		case 'P': pass_file = optarg; break;
		case 'j': json = true; break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind != argc)
		return cli_usage("sync", "unexpected argument '%s'",
		    argv[optind]);
	memset(&st, 0, sizeof(st));
	memset(&sd, 0, sizeof(sd));
	if ((rc = session_open(&s, "sync", dir, pass_file)) != 0)
		goto out;
	if (session_watch_running(&s)) {
		rc = watch_is_syncing(&s, json);
		goto out;
	}
	if ((rc = session_connect(&s)) == REPAT_EXIT_QUEUED) {
		rc = cli_fail("sync", REPAT_EXIT_QUEUED, "the broker is "
		    "unreachable; the outbox is kept and the next sync will "
		    "send it");
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = session_flush(&s, &st, true)) != 0 &&
	    rc != REPAT_EXIT_QUEUED)
		goto out;
	/*
	 * Before the deliveries: they are verified with the CRLs the
	 * directory brings (a sender revoked since, or every sender of a
	 * country whose CRL here went stale), and even when a submit went
	 * unanswered: a delivery checked against a stale CRL is kept
	 * quarantined for good.
	 */
	if (s.client != NULL) {
		if (session_refresh_directory(&s, &sd, err) == REPAT_OK)
			dir_done = true;
		else
			fprintf(stderr, "repat sync: directory not refreshed: "
			    "%s\n", err);
	}
	rc = session_receive(&s, (int)wait_ms, &st, NULL, NULL,
	    json ? NULL : say_notice, NULL);
	if (rc == REPAT_EXIT_OK && s.client != NULL)
		rc = session_cross_check(&s);
	print_summary(&st, &sd, dir_done, json);
	if (rc == REPAT_EXIT_OK && st.queued > 0)
		rc = REPAT_EXIT_QUEUED;
	if (rc == REPAT_EXIT_QUEUED)
		fprintf(stderr, "repat sync: the connection was lost; run "
		    "`repat sync` again\n");
out:
	session_close(&s);
	return rc;
}
