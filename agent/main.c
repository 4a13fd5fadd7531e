/*
 * main.c: the `repat` command: one table of subcommands, one dispatch.
 *
 * Agent operations (seal, open, send, sync, inbox, ...) and administration
 * (ca, region, agreement, audit) share this entry point; each subcommand
 * is a cmd_*.c file with its own --help.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "repat/repat.h"

static const struct repat_command commands[] = {
	{ "region", cmd_region, "create a whole test or demo region" },
	{ "ca", cmd_ca, "run a national CA: init, issue, revoke, crl" },
	{ "trust", cmd_trust, "show the pinned trust bundle and fingerprints" },
	{ "init", cmd_init, "create an agent's keys and certificate requests" },
	{ "form", cmd_form, "case forms: types, template, validate" },
	{ "seal", cmd_seal, "write a signed, sealed message file" },
	{ "open", cmd_open, "verify and open a message file" },
	{ "send", cmd_send, "send a form to an agent or CC/role" },
	{ "reply", cmd_reply, "reply to a received message" },
	{ "submit", cmd_submit, "hand an offline message file to the broker" },
	{ "sync", cmd_sync, "submit the outbox, fetch deliveries and notices" },
	{ "inbox", cmd_inbox, "list received and sent messages" },
	{ "show", cmd_show, "show one message, verified and decrypted" },
	{ "case", cmd_case, "a case's timeline, state and deadlines" },
	{ "watch", cmd_watch, "stay connected; print or --exec each event" },
	{ "agreement", cmd_agreement, "sign or check an agreement file" },
	{ "proof", cmd_proof, "verify a message's place in the audit log" },
	{ "audit", cmd_audit, "verify or export the broker's audit log" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: repat COMMAND [OPTIONS]   (repat COMMAND --help)\n\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nExit codes: 0 done, 1 failed or refused, 2 usage error,\n"
	    "3 kept in the outbox (broker unreachable), 4 not trustworthy.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	repat_log_init("repat", REPAT_LOG_WARN);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? REPAT_EXIT_USAGE : REPAT_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("repat %s (wire version %d)\n", REPAT_VERSION_STRING,
		    REPAT_WIRE_VERSION);
		return REPAT_EXIT_OK;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "repat: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return REPAT_EXIT_USAGE;
}
