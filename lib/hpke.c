/*
 * hpke.c: HPKE (RFC 9180) on OpenSSL 3.0 EVP primitives (see repat/seal.h).
 *
 * One KEM, DHKEM(X25519, HKDF-SHA256); one KDF, HKDF-SHA256; two AEADs,
 * AES-128-GCM and AES-256-GCM; base and psk modes; Seal, Open and Export.
 * The RFC's functions map one to one onto the static helpers below
 * (labeled_extract, labeled_expand, encap, decap, key_schedule), so the
 * code can be read against RFC 9180 §4, §5 and §7.1.
 *
 * Every intermediate secret (DH output, eae_prk, shared_secret, secret,
 * the labeled HKDF inputs) lives in a buffer that is wiped before the
 * function returns, on success and failure alike; the context's key,
 * base_nonce and exporter_secret are wiped by repat_hpke_destroy. An
 * all-zero X25519 output (a low-order public key) is refused.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/seal.h"

#define NH		32	/* SHA-256 output */
#define NN		12	/* AES-GCM nonce */
#define NSK		32	/* X25519 private key */
#define NPK		32	/* X25519 public key */
#define VERSION_LABEL	"HPKE-v1"
#define VLEN		(sizeof(VERSION_LABEL) - 1)
/* Labeled inputs up to this size are built on the stack. */
#define STACK_LABELED	256

#define KEM_ID		0x0020
#define KDF_ID		0x0001

struct repat_hpke {
	enum repat_hpke_aead aead;	/* AES-128-GCM or AES-256-GCM */
	size_t nk;			/* key length for aead */
	uint8_t key[32];		/* the AEAD key (nk bytes used) */
	uint8_t base_nonce[NN];		/* XORed with seq per message */
	uint8_t exporter_secret[NH];	/* for Export */
	uint64_t seq;			/* the next message's sequence */
};

/* "KEM" || I2OSP(kem_id, 2) */
static const uint8_t kem_suite[5] = { 'K', 'E', 'M', 0x00, 0x20 };

static pthread_once_t kdf_once = PTHREAD_ONCE_INIT;
static EVP_KDF *hkdf;

static void
kdf_setup(void)
{
	hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

static void
hpke_suite(enum repat_hpke_aead aead, uint8_t out[10])
{
	memcpy(out, "HPKE", 4);
	out[4] = KEM_ID >> 8;
	out[5] = KEM_ID & 0xff;
	out[6] = KDF_ID >> 8;
	out[7] = KDF_ID & 0xff;
	out[8] = 0;
	out[9] = (uint8_t)aead;
}

/*
 * Drains OpenSSL's error queue into the debug log and returns code. Debug,
 * not warning: most failures here come from a peer's bytes (a bad enc, a
 * forged tag), and the caller logs the decision once.
 */
static int
crypto_fail(const char *what, int code)
{
	char errbuf[REPAT_ERRBUF_LEN] = "";

	repat_err_openssl(errbuf, code);
	repat_log_debug("hpke: %s failed%s%s", what, errbuf[0] ? ": " : "",
	    errbuf);
	return code;
}

/*
 * One HKDF step. mode is EVP_KDF_HKDF_MODE_EXTRACT_ONLY (key = ikm, salt)
 * or EXPAND_ONLY (key = prk, info). An empty salt is passed as no salt,
 * which HKDF defines as HashLen zero bytes, the same HMAC key.
 */
static int
hkdf_run(int mode, const uint8_t *key, size_t keylen, const uint8_t *salt,
    size_t saltlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen)
{
	OSSL_PARAM params[6], *p = params;
	EVP_KDF_CTX *kctx;
	int rc = REPAT_ECRYPTO;

	if (pthread_once(&kdf_once, kdf_setup) != 0 || hkdf == NULL)
		return crypto_fail("HKDF fetch", REPAT_ECRYPTO);
	if ((kctx = EVP_KDF_CTX_new(hkdf)) == NULL)
		return crypto_fail("HKDF context", REPAT_ECRYPTO);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)key, keylen);
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	if (infolen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)info, infolen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(kctx);
	if (rc != 0) {
		repat_wipe(out, outlen);
		return crypto_fail("HKDF", rc);
	}
	return 0;
}

/* One part of a labeled HKDF input. */
struct part {
	const void *p;	/* bytes, or NULL when len is 0 */
	size_t len;	/* length of p */
};

/*
 * Concatenates the four parts into stack (STACK_LABELED bytes) or a heap
 * buffer; release with labeled_free, which wipes (the ikm is secret).
 */
static uint8_t *
labeled_build(uint8_t *stack, size_t *outlen, const struct part parts[4])
{
	size_t n = 0, i;
	uint8_t *buf, *w;

	for (i = 0; i < 4; i++)
		n += parts[i].len;
	buf = n <= STACK_LABELED ? stack : repat_xmalloc(n);
	w = buf;
	for (i = 0; i < 4; i++) {
		if (parts[i].len > 0)
			memcpy(w, parts[i].p, parts[i].len);
		w += parts[i].len;
	}
	*outlen = n;
	return buf;
}

static void
labeled_free(uint8_t *buf, size_t n, uint8_t *stack)
{
	repat_wipe(buf, n);
	if (buf != stack)
		free(buf);
}

/*
 * LabeledExtract(salt, label, ikm) =
 *	Extract(salt, "HPKE-v1"||suite||label||ikm)
 */
static int
labeled_extract(const uint8_t *suite, size_t suitelen, const uint8_t *salt,
    size_t saltlen, const char *label, const uint8_t *ikm, size_t ikmlen,
    uint8_t out[NH])
{
	const struct part parts[4] = { { VERSION_LABEL, VLEN },
	    { suite, suitelen }, { label, strlen(label) }, { ikm, ikmlen } };
	uint8_t stack[STACK_LABELED];
	uint8_t *li;
	size_t lilen;
	int rc;

	li = labeled_build(stack, &lilen, parts);
	rc = hkdf_run(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, li, lilen, salt, saltlen,
	    NULL, 0, out, NH);
	labeled_free(li, lilen, stack);
	return rc;
}

/*
 * LabeledExpand(prk, label, info, L) =
 *	Expand(prk, I2OSP(L, 2)||"HPKE-v1"||suite||label||info, L)
 */
static int
labeled_expand(const uint8_t *suite, size_t suitelen, const uint8_t prk[NH],
    const char *label, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen)
{
	uint8_t l2[2 + VLEN];
	const struct part parts[4] = { { l2, sizeof(l2) },
	    { suite, suitelen }, { label, strlen(label) }, { info, infolen } };
	uint8_t stack[STACK_LABELED];
	uint8_t *li;
	size_t lilen;
	int rc;

	if (outlen == 0 || outlen > 255 * NH)
		return REPAT_EINVAL;
	l2[0] = (uint8_t)(outlen >> 8);
	l2[1] = (uint8_t)outlen;
	memcpy(l2 + 2, VERSION_LABEL, VLEN);
	li = labeled_build(stack, &lilen, parts);
	rc = hkdf_run(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, NH, NULL, 0, li,
	    lilen, out, outlen);
	labeled_free(li, lilen, stack);
	return rc;
}

/* X25519(sk, pk); refuses an all-zero result (pk of low order). */
static int
dh(const uint8_t sk[NSK], const uint8_t pk[NPK], uint8_t out[32])
{
	static const uint8_t zero[32];
	EVP_PKEY *priv, *peer = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 32;
	int rc = REPAT_ECRYPTO;

	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, NSK);
	if (priv == NULL)
		goto done;
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pk, NPK);
	if (peer == NULL || (pctx = EVP_PKEY_CTX_new(priv, NULL)) == NULL)
		goto done;
	if (EVP_PKEY_derive_init(pctx) != 1 ||
	    EVP_PKEY_derive_set_peer(pctx, peer) != 1 ||
	    EVP_PKEY_derive(pctx, out, &n) != 1 || n != 32)
		goto done;
	/* OpenSSL refuses it too; this does not depend on that. */
	if (CRYPTO_memcmp(out, zero, 32) != 0)
		rc = 0;
done:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(priv);
	if (rc != 0) {
		repat_wipe(out, 32);
		return crypto_fail("X25519", REPAT_ECRYPTO);
	}
	return 0;
}

static int
x25519_public(const uint8_t sk[NSK], uint8_t pk[NPK])
{
	EVP_PKEY *k;
	size_t n = NPK;
	int rc = REPAT_ECRYPTO;

	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, NSK);
	if (k != NULL && EVP_PKEY_get_raw_public_key(k, pk, &n) == 1 &&
	    n == NPK)
		rc = 0;
	EVP_PKEY_free(k);
	if (rc != 0)
		return crypto_fail("X25519 public key", rc);
	return 0;
}

/* ExtractAndExpand(dh, kem_context) with kem_context = enc || pkR. */
static int
extract_and_expand(const uint8_t dhout[32], const uint8_t enc[NPK],
    const uint8_t pkR[NPK], uint8_t shared[NH])
{
	uint8_t prk[NH];
	uint8_t ctx[2 * NPK];
	int rc;

	memcpy(ctx, enc, NPK);
	memcpy(ctx + NPK, pkR, NPK);
	rc = labeled_extract(kem_suite, sizeof(kem_suite), NULL, 0, "eae_prk",
	    dhout, 32, prk);
	if (rc == 0)
		rc = labeled_expand(kem_suite, sizeof(kem_suite), prk,
		    "shared_secret", ctx, sizeof(ctx), shared, NH);
	repat_wipe(prk, sizeof(prk));
	return rc;
}

static int
encap(const uint8_t pkR[NPK], const uint8_t *skE_or_null,
    uint8_t enc[NPK], uint8_t shared[NH])
{
	uint8_t skE[NSK], dhout[32];
	int rc;

	if (skE_or_null != NULL)
		memcpy(skE, skE_or_null, NSK);
	else if (RAND_priv_bytes(skE, NSK) != 1)
		return crypto_fail("RAND_priv_bytes", REPAT_ECRYPTO);
	if ((rc = x25519_public(skE, enc)) == 0 &&
	    (rc = dh(skE, pkR, dhout)) == 0)
		rc = extract_and_expand(dhout, enc, pkR, shared);
	repat_wipe(skE, sizeof(skE));
	repat_wipe(dhout, sizeof(dhout));
	return rc;
}

static int
decap(const uint8_t enc[NPK], const uint8_t skR[NSK], uint8_t shared[NH])
{
	uint8_t pkR[NPK], dhout[32];
	int rc;

	if ((rc = x25519_public(skR, pkR)) == 0 &&
	    (rc = dh(skR, enc, dhout)) == 0)
		rc = extract_and_expand(dhout, enc, pkR, shared);
	repat_wipe(dhout, sizeof(dhout));
	return rc;
}

static int
check_psk(enum repat_hpke_mode mode, const uint8_t *psk, size_t psklen,
    const uint8_t *psk_id, size_t psk_idlen)
{
	if ((psk == NULL && psklen > 0) || (psk_id == NULL && psk_idlen > 0))
		return REPAT_EINVAL;
	if (mode == REPAT_HPKE_BASE)
		return psklen == 0 && psk_idlen == 0 ? 0 : REPAT_EINVAL;
	if (mode == REPAT_HPKE_PSK)
		return psklen > 0 && psk_idlen > 0 ? 0 : REPAT_EINVAL;
	return REPAT_EINVAL;
}

/* KeySchedule(mode, shared_secret, info, psk, psk_id) into c. */
static int
key_schedule(struct repat_hpke *c, enum repat_hpke_mode mode,
    const uint8_t shared[NH], const uint8_t *info, size_t infolen,
    const uint8_t *psk, size_t psklen, const uint8_t *psk_id,
    size_t psk_idlen)
{
	uint8_t suite[10];
	uint8_t ksc[1 + 2 * NH];
	uint8_t secret[NH];
	int rc;

	hpke_suite(c->aead, suite);
	ksc[0] = (uint8_t)mode;
	if ((rc = labeled_extract(suite, sizeof(suite), NULL, 0, "psk_id_hash",
	    psk_id, psk_idlen, ksc + 1)) != 0 ||
	    (rc = labeled_extract(suite, sizeof(suite), NULL, 0, "info_hash",
	    info, infolen, ksc + 1 + NH)) != 0 ||
	    (rc = labeled_extract(suite, sizeof(suite), shared, NH, "secret",
	    psk, psklen, secret)) != 0)
		goto done;
	if ((rc = labeled_expand(suite, sizeof(suite), secret, "key", ksc,
	    sizeof(ksc), c->key, c->nk)) != 0 ||
	    (rc = labeled_expand(suite, sizeof(suite), secret, "base_nonce",
	    ksc, sizeof(ksc), c->base_nonce, NN)) != 0 ||
	    (rc = labeled_expand(suite, sizeof(suite), secret, "exp", ksc,
	    sizeof(ksc), c->exporter_secret, NH)) != 0)
		goto done;
	c->seq = 0;
done:
	repat_wipe(secret, sizeof(secret));
	return rc;
}

/* A context for aead, or NULL for an unknown one. */
static struct repat_hpke *
context_new(enum repat_hpke_aead aead)
{
	struct repat_hpke *c;

	if (aead != REPAT_HPKE_AES128GCM && aead != REPAT_HPKE_AES256GCM)
		return NULL;
	c = repat_xcalloc(1, sizeof(*c));
	c->aead = aead;
	c->nk = aead == REPAT_HPKE_AES128GCM ? 16 : 32;
	return c;
}

void
repat_hpke_destroy(repat_hpke_t **ctx)
{
	if (ctx == NULL || *ctx == NULL)
		return;
	repat_free_secret(*ctx, sizeof(**ctx));
	*ctx = NULL;
}

int
repat_hpke_setup_sender(enum repat_hpke_mode mode,
    enum repat_hpke_aead aead, const uint8_t pkR[32],
    const uint8_t *skE_or_null, const uint8_t *info, size_t infolen,
    const uint8_t *psk, size_t psklen, const uint8_t *psk_id,
    size_t psk_idlen, uint8_t enc[REPAT_HPKE_ENC_LEN], repat_hpke_t **ctx)
{
	struct repat_hpke *c;
	uint8_t shared[NH];
	int rc;

	*ctx = NULL;
	memset(enc, 0, REPAT_HPKE_ENC_LEN);
	if (pkR == NULL || (info == NULL && infolen > 0) ||
	    check_psk(mode, psk, psklen, psk_id, psk_idlen) != 0)
		return REPAT_EINVAL;
	if ((c = context_new(aead)) == NULL)
		return REPAT_EINVAL;
	rc = encap(pkR, skE_or_null, enc, shared);
	if (rc == 0)
		rc = key_schedule(c, mode, shared, info, infolen, psk, psklen,
		    psk_id, psk_idlen);
	repat_wipe(shared, sizeof(shared));
	if (rc != 0) {
		memset(enc, 0, REPAT_HPKE_ENC_LEN);
		repat_hpke_destroy(&c);
		return rc;
	}
	*ctx = c;
	return 0;
}

int
repat_hpke_setup_recipient(enum repat_hpke_mode mode,
    enum repat_hpke_aead aead, const uint8_t skR[32],
    const uint8_t enc[REPAT_HPKE_ENC_LEN], const uint8_t *info,
    size_t infolen, const uint8_t *psk, size_t psklen,
    const uint8_t *psk_id, size_t psk_idlen, repat_hpke_t **ctx)
{
	struct repat_hpke *c;
	uint8_t shared[NH];
	int rc;

	*ctx = NULL;
	if (skR == NULL || enc == NULL || (info == NULL && infolen > 0) ||
	    check_psk(mode, psk, psklen, psk_id, psk_idlen) != 0)
		return REPAT_EINVAL;
	if ((c = context_new(aead)) == NULL)
		return REPAT_EINVAL;
	rc = decap(enc, skR, shared);
	if (rc == 0)
		rc = key_schedule(c, mode, shared, info, infolen, psk, psklen,
		    psk_id, psk_idlen);
	repat_wipe(shared, sizeof(shared));
	if (rc != 0) {
		repat_hpke_destroy(&c);
		return rc;
	}
	*ctx = c;
	return 0;
}

/* nonce = base_nonce XOR I2OSP(seq, Nn) */
static void
compute_nonce(const struct repat_hpke *c, uint8_t nonce[NN])
{
	uint64_t s = c->seq;
	int i;

	memcpy(nonce, c->base_nonce, NN);
	for (i = NN - 1; i >= NN - 8; i--) {
		nonce[i] ^= (uint8_t)s;
		s >>= 8;
	}
}

/* AES-GCM in either direction; on open, a tag mismatch is REPAT_EOPEN. */
static int
aead_run(struct repat_hpke *c, int enc, const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t *out, uint8_t tag[16])
{
	const EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *cc;
	uint8_t nonce[NN];
	uint8_t none[1];
	int n, rc = REPAT_ECRYPTO;

	if (inlen > INT_MAX || aadlen > INT_MAX)
		return REPAT_ETOOBIG;
	if (out == NULL)	/* empty plaintext: GCM writes nothing */
		out = none;
	cipher = c->aead == REPAT_HPKE_AES128GCM ? EVP_aes_128_gcm() :
	    EVP_aes_256_gcm();
	if ((cc = EVP_CIPHER_CTX_new()) == NULL)
		return crypto_fail("cipher context", REPAT_ECRYPTO);
	compute_nonce(c, nonce);
	if (EVP_CipherInit_ex(cc, cipher, NULL, c->key, nonce, enc) != 1)
		goto done;
	if (!enc && EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_SET_TAG, 16,
	    tag) != 1)
		goto done;
	if (aadlen > 0 && EVP_CipherUpdate(cc, NULL, &n, aad,
	    (int)aadlen) != 1)
		goto done;
	if (inlen > 0 && EVP_CipherUpdate(cc, out, &n, in, (int)inlen) != 1)
		goto done;
	if (EVP_CipherFinal_ex(cc, out + inlen, &n) != 1) {
		rc = enc ? REPAT_ECRYPTO : REPAT_EOPEN;
		goto done;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_GET_TAG, 16,
	    tag) != 1)
		goto done;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(cc);
	repat_wipe(nonce, sizeof(nonce));
	if (rc != 0) {
		if (out != none)
			repat_wipe(out, inlen);
		return crypto_fail(enc ? "seal" : "open", rc);
	}
	return 0;
}

int
repat_hpke_seal(repat_hpke_t *ctx, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *ct)
{
	int rc;

	if (ctx == NULL || ct == NULL || (aad == NULL && aadlen > 0) ||
	    (pt == NULL && ptlen > 0))
		return REPAT_EINVAL;
	/* The RFC's limit is 2^96 - 1 messages; ours is the counter's. */
	if (ctx->seq == UINT64_MAX)
		return REPAT_ECRYPTO;
	rc = aead_run(ctx, 1, aad, aadlen, pt, ptlen, ct, ct + ptlen);
	if (rc != 0) {
		repat_wipe(ct, ptlen + REPAT_AEAD_TAG_LEN);
		return rc;
	}
	ctx->seq++;
	return 0;
}

int
repat_hpke_open(repat_hpke_t *ctx, const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *pt)
{
	uint8_t tag[REPAT_AEAD_TAG_LEN];
	size_t ptlen;
	int rc;

	if (ctx == NULL || ct == NULL || ctlen < REPAT_AEAD_TAG_LEN ||
	    (aad == NULL && aadlen > 0) || ctx->seq == UINT64_MAX)
		return REPAT_EOPEN;
	ptlen = ctlen - REPAT_AEAD_TAG_LEN;
	if (ptlen > 0 && pt == NULL)
		return REPAT_EOPEN;
	memcpy(tag, ct + ptlen, sizeof(tag));
	rc = aead_run(ctx, 0, aad, aadlen, ct, ptlen, pt, tag);
	if (rc != 0)
		return REPAT_EOPEN;
	ctx->seq++;
	return 0;
}

int
repat_hpke_export(repat_hpke_t *ctx, const uint8_t *exporter_context,
    size_t ctxlen, uint8_t *out, size_t outlen)
{
	uint8_t suite[10];

	if (ctx == NULL || out == NULL ||
	    (exporter_context == NULL && ctxlen > 0))
		return REPAT_EINVAL;
	hpke_suite(ctx->aead, suite);
	return labeled_expand(suite, sizeof(suite), ctx->exporter_secret, "sec",
	    exporter_context, ctxlen, out, outlen);
}

int
repat_hpke_derive_keypair(const uint8_t *ikm, size_t ikmlen, uint8_t sk[32],
    uint8_t pk[32])
{
	uint8_t prk[NH];
	int rc;

	memset(sk, 0, 32);
	memset(pk, 0, 32);
	if (ikm == NULL || ikmlen < NSK)
		return REPAT_EINVAL;
	rc = labeled_extract(kem_suite, sizeof(kem_suite), NULL, 0, "dkp_prk",
	    ikm, ikmlen, prk);
	if (rc == 0)
		rc = labeled_expand(kem_suite, sizeof(kem_suite), prk, "sk",
		    NULL, 0, sk, NSK);
	if (rc == 0)
		rc = x25519_public(sk, pk);
	repat_wipe(prk, sizeof(prk));
	if (rc != 0) {
		repat_wipe(sk, 32);
		memset(pk, 0, 32);
	}
	return rc;
}

int
repat_x25519(const uint8_t sk[32], const uint8_t pk[32], uint8_t out[32])
{
	if (sk == NULL || pk == NULL) {
		memset(out, 0, 32);
		return REPAT_EINVAL;
	}
	return dh(sk, pk, out);
}
