/*
 * pki.h: national certificate authorities, agent certificates, key files
 * and the pinned region trust bundle (DESIGN.md §3).
 *
 * Each country's CA (Ed25519, self-signed X.509, C=CC) certifies its agents
 * with two certificates, CN = agent id, C = country, OU = role: one for the
 * Ed25519 signing key, one for the X25519 encryption key (keyAgreement).
 * Trust comes only from the bundle installed out of band: nothing received
 * over the network can add or replace a CA. CRLs travel freely but are
 * verified against the pinned CA of their country.
 *
 * Ownership: functions returning X509 * or EVP_PKEY * give the caller a
 * reference to free (X509_free, EVP_PKEY_free). Thread-safe except that a
 * repat_trust_t must not be changed (add_crl) while another thread reads it.
 */
#ifndef REPAT_PKI_H
#define REPAT_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "repat/limits.h"

/* Who a certificate speaks for, as read from it and cross-checked. */
struct repat_identity {
	char agent_id[REPAT_MAX_AGENT_ID + 1];	/* CN, e.g. "TH.DATIP" */
	char country[3];			/* C, equals the id's prefix */
	int role;				/* OU as a Repat__Role value */
};

/* CC.ORG[.UNIT]: CC two capital letters, parts [A-Z0-9_-]{1,24}. */
bool repat_agent_id_valid(const char *id);
/* The two-letter country of an id into out; false when the id is invalid. */
bool repat_agent_id_country(const char *id, char out[3]);
/* Two capital letters (an ISO 3166-1 alpha-2 code's shape). */
bool repat_country_valid(const char *cc);

/* ---- PEM files (atomic writes through repat/file.h) */

enum repat_pem_kind {
	REPAT_PEM_CERT = 1,	/* X509 * */
	REPAT_PEM_CRL,		/* X509_CRL * */
	REPAT_PEM_CSR		/* X509_REQ * */
};
/*
 * Writes a PKI file (key, certificate, CRL, request, conf) atomically with
 * mode: repat_file_write, fsync included, unless repat_pki_set_fsync(false)
 * was called (then write and rename only; the caller syncs at the end).
 */
int repat_pki_write(const char *path, const void *buf, size_t len,
    mode_t mode, char *errbuf);
/* Process-wide; for `repat region init` only. Not thread-safe. */
void repat_pki_set_fsync(bool on);
/* Writes obj as PEM to path with repat_pki_write, mode 0644. */
int repat_pki_write_pem(const char *path, const void *obj, int kind,
    char *errbuf);

/* ---- key files: PKCS#8 PEM, scrypt-encrypted unless passphrase is NULL */

/* type: EVP_PKEY_ED25519 or EVP_PKEY_X25519. */
int repat_key_generate(int type, EVP_PKEY **out);
/* Writes atomically with mode 0600. */
int repat_key_save(const char *path, EVP_PKEY *key, const char *passphrase,
    char *errbuf);
/*
 * Loads a private key, refusing a file readable by group or others
 * (REPAT_EPERM, as ssh does) and a wrong passphrase (REPAT_EPASS).
 */
int repat_key_load(const char *path, const char *passphrase, EVP_PKEY **out,
    char *errbuf);
/* The raw 32-byte private key (X25519 for opening payloads). */
int repat_key_raw_private(EVP_PKEY *key, uint8_t out[32]);

/*
 * A passphrase, from the first that is given: passphrase_file (first line),
 * the environment variable REPAT_PASSPHRASE, or a prompt on the terminal.
 * REPAT_ENOENT when none is available. *out is freed with
 * repat_free_secret(*out, strlen(*out)).
 */
int repat_passphrase(const char *passphrase_file, const char *prompt,
    char **out, char *errbuf);
/* The same for a new key: a terminal prompt asks twice and compares. */
int repat_passphrase_new(const char *passphrase_file, const char *prompt,
    char **out, char *errbuf);

/* ---- certificates */

/* Reads a PEM or DER certificate file. */
int repat_cert_load(const char *path, X509 **out, char *errbuf);
int repat_cert_from_der(const uint8_t *der, size_t len, X509 **out);
/* *der is the caller's (free()). */
int repat_cert_to_der(X509 *cert, uint8_t **der, size_t *len);
/* Reads CN, C and OU and checks they agree; REPAT_ECERT when not. */
int repat_cert_identity(X509 *cert, struct repat_identity *id, char *errbuf);
/* The same for a name (a certificate request's subject). */
int repat_name_identity(const X509_NAME *name, struct repat_identity *id,
    char *errbuf);
/* SHA-256 of the DER as uppercase hex pairs joined by ':' (96 bytes). */
void repat_cert_fingerprint(X509 *cert, char out[96]);
/* The certified raw public key (Ed25519 or X25519). */
int repat_cert_public_raw(X509 *cert, uint8_t out[32]);

/* ---- the pinned trust bundle */

typedef struct repat_trust repat_trust_t;

/*
 * Loads the bundle from dir: one CA certificate per country (CC.crt) and
 * its CRL (CC.crl) when present. Returns NULL with errbuf set on failure.
 */
repat_trust_t *repat_trust_load(const char *dir, char *errbuf);
void repat_trust_destroy(repat_trust_t **trust);

/*
 * Verifies cert as an agent certificate at time at_ms (ms since epoch):
 * issued by the pinned CA of the country in its agent id (and only that
 * one: a pinned CA of another country never completes the chain), not a
 * CA itself, within its validity, not revoked by that CA's CRL. The CRL
 * held is used even when it was issued after at_ms (the newest revocation
 * news counts for old signatures too); a CRL past its next update at at_ms
 * is refused (REPAT_EEXPIRED), one within 7 days of it logs a warning once.
 * On success fills id (may be NULL). REPAT_ECERT, REPAT_EREVOKED or
 * REPAT_EEXPIRED, with errbuf naming the agent id and the reason.
 */
int repat_trust_verify(repat_trust_t *trust, X509 *cert, uint64_t at_ms,
    struct repat_identity *id, char *errbuf)
    __attribute__((warn_unused_result));

/*
 * Verifies an agent's pair: sign_cert (Ed25519) and enc_cert (X25519 with
 * keyAgreement) both valid and certifying the same id and role.
 */
int repat_trust_verify_pair(repat_trust_t *trust, X509 *sign_cert,
    X509 *enc_cert, uint64_t at_ms, struct repat_identity *id, char *errbuf)
    __attribute__((warn_unused_result));

/*
 * The same for an agent checking its own pair at start-up: a CRL of its
 * country past its next update is used as it is (its revocations still
 * count) instead of refusing, so that the agent can still reach the
 * broker and fetch the newer CRL (docs/pki.md). Never use it for a peer.
 */
int repat_trust_verify_own_pair(repat_trust_t *trust, X509 *sign_cert,
    X509 *enc_cert, uint64_t at_ms, struct repat_identity *id, char *errbuf)
    __attribute__((warn_unused_result));

/*
 * Offers a DER CRL, e.g. one the broker's directory carried (the broker
 * is not trusted for it). It is installed when it verifies against the
 * pinned CA of its issuer's country, is not past its next update now, and
 * is newer than the one held (a later lastUpdate, or the same second and
 * a higher CRL number: an older one is a rollback); then it is saved into
 * the bundle folder as CC.crl (atomically) and used by every later check.
 * Returns 0 when installed; REPAT_EEXIST when it is byte for byte the CRL
 * held (nothing to say); REPAT_EEXPIRED when it is past its next update or
 * not newer; REPAT_EDECODE, REPAT_ECERT or REPAT_ESIG when it does not
 * decode or no pinned CA signed it; REPAT_EIO or REPAT_EFULL when it
 * verified and is used from now on but could not be saved (errbuf says
 * so). The folder is locked meanwhile, and a newer CRL another process
 * saved there is taken first, so an offer never writes an older CRL over
 * a newer one. Single-threaded: no other thread may use trust meanwhile.
 */
int repat_trust_add_crl(repat_trust_t *trust, const uint8_t *der, size_t len,
    char *errbuf);

/* The pinned CAs, for listing fingerprints, sorted by country. Borrowed. */
size_t repat_trust_count(const repat_trust_t *trust);
X509 *repat_trust_ca(const repat_trust_t *trust, size_t i);
/* The CRL held for country, or NULL. Borrowed until the next add_crl. */
X509_CRL *repat_trust_crl(const repat_trust_t *trust, const char *country);
/*
 * The DER of the CRL held for the i-th pinned CA (the order of
 * repat_trust_ca), *len its size; NULL when that CA has none. Borrowed
 * until the next add_crl; safe to read from several threads.
 */
const uint8_t *repat_trust_crl_der(const repat_trust_t *trust, size_t i,
    size_t *len);
/* True when the CRL held for country is past its next update at at_ms. */
bool repat_trust_crl_expired(const repat_trust_t *trust, const char *country,
    uint64_t at_ms);
/*
 * A number that changes whenever add_crl installs a CRL: a cache of
 * verification results (lib/client.c's sender cache) compares it to know
 * that its entries predate the newest revocations.
 */
uint64_t repat_trust_generation(const repat_trust_t *trust);

/* ---- an agent's own keys (DIR/agents/AGENT_ID, layout in docs) */

/*
 * Retired X25519 keys an agent keeps after rotating (enc.key.1 the most
 * recent, enc.key.2, ...), so messages sealed before the rotation still
 * open (docs/security.md: kept for the retention period).
 */
#define REPAT_MAX_RETIRED_KEYS 8

struct repat_keystore {
	struct repat_identity id;	/* from sign.crt */
	EVP_PKEY *sign_key;		/* sign.key, Ed25519 */
	X509 *sign_cert;		/* sign.crt */
	EVP_PKEY *enc_key;		/* enc.key, X25519 */
	X509 *enc_cert;			/* enc.crt */
	char curve_public[41];		/* curve.pub, Z85 */
	char curve_secret[41];		/* curve.key, Z85, wiped on clear */
	repat_trust_t *trust;		/* the agent's pinned bundle, trust/ */
	EVP_PKEY *retired_enc[REPAT_MAX_RETIRED_KEYS];	/* enc.key.1, ... */
	size_t n_retired;		/* retired decryption keys held */
};

/*
 * Loads an agent's keys, certificates and trust bundle from dir. The
 * passphrase comes from repat_passphrase(passphrase_file, ...) when the
 * keys are encrypted. Fails with a sentence naming the missing file.
 */
/*
 * A CURVE key pair as read from its files: key_path (the secret's file)
 * readable by its owner only (REPAT_EPERM), and pub the public key of
 * secret (REPAT_ECRYPTO naming pub_path otherwise). Z85, 40 characters.
 */
int repat_curve_pair_check(const char *key_path, const char *secret,
    const char *pub_path, const char *pub, char *errbuf);

int repat_keystore_load(const char *dir, const char *passphrase_file,
    struct repat_keystore *ks, char *errbuf);
/* Frees and wipes everything ks holds. */
void repat_keystore_clear(struct repat_keystore *ks);

#endif
