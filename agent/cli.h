/*
 * cli.h: what every `repat` subcommand shares: exit codes, the agent
 * directory, error printing. Each subcommand lives in its own cmd_*.c and
 * is listed once, in main.c's table.
 */
#ifndef REPAT_AGENT_CLI_H
#define REPAT_AGENT_CLI_H

#include <stdbool.h>

/* Exit codes, documented in docs/man/repat.1. */
enum repat_exit {
	REPAT_EXIT_OK = 0,		/* done */
	REPAT_EXIT_FAIL = 1,		/* invalid input, failed check, refusal */
	REPAT_EXIT_USAGE = 2,		/* wrong options or arguments */
	REPAT_EXIT_QUEUED = 3,		/* broker unreachable: kept in the outbox */
	REPAT_EXIT_UNTRUSTED = 4	/* a signature, certificate or seal failed */
};

/* One subcommand: `repat NAME ...` calls run(argc, argv) with argv[0] NAME. */
struct repat_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/*
 * The agent directory: --dir when given, else $REPAT_DIR. Prints what to do
 * and returns NULL when neither is set. Borrowed string.
 */
const char *cli_agent_dir(const char *opt);

/* Prints "repat CMD: message" to stderr; returns REPAT_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "repat CMD: message" to stderr; returns code. */
int cli_fail(const char *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True when argv has -h or --help: callers print their help and exit 0. */
bool cli_wants_help(int argc, char **argv);

/* Subcommands, one per cmd_*.c. */
int cmd_form(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_region(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_open(int argc, char **argv);

#endif
