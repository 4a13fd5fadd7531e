/*
 * clock.c: the wall clock in milliseconds (repat/clock.h).
 */
#include <time.h>

#include "repat/clock.h"

uint64_t
repat_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
