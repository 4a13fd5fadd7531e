/*
 * cli.c: helpers every subcommand shares (see cli.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *
cli_agent_dir(const char *opt)
{
	const char *env;

	if (opt != NULL && *opt != '\0')
		return opt;
	env = getenv("REPAT_DIR");
	if (env != NULL && *env != '\0')
		return env;
	fprintf(stderr, "repat: which agent? Give --dir DIR (the agent's "
	    "folder, e.g. region/agents/TH.DATIP) or set REPAT_DIR.\n");
	return NULL;
}

static void
vsay(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "repat %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'repat %s --help'.\n", cmd);
	return REPAT_EXIT_USAGE;
}

int
cli_fail(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(cmd, fmt, ap);
	va_end(ap);
	return code;
}

bool
cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}
