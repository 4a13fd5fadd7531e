/*
 * sign.h: Ed25519 signatures, domain-separated by purpose.
 *
 * Every repat signature is over "repat/1 " PURPOSE "\0" || bytes, so a
 * signature made for one purpose (an ack) can never be replayed as another
 * (an envelope). The purposes are listed in docs/protocol.md. Verification
 * is over the exact received bytes and fails closed. Every verify below
 * except repat_ed25519_verify_openssl uses one verifier (libsodium's,
 * which refuses S >= L, non-canonical keys and small-order A or R), so all
 * parties agree on which signatures are valid.
 *
 * Keys are OpenSSL EVP_PKEY (type ED25519), borrowed by every call.
 * Thread-safe.
 */
#ifndef REPAT_SIGN_H
#define REPAT_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define REPAT_SIG_LEN		64
#define REPAT_ED25519_PUB_LEN	32

enum repat_purpose {
	REPAT_PURPOSE_ENVELOPE = 0,	/* SignedEnvelope.envelope */
	REPAT_PURPOSE_HELLO,		/* Hello.body */
	REPAT_PURPOSE_RECEIPT,		/* Receipt.body */
	REPAT_PURPOSE_ACK,		/* Ack.body */
	REPAT_PURPOSE_NOTICE,		/* Notice.body */
	REPAT_PURPOSE_AGREEMENT,	/* an agreement file's exact bytes */
	REPAT_PURPOSE_AGREEMENT_SIG,	/* a detached agreement signature's body */
	REPAT_PURPOSE_REQUEST,		/* an agent's certificate request */
	REPAT_PURPOSE_COUNT_
};

/* "envelope", "hello", ...; NULL for an unknown purpose. */
const char *repat_purpose_name(enum repat_purpose p);

/* Signs "repat/1 PURPOSE\0" || msg with key into sig. 0 or REPAT_ECRYPTO. */
int repat_sign(EVP_PKEY *key, enum repat_purpose p, const uint8_t *msg,
    size_t len, uint8_t sig[REPAT_SIG_LEN]);

/*
 * Verifies sig (siglen must be REPAT_SIG_LEN) over the purpose-prefixed msg
 * with the public key pub. 0 when valid, REPAT_ESIG otherwise.
 */
int repat_verify(EVP_PKEY *pub, enum repat_purpose p, const uint8_t *msg,
    size_t len, const uint8_t *sig, size_t siglen)
    __attribute__((warn_unused_result));

/* The same with a raw 32-byte public key (the broker's hot path). */
int repat_verify_raw(const uint8_t pub[REPAT_ED25519_PUB_LEN],
    enum repat_purpose p, const uint8_t *msg, size_t len, const uint8_t *sig,
    size_t siglen) __attribute__((warn_unused_result));

/* Plain Ed25519 over msg, no prefix: for C2SP signed notes and KATs. */
int repat_ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
    uint8_t sig[REPAT_SIG_LEN]);
int repat_ed25519_verify(const uint8_t pub[REPAT_ED25519_PUB_LEN],
    const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen)
    __attribute__((warn_unused_result));

/*
 * The same check through OpenSSL's verifier instead of libsodium's: a
 * reference for tests and benchmarks only. OpenSSL accepts small-order A
 * and R, which repat's verifier refuses (docs/decisions/0002).
 */
int repat_ed25519_verify_openssl(const uint8_t pub[REPAT_ED25519_PUB_LEN],
    const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen)
    __attribute__((warn_unused_result));

/* The raw public key of an Ed25519 or X25519 EVP_PKEY. 0 or REPAT_ECRYPTO. */
int repat_raw_public(EVP_PKEY *key, uint8_t out[32]);

#endif
