/*
 * config.c: broker.conf, the broker's one configuration file.
 *
 * docs/operations.md lists every key. Paths are relative to the conf
 * file's folder. Unknown keys are errors (a misspelt limit must not
 * silently fall back to its default), and the two settings that weaken
 * the broker -- authorization = open and test_mode -- must be named
 * explicitly; both are logged at start and written to the audit.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/conf.h"
#include "repat/err.h"
#include "repat/limits.h"
#include "repat/log.h"
#include "repat/mem.h"

#define DAY_MS (24LL * 3600 * 1000)

struct int_key {
	const char *key;
	int64_t def;
	int64_t min;
	int64_t max;
	bool duration;
	size_t off;
};

#define OFF(f) offsetof(struct broker_config, f)

static const struct int_key int_keys[] = {
	{ "max_frame", REPAT_MAX_FRAME, 4096, REPAT_MAX_FRAME, false,
	    OFF(max_frame) },
	{ "inflight_per_agent", BROKER_DEFAULT_WINDOW, 1, 4096, false,
	    OFF(inflight) },
	{ "redeliver_min", 2000, 10, DAY_MS, true, OFF(redeliver_min_ms) },
	{ "redeliver_max", 300000, 10, 7 * DAY_MS, true,
	    OFF(redeliver_max_ms) },
	{ "delivery_limit", 50, 1, 1000000, false, OFF(delivery_limit) },
	{ "default_expiry", 30 * DAY_MS, 1000, 3650 * DAY_MS, true,
	    OFF(default_expiry_ms) },
	{ "handshake_rate", 20, 1, 100000, false, OFF(handshake_rate) },
	{ "retention", 3650 * DAY_MS, DAY_MS, 36500 * DAY_MS, true,
	    OFF(retention_ms) },
	{ "clock_skew", 300000, 0, DAY_MS, true, OFF(clock_skew_ms) },
	{ "group_commit_size", 256, 1, 65536, false, OFF(group_commit_size) },
	{ "group_commit_wait", 0, 0, 1000, true, OFF(group_commit_wait_ms) },
	{ "heartbeat", 10000, 100, 3600000, true, OFF(heartbeat_ms) },
	{ "wal_checkpoint", 5000, 100, 3600000, true, OFF(checkpoint_ms) },
	{ "verify_threads", -1, -1, 64, false, OFF(verify_threads) },
	{ "checkpoint_entries", 256, 1, 1000000, false, OFF(ckpt_entries) },
	{ "checkpoint_interval", 300000, 100, DAY_MS, true,
	    OFF(ckpt_interval_ms) },
};

static int
load_ints(repat_conf_t *conf, struct broker_config *cfg, char *errbuf)
{
	const struct int_key *k;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(int_keys) / sizeof(int_keys[0]); i++) {
		k = &int_keys[i];
		rc = repat_conf_int(conf, k->key, k->def, k->min, k->max,
		    k->duration, (int64_t *)(void *)((char *)cfg + k->off),
		    errbuf);
		if (rc != 0)
			return rc;
	}
	if (cfg->redeliver_max_ms < cfg->redeliver_min_ms)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "%s: redeliver_max is below redeliver_min", cfg->path);
	return REPAT_OK;
}

static char *
need_path(repat_conf_t *conf, const char *key, const char *def, char *errbuf,
    int *rc)
{
	char *v = repat_conf_path_value(conf, key, def);

	if (v == NULL && *rc == 0)
		*rc = repat_errf(errbuf, REPAT_EINVAL, "%s: %s: missing",
		    repat_conf_path(conf), key);
	return v;
}

static int
load_modes(repat_conf_t *conf, struct broker_config *cfg, char *errbuf)
{
	const char *v;
	int rc;

	v = repat_conf_str(conf, "authorization", "sop");
	if (strcmp(v, "sop") == 0)
		cfg->authorization = BROKER_AUTH_SOP;
	else if (strcmp(v, "open") == 0)
		cfg->authorization = BROKER_AUTH_OPEN;
	else
		return repat_errf(errbuf, REPAT_EINVAL,
		    "%s: authorization: \"%s\" is neither sop nor open",
		    cfg->path, v);
	v = repat_conf_str(conf, "log_level", "info");
	if ((cfg->log_level = repat_log_level_parse(v)) < 0)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "%s: log_level: \"%s\" is not error, warn, info or debug",
		    cfg->path, v);
	v = repat_conf_str(conf, "test_mode", "no");
	if (strcmp(v, "yes") == 0)
		cfg->test_mode = true;
	else if (strcmp(v, "no") != 0)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "%s: test_mode: \"%s\" is neither yes nor no", cfg->path,
		    v);
	if (repat_conf_str(conf, "clock_offset", NULL) != NULL &&
	    !cfg->test_mode)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "%s: clock_offset: refused unless test_mode = yes",
		    cfg->path);
	rc = repat_conf_int(conf, "clock_offset", 0, -3650 * DAY_MS,
	    3650 * DAY_MS, true, &cfg->clock_offset_ms, errbuf);
	return rc;
}

int
broker_config_load(const char *path, struct broker_config *cfg, char *errbuf)
{
	repat_conf_t *conf;
	const char *unused;
	char why[REPAT_ERRBUF_LEN];
	int line, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	if ((conf = repat_conf_load(path, errbuf)) == NULL)
		return REPAT_EINVAL;
	cfg->path = repat_xstrdup(path);
	cfg->endpoint = repat_xstrdup(repat_conf_str(conf, "endpoint",
	    "tcp://127.0.0.1:7447"));
	cfg->database = need_path(conf, "database", "broker.db", errbuf, &rc);
	cfg->sign_key = need_path(conf, "sign_key", "sign.key", errbuf, &rc);
	cfg->sign_cert = need_path(conf, "sign_cert", "sign.crt", errbuf, &rc);
	cfg->curve_key = need_path(conf, "curve_key", "curve.key", errbuf, &rc);
	cfg->curve_public = need_path(conf, "curve_public", "curve.pub",
	    errbuf, &rc);
	cfg->trust = need_path(conf, "trust", "trust", errbuf, &rc);
	cfg->agreements = need_path(conf, "agreements", "agreements", errbuf,
	    &rc);
	cfg->passphrase_file = repat_conf_path_value(conf, "passphrase_file",
	    NULL);
	if (rc == 0 && repat_endpoint_check(cfg->endpoint, why) != 0)
		rc = repat_errf(errbuf, REPAT_EINVAL, "%s: endpoint: %s",
		    path, why);
	if (rc == 0)
		rc = load_modes(conf, cfg, errbuf);
	if (rc == 0)
		rc = load_ints(conf, cfg, errbuf);
	if (rc == 0 && (unused = repat_conf_unused(conf, &line)) != NULL)
		rc = repat_errf(errbuf, REPAT_EINVAL,
		    "%s:%d: %s: unknown key", path, line, unused);
	repat_conf_destroy(&conf);
	if (rc != 0)
		broker_config_clear(cfg);
	return rc;
}

void
broker_config_clear(struct broker_config *cfg)
{
	free(cfg->path);
	free(cfg->endpoint);
	free(cfg->database);
	free(cfg->sign_key);
	free(cfg->sign_cert);
	free(cfg->curve_key);
	free(cfg->curve_public);
	free(cfg->trust);
	free(cfg->agreements);
	free(cfg->passphrase_file);
	memset(cfg, 0, sizeof(*cfg));
}
