/*
 * fuzz_conf.c: the key = value reader of broker.conf and agent.conf, and
 * the integer and duration getters the broker applies to it.
 */
#include "fuzz.h"
#include "repat/conf.h"
#include "repat/err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"endpoint", "max_frame", "group_commit_wait", "clock_skew", "x",
	};
	char err[REPAT_ERRBUF_LEN];
	repat_conf_t *c;
	int64_t v;
	size_t i;

	c = repat_conf_parse("fuzz.conf", (const char *)data, size, err);
	if (c == NULL)
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)repat_conf_str(c, keys[i], NULL);
		(void)repat_conf_int(c, keys[i], 0, -1000, 1000000, i % 2 == 0,
		    &v, err);
	}
	(void)repat_conf_unused(c, NULL);
	repat_conf_destroy(&c);
	return 0;
}
