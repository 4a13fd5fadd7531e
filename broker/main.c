/*
 * main.c: repat-broker's entry point: the daemon and its subcommands.
 *
 *   repat-broker -c broker.conf              run the broker
 *   repat-broker register -c FILE CERTS...   import agent certificates
 *   repat-broker status -c FILE [--json] [--overdue]  queues, agents, late replies
 *   repat-broker check -c FILE               integrity and audit check
 *
 * Exit codes: 0 done, 1 failure (the message says which file and why),
 * 2 usage.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/repat.h"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: repat-broker -c broker.conf\n"
	    "       repat-broker register -c broker.conf AGENT_DIR | "
	    "SIGN.crt ENC.crt ...\n"
	    "       repat-broker status -c broker.conf [--json] [--overdue]\n"
	    "       repat-broker check -c broker.conf\n"
	    "       repat-broker restore-ack -c broker.conf\n"
	    "example: repat-broker -c /etc/repat/broker.conf\n");
	return 2;
}

static int
run(const char *conf)
{
	struct broker b;
	char err[REPAT_ERRBUF_LEN];
	int rc;

	if ((rc = broker_init(&b, conf, err)) != 0) {
		fprintf(stderr, "repat-broker: %s\n", err);
		broker_free(&b);
		return 1;
	}
	rc = broker_run(&b);
	broker_free(&b);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "overdue", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = NULL, *conf = NULL;
	bool json = false, overdue = false;
	int ch;

	repat_log_init("repat-broker", REPAT_LOG_INFO);
	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		argc--;
		argv++;
	}
	while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'o':
			overdue = true;
			break;
		case 'V':
			printf("repat-broker %s (wire %d)\n",
			    REPAT_VERSION_STRING, REPAT_WIRE_VERSION);
			return 0;
		case 'h':
			usage();
			return 0;
		default:
			return usage();
		}
	}
	if (conf == NULL)
		return usage();
	if (cmd == NULL)
		return optind == argc ? run(conf) : usage();
	if (strcmp(cmd, "register") == 0)
		return ops_register(conf, argc - optind, argv + optind);
	if (strcmp(cmd, "status") == 0 && optind == argc)
		return ops_status(conf, json, overdue);
	if (strcmp(cmd, "check") == 0 && optind == argc)
		return ops_check(conf);
	if (strcmp(cmd, "restore-ack") == 0 && optind == argc)
		return checkpoint_restore_ack(conf);
	return usage();
}
