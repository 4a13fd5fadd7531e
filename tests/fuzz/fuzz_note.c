/*
 * fuzz_note.c: a signed note as an agent receives one (Proof.checkpoint):
 * opened with two fixed verifier keys, then read as a checkpoint; and the
 * same bytes as a verifier key string and as bare checkpoint text.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "repat/note.h"

/* The C2SP example key and Go's PeterNeumann (tests/data/vectors). */
static const char *const vkeys[] = {
	"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct repat_note_verifier known[2];
	static int ready;
	struct repat_note_verifier v;
	struct repat_note *note;
	uint8_t root[REPAT_NOTE_HASH_LEN];
	uint64_t tsize;
	char *origin, *s;
	int rc;

	if (!ready) {
		if (repat_note_verifier_parse(vkeys[0], &known[0], NULL) != 0 ||
		    repat_note_verifier_parse(vkeys[1], &known[1], NULL) != 0)
			abort();
		ready = 1;
	}
	if (repat_note_open(data, size, known, 2, &note, NULL) == 0) {
		if (repat_checkpoint_parse(note->text, note->text_len, &origin,
		    &tsize, root, NULL) == 0)
			free(origin);
		repat_note_free(&note);
	}
	rc = repat_checkpoint_open(data, size, &known[1], &tsize, root, NULL);
	(void)rc;
	if (repat_checkpoint_parse((const char *)data, size, &origin, &tsize,
	    root, NULL) == 0)
		free(origin);
	if (size < 1024) {
		s = malloc(size + 1);
		if (s == NULL)
			abort();
		memcpy(s, data, size);
		s[size] = '\0';
		rc = repat_note_verifier_parse(s, &v, NULL);
		(void)rc;
		free(s);
	}
	return 0;
}
