/*
 * certcache.c: signing certificates the broker verified recently, by
 * SHA-256 of their DER, so a busy sender's X.509 chain is not verified
 * again for every message. An entry lives CERT_TTL_MS; the cache is
 * emptied when CRLs are reloaded (SIGHUP), so a revocation takes effect
 * at the next reload at the latest.
 */
#include <string.h>

#include <openssl/evp.h>

#include "broker.h"
#include "repat/err.h"
#include "repat/log.h"

#define CERT_TTL_MS (10 * 60 * 1000ULL)

int
certcache_verify(struct cert_cache *cc, repat_trust_t *trust,
    const uint8_t *der, size_t len, uint64_t now_ms,
    const struct cert_entry **out, char *errbuf)
{
	struct cert_entry *e;
	uint8_t h[32];
	X509 *cert = NULL;
	size_t slot;
	int rc;

	*out = NULL;
	if (len == 0 || len > REPAT_MAX_CERT)
		return repat_errf(errbuf, REPAT_ECERT,
		    "the signing certificate is missing or too large");
	if (EVP_Digest(der, len, h, NULL, EVP_sha256(), NULL) != 1)
		return repat_err_openssl(errbuf, REPAT_ECRYPTO);
	memcpy(&slot, h, sizeof(slot));
	e = &cc->slot[slot % BROKER_CERT_CACHE];
	if (e->used && memcmp(e->der_hash, h, 32) == 0 &&
	    now_ms >= e->verified_ms && now_ms - e->verified_ms < CERT_TTL_MS) {
		*out = e;
		return REPAT_OK;
	}
	e->used = false;
	if ((rc = repat_cert_from_der(der, len, &cert)) != 0)
		return repat_errf(errbuf, REPAT_ECERT,
		    "the signing certificate does not decode");
	rc = repat_trust_verify(trust, cert, now_ms, &e->id, errbuf);
	if (rc == 0 && repat_cert_public_raw(cert, e->pub) != 0)
		rc = repat_errf(errbuf, REPAT_ECERT,
		    "the signing certificate holds no Ed25519 key");
	X509_free(cert);
	if (rc != 0)
		return rc;
	memcpy(e->der_hash, h, 32);
	e->verified_ms = now_ms;
	e->used = true;
	*out = e;
	return REPAT_OK;
}

void
certcache_clear(struct cert_cache *cc)
{
	memset(cc, 0, sizeof(*cc));
}
