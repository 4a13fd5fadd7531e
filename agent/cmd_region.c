/*
 * cmd_region.c: `repat region init`, a whole test or demo region in one
 * folder: a CA per country, the trust bundle, a broker certified by its
 * host country, and every agent of the spec with keys, certificates, the
 * bundle and an agent.conf pointing at the broker (layout in docs/pki.md).
 *
 * Everything is done through librepat calls in this process, not by
 * running `repat` per step, and files are synced once at the end instead of
 * one by one, so a region of fifteen agents takes well under a second. Keys are unencrypted only when the spec says
 * "passphrase": false, which is the default for test regions and allowed
 * nowhere else by default.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cli.h"
#include "repat/agreement.h"
#include "repat/ca.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define DEFAULT_SPEC	"examples/region.json"
#define DEFAULT_AGREEMENTS "examples/agreements"
#define DEFAULT_PORT	7450
#define MAX_COUNTRIES	32
#define MAX_AGENTS	1000

/* Used when examples/region.json is not in the current folder. */
static const char embedded_spec[] =
    "{\"name\": \"mekong-test\", \"passphrase\": false, \"days\": 365,\n"
    " \"countries\": [\"TH\", \"MM\", \"KH\", \"LA\", \"VN\", \"CN\"],\n"
    " \"broker\": {\"id\": \"TH.BROKER\", \"port\": 7450},\n \"agents\": [\n"
    "  {\"id\": \"TH.DATIP\", \"role\": \"focal_point\"},\n"
    "  {\"id\": \"TH.WPC.PATHUMTHANI\", \"role\": \"shelter\"},\n"
    "  {\"id\": \"TH.POLICE.ATHD\", \"role\": \"police\"},\n"
    "  {\"id\": \"TH.IOM\", \"role\": \"io\"},\n"
    "  {\"id\": \"MM.DSW\", \"role\": \"focal_point\"},\n"
    "  {\"id\": \"MM.DNR\", \"role\": \"nationality\"},\n"
    "  {\"id\": \"MM.DSW.KAYIN\", \"role\": \"tracing\"},\n"
    "  {\"id\": \"MM.SHELTER.MYAWADDY\", \"role\": \"shelter\"},\n"
    "  {\"id\": \"MM.EMB.BANGKOK\", \"role\": \"embassy\"},\n"
    "  {\"id\": \"KH.MOSVY\", \"role\": \"focal_point\"},\n"
    "  {\"id\": \"KH.EMB.BANGKOK\", \"role\": \"embassy\"},\n"
    "  {\"id\": \"LA.MLSW\", \"role\": \"focal_point\"},\n"
    "  {\"id\": \"LA.EMB.BANGKOK\", \"role\": \"embassy\"},\n"
    "  {\"id\": \"VN.MPS\", \"role\": \"focal_point\"},\n"
    "  {\"id\": \"CN.MPS\", \"role\": \"focal_point\"}\n ]}\n";

struct region {
	const char *out;			/* --out */
	int days;				/* agent certificates' life */
	int port;				/* the broker's loopback port */
	char *pass;				/* key passphrase, or NULL */
	size_t ncc;				/* countries */
	char cc[MAX_COUNTRIES][3];		/* their codes, spec order */
	repat_ca_t *ca[MAX_COUNTRIES];		/* their CAs, open */
	const char *broker_id;			/* e.g. TH.BROKER */
	X509 *broker_cert;			/* its signing certificate */
	char broker_curve[41];			/* its CURVE public key, Z85 */
};

static int
usage_full(FILE *f)
{
	fprintf(f,
	    "usage: repat region init --out DIR [--spec FILE] [--days N]\n"
	    "                         [--port N] [--passphrase-file F]\n"
	    "                         [--agreements DIR | --no-agreements]\n\n"
	    "Creates a TEST region in DIR: DIR/ca/CC (a CA per country),\n"
	    "DIR/trust (the bundle), DIR/broker (broker.conf, keys),\n"
	    "DIR/agents/ID (each agent, ready to use). The spec (default\n"
	    "%s if present, else a built-in Mekong region) lists\n"
	    "countries, the broker and agents {id, role}. Its keys are not\n"
	    "encrypted unless the spec says \"passphrase\": true.\n"
	    "The agreements (default examples/agreements if present) are\n"
	    "installed in DIR/broker/agreements and signed by each party's\n"
	    "focal point.\n\n"
	    "Example:\n"
	    "  repat region init --out /tmp/region --port 7450\n",
	    DEFAULT_SPEC);
	return f == stdout ? REPAT_EXIT_OK : REPAT_EXIT_USAGE;
}

static int
mkdir_p1(const char *path, mode_t mode, char *err)
{
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		return repat_errf(err, REPAT_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	return 0;
}

/* DIR must be new or empty: never mix two regions' keys. */
static int
check_out(const char *out, char *err)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(out)) == NULL)
		return errno == ENOENT ? mkdir_p1(out, 0755, err) :
		    repat_errf(err, REPAT_EIO, "%s: %s", out, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name,
		    "..") != 0)
			n++;
	closedir(d);
	if (n > 0)
		return repat_errf(err, REPAT_EEXIST, "%s is not empty: give a "
		    "new folder", out);
	return 0;
}

static int
country_index(const struct region *r, const char *cc)
{
	size_t i;

	for (i = 0; i < r->ncc; i++)
		if (strcmp(r->cc[i], cc) == 0)
			return (int)i;
	return -1;
}

static int
check_agents(struct region *r, json_t *agents, char *err)
{
	const char *id, *role, *other;
	char cc[3];
	size_t i, j;

	if (!json_is_array(agents) || json_array_size(agents) == 0 ||
	    json_array_size(agents) > MAX_AGENTS)
		return repat_errf(err, REPAT_EINVAL, "spec: \"agents\" must be "
		    "a list of 1 to %d {\"id\", \"role\"}", MAX_AGENTS);
	for (i = 0; i < json_array_size(agents); i++) {
		if (json_unpack(json_array_get(agents, i), "{s:s, s:s}", "id",
		    &id, "role", &role) != 0)
			return repat_errf(err, REPAT_EINVAL, "spec: agent %zu "
			    "needs \"id\" and \"role\" strings", i + 1);
		if (!repat_agent_id_country(id, cc))
			return repat_errf(err, REPAT_EINVAL,
			    "spec: '%s' is not an agent id CC.ORG[.UNIT]", id);
		if (country_index(r, cc) < 0)
			return repat_errf(err, REPAT_EINVAL,
			    "spec: %s: country "
			    "%s is not in \"countries\"", id, cc);
		if (repat_role_parse(role) < 1 ||
		    repat_role_parse(role) == REPAT__ROLE__ROLE_BROKER)
			return repat_errf(err, REPAT_EINVAL,
			    "spec: %s: unknown agent role '%s'", id, role);
		if (strcmp(id, r->broker_id) == 0)
			return repat_errf(err, REPAT_EINVAL, "spec: %s is the "
			    "broker's id", id);
		for (j = 0; j < i; j++) {
			json_unpack(json_array_get(agents, j), "{s:s}", "id",
			    &other);
			if (strcmp(id, other) == 0)
				return repat_errf(err, REPAT_EINVAL, "spec: "
				    "agent %s is listed twice", id);
		}
	}
	return 0;
}

static int
check_spec(struct region *r, json_t *spec, char *err)
{
	static const char *const known[] = { "name", "comment", "passphrase",
	    "days", "countries", "broker", "agents" };
	json_t *countries, *broker, *v;
	const char *cc, *key;
	char bcc[3];
	size_t i;

	/* A misspelt key would silently fall back to a default: refuse it. */
	json_object_foreach(spec, key, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return repat_errf(err, REPAT_EINVAL, "spec: unknown key "
			    "\"%s\"", key);
	}
	v = json_object_get(spec, "passphrase");
	if (v != NULL && !json_is_boolean(v))
		return repat_errf(err, REPAT_EINVAL, "spec: \"passphrase\" "
		    "must be true or false");
	countries = json_object_get(spec, "countries");
	if (!json_is_array(countries) || json_array_size(countries) == 0 ||
	    json_array_size(countries) > MAX_COUNTRIES)
		return repat_errf(err, REPAT_EINVAL, "spec: \"countries\" must "
		    "list 1 to %d two-letter codes", MAX_COUNTRIES);
	for (i = 0; i < json_array_size(countries); i++) {
		cc = json_string_value(json_array_get(countries, i));
		if (!repat_country_valid(cc) || country_index(r, cc) >= 0)
			return repat_errf(err, REPAT_EINVAL,
			    "spec: country %zu "
			    "is not a new two-capital-letter code", i + 1);
		memcpy(r->cc[r->ncc++], cc, 3);
	}
	broker = json_object_get(spec, "broker");
	r->broker_id = "TH.BROKER";
	if (broker != NULL && (v = json_object_get(broker, "id")) != NULL)
		r->broker_id = json_string_value(v);
	if (!repat_agent_id_country(r->broker_id, bcc) ||
	    country_index(r, bcc) < 0)
		return repat_errf(err, REPAT_EINVAL, "spec: the broker id must "
		    "be an agent id of a listed country (its host)");
	if (r->port == 0 && broker != NULL &&
	    json_is_integer(v = json_object_get(broker, "port")))
		r->port = (int)json_integer_value(v);
	if (r->port == 0)
		r->port = DEFAULT_PORT;
	if (r->port < 1 || r->port > 65535)
		return repat_errf(err, REPAT_EINVAL,
		    "broker port out of range");
	if (r->days == 0 && json_is_integer(v = json_object_get(spec, "days")))
		r->days = (int)json_integer_value(v);
	if (r->days == 0)
		r->days = 365;
	if (r->days < 1 || r->days > 36500)
		return repat_errf(err, REPAT_EINVAL, "days out of range");
	return check_agents(r, json_object_get(spec, "agents"), err);
}

static json_t *
load_spec(const char *path, char *err)
{
	struct stat st;
	json_error_t je;
	json_t *spec;

	if (path == NULL && stat(DEFAULT_SPEC, &st) == 0)
		path = DEFAULT_SPEC;
	if (path != NULL)
		spec = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	else
		spec = json_loads(embedded_spec, JSON_REJECT_DUPLICATES, &je);
	if (spec == NULL || !json_is_object(spec)) {
		repat_errf(err, REPAT_EINVAL, "%s:%d: %s", path ? path :
		    "built-in spec", je.line, spec ? "not an object" : je.text);
		json_decref(spec);
		return NULL;
	}
	return spec;
}

/*
 * Copies DIR/trust into dir. Real copies, not links: each agent's bundle
 * is its own, as it would be on separate machines.
 */
static int
copy_bundle(const struct region *r, const char *dir, char *err)
{
	char *from, *to, name[8];
	uint8_t *buf;
	size_t i, len;
	int k, rc;

	if ((rc = mkdir_p1(dir, 0755, err)) != 0)
		return rc;
	for (i = 0; i < r->ncc * 2; i++) {
		k = (int)(i / 2);
		snprintf(name, sizeof(name), "%s.%s", r->cc[k],
		    i % 2 ? "crl" : "crt");
		from = repat_xasprintf("%s/trust/%s", r->out, name);
		to = repat_xasprintf("%s/%s", dir, name);
		rc = repat_file_read(from, 1024 * 1024, &buf, &len, err);
		if (rc == 0)
			rc = repat_pki_write(to, buf, len, 0644, err);
		free(buf);
		free(from);
		free(to);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Writes the bundle (every CA certificate and CRL) into dir. */
static int
write_bundle(const struct region *r, const char *dir, char *err)
{
	char *p;
	size_t i;
	int rc;

	if ((rc = mkdir_p1(dir, 0755, err)) != 0)
		return rc;
	for (i = 0; i < r->ncc; i++) {
		p = repat_xasprintf("%s/%s.crt", dir, r->cc[i]);
		rc = repat_pki_write_pem(p, repat_ca_cert(r->ca[i]),
		    REPAT_PEM_CERT, err);
		free(p);
		if (rc != 0)
			return rc;
		p = repat_xasprintf("%s/%s.crl", dir, r->cc[i]);
		rc = repat_pki_write_pem(p, repat_ca_crl_get(r->ca[i]),
		    REPAT_PEM_CRL, err);
		free(p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
make_cas(struct region *r, char *err)
{
	char fp[96], *dir;
	size_t i;
	int rc;

	dir = repat_xasprintf("%s/ca", r->out);
	rc = mkdir_p1(dir, 0700, err);
	free(dir);
	for (i = 0; i < r->ncc && rc == 0; i++) {
		dir = repat_xasprintf("%s/ca/%s", r->out, r->cc[i]);
		rc = repat_ca_create(dir, r->cc[i], r->days > REPAT_CA_DAYS ?
		    r->days : REPAT_CA_DAYS, r->pass, fp, err);
		if (rc == 0)
			rc = repat_ca_open(dir, r->pass, &r->ca[i], err);
		free(dir);
	}
	if (rc == 0) {
		dir = repat_xasprintf("%s/trust", r->out);
		rc = write_bundle(r, dir, err);
		free(dir);
	}
	return rc;
}

/* Issues dir/sign.csr (+ dir/enc.csr) with the CA of id's country. */
static int
issue_in(struct region *r, const char *dir, const char *id, bool with_enc,
    X509 **sign_out, char *err)
{
	X509_REQ *sreq = NULL, *ereq = NULL;
	X509 *sc = NULL, *ec = NULL;
	char cc[3], *p;
	int rc;

	repat_agent_id_country(id, cc);
	p = repat_xasprintf("%s/sign.csr", dir);
	rc = repat_request_load(p, &sreq, err);
	free(p);
	if (rc == 0 && with_enc) {
		p = repat_xasprintf("%s/enc.csr", dir);
		rc = repat_request_load(p, &ereq, err);
		free(p);
	}
	if (rc == 0)
		rc = repat_ca_issue(r->ca[country_index(r, cc)], sreq, ereq,
		    r->days, &sc, with_enc ? &ec : NULL, err);
	if (rc == 0) {
		p = repat_xasprintf("%s/sign.crt", dir);
		rc = repat_pki_write_pem(p, sc, REPAT_PEM_CERT, err);
		free(p);
	}
	if (rc == 0 && with_enc) {
		p = repat_xasprintf("%s/enc.crt", dir);
		rc = repat_pki_write_pem(p, ec, REPAT_PEM_CERT, err);
		free(p);
	}
	X509_REQ_free(sreq);
	X509_REQ_free(ereq);
	X509_free(ec);
	if (rc == 0 && sign_out != NULL)
		*sign_out = sc;
	else
		X509_free(sc);
	return rc;
}

static int
write_text(const char *dir, const char *name, const char *text, mode_t mode,
    char *err)
{
	char *p = repat_xasprintf("%s/%s", dir, name);
	int rc = repat_pki_write(p, text, strlen(text), mode, err);

	free(p);
	return rc;
}

static int
make_broker(struct region *r, char *err)
{
	char *dir, *p, *conf;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	dir = repat_xasprintf("%s/broker", r->out);
	rc = repat_agent_create(dir, r->broker_id, REPAT__ROLE__ROLE_BROKER,
	    r->pass, false, err);
	if (rc == 0)
		rc = issue_in(r, dir, r->broker_id, false, &r->broker_cert,
		    err);
	if (rc == 0) {
		p = repat_xasprintf("%s/curve.pub", dir);
		rc = repat_file_read(p, 128, &buf, &len, err);
		free(p);
	}
	if (rc == 0 && len >= 40) {
		memcpy(r->broker_curve, buf, 40);
		r->broker_curve[40] = '\0';
	}
	free(buf);
	if (rc == 0) {
		p = repat_xasprintf("%s/trust", dir);
		rc = copy_bundle(r, p, err);
		free(p);
	}
	if (rc == 0) {
		p = repat_xasprintf("%s/agreements", dir);
		rc = mkdir_p1(p, 0755, err);
		free(p);
	}
	if (rc == 0) {
		conf = repat_xasprintf("# repat-broker of a TEST region, "
		    "written by `repat region init`.\n"
		    "# Paths are relative to this file's folder.\n"
		    "endpoint = tcp://127.0.0.1:%d\n"
		    "database = broker.db\n"
		    "sign_key = sign.key\n"
		    "sign_cert = sign.crt\n"
		    "curve_key = curve.key\n"
		    "curve_public = curve.pub\n"
		    "trust = trust\n"
		    "agreements = agreements\n"
		    "authorization = sop\n"
		    "log_level = info\n", r->port);
		rc = write_text(dir, "broker.conf", conf, 0644, err);
		free(conf);
	}
	free(dir);
	return rc;
}

static int
make_agent(struct region *r, const char *id, const char *role, char *err)
{
	char *dir, *conf;
	int rc;

	dir = repat_xasprintf("%s/agents/%s", r->out, id);
	rc = repat_agent_create(dir, id, repat_role_parse(role), r->pass, true,
	    err);
	if (rc == 0)
		rc = issue_in(r, dir, id, true, NULL, err);
	if (rc == 0) {
		conf = repat_xasprintf("%s/broker.crt", dir);
		rc = repat_pki_write_pem(conf, r->broker_cert, REPAT_PEM_CERT,
		    err);
		free(conf);
	}
	if (rc == 0) {
		conf = repat_xasprintf("%s/trust", dir);
		rc = copy_bundle(r, conf, err);
		free(conf);
	}
	/*
	 * The broker's CURVE key goes into a file that agent.conf names:
	 * Z85 uses '#', which starts a comment in a conf line.
	 */
	if (rc == 0) {
		conf = repat_xasprintf("%s\n", r->broker_curve);
		rc = write_text(dir, "broker_curve.pub", conf, 0644, err);
		free(conf);
	}
	if (rc == 0) {
		conf = repat_xasprintf("# repat agent of a TEST region, "
		    "written by `repat region init`.\n"
		    "# broker_curve_key names a file holding the broker's "
		    "CURVE public key.\n"
		    "id = %s\n"
		    "role = %s\n"
		    "broker_endpoint = tcp://127.0.0.1:%d\n"
		    "broker_curve_key = broker_curve.pub\n"
		    "broker_cert = broker.crt\n"
		    "trust = trust\n", id, role, r->port);
		rc = write_text(dir, "agent.conf", conf, 0600, err);
		free(conf);
	}
	free(dir);
	return rc;
}

static void
summary(const struct region *r, json_t *agents)
{
	const char *id, *role;
	char fp[96];
	size_t i;

	printf("Region created in %s (TEST region: keys %s)\n", r->out,
	    r->pass ? "passphrase-encrypted" : "NOT encrypted");
	printf("\nCountries (CA SHA-256 fingerprints):\n");
	for (i = 0; i < r->ncc; i++) {
		repat_cert_fingerprint(repat_ca_cert(r->ca[i]), fp);
		printf("  %s  %s\n", r->cc[i], fp);
	}
	repat_cert_fingerprint(r->broker_cert, fp);
	printf("\nBroker %s at tcp://127.0.0.1:%d\n  curve %s\n  cert  %s\n"
	    "  start: repat-broker -c %s/broker/broker.conf\n", r->broker_id,
	    r->port, r->broker_curve, fp, r->out);
	printf("\nAgents (%zu):\n", json_array_size(agents));
	for (i = 0; i < json_array_size(agents); i++) {
		json_unpack(json_array_get(agents, i), "{s:s, s:s}", "id", &id,
		    "role", &role);
		printf("  %-24s %-12s %s/agents/%s\n", id, role, r->out, id);
	}
}

/*
 * Installs every agreement of src into the broker's folder and has each
 * party's focal point of this region sign it, so a fresh region routes
 * exactly what its agreements allow. A party with no focal point in the
 * region leaves its signature missing: the broker then refuses that
 * agreement, visibly, as it would in production.
 */
static int
sign_as_party(struct region *r, const char *path,
    const struct repat_agreement *a, const char *cc, char *err)
{
	struct repat_keystore ks;
	char *dir;
	size_t i;
	int rc;

	for (i = 0; i < a->nfocal; i++) {
		if (strcmp(a->focal[i].country, cc) != 0 ||
		    a->focal[i].role != REPAT__ROLE__ROLE_FOCAL_POINT)
			continue;
		dir = repat_xasprintf("%s/agents/%s", r->out,
		    a->focal[i].agent_id);
		rc = access(dir, F_OK) == 0 ? repat_keystore_load(dir, NULL,
		    &ks, err) : REPAT_ENOENT;
		free(dir);
		if (rc == REPAT_ENOENT)
			continue;
		if (rc == 0) {
			rc = repat_agreement_sign(path, &ks, repat_now_ms(), err);
			repat_keystore_clear(&ks);
		}
		return rc;
	}
	fprintf(stderr, "repat region: %s: no focal point of %s in this "
	    "region; its signature stays missing\n", a->id, cc);
	return 0;
}

static int
install_agreements(struct region *r, const char *src, char *err)
{
	struct repat_agreement *a = NULL;
	struct dirent **names = NULL;
	char *from, *to;
	uint8_t *buf;
	size_t len, i;
	int n, k, rc = 0, done = 0;

	if ((n = scandir(src, &names, NULL, alphasort)) < 0)
		return repat_errf(err, REPAT_ENOENT, "%s: %s", src,
		    strerror(errno));
	for (k = 0; k < n && rc == 0; k++) {
		len = strlen(names[k]->d_name);
		if (len < 6 || strcmp(names[k]->d_name + len - 5, ".json") != 0)
			continue;
		from = repat_xasprintf("%s/%s", src, names[k]->d_name);
		to = repat_xasprintf("%s/broker/agreements/%s", r->out,
		    names[k]->d_name);
		rc = repat_file_read(from, REPAT_MAX_CONFIG, &buf, &len, err);
		if (rc == 0 && (rc = repat_agreement_parse(buf, len, &a,
		    err)) != 0)
			rc = repat_errf(err, rc, "%s: not an agreement", from);
		if (rc == 0)
			rc = repat_file_write(to, buf, len, 0644, err);
		for (i = 0; rc == 0 && i < a->nparties; i++)
			rc = sign_as_party(r, to, a, a->parties[i], err);
		done += rc == 0;
		repat_agreement_free(&a);
		free(buf);
		free(from);
		free(to);
	}
	for (k = 0; k < n; k++)
		free(names[k]);
	free(names);
	if (rc == 0)
		printf("agreements: %d installed in %s/broker/agreements, "
		    "signed by each party's focal point\n", done, r->out);
	return rc;
}

static const struct option longopts[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "spec", required_argument, NULL, 's' },
	{ "days", required_argument, NULL, 'd' },
	{ "port", required_argument, NULL, 'p' },
	{ "passphrase-file", required_argument, NULL, 'f' },
	{ "agreements", required_argument, NULL, 'a' },
	{ "no-agreements", no_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};

static int
region_init(struct region *r, const char *spec_path, const char *passfile,
    const char *agreements)
{
	char err[REPAT_ERRBUF_LEN];
	json_t *spec, *agents, *pp;
	const char *id, *role;
	size_t i;
	int rc;

	if ((spec = load_spec(spec_path, err)) == NULL)
		return cli_fail("region", REPAT_EXIT_FAIL, "%s", err);
	if ((rc = check_spec(r, spec, err)) != 0)
		goto fail;
	pp = json_object_get(spec, "passphrase");
	if (json_is_true(pp) && (rc = repat_passphrase_new(passfile,
	    "Passphrase for every key of the region", &r->pass, err)) != 0)
		goto fail;
	repat_pki_set_fsync(false);
	if ((rc = check_out(r->out, err)) != 0 || (rc = make_cas(r,
	    err)) != 0 || (rc = make_broker(r, err)) != 0)
		goto fail;
	agents = json_object_get(spec, "agents");
	for (i = 0; i < json_array_size(agents) && rc == 0; i++) {
		json_unpack(json_array_get(agents, i), "{s:s, s:s}", "id", &id,
		    "role", &role);
		if (i == 0) {
			char *p = repat_xasprintf("%s/agents", r->out);

			rc = mkdir_p1(p, 0755, err);
			free(p);
		}
		if (rc == 0)
			rc = make_agent(r, id, role, err);
	}
	repat_pki_set_fsync(true);
	if (rc == 0 && agreements != NULL)
		rc = install_agreements(r, agreements, err);
	if (rc != 0)
		goto fail;
	sync();
	summary(r, agents);
	json_decref(spec);
	return REPAT_EXIT_OK;
fail:
	repat_pki_set_fsync(true);
	json_decref(spec);
	return cli_fail("region", REPAT_EXIT_FAIL, "%s", err);
}

static int
parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int
cmd_region(int argc, char **argv)
{
	const char *spec = NULL, *passfile = NULL, *agreements = NULL;
	struct region r;
	bool no_agreements = false;
	size_t i;
	int c, rc;

	if (argc < 2)
		return usage_full(stderr);
	if (cli_wants_help(argc, argv))
		return usage_full(stdout);
	if (strcmp(argv[1], "init") != 0)
		return cli_usage("region", "unknown subcommand '%s' (init)",
		    argv[1]);
	memset(&r, 0, sizeof(r));
	optind = 0;
	while ((c = cli_getopt("region", argc - 1, argv + 1, longopts)) !=
	    -1) {
		switch (c) {
		case 'o': r.out = optarg; break;
		case 's': spec = optarg; break;
		case 'f': passfile = optarg; break;
		case 'a': agreements = optarg; break;
		case 'n': no_agreements = true; break;
		case 'd':
			if (parse_int(optarg, 1, 36500, &r.days) != 0)
				return cli_usage("region", "--days wants 1 to "
				    "36500");
			break;
		case 'p':
			if (parse_int(optarg, 1, 65535, &r.port) != 0)
				return cli_usage("region", "--port wants 1 to "
				    "65535");
			break;
		default: return REPAT_EXIT_USAGE;
		}
	}
	if (optind < argc - 1)
		return cli_usage("region", "unexpected argument '%s'",
		    argv[optind + 1]);
	if (r.out == NULL)
		return cli_usage("region", "init needs --out DIR");
	if (agreements == NULL && !no_agreements) {
		if (access(DEFAULT_AGREEMENTS, F_OK) == 0)
			agreements = DEFAULT_AGREEMENTS;
		else
			fprintf(stderr, "repat region: no %s here: the broker "
			    "gets no agreement and, under authorization = sop, "
			    "refuses every message; give --agreements DIR\n",
			    DEFAULT_AGREEMENTS);
	}
	rc = region_init(&r, spec, passfile, no_agreements ? NULL :
	    agreements);
	for (i = 0; i < r.ncc; i++)
		repat_ca_close(&r.ca[i]);
	X509_free(r.broker_cert);
	if (r.pass != NULL)
		repat_free_secret(r.pass, strlen(r.pass));
	return rc;
}
