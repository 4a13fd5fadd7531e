/* cmd_region.c: placeholder until its module lands. */
#include <stdio.h>
#include "cli.h"
int
cmd_region(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}
