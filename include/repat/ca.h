/*
 * ca.h: running a national CA and making an agent's certificate requests
 * (DESIGN.md §3; the folder layouts are in docs/pki.md).
 *
 * A CA folder holds ca.key (Ed25519, PKCS#8, passphrase-encrypted unless a
 * test region opted out), ca.crt (self-signed, C=CC, CN="repat CA CC"),
 * ca.crl (always present, re-signed by repat_ca_crl) and serial (the last
 * serial issued, hex; serials are 128-bit random, the file is a record).
 *
 * An agent asks for two certificates with two PKCS#10 requests: sign.csr,
 * self-signed by its Ed25519 key, and enc.csr, whose subject key is its
 * X25519 key and which is signed by the same Ed25519 key (X25519 cannot
 * sign). The CA verifies enc.csr with sign.csr's key, so one agent asked
 * for both (docs/decisions/0001-certificate-requests.md).
 *
 * Ownership: repat_ca_t is opened and closed by the caller; X509 * and
 * X509_REQ * results are the caller's (X509_free, X509_REQ_free).
 * Not thread-safe: one CA object per thread.
 */
#ifndef REPAT_CA_H
#define REPAT_CA_H

#include <stdbool.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define REPAT_CA_DAYS		3650	/* a CA certificate's default life */
#define REPAT_CERT_DAYS		730	/* an agent certificate's */
#define REPAT_CRL_DAYS		30	/* a CRL's next update */

typedef struct repat_ca repat_ca_t;

/*
 * Creates a CA for country cc in dir (created 0700 if missing; refused
 * with REPAT_EEXIST when dir/ca.key exists). passphrase NULL leaves the key
 * unencrypted (test regions). Writes ca.key, ca.crt, ca.crl (empty, next
 * update in REPAT_CRL_DAYS) and serial. fingerprint, when not NULL,
 * receives the CA certificate's SHA-256 fingerprint.
 */
int repat_ca_create(const char *dir, const char *cc, int days,
    const char *passphrase, char fingerprint[96], char *errbuf);

/*
 * Opens the CA in dir. REPAT_EPASS when ca.key is encrypted and the
 * passphrase is missing or wrong (callers then ask for one and retry).
 */
int repat_ca_open(const char *dir, const char *passphrase, repat_ca_t **out,
    char *errbuf);
void repat_ca_close(repat_ca_t **ca);

/* Borrowed: the CA's certificate, country, current CRL. */
X509 *repat_ca_cert(const repat_ca_t *ca);
const char *repat_ca_country(const repat_ca_t *ca);
X509_CRL *repat_ca_crl_get(const repat_ca_t *ca);

/*
 * Checks a request pair and issues the two certificates, valid from now for
 * days. The requests must be well signed (enc_req by sign_req's key), name
 * the same valid id and role, and the id must be of the CA's country.
 * enc_req may be NULL only for role broker. *enc_out is NULL then.
 * REPAT_ECERT / REPAT_ESIG with errbuf naming the reason.
 */
int repat_ca_issue(repat_ca_t *ca, X509_REQ *sign_req, X509_REQ *enc_req,
    int days, X509 **sign_out, X509 **enc_out, char *errbuf);
/* The same with an explicit validity window (tests: expired certificates). */
int repat_ca_issue_at(repat_ca_t *ca, X509_REQ *sign_req, X509_REQ *enc_req,
    time_t not_before, time_t not_after, X509 **sign_out, X509 **enc_out,
    char *errbuf);

/*
 * Adds cert (which this CA must have issued) to the CRL with reason (a
 * CRL_REASON_* value from <openssl/x509v3.h>, or -1 for none), re-signs it
 * with the next update REPAT_CRL_DAYS ahead and saves ca.crl.
 * REPAT_EEXIST when the serial is already revoked.
 */
int repat_ca_revoke(repat_ca_t *ca, X509 *cert, int reason, char *errbuf);
/* Re-signs the CRL with the next update days ahead and saves ca.crl. */
int repat_ca_crl(repat_ca_t *ca, int days, char *errbuf);
/* The same with explicit dates (tests: an expired CRL). */
int repat_ca_crl_at(repat_ca_t *ca, time_t last_update, time_t next_update,
    char *errbuf);

/* Parses a revocation reason name ("keyCompromise", ...); -2 when unknown. */
int repat_ca_reason_parse(const char *name);

/* ---- certificate requests */

/*
 * A PKCS#10 request for subject key subject (Ed25519 or X25519) with
 * subject C=CC, OU=role, CN=id, signed by sign_key (Ed25519).
 */
int repat_request_make(EVP_PKEY *sign_key, EVP_PKEY *subject, const char *id,
    int role, X509_REQ **out, char *errbuf);
/* Reads a PEM request. */
int repat_request_load(const char *path, X509_REQ **out, char *errbuf);

/*
 * Creates an agent's keys and requests in dir (created 0700 if missing):
 * sign.key + sign.csr, enc.key + enc.csr (when with_enc), curve.key (Z85
 * secret, 0600) + curve.pub. Refuses with REPAT_EEXIST when sign.key is
 * already there. passphrase NULL leaves the keys unencrypted.
 */
int repat_agent_create(const char *dir, const char *id, int role,
    const char *passphrase, bool with_enc, char *errbuf);

#endif
