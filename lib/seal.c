/*
 * seal.c: repat's one-shot payload sealing (see repat/seal.h).
 *
 * A payload is padded to its size bucket, then sealed with HPKE (lib/hpke.c)
 * in base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, info
 * "repat/1 payload", associated data = the exact header bytes. One message
 * per context, so its sequence number is always 0.
 *
 * Padding (ISO/IEC 7816-4): the plaintext, one 0x80 byte, then zeros up to
 * the bucket. Buckets are 1, 2, 4, ... 64 KiB, then multiples of 64 KiB, so
 * the ciphertext length tells the broker only the bucket. Opening accepts
 * canonical padding only: the ciphertext must be a bucket long and the
 * unpadded length must map back to that bucket; anything else is
 * REPAT_EOPEN, as is every other failure, with nothing left in the output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repat/err.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/seal.h"

#define BUCKET_MIN	1024
#define BUCKET_STEP	(64 * 1024)

size_t
repat_pad_len(size_t n)
{
	size_t b = BUCKET_MIN;

	if (n > SIZE_MAX - BUCKET_STEP)
		return 0;
	while (b < BUCKET_STEP && n + 1 > b)
		b *= 2;
	if (n + 1 <= b)
		return b;
	return (n + 1 + BUCKET_STEP - 1) / BUCKET_STEP * BUCKET_STEP;
}

/*
 * The plaintext length of a padded buffer, or REPAT_EOPEN. Scans the whole
 * buffer without data-dependent branches: where the 0x80 sits says how long
 * the plaintext is, which the caller learns anyway, but the scan should not
 * leak more through timing than the result does.
 */
static int
unpad(const uint8_t *p, size_t len, size_t *ptlen)
{
	size_t i, pos = 0;
	size_t found = 0, bad = 0;

	for (i = len; i-- > 0;) {
		size_t c = p[i];
		size_t nz = (0 - c) >> (sizeof(size_t) * 8 - 1);
		size_t first = nz & (found ^ 1);
		size_t not80 = (0 - (c ^ 0x80)) >> (sizeof(size_t) * 8 - 1);

		pos |= i & (0 - first);
		bad |= first & not80;
		found |= nz;
	}
	if (!found || bad || repat_pad_len(pos) != len)
		return REPAT_EOPEN;
	*ptlen = pos;
	return 0;
}

int
repat_seal(const uint8_t pkR[32], const uint8_t *header, size_t hlen,
    const uint8_t *pt, size_t ptlen, uint8_t enc[REPAT_HPKE_ENC_LEN],
    uint8_t **ct, size_t *ctlen)
{
	repat_hpke_t *ctx;
	uint8_t *padded, *out;
	size_t plen;
	int rc;

	*ct = NULL;
	*ctlen = 0;
	memset(enc, 0, REPAT_HPKE_ENC_LEN);
	if (pkR == NULL || (header == NULL && hlen > 0) ||
	    (pt == NULL && ptlen > 0))
		return REPAT_EINVAL;
	if (ptlen > REPAT_MAX_PAYLOAD || hlen > REPAT_MAX_HEADER)
		return REPAT_ETOOBIG;
	plen = repat_pad_len(ptlen);
	padded = repat_xcalloc(1, plen);
	if (ptlen > 0)
		memcpy(padded, pt, ptlen);
	padded[ptlen] = 0x80;
	rc = repat_hpke_setup_sender(REPAT_HPKE_BASE, REPAT_HPKE_AES256GCM, pkR,
	    NULL, (const uint8_t *)REPAT_SEAL_INFO,
	    sizeof(REPAT_SEAL_INFO) - 1, NULL, 0, NULL, 0, enc, &ctx);
	if (rc != 0)
		goto wipe;
	out = repat_xmalloc(plen + REPAT_AEAD_TAG_LEN);
	rc = repat_hpke_seal(ctx, header, hlen, padded, plen, out);
	repat_hpke_destroy(&ctx);
	if (rc != 0) {
		free(out);
		memset(enc, 0, REPAT_HPKE_ENC_LEN);
		goto wipe;
	}
	*ct = out;
	*ctlen = plen + REPAT_AEAD_TAG_LEN;
wipe:
	repat_free_secret(padded, plen);
	return rc;
}

int
repat_open(const uint8_t skR[32], const uint8_t *header, size_t hlen,
    const uint8_t enc[REPAT_HPKE_ENC_LEN], const uint8_t *ct, size_t ctlen,
    uint8_t **pt, size_t *ptlen)
{
	repat_hpke_t *ctx;
	uint8_t *buf;
	size_t plen, n;
	int rc;

	*pt = NULL;
	*ptlen = 0;
	if (skR == NULL || enc == NULL || ct == NULL ||
	    (header == NULL && hlen > 0))
		return REPAT_EOPEN;
	/* Only a bucket-sized ciphertext can open; check before any work. */
	if (ctlen < BUCKET_MIN + REPAT_AEAD_TAG_LEN ||
	    ctlen > repat_pad_len(REPAT_MAX_PAYLOAD) + REPAT_AEAD_TAG_LEN)
		return REPAT_EOPEN;
	plen = ctlen - REPAT_AEAD_TAG_LEN;
	if (repat_pad_len(plen - 1) != plen)
		return REPAT_EOPEN;
	if (repat_hpke_setup_recipient(REPAT_HPKE_BASE, REPAT_HPKE_AES256GCM,
	    skR, enc, (const uint8_t *)REPAT_SEAL_INFO,
	    sizeof(REPAT_SEAL_INFO) - 1, NULL, 0, NULL, 0, &ctx) != 0)
		return REPAT_EOPEN;
	buf = repat_xmalloc(plen);
	rc = repat_hpke_open(ctx, header, hlen, ct, ctlen, buf);
	repat_hpke_destroy(&ctx);
	if (rc == 0)
		rc = unpad(buf, plen, &n);
	if (rc != 0) {
		repat_free_secret(buf, plen);
		return REPAT_EOPEN;
	}
	/* The tail past n is padding, not secret: the caller wipes n bytes. */
	*pt = buf;
	*ptlen = n;
	return 0;
}
