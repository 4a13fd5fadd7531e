/*
 * cmd_ca.c: `repat ca init|issue|revoke|crl`, a national CA's operations.
 *
 * The CA folder (docs/pki.md) is meant to live offline; its key is
 * passphrase-encrypted unless --no-passphrase is given at init (test
 * regions). Every subcommand that signs asks for the passphrase the same
 * way: --passphrase-file, REPAT_PASSPHRASE, then the terminal.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cli.h"
#include "repat/ca.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define MAX_CSRS	64

static int
usage_full(FILE *f)
{
	fprintf(f,
	    "usage: repat ca init --country CC --dir DIR [--days N]\n"
	    "                     [--no-passphrase | --passphrase-file F]\n"
	    "       repat ca issue --ca DIR --csr FILE... [--days N] "
	    "[--out DIR]\n"
	    "       repat ca revoke --ca DIR --cert CERT... [--reason R]\n"
	    "       repat ca crl --ca DIR [--days N]\n"
	    "  (issue, revoke and crl also take --passphrase-file F)\n\n"
	    "Runs a national certificate authority (Ed25519, X.509).\n"
	    "  init    create DIR/ca.key, ca.crt, ca.crl, serial; prints the\n"
	    "          fingerprint to compare at the key ceremony\n"
	    "  issue   verify an agent's sign.csr and enc.csr and write\n"
	    "          sign.crt and enc.crt next to them (or into --out)\n"
	    "  revoke  add a certificate to the CRL (reasons: unspecified,\n"
	    "          keyCompromise, affiliationChanged, superseded,\n"
	    "          cessationOfOperation, certificateHold)\n"
	    "  crl     re-sign the CRL with a new next update (default %d "
	    "days)\n\n"
	    "The CA key's passphrase comes from --passphrase-file F, the\n"
	    "REPAT_PASSPHRASE variable, or a prompt.\n\nExample:\n"
	    "  repat ca init --country TH --dir /media/offline/th-ca\n"
	    "  repat ca issue --ca /media/offline/th-ca \\\n"
	    "      --csr TH.DATIP/sign.csr --csr TH.DATIP/enc.csr\n",
	    REPAT_CRL_DAYS);
	return f == stdout ? REPAT_EXIT_OK : REPAT_EXIT_USAGE;
}

enum {
	OPT_COUNTRY = 1, OPT_DIR, OPT_DAYS, OPT_NOPASS, OPT_PASSFILE, OPT_CA,
	OPT_CSR, OPT_OUT, OPT_CERT, OPT_REASON
};

static const struct option longopts[] = {
	{ "country", required_argument, NULL, OPT_COUNTRY },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "no-passphrase", no_argument, NULL, OPT_NOPASS },
	{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "csr", required_argument, NULL, OPT_CSR },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ NULL, 0, NULL, 0 }
};

struct ca_opts {
	const char *country;		/* --country */
	const char *dir;		/* --dir */
	const char *ca;			/* --ca */
	const char *out;		/* --out */
	const char *cert[MAX_CSRS];	/* --cert, in order */
	int ncert;			/* used entries of cert */
	const char *reason;		/* --reason */
	const char *passfile;		/* --passphrase-file */
	const char *csr[MAX_CSRS];	/* --csr, in order */
	int ncsr;			/* used entries of csr */
	int days;			/* --days, 0 when not given */
	bool nopass;			/* --no-passphrase */
};

static int
parse(int argc, char **argv, struct ca_opts *o)
{
	char *end;
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	while ((c = cli_getopt("ca", argc, argv, longopts)) != -1) {
		switch (c) {
		case OPT_COUNTRY: o->country = optarg; break;
		case OPT_DIR: o->dir = optarg; break;
		case OPT_CA: o->ca = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_CERT:
			if (o->ncert == MAX_CSRS)
				return cli_usage("ca", "at most %d --cert",
				    MAX_CSRS);
			o->cert[o->ncert++] = optarg;
			break;
		case OPT_REASON: o->reason = optarg; break;
		case OPT_PASSFILE: o->passfile = optarg; break;
		case OPT_NOPASS: o->nopass = true; break;
		case OPT_CSR:
			if (o->ncsr == MAX_CSRS)
				return cli_usage("ca", "at most %d --csr",
				    MAX_CSRS);
			o->csr[o->ncsr++] = optarg;
			break;
		case OPT_DAYS:
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 ||
			    v > 36500)
				return cli_usage("ca", "--days wants a number "
				    "of days from 1 to 36500");
			o->days = (int)v;
			break;
		default: return REPAT_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage("ca", "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

/* Opens the CA, asking for the passphrase only when its key is encrypted. */
static int
open_ca(const char *dir, const char *passfile, repat_ca_t **ca)
{
	char err[REPAT_ERRBUF_LEN], prompt[64];
	char *pass = NULL;
	int rc;

	rc = repat_ca_open(dir, NULL, ca, err);
	if (rc == REPAT_EPASS) {
		snprintf(prompt, sizeof(prompt), "Passphrase of the CA key");
		rc = repat_passphrase(passfile, prompt, &pass, err);
		if (rc == 0)
			rc = repat_ca_open(dir, pass, ca, err);
		if (pass != NULL)
			repat_free_secret(pass, strlen(pass));
	}
	if (rc != 0)
		return cli_fail("ca", REPAT_EXIT_FAIL, "%s", err);
	return 0;
}

static int
ca_init(struct ca_opts *o)
{
	char err[REPAT_ERRBUF_LEN], fp[96];
	char *pass = NULL;
	int rc;

	if (o->country == NULL || o->dir == NULL)
		return cli_usage("ca", "init needs --country CC and --dir DIR");
	if (o->nopass && o->passfile != NULL)
		return cli_usage("ca", "--no-passphrase and --passphrase-file "
		    "exclude each other");
	if (!o->nopass && (rc = repat_passphrase_new(o->passfile,
	    "New passphrase for the CA key", &pass, err)) != 0)
		return cli_fail("ca", REPAT_EXIT_FAIL, "%s", err);
	rc = repat_ca_create(o->dir, o->country, o->days ? o->days :
	    REPAT_CA_DAYS, pass, fp, err);
	if (pass != NULL)
		repat_free_secret(pass, strlen(pass));
	if (rc != 0)
		return cli_fail("ca", REPAT_EXIT_FAIL, "%s", err);
	printf("CA %s created in %s%s\n", o->country, o->dir,
	    o->nopass ? " (key NOT encrypted: test use only)" : "");
	printf("SHA-256 fingerprint: %s\n", fp);
	printf("Give %s/ca.crt to the other countries and compare this "
	    "fingerprint with them at the key ceremony.\n", o->dir);
	return REPAT_EXIT_OK;
}

/* DIR/x.csr -> DIR/x.crt, or OUT/x.crt. Caller frees. */
static char *
cert_path(const char *csr, const char *out)
{
	char *copy = repat_xstrdup(csr), *base, *p, *res;
	size_t n;

	base = out ? basename(copy) : copy;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".csr") == 0)
		base[n - 4] = '\0';
	p = out ? repat_xasprintf("%s/%s.crt", out, base) :
	    repat_xasprintf("%s.crt", base);
	res = p;
	free(copy);
	return res;
}

static int
issue_pair(repat_ca_t *ca, struct ca_opts *o, const char *spath,
    X509_REQ *sreq, const char *epath, X509_REQ *ereq)
{
	char err[REPAT_ERRBUF_LEN], fp[96];
	struct repat_identity id;
	X509 *sc = NULL, *ec = NULL;
	char *p;
	int rc;

	rc = repat_ca_issue(ca, sreq, ereq, o->days ? o->days :
	    REPAT_CERT_DAYS, &sc, ereq ? &ec : NULL, err);
	if (rc != 0)
		return cli_fail("ca", REPAT_EXIT_FAIL, "%s: %s", spath, err);
	p = cert_path(spath, o->out);
	rc = repat_pki_write_pem(p, sc, REPAT_PEM_CERT, err);
	if (rc == 0)
		printf("wrote %s\n", p);
	free(p);
	if (rc == 0 && ec != NULL) {
		p = cert_path(epath, o->out);
		rc = repat_pki_write_pem(p, ec, REPAT_PEM_CERT, err);
		if (rc == 0)
			printf("wrote %s\n", p);
		free(p);
	}
	if (rc == 0 && repat_cert_identity(sc, &id, err) == 0) {
		repat_cert_fingerprint(sc, fp);
		printf("issued %s (%s) by the %s CA, signing certificate "
		    "SHA-256 %s\n", id.agent_id, repat_role_name(id.role),
		    repat_ca_country(ca), fp);
	}
	X509_free(sc);
	X509_free(ec);
	if (rc != 0)
		return cli_fail("ca", REPAT_EXIT_FAIL, "%s", err);
	return REPAT_EXIT_OK;
}

/* The CN of a request, for pairing requests of several agents. */
static void
req_cn(X509_REQ *req, char *out, size_t outlen)
{
	X509_NAME *n = X509_REQ_get_subject_name(req);

	out[0] = '\0';
	if (X509_NAME_get_text_by_NID(n, NID_commonName, out,
	    (int)outlen) < 0)
		out[0] = '\0';
}

static int
ca_issue(struct ca_opts *o)
{
	char err[REPAT_ERRBUF_LEN], a[REPAT_MAX_AGENT_ID + 1];
	char b[REPAT_MAX_AGENT_ID + 1];
	X509_REQ *reqs[MAX_CSRS] = { NULL };
	bool used[MAX_CSRS] = { false };
	repat_ca_t *ca = NULL;
	int i, j, rc = REPAT_EXIT_OK, type;

	if (o->ca == NULL || o->ncsr == 0)
		return cli_usage("ca", "issue needs --ca DIR and --csr FILE");
	for (i = 0; i < o->ncsr; i++)
		if (repat_request_load(o->csr[i], &reqs[i], err) != 0) {
			rc = cli_fail("ca", REPAT_EXIT_FAIL, "%s", err);
			goto done;
		}
	if ((rc = open_ca(o->ca, o->passfile, &ca)) != 0)
		goto done;
	/* Each Ed25519 request is paired with the X25519 one of its id. */
	for (i = 0; i < o->ncsr && rc == 0; i++) {
		type = EVP_PKEY_get_id(X509_REQ_get0_pubkey(reqs[i]));
		if (type != EVP_PKEY_ED25519)
			continue;
		used[i] = true;
		req_cn(reqs[i], a, sizeof(a));
		for (j = 0; j < o->ncsr; j++) {
			if (used[j] || EVP_PKEY_get_id(X509_REQ_get0_pubkey(
			    reqs[j])) != EVP_PKEY_X25519)
				continue;
			req_cn(reqs[j], b, sizeof(b));
			/* Two requests given: a pair, checked as one. */
			if (o->ncsr == 2 || strcmp(a, b) == 0)
				break;
		}
		if (j < o->ncsr)
			used[j] = true;
		rc = issue_pair(ca, o, o->csr[i], reqs[i], j < o->ncsr ?
		    o->csr[j] : NULL, j < o->ncsr ? reqs[j] : NULL);
	}
	for (i = 0; i < o->ncsr && rc == 0; i++)
		if (!used[i])
			rc = cli_fail("ca", REPAT_EXIT_FAIL, "%s: no signing "
			    "request (Ed25519) of the same agent was given "
			    "with it", o->csr[i]);
done:
	for (i = 0; i < o->ncsr; i++)
		X509_REQ_free(reqs[i]);
	repat_ca_close(&ca);
	return rc;
}

static int
revoke_one(repat_ca_t *ca, const char *path, int reason, const char *cadir)
{
	char err[REPAT_ERRBUF_LEN];
	struct repat_identity id;
	X509 *cert = NULL;
	int rc;

	if (repat_cert_load(path, &cert, err) != 0)
		return cli_fail("ca", REPAT_EXIT_FAIL, "%s", err);
	rc = repat_ca_revoke(ca, cert, reason, err);
	if (rc != 0) {
		X509_free(cert);
		return cli_fail("ca", REPAT_EXIT_FAIL, "%s: %s", path, err);
	}
	if (repat_cert_identity(cert, &id, err) != 0)
		snprintf(id.agent_id, sizeof(id.agent_id), "?");
	printf("revoked %s (%s); the new CRL is %s/ca.crl: distribute it\n",
	    id.agent_id, path, cadir);
	X509_free(cert);
	return REPAT_EXIT_OK;
}

static int
ca_revoke(struct ca_opts *o)
{
	repat_ca_t *ca = NULL;
	int i, reason = -1, rc;

	if (o->ca == NULL || o->ncert == 0)
		return cli_usage("ca", "revoke needs --ca DIR and --cert CERT");
	if (o->reason != NULL &&
	    (reason = repat_ca_reason_parse(o->reason)) == -2)
		return cli_usage("ca", "unknown revocation reason '%s'",
		    o->reason);
	if ((rc = open_ca(o->ca, o->passfile, &ca)) != 0)
		return rc;
	for (i = 0; i < o->ncert && rc == 0; i++)
		rc = revoke_one(ca, o->cert[i], reason, o->ca);
	repat_ca_close(&ca);
	return rc;
}

static int
ca_crl(struct ca_opts *o)
{
	char err[REPAT_ERRBUF_LEN];
	repat_ca_t *ca = NULL;
	int rc, days = o->days ? o->days : REPAT_CRL_DAYS;

	if (o->ca == NULL)
		return cli_usage("ca", "crl needs --ca DIR");
	if ((rc = open_ca(o->ca, o->passfile, &ca)) != 0)
		return rc;
	if (repat_ca_crl(ca, days, err) != 0)
		rc = cli_fail("ca", REPAT_EXIT_FAIL, "%s", err);
	else
		printf("re-signed %s/ca.crl, next update in %d days\n", o->ca,
		    days);
	repat_ca_close(&ca);
	return rc;
}

int
cmd_ca(int argc, char **argv)
{
	struct ca_opts o;
	const char *sub;
	int rc;

	if (argc < 2)
		return usage_full(stderr);
	if (cli_wants_help(argc, argv))
		return usage_full(stdout);
	sub = argv[1];
	if ((rc = parse(argc - 1, argv + 1, &o)) != 0)
		return rc;
	if (strcmp(sub, "init") == 0)
		return ca_init(&o);
	if (strcmp(sub, "issue") == 0)
		return ca_issue(&o);
	if (strcmp(sub, "revoke") == 0)
		return ca_revoke(&o);
	if (strcmp(sub, "crl") == 0)
		return ca_crl(&o);
	return cli_usage("ca", "unknown subcommand '%s' (init, issue, revoke, "
	    "crl)", sub);
}
