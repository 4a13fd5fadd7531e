/*
 * sign_test.c: domain-separated Ed25519 (lib/sign.c) against RFC 8032,
 * the 128 SUPERCOP/dalek lines and every Wycheproof case, through both the
 * libsodium verifier repat uses and OpenSSL's; plus the negative cases
 * (other purpose, flipped bits, bad lengths) and a small timing of the two
 * verifiers for docs/decisions/0002-ed25519-verifier.md.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "repat/err.h"
#include "vectors.h"
#include "repat/sign.h"

#define VEC "tests/data/vectors/ed25519/"

static EVP_PKEY *
key_from_seed(const uint8_t seed[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    seed, 32);

	assert_non_null(k);
	return k;
}

/* A fixed test key (RFC 8032 TEST 1's seed). */
static EVP_PKEY *
test_key(uint8_t pub[32])
{
	size_t n;
	uint8_t *seed = unhex("9d61b19deffd5a60ba844af492ec2cc4"
	    "4449c5697b326919703bac031cae7f60", &n);
	EVP_PKEY *k = key_from_seed(seed);

	free(seed);
	assert_int_equal(repat_raw_public(k, pub), 0);
	return k;
}

/* Signs with key/seed and checks sig, then verifies through both paths. */
static void
check_kat(const uint8_t *seed, const uint8_t *pk, const uint8_t *msg,
    size_t mlen, const uint8_t *want)
{
	EVP_PKEY *k = key_from_seed(seed);
	uint8_t pub[32], sig[REPAT_SIG_LEN];

	assert_int_equal(repat_raw_public(k, pub), 0);
	assert_memory_equal(pub, pk, 32);
	assert_int_equal(repat_ed25519_sign(k, msg, mlen, sig), 0);
	assert_memory_equal(sig, want, REPAT_SIG_LEN);
	assert_int_equal(repat_ed25519_verify(pk, msg, mlen, sig, 64), 0);
	assert_int_equal(repat_ed25519_verify_openssl(pk, msg, mlen, sig, 64),
	    0);
	EVP_PKEY_free(k);
}

static void
rfc8032_vectors(void **state)
{
	json_error_t jerr;
	json_t *root, *v;
	size_t i, n, l1, l2, l3, l4;
	uint8_t *sk, *pk, *msg, *sig;

	(void)state;
	root = json_load_file(VEC "rfc8032-7.1-ed25519.json", 0, &jerr);
	assert_non_null(root);
	n = json_array_size(json_object_get(root, "vectors"));
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		v = json_array_get(json_object_get(root, "vectors"), i);
		sk = jhex(v, "secret_key", &l1);
		pk = jhex(v, "public_key", &l2);
		msg = jhex(v, "message", &l3);
		sig = jhex(v, "signature", &l4);
		assert_int_equal(l1, 32);
		assert_int_equal(l2, 32);
		assert_int_equal(l4, 64);
		check_kat(sk, pk, msg, l3, sig);
		free(sk);
		free(pk);
		free(msg);
		free(sig);
	}
	json_decref(root);
}

static void
dalek_sign_input(void **state)
{
	FILE *f;
	char *line = NULL, *fields[4], *p;
	size_t cap = 0, lines = 0, l0, l1, l2, l3, i;
	uint8_t *kp, *pk, *msg, *sm;

	(void)state;
	f = fopen(VEC "ed25519-dalek-TESTVECTORS.sign.input", "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		p = line;
		for (i = 0; i < 4; i++) {
			fields[i] = p;
			p = strchr(p, ':');
			assert_non_null(p);
			*p++ = '\0';
		}
		kp = unhex(fields[0], &l0);
		pk = unhex(fields[1], &l1);
		msg = unhex(fields[2], &l2);
		sm = unhex(fields[3], &l3);
		assert_int_equal(l0, 64);
		assert_memory_equal(kp + 32, pk, 32);
		assert_int_equal(l3, l2 + 64);
		assert_memory_equal(sm + 64, msg, l2);
		check_kat(kp, pk, msg, l2, sm);
		free(kp);
		free(pk);
		free(msg);
		free(sm);
		lines++;
	}
	free(line);
	fclose(f);
	assert_int_equal(lines, 128);
}

/*
 * Every Wycheproof case through both verifiers: each must give the label's
 * answer. A disagreement prints the tcId before failing.
 */
static void
wycheproof_both_verifiers(void **state)
{
	json_error_t jerr;
	json_t *root, *groups, *g, *tests, *t;
	size_t gi, ti, pklen, mlen, slen, total = 0, valid = 0, bad = 0;
	uint8_t *pk, *msg, *sig;
	int want, a, b;

	(void)state;
	root = json_load_file(VEC "wycheproof_ed25519_test.json", 0, &jerr);
	assert_non_null(root);
	groups = json_object_get(root, "testGroups");
	json_array_foreach(groups, gi, g) {
		pk = jhex(json_object_get(g, "publicKey"), "pk", &pklen);
		assert_int_equal(pklen, 32);
		tests = json_object_get(g, "tests");
		json_array_foreach(tests, ti, t) {
			msg = jhex(t, "msg", &mlen);
			sig = jhex(t, "sig", &slen);
			want = strcmp(json_string_value(json_object_get(t,
			    "result")), "valid") == 0;
			a = repat_ed25519_verify(pk, msg, mlen, sig, slen) == 0;
			b = repat_ed25519_verify_openssl(pk, msg, mlen, sig,
			    slen) == 0;
			if (a != want || b != want) {
				printf("tcId %lld: want %d sodium %d openssl "
				    "%d\n", json_integer_value(
				    json_object_get(t, "tcId")), want, a, b);
				bad++;
			}
			/* The domain-separated path must refuse them all. */
			if (slen == REPAT_SIG_LEN)
				assert_int_equal(repat_verify_raw(pk,
				    REPAT_PURPOSE_ENVELOPE, msg, mlen, sig,
				    slen), REPAT_ESIG);
			valid += want;
			total++;
			free(msg);
			free(sig);
		}
		free(pk);
	}
	json_decref(root);
	assert_int_equal(bad, 0);
	assert_int_equal(total, 151);
	assert_int_equal(valid, 88);
	assert_int_equal(ERR_peek_error(), 0);
}

/*
 * Where the two verifiers differ: a small-order public key (the identity)
 * with R = identity and S = 0 "signs" every message under cofactorless
 * verification. OpenSSL accepts it; repat's verifier must not.
 */
static void
small_order_key_refused(void **state)
{
	uint8_t pk[32] = { 1 }, sig[64] = { 1 };
	const uint8_t msg[] = "any message at all";

	(void)state;
	assert_int_equal(repat_ed25519_verify_openssl(pk, msg, sizeof(msg),
	    sig, 64), 0);
	assert_int_equal(repat_ed25519_verify(pk, msg, sizeof(msg), sig, 64),
	    REPAT_ESIG);
	assert_int_equal(repat_verify_raw(pk, REPAT_PURPOSE_ACK, msg,
	    sizeof(msg), sig, 64), REPAT_ESIG);
}

/*
 * An honest key (RFC 8032 TEST 1) and a valid cofactorless signature whose
 * R is the identity point (S = h*a mod L, worked out offline with the
 * test's secret scalar): OpenSSL accepts it, repat's verifier refuses a
 * small-order R.
 */
static void
small_order_r_refused(void **state)
{
	const uint8_t msg[] = "small order R";
	uint8_t pub[32], *sig;
	size_t n;
	EVP_PKEY *k = test_key(pub);

	(void)state;
	sig = unhex("0100000000000000000000000000000000000000000000000000000000"
	    "000000f0a69ddebb802c89e405561d3315c191f2a6a984f8b7999f1f271e28c0"
	    "a9850d", &n);
	assert_int_equal(n, 64);
	assert_int_equal(repat_ed25519_verify_openssl(pub, msg,
	    sizeof(msg) - 1, sig, 64), 0);
	assert_int_equal(repat_ed25519_verify(pub, msg, sizeof(msg) - 1, sig,
	    64), REPAT_ESIG);
	free(sig);
	EVP_PKEY_free(k);
}

static void *
verify_loop(void *arg)
{
	const uint8_t *pub = arg, *sig = (const uint8_t *)arg + 32;
	const uint8_t msg[] = "thread";
	intptr_t ok = 0;
	int i;

	for (i = 0; i < 100; i++)
		ok += repat_verify_raw(pub, REPAT_PURPOSE_RECEIPT, msg,
		    sizeof(msg), sig, 64) == 0;
	return (void *)ok;
}

/*
 * Runs first, so libsodium's one-time setup races between threads (the
 * pthread_once in lib/sign.c) and TSan/ASan builds can see it.
 */
static void
threads_verify(void **state)
{
	const uint8_t msg[] = "thread";
	uint8_t ps[96];
	pthread_t t[4];
	void *ok;
	EVP_PKEY *k = test_key(ps);
	int i;

	(void)state;
	assert_int_equal(repat_sign(k, REPAT_PURPOSE_RECEIPT, msg, sizeof(msg),
	    ps + 32), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, verify_loop, ps),
		    0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ok), 0);
		assert_int_equal((intptr_t)ok, 100);
	}
	EVP_PKEY_free(k);
}

static void
purpose_names(void **state)
{
	static const char *const want[] = { "envelope", "hello", "receipt",
	    "ack", "notice", "agreement", "agreement-signature", "request" };
	int p;

	(void)state;
	assert_int_equal(REPAT_PURPOSE_COUNT_, 8);
	for (p = 0; p < REPAT_PURPOSE_COUNT_; p++)
		assert_string_equal(repat_purpose_name(p), want[p]);
	assert_null(repat_purpose_name(REPAT_PURPOSE_COUNT_));
	assert_null(repat_purpose_name((enum repat_purpose)-1));
}

/* repat_sign is plain Ed25519 over "repat/1 PURPOSE\0" || msg. */
static void
prefix_is_the_documented_one(void **state)
{
	const uint8_t msg[] = { 0xde, 0xad, 0xbe, 0xef };
	uint8_t pub[32], a[64], b[64], pre[64];
	size_t n;
	EVP_PKEY *k = test_key(pub);

	(void)state;
	n = (size_t)snprintf((char *)pre, sizeof(pre), "repat/1 ack") + 1;
	memcpy(pre + n, msg, sizeof(msg));
	assert_int_equal(repat_sign(k, REPAT_PURPOSE_ACK, msg, sizeof(msg), a),
	    0);
	assert_int_equal(repat_ed25519_sign(k, pre, n + sizeof(msg), b), 0);
	assert_memory_equal(a, b, 64);
	assert_int_equal(repat_ed25519_verify(pub, pre, n + sizeof(msg), a, 64),
	    0);
	EVP_PKEY_free(k);
}

static void
other_purpose_fails(void **state)
{
	const uint8_t msg[] = "header bytes";
	uint8_t pub[32], sig[64];
	EVP_PKEY *k = test_key(pub);
	int p, q;

	(void)state;
	for (p = 0; p < REPAT_PURPOSE_COUNT_; p++) {
		assert_int_equal(repat_sign(k, p, msg, sizeof(msg), sig), 0);
		for (q = 0; q < REPAT_PURPOSE_COUNT_; q++) {
			assert_int_equal(repat_verify_raw(pub, q, msg,
			    sizeof(msg), sig, 64), p == q ? 0 : REPAT_ESIG);
			assert_int_equal(repat_verify(k, q, msg, sizeof(msg),
			    sig, 64), p == q ? 0 : REPAT_ESIG);
		}
		/* Nor is it a plain signature over msg. */
		assert_int_equal(repat_ed25519_verify(pub, msg, sizeof(msg),
		    sig, 64), REPAT_ESIG);
	}
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_COUNT_, msg,
	    sizeof(msg), sig, 64), REPAT_ESIG);
	assert_int_equal(repat_sign(k, REPAT_PURPOSE_COUNT_, msg, sizeof(msg),
	    sig), REPAT_EINVAL);
	EVP_PKEY_free(k);
}

static void
flipped_bits_fail(void **state)
{
	uint8_t msg[40], sig[64], pub[32];
	EVP_PKEY *k = test_key(pub);
	size_t i;

	(void)state;
	memset(msg, 0x5a, sizeof(msg));
	assert_int_equal(repat_sign(k, REPAT_PURPOSE_ENVELOPE, msg,
	    sizeof(msg), sig), 0);
	for (i = 0; i < 8 * sizeof(sig); i++) {
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_ENVELOPE,
		    msg, sizeof(msg), sig, 64), REPAT_ESIG);
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (i = 0; i < 8 * sizeof(msg); i++) {
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_ENVELOPE,
		    msg, sizeof(msg), sig, 64), REPAT_ESIG);
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (i = 0; i < 8 * sizeof(pub); i++) {
		pub[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_ENVELOPE,
		    msg, sizeof(msg), sig, 64), REPAT_ESIG);
		pub[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* Shorter and longer messages. */
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_ENVELOPE, msg,
	    sizeof(msg) - 1, sig, 64), REPAT_ESIG);
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_ENVELOPE, msg,
	    sizeof(msg), sig, 64), 0);
	EVP_PKEY_free(k);
}

static void
bad_lengths_fail(void **state)
{
	uint8_t msg[8] = { 0 }, sig[65], pub[32];
	EVP_PKEY *k = test_key(pub);

	(void)state;
	assert_int_equal(repat_sign(k, REPAT_PURPOSE_HELLO, msg, sizeof(msg),
	    sig), 0);
	sig[64] = 0;
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_HELLO, msg,
	    sizeof(msg), sig, 63), REPAT_ESIG);
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_HELLO, msg,
	    sizeof(msg), sig, 65), REPAT_ESIG);
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_HELLO, msg,
	    sizeof(msg), sig, 0), REPAT_ESIG);
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_HELLO, msg,
	    sizeof(msg), NULL, 64), REPAT_ESIG);
	assert_int_equal(repat_verify(k, REPAT_PURPOSE_HELLO, msg,
	    sizeof(msg), sig, 63), REPAT_ESIG);
	assert_int_equal(repat_verify(NULL, REPAT_PURPOSE_HELLO, msg,
	    sizeof(msg), sig, 64), REPAT_ESIG);
	assert_int_equal(repat_ed25519_verify(pub, msg, sizeof(msg), sig, 65),
	    REPAT_ESIG);
	assert_int_equal(repat_ed25519_verify_openssl(pub, msg, sizeof(msg),
	    sig, 63), REPAT_ESIG);
	assert_int_equal(repat_verify_raw(pub, REPAT_PURPOSE_HELLO, msg,
	    sizeof(msg), sig, 64), 0);
	assert_int_equal(ERR_peek_error(), 0);
	EVP_PKEY_free(k);
}

/* Around the stack-buffer size and well past it (the heap path). */
static void
message_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 2027, 2028, 2029, 2048, 4096,
	    100000 };
	uint8_t sig[64], pub[32], *msg;
	EVP_PKEY *k = test_key(pub);
	size_t i, n;

	(void)state;
	msg = malloc(100001);
	assert_non_null(msg);
	for (i = 0; i < 100001; i++)
		msg[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		assert_int_equal(repat_sign(k, REPAT_PURPOSE_AGREEMENT_SIG,
		    n ? msg : NULL, n, sig), 0);
		assert_int_equal(repat_verify_raw(pub,
		    REPAT_PURPOSE_AGREEMENT_SIG, n ? msg : NULL, n, sig, 64),
		    0);
		assert_int_equal(repat_verify_raw(pub,
		    REPAT_PURPOSE_AGREEMENT_SIG, msg, n + 1, sig, 64),
		    REPAT_ESIG);
	}
	free(msg);
	EVP_PKEY_free(k);
}

static void
raw_public_keys(void **state)
{
	uint8_t seed[32] = { 9 }, out[32], sig[64];
	EVP_PKEY *x;

	(void)state;
	x = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, seed, 32);
	assert_non_null(x);
	assert_int_equal(repat_raw_public(x, out), 0);
	/* X25519 keys cannot sign, and sign fails closed. */
	assert_int_equal(repat_sign(x, REPAT_PURPOSE_ACK, seed, 1, sig),
	    REPAT_EINVAL);
	assert_int_equal(repat_verify(x, REPAT_PURPOSE_ACK, seed, 1, sig, 64),
	    REPAT_ESIG);
	EVP_PKEY_free(x);
	assert_int_equal(repat_raw_public(NULL, out), REPAT_ECRYPTO);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The timing behind docs/decisions/0002: median of RUNS runs of ITER
 * verifications of a 512-byte message, each verifier. Printed to the test
 * log; only correctness is asserted (timings are noisy, and meaningless
 * under sanitizers).
 */
#define RUNS	7
#define ITER	400
static void
verifier_timing(void **state)
{
	uint8_t msg[512], sig[64], pub[32];
	EVP_PKEY *k = test_key(pub);
	double ts[RUNS], to[RUNS], t0;
	int r, i, ok = 0;

	(void)state;
	memset(msg, 0x33, sizeof(msg));
	assert_int_equal(repat_ed25519_sign(k, msg, sizeof(msg), sig), 0);
	for (r = 0; r < RUNS; r++) {
		t0 = now();
		for (i = 0; i < ITER; i++)
			ok += repat_ed25519_verify(pub, msg, sizeof(msg), sig,
			    64) == 0;
		ts[r] = (now() - t0) / ITER;
		t0 = now();
		for (i = 0; i < ITER; i++)
			ok += repat_ed25519_verify_openssl(pub, msg,
			    sizeof(msg), sig, 64) == 0;
		to[r] = (now() - t0) / ITER;
	}
	assert_int_equal(ok, 2 * RUNS * ITER);
	qsort(ts, RUNS, sizeof(double), cmp_double);
	qsort(to, RUNS, sizeof(double), cmp_double);
	printf("bench: ed25519 verify 512 B, median of %d runs x %d: "
	    "libsodium %.1f us, openssl %.1f us, openssl/libsodium %.2f\n",
	    RUNS, ITER, ts[RUNS / 2] * 1e6, to[RUNS / 2] * 1e6,
	    to[RUNS / 2] / ts[RUNS / 2]);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_verify),
		cmocka_unit_test(purpose_names),
		cmocka_unit_test(rfc8032_vectors),
		cmocka_unit_test(dalek_sign_input),
		cmocka_unit_test(wycheproof_both_verifiers),
		cmocka_unit_test(small_order_key_refused),
		cmocka_unit_test(small_order_r_refused),
		cmocka_unit_test(prefix_is_the_documented_one),
		cmocka_unit_test(other_purpose_fails),
		cmocka_unit_test(flipped_bits_fail),
		cmocka_unit_test(bad_lengths_fail),
		cmocka_unit_test(message_sizes),
		cmocka_unit_test(raw_public_keys),
		cmocka_unit_test(verifier_timing),
	};

	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
