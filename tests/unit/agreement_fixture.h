/*
 * agreement_fixture.h: a small real region for the agreement and SOP
 * tests: national CAs made with lib/ca.c in a temporary folder, agents with
 * Ed25519 signing certificates, the pinned trust bundle, and helpers to
 * write and sign agreement files. Header-only (static), included by
 * agreement_test.c and sop_test.c.
 */
#ifndef AGREEMENT_FIXTURE_H
#define AGREEMENT_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "repat/agreement.h"
#include "repat/ca.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define FX_MAX_AGENTS	32
#define FX_DAY		86400

struct fx_agent {
	char id[REPAT_MAX_AGENT_ID + 1];
	struct repat_keystore ks;	/* sign_key, sign_cert, id only */
};

struct fx_region {
	char dir[128];			/* temporary folder, removed at free */
	char trust_dir[160];
	char agr_dir[256];		/* where agreement files go */
	repat_trust_t *trust;
	size_t n;
	struct fx_agent agents[FX_MAX_AGENTS];
};

static const char *const fx_countries[] = { "TH", "MM", "KH", "LA", "VN",
    "CN" };

/* The demo region's agents (examples/region.json) and a few for tests. */
static const struct {
	const char *id;
	const char *role;
} fx_default_agents[] = {
	{ "TH.DATIP", "focal_point" }, { "TH.WPC.PATHUMTHANI", "shelter" },
	{ "TH.POLICE.ATHD", "police" }, { "TH.IOM", "io" },
	{ "MM.DSW", "focal_point" }, { "MM.DNR", "nationality" },
	{ "MM.DSW.KAYIN", "tracing" }, { "MM.SHELTER.MYAWADDY", "shelter" },
	{ "MM.EMB.BANGKOK", "embassy" }, { "KH.MOSVY", "focal_point" },
	{ "LA.MLSW", "focal_point" }, { "VN.MPS", "focal_point" },
	{ "CN.MPS", "focal_point" },
	/* a focal point no agreement names */
	{ "MM.OTHER", "focal_point" },
};

static void
fx_die(const char *what, const char *err)
{
	fprintf(stderr, "fixture: %s: %s\n", what, err);
	abort();
}

static void
fx_ca_path(const struct fx_region *r, const char *cc, char *out, size_t n)
{
	snprintf(out, n, "%s/ca-%s", r->dir, cc);
}

/*
 * Issues an agent (id, role) valid from nb to na by its country's CA and
 * adds it to r. Returns its keystore (borrowed).
 */
static struct repat_keystore *
fx_agent_add_at(struct fx_region *r, const char *id, int role, time_t nb,
    time_t na)
{
	char err[REPAT_ERRBUF_LEN], cadir[192], cc[3];
	EVP_PKEY *sk = NULL, *xk = NULL;
	X509_REQ *sreq = NULL, *ereq = NULL;
	X509 *scert = NULL, *ecert = NULL;
	repat_ca_t *ca = NULL;
	struct fx_agent *a;

	if (r->n == FX_MAX_AGENTS)
		fx_die(id, "too many agents");
	repat_agent_id_country(id, cc);
	fx_ca_path(r, cc, cadir, sizeof(cadir));
	if (repat_ca_open(cadir, NULL, &ca, err) != 0)
		fx_die("ca open", err);
	if (repat_key_generate(EVP_PKEY_ED25519, &sk) != 0 ||
	    repat_key_generate(EVP_PKEY_X25519, &xk) != 0)
		fx_die(id, "keygen");
	if (repat_request_make(sk, sk, id, role, &sreq, err) != 0 ||
	    repat_request_make(sk, xk, id, role, &ereq, err) != 0)
		fx_die("request", err);
	if (repat_ca_issue_at(ca, sreq, ereq, nb, na, &scert, &ecert,
	    err) != 0)
		fx_die("issue", err);
	a = &r->agents[r->n++];
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->ks.sign_key = sk;
	a->ks.sign_cert = scert;
	if (repat_cert_identity(scert, &a->ks.id, err) != 0)
		fx_die("identity", err);
	EVP_PKEY_free(xk);
	X509_free(ecert);
	X509_REQ_free(sreq);
	X509_REQ_free(ereq);
	repat_ca_close(&ca);
	return &a->ks;
}

static struct repat_keystore *
fx_ks(struct fx_region *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->agents[i].id, id) == 0)
			return &r->agents[i].ks;
	fx_die(id, "no such fixture agent");
	return NULL;
}

static void
fx_copy(const char *from, const char *to)
{
	char err[REPAT_ERRBUF_LEN];
	uint8_t *buf;
	size_t len;

	if (repat_file_read(from, 1 << 20, &buf, &len, err) != 0)
		fx_die("read", err);
	if (repat_file_write(to, buf, len, 0644, err) != 0)
		fx_die("write", err);
	free(buf);
}

static void
fx_region_init(struct fx_region *r)
{
	char err[REPAT_ERRBUF_LEN], cadir[192], from[256], to[256];
	time_t now = time(NULL);
	size_t i;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/repat-agr-XXXXXX");
	if (mkdtemp(r->dir) == NULL)
		fx_die("mkdtemp", "failed");
	snprintf(r->trust_dir, sizeof(r->trust_dir), "%s/trust", r->dir);
	snprintf(r->agr_dir, sizeof(r->agr_dir), "%s/agreements", r->dir);
	mkdir(r->trust_dir, 0700);
	mkdir(r->agr_dir, 0700);
	for (i = 0; i < sizeof(fx_countries) / sizeof(fx_countries[0]); i++) {
		fx_ca_path(r, fx_countries[i], cadir, sizeof(cadir));
		if (repat_ca_create(cadir, fx_countries[i], 3650, NULL, NULL,
		    err) != 0)
			fx_die("ca create", err);
		snprintf(from, sizeof(from), "%s/ca.crt", cadir);
		snprintf(to, sizeof(to), "%s/%s.crt", r->trust_dir,
		    fx_countries[i]);
		fx_copy(from, to);
		snprintf(from, sizeof(from), "%s/ca.crl", cadir);
		snprintf(to, sizeof(to), "%s/%s.crl", r->trust_dir,
		    fx_countries[i]);
		fx_copy(from, to);
	}
	if ((r->trust = repat_trust_load(r->trust_dir, err)) == NULL)
		fx_die("trust", err);
	for (i = 0; i < sizeof(fx_default_agents) /
	    sizeof(fx_default_agents[0]); i++)
		fx_agent_add_at(r, fx_default_agents[i].id,
		    repat_role_parse(fx_default_agents[i].role), now - FX_DAY,
		    now + 365 * FX_DAY);
}

static int
fx_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
fx_region_free(struct fx_region *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		EVP_PKEY_free(r->agents[i].ks.sign_key);
		X509_free(r->agents[i].ks.sign_cert);
	}
	repat_trust_destroy(&r->trust);
	nftw(r->dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text as AGR_DIR/name and returns the path (static buffer). */
static const char *
fx_write(struct fx_region *r, const char *name, const char *text)
{
	static char path[400];
	char err[REPAT_ERRBUF_LEN];

	snprintf(path, sizeof(path), "%s/%s", r->agr_dir, name);
	if (repat_file_write(path, text, strlen(text), 0644, err) != 0)
		fx_die("write", err);
	return path;
}

/* Signs the file at path as agent id at time at_ms; aborts on failure. */
static void
fx_sign(struct fx_region *r, const char *path, const char *id,
    uint64_t at_ms)
{
	char err[REPAT_ERRBUF_LEN];

	if (repat_agreement_sign(path, fx_ks(r, id), at_ms, err) != 0)
		fx_die("sign", err);
}

static uint64_t
fx_now_ms(void)
{
	return (uint64_t)time(NULL) * 1000;
}

/*
 * A bilateral agreement text between a and b with the given dates
 * (until may be NULL) and supersedes (may be NULL); the focal points are
 * the fixture's; flows and deadlines fit the founding case.
 */
static char *
fx_bilateral(const char *id, const char *a, const char *b, const char *from,
    const char *until, const char *supersedes)
{
	char fa[512], fb[512], extra[256];

	/* TH and MM name every demo agent; others their focal point. */
	if (strcmp(a, "TH") == 0)
		snprintf(fa, sizeof(fa), "\"TH\": {\"focal_point\": "
		    "[\"TH.DATIP\"], \"shelter\": [\"TH.WPC.PATHUMTHANI\"], "
		    "\"police\": [\"TH.POLICE.ATHD\"], \"io\": [\"TH.IOM\"]}");
	else
		snprintf(fa, sizeof(fa), "\"%s\": {\"focal_point\": "
		    "[\"%s\"]}", a, strcmp(a, "KH") == 0 ? "KH.MOSVY" :
		    strcmp(a, "MM") == 0 ? "MM.DSW" : "X.X");
	if (strcmp(b, "MM") == 0)
		snprintf(fb, sizeof(fb), "\"MM\": {\"focal_point\": "
		    "[\"MM.DSW\"], \"nationality\": [\"MM.DNR\"], "
		    "\"tracing\": [\"MM.DSW.KAYIN\"], \"shelter\": "
		    "[\"MM.SHELTER.MYAWADDY\"], \"embassy\": "
		    "[\"MM.EMB.BANGKOK\"]}");
	else
		snprintf(fb, sizeof(fb), "\"%s\": {\"focal_point\": [\"%s\"]}",
		    b, strcmp(b, "KH") == 0 ? "KH.MOSVY" :
		    strcmp(b, "LA") == 0 ? "LA.MLSW" :
		    strcmp(b, "VN") == 0 ? "VN.MPS" :
		    strcmp(b, "CN") == 0 ? "CN.MPS" : "MM.DSW");
	extra[0] = '\0';
	if (until != NULL)
		snprintf(extra, sizeof(extra), "\"in_force_until\": \"%s\", ",
		    until);
	if (supersedes != NULL)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		    "\"supersedes\": \"%s\", ", supersedes);
	return repat_xasprintf("{\"id\": \"%s\", \"title\": \"Test %s\", "
	    "\"legal_reference\": \"test\", \"kind\": \"bilateral\", "
	    "\"parties\": [\"%s\", \"%s\"], \"in_force_from\": \"%s\", %s"
	    "\"focal_points\": {%s, %s}, \"retention_days\": 3650, "
	    "\"sop\": {\"flows\": ["
	    "{\"types\": [\"identification_notice\", \"case_referral\", "
	    "\"nationality_verification_request\", \"family_tracing_request\","
	    " \"legal_proceedings_update\", \"repatriation_plan\", "
	    "\"handover_schedule\", \"handover_record\", \"consent_update\", "
	    "\"case_closure\"], \"from\": \"focal_point\", \"to\": "
	    "\"focal_point\", \"direction\": \"from_destination\"},"
	    "{\"types\": [\"nationality_verification_result\", "
	    "\"family_assessment_result\", \"repatriation_plan\", "
	    "\"handover_schedule\", \"handover_record\", \"reception_report\", "
	    "\"reintegration_followup\", \"consent_update\", "
	    "\"travel_document_notice\", \"case_closure\"], \"from\": "
	    "\"focal_point\", \"to\": \"focal_point\", \"direction\": "
	    "\"from_origin\"},"
	    "{\"types\": [\"case_referral\", \"consent_update\"], \"from\": "
	    "\"shelter\", \"to\": \"focal_point\"},"
	    "{\"types\": [\"legal_proceedings_update\"], \"from\": \"police\","
	    " \"to\": \"focal_point\"},"
	    "{\"types\": [\"nationality_verification_request\"], \"from\": "
	    "\"focal_point\", \"to\": \"nationality\"},"
	    "{\"types\": [\"nationality_verification_result\"], \"from\": "
	    "\"nationality\", \"to\": \"focal_point\"},"
	    "{\"types\": [\"family_tracing_request\"], \"from\": "
	    "\"focal_point\", \"to\": \"tracing\"},"
	    "{\"types\": [\"family_assessment_result\"], \"from\": "
	    "\"tracing\", \"to\": \"focal_point\"},"
	    "{\"types\": [\"travel_document_notice\"], \"from\": \"embassy\", "
	    "\"to\": \"focal_point\"},"
	    "{\"types\": [\"reception_report\", \"reintegration_followup\"], "
	    "\"from\": \"shelter\", \"to\": \"focal_point\"},"
	    "{\"types\": [\"identification_notice\", \"case_referral\"], "
	    "\"from\": \"focal_point\", \"to\": \"embassy\"}"
	    "], \"deadlines\": ["
	    "{\"request\": \"nationality_verification_request\", \"reply\": "
	    "\"nationality_verification_result\", \"days\": 30, "
	    "\"placeholder\": true},"
	    "{\"request\": \"family_tracing_request\", \"reply\": "
	    "\"family_assessment_result\", \"minutes\": 5},"
	    "{\"request\": \"repatriation_plan\", \"reply\": "
	    "\"repatriation_plan\", \"days\": 14, \"placeholder\": true}"
	    "]}}\n", id, id, a, b, from, extra, fa, fb);
}

/* Writes a bilateral agreement and signs it by the parties listed. */
static const char *
fx_agreement(struct fx_region *r, const char *file, const char *text,
    const char *signer1, const char *signer2, uint64_t at_ms)
{
	const char *path = fx_write(r, file, text);
	static char keep[400];

	snprintf(keep, sizeof(keep), "%s", path);
	if (signer1 != NULL)
		fx_sign(r, keep, signer1, at_ms);
	if (signer2 != NULL)
		fx_sign(r, keep, signer2, at_ms);
	return keep;
}

#endif
