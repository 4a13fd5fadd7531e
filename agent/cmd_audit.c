/*
 * cmd_audit.c: `repat audit verify` and `repat audit export`, the broker's
 * audit log checked from its database file (DESIGN.md §8, docs/audit.md
 * §6).
 *
 * verify recomputes the whole log (lib/audit_verify.c, the same code as
 * `repat-broker check`) and names the first entry that does not match.
 * export writes the leaves, their hashes and the signed checkpoints as
 * plain files, so that an outside auditor can redo the check with their
 * own tools (tests/integ/audit_verify.py is one such tool, standard
 * library Python only).
 *
 * The broker's checkpoint key should come from outside the database being
 * checked: --broker-cert, or the broker.crt pinned in an agent folder. The
 * key the broker stored in its own meta table is used only as a last
 * resort, with a warning, since whoever can rewrite the log can rewrite
 * that key too.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cli.h"
#include "repat/audit.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define CMD "audit"

static int
usage_full(FILE *f)
{
	fprintf(f,
	    "usage: repat audit verify --db BROKER.db [--broker-cert FILE |"
	    " --dir AGENTDIR]\n"
	    "                          [--checkpoint FILE] [--json]\n"
	    "       repat audit export --db BROKER.db --out DIR"
	    " [--broker-cert FILE | --dir AGENTDIR]\n"
	    "                          [--checkpoint FILE]\n\n"
	    "verify recomputes the broker's whole audit log from its "
	    "database:\n"
	    "every entry decodes and sits at its own index, every leaf hash "
	    "is\n"
	    "SHA-256(0x00 || entry), every signed checkpoint (the "
	    "checkpoints\n"
	    "table and BROKER.db.checkpoint, or --checkpoint) verifies with "
	    "the\n"
	    "broker's key and matches the recomputed tree of its size, and\n"
	    "consecutive checkpoints are consistent. It names the first "
	    "entry\n"
	    "that does not match and exits 1.\n\n"
	    "export writes, into a new or empty DIR, entries/NNNNNNNN.bin\n"
	    "(the leaf bytes) and .json,\n"
	    "DIR/leaves.txt, DIR/checkpoints/*.note, DIR/broker.vkey and a\n"
	    "README with the recipe for checking them with other tools.\n\n"
	    "The broker's key comes from --broker-cert, else AGENTDIR/broker.crt\n"
	    "(--dir or REPAT_DIR), else, with a warning, from the database.\n\n"
	    "Exit: 0 intact, 1 the log does not match (or cannot be read),\n"
	    "2 usage, 4 a checkpoint signature does not verify.\n\n"
	    "Examples:\n"
	    "  repat audit verify --db /var/lib/repat/broker.db "
	    "--broker-cert broker/sign.crt\n"
	    "  repat audit export --db broker.db --out audit-2026-11 "
	    "--broker-cert sign.crt\n");
	return f == stdout ? REPAT_EXIT_OK : REPAT_EXIT_USAGE;
}

struct opts {
	const char *db;
	const char *out;
	const char *cert;
	const char *dir;
	const char *checkpoint;
	bool json;
};

static int
parse(int argc, char **argv, struct opts *o, bool want_out)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "broker-cert", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "checkpoint", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	while ((c = cli_getopt(CMD, argc, argv, longopts)) != -1) {
		switch (c) {
		case 'b': o->db = optarg; break;
		case 'o': o->out = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'd': o->dir = optarg; break;
		case 'k': o->checkpoint = optarg; break;
		case 'j': o->json = true; break;
		default:
			return REPAT_EXIT_USAGE;	/* said */
		}
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (o->db == NULL)
		return cli_usage(CMD, "--db BROKER.db is required");
	if (want_out && o->out == NULL)
		return cli_usage(CMD, "--out DIR is required");
	if (!want_out && o->out != NULL)
		return cli_usage(CMD, "--out is for export");
	return REPAT_EXIT_OK;
}

/* The broker database, read-only, in one read transaction. */
static int
open_db(const char *path, sqlite3 **db)
{
	struct stat st;

	*db = NULL;
	if (stat(path, &st) != 0)
		return cli_fail(CMD, REPAT_EXIT_FAIL, "%s: %s", path,
		    strerror(errno));
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		cli_fail(CMD, REPAT_EXIT_FAIL, "%s: %s", path,
		    *db ? sqlite3_errmsg(*db) : "cannot open");
		sqlite3_close_v2(*db);
		*db = NULL;
		return REPAT_EXIT_FAIL;
	}
	sqlite3_busy_timeout(*db, 5000);
	(void)sqlite3_exec(*db, "BEGIN", NULL, NULL, NULL);
	return REPAT_EXIT_OK;
}

/* meta.value of name as a NUL-terminated string, or NULL. */
static char *
meta_text(sqlite3 *db, const char *name)
{
	sqlite3_stmt *s = NULL;
	char *v = NULL;
	int n;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_bytes(s, 0);
		v = repat_xmalloc((size_t)n + 1);
		memcpy(v, sqlite3_column_blob(s, 0), (size_t)n);
		v[n] = '\0';
	}
	sqlite3_finalize(s);
	return v;
}

/* The broker's checkpoint key; *from says where it came from. */
static int
load_key(const struct opts *o, sqlite3 *db, struct repat_note_verifier *v,
    const char **from)
{
	char err[REPAT_ERRBUF_LEN], *path = NULL, *vkey;
	const char *dir = o->dir;
	X509 *cert = NULL;
	int rc;

	if (o->cert == NULL && dir == NULL)
		dir = getenv("REPAT_DIR");
	if (o->cert != NULL || dir != NULL) {
		if (o->cert == NULL)
			path = repat_xasprintf("%s/broker.crt", dir);
		rc = repat_cert_load(o->cert ? o->cert : path, &cert, err);
		if (rc == 0) {
			rc = repat_audit_broker_key(cert, v, err);
			X509_free(cert);
		}
		free(path);
		if (rc != 0)
			return cli_fail(CMD, REPAT_EXIT_FAIL, "%s", err);
		*from = o->cert ? "--broker-cert" : "the agent's broker.crt";
		return REPAT_EXIT_OK;
	}
	if ((vkey = meta_text(db, "checkpoint_vkey")) == NULL)
		return cli_usage(CMD, "the broker's key is needed: give "
		    "--broker-cert FILE (the broker's sign.crt) or --dir "
		    "AGENTDIR");
	rc = repat_note_verifier_parse(vkey, v, err);
	free(vkey);
	if (rc != 0)
		return cli_fail(CMD, REPAT_EXIT_FAIL, "the key stored in %s: %s",
		    o->db, err);
	fprintf(stderr, "repat audit: warning: the broker's key was taken "
	    "from the database itself; give --broker-cert to check that the "
	    "checkpoints are the broker's\n");
	*from = "the database (unauthenticated)";
	return REPAT_EXIT_OK;
}

/* --checkpoint, else BROKER.db.checkpoint when it exists; caller frees. */
static char *
checkpoint_file(const struct opts *o)
{
	char *p;
	struct stat st;

	if (o->checkpoint != NULL)
		return repat_xstrdup(o->checkpoint);
	p = repat_xasprintf("%s.checkpoint", o->db);
	if (stat(p, &st) == 0)
		return p;
	free(p);
	return NULL;
}

static int
do_verify(int argc, char **argv)
{
	struct repat_audit_report r;
	struct repat_note_verifier key;
	const char *from = NULL;
	struct opts o;
	char *cfile, *text;
	sqlite3 *db;
	json_t *j;
	int rc, ex;

	if ((ex = parse(argc, argv, &o, false)) != 0)
		return ex;
	if ((ex = open_db(o.db, &db)) != 0)
		return ex;
	if ((ex = load_key(&o, db, &key, &from)) != 0) {
		sqlite3_close_v2(db);
		return ex;
	}
	cfile = checkpoint_file(&o);
	rc = repat_audit_verify_db(db, &key, cfile, &r);
	sqlite3_close_v2(db);
	if (o.json) {
		j = json_pack("{s:s, s:b, s:I, s:I, s:I, s:s, s:s}",
		    "database", o.db, "ok", rc == 0,
		    "entries", (json_int_t)r.entries,
		    "checkpoints", (json_int_t)r.checkpoints,
		    "latest_checkpoint", (json_int_t)r.latest_size,
		    "key", key.name, "key_from", from);
		if (rc != 0) {
			if (r.bad_from != REPAT_AUDIT_NONE) {
				json_object_set_new(j, "first_bad_entry",
				    json_integer((json_int_t)r.bad_from));
				json_object_set_new(j, "bad_until",
				    json_integer((json_int_t)r.bad_to));
			}
			json_object_set_new(j, "error", json_string(r.why));
		}
		text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
		free(text);
		json_decref(j);
	} else if (rc == 0) {
		printf("%s: %" PRIu64 " entries, %" PRIu64 " checkpoints "
		    "verified (latest %" PRIu64 ", key %s from %s): ok\n",
		    o.db, r.entries, r.checkpoints, r.latest_size, key.name,
		    from);
		if (r.latest_size < r.entries)
			printf("note: entries %" PRIu64 "..%" PRIu64 " are not "
			    "covered by a signed checkpoint yet\n",
			    r.latest_size, r.entries - 1);
	}
	if (rc != 0 && r.bad_from != REPAT_AUDIT_NONE)
		fprintf(stderr, "repat audit: %s: first entry that does not "
		    "match: %" PRIu64 "\nrepat audit: %s\n", o.db, r.bad_from,
		    r.why);
	else if (rc != 0)
		fprintf(stderr, "repat audit: %s: %s\n", o.db, r.why);
	free(cfile);
	return rc == 0 ? REPAT_EXIT_OK : rc == REPAT_ESIG ?
	    REPAT_EXIT_UNTRUSTED : REPAT_EXIT_FAIL;
}

/* ------------------------------------------------------------ export */

static const char readme[] =
"repat audit log export\n"
"======================\n"
"\n"
"Made by `repat audit export`. The format is docs/audit.md (sections\n"
"1-6); everything here can be checked without repat's code.\n"
"\n"
"  entries/NNNNNNNN.bin   leaf NNNNNNNN (decimal, from 0): the exact bytes\n"
"                         the broker hashed, a serialized AuditEntry\n"
"                         (proto/repat.proto). Never re-encode them.\n"
"  entries/NNNNNNNN.json  the same entry decoded, for people\n"
"  leaves.txt             one line per leaf: INDEX HEX(leaf hash) as the\n"
"                         broker stored it\n"
"  checkpoints/SIZE.note  every signed checkpoint the database holds\n"
"                         (C2SP signed note over a tlog-checkpoint)\n"
"  checkpoint.note        the broker's latest checkpoint kept outside its\n"
"                         database (BROKER.db.checkpoint), if it was found\n"
"  broker.vkey            the broker's verifier key (name+keyid+key);\n"
"                         compare it with the one from the region's\n"
"                         set-up papers before trusting anything below\n"
"\n"
"Recipe\n"
"------\n"
"1. For each i: leaf_hash(i) = SHA-256(0x00 || entries/i.bin) must equal\n"
"   line i of leaves.txt, and field 1 (index) of the entry must be i.\n"
"     printf '\\000' | cat - entries/00000000.bin | sha256sum\n"
"2. For each checkpoint note: check the Ed25519 signature of the broker's\n"
"   key over the note text (the three lines up to and including the\n"
"   newline before the blank line); docs/audit.md section 5 shows it\n"
"   with `openssl pkeyutl -verify -rawin`.\n"
"3. The root of the first SIZE leaf hashes (RFC 9162 MTH: node hash\n"
"   SHA-256(0x01 || left || right), split at the largest power of two\n"
"   below n) must equal the note's base64 root. Roots of prefixes of one\n"
"   leaf list are consistent with each other by construction.\n"
"4. The first index where 1. fails, or the first checkpoint where 3.\n"
"   fails, is where the log was changed.\n"
"\n"
"tests/integ/audit_verify.py in the repat sources does 1-4 with the\n"
"Python standard library (and `openssl` for 2).\n";

static int
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char err[REPAT_ERRBUF_LEN], *p = repat_xasprintf("%s/%s", dir, name);
	int rc;

	rc = repat_file_write(p, data, len, 0644, err);
	free(p);
	if (rc != 0)
		fprintf(stderr, "repat audit: %s\n", err);
	return rc;
}

/* An export never mixes with an older one: DIR is new or empty. */
static int
empty_dir(const char *p)
{
	struct dirent *d;
	DIR *dir;
	bool empty = true;

	if ((dir = opendir(p)) == NULL)
		return REPAT_EXIT_OK;	/* created below */
	while (empty && (d = readdir(dir)) != NULL)
		empty = strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0;
	closedir(dir);
	if (!empty)
		return cli_fail(CMD, REPAT_EXIT_USAGE, "%s is not empty: export "
		    "into a new folder", p);
	return REPAT_EXIT_OK;
}

static int
mkdir_p(const char *p)
{
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return cli_fail(CMD, REPAT_EXIT_FAIL, "%s: %s", p,
		    strerror(errno));
	return REPAT_EXIT_OK;
}

static int
export_entries(sqlite3 *db, const char *out, uint64_t *count)
{
	Repat__AuditEntry *e;
	sqlite3_stmt *s = NULL;
	FILE *leaves;
	char name[64], hex[65], *path, *js;
	const uint8_t *buf;
	size_t len;
	uint64_t idx;
	int rc = 0;

	path = repat_xasprintf("%s/leaves.txt", out);
	leaves = fopen(path, "w");
	free(path);
	if (leaves == NULL)
		return cli_fail(CMD, REPAT_EXIT_FAIL, "%s/leaves.txt: %s", out,
		    strerror(errno));
	if (sqlite3_prepare_v2(db, "SELECT idx, entry, leaf_hash FROM audit"
	    " ORDER BY idx", -1, &s, NULL) != SQLITE_OK) {
		fclose(leaves);
		return cli_fail(CMD, REPAT_EXIT_FAIL, "no audit table: %s",
		    sqlite3_errmsg(db));
	}
	*count = 0;
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		idx = (uint64_t)sqlite3_column_int64(s, 0);
		buf = sqlite3_column_blob(s, 1);
		len = (size_t)sqlite3_column_bytes(s, 1);
		snprintf(name, sizeof(name), "entries/%08" PRIu64 ".bin", idx);
		rc = write_file(out, name, buf, len);
		if (sqlite3_column_bytes(s, 2) == 32)
			repat_hex(sqlite3_column_blob(s, 2), 32, hex);
		else
			snprintf(hex, sizeof(hex), "-");
		fprintf(leaves, "%" PRIu64 " %s\n", idx, hex);
		if (rc == 0 && len > 0 && REPAT_DECODE(Repat__AuditEntry,
		    audit_entry, buf, len, REPAT_MAX_FRAME, &e) == 0) {
			js = repat_audit_entry_json(e);
			repat_msg_free(e);
			snprintf(name, sizeof(name), "entries/%08" PRIu64
			    ".json", idx);
			path = repat_xasprintf("%s\n", js);
			rc = write_file(out, name, path, strlen(path));
			free(path);
			free(js);
		}
		(*count)++;
	}
	sqlite3_finalize(s);
	if (fclose(leaves) != 0)
		rc = REPAT_EIO;
	return rc == 0 ? REPAT_EXIT_OK : REPAT_EXIT_FAIL;
}

static int
export_checkpoints(sqlite3 *db, const char *out, const char *cfile,
    uint64_t *count)
{
	char err[REPAT_ERRBUF_LEN], name[64];
	sqlite3_stmt *s = NULL;
	uint8_t *buf;
	size_t len;
	int rc = 0;

	*count = 0;
	if (sqlite3_prepare_v2(db, "SELECT size, note FROM checkpoints"
	    " ORDER BY size", -1, &s, NULL) == SQLITE_OK) {
		while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
			snprintf(name, sizeof(name), "checkpoints/%08" PRIu64
			    ".note", (uint64_t)sqlite3_column_int64(s, 0));
			rc = write_file(out, name, sqlite3_column_blob(s, 1),
			    (size_t)sqlite3_column_bytes(s, 1));
			(*count)++;
		}
		sqlite3_finalize(s);
	}
	if (rc == 0 && cfile != NULL) {
		if ((rc = repat_file_read(cfile, REPAT_NOTE_MAX, &buf, &len,
		    err)) != 0)
			return cli_fail(CMD, REPAT_EXIT_FAIL, "%s", err);
		rc = write_file(out, "checkpoint.note", buf, len);
		free(buf);
		(*count)++;
	}
	return rc == 0 ? REPAT_EXIT_OK : REPAT_EXIT_FAIL;
}

static int
do_export(int argc, char **argv)
{
	struct repat_note_verifier key;
	const char *from = NULL;
	struct opts o;
	char *cfile = NULL, *vkey, *sub;
	uint64_t n = 0, nc = 0;
	sqlite3 *db;
	int ex;

	if ((ex = parse(argc, argv, &o, true)) != 0)
		return ex;
	if ((ex = open_db(o.db, &db)) != 0)
		return ex;
	if ((ex = load_key(&o, db, &key, &from)) != 0)
		goto out;
	cfile = checkpoint_file(&o);
	if ((ex = empty_dir(o.out)) != 0 || (ex = mkdir_p(o.out)) != 0)
		goto out;
	sub = repat_xasprintf("%s/entries", o.out);
	ex = mkdir_p(sub);
	free(sub);
	if (ex != 0)
		goto out;
	sub = repat_xasprintf("%s/checkpoints", o.out);
	ex = mkdir_p(sub);
	free(sub);
	if (ex != 0)
		goto out;
	if ((ex = export_entries(db, o.out, &n)) != 0 ||
	    (ex = export_checkpoints(db, o.out, cfile, &nc)) != 0)
		goto out;
	vkey = repat_note_verifier_format(&key);
	sub = repat_xasprintf("%s\n", vkey);
	free(vkey);
	if (write_file(o.out, "broker.vkey", sub, strlen(sub)) != 0 ||
	    write_file(o.out, "README", readme, strlen(readme)) != 0)
		ex = REPAT_EXIT_FAIL;
	free(sub);
	if (ex == 0)
		printf("exported %" PRIu64 " entries and %" PRIu64
		    " checkpoints of %s to %s (key %s from %s)\n", n, nc, o.db,
		    o.out, key.name, from);
out:
	free(cfile);
	sqlite3_close_v2(db);
	return ex;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv))
		return usage_full(argc < 2 ? stderr : stdout);
	if (strcmp(argv[1], "verify") == 0)
		return do_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return do_export(argc - 1, argv + 1);
	return cli_usage(CMD, "unknown subcommand '%s' (verify or export)",
	    argv[1]);
}
