/*
 * handle_directory.c: the CRLs the broker holds and the certificate pairs
 * of every registered agent. The broker is not trusted for either: agents
 * install a CRL only when their own pinned CA signed it, and verify each
 * entry against their own pinned bundle and CRLs before sealing to it
 * (DESIGN.md §3). The answer is capped to what fits in one frame, and the
 * CRLs are put in first (docs/decisions/0006-crls-over-the-network.md): an
 * agent missing an entry can still use the one it cached or ask again, but
 * one missing a CRL goes on sealing to a revoked office.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/log.h"
#include "repat/mem.h"

#define FRAME_SLACK	1024	/* the Frame and Directory around the items */
#define ITEM_OVERHEAD	16	/* tag and length of one item */

/*
 * Points d at every CRL of the trust bundle that fits in budget (borrowed:
 * the frame is encoded before the trust can be reloaded). Returns the
 * bytes used.
 */
static size_t
add_crls(struct broker *b, Repat__Directory *d, size_t budget)
{
	size_t i, len, n = repat_trust_count(b->trust), total = 0;
	const uint8_t *der;

	d->crls = repat_xcalloc(n + 1, sizeof(*d->crls));
	for (i = 0; i < n; i++) {
		if ((der = repat_trust_crl_der(b->trust, i, &len)) == NULL)
			continue;
		if (total + len + ITEM_OVERHEAD > budget) {
			if (!b->crl_cap_warned)
				repat_log_warnx("directory: a CRL of %zu bytes "
				    "does not fit in max_frame %zu with the "
				    "others: agents do not get it; raise "
				    "max_frame", len, (size_t)b->cfg.max_frame);
			b->crl_cap_warned = true;
			continue;
		}
		d->crls[d->n_crls].data = (uint8_t *)der;
		d->crls[d->n_crls].len = len;
		d->n_crls++;
		total += len + ITEM_OVERHEAD;
	}
	return total;
}

int
handle_directory(struct broker *b, struct session *s)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Directory d = REPAT__DIRECTORY__INIT;
	Repat__DirectoryEntry *e = NULL, **ptrs = NULL;
	ProtobufCBinaryData *certs = NULL;
	sqlite3_stmt *st = store_stmt(&b->store, ST_AGENT_ALL);
	size_t budget = (size_t)b->cfg.max_frame - FRAME_SLACK;
	size_t n = 0, cap = 0, total, i, l0, l1;

	total = add_crls(b, &d, budget);
	while (sqlite3_step(st) == SQLITE_ROW) {
		l0 = (size_t)sqlite3_column_bytes(st, 0);
		l1 = (size_t)sqlite3_column_bytes(st, 1);
		if (total + l0 + l1 + ITEM_OVERHEAD > budget)
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
		total += l0 + l1 + ITEM_OVERHEAD;
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
	free(d.crls);
	return 0;
}
