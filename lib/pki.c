/*
 * pki.c: agent ids, certificate helpers and atomic file writes shared by
 * the key files (keyfile.c), the trust bundle (trust.c), the CA (ca.c) and
 * the keystore (keystore.c).
 *
 * A certificate's identity is read from its subject: CN is the agent id,
 * C its country, OU its role; the three must agree (C equals the id's
 * prefix, OU is a known role) or the certificate is refused outright.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define ID_PART_MAX	24

static bool
part_valid(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > ID_PART_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool
repat_agent_id_valid(const char *id)
{
	const char *dot1, *dot2, *end;

	if (id == NULL || strnlen(id, REPAT_MAX_AGENT_ID + 1) >
	    REPAT_MAX_AGENT_ID)
		return false;
	if (!(id[0] >= 'A' && id[0] <= 'Z' && id[1] >= 'A' && id[1] <= 'Z' &&
	    id[2] == '.'))
		return false;
	dot1 = id + 2;
	end = id + strlen(id);
	dot2 = strchr(dot1 + 1, '.');
	if (dot2 == NULL)
		return part_valid(dot1 + 1, (size_t)(end - dot1 - 1));
	if (!part_valid(dot1 + 1, (size_t)(dot2 - dot1 - 1)))
		return false;
	/* CC.ORG[.UNIT]: at most one unit below the organisation. */
	if (strchr(dot2 + 1, '.') != NULL)
		return false;
	return part_valid(dot2 + 1, (size_t)(end - dot2 - 1));
}

bool
repat_agent_id_country(const char *id, char out[3])
{
	if (!repat_agent_id_valid(id)) {
		out[0] = '\0';
		return false;
	}
	out[0] = id[0];
	out[1] = id[1];
	out[2] = '\0';
	return true;
}

bool
repat_country_valid(const char *cc)
{
	return cc != NULL && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' &&
	    cc[1] <= 'Z' && cc[2] == '\0';
}

/* ---- files */

/*
 * Whether PKI files are fsynced. Only `repat region init` turns it off: it
 * writes hundreds of small files into a fresh folder and syncs once at the
 * end, where an fsync per file would take seconds.
 */
static bool pki_fsync = true;

void
repat_pki_set_fsync(bool on)
{
	pki_fsync = on;
}

int
repat_pki_write(const char *path, const void *buf, size_t len, mode_t mode,
    char *errbuf)
{
	char *tmp;
	FILE *f;
	bool ok;

	if (pki_fsync)
		return repat_file_write(path, buf, len, mode, errbuf);
	tmp = repat_xasprintf("%s.tmp", path);
	/* Still never half a file under the final name: write, then rename. */
	if ((f = fopen(tmp, "wb")) == NULL) {
		free(tmp);
		return repat_errf(errbuf, REPAT_EIO, "cannot create %s: %s",
		    path, strerror(errno));
	}
	ok = fchmod(fileno(f), mode) == 0 && fwrite(buf, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) == 0) {
		free(tmp);
		return 0;
	}
	unlink(tmp);
	free(tmp);
	return repat_errf(errbuf, REPAT_EIO, "cannot write %s", path);
}

int
repat_pki_write_pem(const char *path, const void *obj, int kind, char *errbuf)
{
	BIO *mem;
	char *data;
	long len;
	int ok, rc;

	mem = BIO_new(BIO_s_mem());
	if (mem == NULL)
		return repat_err_openssl(errbuf, REPAT_ECRYPTO);
	switch (kind) {
	case REPAT_PEM_CERT:
		ok = PEM_write_bio_X509(mem, (X509 *)obj);
		break;
	case REPAT_PEM_CRL:
		ok = PEM_write_bio_X509_CRL(mem, (X509_CRL *)obj);
		break;
	case REPAT_PEM_CSR:
		ok = PEM_write_bio_X509_REQ(mem, (X509_REQ *)obj);
		break;
	default:
		ok = 0;
		break;
	}
	if (!ok) {
		BIO_free(mem);
		repat_errf(errbuf, REPAT_ECRYPTO, "cannot encode %s", path);
		return repat_err_openssl(errbuf, REPAT_ECRYPTO);
	}
	len = BIO_get_mem_data(mem, &data);
	rc = repat_pki_write(path, data, (size_t)len, 0644, errbuf);
	BIO_free(mem);
	return rc;
}

/* ---- certificates */

int
repat_cert_from_der(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (der == NULL || len == 0 || len > REPAT_MAX_CERT)
		return REPAT_EDECODE;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return REPAT_EDECODE;
	}
	*out = x;
	return 0;
}

int
repat_cert_to_der(X509 *cert, uint8_t **der, size_t *len)
{
	unsigned char *buf = NULL;
	int n;

	*der = NULL;
	*len = 0;
	n = i2d_X509(cert, &buf);
	if (n <= 0) {
		ERR_clear_error();
		return REPAT_ECRYPTO;
	}
	/* Callers free() the buffer, so move it out of OpenSSL's allocator. */
	*der = repat_xmalloc((size_t)n);
	memcpy(*der, buf, (size_t)n);
	OPENSSL_free(buf);
	*len = (size_t)n;
	return 0;
}

int
repat_cert_load(const char *path, X509 **out, char *errbuf)
{
	uint8_t *buf;
	size_t len;
	BIO *bio;
	X509 *x;
	int rc;

	*out = NULL;
	if ((rc = repat_file_read(path, 64 * 1024, &buf, &len,
	    errbuf)) != 0)
		return rc;
	if (len > 0 && buf[0] == 0x30) {
		rc = repat_cert_from_der(buf, len, &x);
	} else {
		bio = BIO_new_mem_buf(buf, (int)len);
		x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		rc = x ? 0 : REPAT_EDECODE;
	}
	free(buf);
	if (rc != 0) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_EDECODE,
		    "%s is not a certificate (PEM or DER)", path);
	}
	*out = x;
	return 0;
}

/* The single value of nid in name into out; false when absent or repeated. */
static bool
name_entry(const X509_NAME *name, int nid, char *out, size_t outlen)
{
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *s;
	int i, len;

	out[0] = '\0';
	i = X509_NAME_get_index_by_NID(name, nid, -1);
	if (i < 0 || X509_NAME_get_index_by_NID(name, nid, i) >= 0)
		return false;
	e = X509_NAME_get_entry(name, i);
	s = X509_NAME_ENTRY_get_data(e);
	len = ASN1_STRING_length(s);
	if (len <= 0 || (size_t)len >= outlen ||
	    memchr(ASN1_STRING_get0_data(s), '\0', (size_t)len) != NULL)
		return false;
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)len);
	out[len] = '\0';
	return true;
}

int
repat_name_identity(const X509_NAME *name, struct repat_identity *id,
    char *errbuf)
{
	char role[32], cc[3];

	memset(id, 0, sizeof(*id));
	if (!name_entry(name, NID_commonName, id->agent_id,
	    sizeof(id->agent_id)) || !repat_agent_id_valid(id->agent_id))
		return repat_errf(errbuf, REPAT_ECERT, "subject CN is not an "
		    "agent id of the form CC.ORG[.UNIT]");
	if (!name_entry(name, NID_countryName, id->country,
	    sizeof(id->country)))
		return repat_errf(errbuf, REPAT_ECERT, "%s: subject has no "
		    "single two-letter C", id->agent_id);
	repat_agent_id_country(id->agent_id, cc);
	if (strcmp(cc, id->country) != 0)
		return repat_errf(errbuf, REPAT_ECERT, "%s: subject C=%s does "
		    "not match the id's country %s", id->agent_id, id->country,
		    cc);
	if (!name_entry(name, NID_organizationalUnitName, role, sizeof(role)) ||
	    (id->role = repat_role_parse(role)) < 1)
		return repat_errf(errbuf, REPAT_ECERT, "%s: subject OU is not "
		    "a known role", id->agent_id);
	return 0;
}

int
repat_cert_identity(X509 *cert, struct repat_identity *id, char *errbuf)
{
	return repat_name_identity(X509_get_subject_name(cert), id, errbuf);
}

void
repat_cert_fingerprint(X509 *cert, char out[96])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	static const char hex[] = "0123456789ABCDEF";

	out[0] = '\0';
	if (!X509_digest(cert, EVP_sha256(), md, &n) || n != 32) {
		ERR_clear_error();
		return;
	}
	for (i = 0; i < n; i++) {
		out[i * 3] = hex[md[i] >> 4];
		out[i * 3 + 1] = hex[md[i] & 15];
		out[i * 3 + 2] = i + 1 < n ? ':' : '\0';
	}
}

int
repat_cert_public_raw(X509 *cert, uint8_t out[32])
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	size_t len = 32;
	int type;

	if (pub == NULL)
		goto fail;
	type = EVP_PKEY_get_id(pub);
	if (type != EVP_PKEY_ED25519 && type != EVP_PKEY_X25519)
		goto fail;
	if (EVP_PKEY_get_raw_public_key(pub, out, &len) != 1 || len != 32)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	memset(out, 0, 32);
	return REPAT_ECERT;
}
