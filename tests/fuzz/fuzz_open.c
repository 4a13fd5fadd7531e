/*
 * fuzz_open.c: repat_open on arbitrary bytes, read as enc (32 bytes) ||
 * ciphertext, to a fixed test key and header. It must fail closed without
 * crashing, leaking or reading out of bounds; the corpus holds a real
 * sealed payload (tests/fuzz/corpus/open/sealed) so mutations start past
 * the length checks.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "repat/mem.h"
#include "repat/seal.h"

/* The recipient key of the corpus's sealed seed: 32 bytes of 0x42. */
static const uint8_t skR[32] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};
static const uint8_t header[] = "fuzz header";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pt;
	size_t ptlen;

	if (size < REPAT_HPKE_ENC_LEN)
		return 0;
	if (repat_open(skR, header, sizeof(header), data,
	    data + REPAT_HPKE_ENC_LEN, size - REPAT_HPKE_ENC_LEN, &pt,
	    &ptlen) == 0)
		repat_free_secret(pt, ptlen);
	return 0;
}
