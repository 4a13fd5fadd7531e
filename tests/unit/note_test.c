/*
 * note_test.c: C2SP signed notes and tlog checkpoints against the
 * published examples (tests/data/vectors/signed-note/): key parsing and
 * IDs, byte-exact signing with the deterministic Go keys, opening with
 * one or several keys; then forgeries and malformed notes, and checkpoint
 * text round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "repat/codec.h"
#include "repat/err.h"
#include "repat/mem.h"
#include "repat/note.h"

#define VEC	"tests/data/vectors/signed-note/signed-note-examples.json"

static json_t *vec;

static int
load(void **state)
{
	json_error_t jerr;

	(void)state;
	vec = json_load_file(VEC, 0, &jerr);
	return vec == NULL ? -1 : 0;
}

static int
unload(void **state)
{
	(void)state;
	json_decref(vec);
	vec = NULL;
	return 0;
}

/* vec.obj.key, which must exist. */
static const char *
str(const char *obj, const char *key)
{
	const char *s;

	s = json_string_value(json_object_get(json_object_get(vec, obj), key));
	assert_non_null(s);
	return s;
}

static void
parse_vkey(const char *obj, const char *key, struct repat_note_verifier *v)
{
	char err[REPAT_ERRBUF_LEN] = "";

	if (repat_note_verifier_parse(str(obj, key), v, err) != 0)
		fail_msg("%s.%s: %s", obj, key, err);
}

static repat_note_signer_t *
parse_skey(const char *obj, const char *key)
{
	char err[REPAT_ERRBUF_LEN] = "";
	repat_note_signer_t *s;

	if ((s = repat_note_signer_parse(str(obj, key), err)) == NULL)
		fail_msg("%s.%s: %s", obj, key, err);
	return s;
}

static int
open_str(const char *note, const struct repat_note_verifier *k, size_t nk,
    struct repat_note **out)
{
	return repat_note_open((const uint8_t *)note, strlen(note), k, nk, out,
	    NULL);
}

/* ---------------------------------------------------------------- keys */

static void
vkeys_parse(void **state)
{
	static const char *const objs[] = { "c2sp_signed_note_example",
	    "go_sumdb_note_example" };
	struct repat_note_verifier v;
	uint8_t pub[REPAT_NOTE_PUB_LEN];
	char hex[9], *back;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		parse_vkey(objs[i], "vkey", &v);
		assert_string_equal(v.name, str(objs[i], "key_name"));
		snprintf(hex, sizeof(hex), "%08x", (unsigned)v.id);
		assert_string_equal(hex, str(objs[i], "key_id"));
		assert_int_equal(repat_unhex(str(objs[i], "public_key_hex"),
		    pub, sizeof(pub)), 0);
		assert_memory_equal(v.pub, pub, sizeof(pub));
		assert_int_equal(repat_note_key_id(v.name, pub), v.id);
		back = repat_note_verifier_format(&v);
		assert_string_equal(back, str(objs[i], "vkey"));
		free(back);
	}
	parse_vkey("go_sumdb_note_add_signature_example", "derived_vkey", &v);
	assert_string_equal(v.name, "EnochRoot");
	assert_int_equal(v.id, 0xaf0cfe78);
}

static void
skeys_parse(void **state)
{
	const struct repat_note_verifier *sv;
	struct repat_note_verifier v;
	repat_note_signer_t *s;
	uint8_t seed[REPAT_NOTE_SEED_LEN];
	char *back;

	(void)state;
	s = parse_skey("go_sumdb_note_example", "skey");
	parse_vkey("go_sumdb_note_example", "vkey", &v);
	sv = repat_note_signer_verifier(s);
	assert_string_equal(sv->name, "PeterNeumann");
	assert_int_equal(sv->id, 0xc74f20a3);
	assert_memory_equal(sv->pub, v.pub, REPAT_NOTE_PUB_LEN);
	back = repat_note_verifier_format(sv);
	assert_string_equal(back, str("go_sumdb_note_example", "vkey"));
	free(back);

	assert_int_equal(repat_unhex(str("go_sumdb_note_example",
	    "private_seed_hex"), seed, sizeof(seed)), 0);
	back = repat_note_signer_format("PeterNeumann", seed);
	assert_non_null(back);
	assert_string_equal(back, str("go_sumdb_note_example", "skey"));
	repat_free_secret(back, strlen(back));
	repat_note_signer_destroy(&s);
	assert_null(s);
	repat_note_signer_destroy(&s);

	/* The all-zero seed: EnochRoot. */
	memset(seed, 0, sizeof(seed));
	back = repat_note_signer_format("EnochRoot", seed);
	assert_string_equal(back, str("go_sumdb_note_add_signature_example",
	    "derived_skey"));
	repat_free_secret(back, strlen(back));
	s = parse_skey("go_sumdb_note_add_signature_example", "derived_skey");
	back = repat_note_verifier_format(repat_note_signer_verifier(s));
	assert_string_equal(back, str("go_sumdb_note_add_signature_example",
	    "derived_vkey"));
	free(back);
	repat_note_signer_destroy(&s);
}

static void
bad_keys_refused(void **state)
{
#define FOO_KEY "AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
	static const char *const bad_vkeys[] = {
		"",
		"example.com/foo",
		"example.com/foo+530d903a",
		/* wrong key ID */
		"example.com/foo+530d903b+" FOO_KEY,
		/* 7 hex digits */
		"example.com/foo+530d903+" FOO_KEY,
		/* another name under the same ID and key */
		"example.com/bar+530d903a+" FOO_KEY,
		/* algorithm byte 0x02 */
		"example.com/foo+530d903a+"
		    "AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		/* key one byte short */
		"example.com/foo+530d903a+"
		    "AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U0=",
		/* another key under the same name and ID */
		"example.com/foo+530d903a+"
		    "AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l",
		/* names with a space, and empty */
		"example com+530d903a+" FOO_KEY,
		"+530d903a+" FOO_KEY,
	};
#undef FOO_KEY

	char err[REPAT_ERRBUF_LEN];
	struct repat_note_verifier v;
	uint8_t seed[REPAT_NOTE_SEED_LEN] = { 0 };
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_vkeys) / sizeof(bad_vkeys[0]); i++) {
		err[0] = '\0';
		if (repat_note_verifier_parse(bad_vkeys[i], &v, err) !=
		    REPAT_EINVAL)
			fail_msg("accepted: %s", bad_vkeys[i]);
		assert_true(err[0] != '\0');
		assert_int_equal(v.name[0], '\0');
	}
	/* A vkey is not an skey, and an skey's ID is checked. */
	assert_null(repat_note_signer_parse(str("go_sumdb_note_example",
	    "vkey"), err));
	assert_null(repat_note_signer_parse(
	    "PRIVATE+KEY+PeterNeumann+c74f20a4+"
	    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", err));
	assert_null(repat_note_signer_parse(
	    "PRIVATE+KEY+PeterNeuman+c74f20a3+"
	    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", err));
	assert_false(repat_note_name_is_valid("a+b"));
	/* No-break space and U+3000 are Unicode spaces. */
	assert_false(repat_note_name_is_valid("a\xc2\xa0" "b"));
	assert_false(repat_note_name_is_valid("a\xe3\x80\x80" "b"));
	assert_false(repat_note_name_is_valid("\xff"));
	assert_true(repat_note_name_is_valid("repat-broker/TH.BROKER"));
	assert_null(repat_note_signer_format("bad name", seed));
	s = repat_note_signer_format("ok", seed);
	assert_non_null(s);
	repat_free_secret(s, strlen(s));
}

/* --------------------------------------------------------------- notes */

static void
sign_byte_exact(void **state)
{
	const char *text = str("go_sumdb_note_example", "text");
	repat_note_signer_t *s[2];
	char *note;
	size_t len;

	(void)state;
	s[0] = parse_skey("go_sumdb_note_example", "skey");
	s[1] = parse_skey("go_sumdb_note_add_signature_example",
	    "derived_skey");
	assert_int_equal(repat_note_sign(text, strlen(text), s, 1, &note,
	    &len, NULL), 0);
	assert_int_equal(len, strlen(note));
	assert_string_equal(note, str("go_sumdb_note_example",
	    "signed_note"));
	free(note);

	assert_int_equal(repat_note_sign(text, strlen(text), s, 2, &note,
	    &len, NULL), 0);
	assert_string_equal(note, str("go_sumdb_note_add_signature_example",
	    "signed_note"));
	free(note);
	repat_note_signer_destroy(&s[0]);
	repat_note_signer_destroy(&s[1]);
}

static void
open_examples(void **state)
{
	struct repat_note_verifier k[2];
	struct repat_note *n;
	const char *multi;

	(void)state;
	parse_vkey("c2sp_signed_note_example", "vkey", &k[0]);
	assert_int_equal(open_str(str("c2sp_signed_note_example",
	    "signed_note"), k, 1, &n), 0);
	assert_string_equal(n->text, str("c2sp_signed_note_example", "text"));
	assert_int_equal(n->text_len, strlen(n->text));
	assert_int_equal(n->nsigs, 1);
	assert_true(n->sigs[0].verified);
	assert_string_equal(n->sigs[0].name, "example.com/foo");
	assert_int_equal(n->sigs[0].id, 0x530d903a);
	repat_note_free(&n);
	assert_null(n);

	parse_vkey("go_sumdb_note_example", "vkey", &k[0]);
	assert_int_equal(open_str(str("go_sumdb_note_example", "signed_note"),
	    k, 1, &n), 0);
	assert_string_equal(n->text, str("go_sumdb_note_example", "text"));
	repat_note_free(&n);

	/* Two signatures: each key alone verifies its own, keeps the other. */
	multi = str("go_sumdb_note_add_signature_example", "signed_note");
	parse_vkey("go_sumdb_note_add_signature_example", "derived_vkey",
	    &k[1]);
	assert_int_equal(open_str(multi, k, 1, &n), 0);
	assert_int_equal(n->nsigs, 2);
	assert_true(n->sigs[0].verified);
	assert_false(n->sigs[1].verified);
	assert_string_equal(n->sigs[1].name, "EnochRoot");
	assert_int_equal(n->sigs[1].id, 0xaf0cfe78);
	assert_string_equal(n->sigs[1].b64, "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSd"
	    "eX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=");
	repat_note_free(&n);
	assert_int_equal(open_str(multi, k + 1, 1, &n), 0);
	assert_false(n->sigs[0].verified);
	assert_true(n->sigs[1].verified);
	repat_note_free(&n);
	assert_int_equal(open_str(multi, k, 2, &n), 0);
	assert_true(n->sigs[0].verified && n->sigs[1].verified);
	repat_note_free(&n);

	/*
	 * The spec's opening example (blank line and non-ASCII inside the
	 * text) parses: with no key for it, it is refused as unsigned, not
	 * as malformed.
	 */
	assert_int_equal(open_str(str("c2sp_signed_note_intro_example",
	    "signed_note"), k, 2, &n), REPAT_ESIG);
	assert_null(n);
}

static void
intro_example_text_split(void **state)
{
	const char *msg = str("c2sp_signed_note_intro_example", "signed_note");
	struct repat_note_verifier fake;
	struct repat_note *n = (void *)1;
	uint8_t pub[REPAT_NOTE_PUB_LEN];

	(void)state;
	/*
	 * A known key under the note's name and ID but with another public
	 * key: the line is matched and checked, and fails. Had the parser
	 * split the text at the first blank line, the poem's third line
	 * would not be a signature line and the note would be EINVAL.
	 */
	memset(pub, 7, sizeof(pub));
	assert_int_equal(repat_note_verifier_init(&fake,
	    "quasimodo.example/salvatore", pub), 0);
	fake.id = 0x367ba04b;	/* base64 "NnugSw" */
	assert_int_equal(open_str(msg, &fake, 1, &n), REPAT_ESIG);
	assert_null(n);
	fake.id ^= 1;		/* now unknown: refused as unsigned */
	assert_int_equal(open_str(msg, &fake, 1, &n), REPAT_ESIG);
}

/* The Go note with one byte changed at offset off to c. */
static int
open_altered(size_t off, char c, const struct repat_note_verifier *k)
{
	struct repat_note *n = (void *)1;
	char *m = repat_xstrdup(str("go_sumdb_note_example", "signed_note"));
	int rc;

	assert_true(off < strlen(m));
	m[off] = c;
	rc = open_str(m, k, 1, &n);
	if (rc != 0)
		assert_null(n);
	repat_note_free(&n);
	free(m);
	return rc;
}

static void
forgeries_refused(void **state)
{
	const char *good = str("go_sumdb_note_example", "signed_note");
	struct repat_note_verifier k, other;
	size_t sigat = strlen(str("go_sumdb_note_example", "text")) + 1 + 4 +
	    strlen("PeterNeumann") + 1;
	struct repat_note *n;

	(void)state;
	parse_vkey("go_sumdb_note_example", "vkey", &k);
	assert_int_equal(open_altered(0, 'i', &k), REPAT_ESIG); /* text */
	assert_int_equal(open_altered(30, 'X', &k), REPAT_ESIG);
	/* The signature's 20th base64 character, well inside sig bytes. */
	assert_int_equal(open_altered(sigat + 20, good[sigat + 20] == 'A' ?
	    'B' : 'A', &k), REPAT_ESIG);
	/* The key ID inside the signature: now an unknown key. */
	assert_int_equal(open_altered(sigat + 1, good[sigat + 1] == 'A' ?
	    'B' : 'A', &k), REPAT_ESIG);
	/* The key name on the line: unknown key, nothing verifies. */
	assert_int_equal(open_altered(sigat - 2, 'X', &k), REPAT_ESIG);

	/* A key of another name with the same public key: unknown. */
	assert_int_equal(repat_note_verifier_init(&other, "PeterNeumann2",
	    k.pub), 0);
	assert_int_equal(open_str(good, &other, 1, &n), REPAT_ESIG);
	/* No keys at all. */
	assert_int_equal(open_str(good, NULL, 0, &n), REPAT_ESIG);
	/* Wrong public key under the right name and ID: checked and bad. */
	other = k;
	other.pub[0] ^= 1;
	assert_int_equal(open_str(good, &other, 1, &n), REPAT_ESIG);
	assert_null(n);
}

static void
malformed_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"text\n",
		"text\n\n",
		/* no final newline */
		"text\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/Sffc",
		/* no em dash, a hyphen instead */
		"text\n\n- PeterNeumann x08go/ZJ\n",
		/* no signature after the name */
		"text\n\n\xe2\x80\x94 PeterNeumann\n",
		"text\n\n\xe2\x80\x94 PeterNeumann \n",
		/* signature shorter than 5 bytes */
		"text\n\n\xe2\x80\x94 PeterNeumann x08g\n",
		/* not base64 */
		"text\n\n\xe2\x80\x94 PeterNeumann x08go/ZJ!!!!\n",
		/* control character, invalid UTF-8, a NUL */
		"te\txt\n\n\xe2\x80\x94 PeterNeumann x08go/ZJ\n",
		"te\xc3\x28xt\n\n\xe2\x80\x94 PeterNeumann x08go/ZJ\n",
		"te\xed\xa0\x80xt\n\n\xe2\x80\x94 PeterNeumann x08go/ZJ\n",
		"text\r\n\n\xe2\x80\x94 PeterNeumann x08go/ZJ\n",
		/* empty key name */
		"text\n\n\xe2\x80\x94  x08go/ZJ\n",
	};
	struct repat_note_verifier k;
	struct repat_note *n = (void *)1;
	char err[REPAT_ERRBUF_LEN];
	size_t i;
	uint8_t nul[] = "text\n\n\xe2\x80\x94 PeterNeumann x08go/ZJ\n";

	(void)state;
	parse_vkey("go_sumdb_note_example", "vkey", &k);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (repat_note_open((const uint8_t *)bad[i], strlen(bad[i]),
		    &k, 1, &n, err) != REPAT_EINVAL)
			fail_msg("bad[%zu] not refused as malformed", i);
		assert_null(n);
		assert_true(err[0] != '\0');
	}
	nul[2] = '\0';
	assert_int_equal(repat_note_open(nul, sizeof(nul) - 1, &k, 1, &n,
	    NULL), REPAT_EINVAL);
	assert_int_equal(repat_note_open(NULL, 0, &k, 1, &n, NULL),
	    REPAT_EINVAL);
}

static void
huge_refused(void **state)
{
	const char *good = str("go_sumdb_note_example", "signed_note");
	const char *text = str("go_sumdb_note_example", "text");
	const char *line = strstr(good, "\xe2\x80\x94");
	struct repat_note_verifier k;
	repat_note_signer_t *s;
	struct repat_note *n = (void *)1;
	size_t tl = strlen(text), ll = strlen(line), i, len;
	char *big, *out;

	(void)state;
	parse_vkey("go_sumdb_note_example", "vkey", &k);
	s = parse_skey("go_sumdb_note_example", "skey");

	/* Over REPAT_NOTE_MAX, refused before anything else. */
	big = repat_xmalloc(REPAT_NOTE_MAX + 2);
	memset(big, 'a', REPAT_NOTE_MAX + 1);
	big[REPAT_NOTE_MAX + 1] = '\0';
	assert_int_equal(open_str(big, &k, 1, &n), REPAT_ETOOBIG);
	assert_null(n);
	big[REPAT_NOTE_MAX - 1] = '\n';
	assert_int_equal(repat_note_sign(big, REPAT_NOTE_MAX + 1, &s, 1, &out,
	    &len, NULL), REPAT_ETOOBIG);
	assert_null(out);
	/* Text that fits, but not with its signature. */
	assert_int_equal(repat_note_sign(big, REPAT_NOTE_MAX, &s, 1, &out,
	    &len, NULL), REPAT_ETOOBIG);
	free(big);

	/* The same valid signature line 32 times is fine (kept once)... */
	big = repat_xmalloc(tl + 1 + (REPAT_NOTE_MAX_SIGS + 1) * ll + 1);
	memcpy(big, good, tl + 1);
	for (i = 0; i < REPAT_NOTE_MAX_SIGS; i++)
		memcpy(big + tl + 1 + i * ll, line, ll);
	big[tl + 1 + i * ll] = '\0';
	assert_int_equal(open_str(big, &k, 1, &n), 0);
	assert_int_equal(n->nsigs, 1);
	repat_note_free(&n);
	/* ...33 times is not. */
	memcpy(big + tl + 1 + i * ll, line, ll + 1);
	assert_int_equal(open_str(big, &k, 1, &n), REPAT_ETOOBIG);
	assert_null(n);
	free(big);
	repat_note_signer_destroy(&s);
}

static void
sign_refuses_bad_text(void **state)
{
	static const char *const bad[] = {
		"", "no newline", "tab\there\n", "bad \xff utf8\n",
	};
	struct repat_note_verifier v;
	repat_note_signer_t *s;
	struct repat_note *n;
	char *out = (void *)1;
	size_t len, i;

	(void)state;
	s = parse_skey("go_sumdb_note_example", "skey");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(repat_note_sign(bad[i], strlen(bad[i]), &s, 1,
		    &out, &len, NULL), REPAT_EINVAL);
		assert_null(out);
	}
	assert_int_equal(repat_note_sign("ok\n", 3, &s, 0, &out, &len, NULL),
	    REPAT_EINVAL);
	/* Blank lines inside the text are allowed by the spec. */
	v = *repat_note_signer_verifier(s);
	assert_int_equal(repat_note_sign("a\n\nb\n\n", 6, &s, 1, &out, &len,
	    NULL), 0);
	assert_int_equal(repat_note_open((uint8_t *)out, len, &v, 1, &n,
	    NULL), 0);
	assert_string_equal(n->text, "a\n\nb\n\n");
	repat_note_free(&n);
	free(out);
	repat_note_signer_destroy(&s);
}

static void
signer_from_evp_key(void **state)
{
	struct repat_note_verifier v;
	repat_note_signer_t *s;
	struct repat_note *n;
	EVP_PKEY *key = NULL, *x = NULL;
	EVP_PKEY_CTX *ctx;
	char *note, *vkey;
	size_t len;

	(void)state;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_keygen(ctx, &key), 1);
	EVP_PKEY_CTX_free(ctx);
	s = repat_note_signer_new("repat-broker/TH.BROKER", key, NULL);
	assert_non_null(s);
	EVP_PKEY_free(key);	/* the signer holds its own reference */

	/* What the broker publishes is what an agent parses. */
	vkey = repat_note_verifier_format(repat_note_signer_verifier(s));
	assert_int_equal(repat_note_verifier_parse(vkey, &v, NULL), 0);
	free(vkey);
	assert_int_equal(repat_note_sign("hello\n", 6, &s, 1, &note, &len,
	    NULL), 0);
	assert_int_equal(repat_note_open((uint8_t *)note, len, &v, 1, &n,
	    NULL), 0);
	assert_string_equal(n->text, "hello\n");
	repat_note_free(&n);
	free(note);
	repat_note_signer_destroy(&s);

	/* X25519 keys and bad names are refused. */
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_keygen(ctx, &x), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_null(repat_note_signer_new("x", x, NULL));
	EVP_PKEY_free(x);
	assert_null(repat_note_signer_new("x", NULL, NULL));
}

/* ---------------------------------------------------------- checkpoint */

static void
checkpoint_text(void **state)
{
	static const char spec[] = "example.com/behind-the-sofa\n20852163\n"
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	static const char *const bad[] = {
		"origin\n1\n",
		"origin\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n18446744073709551616\n"
		    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
		"\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n 1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		/* not canonical: the bits under the padding are not zero */
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
	};
	uint8_t root[REPAT_NOTE_HASH_LEN], back[REPAT_NOTE_HASH_LEN];
	char *origin = (void *)1, *text;
	uint64_t size;
	size_t i;

	(void)state;
	assert_int_equal(repat_checkpoint_parse(spec, strlen(spec), &origin,
	    &size, root, NULL), 0);
	assert_string_equal(origin, "example.com/behind-the-sofa");
	assert_int_equal(size, 20852163);
	text = repat_checkpoint_format(origin, size, root);
	assert_string_equal(text, spec);
	free(text);
	free(origin);

	/* Extremes of the size, and an extension line. */
	memset(root, 0x5a, sizeof(root));
	text = repat_checkpoint_format("repat-broker/TH.BROKER", UINT64_MAX,
	    root);
	assert_int_equal(repat_checkpoint_parse(text, strlen(text), &origin,
	    &size, back, NULL), 0);
	assert_int_equal(size, UINT64_MAX);
	assert_memory_equal(back, root, sizeof(root));
	free(origin);
	free(text);
	text = repat_xasprintf("%sext line\n", spec);
	assert_int_equal(repat_checkpoint_parse(text, strlen(text), &origin,
	    &size, back, NULL), 0);
	free(origin);
	free(text);
	text = repat_checkpoint_format("o", 0, root);
	assert_int_equal(repat_checkpoint_parse(text, strlen(text), &origin,
	    &size, back, NULL), 0);
	assert_int_equal(size, 0);
	free(origin);
	free(text);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (repat_checkpoint_parse(bad[i], strlen(bad[i]), &origin,
		    &size, back, NULL) != REPAT_EINVAL)
			fail_msg("bad[%zu] accepted", i);
		assert_null(origin);
	}
	assert_null(repat_checkpoint_format("", 1, root));
	assert_null(repat_checkpoint_format("two\nlines", 1, root));
}

static void
checkpoint_signed(void **state)
{
	struct repat_note_verifier pv, ev;
	repat_note_signer_t *peter, *enoch;
	uint8_t root[REPAT_NOTE_HASH_LEN], back[REPAT_NOTE_HASH_LEN];
	char *note, *text;
	uint64_t size;
	size_t len;

	(void)state;
	peter = parse_skey("go_sumdb_note_example", "skey");
	enoch = parse_skey("go_sumdb_note_add_signature_example",
	    "derived_skey");
	pv = *repat_note_signer_verifier(peter);
	ev = *repat_note_signer_verifier(enoch);
	memset(root, 0x42, sizeof(root));

	assert_int_equal(repat_checkpoint_sign(peter, 77, root, &note, &len,
	    NULL), 0);
	assert_memory_equal(note, "PeterNeumann\n77\nQkJC", 20);
	assert_int_equal(repat_checkpoint_open((uint8_t *)note, len, &pv,
	    &size, back, NULL), 0);
	assert_int_equal(size, 77);
	assert_memory_equal(back, root, sizeof(root));
	/* Someone else's key: not the log's. */
	assert_int_equal(repat_checkpoint_open((uint8_t *)note, len, &ev,
	    &size, back, NULL), REPAT_ESIG);
	free(note);

	/* Signed by the log's key, but naming another origin. */
	text = repat_checkpoint_format("EnochRoot", 77, root);
	assert_int_equal(repat_note_sign(text, strlen(text), &peter, 1, &note,
	    &len, NULL), 0);
	assert_int_equal(repat_checkpoint_open((uint8_t *)note, len, &pv,
	    &size, back, NULL), REPAT_EINVAL);
	free(note);
	free(text);

	/* A signed note that is not a checkpoint. */
	assert_int_equal(repat_note_sign("PeterNeumann\n\n", 14, &peter, 1,
	    &note, &len, NULL), 0);
	assert_int_equal(repat_checkpoint_open((uint8_t *)note, len, &pv,
	    &size, back, NULL), REPAT_EINVAL);
	free(note);
	repat_note_signer_destroy(&peter);
	repat_note_signer_destroy(&enoch);
}

/*
 * A checkpoint made outside repat (Python: hashlib and pyca/cryptography)
 * with the PeterNeumann key, over the 13-leaf tree of merkle_test.c.
 */
static void
independent_checkpoint(void **state)
{
	static const char cp[] = "PeterNeumann\n13\n"
	    "YpnFvp0+cNOmLe++RYDUYjaOjgN4RBX9y8yNK3/Mj4s=\n\n"
	    "\xe2\x80\x94 PeterNeumann x08gow6xF+FfHEyJgwZevURMKkvB8gJ+TPk96ame"
	    "Qg54vEPfks3/KsNcD8AVSIZvzqHqgq0CDVXoVlNrin/pzHaGKQE=\n";
	struct repat_note_verifier k;
	uint8_t root[REPAT_NOTE_HASH_LEN], want[REPAT_NOTE_HASH_LEN];
	repat_note_signer_t *s;
	uint64_t size = 0;
	char *again;
	size_t len;

	(void)state;
	parse_vkey("go_sumdb_note_example", "vkey", &k);
	assert_int_equal(repat_checkpoint_open((const uint8_t *)cp,
	    sizeof(cp) - 1, &k, &size, root, NULL), 0);
	assert_int_equal(size, 13);
	assert_int_equal(repat_unhex("6299c5be9d3e70d3a62defbe4580d462"
	    "368e8e03784415fdcbcc8d2b7fcc8f8b", want, sizeof(want)), 0);
	assert_memory_equal(root, want, sizeof(root));
	/* And repat signs the same bytes (Ed25519 is deterministic). */
	s = parse_skey("go_sumdb_note_example", "skey");
	assert_int_equal(repat_checkpoint_sign(s, 13, root, &again, &len,
	    NULL), 0);
	assert_string_equal(again, cp);
	free(again);
	repat_note_signer_destroy(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vkeys_parse),
		cmocka_unit_test(skeys_parse),
		cmocka_unit_test(bad_keys_refused),
		cmocka_unit_test(sign_byte_exact),
		cmocka_unit_test(open_examples),
		cmocka_unit_test(intro_example_text_split),
		cmocka_unit_test(forgeries_refused),
		cmocka_unit_test(malformed_refused),
		cmocka_unit_test(huge_refused),
		cmocka_unit_test(sign_refuses_bad_text),
		cmocka_unit_test(signer_from_evp_key),
		cmocka_unit_test(checkpoint_text),
		cmocka_unit_test(checkpoint_signed),
		cmocka_unit_test(independent_checkpoint),
	};

	return cmocka_run_group_tests_name("note", tests, load, unload);
}
