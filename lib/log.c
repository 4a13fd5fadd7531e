/*
 * log.c: leveled one-line logging to stderr (see repat/log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "repat/log.h"

static const char *log_tag = "repat";
static int log_level = REPAT_LOG_INFO;

void
repat_log_init(const char *tag, int level)
{
	log_tag = tag;
	log_level = level;
}

void
repat_log_set_level(int level)
{
	log_level = level;
}

int
repat_log_level(void)
{
	return log_level;
}

int
repat_log_level_parse(const char *name)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

static void __attribute__((format(printf, 4, 0)))
vlog(int level, const char *label, int with_errno, const char *fmt,
    va_list ap)
{
	int saved = errno;
	char when[32];
	struct timespec ts;
	struct tm tm;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s: ", when, ts.tv_nsec / 1000000,
	    log_tag, label);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	errno = saved;
}

void
repat_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(REPAT_LOG_WARN, "warning", 1, fmt, ap);
	va_end(ap);
}

void
repat_log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(REPAT_LOG_WARN, "warning", 0, fmt, ap);
	va_end(ap);
}

void
repat_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(REPAT_LOG_INFO, "info", 0, fmt, ap);
	va_end(ap);
}

void
repat_log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(REPAT_LOG_DEBUG, "debug", 0, fmt, ap);
	va_end(ap);
}

void
repat_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(REPAT_LOG_ERROR, "fatal", 0, fmt, ap);
	va_end(ap);
	abort();
}
