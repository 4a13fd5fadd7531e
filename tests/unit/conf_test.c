/*
 * conf_test.c: key = value files, with errors that name file, line and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "repat/conf.h"
#include "repat/err.h"

static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/repat-conf-XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

static void
reads_values_and_resolves_paths(void **state)
{
	char err[REPAT_ERRBUF_LEN] = "";
	char *path = write_tmp("# broker\nendpoint = tcp://127.0.0.1:7450\n"
	    "\n  database=broker.db   # the queue\nwindow = 64\nwait = 2ms\n"
	    "size = 512k\nabs = /var/lib/x\nkey = a#b=c # comment\n");
	repat_conf_t *c = repat_conf_load(path, err);
	char *db, *abs;
	int64_t v;

	(void)state;
	assert_non_null(c);
	assert_string_equal(repat_conf_str(c, "endpoint", NULL),
	    "tcp://127.0.0.1:7450");
	assert_null(repat_conf_str(c, "missing", NULL));
	db = repat_conf_path_value(c, "database", NULL);
	assert_string_equal(db, "/tmp/broker.db");
	abs = repat_conf_path_value(c, "abs", NULL);
	assert_string_equal(abs, "/var/lib/x");
	assert_string_equal(repat_conf_str(c, "key", NULL), "a#b=c");
	assert_int_equal(repat_conf_int(c, "window", 1, 1, 100, false, &v,
	    err), REPAT_OK);
	assert_int_equal(v, 64);
	assert_int_equal(repat_conf_int(c, "wait", 0, 0, 1000, true, &v, err),
	    REPAT_OK);
	assert_int_equal(v, 2);
	assert_int_equal(repat_conf_int(c, "size", 0, 0, 1 << 20, false, &v,
	    err), REPAT_OK);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(repat_conf_int(c, "absent", 7, 0, 10, false, &v, err),
	    REPAT_OK);
	assert_int_equal(v, 7);
	assert_null(repat_conf_unused(c, NULL));
	free(db);
	free(abs);
	repat_conf_destroy(&c);
	assert_null(c);
	unlink(path);
	free(path);
}

static void
errors_name_line_and_key(void **state)
{
	char err[REPAT_ERRBUF_LEN] = "";
	char *path = write_tmp("a = 1\nwindow = lots\nb = 2\n");
	repat_conf_t *c = repat_conf_load(path, err);
	int64_t v;
	int line = 0;

	(void)state;
	assert_non_null(c);
	assert_int_equal(repat_conf_int(c, "window", 1, 1, 100, false, &v,
	    err), REPAT_EINVAL);
	assert_non_null(strstr(err, ":2: window: 'lots'"));
	assert_int_equal(repat_conf_int(c, "a", 1, 5, 100, false, &v, err),
	    REPAT_EINVAL);
	assert_non_null(strstr(err, ":1: a: 1 is out of range"));
	assert_string_equal(repat_conf_unused(c, &line), "b");
	assert_int_equal(line, 3);
	repat_conf_destroy(&c);
	unlink(path);
	free(path);
}

static void
malformed_files_refused(void **state)
{
	static const char *const bad[] = {
		"just words\n", "= value\n", "a = 1\na = 2\n",
	};
	static const char *const want[] = {
		":1: expected 'key = value'", ":1: missing key", ":2: a: set twice",
	};
	char err[REPAT_ERRBUF_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = write_tmp(bad[i]);

		err[0] = '\0';
		assert_null(repat_conf_load(path, err));
		assert_non_null(strstr(err, want[i]));
		unlink(path);
		free(path);
	}
	assert_null(repat_conf_load("/nonexistent/broker.conf", err));
	assert_non_null(strstr(err, "/nonexistent/broker.conf"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_values_and_resolves_paths),
		cmocka_unit_test(errors_name_line_and_key),
		cmocka_unit_test(malformed_files_refused),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
