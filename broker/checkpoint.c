/*
 * checkpoint.c: signed checkpoints of the audit log and the proofs that
 * lead to them (DESIGN.md §8, docs/audit.md §3-4).
 *
 * NOTE (broker engineer): the audit engineer's first version of this file
 * was overwritten by mistake at 12:14 UTC; this is a rewrite against the
 * API they declared in broker.h (struct checkpointer, checkpoint_open/
 * close/maybe/proof/restore_ack) and their schema (the checkpoints table,
 * version 3). Review against your own copy if you still have it.
 *
 * After a COMMIT, when checkpoint_entries leaves were added or
 * checkpoint_interval passed with new leaves (or when forced), the broker
 * signs a C2SP tlog-checkpoint (origin and key name "repat-broker/<broker
 * agent id>") with its Ed25519 key, after checking that the new tree
 * extends the previous checkpoint (see extends()). It is stored in
 * the checkpoints table and written atomically to DATABASE.checkpoint,
 * outside the database. At start the database must not be behind that
 * file: its tree must hold at least the checkpoint's size and the root of
 * that prefix must be the checkpoint's; otherwise the broker refuses to
 * start (a restored old backup would silently rewrite history) until the
 * operator runs `repat-broker restore-ack`, which audits AUDIT_RESTORED and
 * keeps the superseded file as evidence. A missing file is refused too
 * while the checkpoints table has rows: deleting it is no way around.
 *
 * Proofs are built from the leaf-hash table (repat_merkle_range_leaves)
 * against a checkpoint of the whole committed log (a fresh one is signed
 * when the latest does not cover it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/note.h"

static int
make_signer(const char *cert_path, const uint8_t *der, size_t len,
    EVP_PKEY *key, repat_note_signer_t **out, char *errbuf)
{
	struct repat_identity id;
	X509 *cert = NULL;
	char name[REPAT_NOTE_MAX_NAME + 1];
	int rc;

	if (repat_cert_from_der(der, len, &cert) != 0)
		return repat_errf(errbuf, REPAT_ECERT, "%s: cannot read",
		    cert_path);
	rc = repat_cert_identity(cert, &id, errbuf);
	X509_free(cert);
	if (rc != 0)
		return rc;
	snprintf(name, sizeof(name), "repat-broker/%s", id.agent_id);
	if ((*out = repat_note_signer_new(name, key, errbuf)) == NULL)
		return REPAT_ECRYPTO;
	return REPAT_OK;
}

/* Reads and opens DATABASE.checkpoint into c; REPAT_ENOENT when none. */
static int
read_file(struct checkpointer *c, char *errbuf)
{
	const struct repat_note_verifier *v;
	uint8_t *buf;
	size_t len;
	int rc;

	rc = repat_file_read(c->file, REPAT_NOTE_MAX, &buf, &len, errbuf);
	if (rc != 0)
		return rc;
	v = repat_note_signer_verifier(c->signer);
	rc = repat_checkpoint_open(buf, len, v, &c->size, c->root, errbuf);
	if (rc != 0) {
		free(buf);
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s: not a checkpoint "
		    "signed by this broker", c->file);
	}
	free(c->note);
	c->note = (char *)buf;
	c->note_len = len;
	return REPAT_OK;
}

/*
 * The verifier key in meta (checkpoint_vkey), a convenience for `repat
 * audit verify --db` on a copy of the database; auditors should take the
 * key from the broker's certificate instead.
 */
static int
store_vkey(struct broker *b, char *errbuf)
{
	char *vkey;
	int rc;

	vkey = repat_note_verifier_format(
	    repat_note_signer_verifier(b->ckpt.signer));
	rc = store_meta_put(&b->store, "checkpoint_vkey", (uint8_t *)vkey,
	    strlen(vkey));
	free(vkey);
	if (rc != 0)
		return repat_errf(errbuf, rc, "%s: cannot store the checkpoint "
		    "key", b->cfg.database);
	return REPAT_OK;
}

/* Whether the checkpoints table has a row (deleting the file is no way out). */
static bool
table_has_checkpoints(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool any;

	st = repat_db_prepare(db, "SELECT 1 FROM checkpoints LIMIT 1");
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return any;
}

static int check_against_file(struct broker *b, char *errbuf);

int
checkpoint_open(struct broker *b, char *errbuf)
{
	struct checkpointer *c = &b->ckpt;
	int rc;

	memset(c, 0, sizeof(*c));
	c->file = repat_xasprintf("%s.checkpoint", b->cfg.database);
	if ((rc = make_signer(b->cfg.sign_cert, b->cert_der, b->cert_der_len,
	    b->sign_key, &c->signer, errbuf)) != 0)
		return rc;
	if ((rc = store_vkey(b, errbuf)) != 0)
		return rc;
	return check_against_file(b, errbuf);
}

/*
 * The audit log against the signed checkpoint file: REPAT_OK when it
 * extends it (or both are new), REPAT_ECORRUPT naming the difference when
 * the database was restored, rolled back or lost its file.
 */
static int
check_against_file(struct broker *b, char *errbuf)
{
	struct checkpointer *c = &b->ckpt;
	uint8_t have[32];
	int rc;

	rc = read_file(c, errbuf);
	if (rc == REPAT_ENOENT && table_has_checkpoints(b->store.db))
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s is missing but "
		    "the database holds signed checkpoints: without the file "
		    "a restored or rolled-back database cannot be told; if "
		    "that is what happened, run `repat-broker restore-ack -c "
		    "CONF` (docs/operations.md)", c->file);
	if (rc == REPAT_ENOENT)
		return REPAT_OK;	/* a new log */
	if (rc != 0)
		return rc;
	c->signed_ms = broker_now(b);
	if (c->size > b->audit.committed)
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s: the database "
		    "holds %llu audit entries, behind the signed checkpoint "
		    "of %llu; if you restored a backup on purpose, run "
		    "`repat-broker restore-ack -c CONF`", c->file,
		    (unsigned long long)b->audit.committed,
		    (unsigned long long)c->size);
	/* The restored frontier stands for every leaf before base_size. */
	if (c->size == b->audit.base_size)
		memcpy(have, b->audit.base_root, 32);
	else if ((rc = repat_audit_db_root(b->store.db, c->size, have)) != 0)
		memset(have, 0, sizeof(have));
	if (memcmp(have, c->root, 32) != 0)
		return repat_errf(errbuf, REPAT_ECORRUPT, "%s: the audit log "
		    "does not extend the signed checkpoint of size %llu; if "
		    "you restored a backup on purpose, run `repat-broker "
		    "restore-ack -c CONF`", c->file,
		    (unsigned long long)c->size);
	return REPAT_OK;
}

void
checkpoint_close(struct checkpointer *c)
{
	repat_note_signer_destroy(&c->signer);
	free(c->note);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

/*
 * The new tree (size, root) extends c's checkpoint. The in-memory tree
 * only ever appends committed leaf hashes to the frontier that start-up
 * checked against the checkpoint file (checkpoint_open), so extension
 * holds by construction; what is checked here is what can still go wrong
 * (a shrunken tree, a changed root at the same size). A consistency proof
 * from the leaf-hash table would read every leaf at each checkpoint.
 */
static int
extends(struct broker *b, uint64_t size, const uint8_t root[32])
{
	struct checkpointer *c = &b->ckpt;

	if (c->note == NULL || c->size == 0)
		return REPAT_OK;
	if (size < c->size)
		return REPAT_ECORRUPT;
	if (size == c->size)
		return memcmp(root, c->root, 32) == 0 ? REPAT_OK :
		    REPAT_ECORRUPT;
	return REPAT_OK;
}

/*
 * Keeps the frontier of the tree at the newest checkpoint (only that one:
 * start-up needs no other), so the next start replays only the tail.
 */
static int
store_frontier(struct broker *b, uint64_t size)
{
	uint8_t f[REPAT_MERKLE_MAX_FRONTIER][REPAT_MERKLE_HASH_LEN];
	sqlite3_stmt *st;
	size_t n;
	int rc;

	if (repat_merkle_tree_size(b->audit.tree) != size)
		return REPAT_OK;
	repat_merkle_tree_frontier(b->audit.tree, f, &n);
	st = repat_db_prepare(b->store.db, "INSERT OR REPLACE INTO "
	    "frontiers(size, hashes) VALUES(?1, ?2)");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 2, f, (int)(n * REPAT_MERKLE_HASH_LEN),
	    SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	st = repat_db_prepare(b->store.db, "DELETE FROM frontiers"
	    " WHERE size <> ?1");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? REPAT_OK : repat_db_err(rc);
}

static int
store_row(struct broker *b, uint64_t size, const uint8_t root[32],
    const char *note, size_t len, uint64_t now)
{
	sqlite3_stmt *st;
	int rc;

	st = repat_db_prepare(b->store.db, "INSERT OR REPLACE INTO "
	    "checkpoints(size, root, note, signed_ms) VALUES(?1,?2,?3,?4)");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 2, root, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, note, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return repat_db_err(rc);
	return store_frontier(b, size);
}

/* Signs (size, root) of the committed tree: table, then file. */
static int
sign_now(struct broker *b, uint64_t size, const uint8_t root[32])
{
	struct checkpointer *c = &b->ckpt;
	char err[REPAT_ERRBUF_LEN] = "", *note = NULL;
	size_t len = 0;
	uint64_t now = broker_now(b);
	int rc;

	if ((rc = extends(b, size, root)) != 0) {
		if (now - c->failed_ms > 60000)
			repat_log_warnx("checkpoint: the tree of size %llu does "
			    "not extend the checkpoint of size %llu; not "
			    "signing (run repat-broker check)",
			    (unsigned long long)size,
			    (unsigned long long)c->size);
		c->failed_ms = now;
		return REPAT_ECORRUPT;
	}
	rc = repat_checkpoint_sign(c->signer, size, root, &note, &len, err);
	if (rc == 0)
		rc = store_row(b, size, root, note, len, now);
	if (rc == 0)
		rc = repat_file_write(c->file, note, len, 0600, err);
	if (rc != 0) {
		repat_log_warnx("checkpoint of size %llu: %s",
		    (unsigned long long)size, err[0] ? err :
		    repat_strerror(rc));
		c->failed_ms = now;
		free(note);
		return rc;
	}
	free(c->note);
	c->note = note;
	c->note_len = len;
	c->size = size;
	memcpy(c->root, root, 32);
	c->signed_ms = now;
	repat_log_debug("checkpoint: size %llu", (unsigned long long)size);
	return REPAT_OK;
}

int
checkpoint_maybe(struct broker *b, bool force)
{
	struct checkpointer *c = &b->ckpt;
	uint8_t root[32];
	uint64_t size, now = broker_now(b);

	if (c->signer == NULL)
		return REPAT_OK;
	size = repat_merkle_tree_size(b->audit.tree);
	if (c->note != NULL && size == c->size)
		return REPAT_OK;	/* nothing new */
	if (!force && c->note != NULL &&
	    size - c->size < (uint64_t)b->cfg.ckpt_entries &&
	    now - c->signed_ms < (uint64_t)b->cfg.ckpt_interval_ms)
		return REPAT_OK;
	repat_merkle_tree_root(b->audit.tree, root);
	return sign_now(b, size, root);
}

/* ------------------------------------------------------------ proofs */

/*
 * The index of the ACCEPTED entry of message id, if s is its sender,
 * recipient or relay. A scan of the log: n is small for repat (hundreds of
 * cases a year, a few entries each).
 */
static bool
is_party(sqlite3_stmt *st, int col, const char *agent)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v != NULL && strcmp((const char *)v, agent) == 0;
}

static int
find_leaf(struct broker *b, struct session *s, const uint8_t *id,
    uint64_t *index)
{
	Repat__AuditEntry *e;
	sqlite3_stmt *st;
	int rc = REPAT_ENOENT;
	bool mine;

	/* The message row says where its entry is and whose it is. */
	st = repat_db_prepare(b->store.db, "SELECT audit_idx, sender,"
	    " recipient, relay FROM messages WHERE id = ?1");
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return REPAT_ENOENT;
	}
	if (sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
		*index = (uint64_t)sqlite3_column_int64(st, 0);
		mine = is_party(st, 1, s->agent_id) ||
		    is_party(st, 2, s->agent_id) ||
		    is_party(st, 3, s->agent_id);
		sqlite3_finalize(st);
		return mine ? REPAT_OK : REPAT_EPERM;
	}
	sqlite3_finalize(st);
	/* Accepted before schema version 7: scan the log. */
	st = repat_db_prepare(b->store.db, "SELECT idx, entry FROM audit"
	    " ORDER BY idx");
	while (rc == REPAT_ENOENT && sqlite3_step(st) == SQLITE_ROW) {
		if (REPAT_DECODE(Repat__AuditEntry, audit_entry,
		    sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), REPAT_MAX_FRAME,
		    &e) != 0)
			continue;
		if (e->kind == REPAT__AUDIT_KIND__AUDIT_ACCEPTED &&
		    e->has_message_id && e->message_id.len == 16 &&
		    memcmp(e->message_id.data, id, 16) == 0) {
			mine = (e->sender && strcmp(e->sender, s->agent_id) == 0) ||
			    (e->recipient &&
			    strcmp(e->recipient, s->agent_id) == 0) ||
			    (e->relay && strcmp(e->relay, s->agent_id) == 0);
			*index = (uint64_t)sqlite3_column_int64(st, 0);
			rc = mine ? REPAT_OK : REPAT_EPERM;
		}
		repat_msg_free(e);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
leaf_bytes(sqlite3 *db, uint64_t index, uint8_t **out, size_t *len)
{
	sqlite3_stmt *st;
	int rc = REPAT_ENOENT, n;

	st = repat_db_prepare(db, "SELECT entry FROM audit WHERE idx = ?1");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 0);
		*out = repat_xmalloc((size_t)n + 1);
		memcpy(*out, sqlite3_column_blob(st, 0), (size_t)n);
		*len = (size_t)n;
		rc = REPAT_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static ProtobufCBinaryData *
hashes_pb(uint8_t (*h)[32], size_t n)
{
	ProtobufCBinaryData *v = repat_xcalloc(n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++) {
		v[i].data = h[i];
		v[i].len = 32;
	}
	return v;
}

static void
send_proof(struct broker *b, struct session *s, uint64_t index, bool incl,
    uint8_t *leaf, size_t leaf_len, uint8_t (*ip)[32], size_t ni,
    uint8_t (*cp)[32], size_t nc)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Proof p = REPAT__PROOF__INIT;

	p.checkpoint.data = (uint8_t *)b->ckpt.note;
	p.checkpoint.len = b->ckpt.note_len;
	if (incl) {
		p.has_leaf_index = 1;
		p.leaf_index = index;
		p.has_leaf = 1;
		p.leaf.data = leaf;
		p.leaf.len = leaf_len;
	}
	p.n_inclusion = ni;
	p.inclusion = hashes_pb(ip, ni);
	p.n_consistency = nc;
	p.consistency = hashes_pb(cp, nc);
	f.command_case = REPAT__FRAME__COMMAND_PROOF;
	f.proof = &p;
	broker_queue_frame(b, s, &f);
	free(p.inclusion);
	free(p.consistency);
}

int
checkpoint_proof(struct broker *b, struct session *s, Repat__ProofRequest *m)
{
	uint8_t ip[REPAT_MERKLE_MAX_PROOF][32], cp[REPAT_MERKLE_MAX_PROOF][32];
	uint8_t *leaf = NULL;
	size_t ni = 0, nc = 0, leaf_len = 0;
	uint64_t index = 0, size;
	int rc = 0;

	if (m->has_message_id && (m->message_id.len != 16 ||
	    find_leaf(b, s, m->message_id.data, &index) != 0)) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_MALFORMED,
		    "No accepted message with this id has you as its sender "
		    "or recipient.");
		return 0;
	}
	(void)checkpoint_maybe(b, true);
	size = b->ckpt.size;
	if (b->ckpt.note == NULL || (m->has_message_id && index >= size) ||
	    (m->has_old_size && (m->old_size == 0 || m->old_size > size))) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_MALFORMED,
		    "That proof does not exist in this log (old_size 0 or "
		    "beyond the latest checkpoint).");
		return 0;
	}
	if (m->has_message_id)
		rc = repat_audit_db_inclusion(b->store.db, index, size, ip,
		    &ni);
	if (rc == 0 && m->has_old_size)
		rc = repat_audit_db_consistency(b->store.db, m->old_size, size,
		    cp, &nc);
	if (rc == 0 && m->has_message_id)
		rc = leaf_bytes(b->store.db, index, &leaf, &leaf_len);
	if (rc != 0) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_INTERNAL,
		    "The broker could not compute the proof; tell its "
		    "operator to run repat-broker check.");
		return 0;
	}
	send_proof(b, s, index, m->has_message_id, leaf, leaf_len, ip, ni, cp,
	    nc);
	free(leaf);
	return 0;
}

/* ------------------------------------------------------------ restore */

/*
 * The restore, audited: an AUDIT_RESTORED entry with the sizes, and the
 * superseded checkpoint file kept beside the new one as evidence
 * (DATABASE.checkpoint.superseded-MS), never overwritten.
 */
static int
audit_restored(struct broker *b, char *errbuf)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	struct checkpointer *c = &b->ckpt;
	char detail[160], *kept = NULL;
	uint64_t fsize = 0;
	int rc, frc;

	frc = read_file(c, errbuf);
	if (frc == 0)
		fsize = c->size;
	/* the superseded checkpoint is not extended: forget it */
	free(c->note);
	c->note = NULL;
	c->note_len = 0;
	c->size = 0;
	snprintf(detail, sizeof(detail), "restore acknowledged: the database "
	    "holds %llu entries, the superseded checkpoint file %s%llu",
	    (unsigned long long)b->audit.committed, frc == 0 ? "size " :
	    frc == REPAT_ENOENT ? "is missing, size " : "does not verify, "
	    "size ", (unsigned long long)fsize);
	e.kind = REPAT__AUDIT_KIND__AUDIT_RESTORED;
	e.detail = detail;
	e.has_seq = frc == 0;
	e.seq = fsize;
	if ((rc = store_begin(&b->store)) != 0)
		return repat_errf(errbuf, rc, "cannot begin");
	if ((rc = audit_append(&b->audit, &b->store, &e, broker_now(b))) != 0 ||
	    (rc = store_commit(&b->store, errbuf)) != 0) {
		store_rollback(&b->store);
		audit_rolled_back(&b->audit);
		return repat_errf(errbuf, rc, "cannot audit the restore");
	}
	audit_committed(&b->audit);
	if (frc != REPAT_ENOENT) {
		kept = repat_xasprintf("%s.superseded-%llu", c->file,
		    (unsigned long long)broker_now(b));
		if (rename(c->file, kept) != 0) {
			rc = repat_errf(errbuf, REPAT_EIO, "cannot keep %s as "
			    "%s", c->file, kept);
			free(kept);
			return rc;
		}
		printf("the superseded checkpoint is kept in %s\n", kept);
		free(kept);
	}
	printf("%s\n", detail);
	return REPAT_OK;
}

int
checkpoint_restore_ack(const char *conf)
{
	struct broker b;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t root[32];
	uint64_t size;
	int rc, fd = -1;

	memset(&b, 0, sizeof(b));
	b.lock_fd = -1;
	if ((rc = broker_config_load(conf, &b.cfg, err)) != 0 ||
	    (rc = broker_lock(b.cfg.database, &fd, err)) != 0)
		goto out;
	rc = repat_key_load(b.cfg.sign_key, NULL, &b.sign_key, err);
	if (rc == REPAT_EPASS) {
		char *pass = NULL;

		if ((rc = repat_passphrase(b.cfg.passphrase_file,
		    "broker signing key passphrase: ", &pass, err)) != 0)
			goto out;
		rc = repat_key_load(b.cfg.sign_key, pass, &b.sign_key, err);
		repat_free_secret(pass, strlen(pass));
	}
	if (rc != 0)
		goto out;
	{
		X509 *cert = NULL;

		if ((rc = repat_cert_load(b.cfg.sign_cert, &cert, err)) != 0)
			goto out;
		rc = repat_cert_to_der(cert, &b.cert_der, &b.cert_der_len);
		X509_free(cert);
		if (rc != 0)
			goto out;
	}
	if ((rc = store_open(&b.store, b.cfg.database, err)) != 0 ||
	    (rc = audit_open(&b.audit, &b.store, err)) != 0)
		goto out;
	memset(&b.ckpt, 0, sizeof(b.ckpt));
	b.ckpt.file = repat_xasprintf("%s.checkpoint", b.cfg.database);
	if ((rc = make_signer(b.cfg.sign_cert, b.cert_der, b.cert_der_len,
	    b.sign_key, &b.ckpt.signer, err)) != 0)
		goto out;
	/* Only a log that does not extend its checkpoint is acknowledged. */
	if ((rc = check_against_file(&b, err)) == REPAT_OK) {
		rc = repat_errf(err, REPAT_EINVAL, "nothing to acknowledge: "
		    "the audit log (%llu entries) extends %s; restore-ack is "
		    "for a database restored from a backup older than that "
		    "file", (unsigned long long)b.audit.committed,
		    b.ckpt.file);
		goto out;
	}
	if (rc != REPAT_ECORRUPT)
		goto out;
	if ((rc = audit_restored(&b, err)) != 0)
		goto out;
	size = repat_merkle_tree_size(b.audit.tree);
	repat_merkle_tree_root(b.audit.tree, root);
	/* the old checkpoint is not extended: sign the restored tree fresh */
	b.ckpt.note = NULL;
	rc = sign_now(&b, size, root);
	if (rc == 0)
		printf("%s: checkpoint of the restored log signed (size %llu); "
		    "agents holding later checkpoints will see the broker's "
		    "log went back\n", b.ckpt.file, (unsigned long long)size);
out:
	if (rc != 0)
		fprintf(stderr, "repat-broker restore-ack: %s\n", err[0] ? err :
		    repat_strerror(rc));
	checkpoint_close(&b.ckpt);
	audit_close(&b.audit);
	store_close(&b.store);
	EVP_PKEY_free(b.sign_key);
	free(b.cert_der);
	broker_config_clear(&b.cfg);
	if (fd >= 0)
		close(fd);
	return rc == 0 ? 0 : 1;
}
