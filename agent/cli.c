/*
 * cli.c: helpers every subcommand shares (see cli.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "cli.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/pki.h"

/*
 * A failed audit check is loud and persistent: every command that acts as
 * this agent repeats the alarm until an operator has looked into it.
 */
static const char *
alarmed(const char *dir)
{
	(void)repat_audit_alarm_print(dir, stderr);
	return dir;
}

const char *
cli_agent_dir(const char *opt)
{
	const char *env;

	if (opt != NULL && *opt != '\0')
		return alarmed(opt);
	env = getenv("REPAT_DIR");
	if (env != NULL && *env != '\0')
		return alarmed(env);
	fprintf(stderr, "repat: which agent? Give --dir DIR (the agent's "
	    "folder, e.g. region/agents/TH.DATIP) or set REPAT_DIR.\n");
	return NULL;
}

static void __attribute__((format(printf, 2, 0)))
vsay(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "repat %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'repat %s --help'.\n", cmd);
	return REPAT_EXIT_USAGE;
}

int
cli_fail(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(cmd, fmt, ap);
	va_end(ap);
	return code;
}

bool
cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

int
cli_getopt(const char *cmd, int argc, char **argv, const struct option *opts)
{
	int c;

	opterr = 0;
	/* ':' first: a missing value comes back as ':', told apart. */
	c = getopt_long(argc, argv, ":", opts, NULL);
	if (c == ':') {
		(void)cli_usage(cmd, "option '%s' needs a value",
		    argv[optind - 1]);
		c = '?';
	} else if (c == '?') {
		(void)cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
	}
	return c;
}

int
cli_load_keystore(const char *cmd, const char *dir, const char *pass_file,
    struct repat_keystore *ks)
{
	char err[REPAT_ERRBUF_LEN] = "";

	if (repat_keystore_load(dir, pass_file, ks, err) != REPAT_OK)
		return cli_fail(cmd, REPAT_EXIT_FAIL, "%s", err);
	return REPAT_EXIT_OK;
}

int
cli_load_form(const char *cmd, int type, const char *path,
    ProtobufCMessage **form)
{
	struct repat_form_report report;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t *json;
	size_t len;
	int rc;

	if (repat_file_read(path, REPAT_MAX_FORM_JSON, &json, &len, err) !=
	    REPAT_OK)
		return cli_fail(cmd, REPAT_EXIT_FAIL, "%s", err);
	memset(&report, 0, sizeof(report));
	rc = repat_form_from_json(type, (const char *)json, len, form,
	    &report);
	repat_free_secret(json, len);
	if (rc != REPAT_OK) {
		fprintf(stderr, "repat %s: %s is not a valid %s form:\n", cmd,
		    path, repat_message_type_name(type));
		repat_form_report_print(&report, stderr);
		return REPAT_EXIT_FAIL;
	}
	if (report.n > 0)
		repat_form_report_print(&report, stderr);
	return REPAT_EXIT_OK;
}

int
cli_check_recipient_cert(const char *cmd, const struct repat_keystore *ks,
    const char *to, X509 *cert)
{
	struct repat_identity id;
	char err[REPAT_ERRBUF_LEN] = "";
	int rc;

	rc = repat_trust_verify(ks->trust, cert, repat_now_ms(), &id, err);
	if (rc == REPAT_OK && strcmp(id.agent_id, to) != 0)
		rc = repat_errf(err, REPAT_ECERT, "the certificate is %s's, "
		    "not %s's", id.agent_id, to);
	if (rc == REPAT_OK &&
	    EVP_PKEY_get_id(X509_get0_pubkey(cert)) != EVP_PKEY_X25519)
		rc = repat_errf(err, REPAT_ECERT, "that is not an encryption "
		    "(X25519) certificate");
	if (rc != REPAT_OK)
		return cli_fail(cmd, REPAT_EXIT_UNTRUSTED, "recipient %s: %s",
		    to, err);
	return REPAT_EXIT_OK;
}

/* Verifies a recipient's encryption certificate before sealing to it. */
int
cli_recipient_cert(const char *cmd, const struct repat_keystore *ks,
    const char *dir, const char *to, const char *cert_path, X509 **out)
{
	char err[REPAT_ERRBUF_LEN] = "", *path;
	int rc;

	path = cert_path ? repat_xstrdup(cert_path) :
	    repat_xasprintf("%s/directory/%s/enc.crt", dir, to);
	rc = repat_cert_load(path, out, err);
	free(path);
	if (rc != REPAT_OK)
		return cli_fail(cmd, REPAT_EXIT_FAIL, "%s (give the recipient's "
		    "encryption certificate with --to-cert, or run `repat "
		    "sync` to refresh the directory)", err);
	if ((rc = cli_check_recipient_cert(cmd, ks, to, *out)) !=
	    REPAT_EXIT_OK) {
		X509_free(*out);
		*out = NULL;
	}
	return rc;
}

int
cli_parse_id(const char *cmd, const char *what, const char *hex,
    uint8_t out[REPAT_MESSAGE_ID_LEN])
{
	if (repat_unhex(hex, out, REPAT_MESSAGE_ID_LEN) != REPAT_OK)
		return cli_usage(cmd, "%s: '%s' is not a message id (32 hex "
		    "digits)", what, hex);
	return REPAT_EXIT_OK;
}

/* Stores arg as option c of m; false when c is not one of them. */
static bool
message_opt(int c, const char *arg, struct cli_message_opts *m)
{
	switch (c) {
	case 'd': m->dir = arg; break;
	case 't': m->to = arg; break;
	case 'T': m->type = arg; break;
	case 'c': m->case_ref = arg; break;
	case 'f': m->form = arg; break;
	case 'r': m->in_reply_to = arg; break;
	case 'a': m->amends = arg; break;
	case 'g': m->agreement = arg; break;
	case 'p': m->operator_name = arg; break;
	case 'P': m->pass_file = arg; break;
	default: return false;
	}
	return true;
}

int
cli_message_getopt(const char *cmd, int argc, char **argv,
    const struct option *opts, struct cli_message_opts *m)
{
	int c;

	while ((c = cli_getopt(cmd, argc, argv, opts)) != -1 &&
	    message_opt(c, optarg, m))
		;
	return c;
}

int
cli_parse_expires_days(const char *arg, long *days)
{
	char *end;

	errno = 0;
	*days = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || *days < 1 ||
	    *days > 3650)
		return -1;
	return 0;
}

int
cli_message_spec(const char *cmd, const struct cli_message_opts *m,
    int type, uint64_t now, struct cli_message *msg)
{
	struct repat_message_spec *spec = &msg->spec;
	int rc;

	memset(spec, 0, sizeof(*spec));
	if (m->in_reply_to && (rc = cli_parse_id(cmd, "--in-reply-to",
	    m->in_reply_to, msg->in_reply_to)) != 0)
		return rc;
	if (m->amends && (rc = cli_parse_id(cmd, "--amends", m->amends,
	    msg->amends)) != 0)
		return rc;
	spec->type = type;
	spec->case_ref = m->case_ref;
	spec->expires_ms = m->expires_days ?
	    now + (uint64_t)m->expires_days * 86400000ULL : 0;
	spec->in_reply_to = m->in_reply_to ? msg->in_reply_to : NULL;
	spec->amends = m->amends ? msg->amends : NULL;
	spec->agreement_id = m->agreement;
	return REPAT_EXIT_OK;
}

int
cli_parse_file_opts(const char *cmd, int argc, char **argv,
    struct cli_file_opts *o)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = cli_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'j': o->json = true; break;
		case 'P': o->pass_file = optarg; break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cmd, "give exactly one message FILE");
	o->file = argv[optind];
	return REPAT_EXIT_OK;
}
