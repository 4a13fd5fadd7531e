/*
 * fuzz_proof.c: the Merkle proof verifiers on arbitrary sizes, indices,
 * hashes and proofs, as an agent meets them in a Proof frame; then, when
 * the first byte's low bit is set, a generated proof for a small tree
 * drawn from the input, which must verify (a failure traps).
 *
 * Input: flags[1] a[8] b[8] h1[32] h2[32] proof[32]... (big-endian
 * integers; a trailing partial hash is ignored). Inclusion reads
 * (index a, size b, leaf h1, root h2); consistency reads (size1 a,
 * size2 b, root1 h1, root2 h2).
 */
#include <string.h>

#include "fuzz.h"
#include "repat/merkle.h"

#define HLEN	REPAT_MERKLE_HASH_LEN
#define HEAD	(1 + 8 + 8 + 2 * HLEN)
#define SMALL	40	/* leaves in the generated tree, at most */

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct leaves {
	uint8_t	 h[SMALL][HLEN];	/* leaf hashes */
};

static int
range(void *arg, uint64_t begin, uint64_t end, uint8_t out[HLEN])
{
	struct leaves *l = arg;

	repat_merkle_root_from_leaves(l->h + begin, (size_t)(end - begin), out);
	return 0;
}

/* Generated proofs for a tree of 1..SMALL leaves must always verify. */
static void
round_trip(uint64_t a, uint64_t b, const uint8_t *seed)
{
	static struct leaves l;
	uint8_t proof[REPAT_MERKLE_MAX_PROOF][HLEN], r1[HLEN], r2[HLEN];
	uint64_t size = b % SMALL + 1, m = a % size + 1;
	size_t i, n;

	for (i = 0; i < size; i++)
		repat_merkle_leaf_hash(seed, i % HLEN, l.h[i]);
	repat_merkle_root_from_leaves(l.h, size, r2);
	if (repat_merkle_inclusion_proof(m - 1, size, range, &l, proof,
	    &n) != 0 || repat_merkle_verify_inclusion(m - 1, size, l.h[m - 1],
	    proof, n, r2) != 0)
		__builtin_trap();
	repat_merkle_root_from_leaves(l.h, m, r1);
	if (repat_merkle_consistency_proof(m, size, range, &l, proof,
	    &n) != 0 || repat_merkle_verify_consistency(m, size, proof, n, r1,
	    r2) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t proof[REPAT_MERKLE_MAX_PROOF + 2][HLEN];
	const uint8_t *h1, *h2;
	uint64_t a, b;
	size_t n;
	int rc;

	if (size < HEAD)
		return 0;
	a = be64(data + 1);
	b = be64(data + 9);
	h1 = data + 17;
	h2 = data + 17 + HLEN;
	n = (size - HEAD) / HLEN;
	/* One past the limit still reaches the verifiers, to be refused. */
	if (n > REPAT_MERKLE_MAX_PROOF + 1)
		n = REPAT_MERKLE_MAX_PROOF + 1;
	memcpy(proof, data + HEAD, n * HLEN);
	rc = repat_merkle_verify_inclusion(a, b, h1, proof, n, h2);
	rc |= repat_merkle_verify_consistency(a, b, proof, n, h1, h2);
	(void)rc;
	if (data[0] & 1)
		round_trip(a, b, h1);
	return 0;
}
