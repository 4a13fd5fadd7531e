/*
 * audit.h: checking the broker's audit log (DESIGN.md §8, docs/audit.md).
 *
 * The one implementation of "recompute the log and name the first entry
 * that does not match", shared by `repat audit verify --db`, `repat audit
 * export` and `repat-broker check`, plus the small pieces the broker and
 * the agent need around checkpoints:
 *
 *  - proofs and roots over the audit table of a broker database
 *    (audit(idx, entry, leaf_hash), checkpoints(size, root, note, ...));
 *  - the broker's checkpoint key, named "repat-broker/<broker id>", from
 *    its certificate;
 *  - the agent's view of the log: the last checkpoint it verified (the
 *    file AGENTDIR/checkpoint) and the alarm file AGENTDIR/AUDIT-ALARM,
 *    written when a check fails and printed until an operator removes it.
 *
 * The database is only read here; callers open it (read-only for tools)
 * and may wrap the calls in one read transaction for a stable view.
 */
#ifndef REPAT_AUDIT_H
#define REPAT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>
#include <sqlite3.h>

#include "repat.pb-c.h"
#include "repat/err.h"
#include "repat/merkle.h"
#include "repat/note.h"

#define REPAT_AUDIT_ORIGIN_PREFIX "repat-broker/"
#define REPAT_AUDIT_NONE	UINT64_MAX	/* no bad entry */
#define REPAT_AUDIT_CHECKPOINT_FILE "checkpoint"	/* in AGENTDIR */
#define REPAT_AUDIT_ALARM_FILE	"AUDIT-ALARM"		/* in AGENTDIR */

/* ------------------------------------------------------------- keys */

/*
 * The checkpoint verifier of the broker certified by cert (role broker):
 * key name "repat-broker/<agent id>" over the certificate's Ed25519 key.
 * 0 or REPAT_ECERT with errbuf.
 */
int repat_audit_broker_key(X509 *cert, struct repat_note_verifier *v,
    char *errbuf);

/* ----------------------------------------------------- the database */

/*
 * MTH of the first size leaf hashes stored in db's audit table (size 0:
 * SHA-256("")). 0, REPAT_ECORRUPT for a missing or malformed leaf hash,
 * REPAT_EDB.
 */
int repat_audit_db_root(sqlite3 *db, uint64_t size,
    uint8_t out[REPAT_MERKLE_HASH_LEN]);

/*
 * The writer's frontier for the first size stored leaves (*out is the
 * caller's, repat_merkle_tree_destroy), as the broker rebuilds it at start.
 */
int repat_audit_db_tree(sqlite3 *db, uint64_t size,
    repat_merkle_tree_t **out);

/* Inclusion proof of leaf index at size from db (merkle.h semantics). */
int repat_audit_db_inclusion(sqlite3 *db, uint64_t index, uint64_t size,
    uint8_t proof[][REPAT_MERKLE_HASH_LEN], size_t *n);

/* Consistency proof from size1 to size2 from db (merkle.h semantics). */
int repat_audit_db_consistency(sqlite3 *db, uint64_t size1, uint64_t size2,
    uint8_t proof[][REPAT_MERKLE_HASH_LEN], size_t *n);

/*
 * The leaf index and stored bytes (*leaf, caller frees) of the
 * AUDIT_ACCEPTED entry of message_id (16 bytes) among the first size
 * entries. REPAT_ENOENT when there is none.
 */
int repat_audit_db_find_accepted(sqlite3 *db, const uint8_t *message_id,
    uint64_t size, uint64_t *index, uint8_t **leaf, size_t *leaf_len);

/* What repat_audit_verify_db found. */
struct repat_audit_report {
	uint64_t entries;	/* rows in the audit table */
	uint64_t checkpoints;	/* checkpoints checked (table and file) */
	uint64_t latest_size;	/* largest verified checkpoint, 0 if none */
	uint64_t bad_from;	/* first entry that does not match, or
				   REPAT_AUDIT_NONE */
	uint64_t bad_to;	/* the bad range ends before this index:
				   bad_from + 1 when the entry itself is
				   wrong; up to the checkpoint's size when
				   only a checkpoint disagrees */
	char why[REPAT_ERRBUF_LEN]; /* one sentence, "" when all is well */
};

/*
 * Recomputes the whole log of the broker database db: every entry
 * decodes, entry.index equals its position, leaf_hash = SHA-256(0x00 ||
 * entry); every stored checkpoint (and the note in checkpoint_file, when
 * not NULL) is signed by key, its size and root match its row, its root
 * matches the recomputed tree of that size, and consecutive checkpoints
 * are joined by a consistency proof. 0 when all is well; REPAT_ECORRUPT
 * (the log does not match: r names where), REPAT_ESIG (a checkpoint's
 * signature) or REPAT_EDB, with r->why filled either way.
 */
int repat_audit_verify_db(sqlite3 *db, const struct repat_note_verifier *key,
    const char *checkpoint_file, struct repat_audit_report *r)
    __attribute__((warn_unused_result));

/* One entry as a JSON object text (compact), for people; caller frees. */
char *repat_audit_entry_json(const Repat__AuditEntry *e);

/* ---------------------------------------------------- agent's view */

/*
 * The checkpoint the agent in dir last verified: *size and root, and the
 * note itself in *note (caller frees; may be NULL). REPAT_ENOENT when the
 * agent has none yet. The note is re-verified with key.
 */
int repat_audit_view_load(const char *dir,
    const struct repat_note_verifier *key, uint64_t *size,
    uint8_t root[REPAT_MERKLE_HASH_LEN], char *errbuf);

/*
 * Checks a new checkpoint note (signed by key) against the agent's view
 * with the consistency proof the broker sent (from the stored size to the
 * note's), and stores it when it is newer. 0 when it is consistent;
 * REPAT_ESIG or REPAT_ECORRUPT with errbuf otherwise, and then the alarm
 * is raised (repat_audit_alarm_raise). *new_size and new_root (either may
 * be NULL) receive the note's size and root.
 */
int repat_audit_view_update(const char *dir,
    const struct repat_note_verifier *key, const uint8_t *note,
    size_t note_len, const uint8_t (*proof)[REPAT_MERKLE_HASH_LEN],
    size_t nproof, uint64_t *new_size,
    uint8_t new_root[REPAT_MERKLE_HASH_LEN], char *errbuf)
    __attribute__((warn_unused_result));

/*
 * For a sender: ref (tree_size, root_hash pointing into root) from the
 * agent's verified view, to put in struct repat_message_spec .checkpoint.
 * REPAT_ENOENT when the agent has no view yet (send without one).
 */
int repat_audit_sender_ref(const char *dir,
    const struct repat_note_verifier *key, Repat__CheckpointRef *ref,
    uint8_t root[REPAT_MERKLE_HASH_LEN]);

/*
 * Cross-checks a checkpoint another party saw (an envelope header's
 * sender_checkpoint: size and root) against the agent's own view, asking
 * the broker through c for the consistency proofs that must join them.
 * Updates the view. 0 when both are views of one log; REPAT_ECORRUPT or
 * REPAT_ESIG (a forked log: the alarm is raised) or the client's error
 * (nothing proven either way) with errbuf.
 */
struct repat_client;
int repat_audit_cross_check(struct repat_client *c, const char *dir,
    const struct repat_note_verifier *key, uint64_t size,
    const uint8_t root[REPAT_MERKLE_HASH_LEN], int timeout_ms, char *errbuf)
    __attribute__((warn_unused_result));

/*
 * Writes or appends to DIR/AUDIT-ALARM (mode 0600) one line saying what
 * failed and when. Never fails silently: the line also goes to stderr.
 */
void repat_audit_alarm_raise(const char *dir, const char *what);

/*
 * When DIR/AUDIT-ALARM exists, prints it to f with how to clear it and
 * returns true. Every command calls it (cli main).
 */
bool repat_audit_alarm_print(const char *dir, FILE *f);

#endif
