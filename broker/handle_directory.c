/*
 * handle_directory.c: the certificate pairs of every registered agent.
 * The broker is not trusted for them: agents verify each entry against
 * their own pinned bundle and CRLs before sealing to it (DESIGN.md §3).
 * The answer is capped to what fits in one frame.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/mem.h"

int
handle_directory(struct broker *b, struct session *s)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Directory d = REPAT__DIRECTORY__INIT;
	Repat__DirectoryEntry *e = NULL, **ptrs = NULL;
	ProtobufCBinaryData *certs = NULL;
	sqlite3_stmt *st = store_stmt(&b->store, ST_AGENT_ALL);
	size_t n = 0, cap = 0, total = 0, i, l0, l1;

	while (sqlite3_step(st) == SQLITE_ROW) {
		l0 = (size_t)sqlite3_column_bytes(st, 0);
		l1 = (size_t)sqlite3_column_bytes(st, 1);
		if (total + l0 + l1 + 16 > (size_t)b->cfg.max_frame - 1024)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			e = repat_xrealloc(e, cap * sizeof(*e));
			certs = repat_xrealloc(certs, cap * 2 * sizeof(*certs));
		}
		certs[2 * n].len = l0;
		certs[2 * n].data = repat_xmalloc(l0 + 1);
		memcpy(certs[2 * n].data, sqlite3_column_blob(st, 0), l0);
		certs[2 * n + 1].len = l1;
		certs[2 * n + 1].data = repat_xmalloc(l1 + 1);
		memcpy(certs[2 * n + 1].data, sqlite3_column_blob(st, 1), l1);
		total += l0 + l1 + 16;
		n++;
	}
	sqlite3_reset(st);
	ptrs = repat_xcalloc(n + 1, sizeof(*ptrs));
	for (i = 0; i < n; i++) {
		repat__directory_entry__init(&e[i]);
		e[i].n_certificates = 2;
		e[i].certificates = &certs[2 * i];
		ptrs[i] = &e[i];
	}
	d.n_entries = n;
	d.entries = ptrs;
	f.command_case = REPAT__FRAME__COMMAND_DIRECTORY;
	f.directory = &d;
	broker_queue_frame(b, s, &f);
	for (i = 0; i < 2 * n; i++)
		free(certs[i].data);
	free(certs);
	free(e);
	free(ptrs);
	return 0;
}
