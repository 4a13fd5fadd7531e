/*
 * cli.h: what every `repat` subcommand shares: exit codes, the agent
 * directory, error printing. Each subcommand lives in its own cmd_*.c and
 * is listed once, in main.c's table.
 */
#ifndef REPAT_AGENT_CLI_H
#define REPAT_AGENT_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "repat/clock.h"
#include "repat/envelope.h"

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
/*
 * getopt_long(argc, argv, "", opts) without getopt's own messages: an
 * unknown option, or one missing its argument, prints "unknown or
 * incomplete option" with the usage hint and gives '?' (the caller returns
 * REPAT_EXIT_USAGE). Set optind = 0 before the first call.
 */
int cli_getopt(const char *cmd, int argc, char **argv,
    const struct option *opts);

struct repat_keystore;
typedef struct ProtobufCMessage ProtobufCMessage;

/* Loads the agent's keystore, printing why not. An exit code. */
int cli_load_keystore(const char *cmd, const char *dir, const char *pass_file,
    struct repat_keystore *ks);
/* Reads and validates a form file, printing every problem. An exit code. */
int cli_load_form(const char *cmd, int type, const char *path,
    ProtobufCMessage **form);
/*
 * Checks a recipient's encryption certificate against the agent's bundle:
 * valid now, certifying `to`, holding an X25519 key. An exit code.
 */
int cli_check_recipient_cert(const char *cmd, const struct repat_keystore *ks,
    const char *to, X509 *cert);
/*
 * Loads and verifies a recipient's encryption certificate (cert_path, or
 * DIR/directory/TO/enc.crt) against the agent's bundle. An exit code.
 */
int cli_recipient_cert(const char *cmd, const struct repat_keystore *ks,
    const char *dir, const char *to, const char *cert_path, X509 **out);
/* Parses a 32-hex-digit message id; a usage exit code on failure. */
int cli_parse_id(const char *cmd, const char *what, const char *hex,
    uint8_t out[16]);

/* ---- the options of a new message: `repat seal`, `send` and `reply` */

/* What those commands share; strings are borrowed from argv. */
struct cli_message_opts {
	const char *dir;		/* --dir AGENTDIR */
	const char *to;			/* --to AGENT_ID */
	const char *type;		/* --type TYPE */
	const char *case_ref;		/* --case REF */
	const char *form;		/* --form FORM.json */
	const char *in_reply_to;	/* --in-reply-to ID */
	const char *amends;		/* --amends ID */
	const char *agreement;		/* --agreement ID */
	const char *operator_name;	/* --operator NAME */
	const char *pass_file;		/* --passphrase-file F */
	long expires_days;		/* --expires-days N, 0 when absent */
};

/*
 * Their getopt_long entries, for the head of a command's table. Each
 * command checks --expires-days ('e') with cli_parse_expires_days, so that
 * its usage error names the command.
 */
#define CLI_MESSAGE_OPTIONS \
	{ "dir", required_argument, NULL, 'd' }, \
	{ "to", required_argument, NULL, 't' }, \
	{ "type", required_argument, NULL, 'T' }, \
	{ "case", required_argument, NULL, 'c' }, \
	{ "form", required_argument, NULL, 'f' }, \
	{ "expires-days", required_argument, NULL, 'e' }, \
	{ "in-reply-to", required_argument, NULL, 'r' }, \
	{ "amends", required_argument, NULL, 'a' }, \
	{ "agreement", required_argument, NULL, 'g' }, \
	{ "operator", required_argument, NULL, 'p' }, \
	{ "passphrase-file", required_argument, NULL, 'P' }

/* --expires-days N: 0 when N is a whole number from 1 to 3650, else -1. */
int cli_parse_expires_days(const char *arg, long *days);

/*
 * getopt_long(argc, argv, "", opts) that stores the message options in m
 * itself: the next option of the command's own, or -1 at the end.
 */
int cli_message_getopt(const char *cmd, int argc, char **argv,
    const struct option *opts, struct cli_message_opts *m);

/* A message spec with the storage of the ids it points to. */
struct cli_message {
	struct repat_message_spec spec;
	uint8_t in_reply_to[16];	/* --in-reply-to, parsed */
	uint8_t amends[16];		/* --amends, parsed */
};

/*
 * Fills msg->spec with what m says of a message of type: case, expiry
 * (from now), in_reply_to, amends and agreement; the rest is zero. The
 * spec borrows m's strings. A usage exit code when an id is malformed.
 */
int cli_message_spec(const char *cmd, const struct cli_message_opts *m,
    int type, uint64_t now, struct cli_message *msg);

/* ---- the options of a command on one message file: `open`, `submit` */

struct cli_file_opts {
	const char *dir;		/* --dir AGENTDIR */
	const char *pass_file;		/* --passphrase-file F */
	const char *file;		/* the message FILE */
	bool json;			/* --json */
};

/* Parses [--dir D] [--passphrase-file F] [--json] FILE. An exit code. */
int cli_parse_file_opts(const char *cmd, int argc, char **argv,
    struct cli_file_opts *o);

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
