/*
 * db.c: opening repat's SQLite files the one safe way, and migrations
 * (see repat/db.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"

int
repat_db_err(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_FULL:
		return REPAT_EFULL;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return REPAT_ECORRUPT;
	default:
		return REPAT_EDB;
	}
}

int
repat_db_fail(sqlite3 *db, int sqlite_rc, char *errbuf)
{
	const char *file = sqlite3_db_filename(db, "main");
	const char *hint;

	switch (sqlite_rc & 0xff) {
	case SQLITE_FULL:
		hint = " (the disk is full)";
		break;
	case SQLITE_IOERR:
		hint = " (a read or write failed: is the disk full or failing?)";
		break;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		hint = " (check the permissions of the file and its folder)";
		break;
	default:
		hint = "";
	}
	return repat_errf(errbuf, repat_db_err(sqlite_rc), "%s: %s%s",
	    file != NULL && file[0] != '\0' ? file : "database",
	    sqlite3_errmsg(db), hint);
}

int
repat_db_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? REPAT_OK : repat_db_err(rc);
}

int
repat_db_exec(sqlite3 *db, const char *sql, char *errbuf)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	sqlite3_free(msg);	/* the same as sqlite3_errmsg */
	return rc == SQLITE_OK ? REPAT_OK : repat_db_fail(db, rc, errbuf);
}

sqlite3_stmt *
repat_db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK)
		repat_fatalx("prepare \"%.60s\": %s", sql, sqlite3_errmsg(db));
	return st;
}

int
repat_db_user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = REPAT_EDB;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return REPAT_EDB;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
repat_db_integrity_check(sqlite3 *db, char *errbuf)
{
	sqlite3_stmt *st;
	const char *t;
	int rc = REPAT_OK;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) !=
	    SQLITE_OK)
		return repat_errf(errbuf, REPAT_EDB, "integrity_check: %s",
		    sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = repat_errf(errbuf, REPAT_ECORRUPT, "integrity_check: %s",
		    sqlite3_errmsg(db));
	} else {
		t = (const char *)sqlite3_column_text(st, 0);
		if (t == NULL || strcmp(t, "ok") != 0)
			rc = repat_errf(errbuf, REPAT_ECORRUPT,
			    "integrity_check: %s", t ? t : "no answer");
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * SQLite creates files with the process umask; create it ourselves with
 * 0600 first so the database is never readable by others, not even for
 * the moment between creation and a chmod.
 */
static int
create_private(const char *path, char *errbuf)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return repat_errf(errbuf, REPAT_EIO, "%s: %s", path,
		    strerror(errno));
	close(fd);
	return REPAT_OK;
}

static int
migrate(sqlite3 *db, const char *path,
    const struct repat_db_migration *migrations, int n, char *errbuf)
{
	char sql[64], why[REPAT_ERRBUF_LEN] = "";
	int v, rc = REPAT_OK;

	v = repat_db_user_version(db);
	if (v < 0)
		return repat_errf(errbuf, REPAT_EDB, "%s: %s", path,
		    sqlite3_errmsg(db));
	if (v > n)
		return repat_errf(errbuf, REPAT_ECORRUPT,
		    "%s: schema version %d is newer than this program's %d",
		    path, v, n);
	while (v < n) {
		if ((rc = repat_db_exec(db, "BEGIN IMMEDIATE", why)) != 0)
			break;
		/*
		 * Read again under the write lock: another process opening the
		 * same new file may have migrated it meanwhile (two commands
		 * run at once on a fresh agent folder).
		 */
		if ((v = repat_db_user_version(db)) < 0) {
			rc = repat_errf(why, REPAT_EDB, "%s",
			    sqlite3_errmsg(db));
			break;
		}
		if (v >= n)
			return repat_db_exec(db, "COMMIT", errbuf);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((rc = repat_db_exec(db, migrations[v].sql, why)) != 0 ||
		    (rc = repat_db_exec(db, sql, why)) != 0 ||
		    (rc = repat_db_exec(db, "COMMIT", why)) != 0)
			break;
		v++;
	}
	if (v >= n)
		return REPAT_OK;
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return repat_errf(errbuf, rc, "cannot bring the schema to version %d: "
	    "%s", n, why);
}

int
repat_db_open(const char *path, const struct repat_db_migration *migrations,
    int n, int flags, sqlite3 **out, char *errbuf)
{
	sqlite3 *db = NULL;
	int oflags, rc;
	struct stat st;

	*out = NULL;
	if (flags & REPAT_DB_READONLY) {
		oflags = SQLITE_OPEN_READONLY;
	} else {
		oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
		if (stat(path, &st) != 0 &&
		    (rc = create_private(path, errbuf)) != 0)
			return rc;
	}
	oflags |= SQLITE_OPEN_NOMUTEX;
	if ((rc = sqlite3_open_v2(path, &db, oflags, NULL)) != SQLITE_OK) {
		repat_errf(errbuf, repat_db_err(rc), "%s: %s", path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		return repat_db_err(rc);
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_extended_result_codes(db, 1);
	if (!(flags & REPAT_DB_READONLY) &&
	    (rc = repat_db_exec(db, "PRAGMA journal_mode=WAL", errbuf)) != 0)
		goto fail;
	if ((rc = repat_db_exec(db, "PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON;"
	    /* savepoint journals in memory, not in /var/tmp files */
	    "PRAGMA temp_store=MEMORY", errbuf)) != 0)
		goto fail;
	if ((flags & REPAT_DB_NO_AUTOCHECKPOINT) &&
	    (rc = repat_db_exec(db, "PRAGMA wal_autocheckpoint=0", errbuf)) != 0)
		goto fail;
	if (flags & REPAT_DB_READONLY) {
		rc = repat_db_user_version(db);
		if (rc < 0) {
			rc = repat_errf(errbuf, REPAT_EDB, "%s: %s", path,
			    sqlite3_errmsg(db));
			goto fail;
		}
		if (rc != n) {
			rc = repat_errf(errbuf, REPAT_ECORRUPT,
			    "%s: schema version %d, this program knows %d",
			    path, rc, n);
			goto fail;
		}
	} else if ((rc = migrate(db, path, migrations, n, errbuf)) != 0) {
		goto fail;
	}
	*out = db;
	return REPAT_OK;
fail:
	sqlite3_close_v2(db);
	return rc;
}
