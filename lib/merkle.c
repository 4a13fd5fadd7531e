/*
 * merkle.c: RFC 9162 Merkle tree hashing, the writer's frontier, proof
 * generation from stored leaf hashes, and proof verification (see
 * repat/merkle.h for the API and docs/audit.md for the format).
 *
 * The frontier is a binary counter of perfect subtrees: bit l of the size
 * is set exactly when a complete subtree of 2^l leaves is waiting for a
 * sibling, and hashes[l] holds its root. Appending a leaf is a carry
 * through the set bits; the root folds the waiting subtrees from the
 * smallest (rightmost) to the largest, which is how RFC 9162 splits an
 * unbalanced tree.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/evp.h>

#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/merkle.h"

#define HLEN REPAT_MERKLE_HASH_LEN

struct repat_merkle_tree {
	uint64_t size;		/* leaves appended */
	/* [l]: the root of 2^l leaves, valid when bit l of size is set */
	uint8_t	 hashes[REPAT_MERKLE_MAX_FRONTIER][HLEN];
};

/* ------------------------------------------------------------ hashing */

/*
 * SHA-256 is fetched from OpenSSL's provider once: a proof or a rebuild
 * hashes every leaf of the tree, and for 65-byte inputs the implicit
 * fetch inside SHA256() costs as much as the hash (about twice the time
 * per node here). The fetched method lives as long as the process.
 * Hashing memory cannot fail short of a broken library, so the hash
 * functions do not return a status.
 */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void
sha256_fetch(void)
{
	if ((sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		repat_fatalx("merkle: OpenSSL has no SHA-256");
}

static const EVP_MD *
md(void)
{
	if (pthread_once(&sha256_once, sha256_fetch) != 0)
		repat_fatalx("merkle: pthread_once failed");
	return sha256;
}

void
repat_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[HLEN])
{
	static const uint8_t prefix = 0x00;
	EVP_MD_CTX *ctx;
	unsigned int olen = 0;

	assert(data != NULL || len == 0);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		repat_fatalx("merkle: EVP_MD_CTX_new failed");
	if (EVP_DigestInit_ex2(ctx, md(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, &prefix, 1) != 1 ||
	    (len > 0 && EVP_DigestUpdate(ctx, data, len) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &olen) != 1 || olen != HLEN)
		repat_fatalx("merkle: SHA-256 failed");
	EVP_MD_CTX_free(ctx);
}

void
repat_merkle_node_hash(const uint8_t l[HLEN], const uint8_t r[HLEN],
    uint8_t out[HLEN])
{
	uint8_t buf[1 + 2 * HLEN];
	unsigned int olen = 0;

	/* Copying first lets out alias l or r. */
	buf[0] = 0x01;
	memcpy(buf + 1, l, HLEN);
	memcpy(buf + 1 + HLEN, r, HLEN);
	if (EVP_Digest(buf, sizeof(buf), out, &olen, md(), NULL) != 1 ||
	    olen != HLEN)
		repat_fatalx("merkle: SHA-256 failed");
}

void
repat_merkle_empty_root(uint8_t out[HLEN])
{
	unsigned int olen = 0;

	if (EVP_Digest("", 0, out, &olen, md(), NULL) != 1 || olen != HLEN)
		repat_fatalx("merkle: SHA-256 failed");
}

/* ----------------------------------------------------------- frontier */

repat_merkle_tree_t *
repat_merkle_tree_new(void)
{
	return repat_xcalloc(1, sizeof(struct repat_merkle_tree));
}

void
repat_merkle_tree_destroy(repat_merkle_tree_t **tree)
{
	if (tree == NULL || *tree == NULL)
		return;
	free(*tree);
	*tree = NULL;
}

int
repat_merkle_tree_append(repat_merkle_tree_t *tree,
    const uint8_t leaf_hash[HLEN])
{
	uint8_t h[HLEN];
	unsigned int l;

	assert(tree != NULL);
	if (tree->size == UINT64_MAX)
		return REPAT_EFULL;
	memcpy(h, leaf_hash, HLEN);
	/* Below UINT64_MAX some bit is clear, so the carry stops by l = 63. */
	for (l = 0; tree->size & ((uint64_t)1 << l); l++)
		repat_merkle_node_hash(tree->hashes[l], h, h);
	memcpy(tree->hashes[l], h, HLEN);
	tree->size++;
	return 0;
}

uint64_t
repat_merkle_tree_size(const repat_merkle_tree_t *tree)
{
	assert(tree != NULL);
	return tree->size;
}

void
repat_merkle_tree_root(const repat_merkle_tree_t *tree, uint8_t out[HLEN])
{
	uint8_t r[HLEN];
	unsigned int l;

	assert(tree != NULL);
	if (tree->size == 0) {
		repat_merkle_empty_root(out);
		return;
	}
	l = (unsigned int)__builtin_ctzll(tree->size);
	memcpy(r, tree->hashes[l], HLEN);
	for (l++; l < REPAT_MERKLE_MAX_FRONTIER; l++)
		if (tree->size & ((uint64_t)1 << l))
			repat_merkle_node_hash(tree->hashes[l], r, r);
	memcpy(out, r, HLEN);
}

void
repat_merkle_tree_frontier(const repat_merkle_tree_t *tree,
    uint8_t out[][HLEN], size_t *n)
{
	int l;

	assert(tree != NULL && n != NULL);
	*n = 0;
	for (l = REPAT_MERKLE_MAX_FRONTIER - 1; l >= 0; l--)
		if (tree->size & ((uint64_t)1 << l))
			memcpy(out[(*n)++], tree->hashes[l], HLEN);
}

int
repat_merkle_tree_restore(uint64_t size, const uint8_t frontier[][HLEN],
    size_t n, repat_merkle_tree_t **out)
{
	repat_merkle_tree_t *t;
	size_t i = 0;
	int l;

	assert(out != NULL);
	*out = NULL;
	if (n != (size_t)__builtin_popcountll(size))
		return REPAT_EINVAL;
	t = repat_merkle_tree_new();
	t->size = size;
	for (l = REPAT_MERKLE_MAX_FRONTIER - 1; l >= 0; l--)
		if (size & ((uint64_t)1 << l))
			memcpy(t->hashes[l], frontier[i++], HLEN);
	*out = t;
	return 0;
}

/* ------------------------------------------------- storage and proofs */

int
repat_merkle_range_leaves(void *arg, uint64_t begin, uint64_t end,
    uint8_t out[HLEN])
{
	const struct repat_merkle_leaves *src = arg;
	struct repat_merkle_tree t;
	uint8_t h[HLEN];
	uint64_t i;
	int rc;

	assert(src != NULL && src->leaf != NULL && begin <= end);
	/* A range is a tree of its own: MTH(D[begin:end]). */
	memset(&t, 0, sizeof(t));
	for (i = begin; i < end; i++) {
		if ((rc = src->leaf(src->arg, i, h)) != 0)
			return rc;
		if ((rc = repat_merkle_tree_append(&t, h)) != 0)
			return rc;
	}
	repat_merkle_tree_root(&t, out);
	return 0;
}

void
repat_merkle_root_from_leaves(const uint8_t hashes[][HLEN], size_t n,
    uint8_t out[HLEN])
{
	struct repat_merkle_tree t;
	size_t i;

	assert(hashes != NULL || n == 0);
	memset(&t, 0, sizeof(t));
	for (i = 0; i < n; i++)
		(void)repat_merkle_tree_append(&t, hashes[i]);
	repat_merkle_tree_root(&t, out);
}

int
repat_merkle_tree_rebuild(uint64_t size, repat_merkle_range_fn range,
    void *arg, repat_merkle_tree_t **out)
{
	repat_merkle_tree_t *t;
	uint64_t pos = 0, w;
	int l, rc;

	assert(range != NULL && out != NULL);
	*out = NULL;
	t = repat_merkle_tree_new();
	for (l = REPAT_MERKLE_MAX_FRONTIER - 1; l >= 0; l--) {
		w = (uint64_t)1 << l;
		if ((size & w) == 0)
			continue;
		if ((rc = range(arg, pos, pos + w, t->hashes[l])) != 0) {
			repat_merkle_tree_destroy(&t);
			return rc;
		}
		pos += w;
	}
	t->size = size;
	*out = t;
	return 0;
}

/* The largest power of two strictly below n (n >= 2): RFC 9162's k. */
static uint64_t
split(uint64_t n)
{
	assert(n >= 2);
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

/* The recursions append after descending; walking down gives them reversed. */
static void
reverse(uint8_t proof[][HLEN], size_t n)
{
	uint8_t tmp[HLEN];
	size_t i;

	for (i = 0; i < n / 2; i++) {
		memcpy(tmp, proof[i], HLEN);
		memcpy(proof[i], proof[n - 1 - i], HLEN);
		memcpy(proof[n - 1 - i], tmp, HLEN);
	}
}

int
repat_merkle_inclusion_proof(uint64_t index, uint64_t size,
    repat_merkle_range_fn range, void *arg, uint8_t proof[][HLEN], size_t *n)
{
	uint64_t lo = 0, hi = size, k;
	size_t cnt = 0;
	int rc;

	assert(range != NULL && n != NULL);
	*n = 0;
	if (index >= size)
		return REPAT_EINVAL;
	/* PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1, walked from the root. */
	while (hi - lo > 1) {
		k = split(hi - lo);
		assert(cnt < REPAT_MERKLE_MAX_PROOF);
		if (index < lo + k) {
			rc = range(arg, lo + k, hi, proof[cnt]);
			hi = lo + k;
		} else {
			rc = range(arg, lo, lo + k, proof[cnt]);
			lo += k;
		}
		if (rc != 0)
			return rc;
		cnt++;
	}
	reverse(proof, cnt);
	*n = cnt;
	return 0;
}

int
repat_merkle_consistency_proof(uint64_t size1, uint64_t size2,
    repat_merkle_range_fn range, void *arg, uint8_t proof[][HLEN], size_t *n)
{
	uint64_t lo = 0, hi = size2, m = size1, k;
	size_t cnt = 0;
	int whole = 1, rc;

	assert(range != NULL && n != NULL);
	*n = 0;
	if (size1 == 0 || size1 > size2)
		return REPAT_EINVAL;
	if (size1 == size2)
		return 0;
	/*
	 * SUBPROOF(m, D[lo:hi], whole) of RFC 9162 §2.1.4.1. whole stays
	 * set while the old tree's root is a node the verifier already has.
	 */
	for (;;) {
		assert(cnt < REPAT_MERKLE_MAX_PROOF);
		if (m == hi - lo) {
			if (!whole) {
				if ((rc = range(arg, lo, hi, proof[cnt])) != 0)
					return rc;
				cnt++;
			}
			break;
		}
		k = split(hi - lo);
		if (m <= k) {
			rc = range(arg, lo + k, hi, proof[cnt]);
			hi = lo + k;
		} else {
			rc = range(arg, lo, lo + k, proof[cnt]);
			lo += k;
			m -= k;
			whole = 0;
		}
		if (rc != 0)
			return rc;
		cnt++;
	}
	reverse(proof, cnt);
	*n = cnt;
	return 0;
}

/* ------------------------------------------------------- verification */

/* Right-shifts fn and sn together until fn's low bit is set or fn is 0. */
static void
shift_to_right_child(uint64_t *fn, uint64_t *sn)
{
	while ((*fn & 1) == 0 && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int
repat_merkle_verify_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf_hash[HLEN], const uint8_t proof[][HLEN], size_t n,
    const uint8_t root[HLEN])
{
	uint64_t fn, sn;
	uint8_t r[HLEN];
	size_t i;

	if (index >= size || n > REPAT_MERKLE_MAX_PROOF ||
	    (n > 0 && proof == NULL))
		return REPAT_EINVAL;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, HLEN);
	for (i = 0; i < n; i++) {
		if (sn == 0)
			return REPAT_EINVAL;	/* proof too long */
		if ((fn & 1) || fn == sn) {
			repat_merkle_node_hash(proof[i], r, r);
			shift_to_right_child(&fn, &sn);
		} else
			repat_merkle_node_hash(r, proof[i], r);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return REPAT_EINVAL;		/* proof too short */
	return memcmp(r, root, HLEN) == 0 ? 0 : REPAT_ECORRUPT;
}

int
repat_merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const uint8_t proof[][HLEN], size_t n, const uint8_t root1[HLEN],
    const uint8_t root2[HLEN])
{
	uint64_t fn, sn;
	uint8_t fr[HLEN], sr[HLEN];
	size_t i = 0;

	if (size1 == 0 || size1 > size2 || n > REPAT_MERKLE_MAX_PROOF ||
	    (n > 0 && proof == NULL))
		return REPAT_EINVAL;
	if (size1 == size2) {
		if (n != 0)
			return REPAT_EINVAL;
		return memcmp(root1, root2, HLEN) == 0 ? 0 : REPAT_ECORRUPT;
	}
	if (n == 0)
		return REPAT_EINVAL;
	/*
	 * When size1 is a power of two the old root is itself a node of
	 * the new tree, and RFC 9162 prepends it to the path instead of
	 * sending it.
	 */
	if ((size1 & (size1 - 1)) == 0)
		memcpy(fr, root1, HLEN);
	else
		memcpy(fr, proof[i++], HLEN);
	memcpy(sr, fr, HLEN);
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return REPAT_EINVAL;	/* proof too long */
		if ((fn & 1) || fn == sn) {
			repat_merkle_node_hash(proof[i], fr, fr);
			repat_merkle_node_hash(proof[i], sr, sr);
			shift_to_right_child(&fn, &sn);
		} else
			repat_merkle_node_hash(sr, proof[i], sr);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return REPAT_EINVAL;		/* proof too short */
	if (memcmp(fr, root1, HLEN) != 0 || memcmp(sr, root2, HLEN) != 0)
		return REPAT_ECORRUPT;
	return 0;
}
