/* cmd_proof.c: placeholder until its module lands. */
#include "cli.h"

int
cmd_proof(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}
