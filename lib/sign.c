/*
 * sign.c: domain-separated Ed25519 signatures (see repat/sign.h).
 *
 * Signing goes through OpenSSL (EVP_DigestSign, one-shot, no digest), the
 * only holder of private keys. Verification, the broker's hot path, goes
 * through libsodium, which is about twice as fast as OpenSSL 3.0 here and
 * is also the stricter of the two: it refuses S >= L, non-canonical A and
 * small-order A or R. Every verifying entry point in repat, including
 * repat_verify on an EVP_PKEY, ends in the same libsodium call, so a broker
 * and an agent can never disagree about a signature. The OpenSSL verifier
 * stays available as repat_ed25519_verify_openssl, for the cross-checks in
 * tests/unit/sign_test.c and for the timing in
 * docs/decisions/0002-ed25519-verifier.md.
 *
 * The signed bytes are "repat/1 " PURPOSE "\0" || msg. Ed25519 is one-shot
 * in both libraries, so the prefix and msg are concatenated: on the stack
 * when small, in one heap buffer otherwise.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/sign.h"

#define PREFIX		"repat/1 "
#define PREFIX_LEN	(sizeof(PREFIX) - 1)
/* Messages up to this size (prefix included) are built on the stack. */
#define STACK_MSG	2048

static const char *const purpose_names[REPAT_PURPOSE_COUNT_] = {
	[REPAT_PURPOSE_ENVELOPE] = "envelope",
	[REPAT_PURPOSE_HELLO] = "hello",
	[REPAT_PURPOSE_RECEIPT] = "receipt",
	[REPAT_PURPOSE_ACK] = "ack",
	[REPAT_PURPOSE_NOTICE] = "notice",
	[REPAT_PURPOSE_AGREEMENT] = "agreement",
	[REPAT_PURPOSE_AGREEMENT_SIG] = "agreement-signature",
	[REPAT_PURPOSE_REQUEST] = "request",
};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void
sodium_setup(void)
{
	sodium_ok = sodium_init() >= 0;
}

/* 0 when libsodium is usable; it is initialised once, from any thread. */
static int
sodium_ready(void)
{
	if (pthread_once(&sodium_once, sodium_setup) != 0 || !sodium_ok)
		return REPAT_ECRYPTO;
	return 0;
}

const char *
repat_purpose_name(enum repat_purpose p)
{
	if ((unsigned)p >= REPAT_PURPOSE_COUNT_)
		return NULL;
	return purpose_names[p];
}

/*
 * The prefixed message: stack points to a STACK_MSG buffer the caller owns.
 * *out is stack or a heap buffer to release with unprefix().
 */
static int
prefix(enum repat_purpose p, const uint8_t *msg, size_t len, uint8_t *stack,
    uint8_t **out, size_t *outlen)
{
	const char *name = repat_purpose_name(p);
	size_t nlen, hlen;
	uint8_t *buf;

	if (name == NULL || (msg == NULL && len > 0))
		return REPAT_EINVAL;
	nlen = strlen(name);
	hlen = PREFIX_LEN + nlen + 1;
	if (len > SIZE_MAX - hlen)
		return REPAT_ETOOBIG;
	buf = hlen + len <= STACK_MSG ? stack : repat_xmalloc(hlen + len);
	memcpy(buf, PREFIX, PREFIX_LEN);
	memcpy(buf + PREFIX_LEN, name, nlen + 1);
	if (len > 0)
		memcpy(buf + hlen, msg, len);
	*out = buf;
	*outlen = hlen + len;
	return 0;
}

static void
unprefix(uint8_t *buf, const uint8_t *stack)
{
	if (buf != stack)
		free(buf);
}

int
repat_ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
    uint8_t sig[REPAT_SIG_LEN])
{
	char errbuf[REPAT_ERRBUF_LEN] = "";
	EVP_MD_CTX *md;
	size_t siglen = REPAT_SIG_LEN;
	int rc = REPAT_ECRYPTO;

	memset(sig, 0, REPAT_SIG_LEN);
	if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    (msg == NULL && len > 0))
		return REPAT_EINVAL;
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto fail;
	/* OpenSSL wants a non-NULL pointer even for an empty message. */
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg ? msg : (const uint8_t *)"",
	    len) == 1 && siglen == REPAT_SIG_LEN)
		rc = 0;
	EVP_MD_CTX_free(md);
	if (rc == 0)
		return 0;
fail:
	memset(sig, 0, REPAT_SIG_LEN);
	repat_err_openssl(errbuf, rc);
	repat_log_warnx("ed25519 sign failed%s%s", errbuf[0] ? ": " : "",
	    errbuf);
	return rc;
}

int
repat_sign(EVP_PKEY *key, enum repat_purpose p, const uint8_t *msg,
    size_t len, uint8_t sig[REPAT_SIG_LEN])
{
	uint8_t stack[STACK_MSG];
	uint8_t *m;
	size_t mlen;
	int rc;

	memset(sig, 0, REPAT_SIG_LEN);
	if ((rc = prefix(p, msg, len, stack, &m, &mlen)) != 0)
		return rc;
	rc = repat_ed25519_sign(key, m, mlen, sig);
	unprefix(m, stack);
	return rc;
}

int
repat_ed25519_verify(const uint8_t pub[REPAT_ED25519_PUB_LEN],
    const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen)
{
	if (pub == NULL || sig == NULL || siglen != REPAT_SIG_LEN ||
	    (msg == NULL && len > 0))
		return REPAT_ESIG;
	if (sodium_ready() != 0)
		return REPAT_ESIG;
	if (crypto_sign_ed25519_verify_detached(sig,
	    msg ? msg : (const uint8_t *)"", len, pub) != 0)
		return REPAT_ESIG;
	return 0;
}

int
repat_ed25519_verify_openssl(const uint8_t pub[REPAT_ED25519_PUB_LEN],
    const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_PKEY *key;
	EVP_MD_CTX *md;
	int rc = REPAT_ESIG;

	if (pub == NULL || sig == NULL || siglen != REPAT_SIG_LEN ||
	    (msg == NULL && len > 0))
		return REPAT_ESIG;
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
	    REPAT_ED25519_PUB_LEN);
	if (key == NULL)
		return repat_err_openssl(NULL, REPAT_ESIG);
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, siglen,
	    msg ? msg : (const uint8_t *)"", len) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	/* A bad signature queues an error; drop it so it cannot go stale. */
	return repat_err_openssl(NULL, rc);
}

int
repat_verify_raw(const uint8_t pub[REPAT_ED25519_PUB_LEN],
    enum repat_purpose p, const uint8_t *msg, size_t len, const uint8_t *sig,
    size_t siglen)
{
	uint8_t stack[STACK_MSG];
	uint8_t *m;
	size_t mlen;
	int rc;

	if (pub == NULL || sig == NULL || siglen != REPAT_SIG_LEN)
		return REPAT_ESIG;
	if (prefix(p, msg, len, stack, &m, &mlen) != 0)
		return REPAT_ESIG;
	rc = repat_ed25519_verify(pub, m, mlen, sig, siglen);
	unprefix(m, stack);
	return rc == 0 ? 0 : REPAT_ESIG;
}

int
repat_verify(EVP_PKEY *pub, enum repat_purpose p, const uint8_t *msg,
    size_t len, const uint8_t *sig, size_t siglen)
{
	uint8_t raw[REPAT_ED25519_PUB_LEN];

	if (pub == NULL || EVP_PKEY_get_id(pub) != EVP_PKEY_ED25519)
		return REPAT_ESIG;
	if (repat_raw_public(pub, raw) != 0)
		return REPAT_ESIG;
	return repat_verify_raw(raw, p, msg, len, sig, siglen);
}

int
repat_raw_public(EVP_PKEY *key, uint8_t out[32])
{
	size_t n = 32;
	int id;

	memset(out, 0, 32);
	if (key == NULL)
		return REPAT_ECRYPTO;
	id = EVP_PKEY_get_id(key);
	if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_X25519)
		return REPAT_ECRYPTO;
	if (EVP_PKEY_get_raw_public_key(key, out, &n) != 1 || n != 32) {
		memset(out, 0, 32);
		return repat_err_openssl(NULL, REPAT_ECRYPTO);
	}
	return 0;
}
