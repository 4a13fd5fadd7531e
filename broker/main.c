/*
 * main.c: repat-broker's entry point (placeholder until the broker lands).
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "repat-broker: not built yet\n");
	return 1;
}
