/*
 * seal.h: end-to-end sealing of payloads with HPKE (RFC 9180).
 *
 * repat seals in base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and
 * AES-256-GCM to the recipient's X25519 encryption key, info
 * "repat/1 payload", associated data = the exact header bytes. OpenSSL 3.0
 * has no HPKE API, so the key schedule is built here on EVP primitives.
 * The general context API below also runs psk mode and AES-128-GCM, for the
 * RFC's test vectors. Secrets are wiped on every path. Thread-safe.
 */
#ifndef REPAT_SEAL_H
#define REPAT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define REPAT_HPKE_ENC_LEN	32	/* X25519 public key */
#define REPAT_SEAL_INFO		"repat/1 payload"
#define REPAT_AEAD_TAG_LEN	16

enum repat_hpke_mode { REPAT_HPKE_BASE = 0, REPAT_HPKE_PSK = 1 };
enum repat_hpke_aead { REPAT_HPKE_AES128GCM = 1, REPAT_HPKE_AES256GCM = 2 };

/* An HPKE sender or recipient context; opaque. */
typedef struct repat_hpke repat_hpke_t;

/*
 * Sets up a sender context to the recipient public key pkR. skE_or_null:
 * a fixed ephemeral private key (tests only); NULL draws a fresh one. psk
 * and psk_id are used in REPAT_HPKE_PSK mode only. On success *ctx is the
 * caller's (repat_hpke_destroy) and enc holds the encapsulated key.
 */
int repat_hpke_setup_sender(enum repat_hpke_mode mode,
    enum repat_hpke_aead aead, const uint8_t pkR[32],
    const uint8_t *skE_or_null, const uint8_t *info, size_t infolen,
    const uint8_t *psk, size_t psklen, const uint8_t *psk_id,
    size_t psk_idlen, uint8_t enc[REPAT_HPKE_ENC_LEN], repat_hpke_t **ctx);

/* Sets up a recipient context with the private key skR (raw 32 bytes). */
int repat_hpke_setup_recipient(enum repat_hpke_mode mode,
    enum repat_hpke_aead aead, const uint8_t skR[32],
    const uint8_t enc[REPAT_HPKE_ENC_LEN], const uint8_t *info,
    size_t infolen, const uint8_t *psk, size_t psklen,
    const uint8_t *psk_id, size_t psk_idlen, repat_hpke_t **ctx);

/* Seals the next message: ct gets ptlen + 16 bytes. Advances the sequence. */
int repat_hpke_seal(repat_hpke_t *ctx, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *ct);
/* Opens the next message: pt gets ctlen - 16 bytes. REPAT_EOPEN on failure. */
int repat_hpke_open(repat_hpke_t *ctx, const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *pt)
    __attribute__((warn_unused_result));
/* RFC 9180 Export. */
int repat_hpke_export(repat_hpke_t *ctx, const uint8_t *exporter_context,
    size_t ctxlen, uint8_t *out, size_t outlen);
/* Wipes and frees; NULLs *ctx; NULL is fine. */
void repat_hpke_destroy(repat_hpke_t **ctx);

/*
 * X25519(sk, pk) (RFC 7748) into out, as the KEM uses it. An all-zero
 * result (pk of small order) is refused with REPAT_ECRYPTO and out zeroed.
 */
int repat_x25519(const uint8_t sk[32], const uint8_t pk[32], uint8_t out[32]);

/* RFC 9180 DeriveKeyPair for X25519 (tests). */
int repat_hpke_derive_keypair(const uint8_t *ikm, size_t ikmlen,
    uint8_t sk[32], uint8_t pk[32]);

/*
 * repat's one-shot seal: pads pt to its size bucket (repat_pad_len), then
 * seals in base mode, AES-256-GCM, info REPAT_SEAL_INFO, aad = header.
 * *ct (caller frees) gets repat_pad_len(ptlen) + 16 bytes.
 */
int repat_seal(const uint8_t pkR[32], const uint8_t *header, size_t hlen,
    const uint8_t *pt, size_t ptlen, uint8_t enc[REPAT_HPKE_ENC_LEN],
    uint8_t **ct, size_t *ctlen);

/*
 * Opens and unpads. *pt (caller frees with repat_free_secret(*pt, *ptlen))
 * gets the plaintext. REPAT_EOPEN when anything does not check.
 */
int repat_open(const uint8_t skR[32], const uint8_t *header, size_t hlen,
    const uint8_t enc[REPAT_HPKE_ENC_LEN], const uint8_t *ct, size_t ctlen,
    uint8_t **pt, size_t *ptlen) __attribute__((warn_unused_result));

/*
 * Size buckets: the padded length for n plaintext bytes. Padding is one
 * 0x80 byte then zeros (ISO/IEC 7816-4), so n + 1 <= bucket; buckets are
 * 1 KiB, 2 KiB, 4 KiB, ... doubling to 64 KiB, then multiples of 64 KiB.
 */
size_t repat_pad_len(size_t n);

#endif
