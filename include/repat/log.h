/*
 * log.h: one line per event on stderr, with a level.
 *
 * Log once, where the decision is made. Never log personal data: log agent
 * ids, message ids (hex) and codes. repat_log_warn appends strerror(errno);
 * repat_log_warnx does not. Logging preserves errno.
 */
#ifndef REPAT_LOG_H
#define REPAT_LOG_H

enum repat_log_level {
	REPAT_LOG_ERROR = 0,
	REPAT_LOG_WARN = 1,
	REPAT_LOG_INFO = 2,
	REPAT_LOG_DEBUG = 3
};

/* Sets the process's log tag ("repat-broker") and the level. */
void repat_log_init(const char *tag, int level);
void repat_log_set_level(int level);
int repat_log_level(void);
/* Parses "error", "warn", "info", "debug"; -1 when unknown. */
int repat_log_level_parse(const char *name);

void repat_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void repat_log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void repat_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void repat_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An impossible internal state in a daemon: log and abort. */
void repat_fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
