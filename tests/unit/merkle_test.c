/*
 * merkle_test.c: RFC 9162 hashing against the RFC 6962 tree constants, the
 * transparency-dev inclusion and consistency probe files (every file, each
 * accepted or rejected as its wantErr says), and a self-consistency sweep:
 * every proof the generators make for trees of 1..64 leaves verifies, and
 * the frontier agrees with root_from_leaves, its export and a rebuild.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "repat/codec.h"
#include "repat/err.h"
#include "repat/merkle.h"

#define VEC	"tests/data/vectors/merkle/"
#define HLEN	REPAT_MERKLE_HASH_LEN
#define SWEEP	64

/* ------------------------------------------------------------ helpers */

/*
 * Strict base64 of a JSON string into out (at most cap bytes); *len gets
 * the decoded length. -1 when it is not base64 or longer than cap.
 */
static int
b64(json_t *s, uint8_t *out, size_t cap, size_t *len)
{
	const char *txt = json_string_value(s);
	size_t tl, pad = 0;
	uint8_t *tmp;
	int n;

	if (txt == NULL)
		return -1;
	tl = strlen(txt);
	if (tl % 4 != 0)
		return -1;
	if (tl == 0) {
		*len = 0;
		return 0;
	}
	if (txt[tl - 1] == '=')
		pad++;
	if (txt[tl - 2] == '=')
		pad++;
	tmp = malloc(tl);
	assert_non_null(tmp);
	/* EVP_DecodeBlock counts padding as zero bytes: take them off. */
	n = EVP_DecodeBlock(tmp, (const uint8_t *)txt, (int)tl);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > cap) {
		free(tmp);
		return -1;
	}
	*len = (size_t)n - pad;
	memcpy(out, tmp, *len);
	free(tmp);
	return 0;
}

/* A 32-byte hash, or -1 (the probes hold some that are not 32 bytes). */
static int
b64_hash(json_t *s, uint8_t out[HLEN])
{
	uint8_t buf[64];
	size_t len;

	if (b64(s, buf, sizeof(buf), &len) != 0 || len != HLEN)
		return -1;
	memcpy(out, buf, HLEN);
	return 0;
}

/* A proof array (null means empty) into proof; -1 when any is not 32. */
static int
b64_proof(json_t *a, uint8_t proof[][HLEN], size_t *n)
{
	size_t i;

	*n = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > REPAT_MERKLE_MAX_PROOF)
		return -1;
	for (i = 0; i < json_array_size(a); i++)
		if (b64_hash(json_array_get(a, i), proof[i]) != 0)
			return -1;
	*n = json_array_size(a);
	return 0;
}

static void
unhex_hash(const char *hex, uint8_t out[HLEN])
{
	assert_non_null(hex);
	assert_int_equal(repat_unhex(hex, out, HLEN), 0);
}

typedef void (*probe_fn)(const char *path, json_t *j, int *nfiles,
    int *naccepted);

/* Calls fn for every *.json file below dir. */
static void
walk(const char *dir, probe_fn fn, int *nfiles, int *naccepted)
{
	char path[1024];
	struct dirent *e;
	struct stat st;
	json_error_t jerr;
	json_t *j;
	DIR *d;
	size_t l;

	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			walk(path, fn, nfiles, naccepted);
			continue;
		}
		l = strlen(path);
		if (l < 5 || strcmp(path + l - 5, ".json") != 0)
			continue;
		j = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);
		if (j == NULL)
			fail_msg("%s: %s", path, jerr.text);
		fn(path, j, nfiles, naccepted);
		json_decref(j);
	}
	closedir(d);
}

/*
 * jansson's integers are signed 64-bit, and two probes hold leafIdx
 * 2^64 - 1 (0 minus 1), so the probes are read with every number as a
 * double: exact below 2^53, and 2^64 - 1 rounds to 2^64, which saturates
 * back to UINT64_MAX. No probe holds anything in between.
 */
static uint64_t
u64(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);
	double d;

	assert_true(json_is_real(v));
	d = json_real_value(v);
	assert_true(d >= 0);
	if (d >= 18446744073709551615.0)
		return UINT64_MAX;
	assert_true(d < 9007199254740992.0 && d == (double)(uint64_t)d);
	return (uint64_t)d;
}

/* ------------------------------------------------------ RFC constants */

static void
tree_constants(void **state)
{
	uint8_t leaves[8][HLEN], want[HLEN], got[HLEN], data[64];
	repat_merkle_tree_t *t;
	json_error_t jerr;
	json_t *j, *in, *roots, *levels, *lvl;
	const char *hex;
	char key[4];
	size_t i, k, len;

	(void)state;
	j = json_load_file(VEC "rfc6962-tree-constants.json", 0, &jerr);
	assert_non_null(j);
	in = json_object_get(j, "leaf_inputs");
	roots = json_object_get(j, "root_hashes_by_tree_size");
	levels = json_object_get(j, "node_hashes_by_level");
	assert_int_equal(json_array_size(in), 8);

	for (i = 0; i < 8; i++) {
		hex = json_string_value(json_array_get(in, i));
		len = strlen(hex) / 2;
		assert_int_equal(repat_unhex(hex, data, len), 0);
		repat_merkle_leaf_hash(len ? data : NULL, len, leaves[i]);
	}
	/* Level 0 is the leaf hashes; level k pairs level k - 1. */
	for (k = 0; k < 4; k++) {
		snprintf(key, sizeof(key), "%zu", k);
		lvl = json_object_get(levels, key);
		assert_int_equal(json_array_size(lvl), 8 >> k);
		for (i = 0; i < json_array_size(lvl); i++) {
			unhex_hash(json_string_value(json_array_get(lvl, i)),
			    want);
			repat_merkle_root_from_leaves(leaves + (i << k),
			    (size_t)1 << k, got);
			assert_memory_equal(got, want, HLEN);
		}
	}
	/* Roots by size, three ways: frontier, from leaves, a node pair. */
	t = repat_merkle_tree_new();
	for (i = 0; i <= 8; i++) {
		snprintf(key, sizeof(key), "%zu", i);
		unhex_hash(json_string_value(json_object_get(roots, key)),
		    want);
		assert_int_equal(repat_merkle_tree_size(t), i);
		repat_merkle_tree_root(t, got);
		assert_memory_equal(got, want, HLEN);
		repat_merkle_root_from_leaves(leaves, i, got);
		assert_memory_equal(got, want, HLEN);
		if (i < 8)
			assert_int_equal(repat_merkle_tree_append(t, leaves[i]),
			    0);
	}
	repat_merkle_node_hash(leaves[0], leaves[1], got);
	unhex_hash(json_string_value(json_object_get(roots, "2")), want);
	assert_memory_equal(got, want, HLEN);
	repat_merkle_empty_root(got);
	unhex_hash(json_string_value(json_object_get(roots, "0")), want);
	assert_memory_equal(got, want, HLEN);
	repat_merkle_tree_destroy(&t);
	assert_null(t);
	repat_merkle_tree_destroy(&t);
	repat_merkle_tree_destroy(NULL);
	json_decref(j);
}

/* ------------------------------------------------------- probe files */

/*
 * The one probe where repat departs from upstream, on purpose: size1 ==
 * size2 == 1, an empty proof and two equal 12-byte "roots" ("don't care
 * 2"). Go compares byte slices of any length and accepts it. repat's
 * hashes are 32-byte arrays, and a hash of any other length is refused
 * before verification (repat/merkle.h), so repat rejects it. Equal sizes
 * with equal 32-byte roots are accepted: see bad_arguments_refused.
 */
static const char *const deviations[] = {
	"consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
};

static int ndeviations;

static int
is_deviation(const char *path)
{
	size_t i, pl = strlen(path), dl;

	for (i = 0; i < sizeof(deviations) / sizeof(deviations[0]); i++) {
		dl = strlen(deviations[i]);
		if (pl >= dl && strcmp(path + pl - dl, deviations[i]) == 0)
			return 1;
	}
	return 0;
}

/* Checks rc against the probe's wantErr (flipped for a deviation). */
static void
judge(const char *path, json_t *j, int rc, int *nfiles, int *naccepted)
{
	json_t *want = json_object_get(j, "wantErr");
	int reject;

	assert_true(json_is_boolean(want));
	reject = json_is_true(want);
	if (is_deviation(path)) {
		reject = !reject;
		ndeviations++;
	}
	if (reject && rc == 0)
		fail_msg("%s: accepted, want rejection", path);
	if (!reject && rc != 0)
		fail_msg("%s: rejected (%d), want acceptance", path, rc);
	(*nfiles)++;
	if (rc == 0)
		(*naccepted)++;
}

static void
inclusion_probe(const char *path, json_t *j, int *nfiles, int *naccepted)
{
	uint8_t root[HLEN], leaf[HLEN], proof[REPAT_MERKLE_MAX_PROOF][HLEN];
	size_t n;
	int rc;

	if (b64_hash(json_object_get(j, "root"), root) != 0 ||
	    b64_hash(json_object_get(j, "leafHash"), leaf) != 0 ||
	    b64_proof(json_object_get(j, "proof"), proof, &n) != 0)
		rc = REPAT_EINVAL;	/* not even well-formed */
	else
		rc = repat_merkle_verify_inclusion(u64(j, "leafIdx"),
		    u64(j, "treeSize"), leaf, proof, n, root);
	judge(path, j, rc, nfiles, naccepted);
}

static void
consistency_probe(const char *path, json_t *j, int *nfiles, int *naccepted)
{
	uint8_t r1[HLEN], r2[HLEN], proof[REPAT_MERKLE_MAX_PROOF][HLEN];
	size_t n;
	int rc;

	if (b64_hash(json_object_get(j, "root1"), r1) != 0 ||
	    b64_hash(json_object_get(j, "root2"), r2) != 0 ||
	    b64_proof(json_object_get(j, "proof"), proof, &n) != 0)
		rc = REPAT_EINVAL;
	else
		rc = repat_merkle_verify_consistency(u64(j, "size1"),
		    u64(j, "size2"), proof, n, r1, r2);
	judge(path, j, rc, nfiles, naccepted);
}

static void
inclusion_probes(void **state)
{
	int nfiles = 0, naccepted = 0;

	(void)state;
	ndeviations = 0;
	walk(VEC "testdata/inclusion", inclusion_probe, &nfiles, &naccepted);
	/* The vectors README: 98 files, 6 valid proofs. */
	assert_int_equal(ndeviations, 0);
	assert_int_equal(nfiles, 98);
	assert_int_equal(naccepted, 6);
}

static void
consistency_probes(void **state)
{
	int nfiles = 0, naccepted = 0;

	(void)state;
	ndeviations = 0;
	walk(VEC "testdata/consistency", consistency_probe, &nfiles,
	    &naccepted);
	assert_int_equal(nfiles, 98);
	/* 6 valid upstream, less the one deviation. */
	assert_int_equal(ndeviations, 1);
	assert_int_equal(naccepted, 5);
}

/* ------------------------------------------------------ sweep helpers */

struct store {
	uint8_t	 leaves[SWEEP + 1][HLEN]; /* leaf hashes, as stored */
	uint64_t size;		/* leaves the callbacks may read */
	uint64_t reads;		/* leaf reads made */
	int	 fail_at;	/* leaf failing with EDB, or -1 */
};

static int
leaf_cb(void *arg, uint64_t i, uint8_t out[HLEN])
{
	struct store *s = arg;

	assert_true(i < s->size);
	if (s->fail_at >= 0 && i == (uint64_t)s->fail_at)
		return REPAT_EDB;
	s->reads++;
	memcpy(out, s->leaves[i], HLEN);
	return 0;
}

/* A range callback straight over memory, to cross-check the adapter. */
static int
range_cb(void *arg, uint64_t begin, uint64_t end, uint8_t out[HLEN])
{
	struct store *s = arg;

	assert_true(begin < end && end <= s->size);
	repat_merkle_root_from_leaves(s->leaves + begin, end - begin, out);
	return 0;
}

static void
fill(struct store *s)
{
	uint8_t data[SWEEP + 1];
	size_t i;

	memset(s, 0, sizeof(*s));
	s->fail_at = -1;
	for (i = 0; i <= SWEEP; i++) {
		memset(data, (int)i, i);
		repat_merkle_leaf_hash(i ? data : NULL, i, s->leaves[i]);
	}
}

/* -------------------------------------------------------------- sweep */

static void
frontier_matches_leaves(void **state)
{
	uint8_t fr[REPAT_MERKLE_MAX_FRONTIER][HLEN];
	uint8_t a[HLEN], b[HLEN], c[HLEN], d[HLEN];
	repat_merkle_tree_t *t, *r;
	struct repat_merkle_leaves src;
	struct store s;
	size_t i, n;

	(void)state;
	fill(&s);
	s.size = SWEEP;
	src.leaf = leaf_cb;
	src.arg = &s;
	t = repat_merkle_tree_new();
	for (i = 1; i <= SWEEP; i++) {
		assert_int_equal(repat_merkle_tree_append(t, s.leaves[i - 1]),
		    0);
		repat_merkle_tree_root(t, a);
		repat_merkle_root_from_leaves(s.leaves, i, b);
		assert_memory_equal(a, b, HLEN);

		/* Restored from its exported frontier. */
		repat_merkle_tree_frontier(t, fr, &n);
		assert_int_equal(n, (size_t)__builtin_popcountll(i));
		assert_int_equal(repat_merkle_tree_restore(i, fr, n, &r), 0);
		repat_merkle_tree_root(r, c);
		assert_memory_equal(c, a, HLEN);
		repat_merkle_tree_destroy(&r);

		/* Rebuilt from storage through the leaf adapter. */
		assert_int_equal(repat_merkle_tree_rebuild(i,
		    repat_merkle_range_leaves, &src, &r), 0);
		repat_merkle_tree_root(r, d);
		assert_memory_equal(d, a, HLEN);
		assert_int_equal(repat_merkle_tree_size(r), i);
		/* And it keeps growing like the original. */
		if (i < SWEEP) {
			assert_int_equal(repat_merkle_tree_append(r,
			    s.leaves[i]), 0);
			repat_merkle_root_from_leaves(s.leaves, i + 1, b);
			repat_merkle_tree_root(r, c);
			assert_memory_equal(c, b, HLEN);
		}
		repat_merkle_tree_destroy(&r);
	}
	/* Differs from the previous root: appending changes it. */
	repat_merkle_root_from_leaves(s.leaves, SWEEP - 1, b);
	assert_memory_not_equal(a, b, HLEN);
	repat_merkle_tree_destroy(&t);
}

static void
every_inclusion_proof_verifies(void **state)
{
	uint8_t p[REPAT_MERKLE_MAX_PROOF][HLEN];
	uint8_t q[REPAT_MERKLE_MAX_PROOF][HLEN];
	uint8_t root[HLEN], next[HLEN];
	struct repat_merkle_leaves src;
	struct store s;
	uint64_t size, i;
	size_t n, m;

	(void)state;
	fill(&s);
	src.leaf = leaf_cb;
	src.arg = &s;
	for (size = 1; size <= SWEEP; size++) {
		s.size = size;
		repat_merkle_root_from_leaves(s.leaves, size, root);
		repat_merkle_root_from_leaves(s.leaves, size + 1, next);
		for (i = 0; i < size; i++) {
			s.reads = 0;
			assert_int_equal(repat_merkle_inclusion_proof(i, size,
			    repat_merkle_range_leaves, &src, p, &n), 0);
			/* Every leaf but i is read once: O(n) per proof. */
			assert_int_equal(s.reads, size - 1);
			assert_int_equal(repat_merkle_inclusion_proof(i, size,
			    range_cb, &s, q, &m), 0);
			assert_int_equal(n, m);
			if (n > 0)
				assert_memory_equal(p, q, n * HLEN);
			assert_int_equal(repat_merkle_verify_inclusion(i, size,
			    s.leaves[i], p, n, root), 0);

			/* The same proof must not verify anything else. */
			assert_int_not_equal(repat_merkle_verify_inclusion(i,
			    size, s.leaves[(i + 1) % SWEEP], p, n, root), 0);
			assert_int_not_equal(repat_merkle_verify_inclusion(i,
			    size, s.leaves[i], p, n, next), 0);
			if (size > 1)
				assert_int_not_equal(
				    repat_merkle_verify_inclusion(i ^ 1, size,
				    s.leaves[i], p, n, root), 0);
			if (n > 0) {
				p[n - 1][7] ^= 0x10;
				assert_int_not_equal(
				    repat_merkle_verify_inclusion(i, size,
				    s.leaves[i], p, n, root), 0);
				assert_int_not_equal(
				    repat_merkle_verify_inclusion(i, size,
				    s.leaves[i], q, n - 1, root), 0);
			}
		}
	}
}

static void
every_consistency_proof_verifies(void **state)
{
	uint8_t p[REPAT_MERKLE_MAX_PROOF][HLEN];
	uint8_t q[REPAT_MERKLE_MAX_PROOF][HLEN];
	uint8_t r1[HLEN], r2[HLEN];
	struct repat_merkle_leaves src;
	struct store s;
	uint64_t s1, s2;
	size_t n, m;

	(void)state;
	fill(&s);
	src.leaf = leaf_cb;
	src.arg = &s;
	for (s2 = 1; s2 <= SWEEP; s2++) {
		s.size = s2;
		repat_merkle_root_from_leaves(s.leaves, s2, r2);
		for (s1 = 1; s1 <= s2; s1++) {
			repat_merkle_root_from_leaves(s.leaves, s1, r1);
			s.reads = 0;
			assert_int_equal(repat_merkle_consistency_proof(s1, s2,
			    repat_merkle_range_leaves, &src, p, &n), 0);
			assert_true(s.reads <= 2 * s2);
			assert_int_equal(repat_merkle_consistency_proof(s1, s2,
			    range_cb, &s, q, &m), 0);
			assert_int_equal(n, m);
			if (n > 0)
				assert_memory_equal(p, q, n * HLEN);
			assert_int_equal(n == 0, s1 == s2);
			assert_int_equal(repat_merkle_verify_consistency(s1, s2,
			    p, n, r1, r2), 0);

			/* Swapped roots, a flipped bit, a dropped hash. */
			if (s1 == s2)
				continue;
			assert_int_not_equal(repat_merkle_verify_consistency(
			    s1, s2, p, n, r2, r1), 0);
			assert_int_not_equal(repat_merkle_verify_consistency(
			    s1 + 1 == s2 ? s1 - 1 : s1 + 1, s2, p, n, r1, r2),
			    0);
			p[0][0] ^= 1;
			assert_int_not_equal(repat_merkle_verify_consistency(
			    s1, s2, p, n, r1, r2), 0);
			assert_int_not_equal(repat_merkle_verify_consistency(
			    s1, s2, q, n - 1, r1, r2), 0);
		}
	}
}

static void
independent_root(void **state)
{
	uint8_t want[HLEN], got[HLEN];
	struct store s;

	(void)state;
	/*
	 * The root of leaves 0..12 of fill(), computed by a separate Python
	 * RFC 6962 implementation (hashlib) when the fuzz seeds were made;
	 * note_test.c opens a checkpoint signed over it.
	 */
	unhex_hash("6299c5be9d3e70d3a62defbe4580d462"
	    "368e8e03784415fdcbcc8d2b7fcc8f8b", want);
	fill(&s);
	repat_merkle_root_from_leaves(s.leaves, 13, got);
	assert_memory_equal(got, want, HLEN);
}

/* ---------------------------------------------------------- refusals */

static void
bad_arguments_refused(void **state)
{
	uint8_t p[REPAT_MERKLE_MAX_PROOF + 1][HLEN], root[HLEN];
	struct repat_merkle_leaves src;
	struct store s;
	size_t n = 99;

	(void)state;
	fill(&s);
	s.size = 8;
	src.leaf = leaf_cb;
	src.arg = &s;
	repat_merkle_root_from_leaves(s.leaves, 8, root);

	assert_int_equal(repat_merkle_inclusion_proof(8, 8, range_cb, &s, p,
	    &n), REPAT_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(repat_merkle_inclusion_proof(0, 0, range_cb, &s, p,
	    &n), REPAT_EINVAL);
	assert_int_equal(repat_merkle_consistency_proof(0, 8, range_cb, &s, p,
	    &n), REPAT_EINVAL);
	assert_int_equal(repat_merkle_consistency_proof(5, 4, range_cb, &s, p,
	    &n), REPAT_EINVAL);

	/* A storage error comes back unchanged, with no proof. */
	s.fail_at = 6;
	n = 99;
	assert_int_equal(repat_merkle_inclusion_proof(0, 8,
	    repat_merkle_range_leaves, &src, p, &n), REPAT_EDB);
	assert_int_equal(n, 0);
	assert_int_equal(repat_merkle_consistency_proof(3, 8,
	    repat_merkle_range_leaves, &src, p, &n), REPAT_EDB);
	assert_int_equal(n, 0);
	s.fail_at = -1;

	/* Verifiers: impossible sizes, overlong proofs. */
	memset(p, 0, sizeof(p));
	assert_int_equal(repat_merkle_verify_inclusion(0, 0, s.leaves[0], p,
	    0, root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_inclusion(8, 8, s.leaves[8], p,
	    3, root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_inclusion(0, 8, s.leaves[0], p,
	    REPAT_MERKLE_MAX_PROOF + 1, root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_inclusion(0, 8, s.leaves[0], p,
	    3, root), REPAT_ECORRUPT);
	assert_int_equal(repat_merkle_verify_inclusion(0, 8, s.leaves[0], p,
	    4, root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_consistency(0, 0, p, 0, root,
	    root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_consistency(0, 8, p, 0, root,
	    root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_consistency(9, 8, p, 1, root,
	    root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_consistency(8, 8, p, 1, root,
	    root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_consistency(8, 8, p, 0, root,
	    s.leaves[0]), REPAT_ECORRUPT);
	assert_int_equal(repat_merkle_verify_consistency(8, 8, p, 0, root,
	    root), 0);
	assert_int_equal(repat_merkle_verify_consistency(3, 8, p, 0, root,
	    root), REPAT_EINVAL);
	assert_int_equal(repat_merkle_verify_consistency(3, 8, p,
	    REPAT_MERKLE_MAX_PROOF + 1, root, root), REPAT_EINVAL);
}

static void
full_tree_and_bad_frontier(void **state)
{
	uint8_t fr[REPAT_MERKLE_MAX_FRONTIER][HLEN], leaf[HLEN], a[HLEN];
	repat_merkle_tree_t *t = (void *)1;
	uint64_t big = UINT64_MAX;
	size_t n;

	(void)state;
	memset(fr, 0xab, sizeof(fr));
	memset(leaf, 0xcd, sizeof(leaf));
	assert_int_equal(repat_merkle_tree_restore(5, fr, 1, &t),
	    REPAT_EINVAL);
	assert_null(t);
	/* 2^64 - 1 leaves: 64 frontier hashes, and no room for another. */
	assert_int_equal(repat_merkle_tree_restore(big, fr, 64, &t), 0);
	assert_int_equal(repat_merkle_tree_size(t), big);
	repat_merkle_tree_root(t, a);
	assert_int_equal(repat_merkle_tree_append(t, leaf), REPAT_EFULL);
	assert_int_equal(repat_merkle_tree_size(t), big);
	repat_merkle_tree_frontier(t, fr, &n);
	assert_int_equal(n, 64);
	repat_merkle_tree_destroy(&t);

	/* One below full takes exactly one more leaf. */
	assert_int_equal(repat_merkle_tree_restore(big - 1, fr, 63, &t), 0);
	assert_int_equal(repat_merkle_tree_append(t, leaf), 0);
	assert_int_equal(repat_merkle_tree_append(t, leaf), REPAT_EFULL);
	repat_merkle_tree_destroy(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tree_constants),
		cmocka_unit_test(inclusion_probes),
		cmocka_unit_test(consistency_probes),
		cmocka_unit_test(frontier_matches_leaves),
		cmocka_unit_test(every_inclusion_proof_verifies),
		cmocka_unit_test(every_consistency_proof_verifies),
		cmocka_unit_test(independent_root),
		cmocka_unit_test(bad_arguments_refused),
		cmocka_unit_test(full_tree_and_bad_frontier),
	};

	return cmocka_run_group_tests_name("merkle", tests, NULL, NULL);
}
