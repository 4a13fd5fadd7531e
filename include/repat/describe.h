/*
 * describe.h: a header as people and scripts read it.
 *
 * The same rendering serves `repat open`, `repat show` and `repat inbox`,
 * so every command names fields the same way (docs/message-format.md).
 */
#ifndef REPAT_DESCRIBE_H
#define REPAT_DESCRIBE_H

#include <stdint.h>
#include <stdio.h>

#include "repat.pb-c.h"

/* The header as a JSON object text (compact); the caller frees. */
char *repat_header_json(const Repat__Header *h);
/* The header as "name: value" lines on f. */
void repat_header_print(FILE *f, const Repat__Header *h);
/* UTC ISO 8601 of ms since the epoch, into out (at least 32 bytes). */
char *repat_time_iso(uint64_t ms, char *out, size_t outlen);

#endif
