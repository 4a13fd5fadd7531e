/*
 * ca.c: a national CA (create, issue, revoke, CRL) and an agent's
 * certificate requests (see repat/ca.h).
 *
 * Everything is signed with Ed25519, which takes no separate digest:
 * X509_sign, X509_REQ_sign and X509_CRL_sign get a NULL md. Issued
 * subjects are rebuilt from the checked id and role, never copied from the
 * request, so nothing a requester adds to its subject reaches a
 * certificate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zmq.h>

#include "repat/ca.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define CLOCK_SKEW_SECS	300	/* issued certificates start this early */

struct repat_ca {
	char *dir;		/* the CA folder */
	char country[3];	/* the CA's C */
	EVP_PKEY *key;		/* ca.key */
	X509 *cert;		/* ca.crt */
	X509_CRL *crl;		/* ca.crl as last saved */
};

/* ---- small helpers */

static int
ensure_dir(const char *dir, char *errbuf)
{
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return repat_errf(errbuf, REPAT_EIO, "cannot create %s: %s",
		    dir, strerror(errno));
	return 0;
}

static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static X509_NAME *
make_name(const char *cc, const char *ou, const char *cn)
{
	X509_NAME *name = X509_NAME_new();

	if (name == NULL)
		return NULL;
	if (!X509_NAME_add_entry_by_NID(name, NID_countryName, MBSTRING_ASC,
	    (const unsigned char *)cc, -1, -1, 0) ||
	    (ou != NULL && !X509_NAME_add_entry_by_NID(name,
	    NID_organizationalUnitName, MBSTRING_UTF8,
	    (const unsigned char *)ou, -1, -1, 0)) ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0)) {
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

/* A positive 128-bit random serial into cert; its hex into hex (33). */
static int
random_serial(X509 *cert, char hex[33])
{
	unsigned char b[16];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	int ok = 0;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	b[0] &= 0x7f;
	b[0] |= 0x40;	/* always 16 bytes long, never negative */
	repat_hex(b, sizeof(b), hex);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto done;
	ok = X509_set_serialNumber(cert, ai);
done:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok;
}

static int
add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int
set_validity(X509 *cert, time_t nb, time_t na)
{
	return X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &nb) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(cert), 0, 0, &na) != NULL;
}

static void
save_serial(const repat_ca_t *ca, const char *hex)
{
	char *path = repat_xasprintf("%s/serial", ca->dir);
	char *line = repat_xasprintf("%s\n", hex);

	/* A record for people, not needed for uniqueness: ignore failures. */
	(void)repat_pki_write(path, line, strlen(line), 0644, NULL);
	free(line);
	free(path);
}

/* ---- CRL */

static int
crl_number_next(X509_CRL *old, ASN1_INTEGER **out)
{
	ASN1_INTEGER *n = NULL;
	BIGNUM *bn = NULL;
	int ok = 0;

	*out = NULL;
	if (old != NULL)
		n = X509_CRL_get_ext_d2i(old, NID_crl_number, NULL, NULL);
	bn = n ? ASN1_INTEGER_to_BN(n, NULL) : BN_new();
	if (bn == NULL || !BN_add_word(bn, 1))
		goto done;
	*out = BN_to_ASN1_INTEGER(bn, NULL);
	ok = *out != NULL;
done:
	BN_free(bn);
	ASN1_INTEGER_free(n);
	return ok;
}

/*
 * Builds and signs a new CRL holding the old one's entries plus extra
 * (consumed, may be NULL), and saves it as ca.crl.
 */
static int
crl_build(repat_ca_t *ca, X509_REVOKED *extra, time_t last, time_t next,
    char *errbuf)
{
	STACK_OF(X509_REVOKED) *old;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *aki = NULL;
	ASN1_TIME *t1 = NULL, *t2 = NULL;
	X509V3_CTX v3;
	X509_CRL *crl;
	char *path;
	int i, rc = REPAT_ECRYPTO;

	if ((crl = X509_CRL_new()) == NULL)
		goto fail;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)))
		goto fail;
	if ((t1 = ASN1_TIME_set(NULL, last)) == NULL ||
	    (t2 = ASN1_TIME_set(NULL, next)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t1) ||
	    !X509_CRL_set1_nextUpdate(crl, t2))
		goto fail;
	old = ca->crl ? X509_CRL_get_REVOKED(ca->crl) : NULL;
	for (i = 0; i < sk_X509_REVOKED_num(old); i++) {
		X509_REVOKED *r = X509_REVOKED_dup(sk_X509_REVOKED_value(old,
		    i));

		if (r == NULL || !X509_CRL_add0_revoked(crl, r)) {
			X509_REVOKED_free(r);
			goto fail;
		}
	}
	if (extra != NULL) {
		if (!X509_CRL_add0_revoked(crl, extra))
			goto fail;
		extra = NULL;
	}
	if (!crl_number_next(ca->crl, &num) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		goto fail;
	X509V3_set_ctx(&v3, ca->cert, NULL, NULL, crl, 0);
	if ((aki = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, aki, -1))
		goto fail;
	if (!X509_CRL_sort(crl) || X509_CRL_sign(crl, ca->key, NULL) <= 0)
		goto fail;
	path = repat_xasprintf("%s/ca.crl", ca->dir);
	rc = repat_pki_write_pem(path, crl, REPAT_PEM_CRL, errbuf);
	free(path);
	if (rc != 0)
		goto done;
	X509_CRL_free(ca->crl);
	ca->crl = crl;
	crl = NULL;
	goto done;
fail:
	repat_errf(errbuf, rc, "CA %s: cannot build the CRL", ca->country);
	repat_err_openssl(errbuf, rc);
done:
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_REVOKED_free(extra);
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return rc;
}

int
repat_ca_crl_at(repat_ca_t *ca, time_t last_update, time_t next_update,
    char *errbuf)
{
	return crl_build(ca, NULL, last_update, next_update, errbuf);
}

int
repat_ca_crl(repat_ca_t *ca, int days, char *errbuf)
{
	time_t now = time(NULL);

	if (days <= 0 || days > 366)
		return repat_errf(errbuf, REPAT_EINVAL, "CRL validity must be "
		    "1 to 366 days");
	return crl_build(ca, NULL, now, now + (time_t)days * 86400, errbuf);
}

int
repat_ca_reason_parse(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} reasons[] = {
		{ "unspecified", CRL_REASON_UNSPECIFIED },
		{ "keyCompromise", CRL_REASON_KEY_COMPROMISE },
		{ "affiliationChanged", CRL_REASON_AFFILIATION_CHANGED },
		{ "superseded", CRL_REASON_SUPERSEDED },
		{ "cessationOfOperation", CRL_REASON_CESSATION_OF_OPERATION },
		{ "certificateHold", CRL_REASON_CERTIFICATE_HOLD },
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(name, reasons[i].name) == 0)
			return reasons[i].code;
	return -2;
}

int
repat_ca_revoke(repat_ca_t *ca, X509 *cert, int reason, char *errbuf)
{
	STACK_OF(X509_REVOKED) *held;
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	ASN1_ENUMERATED *rcode = NULL;
	X509_REVOKED *r = NULL;
	ASN1_TIME *now = NULL;
	int i, rc = REPAT_ECRYPTO;

	if (X509_NAME_cmp(X509_get_issuer_name(cert),
	    X509_get_subject_name(ca->cert)) != 0 ||
	    X509_verify(cert, ca->key) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ECERT, "this certificate was "
		    "not issued by the %s CA", ca->country);
	}
	held = ca->crl ? X509_CRL_get_REVOKED(ca->crl) : NULL;
	for (i = 0; i < sk_X509_REVOKED_num(held); i++)
		if (ASN1_INTEGER_cmp(serial, X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(held, i))) == 0)
			return repat_errf(errbuf, REPAT_EEXIST, "this "
			    "certificate is already revoked");
	if ((r = X509_REVOKED_new()) == NULL ||
	    (now = ASN1_TIME_set(NULL, time(NULL))) == NULL ||
	    !X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)serial) ||
	    !X509_REVOKED_set_revocationDate(r, now))
		goto fail;
	if (reason >= 0) {
		if ((rcode = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(rcode, reason) ||
		    !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, rcode, 0, 0))
			goto fail;
	}
	ASN1_ENUMERATED_free(rcode);
	ASN1_TIME_free(now);
	return crl_build(ca, r, time(NULL), time(NULL) +
	    (time_t)REPAT_CRL_DAYS * 86400, errbuf);
fail:
	ASN1_ENUMERATED_free(rcode);
	ASN1_TIME_free(now);
	X509_REVOKED_free(r);
	repat_errf(errbuf, rc, "cannot build the revocation entry");
	return repat_err_openssl(errbuf, rc);
}

/* A PEM file read into memory, for one PEM_read_bio_*() call. */
struct pem_file {
	const char *path;	/* for the error message */
	uint8_t *buf;		/* the file's bytes */
	size_t len;
	BIO *bio;		/* reads buf; NULL when out of memory */
};

/* Reads path (at most max bytes). */
static int
pem_open(struct pem_file *f, const char *path, size_t max, char *errbuf)
{
	int rc;

	f->path = path;
	if ((rc = repat_file_read(path, max, &f->buf, &f->len, errbuf)) != 0)
		return rc;
	f->bio = BIO_new_mem_buf(f->buf, (int)f->len);
	return 0;
}

/*
 * Frees f; when the read failed (!ok) drops OpenSSL's errors and says
 * the file is not what (e.g. "a PEM CRL").
 */
static int
pem_close(struct pem_file *f, bool ok, const char *what, char *errbuf)
{
	BIO_free(f->bio);
	free(f->buf);
	if (!ok) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_EDECODE, "%s is not %s",
		    f->path, what);
	}
	return 0;
}

/* ---- create and open */

static int
make_ca_cert(EVP_PKEY *key, const char *cc, int days, X509 **out,
    char *errbuf)
{
	X509_NAME *name = NULL;
	X509V3_CTX v3;
	X509 *cert;
	char hex[33], cn[32];
	time_t now = time(NULL);
	int rc = REPAT_ECRYPTO;

	snprintf(cn, sizeof(cn), "repat CA %s", cc);
	if ((cert = X509_new()) == NULL || (name = make_name(cc, NULL,
	    cn)) == NULL)
		goto fail;
	if (!X509_set_version(cert, X509_VERSION_3) ||
	    !random_serial(cert, hex) ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert, name) ||
	    !set_validity(cert, now - CLOCK_SKEW_SECS,
	    now + (time_t)days * 86400) ||
	    !X509_set_pubkey(cert, key))
		goto fail;
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	if (!add_ext(cert, &v3, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(cert, &v3, NID_key_usage,
	    "critical,keyCertSign,cRLSign") ||
	    !add_ext(cert, &v3, NID_subject_key_identifier, "hash") ||
	    !add_ext(cert, &v3, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (X509_sign(cert, key, NULL) <= 0)
		goto fail;
	X509_NAME_free(name);
	*out = cert;
	return 0;
fail:
	X509_NAME_free(name);
	X509_free(cert);
	repat_errf(errbuf, rc, "cannot make the CA certificate");
	return repat_err_openssl(errbuf, rc);
}

int
repat_ca_create(const char *dir, const char *cc, int days,
    const char *passphrase, char fingerprint[96], char *errbuf)
{
	repat_ca_t ca;
	char *path;
	int rc;

	memset(&ca, 0, sizeof(ca));
	if (!repat_country_valid(cc))
		return repat_errf(errbuf, REPAT_EINVAL, "country '%s' is not "
		    "two capital letters (ISO 3166-1 alpha-2)", cc);
	if (days <= 0 || days > 36500)
		return repat_errf(errbuf, REPAT_EINVAL, "CA validity must be "
		    "1 to 36500 days");
	if ((rc = ensure_dir(dir, errbuf)) != 0)
		return rc;
	path = repat_xasprintf("%s/ca.key", dir);
	if (file_exists(path)) {
		rc = repat_errf(errbuf, REPAT_EEXIST, "%s already exists: "
		    "refusing to replace a CA key", path);
		free(path);
		return rc;
	}
	ca.dir = (char *)dir;
	memcpy(ca.country, cc, 3);
	if ((rc = repat_key_generate(EVP_PKEY_ED25519, &ca.key)) != 0) {
		repat_errf(errbuf, rc, "cannot generate the CA key");
		goto done;
	}
	if ((rc = make_ca_cert(ca.key, cc, days, &ca.cert, errbuf)) != 0)
		goto done;
	if ((rc = repat_key_save(path, ca.key, passphrase, errbuf)) != 0)
		goto done;
	free(path);
	path = repat_xasprintf("%s/ca.crt", dir);
	if ((rc = repat_pki_write_pem(path, ca.cert, REPAT_PEM_CERT,
	    errbuf)) != 0)
		goto done;
	if ((rc = repat_ca_crl(&ca, REPAT_CRL_DAYS, errbuf)) != 0)
		goto done;
	save_serial(&ca, "00");
	if (fingerprint != NULL)
		repat_cert_fingerprint(ca.cert, fingerprint);
done:
	free(path);
	EVP_PKEY_free(ca.key);
	X509_free(ca.cert);
	X509_CRL_free(ca.crl);
	return rc;
}

static int
load_crl(const char *path, X509_CRL **out, char *errbuf)
{
	struct pem_file f;
	int rc;

	*out = NULL;
	if ((rc = pem_open(&f, path, 1024 * 1024, errbuf)) != 0)
		return rc;
	if (f.bio != NULL)
		*out = PEM_read_bio_X509_CRL(f.bio, NULL, NULL, NULL);
	return pem_close(&f, *out != NULL, "a PEM CRL", errbuf);
}

int
repat_ca_open(const char *dir, const char *passphrase, repat_ca_t **out,
    char *errbuf)
{
	repat_ca_t *ca;
	X509_NAME *subj;
	char *path;
	int rc, i;

	*out = NULL;
	ca = repat_xcalloc(1, sizeof(*ca));
	ca->dir = repat_xstrdup(dir);
	path = repat_xasprintf("%s/ca.crt", dir);
	rc = repat_cert_load(path, &ca->cert, errbuf);
	free(path);
	if (rc != 0)
		goto fail;
	subj = X509_get_subject_name(ca->cert);
	i = X509_NAME_get_index_by_NID(subj, NID_countryName, -1);
	if (i < 0 || ASN1_STRING_length(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subj, i))) != 2) {
		rc = repat_errf(errbuf, REPAT_ECERT, "%s/ca.crt has no "
		    "country", dir);
		goto fail;
	}
	memcpy(ca->country, ASN1_STRING_get0_data(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subj, i))), 2);
	path = repat_xasprintf("%s/ca.key", dir);
	rc = repat_key_load(path, passphrase, &ca->key, errbuf);
	free(path);
	if (rc != 0)
		goto fail;
	if (EVP_PKEY_eq(ca->key, X509_get0_pubkey(ca->cert)) != 1) {
		ERR_clear_error();
		rc = repat_errf(errbuf, REPAT_ECERT, "%s: ca.key does not "
		    "belong to ca.crt", dir);
		goto fail;
	}
	path = repat_xasprintf("%s/ca.crl", dir);
	rc = load_crl(path, &ca->crl, errbuf);
	free(path);
	if (rc == REPAT_ENOENT)
		rc = 0;
	if (rc != 0)
		goto fail;
	*out = ca;
	return 0;
fail:
	repat_ca_close(&ca);
	return rc;
}

void
repat_ca_close(repat_ca_t **cap)
{
	repat_ca_t *ca = *cap;

	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	X509_CRL_free(ca->crl);
	free(ca->dir);
	free(ca);
	*cap = NULL;
}

X509 *
repat_ca_cert(const repat_ca_t *ca)
{
	return ca->cert;
}

const char *
repat_ca_country(const repat_ca_t *ca)
{
	return ca->country;
}

X509_CRL *
repat_ca_crl_get(const repat_ca_t *ca)
{
	return ca->crl;
}

/* ---- issue */

static int
issue_one(repat_ca_t *ca, EVP_PKEY *pub, const struct repat_identity *id,
    const char *usage, time_t nb, time_t na, X509 **out, char *errbuf)
{
	X509_NAME *name = NULL;
	X509V3_CTX v3;
	X509 *cert;
	char hex[33];
	int rc = REPAT_ECRYPTO;

	*out = NULL;
	if ((cert = X509_new()) == NULL || (name = make_name(id->country,
	    repat_role_name(id->role), id->agent_id)) == NULL)
		goto fail;
	if (!X509_set_version(cert, X509_VERSION_3) ||
	    !random_serial(cert, hex) ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert, X509_get_subject_name(ca->cert)) ||
	    !set_validity(cert, nb, na) || !X509_set_pubkey(cert, pub))
		goto fail;
	X509V3_set_ctx(&v3, ca->cert, cert, NULL, NULL, 0);
	if (!add_ext(cert, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(cert, &v3, NID_key_usage, usage) ||
	    !add_ext(cert, &v3, NID_subject_key_identifier, "hash") ||
	    !add_ext(cert, &v3, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (X509_sign(cert, ca->key, NULL) <= 0)
		goto fail;
	save_serial(ca, hex);
	X509_NAME_free(name);
	*out = cert;
	return 0;
fail:
	X509_NAME_free(name);
	X509_free(cert);
	repat_errf(errbuf, rc, "%s: cannot make the certificate", id->agent_id);
	return repat_err_openssl(errbuf, rc);
}

/* Checks the requests and fills id from the signing request. */
static int
check_requests(repat_ca_t *ca, X509_REQ *sreq, X509_REQ *ereq,
    struct repat_identity *id, char *errbuf)
{
	struct repat_identity eid;
	EVP_PKEY *spub = X509_REQ_get0_pubkey(sreq);
	int rc;

	if ((rc = repat_name_identity(X509_REQ_get_subject_name(sreq), id,
	    errbuf)) != 0)
		return rc;
	if (strcmp(id->country, ca->country) != 0)
		return repat_errf(errbuf, REPAT_ECERT, "%s is an agent of %s: "
		    "only the %s CA can certify it, this is the %s CA",
		    id->agent_id, id->country, id->country, ca->country);
	if (spub == NULL || EVP_PKEY_get_id(spub) != EVP_PKEY_ED25519)
		return repat_errf(errbuf, REPAT_ECERT,
		    "%s: the signing request "
		    "must hold an Ed25519 key", id->agent_id);
	if (X509_REQ_verify(sreq, spub) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ESIG,
		    "%s: the signing request's "
		    "signature does not verify", id->agent_id);
	}
	if (ereq == NULL) {
		if (id->role != REPAT__ROLE__ROLE_BROKER)
			return repat_errf(errbuf, REPAT_ECERT, "%s: an agent "
			    "needs both sign.csr and enc.csr", id->agent_id);
		return 0;
	}
	if ((rc = repat_name_identity(X509_REQ_get_subject_name(ereq), &eid,
	    errbuf)) != 0)
		return rc;
	if (strcmp(eid.agent_id, id->agent_id) != 0 || eid.role != id->role)
		return repat_errf(errbuf, REPAT_ECERT, "the requests do not "
		    "match: sign.csr is for %s (%s), enc.csr for %s (%s)",
		    id->agent_id, repat_role_name(id->role), eid.agent_id,
		    repat_role_name(eid.role));
	if (X509_REQ_get0_pubkey(ereq) == NULL ||
	    EVP_PKEY_get_id(X509_REQ_get0_pubkey(ereq)) != EVP_PKEY_X25519)
		return repat_errf(errbuf, REPAT_ECERT, "%s: the encryption "
		    "request must hold an X25519 key", id->agent_id);
	/* The proof that the holder of the signing key asked for both. */
	if (X509_REQ_verify(ereq, spub) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ESIG,
		    "%s: enc.csr is not signed "
		    "by the key of sign.csr", id->agent_id);
	}
	return 0;
}

int
repat_ca_issue_at(repat_ca_t *ca, X509_REQ *sign_req, X509_REQ *enc_req,
    time_t not_before, time_t not_after, X509 **sign_out, X509 **enc_out,
    char *errbuf)
{
	struct repat_identity id;
	int rc;

	*sign_out = NULL;
	if (enc_out != NULL)
		*enc_out = NULL;
	if (enc_req != NULL && enc_out == NULL)
		return REPAT_EINVAL;
	if (not_after <= not_before)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "empty validity period");
	if ((rc = check_requests(ca, sign_req, enc_req, &id, errbuf)) != 0)
		return rc;
	if ((rc = issue_one(ca, X509_REQ_get0_pubkey(sign_req), &id,
	    "critical,digitalSignature", not_before, not_after, sign_out,
	    errbuf)) != 0)
		return rc;
	if (enc_req == NULL)
		return 0;
	if ((rc = issue_one(ca, X509_REQ_get0_pubkey(enc_req), &id,
	    "critical,keyAgreement", not_before, not_after, enc_out,
	    errbuf)) != 0) {
		X509_free(*sign_out);
		*sign_out = NULL;
	}
	return rc;
}

int
repat_ca_issue(repat_ca_t *ca, X509_REQ *sign_req, X509_REQ *enc_req,
    int days, X509 **sign_out, X509 **enc_out, char *errbuf)
{
	time_t now = time(NULL);

	if (days <= 0 || days > 36500)
		return repat_errf(errbuf, REPAT_EINVAL, "certificate validity "
		    "must be 1 to 36500 days");
	return repat_ca_issue_at(ca, sign_req, enc_req, now - CLOCK_SKEW_SECS,
	    now + (time_t)days * 86400, sign_out, enc_out, errbuf);
}

/* ---- requests */

int
repat_request_make(EVP_PKEY *sign_key, EVP_PKEY *subject, const char *id,
    int role, X509_REQ **out, char *errbuf)
{
	X509_NAME *name = NULL;
	X509_REQ *req;
	const char *rname = repat_role_name(role);
	char cc[3];
	int rc = REPAT_ECRYPTO;

	*out = NULL;
	if (!repat_agent_id_country(id, cc))
		return repat_errf(errbuf, REPAT_EINVAL, "'%s' is not an agent "
		    "id of the form CC.ORG[.UNIT]", id);
	if (rname == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "unknown role %d",
		    role);
	if ((req = X509_REQ_new()) == NULL ||
	    (name = make_name(cc, rname, id)) == NULL)
		goto fail;
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, subject) ||
	    X509_REQ_sign(req, sign_key, NULL) <= 0)
		goto fail;
	X509_NAME_free(name);
	*out = req;
	return 0;
fail:
	X509_NAME_free(name);
	X509_REQ_free(req);
	repat_errf(errbuf, rc, "%s: cannot make the certificate request", id);
	return repat_err_openssl(errbuf, rc);
}

int
repat_request_load(const char *path, X509_REQ **out, char *errbuf)
{
	struct pem_file f;
	int rc;

	*out = NULL;
	if ((rc = pem_open(&f, path, 64 * 1024, errbuf)) != 0)
		return rc;
	if (f.bio != NULL)
		*out = PEM_read_bio_X509_REQ(f.bio, NULL, NULL, NULL);
	return pem_close(&f, *out != NULL, "a PEM certificate request",
	    errbuf);
}

static int
save_curve(const char *dir, char *errbuf)
{
	char pub[41], sec[41], *path, *line;
	int rc;

	if (zmq_curve_keypair(pub, sec) != 0)
		return repat_errf(errbuf, REPAT_ECRYPTO, "cannot make a CURVE "
		    "key pair: %s", zmq_strerror(zmq_errno()));
	path = repat_xasprintf("%s/curve.key", dir);
	line = repat_xasprintf("%s\n", sec);
	rc = repat_pki_write(path, line, strlen(line), 0600, errbuf);
	repat_wipe(line, strlen(line));
	free(line);
	free(path);
	repat_wipe(sec, sizeof(sec));
	if (rc != 0)
		return rc;
	path = repat_xasprintf("%s/curve.pub", dir);
	line = repat_xasprintf("%s\n", pub);
	rc = repat_pki_write(path, line, strlen(line), 0644, errbuf);
	free(line);
	free(path);
	return rc;
}

/* Generates a key of type, saves it as dir/NAME.key and its request. */
static int
make_pair(const char *dir, const char *name, int type, EVP_PKEY **signer,
    const char *id, int role, const char *passphrase, char *errbuf)
{
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	char *path;
	int rc;

	if ((rc = repat_key_generate(type, &key)) != 0)
		return repat_errf(errbuf, rc, "cannot generate %s.key", name);
	if (*signer == NULL)
		*signer = key;
	path = repat_xasprintf("%s/%s.key", dir, name);
	rc = repat_key_save(path, key, passphrase, errbuf);
	free(path);
	if (rc == 0)
		rc = repat_request_make(*signer, key, id, role, &req, errbuf);
	if (rc == 0) {
		path = repat_xasprintf("%s/%s.csr", dir, name);
		rc = repat_pki_write_pem(path, req, REPAT_PEM_CSR, errbuf);
		free(path);
	}
	X509_REQ_free(req);
	if (*signer != key)
		EVP_PKEY_free(key);
	return rc;
}

int
repat_agent_create(const char *dir, const char *id, int role,
    const char *passphrase, bool with_enc, char *errbuf)
{
	EVP_PKEY *signer = NULL;
	char *path;
	int rc;

	if (!repat_agent_id_valid(id))
		return repat_errf(errbuf, REPAT_EINVAL, "'%s' is not an agent "
		    "id of the form CC.ORG[.UNIT] (e.g. TH.DATIP)", id);
	if (repat_role_name(role) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "unknown role");
	if ((rc = ensure_dir(dir, errbuf)) != 0)
		return rc;
	path = repat_xasprintf("%s/sign.key", dir);
	if (file_exists(path)) {
		rc = repat_errf(errbuf, REPAT_EEXIST, "%s already exists: "
		    "refusing to replace an agent's key", path);
		free(path);
		return rc;
	}
	free(path);
	rc = make_pair(dir, "sign", EVP_PKEY_ED25519, &signer, id, role,
	    passphrase, errbuf);
	if (rc == 0 && with_enc)
		rc = make_pair(dir, "enc", EVP_PKEY_X25519, &signer, id, role,
		    passphrase, errbuf);
	if (rc == 0)
		rc = save_curve(dir, errbuf);
	EVP_PKEY_free(signer);
	return rc;
}
