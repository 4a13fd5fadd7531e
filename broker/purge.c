/*
 * purge.c: delivered payloads are deleted after the retention period of
 * the agreement their case was opened under (DESIGN.md §7, issue 5); the
 * audit log keeps an AUDIT_PURGED entry for each (issue 6).
 *
 * Only the sealed bytes go: the message row (ids, hash, times) stays, so
 * replay detection, receipts, proofs and `repat-broker check` still hold.
 * A message with a delivery still pending is never purged. The retention
 * comes from the case's agreement (retention_days), else from the
 * `retention` setting, and is looked up at every sweep, so a changed
 * agreement (SIGHUP) applies to the payloads already stored.
 *
 * The table held (store.c, schema 9) lists the payloads still held by
 * (agreement, accepted_ms, message_id). A pass walks it one agreement at
 * a time and reads, in each, only the rows past that agreement's
 * retention, oldest first, with a keyset cursor (struct purge_cursor):
 * a row whose delivery is still pending (queue, by primary key) is
 * passed over and looked at again in the next pass, so neither payloads
 * kept longer nor pending ones hold back those after them. A sweep looks
 * at PURGE_LOOK rows and reads PURGE_BATCH payloads at most, so it never
 * holds the loop for long; one cut short goes on PURGE_AGAIN_MS later,
 * and a pass that reached the end starts again after PURGE_EVERY_MS.
 *
 * Payloads held since before schema 9 are filed under HELD_UNFILED: their
 * agreement is in the case record. Each is read once it is delivered and
 * past the shortest retention in force (nothing younger can be due):
 * purged if due under its case's agreement, else filed under it.
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
#define PURGE_AGAIN_MS	1000	/* after a sweep cut short by its bounds */
#define PURGE_LOOK	1024	/* rows and groups looked at per sweep */
#define PURGE_BATCH	64	/* payloads read (purged or filed) per sweep:
				   about 25 ms of the loop on a loaded 2-core
				   machine */
#define PURGE_ROWS	128	/* rows fetched at a time */
#define DAY_MS		(24ULL * 3600 * 1000)

/* A row of held past its group's retention. */
struct row {
	int64_t accepted_ms;
	uint8_t id[16];			/* message_id */
	bool pending;			/* its delivery is not acked yet */
};

/* One sweep: its statements and what it did. */
struct sweep {
	struct broker *b;
	uint64_t now;
	sqlite3_stmt *first;		/* the first group */
	sqlite3_stmt *next;		/* the group after one */
	sqlite3_stmt *rows;		/* a group's rows after a key */
	sqlite3_stmt *envelope;		/* a payload */
	sqlite3_stmt *clear;		/* messages.envelope = NULL */
	sqlite3_stmt *unhold;		/* the held row goes */
	sqlite3_stmt *file;		/* an unfiled row is filed */
	size_t looked;			/* rows and groups looked at */
	size_t read;			/* payloads read */
	size_t purged;
	size_t filed;
};

static const char *const sweep_sql[] = {
	"SELECT min(agreement) FROM held",
	"SELECT min(agreement) FROM held WHERE agreement > ?1",
	"SELECT h.accepted_ms, h.message_id, EXISTS(SELECT 1 FROM queue q"
	" WHERE q.recipient = h.recipient AND q.seq = h.seq AND q.state = 0)"
	" FROM held h WHERE h.agreement = ?1"
	" AND (h.accepted_ms, h.message_id) > (?2, ?3) AND h.accepted_ms <= ?4"
	" ORDER BY h.accepted_ms, h.message_id LIMIT ?5",
	"SELECT envelope FROM messages WHERE id = ?1",
	"UPDATE messages SET envelope = NULL WHERE id = ?1",
	"DELETE FROM held WHERE agreement = ?1 AND accepted_ms = ?2"
	" AND message_id = ?3",
	"UPDATE held SET agreement = ?4 WHERE agreement = ?1"
	" AND accepted_ms = ?2 AND message_id = ?3",
};

static void
sweep_open(struct sweep *s, struct broker *b, uint64_t now)
{
	sqlite3_stmt **st[] = { &s->first, &s->next, &s->rows, &s->envelope,
	    &s->clear, &s->unhold, &s->file };
	size_t i;

	memset(s, 0, sizeof(*s));
	s->b = b;
	s->now = now;
	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		*st[i] = repat_db_prepare(b->store.db, sweep_sql[i]);
}

static void
sweep_close(struct sweep *s)
{
	sqlite3_finalize(s->first);
	sqlite3_finalize(s->next);
	sqlite3_finalize(s->rows);
	sqlite3_finalize(s->envelope);
	sqlite3_finalize(s->clear);
	sqlite3_finalize(s->unhold);
	sqlite3_finalize(s->file);
}

/* The retention under agreement id; "" or not loaded: the setting. */
static uint64_t
retention_of(struct broker *b, const char *id)
{
	const struct repat_agreement *a = NULL;

	if (id[0] != '\0' && b->agreements != NULL)
		a = repat_agreements_find(b->agreements, id);
	if (a != NULL && a->retention_days > 0)
		return a->retention_days * DAY_MS;
	return (uint64_t)b->cfg.retention_ms;
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

/* The agreement case_ref was opened under, "" for none. */
static void
case_agreement(struct broker *b, const char *case_ref,
    char id[REPAT_AGREEMENT_MAX_ID + 1])
{
	struct repat_case *c = repat_xmalloc(sizeof(*c));

	id[0] = '\0';
	if (store_case_get(&b->store, case_ref, c) == 0)
		snprintf(id, REPAT_AGREEMENT_MAX_ID + 1, "%s", c->agreement_id);
	free(c);
}

/* Moves c to the next group of this pass; false after the last. */
static bool
next_group(struct sweep *s, struct purge_cursor *c)
{
	sqlite3_stmt *st = c->named ? s->next : s->first;
	const char *g;
	bool found;

	sqlite3_reset(st);
	if (c->named)
		sqlite3_bind_text(st, 1, c->agreement, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(st) == SQLITE_ROW &&
	    (g = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    strlen(g) <= REPAT_AGREEMENT_MAX_ID;
	if (found) {
		memset(c, 0, sizeof(*c));
		memcpy(c->agreement, g, strlen(g));
		c->named = true;
		c->in_group = true;
		c->accepted_ms = INT64_MIN;
	}
	sqlite3_reset(st);
	return found;
}

/*
 * Up to max rows of c's group after c's key and accepted at cutoff or
 * before, oldest first, into r.
 */
static size_t
fetch(struct sweep *s, const struct purge_cursor *c, int64_t cutoff,
    struct row *r, size_t max)
{
	sqlite3_stmt *st = s->rows;
	size_t n = 0;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, c->agreement, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->accepted_ms);
	sqlite3_bind_blob(st, 3, c->message_id, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, cutoff);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != 16)
			continue;
		r[n].accepted_ms = sqlite3_column_int64(st, 0);
		memcpy(r[n].id, sqlite3_column_blob(st, 1), 16);
		r[n].pending = sqlite3_column_int(st, 2) != 0;
		n++;
	}
	sqlite3_reset(st);
	return n;
}

/* Binds (agreement, accepted_ms, message_id) of a held row. */
static void
bind_held(sqlite3_stmt *st, const char *group, const struct row *r)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->accepted_ms);
	sqlite3_bind_blob(st, 3, r->id, 16, SQLITE_STATIC);
}

static int
purge_one(struct sweep *s, const char *group, const struct row *r,
    const struct repat_verified *v)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	uint8_t case_hash[32];
	int rc;

	sqlite3_reset(s->clear);
	sqlite3_bind_blob(s->clear, 1, r->id, 16, SQLITE_STATIC);
	if ((rc = repat_db_step_done(s->clear)) != 0)
		return rc;
	bind_held(s->unhold, group, r);
	if ((rc = repat_db_step_done(s->unhold)) != 0)
		return rc;
	audit_case_hash(&s->b->audit, v->header->case_ref, case_hash);
	e.kind = REPAT__AUDIT_KIND__AUDIT_PURGED;
	e.has_message_id = 1;
	e.message_id.data = (uint8_t *)r->id;
	e.message_id.len = 16;
	e.has_type = 1;
	e.type = v->header->type;
	e.has_case_hash = 1;
	e.case_hash.data = case_hash;
	e.case_hash.len = 32;
	e.has_content_hash = 1;
	e.content_hash.data = (uint8_t *)v->hash;
	e.content_hash.len = 32;
	return broker_audit(s->b, &e);
}

/*
 * An unfiled row: purged when due under its case's agreement, else filed
 * under that agreement (*filed), where the sweep finds it once it is due.
 */
static int
purge_or_file(struct sweep *s, const struct row *r,
    const struct repat_verified *v, bool *filed)
{
	char id[REPAT_AGREEMENT_MAX_ID + 1];

	case_agreement(s->b, v->header->case_ref, id);
	*filed = (uint64_t)r->accepted_ms + retention_of(s->b, id) > s->now;
	if (!*filed)
		return purge_one(s, HELD_UNFILED, r, v);
	bind_held(s->file, HELD_UNFILED, r);
	sqlite3_bind_text(s->file, 4, id, -1, SQLITE_STATIC);
	return repat_db_step_done(s->file);
}

/*
 * Reads the payload of a delivered row of group and purges it (or files
 * it), under a savepoint.
 */
static void
take(struct sweep *s, const char *group, const struct row *r)
{
	struct repat_verified v;
	char err[REPAT_ERRBUF_LEN];
	uint64_t mark;
	bool filed = false;
	int rc = REPAT_ENOENT;

	s->read++;
	memset(&v, 0, sizeof(v));
	sqlite3_reset(s->envelope);
	sqlite3_bind_blob(s->envelope, 1, r->id, 16, SQLITE_STATIC);
	if (sqlite3_step(s->envelope) == SQLITE_ROW &&
	    sqlite3_column_type(s->envelope, 0) == SQLITE_BLOB)
		rc = repat_envelope_parse(sqlite3_column_blob(s->envelope, 0),
		    (size_t)sqlite3_column_bytes(s->envelope, 0), &v, err);
	sqlite3_reset(s->envelope);
	/*
	 * Passed over, as before schema 9: `repat-broker check` reports a
	 * held row without its payload, and every stored envelope parsed
	 * when it was accepted.
	 */
	if (rc != 0 || store_savepoint(&s->b->store) != 0)
		goto out;
	mark = audit_mark(&s->b->audit);
	if (strcmp(group, HELD_UNFILED) == 0)
		rc = purge_or_file(s, r, &v, &filed);
	else
		rc = purge_one(s, group, r, &v);
	if (rc != 0) {
		store_rollback_to(&s->b->store);
		audit_rewind(&s->b->audit, mark);
		goto out;
	}
	store_release(&s->b->store);
	if (filed)
		s->filed++;
	else
		s->purged++;
out:
	repat_verified_clear(&v);
}

/*
 * Reads c's group from c's key on, within the sweep's bounds, moving c
 * past every row looked at; false when the group has no more rows due.
 */
static bool
sweep_group(struct sweep *s, struct purge_cursor *c)
{
	struct row r[PURGE_ROWS];
	uint64_t keep;
	size_t i, n, want;

	keep = strcmp(c->agreement, HELD_UNFILED) == 0 ?
	    shortest_retention(s->b) : retention_of(s->b, c->agreement);
	if (s->now < keep)
		return false;
	want = PURGE_LOOK - s->looked;
	if (want > PURGE_ROWS)
		want = PURGE_ROWS;
	n = fetch(s, c, (int64_t)(s->now - keep), r, want);
	for (i = 0; i < n; i++) {
		if (s->read >= PURGE_BATCH)
			return true;
		s->looked++;
		c->accepted_ms = r[i].accepted_ms;
		memcpy(c->message_id, r[i].id, 16);
		if (!r[i].pending)
			take(s, c->agreement, &r[i]);
	}
	return n == want;
}

void
purge_sweep(struct broker *b)
{
	struct purge_cursor *c = &b->purge;
	struct sweep s;
	uint64_t now = broker_now(b);
	bool end = false;

	if (now - b->last_purge_ms < (b->purge_again ? PURGE_AGAIN_MS :
	    PURGE_EVERY_MS))
		return;
	b->last_purge_ms = now;
	sweep_open(&s, b, now);
	while (s.looked < PURGE_LOOK && s.read < PURGE_BATCH) {
		if (!c->in_group) {
			if (!next_group(&s, c)) {
				end = true;
				break;
			}
			s.looked++;
		}
		c->in_group = sweep_group(&s, c);
	}
	sweep_close(&s);
	b->purge_again = !end;
	if (end)
		memset(c, 0, sizeof(*c));
	if (s.purged > 0)
		repat_log_info("purged %zu delivered payloads past their "
		    "retention period", s.purged);
	if (s.filed > 0)
		repat_log_info("filed %zu payloads held since before schema 9 "
		    "under their case's agreement", s.filed);
}

void
purge_restart(struct broker *b)
{
	memset(&b->purge, 0, sizeof(b->purge));
	b->purge_again = true;
}
