/*
 * clock.h: the wall clock in milliseconds since the Unix epoch, the unit
 * of every time on the wire (created_ms, expires_ms, broker_time_ms) and
 * in the stores. One function, so every program reads it the same way.
 */
#ifndef REPAT_CLOCK_H
#define REPAT_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME in milliseconds. */
uint64_t repat_now_ms(void);

#endif
