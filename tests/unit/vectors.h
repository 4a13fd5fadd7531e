/*
 * vectors.h: reading published test vectors (hex strings in JSON), shared
 * by the crypto tests. Include after <cmocka.h> and <jansson.h>. Every
 * helper fails the running test on malformed data: a vector file that
 * does not parse is a broken test, not a skipped one.
 */
#ifndef REPAT_TEST_VECTORS_H
#define REPAT_TEST_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hex to a fresh buffer (caller frees); fails the test on bad hex. */
static inline uint8_t *
unhex(const char *s, size_t *len)
{
	size_t n = strlen(s), i;
	uint8_t *b;
	unsigned v;

	assert_int_equal(n % 2, 0);
	b = malloc(n / 2 + 1);
	assert_non_null(b);
	for (i = 0; i < n / 2; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*len = n / 2;
	return b;
}

/* The hex string o[key] as bytes (caller frees). */
static inline uint8_t *
jhex(json_t *o, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return unhex(s, len);
}

#endif
