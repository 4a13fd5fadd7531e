/*
 * cmd_proof.c: `repat proof MESSAGE_ID`, proof that the broker's audit log
 * records the acceptance of one of this agent's messages (DESIGN.md §8,
 * docs/audit.md).
 *
 * The broker answers with its latest signed checkpoint, the acceptance
 * entry's bytes and an inclusion proof, and a consistency proof from the
 * checkpoint this agent verified last (AGENTDIR/checkpoint). Everything is
 * checked here, with the broker's key from the pinned broker certificate:
 * the checkpoint's signature, that it extends the agent's previous one,
 * that the entry is the acceptance of this message, and that it is in the
 * tree. A failure is not a transient error: it is evidence that the
 * broker rewrote or forked its log, so it goes to AGENTDIR/AUDIT-ALARM,
 * which every audit command prints until a person removes it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "session.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/limits.h"
#include "repat/mem.h"

#define CMD "proof"

static int
usage_full(FILE *f)
{
	fprintf(f,
	    "usage: repat proof MESSAGE_ID [--dir AGENTDIR] "
	    "[--passphrase-file FILE] [--json]\n"
	    "       repat proof --checkpoint FILE [--dir AGENTDIR] "
	    "[--passphrase-file FILE]\n\n"
	    "Asks the broker for proof that its audit log records the\n"
	    "acceptance of MESSAGE_ID (32 hex digits, one of this agent's\n"
	    "messages, sent or received) and checks it here: the broker's\n"
	    "signed checkpoint (key from the pinned broker.crt), that it\n"
	    "extends the checkpoint this agent verified before\n"
	    "(AGENTDIR/checkpoint, updated), and the entry's inclusion.\n"
	    "A failed check writes AGENTDIR/AUDIT-ALARM.\n\n"
	    "--checkpoint FILE compares a checkpoint another agent saw (its\n"
	    "AGENTDIR/checkpoint, a signed note) with this agent's view: the\n"
	    "broker must show a consistency proof joining them, or it showed\n"
	    "the two agents different logs.\n\n"
	    "Exit: 0 proven, 1 refused or not found, 2 usage, 3 broker\n"
	    "unreachable, 4 the proof does not verify (alarm raised).\n\n"
	    "Example:\n"
	    "  repat proof 3f1c0e7a9b2d4c6e8f00112233445566 "
	    "--dir region/agents/TH.DATIP\n"
	    "  repat proof --checkpoint mm-dsw-checkpoint "
	    "--dir region/agents/TH.DATIP\n");
	return f == stdout ? REPAT_EXIT_OK : REPAT_EXIT_USAGE;
}

/* Raises the alarm and returns the untrusted exit code. */
static int
alarm_fail(const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
alarm_fail(const char *dir, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	repat_audit_alarm_raise(dir, what);
	return REPAT_EXIT_UNTRUSTED;
}

/* Checks the entry and its inclusion in the tree of (size, root). */
static int
check_inclusion(const char *dir, const Repat__Proof *p, const uint8_t id[16],
    uint64_t size, const uint8_t root[REPAT_MERKLE_HASH_LEN])
{
	uint8_t proof[REPAT_MERKLE_MAX_PROOF][REPAT_MERKLE_HASH_LEN];
	uint8_t leaf[REPAT_MERKLE_HASH_LEN];
	Repat__AuditEntry *e;
	char hex[33];
	size_t i;
	bool ok;

	repat_hex(id, 16, hex);
	if (!p->has_leaf || !p->has_leaf_index)
		return alarm_fail(dir, "the broker sent no entry for message "
		    "%s", hex);
	if (p->n_inclusion > REPAT_MERKLE_MAX_PROOF)
		return alarm_fail(dir, "the broker sent an inclusion proof of "
		    "%zu hashes", p->n_inclusion);
	for (i = 0; i < p->n_inclusion; i++) {
		if (p->inclusion[i].len != REPAT_MERKLE_HASH_LEN)
			return alarm_fail(dir, "the broker sent a proof hash "
			    "of %zu bytes", p->inclusion[i].len);
		memcpy(proof[i], p->inclusion[i].data, REPAT_MERKLE_HASH_LEN);
	}
	if (REPAT_DECODE(Repat__AuditEntry, audit_entry, p->leaf.data,
	    p->leaf.len, REPAT_MAX_FRAME, &e) != 0)
		return alarm_fail(dir, "the broker's entry for message %s does "
		    "not decode", hex);
	ok = e->kind == REPAT__AUDIT_KIND__AUDIT_ACCEPTED &&
	    e->index == p->leaf_index && e->has_message_id &&
	    e->message_id.len == 16 && memcmp(e->message_id.data, id, 16) == 0;
	repat_msg_free(e);
	if (!ok)
		return alarm_fail(dir, "the broker's entry %" PRIu64 " is not "
		    "the acceptance of message %s", p->leaf_index, hex);
	repat_merkle_leaf_hash(p->leaf.data, p->leaf.len, leaf);
	if (repat_merkle_verify_inclusion(p->leaf_index, size, leaf,
	    (const uint8_t (*)[REPAT_MERKLE_HASH_LEN])proof, p->n_inclusion,
	    root) != 0)
		return alarm_fail(dir, "the acceptance of message %s (entry %"
		    PRIu64 ") is not in the broker's signed log of %" PRIu64
		    " entries", hex, p->leaf_index, size);
	return REPAT_EXIT_OK;
}

/* --checkpoint FILE: another party's view against ours, via the broker. */
static int
compare(struct agent_session *s, const struct repat_note_verifier *key,
    const char *path)
{
	char err[REPAT_ERRBUF_LEN];
	uint8_t *buf, root[REPAT_MERKLE_HASH_LEN];
	uint64_t size;
	size_t len;
	int rc;

	if ((rc = repat_file_read(path, REPAT_NOTE_MAX, &buf, &len, err)) != 0)
		return cli_fail(CMD, REPAT_EXIT_FAIL, "%s", err);
	rc = repat_checkpoint_open(buf, len, key, &size, root, err);
	free(buf);
	if (rc != 0)
		return cli_fail(CMD, REPAT_EXIT_UNTRUSTED, "%s: not a checkpoint "
		    "of %s: %s", path, key->name, err);
	rc = repat_audit_cross_check(s->client, s->dir, key, size, root,
	    s->timeout_ms, err);
	if (rc == REPAT_ECORRUPT || rc == REPAT_ESIG)
		return REPAT_EXIT_UNTRUSTED;	/* the alarm is up */
	if (rc != 0)
		return cli_fail(CMD, rc == REPAT_ETIMEOUT ? REPAT_EXIT_QUEUED :
		    REPAT_EXIT_FAIL, "%s", err);
	printf("%s: the checkpoint of %" PRIu64 " entries is part of the log "
	    "this agent sees\n", path, size);
	return REPAT_EXIT_OK;
}

int
cmd_proof(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "checkpoint", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_session s;
	struct repat_note_verifier key;
	uint8_t id[16] = { 0 }, root[REPAT_MERKLE_HASH_LEN], old_root[32];
	uint8_t (*cons)[REPAT_MERKLE_HASH_LEN] = NULL;
	const char *dir_opt = NULL, *pass = NULL, *other = NULL;
	char err[REPAT_ERRBUF_LEN], hex[33], *text;
	Repat__Proof *p = NULL;
	uint64_t old_size = 0, size = 0;
	bool json = false;
	size_t i;
	json_t *j;
	int c, ex, rc;

	if (cli_wants_help(argc, argv))
		return usage_full(stdout);
	optind = 0;
	while ((c = cli_getopt(CMD, argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': dir_opt = optarg; break;
		case 'p': pass = optarg; break;
		case 'j': json = true; break;
		case 'k': other = optarg; break;
		default:
			return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind + (other == NULL) != argc)
		return cli_usage(CMD, other == NULL ? "give one MESSAGE_ID "
		    "(see --help)" : "--checkpoint takes no MESSAGE_ID");
	if (other == NULL &&
	    (ex = cli_parse_id(CMD, "MESSAGE_ID", argv[optind], id)) != 0)
		return ex;
	repat_hex(id, 16, hex);
	if ((ex = session_open(&s, CMD, dir_opt, pass)) != 0)
		return ex;
	if ((ex = session_keys(&s)) != 0 || (ex = session_connect(&s)) != 0) {
		if (ex == REPAT_EXIT_QUEUED)
			fprintf(stderr, "repat proof: the broker does not "
			    "answer; try again later\n");
		goto out;
	}
	if ((rc = repat_audit_broker_key(s.broker_cert, &key, err)) != 0) {
		ex = cli_fail(CMD, REPAT_EXIT_FAIL, "%s", err);
		goto out;
	}
	if (other != NULL) {
		ex = compare(&s, &key, other);
		goto out;
	}
	rc = repat_audit_view_load(s.dir, &key, &old_size, old_root, err);
	if (rc == REPAT_ENOENT) {
		old_size = 0;
	} else if (rc != 0) {
		ex = alarm_fail(s.dir, "%s", err);
		goto out;
	}
	rc = repat_client_proof(s.client, id, old_size, s.timeout_ms, &p, err);
	if (rc == REPAT_EREFUSED && old_size > 0) {
		/*
		 * A broker that no longer knows the size we verified went
		 * back: ask for its latest alone, which the view check then
		 * finds older than ours (or not joined to it).
		 */
		rc = repat_client_proof(s.client, id, 0, s.timeout_ms, &p,
		    err);
	}
	if (rc != 0) {
		ex = cli_fail(CMD, rc == REPAT_ETIMEOUT ? REPAT_EXIT_QUEUED :
		    REPAT_EXIT_FAIL, "%s", err);
		goto out;
	}
	if (p->n_consistency > REPAT_MERKLE_MAX_PROOF) {
		ex = alarm_fail(s.dir, "the broker sent a consistency proof of "
		    "%zu hashes", p->n_consistency);
		goto out;
	}
	cons = repat_xcalloc(p->n_consistency + 1, REPAT_MERKLE_HASH_LEN);
	for (i = 0; i < p->n_consistency; i++) {
		if (p->consistency[i].len != REPAT_MERKLE_HASH_LEN) {
			ex = alarm_fail(s.dir, "the broker sent a proof hash "
			    "of %zu bytes", p->consistency[i].len);
			goto out;
		}
		memcpy(cons[i], p->consistency[i].data, REPAT_MERKLE_HASH_LEN);
	}
	/* Signature and consistency with our previous view (alarm inside). */
	rc = repat_audit_view_update(s.dir, &key, p->checkpoint.data,
	    p->checkpoint.len, (const uint8_t (*)[REPAT_MERKLE_HASH_LEN])cons,
	    p->n_consistency, &size, root, err);
	if (rc != 0) {
		ex = rc == REPAT_ESIG || rc == REPAT_ECORRUPT ?
		    REPAT_EXIT_UNTRUSTED : cli_fail(CMD, REPAT_EXIT_FAIL, "%s",
		    err);
		goto out;
	}
	if ((ex = check_inclusion(s.dir, p, id, size, root)) != 0)
		goto out;
	if (json) {
		j = json_pack("{s:s, s:b, s:I, s:I, s:I, s:s}",
		    "message_id", hex, "proven", 1,
		    "entry", (json_int_t)p->leaf_index,
		    "checkpoint_size", (json_int_t)size,
		    "previous_size", (json_int_t)old_size,
		    "log", key.name);
		text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
		free(text);
		json_decref(j);
	} else {
		printf("message %s: accepted as entry %" PRIu64 " of the "
		    "broker's audit log\n", hex, p->leaf_index);
		printf("checkpoint: %" PRIu64 " entries, signed by %s, "
		    "verified\n", size, key.name);
		if (old_size > 0)
			printf("consistent with the checkpoint of %" PRIu64
			    " entries this agent verified before\n", old_size);
	}
	ex = REPAT_EXIT_OK;
out:
	free(cons);
	repat_msg_free(p);
	session_close(&s);
	return ex;
}
