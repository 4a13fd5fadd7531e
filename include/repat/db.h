/*
 * db.h: SQLite helpers shared by the broker's store and the agent's local
 * store (DESIGN.md §9).
 *
 * Every repat database is opened the same way: the file created with mode
 * 0600, WAL journal, synchronous=FULL (a COMMIT that returned is on disk),
 * foreign keys on, a busy timeout, and its schema brought to the current
 * user_version by numbered migrations, each in its own transaction. A
 * database newer than the code is refused (REPAT_ECORRUPT), so an old
 * binary never writes into a schema it does not know.
 *
 * Ownership: the caller owns the returned sqlite3 * (sqlite3_close_v2).
 * A connection is used by one thread at a time.
 */
#ifndef REPAT_DB_H
#define REPAT_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

/* One schema step: the SQL that takes user_version from i to i + 1. */
struct repat_db_migration {
	const char *sql;	/* may hold several statements */
};

/* Flags for repat_db_open(). */
#define REPAT_DB_READONLY	0x1	/* tools: no writes, no migration */
#define REPAT_DB_NO_AUTOCHECKPOINT 0x2	/* wal_autocheckpoint=0 */

/*
 * Opens (creating when absent, unless READONLY) path and runs
 * migrations[user_version .. n) in order. On success *out is the caller's.
 * REPAT_EDB with errbuf naming the file, REPAT_ECORRUPT when the file's
 * user_version is newer than n.
 */
int repat_db_open(const char *path, const struct repat_db_migration *migrations,
    int n, int flags, sqlite3 **out, char *errbuf);

/* Runs sql (no results); on failure, repat_db_fail's code and errbuf. */
int repat_db_exec(sqlite3 *db, const char *sql, char *errbuf);

/* Prepares sql or aborts: the SQL is ours, a failure is a programmer error. */
sqlite3_stmt *repat_db_prepare(sqlite3 *db, const char *sql);

/* The database's user_version, or a negative REPAT_E*. */
int repat_db_user_version(sqlite3 *db);

/*
 * PRAGMA integrity_check: 0 when "ok", REPAT_ECORRUPT with the first
 * problem in errbuf.
 */
int repat_db_integrity_check(sqlite3 *db, char *errbuf);

/* REPAT_EFULL for SQLITE_FULL, REPAT_EDB for other SQLite errors. */
int repat_db_err(int sqlite_rc);
/*
 * Sets errbuf to what SQLite said about db's last failure (sqlite_rc),
 * with the file's name and, for a full, failing or read-only disk, what
 * to look at; returns repat_db_err(sqlite_rc).
 */
int repat_db_fail(sqlite3 *db, int sqlite_rc, char *errbuf);
/*
 * Steps st, a statement that returns no row, and resets it (bindings
 * stay): REPAT_OK, or repat_db_err of what SQLite said.
 */
int repat_db_step_done(sqlite3_stmt *st);

#endif
