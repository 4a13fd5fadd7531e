/*
 * remind.c: overdue requests (DESIGN.md §7): "requests with a reply
 * deadline are tracked; overdue ones are reported and reminded".
 *
 * The SOP engine keeps each case's open requests and their due times
 * (struct repat_case deadlines, from the agreement's sop.deadlines). Every
 * REMIND_EVERY_MS the broker scans the cases; each request overdue and not
 * yet reminded gets one signed NOTICE_REMINDER in the stream of the agent
 * that owes the reply (waiting_on), an AUDIT_REMINDER entry, and a row in
 * the reminders table so it is reminded once. `repat-broker status
 * --overdue` lists what is overdue (remind_report).
 *
 * The scan reads only cases whose earliest open request is due (the
 * cases_due index, store.c): a case with nothing due costs nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "broker.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"

#define REMIND_EVERY_MS 5000

static bool
reminded(sqlite3 *db, const uint8_t id[16])
{
	sqlite3_stmt *st;
	bool r;

	st = repat_db_prepare(db, "SELECT 1 FROM reminders WHERE "
	    "request_id = ?1");
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r;
}

static int
remind_one(struct broker *b, const struct repat_case *c,
    const struct repat_case_deadline *d, uint64_t now)
{
	Repat__NoticeBody nb = REPAT__NOTICE_BODY__INIT;
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	ProtobufCBinaryData id = { 16, (uint8_t *)d->request_id };
	sqlite3_stmt *st;
	uint8_t case_hash[32];
	char hex[33];
	int rc;

	nb.kind = REPAT__NOTICE_KIND__NOTICE_REMINDER;
	nb.n_message_ids = 1;
	nb.message_ids = &id;
	nb.case_ref = (char *)c->case_ref;
	nb.has_due_ms = 1;
	nb.due_ms = d->due_ms;
	nb.has_awaited_type = 1;
	nb.awaited_type = d->awaited_type;
	if ((rc = deliver_notice(b, d->waiting_on, &nb)) != 0)
		return rc;
	audit_case_hash(&b->audit, c->case_ref, case_hash);
	e.kind = REPAT__AUDIT_KIND__AUDIT_REMINDER;
	e.has_message_id = 1;
	e.message_id = id;
	e.recipient = (char *)d->waiting_on;
	e.has_type = 1;
	e.type = d->awaited_type;
	e.has_case_hash = 1;
	e.case_hash.data = case_hash;
	e.case_hash.len = 32;
	if ((rc = broker_audit(b, &e)) != 0)
		return rc;
	st = repat_db_prepare(b->store.db, "INSERT INTO reminders(request_id,"
	    " waiting_on, due_ms, sent_ms) VALUES(?1,?2,?3,?4)");
	sqlite3_bind_blob(st, 1, d->request_id, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->waiting_on, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)d->due_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	repat_log_info("reminder to %s: reply to request %s overdue since "
	    "%llu", d->waiting_on, repat_hex(d->request_id, 16, hex),
	    (unsigned long long)d->due_ms);
	return REPAT_OK;
}

/* Calls fn for each overdue request of each stored case. */
static void
each_overdue(sqlite3 *db, uint64_t now,
    void (*fn)(const struct repat_case *, const struct repat_case_deadline *,
    void *), void *arg)
{
	struct repat_case_deadline out[REPAT_CASE_MAX_DEADLINES];
	struct repat_case *c = repat_xmalloc(sizeof(*c));
	char err[REPAT_ERRBUF_LEN];
	sqlite3_stmt *st;
	size_t n, i;

	/* through the cases_due index: only cases with a request due */
	st = repat_db_prepare(db, "SELECT record FROM cases INDEXED BY"
	    " cases_due WHERE next_due_ms <= ?1 ORDER BY case_ref");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (repat_case_decode(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), c, err) != 0)
			continue;
		n = repat_case_overdue(c, now, out, REPAT_CASE_MAX_DEADLINES);
		if (n > REPAT_CASE_MAX_DEADLINES)
			n = REPAT_CASE_MAX_DEADLINES;
		for (i = 0; i < n; i++)
			fn(c, &out[i], arg);
	}
	sqlite3_finalize(st);
	free(c);
}

struct sweep {
	struct broker *b;
	uint64_t now;
};

static void
sweep_one(const struct repat_case *c, const struct repat_case_deadline *d,
    void *arg)
{
	struct sweep *sw = arg;
	uint64_t mark;

	if (reminded(sw->b->store.db, d->request_id) ||
	    store_savepoint(&sw->b->store) != 0)
		return;
	mark = audit_mark(&sw->b->audit);
	if (remind_one(sw->b, c, d, sw->now) != 0) {
		store_rollback_to(&sw->b->store);
		audit_rewind(&sw->b->audit, mark);
	} else {
		store_release(&sw->b->store);
	}
}

void
remind_sweep(struct broker *b)
{
	struct sweep sw = { b, broker_now(b) };

	if (sw.now - b->last_remind_ms < REMIND_EVERY_MS)
		return;
	b->last_remind_ms = sw.now;
	each_overdue(b->store.db, sw.now, sweep_one, &sw);
}

/* ------------------------------------------------------------ report */

struct report {
	sqlite3 *db;
	uint64_t now;
	json_t *arr;		/* --json, else NULL */
	size_t n;
};

static void
report_one(const struct repat_case *c, const struct repat_case_deadline *d,
    void *arg)
{
	struct report *r = arg;
	const char *awaited = repat_message_type_name(d->awaited_type);
	char hex[33], due[32];
	time_t t = (time_t)(d->due_ms / 1000);
	struct tm tm;
	bool sent = reminded(r->db, d->request_id);

	repat_hex(d->request_id, 16, hex);
	gmtime_r(&t, &tm);
	strftime(due, sizeof(due), "%Y-%m-%dT%H:%MZ", &tm);
	r->n++;
	if (r->arr != NULL) {
		json_array_append_new(r->arr, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:I, s:I, s:b}", "case_ref", c->case_ref, "request_id",
		    hex, "waiting_on", d->waiting_on, "awaited",
		    awaited ? awaited : "?", "due_ms", (json_int_t)d->due_ms,
		    "overdue_days", (json_int_t)((r->now - d->due_ms) /
		    86400000), "reminded", sent));
		return;
	}
	printf("%-16s %-32s %-24s %-34s %s %5llu %s\n", c->case_ref, hex,
	    d->waiting_on, awaited ? awaited : "?", due,
	    (unsigned long long)((r->now - d->due_ms) / 86400000),
	    sent ? "yes" : "no");
}

int
remind_report(sqlite3 *db, uint64_t now, bool json)
{
	struct report r = { db, now, NULL, 0 };
	json_t *root;

	if (json)
		r.arr = json_array();
	else
		printf("%-16s %-32s %-24s %-34s %-17s %5s %s\n", "case",
		    "request", "waiting_on", "awaited", "due", "days",
		    "reminded");
	each_overdue(db, now, report_one, &r);
	if (json) {
		root = json_pack("{s:o, s:I}", "overdue", r.arr, "count",
		    (json_int_t)r.n);
		json_dumpf(root, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(root);
	} else {
		printf("%zu overdue\n", r.n);
	}
	return 0;
}
