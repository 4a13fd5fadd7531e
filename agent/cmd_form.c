/*
 * cmd_form.c: `repat form`: list the case form types, print a filled-in
 * template, validate a form file, or print it in canonical form. Nothing
 * here needs an agent directory: a case worker can check a form offline
 * before sealing it.
 *
 * Exit codes: 0 valid, 1 invalid (also unreadable or truncated files),
 * 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "repat/codec.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/mem.h"

static void
help(FILE *f)
{
	fprintf(f,
	    "usage: repat form types\n"
	    "       repat form template TYPE\n"
	    "       repat form validate FILE [--type TYPE]\n"
	    "       repat form format FILE [--type TYPE]\n"
	    "\n"
	    "  types     list the fifteen form types\n"
	    "            e.g. repat form types\n"
	    "  template  print a filled-in example form of TYPE as JSON\n"
	    "            e.g. repat form template case_referral > my.json\n"
	    "  validate  check FILE; prints OK, or one \"path: message\" per\n"
	    "            problem (warnings start with \"warning:\")\n"
	    "            e.g. repat form validate case_referral.json\n"
	    "            e.g. repat form validate draft.json "
	    "--type consent_update\n"
	    "  format    validate FILE and print it in canonical form\n"
	    "            e.g. repat form format draft.json "
	    "--type case_closure\n"
	    "\n"
	    "Without --type, FILE must be named TYPE.json (any folder).\n"
	    "Exit codes: 0 valid, 1 invalid or unreadable, 2 usage error.\n"
	    "See docs/forms.md for every field and rule.\n");
}

static int
cmd_types(void)
{
	int t;

	for (t = 1; t <= 15; t++)
		printf("%-34s %s\n", repat_message_type_name(t),
		    repat_form_type_summary(t));
	return REPAT_EXIT_OK;
}

static int
cmd_template(const char *cmd, const char *name)
{
	int type = repat_message_type_parse(name);

	if (type < 0)
		return cli_usage(cmd, "unknown form type '%s' (repat form "
		    "types lists them)", name);
	fputs(repat_form_template(type), stdout);
	return REPAT_EXIT_OK;
}

/* The type from the file name TYPE.json, or -1. */
static int
type_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	char name[64];
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n <= 5 || n - 5 >= sizeof(name) ||
	    strcmp(base + n - 5, ".json") != 0)
		return -1;
	memcpy(name, base, n - 5);
	name[n - 5] = '\0';
	return repat_message_type_parse(name);
}

/* Reads at most REPAT_MAX_FORM_JSON + 1 bytes, so oversize is seen. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = REPAT_MAX_FORM_JSON + 1;
	char *buf;

	if (f == NULL)
		return NULL;
	buf = repat_xmalloc(cap);
	*len = fread(buf, 1, cap, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static int
cmd_validate(const char *cmd, int argc, char **argv, bool print)
{
	struct repat_form_report report;
	ProtobufCMessage *form;
	const char *file = NULL, *tname = NULL;
	char *buf, *json;
	size_t len;
	int i, type, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			tname = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage(cmd, "unknown option '%s'", argv[i]);
		else if (file == NULL)
			file = argv[i];
		else
			return cli_usage(cmd, "one FILE only");
	}
	if (file == NULL)
		return cli_usage(cmd, "%s needs a FILE", argv[0]);
	type = tname ? repat_message_type_parse(tname) : type_from_path(file);
	if (type < 0)
		return tname ? cli_usage(cmd, "unknown form type '%s'", tname) :
		    cli_usage(cmd, "cannot tell the type of '%s': name it "
		    "TYPE.json or give --type TYPE", file);
	if ((buf = read_file(file, &len)) == NULL)
		return cli_fail(cmd, REPAT_EXIT_FAIL, "cannot read %s", file);
	rc = repat_form_from_json(type, buf, len, &form, &report);
	free(buf);
	if (rc != 0) {
		repat_form_report_print(&report, stdout);
		return REPAT_EXIT_FAIL;
	}
	if (print) {
		json = repat_form_to_json(form);
		fputs(json, stdout);
		free(json);
		repat_form_report_print(&report, stderr);
	} else {
		repat_form_report_print(&report, stdout);
		printf("OK\n");
	}
	repat_form_free(form);
	return REPAT_EXIT_OK;
}

int
cmd_form(int argc, char **argv)
{
	const char *cmd = "form";

	if (cli_wants_help(argc, argv)) {
		help(stdout);
		return REPAT_EXIT_OK;
	}
	if (argc < 2) {
		help(stderr);
		return REPAT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "types") == 0 && argc == 2)
		return cmd_types();
	if (strcmp(argv[1], "template") == 0 && argc == 3)
		return cmd_template(cmd, argv[2]);
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(cmd, argc - 1, argv + 1, false);
	if (strcmp(argv[1], "format") == 0)
		return cmd_validate(cmd, argc - 1, argv + 1, true);
	return cli_usage(cmd, "unknown or incomplete subcommand '%s' (repat "
	    "form --help)", argv[1]);
}
