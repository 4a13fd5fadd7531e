/*
 * purge.c: delivered payloads are deleted after the retention period of
 * the agreement their case was opened under (DESIGN.md §7, issue 5); the
 * audit log keeps an AUDIT_PURGED entry for each (issue 6).
 *
 * Only the sealed bytes go: the message row (ids, hash, times) stays, so
 * replay detection, receipts, proofs and `repat-broker check` still hold.
 * A message with a delivery still pending is never purged. The retention
 * comes from the case's agreement (retention_days), else from the
 * `retention` setting. Every PURGE_EVERY_MS the oldest held payloads past
 * the shortest retention are examined, at most PURGE_BATCH per sweep so a
 * sweep never holds the loop for long; the partial index messages_held
 * makes finding them cheap.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/agreement.h"
#include "repat/db.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/sop.h"

#define PURGE_EVERY_MS	60000
#define PURGE_BATCH	256
#define DAY_MS		(24ULL * 3600 * 1000)

/* The retention of the case's agreement, else the configured default. */
static uint64_t
retention_of(struct broker *b, const char *case_ref)
{
	struct repat_case *c = repat_xmalloc(sizeof(*c));
	const struct repat_agreement *a = NULL;
	char err[REPAT_ERRBUF_LEN];
	sqlite3_stmt *st;
	uint64_t ms = (uint64_t)b->cfg.retention_ms;

	st = repat_db_prepare(b->store.db, "SELECT record FROM cases"
	    " WHERE case_ref = ?1");
	sqlite3_bind_text(st, 1, case_ref, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    repat_case_decode(sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), c, err) == 0 &&
	    b->agreements != NULL && c->agreement_id[0] != '\0')
		a = repat_agreements_find(b->agreements, c->agreement_id);
	sqlite3_finalize(st);
	free(c);
	if (a != NULL && a->retention_days > 0)
		ms = a->retention_days * DAY_MS;
	return ms;
}

/* The shortest retention in force: nothing younger can be due. */
static uint64_t
shortest_retention(struct broker *b)
{
	const struct repat_agreement *a;
	uint64_t ms = (uint64_t)b->cfg.retention_ms;
	size_t i, n;

	n = b->agreements ? repat_agreements_count(b->agreements) : 0;
	for (i = 0; i < n; i++) {
		a = repat_agreements_get(b->agreements, i);
		if (a->retention_days > 0 && a->retention_days * DAY_MS < ms)
			ms = a->retention_days * DAY_MS;
	}
	return ms;
}

static int
purge_one(struct broker *b, const uint8_t id[16], const struct
    repat_verified *v)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	sqlite3_stmt *st;
	uint8_t case_hash[32];
	int rc;

	st = repat_db_prepare(b->store.db, "UPDATE messages SET envelope ="
	    " NULL WHERE id = ?1");
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	audit_case_hash(&b->audit, v->header->case_ref, case_hash);
	e.kind = REPAT__AUDIT_KIND__AUDIT_PURGED;
	e.has_message_id = 1;
	e.message_id.data = (uint8_t *)id;
	e.message_id.len = 16;
	e.has_type = 1;
	e.type = v->header->type;
	e.has_case_hash = 1;
	e.case_hash.data = case_hash;
	e.case_hash.len = 32;
	e.has_content_hash = 1;
	e.content_hash.data = (uint8_t *)v->hash;
	e.content_hash.len = 32;
	return broker_audit(b, &e);
}

void
purge_sweep(struct broker *b)
{
	struct repat_verified v;
	sqlite3_stmt *st;
	char err[REPAT_ERRBUF_LEN];
	uint64_t now = broker_now(b), cutoff, mark;
	uint8_t id[16];
	size_t purged = 0;

	if (now - b->last_purge_ms < PURGE_EVERY_MS)
		return;
	b->last_purge_ms = now;
	if (now < shortest_retention(b))
		return;
	cutoff = now - shortest_retention(b);
	st = repat_db_prepare(b->store.db, "SELECT m.id, m.envelope,"
	    " m.accepted_ms FROM messages m INDEXED BY messages_held"
	    " WHERE m.envelope IS NOT NULL AND m.accepted_ms <= ?1"
	    " AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id"
	    " AND q.state = 0) ORDER BY m.accepted_ms LIMIT ?2");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	sqlite3_bind_int(st, 2, PURGE_BATCH);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 16 ||
		    repat_envelope_parse(sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), &v, err) != 0) {
			repat_verified_clear(&v);
			continue;
		}
		memcpy(id, sqlite3_column_blob(st, 0), 16);
		if ((uint64_t)sqlite3_column_int64(st, 2) +
		    retention_of(b, v.header->case_ref) <= now &&
		    store_savepoint(&b->store) == 0) {
			mark = audit_mark(&b->audit);
			if (purge_one(b, id, &v) == 0) {
				store_release(&b->store);
				purged++;
			} else {
				store_rollback_to(&b->store);
				audit_rewind(&b->audit, mark);
			}
		}
		repat_verified_clear(&v);
	}
	sqlite3_finalize(st);
	if (purged > 0)
		repat_log_info("purged %zu delivered payloads past their "
		    "retention period", purged);
}
