/*
 * merkle.h: the audit log's Merkle tree (RFC 9162 §2.1, the same hashing
 * as RFC 6962).
 *
 *   leaf hash   SHA-256(0x00 || entry bytes)
 *   node hash   SHA-256(0x01 || left || right)
 *   empty tree  SHA-256("")
 *
 * A tree of n leaves splits at k, the largest power of two below n: the
 * left subtree holds leaves [0, k), the right one [k, n). The leaf bytes
 * are serialized AuditEntry messages (proto/repat.proto); docs/audit.md
 * is the format's description for outside auditors.
 *
 * Three parts:
 *
 *  - The frontier (repat_merkle_tree_t): the broker's writer appends leaf
 *    hashes and reads the root. It keeps one hash per set bit of the size
 *    (at most 64), never the leaves. It is restored after a restart either
 *    from its exported frontier (repat_merkle_tree_frontier, stored next to
 *    the latest checkpoint) or from the leaf-hash table through a range
 *    callback (repat_merkle_tree_rebuild).
 *
 *  - Proof generation for a server that keeps leaf hashes in storage, not
 *    the tree in memory. Proofs are built from subtree hashes that a
 *    caller-supplied range callback computes. repat_merkle_range_leaves is
 *    such a callback over a leaf callback: it reads every leaf of the
 *    range, so one proof reads O(n) leaf hashes (about n for an inclusion
 *    proof, at most 2n for a consistency proof) and makes O(log n) range
 *    calls. n is small for repat (hundreds of cases a year, a few entries
 *    each), so v1 serves proofs that way; a faster store can cache
 *    subtree hashes and pass its own range callback.
 *
 *  - Verification, exactly RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
 *    (consistency). A consistency proof from size 0 is refused (it proves
 *    nothing), and size1 == size2 needs an empty proof and equal roots.
 *
 * Hashes are fixed arrays of REPAT_MERKLE_HASH_LEN bytes: a caller that
 * copies them from the wire (Proof.inclusion, Proof.consistency) checks
 * each length first and refuses anything but 32 bytes, and refuses more
 * than REPAT_MERKLE_MAX_PROOF of them.
 *
 * Nothing here holds global state; a repat_merkle_tree_t is not locked
 * (the broker has one writer thread).
 */
#ifndef REPAT_MERKLE_H
#define REPAT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define REPAT_MERKLE_HASH_LEN	32
/*
 * The longest proof for any tree size below 2^64: an inclusion proof has
 * one hash per level (64); a consistency proof one per level plus the
 * final subtree (65).
 */
#define REPAT_MERKLE_MAX_PROOF	65
/* The frontier has one hash per bit of the tree size. */
#define REPAT_MERKLE_MAX_FRONTIER 64

typedef struct repat_merkle_tree repat_merkle_tree_t;

/* ------------------------------------------------------------ hashing */

/* SHA-256(0x00 || data). data may be NULL when len is 0. */
void repat_merkle_leaf_hash(const uint8_t *data, size_t len,
    uint8_t out[REPAT_MERKLE_HASH_LEN]);

/* SHA-256(0x01 || l || r). out may alias l or r. */
void repat_merkle_node_hash(const uint8_t l[REPAT_MERKLE_HASH_LEN],
    const uint8_t r[REPAT_MERKLE_HASH_LEN],
    uint8_t out[REPAT_MERKLE_HASH_LEN]);

/* SHA-256(""), the root of the empty tree. */
void repat_merkle_empty_root(uint8_t out[REPAT_MERKLE_HASH_LEN]);

/* ----------------------------------------------------------- frontier */

/* An empty tree. The caller owns it; never NULL (out of memory aborts). */
repat_merkle_tree_t *repat_merkle_tree_new(void);

/* Frees *tree and NULLs it; NULL and *tree == NULL are fine. */
void repat_merkle_tree_destroy(repat_merkle_tree_t **tree);

/* Appends one leaf hash. 0, or REPAT_EFULL at 2^64 - 1 leaves. */
int repat_merkle_tree_append(repat_merkle_tree_t *tree,
    const uint8_t leaf_hash[REPAT_MERKLE_HASH_LEN]);

/* The number of leaves appended so far. */
uint64_t repat_merkle_tree_size(const repat_merkle_tree_t *tree);

/* The tree's root hash (SHA-256("") when empty). */
void repat_merkle_tree_root(const repat_merkle_tree_t *tree,
    uint8_t out[REPAT_MERKLE_HASH_LEN]);

/*
 * The frontier, to store beside a checkpoint: the roots of the perfect
 * subtrees that make up the tree, left to right (largest first), one per
 * set bit of the size. Writes *n (popcount(size)) hashes into out, which
 * has room for REPAT_MERKLE_MAX_FRONTIER.
 */
void repat_merkle_tree_frontier(const repat_merkle_tree_t *tree,
    uint8_t out[][REPAT_MERKLE_HASH_LEN], size_t *n);

/*
 * A tree of size leaves from its stored frontier (as written by
 * repat_merkle_tree_frontier). REPAT_EINVAL when n is not popcount(size);
 * *out is NULL on failure, else owned by the caller. The frontier cannot
 * be checked by itself: compare the restored root with the checkpoint's.
 */
int repat_merkle_tree_restore(uint64_t size,
    const uint8_t frontier[][REPAT_MERKLE_HASH_LEN], size_t n,
    repat_merkle_tree_t **out);

/* ------------------------------------------------- storage and proofs */

/*
 * Writes MTH(D[begin:end]), the root of leaves begin..end-1, into out.
 * Called only with begin < end. Returns 0 or a negative REPAT_E* (a
 * storage error), which the caller passes on unchanged.
 */
typedef int (*repat_merkle_range_fn)(void *arg, uint64_t begin,
    uint64_t end, uint8_t out[REPAT_MERKLE_HASH_LEN]);

/* Writes the hash of leaf index into out. 0 or a negative REPAT_E*. */
typedef int (*repat_merkle_leaf_fn)(void *arg, uint64_t index,
    uint8_t out[REPAT_MERKLE_HASH_LEN]);

/* A leaf source, the argument of repat_merkle_range_leaves. */
struct repat_merkle_leaves {
	repat_merkle_leaf_fn	 leaf;	/* returns one stored hash */
	void			*arg;	/* passed to leaf */
};

/*
 * A repat_merkle_range_fn over a leaf callback: arg is a struct
 * repat_merkle_leaves *. Reads end - begin leaves, keeps O(log n) hashes.
 */
int repat_merkle_range_leaves(void *arg, uint64_t begin, uint64_t end,
    uint8_t out[REPAT_MERKLE_HASH_LEN]);

/*
 * The root of the n leaf hashes in hashes (n may be 0): for tests, the
 * verify tool and small trees held in memory.
 */
void repat_merkle_root_from_leaves(
    const uint8_t hashes[][REPAT_MERKLE_HASH_LEN], size_t n,
    uint8_t out[REPAT_MERKLE_HASH_LEN]);

/*
 * A tree of size leaves rebuilt from storage with O(log size) range calls
 * (one per frontier hash). 0 or the callback's error; *out as for
 * repat_merkle_tree_restore.
 */
int repat_merkle_tree_rebuild(uint64_t size, repat_merkle_range_fn range,
    void *arg, repat_merkle_tree_t **out);

/*
 * The inclusion proof of leaf index in the tree of size leaves (RFC 9162
 * §2.1.3.1), deepest hash first. proof has room for REPAT_MERKLE_MAX_PROOF
 * hashes; *n receives the count. REPAT_EINVAL when index >= size, or the
 * callback's error. *n is 0 on failure.
 */
int repat_merkle_inclusion_proof(uint64_t index, uint64_t size,
    repat_merkle_range_fn range, void *arg,
    uint8_t proof[][REPAT_MERKLE_HASH_LEN], size_t *n);

/*
 * The consistency proof between sizes size1 and size2 (RFC 9162
 * §2.1.4.1). Empty when size1 == size2. REPAT_EINVAL when size1 == 0 or
 * size1 > size2, or the callback's error. proof and *n as above.
 */
int repat_merkle_consistency_proof(uint64_t size1, uint64_t size2,
    repat_merkle_range_fn range, void *arg,
    uint8_t proof[][REPAT_MERKLE_HASH_LEN], size_t *n);

/* ------------------------------------------------------- verification */

/*
 * Checks that leaf_hash is leaf index of the tree of size leaves whose
 * root is root, given the n proof hashes (RFC 9162 §2.1.3.2). 0 when it
 * is; REPAT_EINVAL when the arguments cannot describe a proof (index >=
 * size, too many or too few hashes); REPAT_ECORRUPT when the proof does
 * not lead to root.
 */
int repat_merkle_verify_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf_hash[REPAT_MERKLE_HASH_LEN],
    const uint8_t proof[][REPAT_MERKLE_HASH_LEN], size_t n,
    const uint8_t root[REPAT_MERKLE_HASH_LEN])
    __attribute__((warn_unused_result));

/*
 * Checks that the tree of size1 leaves with root root1 is a prefix of the
 * tree of size2 leaves with root root2 (RFC 9162 §2.1.4.2). 0 when it is;
 * REPAT_EINVAL for size1 == 0, size1 > size2, a non-empty proof for equal
 * sizes or a proof of the wrong length; REPAT_ECORRUPT when the hashes do
 * not match.
 */
int repat_merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const uint8_t proof[][REPAT_MERKLE_HASH_LEN], size_t n,
    const uint8_t root1[REPAT_MERKLE_HASH_LEN],
    const uint8_t root2[REPAT_MERKLE_HASH_LEN])
    __attribute__((warn_unused_result));

#endif
