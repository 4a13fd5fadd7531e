/*
 * conf.c: "key = value" configuration files (see repat/conf.h).
 *
 * Small on purpose: every repat setting is a scalar, so there is no
 * quoting, no sections and no includes. Each entry remembers its line so
 * that an error can say exactly where to look, and whether a getter asked
 * for it, so a misspelt key is an error rather than a silent default.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repat/conf.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/limits.h"
#include "repat/mem.h"

struct conf_entry {
	char *key;		/* trimmed key */
	char *value;		/* trimmed value, may be "" */
	int line;		/* 1-based line in the file */
	bool used;		/* a getter asked for it */
};

struct repat_conf {
	char *path;			/* as given to repat_conf_load */
	struct conf_entry *entries;	/* in file order */
	size_t n;			/* entries used */
};

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static struct conf_entry *
find(repat_conf_t *conf, const char *key)
{
	size_t i;

	for (i = 0; i < conf->n; i++)
		if (strcmp(conf->entries[i].key, key) == 0)
			return &conf->entries[i];
	return NULL;
}

static int
parse_line(repat_conf_t *conf, char *line, int lineno, char *errbuf)
{
	char *eq, *key, *value, *hash;

	/*
	 * '#' starts a comment at the start of a line or after white space
	 * only: Z85 keys and URLs may contain it.
	 */
	for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
		if (hash == line || isspace((unsigned char)hash[-1])) {
			*hash = '\0';
			break;
		}
	}
	line = trim(line);
	if (*line == '\0')
		return REPAT_OK;
	if ((eq = strchr(line, '=')) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "%s:%d: expected 'key = value'", conf->path, lineno);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (*key == '\0')
		return repat_errf(errbuf, REPAT_EINVAL, "%s:%d: missing key "
		    "before '='", conf->path, lineno);
	if (find(conf, key) != NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "%s:%d: %s: set twice "
		    "(line %d)", conf->path, lineno, key,
		    find(conf, key)->line);
	conf->entries = repat_xrealloc(conf->entries,
	    (conf->n + 1) * sizeof(*conf->entries));
	conf->entries[conf->n].key = repat_xstrdup(key);
	conf->entries[conf->n].value = repat_xstrdup(value);
	conf->entries[conf->n].line = lineno;
	conf->entries[conf->n].used = false;
	conf->n++;
	return REPAT_OK;
}

repat_conf_t *
repat_conf_parse(const char *name, const char *text, size_t len,
    char *errbuf)
{
	repat_conf_t *conf;
	const char *p = text, *end = text + len, *nl;
	char line[1024];
	size_t n;
	int lineno = 0;

	if (len > REPAT_MAX_CONFIG) {
		repat_errf(errbuf, REPAT_ETOOBIG, "%s: larger than %d bytes",
		    name, REPAT_MAX_CONFIG);
		return NULL;
	}
	conf = repat_xcalloc(1, sizeof(*conf));
	conf->path = repat_xstrdup(name);
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n >= sizeof(line)) {
			repat_errf(errbuf, REPAT_EINVAL, "%s:%d: line too long",
			    name, lineno);
			goto fail;
		}
		if (memchr(p, '\0', n) != NULL) {
			repat_errf(errbuf, REPAT_EINVAL, "%s:%d: NUL byte in "
			    "line", name, lineno);
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (parse_line(conf, line, lineno, errbuf) != REPAT_OK)
			goto fail;
		p += n + (nl ? 1 : 0);
	}
	return conf;
fail:
	repat_conf_destroy(&conf);
	return NULL;
}

repat_conf_t *
repat_conf_load(const char *path, char *errbuf)
{
	repat_conf_t *conf;
	uint8_t *text;
	size_t len;

	if (repat_file_read(path, REPAT_MAX_CONFIG, &text, &len, errbuf) !=
	    REPAT_OK)
		return NULL;
	conf = repat_conf_parse(path, (const char *)text, len, errbuf);
	free(text);
	return conf;
}

void
repat_conf_destroy(repat_conf_t **confp)
{
	repat_conf_t *conf = *confp;
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->n; i++) {
		free(conf->entries[i].key);
		free(conf->entries[i].value);
	}
	free(conf->entries);
	free(conf->path);
	free(conf);
	*confp = NULL;
}

const char *
repat_conf_str(repat_conf_t *conf, const char *key, const char *def)
{
	struct conf_entry *e = find(conf, key);

	if (e == NULL)
		return def;
	e->used = true;
	return e->value;
}

static int64_t
suffix_scale(const char *s, bool is_duration)
{
	static const struct {
		const char *suffix;
		int64_t scale;
	} durations[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }, { "", 1 },
	}, sizes[] = {
		{ "k", 1024 }, { "K", 1024 }, { "M", 1024 * 1024 }, { "", 1 },
	};
	size_t i;

	if (is_duration) {
		for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
			if (strcmp(s, durations[i].suffix) == 0)
				return durations[i].scale;
	} else {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (strcmp(s, sizes[i].suffix) == 0)
				return sizes[i].scale;
	}
	return 0;
}

int
repat_conf_int(repat_conf_t *conf, const char *key, int64_t def, int64_t min,
    int64_t max, bool is_duration, int64_t *out, char *errbuf)
{
	struct conf_entry *e = find(conf, key);
	char *end;
	long long v;
	int64_t scale;

	*out = def;
	if (e == NULL)
		return REPAT_OK;
	e->used = true;
	errno = 0;
	v = strtoll(e->value, &end, 10);
	scale = suffix_scale(end, is_duration);
	if (end == e->value || errno != 0 || scale == 0)
		return repat_errf(errbuf, REPAT_EINVAL, "%s:%d: %s: '%s' is not "
		    "%s", conf->path, e->line, key, e->value, is_duration ?
		    "a duration (e.g. 500ms, 30s, 5m, 2h, 7d)" :
		    "a number (e.g. 64, 512k, 1M)");
	if (v > INT64_MAX / scale || v < INT64_MIN / scale ||
	    v * scale < min || v * scale > max)
		return repat_errf(errbuf, REPAT_EINVAL, "%s:%d: %s: %s is out "
		    "of range [%lld, %lld]%s", conf->path, e->line, key,
		    e->value, (long long)min, (long long)max,
		    is_duration ? " ms" : "");
	*out = v * scale;
	return REPAT_OK;
}

const char *
repat_conf_unused(repat_conf_t *conf, int *line)
{
	size_t i;

	for (i = 0; i < conf->n; i++) {
		if (!conf->entries[i].used) {
			if (line != NULL)
				*line = conf->entries[i].line;
			return conf->entries[i].key;
		}
	}
	return NULL;
}

const char *
repat_conf_path(const repat_conf_t *conf)
{
	return conf->path;
}

char *
repat_conf_path_value(repat_conf_t *conf, const char *key, const char *def)
{
	const char *v = repat_conf_str(conf, key, def);
	const char *slash;

	if (v == NULL)
		return NULL;
	if (v[0] == '/' || (slash = strrchr(conf->path, '/')) == NULL)
		return repat_xstrdup(v);
	return repat_xasprintf("%.*s/%s", (int)(slash - conf->path),
	    conf->path, v);
}

int
repat_endpoint_check(const char *e, char *why)
{
	const char *colon;
	char *end;
	long port;

	if (strncmp(e, "ipc://", 6) == 0 && e[6] != '\0')
		return 0;
	if (strncmp(e, "tcp://", 6) != 0 ||
	    (colon = strrchr(e + 6, ':')) == NULL || colon == e + 6)
		return repat_errf(why, REPAT_EINVAL, "\"%s\" is not "
		    "tcp://HOST:PORT", e);
	if (strcmp(colon + 1, "*") == 0)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535)
		return repat_errf(why, REPAT_EINVAL, "\"%s\": the port is not "
		    "a number from 1 to 65535", e);
	return 0;
}
