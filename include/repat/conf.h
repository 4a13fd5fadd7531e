/*
 * conf.h: the "key = value" files of repat (broker.conf, agent.conf).
 *
 * One setting per line, '#' at the start or after white space starts a
 * comment (so Z85 keys may hold '#'), blank lines are ignored,
 * values are taken verbatim after trimming (no quoting). A key may appear
 * once. Errors name the file, line and key. Ownership: the conf owns its
 * strings; getters return borrowed pointers.
 */
#ifndef REPAT_CONF_H
#define REPAT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct repat_conf repat_conf_t;

/* Reads path; NULL with errbuf naming file and line on any error. */
repat_conf_t *repat_conf_load(const char *path, char *errbuf);
/* The same from text in memory; name is used in messages. */
repat_conf_t *repat_conf_parse(const char *name, const char *text,
    size_t len, char *errbuf);
void repat_conf_destroy(repat_conf_t **conf);

/* The value of key, or def when absent. Marks the key as used. */
const char *repat_conf_str(repat_conf_t *conf, const char *key,
    const char *def);
/*
 * Integer value of key within [min, max], or def when absent.
 * REPAT_EINVAL with errbuf "FILE:LINE: KEY: ..." when not a number or out
 * of range. Accepts suffixes: ms, s, m, h, d for durations (unit: ms) when
 * is_duration, and k, M for sizes otherwise.
 */
int repat_conf_int(repat_conf_t *conf, const char *key, int64_t def,
    int64_t min, int64_t max, bool is_duration, int64_t *out, char *errbuf);
/* The first key that no getter asked for (a typo), or NULL. */
const char *repat_conf_unused(repat_conf_t *conf, int *line);
/* The path it was read from, for messages and relative paths. */
const char *repat_conf_path(const repat_conf_t *conf);

/*
 * A ZeroMQ endpoint as repat uses one: tcp://HOST:PORT with PORT 1-65535
 * (or * to bind any), or ipc://PATH. libzmq itself takes port 99999
 * modulo 65536 and "tcp://host" as a name to resolve, so a typo would
 * listen elsewhere or fail later as "the broker refused". 0, or
 * REPAT_EINVAL with why saying what is wrong.
 */
int repat_endpoint_check(const char *endpoint, char *why);
/* A path value resolved against the conf file's folder; caller frees. */
char *repat_conf_path_value(repat_conf_t *conf, const char *key,
    const char *def);

#endif
