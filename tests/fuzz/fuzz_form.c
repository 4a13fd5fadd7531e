/*
 * fuzz_form.c: the form parsers. The first byte chooses the type (1 + b %
 * 15) and the path: below 0x80 the rest is JSON for repat_form_from_json,
 * from 0x80 it is a protobuf payload for repat_form_decode. Whatever is
 * accepted must survive JSON and protobuf round trips unchanged and yield
 * facts; a difference aborts, so the fuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "repat/form.h"

static void
check_accepted(int type, ProtobufCMessage *f)
{
	struct repat_form_report rep;
	Repat__CaseFacts a = REPAT__CASE_FACTS__INIT;
	Repat__CaseFacts b = REPAT__CASE_FACTS__INIT;
	ProtobufCMessage *g;
	char *j1, *j2;
	uint8_t *buf;
	size_t len;

	j1 = repat_form_to_json(f);
	if (repat_form_from_json(type, j1, strlen(j1), &g, &rep) != 0)
		abort();
	j2 = repat_form_to_json(g);
	if (strcmp(j1, j2) != 0)
		abort();
	repat_form_encode(g, &buf, &len);
	repat_form_free(g);
	if (repat_form_decode(type, buf, len, &g, &rep) != 0)
		abort();
	if (repat_form_facts(type, f, &a) != 0 ||
	    repat_form_facts(type, g, &b) != 0 || !repat_facts_equal(&a, &b))
		abort();
	repat_facts_clear(&a);
	repat_facts_clear(&b);
	repat_form_free(g);
	free(buf);
	free(j1);
	free(j2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct repat_form_report rep;
	ProtobufCMessage *f;
	int type, rc;

	if (size < 1)
		return 0;
	type = 1 + data[0] % 15;
	if (data[0] < 0x80)
		rc = repat_form_from_json(type, (const char *)data + 1,
		    size - 1, &f, &rep);
	else
		rc = repat_form_decode(type, data + 1, size - 1, &f, &rep);
	if (rc == 0) {
		check_accepted(type, f);
		repat_form_free(f);
	}
	return 0;
}
