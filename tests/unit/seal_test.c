/*
 * seal_test.c: HPKE (lib/hpke.c) against the RFC 9180 vectors for
 * DHKEM(X25519, HKDF-SHA256) with AES-128-GCM and AES-256-GCM in base and
 * psk modes (every encryption, seq 0..256, and every export), X25519
 * against Wycheproof, and repat's padded one-shot seal (lib/seal.c):
 * bucket boundaries, round trips, and every way an open must fail closed.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/err.h>

#include "repat/err.h"
#include "vectors.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/seal.h"

#define HPKE_VEC "tests/data/vectors/hpke/" \
	"rfc9180-x25519-sha256-aesgcm-base-psk.json"
#define X25519_VEC "tests/data/vectors/x25519/wycheproof_x25519_test.json"
#define INFO	((const uint8_t *)REPAT_SEAL_INFO)
#define INFOLEN	(sizeof(REPAT_SEAL_INFO) - 1)

/* One RFC 9180 vector's inputs. */
struct vec {
	int mode, aead;
	uint8_t *info, *skR, *pkR, *skE, *enc, *psk, *psk_id;
	size_t infolen, psklen, psk_idlen;
};

static void
vec_load(json_t *v, struct vec *x)
{
	size_t n;
	uint8_t *ikm, sk[32], pk[32], *pkE;

	x->mode = (int)json_integer_value(json_object_get(v, "mode"));
	x->aead = (int)json_integer_value(json_object_get(v, "aead_id"));
	assert_int_equal(json_integer_value(json_object_get(v, "kem_id")), 32);
	assert_int_equal(json_integer_value(json_object_get(v, "kdf_id")), 1);
	x->info = jhex(v, "info", &x->infolen);
	x->skR = jhex(v, "skRm", &n);
	assert_int_equal(n, 32);
	x->pkR = jhex(v, "pkRm", &n);
	x->skE = jhex(v, "skEm", &n);
	x->enc = jhex(v, "enc", &n);
	pkE = jhex(v, "pkEm", &n);
	assert_memory_equal(pkE, x->enc, 32);
	free(pkE);
	x->psk = x->psk_id = NULL;
	x->psklen = x->psk_idlen = 0;
	if (x->mode == REPAT_HPKE_PSK) {
		x->psk = jhex(v, "psk", &x->psklen);
		x->psk_id = jhex(v, "psk_id", &x->psk_idlen);
	}
	/* DeriveKeyPair, for both key pairs. */
	ikm = jhex(v, "ikmR", &n);
	assert_int_equal(repat_hpke_derive_keypair(ikm, n, sk, pk), 0);
	assert_memory_equal(sk, x->skR, 32);
	assert_memory_equal(pk, x->pkR, 32);
	free(ikm);
	ikm = jhex(v, "ikmE", &n);
	assert_int_equal(repat_hpke_derive_keypair(ikm, n, sk, pk), 0);
	assert_memory_equal(sk, x->skE, 32);
	assert_memory_equal(pk, x->enc, 32);
	free(ikm);
}

static void
vec_free(struct vec *x)
{
	free(x->info);
	free(x->skR);
	free(x->pkR);
	free(x->skE);
	free(x->enc);
	free(x->psk);
	free(x->psk_id);
}

/* Every encryption sealed by s and opened by r, in order. */
static size_t
check_encryptions(json_t *encs, repat_hpke_t *s, repat_hpke_t *r)
{
	json_t *e;
	size_t i, aadlen, ptlen, ctlen;
	uint8_t *aad, *pt, *ct, *out;

	json_array_foreach(encs, i, e) {
		aad = jhex(e, "aad", &aadlen);
		pt = jhex(e, "pt", &ptlen);
		ct = jhex(e, "ct", &ctlen);
		assert_int_equal(ctlen, ptlen + 16);
		out = malloc(ctlen);
		assert_int_equal(repat_hpke_seal(s, aad, aadlen, pt, ptlen,
		    out), 0);
		assert_memory_equal(out, ct, ctlen);
		memset(out, 0, ctlen);
		assert_int_equal(repat_hpke_open(r, aad, aadlen, ct, ctlen,
		    out), 0);
		assert_memory_equal(out, pt, ptlen);
		free(aad);
		free(pt);
		free(ct);
		free(out);
	}
	return i;
}

static void
check_exports(json_t *exps, repat_hpke_t *s, repat_hpke_t *r)
{
	json_t *e;
	size_t i, clen, wlen, L;
	uint8_t *c, *want, out[64];

	assert_int_equal(json_array_size(exps), 3);
	json_array_foreach(exps, i, e) {
		c = jhex(e, "exporter_context", &clen);
		want = jhex(e, "exported_value", &wlen);
		L = (size_t)json_integer_value(json_object_get(e, "L"));
		assert_int_equal(wlen, L);
		assert_true(L <= sizeof(out));
		assert_int_equal(repat_hpke_export(s, c, clen, out, L), 0);
		assert_memory_equal(out, want, L);
		assert_int_equal(repat_hpke_export(r, c, clen, out, L), 0);
		assert_memory_equal(out, want, L);
		free(c);
		free(want);
	}
}

static void
rfc9180_vectors(void **state)
{
	json_error_t jerr;
	json_t *root, *v;
	struct vec x;
	repat_hpke_t *s, *r;
	uint8_t enc[32];
	size_t i, n, seen = 0;

	(void)state;
	root = json_load_file(HPKE_VEC, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_array_size(root), 4);
	json_array_foreach(root, i, v) {
		vec_load(v, &x);
		seen |= 1u << (x.mode * 2 + x.aead - 1);
		assert_int_equal(repat_hpke_setup_sender(x.mode, x.aead, x.pkR,
		    x.skE, x.info, x.infolen, x.psk, x.psklen, x.psk_id,
		    x.psk_idlen, enc, &s), 0);
		assert_memory_equal(enc, x.enc, 32);
		assert_int_equal(repat_hpke_setup_recipient(x.mode, x.aead,
		    x.skR, enc, x.info, x.infolen, x.psk, x.psklen, x.psk_id,
		    x.psk_idlen, &r), 0);
		n = check_encryptions(json_object_get(v, "encryptions"), s, r);
		assert_int_equal(n, 257);	/* seq 0..256 */
		check_exports(json_object_get(v, "exports"), s, r);
		repat_hpke_destroy(&s);
		repat_hpke_destroy(&r);
		assert_null(s);
		vec_free(&x);
	}
	assert_int_equal(seen, 0xf);	/* all four mode/aead pairs */
	json_decref(root);
}

/* Opening message 1 first is a nonce mismatch; so is a wrong psk. */
static void
hpke_order_and_psk(void **state)
{
	json_error_t jerr;
	json_t *root, *v, *e;
	struct vec x;
	repat_hpke_t *r;
	size_t ctlen, aadlen;
	uint8_t *ct, *aad, out[256];

	(void)state;
	root = json_load_file(HPKE_VEC, 0, &jerr);
	assert_non_null(root);
	v = json_array_get(root, 1);	/* psk, AES-128-GCM */
	vec_load(v, &x);
	assert_int_equal(x.mode, REPAT_HPKE_PSK);
	e = json_array_get(json_object_get(v, "encryptions"), 1);
	ct = jhex(e, "ct", &ctlen);
	aad = jhex(e, "aad", &aadlen);
	assert_true(ctlen <= sizeof(out) + 16);
	assert_int_equal(repat_hpke_setup_recipient(x.mode, x.aead, x.skR,
	    x.enc, x.info, x.infolen, x.psk, x.psklen, x.psk_id, x.psk_idlen,
	    &r), 0);
	assert_int_equal(repat_hpke_open(r, aad, aadlen, ct, ctlen, out),
	    REPAT_EOPEN);
	repat_hpke_destroy(&r);
	x.psk[0] ^= 1;
	assert_int_equal(repat_hpke_setup_recipient(x.mode, x.aead, x.skR,
	    x.enc, x.info, x.infolen, x.psk, x.psklen, x.psk_id, x.psk_idlen,
	    &r), 0);
	e = json_array_get(json_object_get(v, "encryptions"), 0);
	free(ct);
	free(aad);
	ct = jhex(e, "ct", &ctlen);
	aad = jhex(e, "aad", &aadlen);
	assert_int_equal(repat_hpke_open(r, aad, aadlen, ct, ctlen, out),
	    REPAT_EOPEN);
	repat_hpke_destroy(&r);
	/* psk inputs must match the mode (RFC 9180 VerifyPSKInputs). */
	assert_int_equal(repat_hpke_setup_recipient(REPAT_HPKE_BASE, x.aead,
	    x.skR, x.enc, x.info, x.infolen, x.psk, x.psklen, x.psk_id,
	    x.psk_idlen, &r), REPAT_EINVAL);
	assert_null(r);
	assert_int_equal(repat_hpke_setup_recipient(REPAT_HPKE_PSK, x.aead,
	    x.skR, x.enc, x.info, x.infolen, NULL, 0, NULL, 0, &r),
	    REPAT_EINVAL);
	assert_int_equal(repat_hpke_setup_recipient(REPAT_HPKE_BASE, 3,
	    x.skR, x.enc, x.info, x.infolen, NULL, 0, NULL, 0, &r),
	    REPAT_EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
	free(ct);
	free(aad);
	vec_free(&x);
	json_decref(root);
}

static int
has_flag(json_t *t, const char *flag)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(t, "flags"), i, f)
		if (strcmp(json_string_value(f), flag) == 0)
			return 1;
	return 0;
}

/*
 * Wycheproof X25519: every valid case gives its shared value. The
 * "acceptable" ones give theirs too, except the 31 all-zero outputs
 * (ZeroSharedSecret), which repat refuses on purpose: an all-zero DH
 * output means the peer sent a small-order point.
 */
static void
wycheproof_x25519(void **state)
{
	json_error_t jerr;
	json_t *root, *g, *t;
	size_t i, l1, l2, l3, total = 0, refused = 0;
	uint8_t *pub, *priv, *shared, out[32];
	int rc;

	(void)state;
	root = json_load_file(X25519_VEC, 0, &jerr);
	assert_non_null(root);
	g = json_array_get(json_object_get(root, "testGroups"), 0);
	json_array_foreach(json_object_get(g, "tests"), i, t) {
		pub = jhex(t, "public", &l1);
		priv = jhex(t, "private", &l2);
		shared = jhex(t, "shared", &l3);
		assert_int_equal(l1, 32);
		assert_int_equal(l2, 32);
		assert_int_equal(l3, 32);
		rc = repat_x25519(priv, pub, out);
		if (has_flag(t, "ZeroSharedSecret")) {
			assert_int_equal(rc, REPAT_ECRYPTO);
			/* out was zeroed, and shared is zeros */
			assert_memory_equal(out, shared, 32);
			refused++;
		} else {
			if (rc != 0)
				printf("tcId %lld refused\n",
				    json_integer_value(json_object_get(t,
				    "tcId")));
			assert_int_equal(rc, 0);
			assert_memory_equal(out, shared, 32);
		}
		total++;
		free(pub);
		free(priv);
		free(shared);
	}
	json_decref(root);
	assert_int_equal(total, 518);
	assert_int_equal(refused, 31);
	assert_int_equal(ERR_peek_error(), 0);
}

/* A fixed recipient key pair from DeriveKeyPair. */
static void
recipient(uint8_t sk[32], uint8_t pk[32])
{
	uint8_t ikm[32];

	memset(ikm, 0x42, sizeof(ikm));
	assert_int_equal(repat_hpke_derive_keypair(ikm, sizeof(ikm), sk, pk),
	    0);
}

static void *
seal_loop(void *arg)
{
	const uint8_t *pk = arg, *sk = (const uint8_t *)arg + 32;
	const uint8_t msg[] = "thread", hdr[] = "h";
	uint8_t enc[32], *ct, *pt;
	size_t ctlen, ptlen;
	intptr_t ok = 0;
	int i;

	for (i = 0; i < 20; i++) {
		if (repat_seal(pk, hdr, sizeof(hdr), msg, sizeof(msg), enc, &ct,
		    &ctlen) != 0)
			continue;
		if (repat_open(sk, hdr, sizeof(hdr), enc, ct, ctlen, &pt,
		    &ptlen) == 0) {
			ok += ptlen == sizeof(msg) &&
			    memcmp(pt, msg, ptlen) == 0;
			repat_free_secret(pt, ptlen);
		}
		free(ct);
	}
	return (void *)ok;
}

/* Runs first: the HKDF fetch (pthread_once in lib/hpke.c) races here. */
static void
threads_seal(void **state)
{
	uint8_t keys[64];
	pthread_t t[4];
	void *ok;
	int i;

	(void)state;
	recipient(keys + 32, keys);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, seal_loop, keys),
		    0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ok), 0);
		assert_int_equal((intptr_t)ok, 20);
	}
}

static void
pad_buckets(void **state)
{
	static const size_t in[][2] = {
		{ 0, 1024 }, { 1, 1024 }, { 1023, 1024 }, { 1024, 2048 },
		{ 2047, 2048 }, { 2048, 4096 }, { 4095, 4096 },
		{ 8191, 8192 }, { 16383, 16384 }, { 32767, 32768 },
		{ 32768, 65536 }, { 65535, 65536 }, { 65536, 131072 },
		{ 131071, 131072 }, { 131072, 196608 },
		{ REPAT_MAX_PAYLOAD - 1, REPAT_MAX_PAYLOAD },
		{ REPAT_MAX_PAYLOAD, REPAT_MAX_PAYLOAD + 65536 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(repat_pad_len(in[i][0]), in[i][1]);
	assert_int_equal(repat_pad_len(SIZE_MAX), 0);
	/* The largest n that still has a bucket, then overflow. */
	assert_int_equal(repat_pad_len(SIZE_MAX - 65536), SIZE_MAX - 65535);
	assert_int_equal(repat_pad_len(SIZE_MAX - 65535), 0);
}

static void
seal_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 1023, 1024, 2047, 65535, 65536,
	    REPAT_MAX_PAYLOAD };
	const uint8_t hdr[] = "serialized header bytes";
	uint8_t sk[32], pk[32], enc[32], enc2[32], *pt, *ct, *ct2, *back;
	size_t i, n, ctlen, ct2len, backlen;

	(void)state;
	recipient(sk, pk);
	pt = malloc(REPAT_MAX_PAYLOAD);
	for (i = 0; i < REPAT_MAX_PAYLOAD; i++)
		pt[i] = (uint8_t)(i * 31 + 7);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		assert_int_equal(repat_seal(pk, hdr, sizeof(hdr), pt, n, enc,
		    &ct, &ctlen), 0);
		assert_int_equal(ctlen, repat_pad_len(n) + REPAT_AEAD_TAG_LEN);
		assert_int_equal(repat_open(sk, hdr, sizeof(hdr), enc, ct,
		    ctlen, &back, &backlen), 0);
		assert_int_equal(backlen, n);
		if (n > 0)
			assert_memory_equal(back, pt, n);
		repat_free_secret(back, backlen);
		/* A fresh ephemeral key each time. */
		assert_int_equal(repat_seal(pk, hdr, sizeof(hdr), pt, n, enc2,
		    &ct2, &ct2len), 0);
		assert_memory_not_equal(enc, enc2, 32);
		free(ct);
		free(ct2);
	}
	assert_int_equal(repat_seal(pk, hdr, sizeof(hdr), pt,
	    REPAT_MAX_PAYLOAD + 1, enc, &ct, &ctlen), REPAT_ETOOBIG);
	assert_null(ct);
	free(pt);
}

/* repat_open(...) must fail with nothing in the outputs. */
static void
open_fails(const uint8_t *sk, const uint8_t *hdr, size_t hlen,
    const uint8_t *enc, const uint8_t *ct, size_t ctlen)
{
	uint8_t *pt = (uint8_t *)1;
	size_t ptlen = 77;

	assert_int_equal(repat_open(sk, hdr, hlen, enc, ct, ctlen, &pt,
	    &ptlen), REPAT_EOPEN);
	assert_null(pt);
	assert_int_equal(ptlen, 0);
}

static void
open_fails_closed(void **state)
{
	uint8_t hdr[] = "header: CC-2026-000001";
	uint8_t sk[32], pk[32], enc[32], other[32], opk[32], ikm[32];
	uint8_t *ct, *big;
	const uint8_t msg[] = "victim file: never in the clear";
	size_t ctlen, i;

	(void)state;
	recipient(sk, pk);
	assert_int_equal(repat_seal(pk, hdr, sizeof(hdr), msg, sizeof(msg),
	    enc, &ct, &ctlen), 0);
	/* wrong key */
	memset(ikm, 0x43, sizeof(ikm));
	assert_int_equal(repat_hpke_derive_keypair(ikm, 32, other, opk), 0);
	open_fails(other, hdr, sizeof(hdr), enc, ct, ctlen);
	/* tampered header (aad), shorter header, no header */
	for (i = 0; i < sizeof(hdr); i += 5) {
		hdr[i] ^= 0x01;
		open_fails(sk, hdr, sizeof(hdr), enc, ct, ctlen);
		hdr[i] ^= 0x01;
	}
	open_fails(sk, hdr, sizeof(hdr) - 1, enc, ct, ctlen);
	open_fails(sk, NULL, 0, enc, ct, ctlen);
	/* tampered ciphertext: first byte, padding area, tag */
	for (i = 0; i < ctlen; i += ctlen / 7) {
		ct[i] ^= 0x80;
		open_fails(sk, hdr, sizeof(hdr), enc, ct, ctlen);
		ct[i] ^= 0x80;
	}
	ct[ctlen - 1] ^= 1;
	open_fails(sk, hdr, sizeof(hdr), enc, ct, ctlen);
	ct[ctlen - 1] ^= 1;
	/* tampered enc, and a low-order enc (u = 0 and u = 1) */
	enc[3] ^= 0x10;
	open_fails(sk, hdr, sizeof(hdr), enc, ct, ctlen);
	enc[3] ^= 0x10;
	memset(other, 0, 32);
	open_fails(sk, hdr, sizeof(hdr), other, ct, ctlen);
	other[0] = 1;
	open_fails(sk, hdr, sizeof(hdr), other, ct, ctlen);
	/* truncated, cut to the tag, cut to nothing, one byte more */
	open_fails(sk, hdr, sizeof(hdr), enc, ct, ctlen - 1);
	open_fails(sk, hdr, sizeof(hdr), enc, ct, ctlen - 16);
	open_fails(sk, hdr, sizeof(hdr), enc, ct, 16);
	open_fails(sk, hdr, sizeof(hdr), enc, ct, 0);
	big = malloc(ctlen + 1);
	memcpy(big, ct, ctlen);
	big[ctlen] = 0;
	open_fails(sk, hdr, sizeof(hdr), enc, big, ctlen + 1);
	free(big);
	/* and still opens untouched */
	{
		uint8_t *pt;
		size_t ptlen;

		assert_int_equal(repat_open(sk, hdr, sizeof(hdr), enc, ct,
		    ctlen, &pt, &ptlen), 0);
		assert_int_equal(ptlen, sizeof(msg));
		assert_memory_equal(pt, msg, sizeof(msg));
		repat_free_secret(pt, ptlen);
	}
	free(ct);
	/* sealing to a low-order key is refused */
	memset(other, 0, 32);
	assert_int_equal(repat_seal(other, hdr, sizeof(hdr), msg, sizeof(msg),
	    enc, &ct, &ctlen), REPAT_ECRYPTO);
	assert_null(ct);
	assert_int_equal(ctlen, 0);
	assert_int_equal(ERR_peek_error(), 0);
}

/*
 * Padding that repat_seal would never write, sealed properly with the same
 * suite and info: open must refuse every one after the AEAD succeeds.
 */
static void
bad_padding_refused(void **state)
{
	const uint8_t hdr[] = "h";
	uint8_t sk[32], pk[32], enc[32], padded[2048], ct[2048 + 16];
	repat_hpke_t *s;
	int k;

	(void)state;
	recipient(sk, pk);
	for (k = 0; k < 6; k++) {
		size_t len = 1024;

		memset(padded, 0, sizeof(padded));
		memset(padded, 'x', 10);
		switch (k) {
		case 0:		/* all zeros after the data: no 0x80 */
			break;
		case 1:		/* 0x81 instead of 0x80 */
			padded[10] = 0x81;
			break;
		case 2:		/* a stray byte after the 0x80 */
			padded[10] = 0x80;
			padded[500] = 1;
			break;
		case 3:		/* a bigger bucket than 10 bytes need */
			padded[10] = 0x80;
			len = 2048;
			break;
		case 4:		/* all zeros */
			memset(padded, 0, 10);
			break;
		case 5:		/* the control: canonical, must open */
			padded[10] = 0x80;
			break;
		}
		assert_int_equal(repat_hpke_setup_sender(REPAT_HPKE_BASE,
		    REPAT_HPKE_AES256GCM, pk, NULL, INFO, INFOLEN, NULL, 0,
		    NULL, 0, enc, &s), 0);
		assert_int_equal(repat_hpke_seal(s, hdr, sizeof(hdr), padded,
		    len, ct), 0);
		repat_hpke_destroy(&s);
		if (k < 5) {
			open_fails(sk, hdr, sizeof(hdr), enc, ct, len + 16);
		} else {
			uint8_t *pt;
			size_t ptlen;

			assert_int_equal(repat_open(sk, hdr, sizeof(hdr), enc,
			    ct, len + 16, &pt, &ptlen), 0);
			assert_int_equal(ptlen, 10);
			repat_free_secret(pt, ptlen);
		}
	}
}

static void
export_limits(void **state)
{
	uint8_t sk[32], pk[32], enc[32], out[8];
	uint8_t *big;
	repat_hpke_t *s;

	(void)state;
	recipient(sk, pk);
	assert_int_equal(repat_hpke_setup_sender(REPAT_HPKE_BASE,
	    REPAT_HPKE_AES256GCM, pk, NULL, NULL, 0, NULL, 0, NULL, 0, enc,
	    &s), 0);
	assert_int_equal(repat_hpke_export(s, NULL, 0, out, 0), REPAT_EINVAL);
	big = malloc(255 * 32 + 1);
	assert_int_equal(repat_hpke_export(s, NULL, 0, big, 255 * 32), 0);
	assert_int_equal(repat_hpke_export(s, NULL, 0, big, 255 * 32 + 1),
	    REPAT_EINVAL);
	free(big);
	repat_hpke_destroy(&s);
	repat_hpke_destroy(&s);	/* idempotent */
	repat_hpke_destroy(NULL);
	/* DeriveKeyPair needs at least Nsk bytes of ikm. */
	assert_int_equal(repat_hpke_derive_keypair(sk, 31, sk, pk),
	    REPAT_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_seal),
		cmocka_unit_test(rfc9180_vectors),
		cmocka_unit_test(hpke_order_and_psk),
		cmocka_unit_test(wycheproof_x25519),
		cmocka_unit_test(pad_buckets),
		cmocka_unit_test(seal_round_trip),
		cmocka_unit_test(open_fails_closed),
		cmocka_unit_test(bad_padding_refused),
		cmocka_unit_test(export_limits),
	};

	return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
