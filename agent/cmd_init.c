/*
 * cmd_init.c: `repat init`, an agent's keys and certificate requests.
 *
 * Writes the Ed25519 signing key, the X25519 encryption key, the CURVE
 * key pair, the two certificate requests for the national CA, and an
 * agent.conf naming the agent. The operator adds the broker settings and
 * the trust bundle afterwards (docs/pki.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "repat/ca.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"

static int
usage_full(FILE *f)
{
	fprintf(f,
	    "usage: repat init --id CC.ORG[.UNIT] --role ROLE --dir DIR\n"
	    "                  [--no-passphrase | --passphrase-file F]\n\n"
	    "Creates an agent's keys (sign.key, enc.key, curve.key,\n"
	    "curve.pub), its certificate requests (sign.csr, enc.csr) and\n"
	    "DIR/agent.conf. Give the two .csr files to your national CA:\n"
	    "  repat ca issue --ca CADIR --csr DIR/sign.csr --csr DIR/enc.csr\n"
	    "Roles: focal_point, nationality, embassy, tracing, shelter,\n"
	    "police, io; broker for a broker's own key (no enc.csr).\n"
	    "Keys are encrypted with a passphrase from\n"
	    "--passphrase-file F, REPAT_PASSPHRASE, or a prompt.\n\nExample:\n"
	    "  repat init --id TH.WPC.PATHUMTHANI --role shelter "
	    "--dir ~/repat/agent\n");
	return f == stdout ? REPAT_EXIT_OK : REPAT_EXIT_USAGE;
}

static const struct option longopts[] = {
	{ "id", required_argument, NULL, 'i' },
	{ "role", required_argument, NULL, 'r' },
	{ "dir", required_argument, NULL, 'd' },
	{ "no-passphrase", no_argument, NULL, 'n' },
	{ "passphrase-file", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_init(int argc, char **argv)
{
	const char *id = NULL, *rname = NULL, *dir = NULL, *passfile = NULL;
	char err[REPAT_ERRBUF_LEN], *pass = NULL, *conf, *path;
	bool nopass = false;
	int c, role, rc;

	if (cli_wants_help(argc, argv))
		return usage_full(stdout);
	optind = 0;
	while ((c = cli_getopt("init", argc, argv, longopts)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'r': rname = optarg; break;
		case 'd': dir = optarg; break;
		case 'n': nopass = true; break;
		case 'p': passfile = optarg; break;
		default: return REPAT_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage("init", "unexpected argument '%s'",
		    argv[optind]);
	if (id == NULL || rname == NULL)
		return cli_usage("init", "--id and --role are required");
	if ((dir = cli_agent_dir(dir)) == NULL)
		return REPAT_EXIT_USAGE;
	if (!repat_agent_id_valid(id))
		return cli_usage("init", "'%s' is not an agent id of the form "
		    "CC.ORG[.UNIT] (e.g. TH.DATIP)", id);
	if ((role = repat_role_parse(rname)) < 1)
		return cli_usage("init", "unknown role '%s'", rname);
	if (nopass && passfile != NULL)
		return cli_usage("init",
		    "--no-passphrase and --passphrase-file exclude each other");
	if (!nopass && (rc = repat_passphrase_new(passfile,
	    "New passphrase for the agent's keys", &pass, err)) != 0)
		return cli_fail("init", REPAT_EXIT_FAIL, "%s", err);
	rc = repat_agent_create(dir, id, role, pass, true, err);
	if (pass != NULL)
		repat_free_secret(pass, strlen(pass));
	if (rc != 0)
		return cli_fail("init", REPAT_EXIT_FAIL, "%s", err);
	conf = repat_xasprintf("# repat agent: written by `repat init`.\n"
	    "# Add broker_endpoint, broker_curve_key, broker_cert and\n"
	    "# trust = trust once the region is set up (docs/pki.md).\n"
	    "id = %s\nrole = %s\n", id, rname);
	path = repat_xasprintf("%s/agent.conf", dir);
	rc = repat_file_write(path, conf, strlen(conf), 0600, err);
	free(conf);
	free(path);
	if (rc != 0)
		return cli_fail("init", REPAT_EXIT_FAIL, "%s", err);
	printf("agent %s (%s) created in %s%s\n", id, rname, dir,
	    nopass ? " (keys NOT encrypted: test use only)" : "");
	printf("Next: have the %.2s CA run\n  repat ca issue --ca CADIR "
	    "--csr %s/sign.csr --csr %s/enc.csr\nthen copy sign.crt and "
	    "enc.crt into %s and the region bundle into %s/trust/.\n", id,
	    dir, dir, dir, dir);
	return REPAT_EXIT_OK;
}
