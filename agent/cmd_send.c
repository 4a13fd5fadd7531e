/* cmd_send.c: placeholder until its module lands. */
#include "cli.h"

int
cmd_send(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}

int
cmd_reply(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}

int
cmd_submit(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}

int
cmd_sync(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}

int
cmd_inbox(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}

int
cmd_show(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}

int
cmd_case(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}

int
cmd_watch(int argc, char **argv)
{
	(void)argc;
	return cli_fail(argv[0], REPAT_EXIT_FAIL, "not built yet");
}
