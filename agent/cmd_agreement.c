/*
 * cmd_agreement.c: `repat agreement sign|check`. A focal point signs an
 * agreement file for its country (a detached FILE.sig.CC next to it);
 * anyone holding the region's trust bundle checks every party's signature
 * and whether the agreement is in force today (docs/agreements.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "repat/agreement.h"
#include "repat/err.h"
#include "repat/mem.h"
#include "repat/pki.h"

static int
usage_full(FILE *f)
{
	fprintf(f,
	    "usage: repat agreement sign FILE [--dir AGENTDIR] "
	    "[--passphrase-file F]\n"
	    "       repat agreement check FILE [--dir AGENTDIR | --trust DIR] "
	    "[--json]\n\n"
	    "sign   signs the agreement FILE for the agent's country, as\n"
	    "       one of the focal points the file names for it; writes\n"
	    "       FILE.sig.CC.\n"
	    "check  checks every party's FILE.sig.CC against the trust\n"
	    "       bundle (AGENTDIR/trust, or --trust DIR) and says whether\n"
	    "       the agreement is in force today. Exit 0 when every party\n"
	    "       signed validly, 1 when a signature is missing or the file\n"
	    "       is bad, 4 when a signature or certificate does not\n"
	    "       verify.\n\n"
	    "Examples:\n"
	    "  repat agreement sign agreements/th-mm-2019.json "
	    "--dir region/agents/TH.DATIP\n"
	    "  repat agreement check agreements/th-mm-2019.json "
	    "--trust region/trust --json\n");
	return f == stdout ? REPAT_EXIT_OK : REPAT_EXIT_USAGE;
}

static const struct option longopts[] = {
	{ "dir", required_argument, NULL, 'd' },
	{ "trust", required_argument, NULL, 't' },
	{ "passphrase-file", required_argument, NULL, 'P' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

struct args {
	const char *dir;
	const char *trust;
	const char *pass_file;
	const char *file;
	bool json;
};

static int
parse_args(const char *sub, int argc, char **argv, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((c = cli_getopt("agreement", argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': a->dir = optarg; break;
		case 't': a->trust = optarg; break;
		case 'P': a->pass_file = optarg; break;
		case 'j': a->json = true; break;
		default:
			return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind != argc - 1)
		return cli_usage("agreement", "%s needs exactly one FILE", sub);
	a->file = argv[optind];
	return REPAT_EXIT_OK;
}

static int
do_sign(int argc, char **argv)
{
	struct repat_keystore ks;
	char err[REPAT_ERRBUF_LEN];
	struct args a;
	int rc;

	if ((rc = parse_args("sign", argc, argv, &a)) != REPAT_EXIT_OK)
		return rc;
	if (a.trust != NULL || a.json)
		return cli_usage("agreement", "sign takes --dir and "
		    "--passphrase-file only");
	if ((a.dir = cli_agent_dir(a.dir)) == NULL)
		return REPAT_EXIT_USAGE;
	memset(&ks, 0, sizeof(ks));
	if ((rc = cli_load_keystore("agreement", a.dir, a.pass_file,
	    &ks)) != REPAT_EXIT_OK)
		return rc;
	rc = repat_agreement_sign(a.file, &ks, repat_now_ms(), err);
	if (rc == 0)
		printf("signed %s for %s as %s: %s.sig.%s\n", a.file,
		    ks.id.country, ks.id.agent_id, a.file, ks.id.country);
	repat_keystore_clear(&ks);
	if (rc != 0)
		return cli_fail("agreement", REPAT_EXIT_FAIL, "%s", err);
	return REPAT_EXIT_OK;
}

/* ms since the epoch as YYYY-MM-DDTHH:MM:SSZ (or a day when day_only). */
static void
time_text(uint64_t ms, bool day_only, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outlen, "-");
		return;
	}
	strftime(out, outlen, day_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ",
	    &tm);
}

static const char *
state_word(int s)
{
	return s == REPAT_SIG_VALID ? "valid" : s == REPAT_SIG_MISSING ?
	    "missing" : "invalid";
}

static json_t *
status_json(const struct repat_agreement_status *st)
{
	char from[32], until[32], at[32];
	json_t *o, *parties = json_array(), *p;
	size_t i;

	time_text(st->in_force_from_ms, true, from, sizeof(from));
	/* The file names the last day; the status holds the end of it. */
	time_text(st->in_force_until_ms - 1, true, until, sizeof(until));
	for (i = 0; i < st->nparties; i++) {
		const struct repat_party_status *ps = &st->parties[i];

		p = json_pack("{s:s, s:s}", "country", ps->country, "state",
		    state_word(ps->state));
		if (ps->signer[0] != '\0')
			json_object_set_new(p, "signer",
			    json_string(ps->signer));
		if (ps->signed_at_ms != 0) {
			time_text(ps->signed_at_ms, false, at, sizeof(at));
			json_object_set_new(p, "signed_at", json_string(at));
		}
		if (ps->state != REPAT_SIG_VALID)
			json_object_set_new(p, "reason",
			    json_string(ps->reason));
		json_array_append_new(parties, p);
	}
	o = json_pack("{s:s, s:s, s:b, s:b, s:s, s:o}", "id", st->id, "kind",
	    st->kind == REPAT_AGREEMENT_FRAMEWORK ? "framework" : "bilateral",
	    "all_signed", st->all_signed, "in_force", st->in_force,
	    "in_force_from", from, "parties", parties);
	json_object_set_new(o, "in_force_until", st->in_force_until_ms != 0 ?
	    json_string(until) : json_null());
	return o;
}

static void
status_print(const char *file, const struct repat_agreement_status *st)
{
	char from[32], at[32];
	size_t i;

	time_text(st->in_force_from_ms, true, from, sizeof(from));
	printf("%s: %s (%s), parties", file, st->id,
	    st->kind == REPAT_AGREEMENT_FRAMEWORK ? "framework: grants no "
	    "routing by itself" : "bilateral");
	for (i = 0; i < st->nparties; i++)
		printf(" %s", st->parties[i].country);
	printf("\n  in force today: %s (from %s", st->in_force ? "yes" : "no",
	    from);
	if (st->in_force_until_ms != 0) {
		time_text(st->in_force_until_ms - 1, true, at, sizeof(at));
		printf(" until %s", at);
	}
	printf(")\n");
	for (i = 0; i < st->nparties; i++) {
		const struct repat_party_status *ps = &st->parties[i];

		printf("  %s  %-7s  ", ps->country, state_word(ps->state));
		if (ps->state == REPAT_SIG_VALID) {
			time_text(ps->signed_at_ms, false, at, sizeof(at));
			printf("signed by %s at %s\n", ps->signer, at);
		} else {
			printf("%s\n", ps->reason);
		}
	}
	printf("  %s\n", st->all_signed ? "signed by every party: the broker "
	    "loads it" : "NOT signed by every party: the broker refuses it");
}

static int
do_check(int argc, char **argv)
{
	struct repat_agreement_status st;
	char err[REPAT_ERRBUF_LEN], *path;
	repat_trust_t *trust;
	struct args a;
	json_t *o;
	size_t i;
	int rc;

	if ((rc = parse_args("check", argc, argv, &a)) != REPAT_EXIT_OK)
		return rc;
	if (a.pass_file != NULL)
		return cli_usage("agreement", "check takes no passphrase");
	if (a.dir != NULL && a.trust != NULL)
		return cli_usage("agreement", "give --dir or --trust, not "
		    "both");
	if (a.trust != NULL) {
		path = repat_xstrdup(a.trust);
	} else {
		if ((a.dir = cli_agent_dir(a.dir)) == NULL)
			return REPAT_EXIT_USAGE;
		path = repat_xasprintf("%s/trust", a.dir);
	}
	trust = repat_trust_load(path, err);
	free(path);
	if (trust == NULL)
		return cli_fail("agreement", REPAT_EXIT_FAIL, "%s", err);
	rc = repat_agreement_check(a.file, trust, repat_now_ms(), &st);
	repat_trust_destroy(&trust);
	if (rc != 0 && rc != REPAT_EAGREEMENT)
		return cli_fail("agreement", REPAT_EXIT_FAIL, "%s", st.reason);
	if (a.json) {
		o = status_json(&st);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		status_print(a.file, &st);
	}
	if (rc == 0)
		return REPAT_EXIT_OK;
	for (i = 0; i < st.nparties; i++)
		if (st.parties[i].state == REPAT_SIG_INVALID)
			return REPAT_EXIT_UNTRUSTED;
	return REPAT_EXIT_FAIL;
}

int
cmd_agreement(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)
		return usage_full(argc < 2 ? stderr : stdout);
	if (cli_wants_help(argc, argv))
		return usage_full(stdout);
	if (strcmp(argv[1], "sign") == 0)
		return do_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return do_check(argc - 1, argv + 1);
	return cli_usage("agreement", "unknown subcommand '%s' (sign, check)",
	    argv[1]);
}
