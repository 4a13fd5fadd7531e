/*
 * ops.c: the operator's subcommands of repat-broker.
 *
 *   register -c FILE DIR|SIGN.crt ENC.crt ...
 *            imports agent certificate pairs (verified against the trust
 *            bundle) so others can write to them before they connect;
 *            needs the broker stopped (it holds the database lock);
 *   status   -c FILE [--json] [--overdue]
 *            agents, queue depth per recipient, age of the oldest
 *            undelivered message, dead letters; one short read
 *            transaction, safe while the broker runs; --overdue lists
 *            the requests past their reply deadline instead;
 *
 * `check` is in check.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "broker.h"
#include "repat/pki.h"
#include "repat/clock.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"

#define CONNECTED_MS 60000

int
broker_lock(const char *database, int *fd, char *errbuf)
{
	char *path = repat_xasprintf("%s.lock", database);

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		repat_errf(errbuf, REPAT_EIO, "%s: %s", path, strerror(errno));
		free(path);
		return REPAT_EIO;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		repat_errf(errbuf, REPAT_EPERM, "%s: another repat-broker "
		    "holds this database", path);
		close(*fd);
		*fd = -1;
		free(path);
		return REPAT_EPERM;
	}
	free(path);
	return REPAT_OK;
}

/* Reads a certificate pair from args: a folder, or two files. */
static int
read_pair(char **argv, int *used, X509 **sc, X509 **ec, char *err)
{
	struct stat st;
	char *p1, *p2;
	int rc;

	if (stat(argv[0], &st) == 0 && S_ISDIR(st.st_mode)) {
		p1 = repat_xasprintf("%s/sign.crt", argv[0]);
		p2 = repat_xasprintf("%s/enc.crt", argv[0]);
		*used = 1;
	} else if (argv[1] != NULL) {
		p1 = repat_xstrdup(argv[0]);
		p2 = repat_xstrdup(argv[1]);
		*used = 2;
	} else {
		return repat_errf(err, REPAT_EUSAGE, "%s: give a folder or "
		    "a signing and an encryption certificate", argv[0]);
	}
	rc = repat_cert_load(p1, sc, err);
	if (rc == 0 && (rc = repat_cert_load(p2, ec, err)) != 0) {
		X509_free(*sc);
		*sc = NULL;
	}
	free(p1);
	free(p2);
	return rc;
}

static int
register_one(struct broker *b, X509 *sc, X509 *ec, char *err)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	struct repat_identity id;
	uint8_t *d1 = NULL, *d2 = NULL, pub[32];
	size_t l1, l2;
	bool created;
	int rc;

	if ((rc = repat_trust_verify_pair(b->trust, sc, ec, repat_now_ms(), &id,
	    err)) != 0)
		return rc;
	if (repat_cert_to_der(sc, &d1, &l1) != 0 ||
	    repat_cert_to_der(ec, &d2, &l2) != 0 ||
	    repat_cert_public_raw(sc, pub) != 0) {
		rc = repat_errf(err, REPAT_ECERT, "cannot encode certificates");
		goto out;
	}
	rc = store_agent_put(&b->store, &id, d1, l1, d2, l2, pub, repat_now_ms(),
	    &created);
	if (rc == 0) {
		e.kind = REPAT__AUDIT_KIND__AUDIT_AGENT_REGISTERED;
		e.agent_id = id.agent_id;
		e.detail = "imported by the operator";
		rc = audit_append(&b->audit, &b->store, &e, repat_now_ms());
	}
	if (rc != 0)
		repat_errf(err, rc, "%s: cannot store", id.agent_id);
	else
		printf("%s %s\n", created ? "registered" : "updated",
		    id.agent_id);
out:
	free(d1);
	free(d2);
	return rc;
}

int
ops_register(const char *conf, int argc, char **argv)
{
	struct broker b;
	char err[REPAT_ERRBUF_LEN];
	X509 *sc, *ec;
	int i, used = 1, rc, fd = -1;

	memset(&b, 0, sizeof(b));
	if ((rc = broker_config_load(conf, &b.cfg, err)) != 0 ||
	    (rc = broker_lock(b.cfg.database, &fd, err)) != 0 ||
	    (b.trust = repat_trust_load(b.cfg.trust, err)) == NULL ||
	    (rc = store_open(&b.store, b.cfg.database, err)) != 0 ||
	    (rc = audit_open(&b.audit, &b.store, err)) != 0 ||
	    (rc = store_begin(&b.store)) != 0)
		goto out;
	for (i = 0; i < argc; i += used) {
		if ((rc = read_pair(argv + i, &used, &sc, &ec, err)) != 0)
			break;
		rc = register_one(&b, sc, ec, err);
		X509_free(sc);
		X509_free(ec);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = store_commit(&b.store, err);
	else
		store_rollback(&b.store);
out:
	if (rc != 0 || b.trust == NULL)
		fprintf(stderr, "repat-broker register: %s\n", err);
	audit_close(&b.audit);
	store_close(&b.store);
	repat_trust_destroy(&b.trust);
	broker_config_clear(&b.cfg);
	if (fd >= 0)
		close(fd);
	return rc == 0 && argc > 0 ? 0 : 1;
}

/* ------------------------------------------------------------ status */

static const char *status_sql =
    "SELECT a.id, a.last_seen_ms, a.next_seq - 1, a.acked_seq,"
    " (SELECT count(*) FROM queue q WHERE q.recipient = a.id"
    "   AND q.seq > a.acked_seq),"
    " (SELECT min(q.accepted_ms) FROM queue q WHERE q.recipient = a.id"
    "   AND q.seq > a.acked_seq AND q.kind = 0),"
    " (SELECT count(*) FROM queue q WHERE q.recipient = a.id"
    "   AND q.kind = 1 AND q.message_id IS NOT NULL)"
    " FROM agents a ORDER BY a.id";

int
ops_status(const char *conf, bool json, bool overdue)
{
	struct broker_config cfg;
	char err[REPAT_ERRBUF_LEN];
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	json_t *root = NULL, *arr = NULL, *o;
	uint64_t now = repat_now_ms(), seen, oldest;
	long long depth, dead, total = 0, dead_total = 0;
	int rc, connected;

	if ((rc = broker_config_load(conf, &cfg, err)) != 0) {
		fprintf(stderr, "repat-broker status: %s\n", err);
		return 1;
	}
	rc = repat_db_open(cfg.database, NULL, BROKER_SCHEMA_VERSION,
	    REPAT_DB_READONLY, &db, err);
	if (rc != 0) {
		fprintf(stderr, "repat-broker status: %s\n", err);
		broker_config_clear(&cfg);
		return 1;
	}
	(void)sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (overdue) {
		rc = remind_report(db, now + (uint64_t)cfg.clock_offset_ms,
		    json);
		(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close_v2(db);
		broker_config_clear(&cfg);
		return rc == 0 ? 0 : 1;
	}
	st = repat_db_prepare(db, status_sql);
	if (json) {
		root = json_object();
		arr = json_array();
	} else {
		printf("%-28s %-9s %10s %10s %8s %12s %6s\n", "agent",
		    "connected", "last_seq", "acked", "queued",
		    "oldest_age_s", "dead");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		seen = (uint64_t)sqlite3_column_int64(st, 1);
		connected = seen != 0 && now - seen < CONNECTED_MS;
		depth = sqlite3_column_int64(st, 4);
		oldest = (uint64_t)sqlite3_column_int64(st, 5);
		dead = sqlite3_column_int64(st, 6);
		total += depth;
		dead_total += dead;
		if (json) {
			o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}",
			    "agent", (const char *)sqlite3_column_text(st, 0),
			    "connected", connected,
			    "last_seq", (json_int_t)sqlite3_column_int64(st, 2),
			    "acked_seq", (json_int_t)sqlite3_column_int64(st, 3),
			    "queued", (json_int_t)depth,
			    "oldest_age_ms", (json_int_t)(oldest ? now - oldest : 0),
			    "dead_letters", (json_int_t)dead);
			json_array_append_new(arr, o);
		} else {
			printf("%-28s %-9s %10lld %10lld %8lld %12llu %6lld\n",
			    (const char *)sqlite3_column_text(st, 0),
			    connected ? "yes" : "no",
			    sqlite3_column_int64(st, 2),
			    sqlite3_column_int64(st, 3), depth,
			    (unsigned long long)(oldest ? (now - oldest) / 1000 :
			    0), dead);
		}
	}
	sqlite3_finalize(st);
	(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (json) {
		json_object_set_new(root, "agents", arr);
		json_object_set_new(root, "queued", json_integer(total));
		json_object_set_new(root, "dead_letters",
		    json_integer(dead_total));
		json_dumpf(root, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(root);
	} else {
		printf("total queued %lld, dead letters %lld\n", total,
		    dead_total);
	}
	sqlite3_close_v2(db);
	broker_config_clear(&cfg);
	return 0;
}
