/*
 * cmd_trust.c: `repat trust`, the pinned trust bundle as people compare
 * it at the key ceremony: each CA's country, subject, validity and SHA-256
 * fingerprint (the same hex `openssl x509 -fingerprint -sha256` prints),
 * and the state of its CRL.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cli.h"
#include "repat/err.h"
#include "repat/mem.h"
#include "repat/pki.h"

static int
usage_full(FILE *f)
{
	fprintf(f,
	    "usage: repat trust [--dir AGENTDIR | --bundle DIR] [--json]\n\n"
	    "Lists the pinned CA certificates of a trust bundle\n"
	    "(AGENTDIR/trust by default, AGENTDIR from --dir or REPAT_DIR)\n"
	    "with their SHA-256 fingerprints, to compare at the key\n"
	    "ceremony.\n\n"
	    "Example:\n"
	    "  repat trust --dir region/agents/TH.DATIP\n");
	return f == stdout ? REPAT_EXIT_OK : REPAT_EXIT_USAGE;
}

static void
time_text(const ASN1_TIME *t, char *out, size_t outlen)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(out, outlen, "-");
		return;
	}
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
subject_text(X509 *ca, char *out, size_t outlen)
{
	BIO *mem = BIO_new(BIO_s_mem());
	int n = 0;

	out[0] = '\0';
	if (mem == NULL)
		return;
	X509_NAME_print_ex(mem, X509_get_subject_name(ca), 0, XN_FLAG_ONELINE);
	n = BIO_read(mem, out, (int)outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(mem);
}

static json_t *
describe(repat_trust_t *t, size_t i)
{
	X509 *ca = repat_trust_ca(t, i);
	X509_CRL *crl;
	char fp[96], subj[256], nb[32], na[32], cc[3] = "";
	char lu[32], nu[32];
	X509_NAME *n = X509_get_subject_name(ca);
	json_t *o;
	int nrev;

	X509_NAME_get_text_by_NID(n, NID_countryName, cc, sizeof(cc));
	repat_cert_fingerprint(ca, fp);
	subject_text(ca, subj, sizeof(subj));
	time_text(X509_get0_notBefore(ca), nb, sizeof(nb));
	time_text(X509_get0_notAfter(ca), na, sizeof(na));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "country", cc, "subject",
	    subj, "not_before", nb, "not_after", na, "sha256", fp);
	if ((crl = repat_trust_crl(t, cc)) != NULL) {
		time_text(X509_CRL_get0_lastUpdate(crl), lu, sizeof(lu));
		time_text(X509_CRL_get0_nextUpdate(crl), nu, sizeof(nu));
		/* An empty CRL has no list at all: num() says -1. */
		nrev = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
		json_object_set_new(o, "crl", json_pack("{s:s, s:s, s:i}",
		    "last_update", lu, "next_update", nu, "revoked",
		    nrev > 0 ? nrev : 0));
	}
	return o;
}

static const struct option longopts[] = {
	{ "dir", required_argument, NULL, 'd' },
	{ "bundle", required_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_trust(int argc, char **argv)
{
	const char *dir = NULL, *bundle = NULL;
	char err[REPAT_ERRBUF_LEN], *path;
	repat_trust_t *t;
	bool json = false;
	json_t *all, *o, *crl;
	size_t i;
	int c;

	if (cli_wants_help(argc, argv))
		return usage_full(stdout);
	optind = 0;
	while ((c = cli_getopt("trust", argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'b': bundle = optarg; break;
		case 'j': json = true; break;
		default: return REPAT_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage("trust", "unexpected argument '%s'",
		    argv[optind]);
	if (dir != NULL && bundle != NULL)
		return cli_usage("trust", "give --dir or --bundle, not both");
	if (bundle != NULL) {
		path = repat_xstrdup(bundle);
	} else {
		if ((dir = cli_agent_dir(dir)) == NULL)
			return REPAT_EXIT_USAGE;
		path = repat_xasprintf("%s/trust", dir);
	}
	t = repat_trust_load(path, err);
	free(path);
	if (t == NULL)
		return cli_fail("trust", REPAT_EXIT_FAIL, "%s", err);
	all = json_array();
	for (i = 0; i < repat_trust_count(t); i++)
		json_array_append_new(all, describe(t, i));
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	for (i = 0; !json && i < json_array_size(all); i++) {
		o = json_array_get(all, i);
		printf("%s  %s\n    valid %s .. %s\n    SHA-256 %s\n",
		    json_string_value(json_object_get(o, "country")),
		    json_string_value(json_object_get(o, "subject")),
		    json_string_value(json_object_get(o, "not_before")),
		    json_string_value(json_object_get(o, "not_after")),
		    json_string_value(json_object_get(o, "sha256")));
		if ((crl = json_object_get(o, "crl")) != NULL)
			printf("    CRL next update %s, %lld revoked\n",
			    json_string_value(json_object_get(crl,
			    "next_update")), json_integer_value(
			    json_object_get(crl, "revoked")));
		else
			printf("    no CRL\n");
	}
	json_decref(all);
	repat_trust_destroy(&t);
	return REPAT_EXIT_OK;
}
