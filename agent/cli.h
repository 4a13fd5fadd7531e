/*
 * cli.h: what every `repat` subcommand shares: exit codes, the agent
 * directory, error printing. Each subcommand lives in its own cmd_*.c and
 * is listed once, in main.c's table.
 */
#ifndef REPAT_AGENT_CLI_H
#define REPAT_AGENT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

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

/* Wall-clock time in ms since the epoch. */
uint64_t cli_now_ms(void);

struct repat_keystore;
typedef struct ProtobufCMessage ProtobufCMessage;

/* Loads the agent's keystore, printing why not. An exit code. */
int cli_load_keystore(const char *cmd, const char *dir, const char *pass_file,
    struct repat_keystore *ks);
/* Reads and validates a form file, printing every problem. An exit code. */
int cli_load_form(const char *cmd, int type, const char *path,
    ProtobufCMessage **form);
/*
 * Loads and verifies a recipient's encryption certificate (cert_path, or
 * DIR/directory/TO/enc.crt) against the agent's bundle. An exit code.
 */
int cli_recipient_cert(const char *cmd, const struct repat_keystore *ks,
    const char *dir, const char *to, const char *cert_path, X509 **out);
/* Parses a 32-hex-digit message id; a usage exit code on failure. */
int cli_parse_id(const char *cmd, const char *what, const char *hex,
    uint8_t out[16]);

/* Subcommands, one per cmd_*.c. */
int cmd_form(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_region(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_agreement(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_reply(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_case(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_proof(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
