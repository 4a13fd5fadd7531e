/*
 * cmd_seal.c: `repat seal` and `repat open`, offline message files.
 *
 * Border offices lose connectivity for days, so a message must be able to
 * travel as a file: `seal` writes the same signed, sealed bytes the broker
 * would carry (docs/message-format.md); `open` verifies such a file
 * against the agent's pinned bundle and decrypts it. A file opened this
 * way has not been through a broker, so no agreement or SOP check was
 * made, and `open` says so.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "repat/codec.h"
#include "repat/describe.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/pki.h"

static const char seal_help[] =
"usage: repat seal [--dir AGENTDIR] --to AGENT_ID --type TYPE --case REF\n"
"                  --form FORM.json --out FILE [--to-cert CERT]\n"
"                  [--expires-days N] [--in-reply-to ID] [--amends ID]\n"
"                  [--agreement ID] [--operator NAME] [--passphrase-file F]\n"
"\n"
"Writes a signed message sealed to one recipient, as a file that can be\n"
"carried by hand and later opened (`repat open`) or handed to the broker\n"
"(`repat submit`). The recipient's encryption certificate comes from\n"
"--to-cert, or from the agent's directory (AGENTDIR/directory/ID/enc.crt).\n"
"\n"
"example:\n"
"  repat seal --dir region/agents/TH.WPC.PATHUMTHANI --to MM.DSW \\\n"
"      --type case_referral --case TH-2026-000123 \\\n"
"      --form examples/forms/case_referral.json --out referral.repat\n";

static const char open_help[] =
"usage: repat open [--dir AGENTDIR] FILE [--json] [--passphrase-file F]\n"
"\n"
"Verifies a message file against the pinned trust bundle (signature,\n"
"sender certificate, CRL) and, when it is addressed to this agent,\n"
"decrypts it and checks the form and its header facts. Prints the header\n"
"and the form. Exit 0 when trustworthy and opened, 4 when not.\n"
"\n"
"example:\n"
"  repat open --dir region/agents/MM.DSW referral.repat\n";

struct seal_args {
	struct cli_message_opts m;	/* what send and reply take too */
	const char *out;		/* --out FILE */
	const char *to_cert;		/* --to-cert CERT */
};

static int
parse_seal_args(int argc, char **argv, struct seal_args *a)
{
	static const struct option opts[] = {
		CLI_MESSAGE_OPTIONS,
		{ "out", required_argument, NULL, 'o' },
		{ "to-cert", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_message_opts *m = &a->m;
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = cli_message_getopt("seal", argc, argv, opts, m)) != -1) {
		switch (c) {
		case 'o': a->out = optarg; break;
		case 'C': a->to_cert = optarg; break;
		case 'e':
			if (cli_parse_expires_days(optarg, &m->expires_days))
				return cli_usage("seal", "--expires-days must "
				    "be 1 to 3650");
			break;
		default: return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind != argc)
		return cli_usage("seal", "unexpected argument '%s'",
		    argv[optind]);
	if (!m->to || !m->type || !m->case_ref || !m->form || !a->out)
		return cli_usage("seal", "--to, --type, --case, --form and "
		    "--out are required");
	return REPAT_EXIT_OK;
}

int
cmd_seal(int argc, char **argv)
{
	struct seal_args a;
	struct cli_message msg;
	struct repat_keystore ks;
	ProtobufCMessage *form = NULL;
	X509 *to_cert = NULL;
	uint8_t id[16], *out = NULL;
	char err[REPAT_ERRBUF_LEN] = "", hex[33];
	const char *dir;
	size_t outlen;
	uint64_t now = repat_now_ms();
	int rc, type;

	if (cli_wants_help(argc, argv)) {
		fputs(seal_help, stdout);
		return REPAT_EXIT_OK;
	}
	if ((rc = parse_seal_args(argc, argv, &a)) != REPAT_EXIT_OK)
		return rc;
	if ((type = repat_message_type_parse(a.m.type)) < 0)
		return cli_usage("seal", "unknown type '%s' (see `repat form "
		    "types`)", a.m.type);
	if ((rc = cli_message_spec("seal", &a.m, type, now, &msg)) != 0)
		return rc;
	if ((dir = cli_agent_dir(a.m.dir)) == NULL)
		return REPAT_EXIT_USAGE;
	if ((rc = cli_load_keystore("seal", dir, a.m.pass_file, &ks)) != 0)
		return rc;
	if ((rc = cli_load_form("seal", type, a.m.form, &form)) != 0)
		goto done;
	if ((rc = cli_recipient_cert("seal", &ks, dir, a.m.to, a.to_cert,
	    &to_cert)) != 0)
		goto done;
	msg.spec.recipient = a.m.to;
	msg.spec.form = form;
	msg.spec.operator_name = a.m.operator_name ? a.m.operator_name :
	    getenv("REPAT_OPERATOR");
	if (repat_envelope_seal(&ks, to_cert, &msg.spec, now, &out, &outlen,
	    id, err) != REPAT_OK) {
		rc = cli_fail("seal", REPAT_EXIT_FAIL, "%s", err);
		goto done;
	}
	if (repat_file_write(a.out, out, outlen, 0600, err) != REPAT_OK) {
		rc = cli_fail("seal", REPAT_EXIT_FAIL, "%s", err);
		goto done;
	}
	printf("sealed %s %s for %s, case %s: %s (%zu bytes)\n",
	    a.m.type, repat_hex(id, 16, hex), a.m.to, a.m.case_ref, a.out,
	    outlen);
	rc = REPAT_EXIT_OK;
done:
	free(out);
	X509_free(to_cert);
	repat_form_free(form);
	repat_keystore_clear(&ks);
	return rc;
}

static void
print_opened(const struct repat_verified *v, const ProtobufCMessage *form,
    const char *operator_name, bool json)
{
	char *h = repat_header_json(v->header), *f = NULL;

	if (form != NULL)
		f = repat_form_to_json(form);
	if (json) {
		printf("{\"header\":%s,\"sender_verified\":true,"
		    "\"broker_checked\":false", h);
		if (operator_name != NULL)
			printf(",\"operator\":\"%s\"", operator_name);
		printf(",\"form\":%s}\n", f ? f : "null");
	} else {
		repat_header_print(stdout, v->header);
		if (operator_name != NULL)
			printf("%-18s %s\n", "operator", operator_name);
		printf("\n%s\n", f ? f : "(not addressed to this agent: "
		    "the form stays sealed)");
	}
	free(h);
	free(f);
}

int
cmd_open(int argc, char **argv)
{
	struct cli_file_opts o;
	struct repat_keystore ks;
	struct repat_verified v;
	struct repat_form_report report;
	ProtobufCMessage *form = NULL;
	const char *dir;
	char err[REPAT_ERRBUF_LEN] = "", *operator_name = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(open_help, stdout);
		return REPAT_EXIT_OK;
	}
	if ((rc = cli_parse_file_opts("open", argc, argv, &o)) != 0)
		return rc;
	if ((dir = cli_agent_dir(o.dir)) == NULL)
		return REPAT_EXIT_USAGE;
	if (repat_file_read(o.file, REPAT_MAX_ENVELOPE, &buf, &len, err) !=
	    REPAT_OK)
		return cli_fail("open", REPAT_EXIT_FAIL, "%s", err);
	if ((rc = cli_load_keystore("open", dir, o.pass_file, &ks)) != 0) {
		free(buf);
		return rc;
	}
	memset(&report, 0, sizeof(report));
	if (repat_envelope_verify(ks.trust, buf, len, repat_now_ms(), &v, err) !=
	    REPAT_OK) {
		rc = cli_fail("open", REPAT_EXIT_UNTRUSTED, "NOT TRUSTWORTHY: "
		    "%s", err);
		goto done;
	}
	if (strcmp(v.header->recipient, ks.id.agent_id) == 0 &&
	    repat_envelope_open(&ks, &v, &form, &operator_name, &report, err) !=
	    REPAT_OK) {
		if (report.n > 0)
			repat_form_report_print(&report, stderr);
		rc = cli_fail("open", REPAT_EXIT_UNTRUSTED, "NOT TRUSTWORTHY: "
		    "%s", err);
		goto done;
	}
	print_opened(&v, form, operator_name, o.json);
	fprintf(stderr, "note: signature and sender certificate verified. "
	    "This file has not been through a broker: no agreement or SOP "
	    "check was made.\n");
	rc = REPAT_EXIT_OK;
done:
	repat_verified_clear(&v);
	repat_form_free(form);
	free(operator_name);
	repat_free_secret(buf, len);
	repat_keystore_clear(&ks);
	return rc;
}
