/*
 * audit_verify.c: checking the broker's audit log (audit.h).
 *
 * The full check reads every entry once, in index order, and appends the
 * recomputed leaf hash (from the entry bytes, never the stored column) to
 * a frontier tree; each stored checkpoint is compared when the tree
 * reaches its size, so the whole check is O(n) hashing plus one
 * consistency proof per pair of consecutive checkpoints. The recomputed
 * hashes are kept in memory (32 bytes per entry) for those proofs; repat's
 * log is small (hundreds of cases a year).
 *
 * The agent's view is one file, AGENTDIR/checkpoint, holding the signed
 * note it last verified: re-verified on every load, so a hand-edited
 * file is caught, and replaced (atomically) only by a note that a
 * consistency proof joins to it. Any failed check appends a line to
 * AGENTDIR/AUDIT-ALARM, which stays until a person deletes it: a forked
 * log is evidence to keep, not an error to retry.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "repat/audit.h"
#include "repat/client.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/limits.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define HASH_LEN REPAT_MERKLE_HASH_LEN

/* ------------------------------------------------------------- keys */

int
repat_audit_broker_key(X509 *cert, struct repat_note_verifier *v,
    char *errbuf)
{
	struct repat_identity id;
	uint8_t pub[32];
	char name[REPAT_NOTE_MAX_NAME + 1];
	int rc;

	if ((rc = repat_cert_identity(cert, &id, errbuf)) != 0)
		return rc;
	if (repat_cert_public_raw(cert, pub) != 0)
		return repat_errf(errbuf, REPAT_ECERT,
		    "the broker certificate holds no Ed25519 key");
	snprintf(name, sizeof(name), "%s%s", REPAT_AUDIT_ORIGIN_PREFIX,
	    id.agent_id);
	if (repat_note_verifier_init(v, name, pub) != 0)
		return repat_errf(errbuf, REPAT_ECERT,
		    "%s: not a valid checkpoint key name", name);
	return REPAT_OK;
}

/* ----------------------------------------------------- the database */

static int
db_leaf(void *arg, uint64_t index, uint8_t out[HASH_LEN])
{
	sqlite3_stmt *s = arg;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)index);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? REPAT_ECORRUPT : repat_db_err(rc);
	}
	if (sqlite3_column_bytes(s, 0) != HASH_LEN) {
		sqlite3_reset(s);
		return REPAT_ECORRUPT;
	}
	memcpy(out, sqlite3_column_blob(s, 0), HASH_LEN);
	sqlite3_reset(s);
	return REPAT_OK;
}

static int
leaves_open(sqlite3 *db, struct repat_merkle_leaves *l)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db, "SELECT leaf_hash FROM audit WHERE idx = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return REPAT_EDB;
	l->leaf = db_leaf;
	l->arg = s;
	return REPAT_OK;
}

int
repat_audit_db_root(sqlite3 *db, uint64_t size, uint8_t out[HASH_LEN])
{
	struct repat_merkle_leaves l;
	int rc;

	if (size == 0) {
		repat_merkle_empty_root(out);
		return REPAT_OK;
	}
	if ((rc = leaves_open(db, &l)) != 0)
		return rc;
	rc = repat_merkle_range_leaves(&l, 0, size, out);
	sqlite3_finalize(l.arg);
	return rc;
}

int
repat_audit_db_tree(sqlite3 *db, uint64_t size, repat_merkle_tree_t **out)
{
	struct repat_merkle_leaves l;
	int rc;

	*out = NULL;
	if (size == 0) {
		*out = repat_merkle_tree_new();
		return REPAT_OK;
	}
	if ((rc = leaves_open(db, &l)) != 0)
		return rc;
	rc = repat_merkle_tree_rebuild(size, repat_merkle_range_leaves, &l,
	    out);
	sqlite3_finalize(l.arg);
	return rc;
}

int
repat_audit_db_inclusion(sqlite3 *db, uint64_t index, uint64_t size,
    uint8_t proof[][HASH_LEN], size_t *n)
{
	struct repat_merkle_leaves l;
	int rc;

	*n = 0;
	if ((rc = leaves_open(db, &l)) != 0)
		return rc;
	rc = repat_merkle_inclusion_proof(index, size,
	    repat_merkle_range_leaves, &l, proof, n);
	sqlite3_finalize(l.arg);
	return rc;
}

int
repat_audit_db_consistency(sqlite3 *db, uint64_t size1, uint64_t size2,
    uint8_t proof[][HASH_LEN], size_t *n)
{
	struct repat_merkle_leaves l;
	int rc;

	*n = 0;
	if ((rc = leaves_open(db, &l)) != 0)
		return rc;
	rc = repat_merkle_consistency_proof(size1, size2,
	    repat_merkle_range_leaves, &l, proof, n);
	sqlite3_finalize(l.arg);
	return rc;
}

int
repat_audit_db_find_accepted(sqlite3 *db, const uint8_t *message_id,
    uint64_t size, uint64_t *index, uint8_t **leaf, size_t *leaf_len)
{
	Repat__AuditEntry *e;
	sqlite3_stmt *s = NULL;
	const uint8_t *buf;
	size_t len;
	bool hit;
	int rc;

	*leaf = NULL;
	*leaf_len = 0;
	/*
	 * A scan: the audit table has no message column, and at repat's
	 * volume one decode per entry is cheap (docs/audit.md §6).
	 */
	if (sqlite3_prepare_v2(db, "SELECT idx, entry FROM audit"
	    " WHERE idx < ?1 ORDER BY idx", -1, &s, NULL) != SQLITE_OK)
		return REPAT_EDB;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)size);
	rc = REPAT_ENOENT;
	while (sqlite3_step(s) == SQLITE_ROW) {
		buf = sqlite3_column_blob(s, 1);
		len = (size_t)sqlite3_column_bytes(s, 1);
		if (len == 0 || REPAT_DECODE(Repat__AuditEntry, audit_entry,
		    buf, len, REPAT_MAX_FRAME, &e) != 0)
			continue;
		hit = e->kind == REPAT__AUDIT_KIND__AUDIT_ACCEPTED &&
		    e->has_message_id && e->message_id.len == 16 &&
		    memcmp(e->message_id.data, message_id, 16) == 0;
		repat_msg_free(e);
		if (!hit)
			continue;
		*index = (uint64_t)sqlite3_column_int64(s, 0);
		*leaf = repat_xmalloc(len);
		memcpy(*leaf, buf, len);
		*leaf_len = len;
		rc = REPAT_OK;
		break;
	}
	sqlite3_finalize(s);
	return rc;
}

/* ------------------------------------------------------ full check */

struct mem_leaves {
	const uint8_t (*h)[HASH_LEN];
	uint64_t n;
};

static int
mem_leaf(void *arg, uint64_t index, uint8_t out[HASH_LEN])
{
	const struct mem_leaves *m = arg;

	if (index >= m->n)
		return REPAT_ECORRUPT;
	memcpy(out, m->h[index], HASH_LEN);
	return REPAT_OK;
}

/* The first bad entry is the earliest one found; keep it. */
static int
bad(struct repat_audit_report *r, int code, uint64_t from, uint64_t to,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
bad(struct repat_audit_report *r, int code, uint64_t from, uint64_t to,
    const char *fmt, ...)
{
	va_list ap;

	if (r->why[0] != '\0' && from >= r->bad_from)
		return code;
	r->bad_from = from;
	r->bad_to = to;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return code;
}

/* Reads and checks every entry; fills *hashes (recomputed) and *n. */
static int
check_entries(sqlite3 *db, struct repat_audit_report *r,
    uint8_t (**hashes)[HASH_LEN], uint64_t *n)
{
	Repat__AuditEntry *e;
	sqlite3_stmt *s = NULL;
	uint8_t (*h)[HASH_LEN] = NULL;
	const uint8_t *buf;
	uint64_t want = 0, idx, cap = 0;
	size_t len;
	int rc = REPAT_OK, step;

	if (sqlite3_prepare_v2(db, "SELECT idx, entry, leaf_hash FROM audit"
	    " ORDER BY idx", -1, &s, NULL) != SQLITE_OK) {
		snprintf(r->why, sizeof(r->why), "no audit table: %s",
		    sqlite3_errmsg(db));
		return REPAT_EDB;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		idx = (uint64_t)sqlite3_column_int64(s, 0);
		buf = sqlite3_column_blob(s, 1);
		len = (size_t)sqlite3_column_bytes(s, 1);
		r->entries++;
		if (idx != want) {
			rc = bad(r, REPAT_ECORRUPT, want, want + 1,
			    "entry %" PRIu64 " is missing (the next stored "
			    "entry is %" PRIu64 ")", want, idx);
			break;
		}
		if (want == cap) {
			cap = cap ? cap * 2 : 1024;
			h = repat_xrealloc(h, (size_t)cap * HASH_LEN);
		}
		repat_merkle_leaf_hash(buf, len, h[want]);
		if (len == 0 || REPAT_DECODE(Repat__AuditEntry, audit_entry,
		    buf, len, REPAT_MAX_FRAME, &e) != 0) {
			rc = bad(r, REPAT_ECORRUPT, idx, idx + 1,
			    "entry %" PRIu64 " does not decode as an "
			    "AuditEntry", idx);
			break;
		}
		if (e->index != idx) {
			rc = bad(r, REPAT_ECORRUPT, idx, idx + 1,
			    "entry %" PRIu64 " says it is entry %" PRIu64
			    " (moved or reordered)", idx, e->index);
			repat_msg_free(e);
			break;
		}
		repat_msg_free(e);
		if (sqlite3_column_bytes(s, 2) != HASH_LEN ||
		    memcmp(sqlite3_column_blob(s, 2), h[want], HASH_LEN) != 0) {
			rc = bad(r, REPAT_ECORRUPT, idx, idx + 1,
			    "entry %" PRIu64 " does not match its stored leaf "
			    "hash (changed after it was appended)", idx);
			break;
		}
		want++;
	}
	if (rc == REPAT_OK && step != SQLITE_DONE) {
		snprintf(r->why, sizeof(r->why), "reading the audit table: %s",
		    sqlite3_errmsg(db));
		rc = REPAT_EDB;
	}
	sqlite3_finalize(s);
	*hashes = h;
	*n = want;
	return rc;
}

/* One checkpoint to compare, from the table or the file. */
struct ckpt {
	uint64_t size;
	uint8_t root[HASH_LEN];
	char where[64];
};

/* Opens a note signed by key; its size and root must equal the row's. */
static int
open_note(const uint8_t *note, size_t len,
    const struct repat_note_verifier *key, struct ckpt *c,
    struct repat_audit_report *r, bool have_row)
{
	char err[REPAT_ERRBUF_LEN];
	uint8_t root[HASH_LEN];
	uint64_t size;
	int rc;

	rc = repat_checkpoint_open(note, len, key, &size, root, err);
	if (rc != 0) {
		snprintf(r->why, sizeof(r->why), "%.60s is not a checkpoint "
		    "signed by %.60s: %.100s", c->where, key->name, err);
		r->bad_from = have_row ? c->size : 0;
		r->bad_to = r->bad_from;
		return rc == REPAT_ESIG ? REPAT_ESIG : REPAT_ECORRUPT;
	}
	if (have_row && (size != c->size || memcmp(root, c->root,
	    HASH_LEN) != 0)) {
		snprintf(r->why, sizeof(r->why), "%s: its row says size %"
		    PRIu64 " but its signed note says size %" PRIu64
		    " or another root (swapped)", c->where, c->size, size);
		r->bad_from = r->bad_to = c->size;
		return REPAT_ECORRUPT;
	}
	c->size = size;
	memcpy(c->root, root, HASH_LEN);
	return REPAT_OK;
}

static int
load_checkpoints(sqlite3 *db, const struct repat_note_verifier *key,
    const char *file, struct repat_audit_report *r, struct ckpt **out,
    size_t *nout)
{
	struct ckpt *c = NULL;
	sqlite3_stmt *s = NULL;
	char err[REPAT_ERRBUF_LEN];
	uint8_t *buf;
	size_t n = 0, cap = 0, len;
	int rc = REPAT_OK;

	*out = NULL;
	*nout = 0;
	/* A database from before checkpoints has no table: nothing to do. */
	if (sqlite3_prepare_v2(db, "SELECT size, root, note FROM checkpoints"
	    " ORDER BY size", -1, &s, NULL) == SQLITE_OK) {
		while (rc == REPAT_OK && sqlite3_step(s) == SQLITE_ROW) {
			if (n + 1 >= cap) {
				cap = cap ? cap * 2 : 16;
				c = repat_xrealloc(c, cap * sizeof(*c));
			}
			memset(&c[n], 0, sizeof(c[n]));
			c[n].size = (uint64_t)sqlite3_column_int64(s, 0);
			snprintf(c[n].where, sizeof(c[n].where),
			    "checkpoint %" PRIu64, c[n].size);
			if (sqlite3_column_bytes(s, 1) != HASH_LEN) {
				r->bad_from = r->bad_to = c[n].size;
				snprintf(r->why, sizeof(r->why),
				    "%s: its root is not 32 bytes", c[n].where);
				rc = REPAT_ECORRUPT;
				break;
			}
			memcpy(c[n].root, sqlite3_column_blob(s, 1), HASH_LEN);
			rc = open_note(sqlite3_column_blob(s, 2),
			    (size_t)sqlite3_column_bytes(s, 2), key, &c[n], r,
			    true);
			n++;
		}
		sqlite3_finalize(s);
	}
	if (rc == REPAT_OK && file != NULL) {
		rc = repat_file_read(file, REPAT_NOTE_MAX, &buf, &len, err);
		if (rc == REPAT_OK) {
			if (n + 1 >= cap) {
				cap = cap ? cap * 2 : 16;
				c = repat_xrealloc(c, cap * sizeof(*c));
			}
			memset(&c[n], 0, sizeof(c[n]));
			snprintf(c[n].where, sizeof(c[n].where),
			    "the checkpoint file");
			rc = open_note(buf, len, key, &c[n], r, false);
			free(buf);
			n++;
		} else if (rc == REPAT_ENOENT) {
			rc = REPAT_OK;
		} else {
			snprintf(r->why, sizeof(r->why), "%s", err);
		}
	}
	*out = c;
	*nout = n;
	return rc;
}

static int
cmp_ckpt(const void *a, const void *b)
{
	const struct ckpt *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

int
repat_audit_verify_db(sqlite3 *db, const struct repat_note_verifier *key,
    const char *checkpoint_file, struct repat_audit_report *r)
{
	uint8_t (*h)[HASH_LEN] = NULL;
	uint8_t root[HASH_LEN], proof[REPAT_MERKLE_MAX_PROOF][HASH_LEN];
	struct mem_leaves ml;
	struct repat_merkle_leaves src;
	repat_merkle_tree_t *tree;
	struct ckpt *c = NULL, *prev = NULL;
	struct repat_audit_report saved;
	uint64_t n = 0, good = 0;
	size_t nc = 0, i, np;
	int rc, erc;

	memset(r, 0, sizeof(*r));
	r->bad_from = r->bad_to = REPAT_AUDIT_NONE;
	erc = check_entries(db, r, &h, &n);
	if (erc == REPAT_EDB)
		goto out;
	saved = *r;
	rc = load_checkpoints(db, key, checkpoint_file, r, &c, &nc);
	if (rc != 0) {
		/* A bad entry stays the first thing named; both are told. */
		if (erc != REPAT_OK) {
			char both[sizeof(r->why)];

			snprintf(both, sizeof(both), "%.120s; and %.120s",
			    saved.why, r->why);
			memcpy(saved.why, both, sizeof(both));
			saved.entries = r->entries;
			*r = saved;
		}
		erc = rc;
		goto out;
	}
	qsort(c, nc, sizeof(*c), cmp_ckpt);
	ml.h = (const uint8_t (*)[HASH_LEN])h;
	ml.n = n;
	src.leaf = mem_leaf;
	src.arg = &ml;
	tree = repat_merkle_tree_new();
	for (i = 0; i < nc; i++) {
		if (c[i].size > n) {
			/* The entries from n on are gone (or the first bad). */
			if (erc == REPAT_OK)
				erc = bad(r, REPAT_ECORRUPT, n, c[i].size,
				    "%s covers %" PRIu64 " entries but only %"
				    PRIu64 " are intact (log truncated or "
				    "entries deleted)", c[i].where, c[i].size,
				    n);
			break;
		}
		while (repat_merkle_tree_size(tree) < c[i].size)
			(void)repat_merkle_tree_append(tree,
			    h[repat_merkle_tree_size(tree)]);
		repat_merkle_tree_root(tree, root);
		if (memcmp(root, c[i].root, HASH_LEN) != 0) {
			erc = bad(r, REPAT_ECORRUPT, good, c[i].size,
			    "%s does not match the entries: one of entries %"
			    PRIu64 "..%" PRIu64 " was changed, replaced or "
			    "reordered", c[i].where, good, c[i].size - 1);
			break;
		}
		if (prev != NULL && prev->size > 0) {
			rc = repat_merkle_consistency_proof(prev->size,
			    c[i].size, repat_merkle_range_leaves, &src, proof,
			    &np);
			if (rc == 0)
				rc = repat_merkle_verify_consistency(
				    prev->size, c[i].size,
				    (const uint8_t (*)[HASH_LEN])proof, np,
				    prev->root, c[i].root);
			if (rc != 0) {
				erc = bad(r, REPAT_ECORRUPT, prev->size,
				    c[i].size, "%s and %s are not consistent",
				    prev->where, c[i].where);
				break;
			}
		}
		r->checkpoints++;
		r->latest_size = c[i].size;
		good = c[i].size;
		prev = &c[i];
	}
	repat_merkle_tree_destroy(&tree);
out:
	free(c);
	free(h);
	return erc;
}

/* -------------------------------------------------------------- json */

static void
set_hex(json_t *o, const char *k, const ProtobufCBinaryData *b)
{
	char *hex = repat_xmalloc(b->len * 2 + 1);

	json_object_set_new(o, k, json_string(repat_hex(b->data, b->len,
	    hex)));
	free(hex);
}

char *
repat_audit_entry_json(const Repat__AuditEntry *e)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "index", json_integer((json_int_t)e->index));
	json_object_set_new(o, "time_ms",
	    json_integer((json_int_t)e->time_ms));
	json_object_set_new(o, "kind", json_string(repat_enum_name(
	    &repat__audit_kind__descriptor, (int)e->kind)));
	if (e->has_message_id)
		set_hex(o, "message_id", &e->message_id);
	if (e->sender != NULL)
		json_object_set_new(o, "sender", json_string(e->sender));
	if (e->recipient != NULL)
		json_object_set_new(o, "recipient",
		    json_string(e->recipient));
	if (e->has_type)
		json_object_set_new(o, "type",
		    json_string(repat_message_type_name(e->type)));
	if (e->has_case_hash)
		set_hex(o, "case_hash", &e->case_hash);
	if (e->has_code)
		json_object_set_new(o, "code", json_string(repat_enum_name(
		    &repat__reject_code__descriptor, (int)e->code)));
	if (e->has_content_hash)
		set_hex(o, "content_hash", &e->content_hash);
	if (e->agreement_id != NULL)
		json_object_set_new(o, "agreement_id",
		    json_string(e->agreement_id));
	if (e->agent_id != NULL)
		json_object_set_new(o, "agent_id", json_string(e->agent_id));
	if (e->has_count)
		json_object_set_new(o, "count", json_integer(e->count));
	if (e->has_seq)
		json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
	if (e->relay != NULL)
		json_object_set_new(o, "relay", json_string(e->relay));
	if (e->detail != NULL)
		json_object_set_new(o, "detail", json_string(e->detail));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		repat_fatalx("audit: json_dumps failed");
	return s;
}

/* ------------------------------------------------------ agent's view */

static char *
view_path(const char *dir)
{
	return repat_xasprintf("%s/%s", dir, REPAT_AUDIT_CHECKPOINT_FILE);
}

int
repat_audit_view_load(const char *dir, const struct repat_note_verifier *key,
    uint64_t *size, uint8_t root[HASH_LEN], char *errbuf)
{
	char *path = view_path(dir);
	uint8_t *buf;
	size_t len;
	int rc;

	rc = repat_file_read(path, REPAT_NOTE_MAX, &buf, &len, errbuf);
	if (rc == 0) {
		rc = repat_checkpoint_open(buf, len, key, size, root, errbuf);
		free(buf);
		if (rc != 0)
			rc = repat_errf(errbuf, rc == REPAT_ESIG ? REPAT_ESIG :
			    REPAT_ECORRUPT, "%s: the stored checkpoint does "
			    "not verify", path);
	}
	free(path);
	return rc;
}

int
repat_audit_view_update(const char *dir, const struct repat_note_verifier *key,
    const uint8_t *note, size_t note_len,
    const uint8_t (*proof)[HASH_LEN], size_t nproof, uint64_t *new_size,
    uint8_t new_root[HASH_LEN], char *errbuf)
{
	char err[REPAT_ERRBUF_LEN], what[2 * REPAT_ERRBUF_LEN], *path;
	uint8_t root[HASH_LEN], old_root[HASH_LEN];
	uint64_t size, old_size = 0;
	int rc;

	rc = repat_checkpoint_open(note, note_len, key, &size, root, err);
	if (rc != 0) {
		snprintf(what, sizeof(what), "the broker sent a checkpoint "
		    "that is not signed by %.100s: %.200s", key->name, err);
		repat_audit_alarm_raise(dir, what);
		return repat_errf(errbuf, REPAT_ESIG, "%s", what);
	}
	if (new_size != NULL)
		*new_size = size;
	if (new_root != NULL)
		memcpy(new_root, root, HASH_LEN);
	rc = repat_audit_view_load(dir, key, &old_size, old_root, err);
	if (rc == REPAT_ENOENT) {
		old_size = 0;
	} else if (rc != 0) {
		repat_audit_alarm_raise(dir, err);
		return repat_errf(errbuf, rc, "%s", err);
	}
	if (old_size > size) {
		snprintf(what, sizeof(what), "the broker's checkpoint (size %"
		    PRIu64 ") is older than one it signed before (size %"
		    PRIu64 "): the log was rolled back or forked", size,
		    old_size);
		repat_audit_alarm_raise(dir, what);
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s", what);
	}
	if (old_size > 0 && repat_merkle_verify_consistency(old_size, size,
	    proof, nproof, old_root, root) != 0) {
		snprintf(what, sizeof(what), "the broker's checkpoint of size %"
		    PRIu64 " does not extend the one of size %" PRIu64
		    " this agent verified before: the log was rewritten or "
		    "forked", size, old_size);
		repat_audit_alarm_raise(dir, what);
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s", what);
	}
	if (size > old_size || old_size == 0) {
		path = view_path(dir);
		rc = repat_file_write(path, note, note_len, 0600, errbuf);
		free(path);
		if (rc != 0)
			return rc;
	}
	return REPAT_OK;
}

int
repat_audit_sender_ref(const char *dir, const struct repat_note_verifier *key,
    Repat__CheckpointRef *ref, uint8_t root[HASH_LEN])
{
	char err[REPAT_ERRBUF_LEN];
	uint64_t size;
	int rc;

	if ((rc = repat_audit_view_load(dir, key, &size, root, err)) != 0)
		return rc;
	repat__checkpoint_ref__init(ref);
	ref->tree_size = size;
	ref->root_hash.data = root;
	ref->root_hash.len = HASH_LEN;
	return REPAT_OK;
}

/* One proof from old_size (0: none) and its note verified into the view. */
static int
fetch_view(repat_client_t *c, const char *dir,
    const struct repat_note_verifier *key, uint64_t old_size,
    int timeout_ms, Repat__Proof **out, uint64_t *size, uint8_t root[HASH_LEN],
    char *errbuf)
{
	uint8_t (*proof)[HASH_LEN] = NULL;
	Repat__Proof *p = NULL;
	size_t i;
	int rc;

	*out = NULL;
	rc = repat_client_proof(c, NULL, old_size, timeout_ms, &p, errbuf);
	if (rc == REPAT_EREFUSED && old_size > 0)	/* see cmd_proof.c */
		rc = repat_client_proof(c, NULL, 0, timeout_ms, &p, errbuf);
	if (rc != 0)
		return rc;
	if (p->n_consistency > REPAT_MERKLE_MAX_PROOF) {
		repat_msg_free(p);
		return repat_errf(errbuf, REPAT_EPROTO, "the broker sent a "
		    "proof of %zu hashes", p->n_consistency);
	}
	proof = repat_xcalloc(p->n_consistency + 1, HASH_LEN);
	for (i = 0; i < p->n_consistency; i++) {
		if (p->consistency[i].len != HASH_LEN) {
			free(proof);
			repat_msg_free(p);
			return repat_errf(errbuf, REPAT_EPROTO, "the broker "
			    "sent a proof hash of %zu bytes",
			    p->consistency[i].len);
		}
		memcpy(proof[i], p->consistency[i].data, HASH_LEN);
	}
	rc = repat_audit_view_update(dir, key, p->checkpoint.data,
	    p->checkpoint.len, (const uint8_t (*)[HASH_LEN])proof,
	    p->n_consistency, size, root, errbuf);
	free(proof);
	if (rc != 0) {
		repat_msg_free(p);
		return rc;
	}
	*out = p;
	return REPAT_OK;
}

int
repat_audit_cross_check(struct repat_client *c, const char *dir,
    const struct repat_note_verifier *key, uint64_t size,
    const uint8_t root[HASH_LEN], int timeout_ms, char *errbuf)
{
	char err[REPAT_ERRBUF_LEN], what[2 * REPAT_ERRBUF_LEN];
	uint8_t vroot[HASH_LEN], lroot[HASH_LEN];
	uint8_t proof[REPAT_MERKLE_MAX_PROOF][HASH_LEN];
	Repat__Proof *p = NULL;
	uint64_t vsize = 0, lsize;
	size_t i;
	int rc, tries;

	if (size == 0)
		return REPAT_OK;	/* the empty log is a prefix of all */
	for (tries = 0; tries < 3; tries++) {
		rc = repat_audit_view_load(dir, key, &vsize, vroot, err);
		if (rc != 0 && rc != REPAT_ENOENT)
			return repat_errf(errbuf, rc, "%s", err);
		if (rc == REPAT_ENOENT)
			vsize = 0;
		/* Bring our own view up to the broker's latest. */
		rc = fetch_view(c, dir, key, vsize, timeout_ms, &p, &lsize,
		    lroot, errbuf);
		if (rc != 0)
			return rc;
		repat_msg_free(p);
		p = NULL;
		if (size > lsize) {
			snprintf(what, sizeof(what), "a sender saw a log of %"
			    PRIu64 " entries but the broker's latest "
			    "checkpoint has %" PRIu64 ": the broker shows "
			    "parties different logs", size, lsize);
			repat_audit_alarm_raise(dir, what);
			return repat_errf(errbuf, REPAT_ECORRUPT, "%s", what);
		}
		if (size == lsize) {
			if (memcmp(root, lroot, HASH_LEN) == 0)
				return REPAT_OK;
			snprintf(what, sizeof(what), "a sender's checkpoint of "
			    "size %" PRIu64 " has another root than the "
			    "broker's of the same size: forked log", size);
			repat_audit_alarm_raise(dir, what);
			return repat_errf(errbuf, REPAT_ECORRUPT, "%s", what);
		}
		/* size < lsize: a proof from the sender's size. */
		rc = repat_client_proof(c, NULL, size, timeout_ms, &p, errbuf);
		if (rc != 0)
			return rc;
		rc = repat_checkpoint_open(p->checkpoint.data,
		    p->checkpoint.len, key, &lsize, lroot, err);
		if (rc != 0) {
			repat_msg_free(p);
			snprintf(what, sizeof(what), "the broker sent a "
			    "checkpoint that does not verify: %.200s", err);
			repat_audit_alarm_raise(dir, what);
			return repat_errf(errbuf, REPAT_ESIG, "%s", what);
		}
		rc = repat_audit_view_load(dir, key, &vsize, vroot, err);
		if (rc != 0 || lsize != vsize ||
		    memcmp(lroot, vroot, HASH_LEN) != 0) {
			/* A newer checkpoint came between: once more. */
			repat_msg_free(p);
			p = NULL;
			continue;
		}
		if (p->n_consistency > REPAT_MERKLE_MAX_PROOF) {
			repat_msg_free(p);
			return repat_errf(errbuf, REPAT_EPROTO,
			    "oversized proof");
		}
		for (i = 0; i < p->n_consistency; i++) {
			if (p->consistency[i].len != HASH_LEN) {
				repat_msg_free(p);
				return repat_errf(errbuf, REPAT_EPROTO,
				    "a proof hash is not 32 bytes");
			}
			memcpy(proof[i], p->consistency[i].data, HASH_LEN);
		}
		rc = repat_merkle_verify_consistency(size, lsize,
		    (const uint8_t (*)[HASH_LEN])proof, p->n_consistency,
		    root, lroot);
		repat_msg_free(p);
		if (rc == 0)
			return REPAT_OK;
		snprintf(what, sizeof(what), "a sender's checkpoint (size %"
		    PRIu64 ") is not a prefix of the log this agent sees "
		    "(size %" PRIu64 "): the broker shows parties different "
		    "logs", size, lsize);
		repat_audit_alarm_raise(dir, what);
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s", what);
	}
	return repat_errf(errbuf, REPAT_ETIMEOUT, "the broker's checkpoint "
	    "kept changing; try again");
}

/* ------------------------------------------------------------- alarm */

void
repat_audit_alarm_raise(const char *dir, const char *what)
{
	char *path = repat_xasprintf("%s/%s", dir, REPAT_AUDIT_ALARM_FILE);
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "AUDIT ALARM: %s\n", what);
	if ((f = fopen(path, "a")) == NULL) {
		fprintf(stderr, "AUDIT ALARM: cannot write %s: %s\n", path,
		    strerror(errno));
	} else {
		(void)chmod(path, 0600);
		fprintf(f, "%s %s\n", when, what);
		fclose(f);
	}
	free(path);
}

bool
repat_audit_alarm_print(const char *dir, FILE *f)
{
	char *path = repat_xasprintf("%s/%s", dir, REPAT_AUDIT_ALARM_FILE);
	char err[REPAT_ERRBUF_LEN];
	uint8_t *buf;
	size_t len;

	if (repat_file_read(path, 64 * 1024, &buf, &len, err) != 0) {
		free(path);
		return false;
	}
	fprintf(f, "*** AUDIT ALARM: the broker's audit log failed a check. "
	    "Keep %s and %s/%s as evidence, tell the region's operators, then "
	    "remove %s.\n%s", path, dir, REPAT_AUDIT_CHECKPOINT_FILE, path,
	    (char *)buf);
	if (len > 0 && buf[len - 1] != '\n')
		fputc('\n', f);
	free(buf);
	free(path);
	return true;
}
