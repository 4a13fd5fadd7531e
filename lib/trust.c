/*
 * trust.c: the pinned region trust bundle and agent certificate checks.
 *
 * The bundle is a folder holding CC.crt (the self-signed CA certificate of
 * country CC, installed out of band) and CC.crl (that CA's latest CRL, which
 * may arrive over the network but is only accepted when the pinned CA
 * signed it). A certificate is checked against exactly one CA: the one of
 * the country in its agent id, so a CA can never vouch for another
 * country's agents even though both are pinned.
 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "repat/err.h"
#include "repat/file.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define TRUST_MAX_CAS	256
#define CRL_MAX_BYTES	(1024 * 1024)
#define CRL_WARN_SECS	(7 * 24 * 3600)

struct trust_ca {
	char country[3];	/* from the file name, equals the CA's C */
	X509 *cert;		/* the pinned CA certificate */
	X509_CRL *crl;		/* its latest verified CRL, or NULL */
	uint8_t *crl_der;	/* crl as DER, for the broker's directory */
	size_t crl_der_len;
	_Atomic bool warned;	/* the "CRL expires soon" warning was logged */
};

struct repat_trust {
	char *dir;		/* the bundle folder, for saving CRLs */
	struct trust_ca *cas;	/* sorted as found; small, searched linearly */
	size_t n;		/* entries used */
	uint64_t generation;	/* bumped by every CRL installed */
};

static struct trust_ca *
find_ca(const repat_trust_t *trust, const char *country)
{
	size_t i;

	for (i = 0; i < trust->n; i++)
		if (strcmp(trust->cas[i].country, country) == 0)
			return &trust->cas[i];
	return NULL;
}

static int
cmp_ca(const void *a, const void *b)
{
	return strcmp(((const struct trust_ca *)a)->country,
	    ((const struct trust_ca *)b)->country);
}

/* The name's C into cc when it is two characters; "" otherwise. */
static void
name_country(const X509_NAME *name, char cc[3])
{
	const ASN1_STRING *c;
	int i;

	cc[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(name, NID_countryName, -1)) < 0)
		return;
	c = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	if (ASN1_STRING_length(c) != 2)
		return;
	memcpy(cc, ASN1_STRING_get0_data(c), 2);
	cc[2] = '\0';
}

/* A pinned CA must be a self-signed Ed25519 CA whose C is its file's name. */
static int
check_ca(X509 *ca, const char *country, const char *path, char *errbuf)
{
	char c[3];
	X509_NAME *subj = X509_get_subject_name(ca);

	name_country(subj, c);
	if (c[0] == '\0')
		return repat_errf(errbuf, REPAT_ECERT, "%s: CA subject has no "
		    "country (C)", path);
	if (strcmp(c, country) != 0)
		return repat_errf(errbuf, REPAT_ECERT,
		    "%s: the CA's country is "
		    "%s, not %s as the file name says", path, c, country);
	if (X509_check_ca(ca) != 1 || X509_NAME_cmp(subj,
	    X509_get_issuer_name(ca)) != 0)
		return repat_errf(errbuf, REPAT_ECERT,
		    "%s is not a self-signed CA certificate", path);
	if (EVP_PKEY_get_id(X509_get0_pubkey(ca)) != EVP_PKEY_ED25519 ||
	    X509_verify(ca, X509_get0_pubkey(ca)) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ECERT, "%s: not a valid "
		    "self-signed Ed25519 certificate", path);
	}
	return 0;
}

/* crl must be issued and signed by ca. */
static int
check_crl(X509_CRL *crl, X509 *ca, const char *what, char *errbuf)
{
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca)) != 0)
		return repat_errf(errbuf, REPAT_ECERT, "%s: CRL issuer is not "
		    "the pinned CA", what);
	if (X509_CRL_get0_nextUpdate(crl) == NULL)
		return repat_errf(errbuf, REPAT_ECERT, "%s: CRL has no next "
		    "update date", what);
	if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ESIG, "%s: CRL signature does "
		    "not verify with the pinned CA", what);
	}
	return 0;
}

static int
load_crl_file(const char *path, X509_CRL **out, char *errbuf)
{
	uint8_t *buf;
	size_t len;
	BIO *bio;
	int rc;

	*out = NULL;
	if ((rc = repat_file_read(path, CRL_MAX_BYTES, &buf, &len,
	    errbuf)) != 0)
		return rc;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		if (len > 0 && buf[0] == 0x30)
			*out = d2i_X509_CRL_bio(bio, NULL);
		else
			*out = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	free(buf);
	if (*out == NULL) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_EDECODE, "%s is not a CRL",
		    path);
	}
	return 0;
}

/* Makes crl (consumed) the one e holds, with its DER. */
static void
set_crl(struct trust_ca *e, X509_CRL *crl)
{
	unsigned char *der = NULL;
	int len = i2d_X509_CRL(crl, &der);

	/* A CRL that decoded and verified always encodes again. */
	if (len <= 0)
		repat_fatalx("cannot encode a verified CRL of %s", e->country);
	X509_CRL_free(e->crl);
	free(e->crl_der);
	e->crl = crl;
	e->crl_der = repat_xmalloc((size_t)len);
	memcpy(e->crl_der, der, (size_t)len);
	e->crl_der_len = (size_t)len;
	e->warned = false;
	OPENSSL_free(der);
}

static bool
is_ca_file(const char *name)
{
	return strlen(name) == 6 && name[0] >= 'A' && name[0] <= 'Z' &&
	    name[1] >= 'A' && name[1] <= 'Z' && strcmp(name + 2, ".crt") == 0;
}

static int
load_one(repat_trust_t *trust, const char *name, char *errbuf)
{
	struct trust_ca *e;
	X509_CRL *crl = NULL;
	char *path;
	int rc;

	if (trust->n == TRUST_MAX_CAS)
		return repat_errf(errbuf, REPAT_ETOOBIG, "%s holds more than "
		    "%d CA certificates", trust->dir, TRUST_MAX_CAS);
	e = &trust->cas[trust->n];
	memset(e, 0, sizeof(*e));
	memcpy(e->country, name, 2);
	path = repat_xasprintf("%s/%s", trust->dir, name);
	rc = repat_cert_load(path, &e->cert, errbuf);
	if (rc == 0)
		rc = check_ca(e->cert, e->country, path, errbuf);
	free(path);
	if (rc != 0)
		goto fail;
	path = repat_xasprintf("%s/%s.crl", trust->dir, e->country);
	rc = load_crl_file(path, &crl, errbuf);
	if (rc == REPAT_ENOENT) {
		rc = 0;
	} else if (rc == 0 && (rc = check_crl(crl, e->cert, path,
	    errbuf)) == 0) {
		set_crl(e, crl);
		crl = NULL;
	}
	X509_CRL_free(crl);
	free(path);
	if (rc != 0)
		goto fail;
	trust->n++;
	return 0;
fail:
	X509_free(e->cert);
	X509_CRL_free(e->crl);
	free(e->crl_der);
	memset(e, 0, sizeof(*e));
	return rc;
}

repat_trust_t *
repat_trust_load(const char *dir, char *errbuf)
{
	repat_trust_t *trust;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		repat_errf(errbuf, errno == ENOENT ? REPAT_ENOENT : REPAT_EIO,
		    "trust bundle %s: %s", dir, strerror(errno));
		return NULL;
	}
	trust = repat_xcalloc(1, sizeof(*trust));
	trust->dir = repat_xstrdup(dir);
	trust->cas = repat_xcalloc(TRUST_MAX_CAS, sizeof(*trust->cas));
	while ((de = readdir(d)) != NULL) {
		if (!is_ca_file(de->d_name))
			continue;
		if (load_one(trust, de->d_name, errbuf) != 0) {
			closedir(d);
			repat_trust_destroy(&trust);
			return NULL;
		}
	}
	closedir(d);
	if (trust->n == 0) {
		repat_errf(errbuf, REPAT_ENOENT, "trust bundle %s holds no CA "
		    "certificate (CC.crt): install the region bundle", dir);
		repat_trust_destroy(&trust);
		return NULL;
	}
	qsort(trust->cas, trust->n, sizeof(*trust->cas), cmp_ca);
	return trust;
}

void
repat_trust_destroy(repat_trust_t **trustp)
{
	repat_trust_t *trust = *trustp;
	size_t i;

	if (trust == NULL)
		return;
	for (i = 0; i < trust->n; i++) {
		X509_free(trust->cas[i].cert);
		X509_CRL_free(trust->cas[i].crl);
		free(trust->cas[i].crl_der);
	}
	free(trust->cas);
	free(trust->dir);
	free(trust);
	*trustp = NULL;
}

size_t
repat_trust_count(const repat_trust_t *trust)
{
	return trust->n;
}

X509 *
repat_trust_ca(const repat_trust_t *trust, size_t i)
{
	return i < trust->n ? trust->cas[i].cert : NULL;
}

X509_CRL *
repat_trust_crl(const repat_trust_t *trust, const char *country)
{
	struct trust_ca *e = find_ca(trust, country);

	return e ? e->crl : NULL;
}

const uint8_t *
repat_trust_crl_der(const repat_trust_t *trust, size_t i, size_t *len)
{
	*len = i < trust->n ? trust->cas[i].crl_der_len : 0;
	return i < trust->n ? trust->cas[i].crl_der : NULL;
}

bool
repat_trust_crl_expired(const repat_trust_t *trust, const char *country,
    uint64_t at_ms)
{
	struct trust_ca *e = find_ca(trust, country);
	time_t at = (time_t)(at_ms / 1000);

	return e != NULL && e->crl != NULL &&
	    X509_cmp_time(X509_CRL_get0_nextUpdate(e->crl), &at) <= 0;
}

uint64_t
repat_trust_generation(const repat_trust_t *trust)
{
	return trust->generation;
}

/* ---- verification */

static int
map_verify_error(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_REVOKED:
		return REPAT_EREVOKED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return REPAT_EEXPIRED;
	default:
		return REPAT_ECERT;
	}
}

/*
 * Checking a signature made in the past (an agreement signed last year)
 * uses the CRL held now, whose lastUpdate is later than the time checked:
 * the newest revocation news is still the best, so "CRL not yet valid" is
 * no reason to refuse. Every other error stands.
 */
static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (!ok &&
	    X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CRL_NOT_YET_VALID)
		return 1;
	return ok;
}

/*
 * An agent checking its own certificates uses a CRL past its next update
 * as it is (revocations in it still count): refusing would keep it from
 * reaching the broker, where the newer CRL waits (docs/pki.md).
 */
static int
verify_cb_stale_ok(int ok, X509_STORE_CTX *ctx)
{
	if (!ok &&
	    X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CRL_HAS_EXPIRED)
		return 1;
	return verify_cb(ok, ctx);
}

/* An expired CRL is refused; one about to expire is worth a warning. */
static int
check_crl_fresh(struct trust_ca *e, time_t at, const char *who, char *errbuf)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(e->crl);
	time_t soon = at + CRL_WARN_SECS;

	if (X509_cmp_time(next, &at) <= 0)
		return repat_errf(errbuf, REPAT_EEXPIRED, "%s: the CRL of %s "
		    "is past its next update: have the %s CA run "
		    "`repat ca crl` and install the new CRL on the broker "
		    "(agents fetch it with `repat sync`)", who, e->country,
		    e->country);
	/* Once per CRL: a broker checks thousands of certificates a day. */
	if (!e->warned && X509_cmp_time(next, &soon) <= 0) {
		e->warned = true;
		repat_log_warnx("the CRL of %s reaches its next update within "
		    "7 days: have the %s CA run `repat ca crl`", e->country,
		    e->country);
	}
	return 0;
}

static int
verify_cert(repat_trust_t *trust, X509 *cert, uint64_t at_ms, bool stale_ok,
    struct repat_identity *id, char *errbuf)
{
	struct repat_identity got;
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *store = NULL;
	struct trust_ca *e;
	time_t at = (time_t)(at_ms / 1000);
	int rc, verr;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if ((rc = repat_cert_identity(cert, &got, errbuf)) != 0)
		return rc;
	if ((e = find_ca(trust, got.country)) == NULL)
		return repat_errf(errbuf, REPAT_ECERT, "%s: no CA of %s is "
		    "pinned in the trust bundle", got.agent_id, got.country);
	if (X509_check_ca(cert) != 0)
		return repat_errf(errbuf, REPAT_ECERT, "%s: a CA certificate "
		    "cannot be an agent certificate", got.agent_id);
	if (e->crl != NULL && !stale_ok &&
	    (rc = check_crl_fresh(e, at, got.agent_id, errbuf)) != 0)
		return rc;
	rc = REPAT_ECRYPTO;
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto fail;
	/* Only this country's CA: nothing else can complete the chain. */
	if (X509_STORE_add_cert(store, e->cert) != 1)
		goto fail;
	if (e->crl != NULL && X509_STORE_add_crl(store, e->crl) != 1)
		goto fail;
	X509_STORE_set_verify_cb(store, stale_ok ? verify_cb_stale_ok :
	    verify_cb);
	if (X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
		goto fail;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	if (e->crl != NULL)
		X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
		    X509_V_FLAG_CRL_CHECK);
	if (X509_verify_cert(ctx) != 1) {
		verr = X509_STORE_CTX_get_error(ctx);
		rc = repat_errf(errbuf, map_verify_error(verr), "certificate "
		    "of %s: %s", got.agent_id,
		    X509_verify_cert_error_string(verr));
		ERR_clear_error();
		goto done;
	}
	if (id != NULL)
		*id = got;
	rc = 0;
	goto done;
fail:
	repat_errf(errbuf, rc, "certificate of %s: cannot set up the check",
	    got.agent_id);
	repat_err_openssl(errbuf, rc);
done:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

int
repat_trust_verify(repat_trust_t *trust, X509 *cert, uint64_t at_ms,
    struct repat_identity *id, char *errbuf)
{
	return verify_cert(trust, cert, at_ms, false, id, errbuf);
}

static int
verify_pair(repat_trust_t *trust, X509 *sign_cert, X509 *enc_cert,
    uint64_t at_ms, bool stale_ok, struct repat_identity *id, char *errbuf)
{
	struct repat_identity s, e;
	int rc;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if ((rc = verify_cert(trust, sign_cert, at_ms, stale_ok, &s,
	    errbuf)) != 0)
		return rc;
	if ((rc = verify_cert(trust, enc_cert, at_ms, stale_ok, &e,
	    errbuf)) != 0)
		return rc;
	if (strcmp(s.agent_id, e.agent_id) != 0 || s.role != e.role)
		return repat_errf(errbuf, REPAT_ECERT,
		    "the signing certificate "
		    "of %s and the encryption certificate of %s do not certify "
		    "the same agent and role", s.agent_id, e.agent_id);
	if (EVP_PKEY_get_id(X509_get0_pubkey(sign_cert)) != EVP_PKEY_ED25519 ||
	    !(X509_get_key_usage(sign_cert) & KU_DIGITAL_SIGNATURE))
		return repat_errf(errbuf, REPAT_ECERT, "%s: the signing "
		    "certificate must hold an Ed25519 key with key usage "
		    "digitalSignature", s.agent_id);
	if (EVP_PKEY_get_id(X509_get0_pubkey(enc_cert)) != EVP_PKEY_X25519 ||
	    !(X509_get_key_usage(enc_cert) & KU_KEY_AGREEMENT))
		return repat_errf(errbuf, REPAT_ECERT, "%s: the encryption "
		    "certificate must hold an X25519 key with key usage "
		    "keyAgreement", s.agent_id);
	if (id != NULL)
		*id = s;
	return 0;
}

int
repat_trust_verify_pair(repat_trust_t *trust, X509 *sign_cert,
    X509 *enc_cert, uint64_t at_ms, struct repat_identity *id, char *errbuf)
{
	return verify_pair(trust, sign_cert, enc_cert, at_ms, false, id,
	    errbuf);
}

int
repat_trust_verify_own_pair(repat_trust_t *trust, X509 *sign_cert,
    X509 *enc_cert, uint64_t at_ms, struct repat_identity *id, char *errbuf)
{
	return verify_pair(trust, sign_cert, enc_cert, at_ms, true, id, errbuf);
}

/*
 * Newer means a later lastUpdate, or the same second and a higher CRL
 * number (a CA can re-sign twice within a second: revoke, then crl).
 */
static bool
crl_newer(X509_CRL *a, X509_CRL *b)
{
	ASN1_INTEGER *na, *nb;
	int c;

	c = ASN1_TIME_compare(X509_CRL_get0_lastUpdate(a),
	    X509_CRL_get0_lastUpdate(b));
	if (c != 0)
		return c > 0;
	na = X509_CRL_get_ext_d2i(a, NID_crl_number, NULL, NULL);
	nb = X509_CRL_get_ext_d2i(b, NID_crl_number, NULL, NULL);
	c = na != NULL && nb != NULL && ASN1_INTEGER_cmp(na, nb) > 0;
	ASN1_INTEGER_free(na);
	ASN1_INTEGER_free(nb);
	ERR_clear_error();
	return c;
}

/*
 * Whether crl (whose DER is der) may replace the one e holds. Byte for
 * byte the one held is the everyday case of a sync: REPAT_EEXIST, said
 * first so it costs no signature check.
 */
/* True when e holds a CRL whose DER is der. */
static bool
holds_der(const struct trust_ca *e, const uint8_t *der, size_t len)
{
	return e->crl != NULL && e->crl_der_len == len &&
	    memcmp(e->crl_der, der, len) == 0;
}

static int
check_replacement(struct trust_ca *e, X509_CRL *crl, const uint8_t *der,
    size_t len, char *errbuf)
{
	time_t now = time(NULL);
	int rc;

	if (holds_der(e, der, len))
		return repat_errf(errbuf, REPAT_EEXIST, "the CRL of %s is the "
		    "one held", e->country);
	if ((rc = check_crl(crl, e->cert, e->country, errbuf)) != 0)
		return rc;
	/* Installing it would refuse every certificate of the country. */
	if (X509_cmp_time(X509_CRL_get0_nextUpdate(crl), &now) <= 0)
		return repat_errf(errbuf, REPAT_EEXPIRED, "the CRL of %s is "
		    "past its next update", e->country);
	if (e->crl != NULL && !crl_newer(crl, e->crl))
		return repat_errf(errbuf, REPAT_EEXPIRED, "the CRL of %s is "
		    "older than the one held (same or earlier last update and "
		    "CRL number): the one held stays", e->country);
	return 0;
}

/*
 * Another process of the same agent (a long-lived `repat watch`, a sync
 * from cron, an operator copying a file by hand) may have saved a newer
 * CRL since this one loaded the bundle: when the file at path verifies
 * and is newer than the one e holds, e takes it. Called under the
 * folder's lock, so the offer is then weighed against the newest CRL
 * held anywhere and no process writes an older CRL over a newer one.
 */
static void
adopt_newer_on_disk(repat_trust_t *trust, struct trust_ca *e,
    const char *path)
{
	char ignored[REPAT_ERRBUF_LEN];
	X509_CRL *disk = NULL;

	if (load_crl_file(path, &disk, ignored) == 0 &&
	    check_crl(disk, e->cert, e->country, ignored) == 0 &&
	    (e->crl == NULL || crl_newer(disk, e->crl))) {
		set_crl(e, disk);
		trust->generation++;
		return;
	}
	X509_CRL_free(disk);
}

/* An exclusive flock on the folder dir: its fd, or -1. */
static int
lock_dir(const char *dir, char *errbuf)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		repat_errf(errbuf, REPAT_EIO, "%s: cannot lock: %s", dir,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
repat_trust_add_crl(repat_trust_t *trust, const uint8_t *der, size_t len,
    char *errbuf)
{
	const unsigned char *p = der;
	struct trust_ca *e;
	X509_CRL *crl;
	char cc[3], *path = NULL, why[REPAT_ERRBUF_LEN];
	int rc, lock = -1;

	if (der == NULL || len == 0 || len > CRL_MAX_BYTES)
		return repat_errf(errbuf, REPAT_EDECODE, "CRL is empty or "
		    "larger than %d bytes", CRL_MAX_BYTES);
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl == NULL || p != der + len) {
		X509_CRL_free(crl);
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_EDECODE, "not a DER CRL");
	}
	name_country(X509_CRL_get_issuer(crl), cc);
	if (!repat_country_valid(cc) || (e = find_ca(trust, cc)) == NULL) {
		rc = repat_errf(errbuf, REPAT_ECERT, "CRL issuer is not a "
		    "pinned CA");
		goto done;
	}
	/* The everyday sync offers the CRL held: no need for the folder. */
	if (holds_der(e, der, len)) {
		rc = check_replacement(e, crl, der, len, errbuf);
		goto done;
	}
	path = repat_xasprintf("%s/%s.crl", trust->dir, cc);
	if ((lock = lock_dir(trust->dir, why)) >= 0)
		adopt_newer_on_disk(trust, e, path);
	if ((rc = check_replacement(e, crl, der, len, errbuf)) != 0)
		goto done;
	/* Unlocked, another process may be writing: do not save. */
	rc = lock >= 0 ? repat_pki_write_pem(path, crl, REPAT_PEM_CRL, why) :
	    REPAT_EIO;
	/*
	 * Used from now on even when it could not be saved: a revocation
	 * must not be ignored for want of disk space. The caller says so.
	 */
	set_crl(e, crl);
	crl = NULL;
	trust->generation++;
	if (rc != 0)
		repat_errf(errbuf, rc, "the CRL of %s verified and is used "
		    "by this process, but was NOT saved: %s", cc, why);
done:
	if (lock >= 0)
		close(lock);
	free(path);
	X509_CRL_free(crl);
	return rc;
}
