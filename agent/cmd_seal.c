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
	const char *dir, *to, *type, *case_ref, *form, *out, *to_cert;
	const char *in_reply_to, *amends, *agreement, *operator_name;
	const char *pass_file;
	long expires_days;
};

static int
parse_seal_args(int argc, char **argv, struct seal_args *a)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "to", required_argument, NULL, 't' },
		{ "type", required_argument, NULL, 'T' },
		{ "case", required_argument, NULL, 'c' },
		{ "form", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "to-cert", required_argument, NULL, 'C' },
		{ "expires-days", required_argument, NULL, 'e' },
		{ "in-reply-to", required_argument, NULL, 'r' },
		{ "amends", required_argument, NULL, 'a' },
		{ "agreement", required_argument, NULL, 'g' },
		{ "operator", required_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->dir = optarg; break;
		case 't': a->to = optarg; break;
		case 'T': a->type = optarg; break;
		case 'c': a->case_ref = optarg; break;
		case 'f': a->form = optarg; break;
		case 'o': a->out = optarg; break;
		case 'C': a->to_cert = optarg; break;
		case 'e': a->expires_days = strtol(optarg, NULL, 10); break;
		case 'r': a->in_reply_to = optarg; break;
		case 'a': a->amends = optarg; break;
		case 'g': a->agreement = optarg; break;
		case 'p': a->operator_name = optarg; break;
		case 'P': a->pass_file = optarg; break;
		default: return cli_usage("seal", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("seal", "unexpected argument '%s'",
		    argv[optind]);
	if (!a->to || !a->type || !a->case_ref || !a->form || !a->out)
		return cli_usage("seal", "--to, --type, --case, --form and "
		    "--out are required");
	if (a->expires_days < 0 || a->expires_days > 3650)
		return cli_usage("seal", "--expires-days must be 1 to 3650");
	return REPAT_EXIT_OK;
}

int
cmd_seal(int argc, char **argv)
{
	struct seal_args a;
	struct repat_message_spec spec;
	struct repat_keystore ks;
	ProtobufCMessage *form = NULL;
	X509 *to_cert = NULL;
	uint8_t reply[16], amends[16], id[16], *out = NULL;
	char err[REPAT_ERRBUF_LEN] = "", hex[33];
	size_t outlen;
	uint64_t now = cli_now_ms();
	int rc, type;

	if (cli_wants_help(argc, argv)) {
		fputs(seal_help, stdout);
		return REPAT_EXIT_OK;
	}
	if ((rc = parse_seal_args(argc, argv, &a)) != REPAT_EXIT_OK)
		return rc;
	if ((type = repat_message_type_parse(a.type)) < 0)
		return cli_usage("seal", "unknown type '%s' (see `repat form "
		    "types`)", a.type);
	memset(&spec, 0, sizeof(spec));
	if (a.in_reply_to && (rc = cli_parse_id("seal", "--in-reply-to",
	    a.in_reply_to, reply)) != 0)
		return rc;
	if (a.amends && (rc = cli_parse_id("seal", "--amends", a.amends,
	    amends)) != 0)
		return rc;
	if ((a.dir = cli_agent_dir(a.dir)) == NULL)
		return REPAT_EXIT_USAGE;
	if ((rc = cli_load_keystore("seal", a.dir, a.pass_file, &ks)) != 0)
		return rc;
	if ((rc = cli_load_form("seal", type, a.form, &form)) != 0)
		goto done;
	if ((rc = cli_recipient_cert("seal", &ks, a.dir, a.to, a.to_cert,
	    &to_cert)) != 0)
		goto done;
	spec.type = type;
	spec.case_ref = a.case_ref;
	spec.recipient = a.to;
	spec.expires_ms = a.expires_days ?
	    now + (uint64_t)a.expires_days * 86400000ULL : 0;
	spec.in_reply_to = a.in_reply_to ? reply : NULL;
	spec.amends = a.amends ? amends : NULL;
	spec.agreement_id = a.agreement;
	spec.form = form;
	spec.operator_name = a.operator_name ? a.operator_name :
	    getenv("REPAT_OPERATOR");
	if (repat_envelope_seal(&ks, to_cert, &spec, now, &out, &outlen, id,
	    err) != REPAT_OK) {
		rc = cli_fail("seal", REPAT_EXIT_FAIL, "%s", err);
		goto done;
	}
	if (repat_file_write(a.out, out, outlen, 0600, err) != REPAT_OK) {
		rc = cli_fail("seal", REPAT_EXIT_FAIL, "%s", err);
		goto done;
	}
	printf("sealed %s %s for %s, case %s: %s (%zu bytes)\n",
	    a.type, repat_hex(id, 16, hex), a.to, a.case_ref, a.out, outlen);
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
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct repat_keystore ks;
	struct repat_verified v;
	struct repat_form_report report;
	ProtobufCMessage *form = NULL;
	const char *dir = NULL, *pass_file = NULL;
	char err[REPAT_ERRBUF_LEN] = "", *operator_name = NULL;
	uint8_t *buf = NULL;
	size_t len;
	bool json = false;
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(open_help, stdout);
		return REPAT_EXIT_OK;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'j': json = true; break;
		case 'P': pass_file = optarg; break;
		default: return cli_usage("open", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("open", "give exactly one message FILE");
	if ((dir = cli_agent_dir(dir)) == NULL)
		return REPAT_EXIT_USAGE;
	if (repat_file_read(argv[optind], REPAT_MAX_ENVELOPE, &buf, &len,
	    err) != REPAT_OK)
		return cli_fail("open", REPAT_EXIT_FAIL, "%s", err);
	if ((rc = cli_load_keystore("open", dir, pass_file, &ks)) != 0) {
		free(buf);
		return rc;
	}
	memset(&report, 0, sizeof(report));
	if (repat_envelope_verify(ks.trust, buf, len, cli_now_ms(), &v, err) !=
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
	print_opened(&v, form, operator_name, json);
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
