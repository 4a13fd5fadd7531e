/*
 * note.c: C2SP signed notes and tlog checkpoints (see repat/note.h).
 *
 * Parsing follows Go's golang.org/x/mod/sumdb/note, the reference that
 * other tools check against: the text ends at the last blank line, a
 * signature line is split at its first space, signatures from unknown
 * keys are kept but never trusted, repeated signatures are dropped, and
 * one bad signature from a known key rejects the whole note. repat is
 * stricter in two places: base64 must be canonical (no stray bits in the
 * last character) and sizes are bounded (REPAT_NOTE_MAX,
 * REPAT_NOTE_MAX_SIGS, REPAT_NOTE_MAX_NAME).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "repat/codec.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/note.h"
#include "repat/sign.h"

#define ALG_ED25519	0x01
#define KEY_LEN		(1 + REPAT_NOTE_PUB_LEN)  /* alg byte || key */
#define SIG_LEN		(4 + REPAT_SIG_LEN)	  /* key ID || sig */
#define EM_DASH		"\xe2\x80\x94 "	  /* U+2014 + space */
#define EM_DASH_LEN	4
#define SKEY_PREFIX	"PRIVATE+KEY+"
/* A key string: name, '+', 8 hex, '+', base64 of 33 bytes (44). */
#define KEY_STR_MAX	(sizeof(SKEY_PREFIX) + REPAT_NOTE_MAX_NAME + \
			    1 + 8 + 1 + 44)

struct repat_note_signer {
	struct repat_note_verifier v;	/* name, key ID, public key */
	EVP_PKEY	*key;		/* Ed25519 private key, owned */
};

/* ------------------------------------------------------------- base64 */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding into out (4 * ceil(n / 3) + 1 bytes). */
static void
b64_encode(const uint8_t *in, size_t n, char *out)
{
	uint32_t v;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 63];
		*out++ = b64chars[(v >> 6) & 63];
		*out++ = b64chars[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 63];
		*out++ = b64chars[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict, canonical base64 of in[0..n) into out (room for cap bytes);
 * *outlen gets the length. REPAT_EINVAL for anything else: a wrong length,
 * a bad character, misplaced padding, non-zero unused bits, over cap.
 */
static int
b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	uint32_t v;
	int k, d;

	*outlen = 0;
	if (n % 4 != 0)
		return REPAT_EINVAL;
	if (n > 0 && in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	if (n / 4 * 3 - pad > cap)
		return REPAT_EINVAL;
	for (i = 0; i < n; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			if (i + 4 == n && k >= 4 - (int)pad) {
				v <<= 6;
				continue;
			}
			if ((d = b64_value((unsigned char)in[i + k])) < 0)
				return REPAT_EINVAL;
			v = v << 6 | (uint32_t)d;
		}
		out[o++] = (uint8_t)(v >> 16);
		if (i + 4 < n || pad < 2)
			out[o++] = (uint8_t)(v >> 8);
		if (i + 4 < n || pad < 1)
			out[o++] = (uint8_t)v;
		/* Canonical form: the bits under the padding are zero. */
		if (i + 4 == n && ((pad == 1 && (v & 0xff) != 0) ||
		    (pad == 2 && (v & 0xffff) != 0)))
			return REPAT_EINVAL;
	}
	*outlen = o;
	return 0;
}

/* ---------------------------------------------------------- UTF-8 text */

/*
 * Decodes one UTF-8 sequence at s (n > 0 bytes left) into *cp and returns
 * its length, or 0 when it is not valid UTF-8 (overlong, surrogate, above
 * U+10FFFF, truncated): the cases Go's utf8.DecodeRune marks RuneError.
 */
static size_t
utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Valid UTF-8 with no control character but (when allowed) newline. */
static bool
text_ok(const uint8_t *s, size_t n, bool newline_ok)
{
	uint32_t cp;
	size_t i, l;

	for (i = 0; i < n; i += l) {
		if ((l = utf8_next(s + i, n - i, &cp)) == 0)
			return false;
		if (cp < 0x20 && !(cp == '\n' && newline_ok))
			return false;
	}
	return true;
}

/* Go's unicode.IsSpace. */
static bool
is_space(uint32_t c)
{
	switch (c) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return true;
	default:
		return c >= 0x2000 && c <= 0x200a;
	}
}

static bool
name_ok(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t i, l;

	if (n == 0 || n > REPAT_NOTE_MAX_NAME)
		return false;
	for (i = 0; i < n; i += l) {
		if ((l = utf8_next(s + i, n - i, &cp)) == 0)
			return false;
		if (cp < 0x20 || cp == '+' || is_space(cp))
			return false;
	}
	return true;
}

bool
repat_note_name_is_valid(const char *name)
{
	return name != NULL &&
	    name_ok((const uint8_t *)name,
	    strnlen(name, REPAT_NOTE_MAX_NAME + 1));
}

/* ---------------------------------------------------------------- keys */

uint32_t
repat_note_key_id(const char *name, const uint8_t pub[REPAT_NOTE_PUB_LEN])
{
	static const uint8_t sep[2] = { '\n', ALG_ED25519 };
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		repat_fatalx("note: EVP_MD_CTX_new failed");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, name, strlen(name)) != 1 ||
	    EVP_DigestUpdate(ctx, sep, sizeof(sep)) != 1 ||
	    EVP_DigestUpdate(ctx, pub, REPAT_NOTE_PUB_LEN) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		repat_fatalx("note: SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	    (uint32_t)md[2] << 8 | md[3];
}

int
repat_note_verifier_init(struct repat_note_verifier *v, const char *name,
    const uint8_t pub[REPAT_NOTE_PUB_LEN])
{
	memset(v, 0, sizeof(*v));
	if (!repat_note_name_is_valid(name))
		return REPAT_EINVAL;
	memcpy(v->name, name, strlen(name) + 1);
	memcpy(v->pub, pub, REPAT_NOTE_PUB_LEN);
	v->id = repat_note_key_id(name, pub);
	return 0;
}

/*
 * Splits "name+hex8+base64" into its parts: the name (copied into name),
 * the key ID and the 33 decoded key bytes. The algorithm byte and the ID
 * are checked by the callers, which know the public key.
 */
static int
split_key(const char *s, char name[REPAT_NOTE_MAX_NAME + 1], uint32_t *id,
    uint8_t key[KEY_LEN], char *errbuf)
{
	const char *p1, *p2;
	char hex[9];
	uint8_t idb[4];
	size_t klen;

	if ((p1 = strchr(s, '+')) == NULL ||
	    (p2 = strchr(p1 + 1, '+')) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "key: not name+id+key");
	if (!name_ok((const uint8_t *)s, (size_t)(p1 - s)))
		return repat_errf(errbuf, REPAT_EINVAL, "key: bad key name");
	memcpy(name, s, (size_t)(p1 - s));
	name[p1 - s] = '\0';
	if (p2 - p1 - 1 != 8)
		return repat_errf(errbuf, REPAT_EINVAL, "key: bad key ID");
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	if (repat_unhex(hex, idb, sizeof(idb)) != REPAT_OK)
		return repat_errf(errbuf, REPAT_EINVAL, "key: bad key ID");
	*id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 |
	    (uint32_t)idb[2] << 8 | idb[3];
	if (b64_decode(p2 + 1, strlen(p2 + 1), key, KEY_LEN, &klen) != 0 ||
	    klen != KEY_LEN)
		return repat_errf(errbuf, REPAT_EINVAL, "key: bad key bytes");
	if (key[0] != ALG_ED25519)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "key: algorithm %u is not Ed25519", key[0]);
	return 0;
}

int
repat_note_verifier_parse(const char *vkey, struct repat_note_verifier *v,
    char *errbuf)
{
	uint8_t key[KEY_LEN];
	int rc;

	memset(v, 0, sizeof(*v));
	if (vkey == NULL || strnlen(vkey, KEY_STR_MAX + 1) > KEY_STR_MAX)
		return repat_errf(errbuf, REPAT_EINVAL, "vkey: too long");
	if ((rc = split_key(vkey, v->name, &v->id, key, errbuf)) != 0)
		goto fail;
	memcpy(v->pub, key + 1, REPAT_NOTE_PUB_LEN);
	if (repat_note_key_id(v->name, v->pub) != v->id) {
		rc = repat_errf(errbuf, REPAT_EINVAL,
		    "vkey: key ID does not match name and key");
		goto fail;
	}
	return 0;
fail:
	memset(v, 0, sizeof(*v));
	return rc;
}

char *
repat_note_verifier_format(const struct repat_note_verifier *v)
{
	uint8_t key[KEY_LEN];
	char b64[45];

	key[0] = ALG_ED25519;
	memcpy(key + 1, v->pub, REPAT_NOTE_PUB_LEN);
	b64_encode(key, KEY_LEN, b64);
	return repat_xasprintf("%s+%08" PRIx32 "+%s", v->name, v->id, b64);
}

/* A signer over key, which it takes over (freed on failure too). */
static repat_note_signer_t *
signer_from(const char *name, EVP_PKEY *key, char *errbuf)
{
	repat_note_signer_t *s;
	uint8_t pub[REPAT_NOTE_PUB_LEN];

	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    repat_raw_public(key, pub) != 0) {
		EVP_PKEY_free(key);
		repat_errf(errbuf, REPAT_EINVAL, "signer: not an Ed25519 key");
		return NULL;
	}
	s = repat_xcalloc(1, sizeof(*s));
	if (repat_note_verifier_init(&s->v, name, pub) != 0) {
		EVP_PKEY_free(key);
		free(s);
		repat_errf(errbuf, REPAT_EINVAL, "signer: bad key name");
		return NULL;
	}
	s->key = key;
	return s;
}

repat_note_signer_t *
repat_note_signer_new(const char *name, EVP_PKEY *key, char *errbuf)
{
	if (key == NULL || EVP_PKEY_up_ref(key) != 1) {
		repat_errf(errbuf, REPAT_EINVAL, "signer: no key");
		return NULL;
	}
	return signer_from(name, key, errbuf);
}

repat_note_signer_t *
repat_note_signer_parse(const char *skey, char *errbuf)
{
	char name[REPAT_NOTE_MAX_NAME + 1];
	repat_note_signer_t *s = NULL;
	uint8_t key[KEY_LEN];
	EVP_PKEY *pk;
	uint32_t id;

	if (skey == NULL || strnlen(skey, KEY_STR_MAX + 1) > KEY_STR_MAX ||
	    strncmp(skey, SKEY_PREFIX, sizeof(SKEY_PREFIX) - 1) != 0) {
		repat_errf(errbuf, REPAT_EINVAL, "skey: not PRIVATE+KEY+...");
		return NULL;
	}
	if (split_key(skey + sizeof(SKEY_PREFIX) - 1, name, &id, key,
	    errbuf) != 0)
		goto out;
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key + 1,
	    REPAT_NOTE_SEED_LEN);
	if (pk == NULL) {
		repat_err_openssl(errbuf, REPAT_ECRYPTO);
		goto out;
	}
	if ((s = signer_from(name, pk, errbuf)) == NULL)
		goto out;
	if (s->v.id != id) {
		repat_note_signer_destroy(&s);
		repat_errf(errbuf, REPAT_EINVAL,
		    "skey: key ID does not match name and key");
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	return s;
}

void
repat_note_signer_destroy(repat_note_signer_t **s)
{
	if (s == NULL || *s == NULL)
		return;
	EVP_PKEY_free((*s)->key);
	free(*s);
	*s = NULL;
}

const struct repat_note_verifier *
repat_note_signer_verifier(const repat_note_signer_t *s)
{
	return &s->v;
}

char *
repat_note_signer_format(const char *name,
    const uint8_t seed[REPAT_NOTE_SEED_LEN])
{
	uint8_t key[KEY_LEN], pub[REPAT_NOTE_PUB_LEN];
	EVP_PKEY *pk;
	char b64[45], *s = NULL;
	size_t n = sizeof(pub);

	if (!repat_note_name_is_valid(name))
		return NULL;
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    REPAT_NOTE_SEED_LEN);
	if (pk == NULL || EVP_PKEY_get_raw_public_key(pk, pub, &n) != 1) {
		repat_err_openssl(NULL, REPAT_ECRYPTO);
		EVP_PKEY_free(pk);
		return NULL;
	}
	EVP_PKEY_free(pk);
	key[0] = ALG_ED25519;
	memcpy(key + 1, seed, REPAT_NOTE_SEED_LEN);
	b64_encode(key, KEY_LEN, b64);
	s = repat_xasprintf(SKEY_PREFIX "%s+%08" PRIx32 "+%s", name,
	    repat_note_key_id(name, pub), b64);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(b64, sizeof(b64));
	return s;
}

/* --------------------------------------------------------------- notes */

/* The rules a note's text must meet before it is signed or opened. */
static int
check_text(const uint8_t *text, size_t len, char *errbuf)
{
	if (len > REPAT_NOTE_MAX)
		return repat_errf(errbuf, REPAT_ETOOBIG, "note: text too long");
	if (len == 0 || text[len - 1] != '\n')
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: text does not end in a newline");
	if (!text_ok(text, len, true))
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: not UTF-8, or a control character");
	return 0;
}

int
repat_note_sign(const char *text, size_t len,
    repat_note_signer_t *const *signers, size_t n, char **out,
    size_t *outlen, char *errbuf)
{
	uint8_t sig[SIG_LEN];
	char b64[4 * ((SIG_LEN + 2) / 3) + 1];
	char *buf;
	size_t cap, used, i;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (text == NULL || signers == NULL || n == 0 ||
	    n > REPAT_NOTE_MAX_SIGS)
		return repat_errf(errbuf, REPAT_EINVAL, "note: no signer");
	if ((rc = check_text((const uint8_t *)text, len, errbuf)) != 0)
		return rc;
	cap = len + 1;
	for (i = 0; i < n; i++)
		cap += EM_DASH_LEN + strlen(signers[i]->v.name) + 1 +
		    sizeof(b64) - 1 + 1;
	/* Never write a note that repat_note_open would refuse. */
	if (cap > REPAT_NOTE_MAX)
		return repat_errf(errbuf, REPAT_ETOOBIG, "note: too long");
	buf = repat_xmalloc(cap + 1);
	memcpy(buf, text, len);
	buf[len] = '\n';
	used = len + 1;
	for (i = 0; i < n; i++) {
		sig[0] = (uint8_t)(signers[i]->v.id >> 24);
		sig[1] = (uint8_t)(signers[i]->v.id >> 16);
		sig[2] = (uint8_t)(signers[i]->v.id >> 8);
		sig[3] = (uint8_t)signers[i]->v.id;
		if (repat_ed25519_sign(signers[i]->key, (const uint8_t *)text,
		    len, sig + 4) != 0) {
			free(buf);
			return repat_errf(errbuf, REPAT_ECRYPTO,
			    "note: signing as %s failed", signers[i]->v.name);
		}
		b64_encode(sig, SIG_LEN, b64);
		used += (size_t)snprintf(buf + used, cap + 1 - used,
		    EM_DASH "%s %s\n", signers[i]->v.name, b64);
	}
	*out = buf;
	*outlen = used;
	return 0;
}

void
repat_note_free(struct repat_note **n)
{
	size_t i;

	if (n == NULL || *n == NULL)
		return;
	for (i = 0; i < (*n)->nsigs; i++)
		free((*n)->sigs[i].b64);
	free((*n)->sigs);
	free((*n)->text);
	free(*n);
	*n = NULL;
}

/* The first of the known keys with this name and ID, or NULL. */
static const struct repat_note_verifier *
find_key(const struct repat_note_verifier *known, size_t nknown,
    const char *name, uint32_t id)
{
	size_t i;

	for (i = 0; i < nknown; i++)
		if (known[i].id == id && strcmp(known[i].name, name) == 0)
			return &known[i];
	return NULL;
}

/* true when note already holds a line that makes this one redundant. */
static bool
is_repeat(const struct repat_note *note, const char *name, uint32_t id,
    bool known, const char *b64, size_t b64len)
{
	const struct repat_note_sig *s;
	size_t i;

	for (i = 0; i < note->nsigs; i++) {
		s = &note->sigs[i];
		if (s->id != id || strcmp(s->name, name) != 0)
			continue;
		/* One verified signature per known key is enough (Go). */
		if (known)
			return true;
		if (strlen(s->b64) == b64len &&
		    memcmp(s->b64, b64, b64len) == 0)
			return true;
	}
	return false;
}

/*
 * One signature line (without its newline) into note, verifying it when
 * its key is known. uint8_t sig[] is scratch for the decoded bytes.
 */
static int
open_line(struct repat_note *note, const uint8_t *line, size_t len,
    const struct repat_note_verifier *known, size_t nknown, uint8_t *sig,
    char *errbuf)
{
	const struct repat_note_verifier *k;
	struct repat_note_sig *s;
	const uint8_t *sp;
	const char *b64;
	char name[REPAT_NOTE_MAX_NAME + 1];
	size_t nlen, blen, slen;
	uint32_t id;

	if (len < EM_DASH_LEN || memcmp(line, EM_DASH, EM_DASH_LEN) != 0)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: a signature line does not start with an em dash");
	line += EM_DASH_LEN;
	len -= EM_DASH_LEN;
	if ((sp = memchr(line, ' ', len)) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: a signature line has no signature");
	nlen = (size_t)(sp - line);
	b64 = (const char *)sp + 1;
	blen = len - nlen - 1;
	if (!name_ok(line, nlen))
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: bad key name in a signature line");
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	if (blen == 0 || b64_decode(b64, blen, sig, blen, &slen) != 0 ||
	    slen < 5)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: bad signature encoding for %s", name);
	id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 |
	    (uint32_t)sig[2] << 8 | sig[3];
	k = find_key(known, nknown, name, id);
	if (is_repeat(note, name, id, k != NULL, b64, blen))
		return 0;
	if (k != NULL && repat_ed25519_verify(k->pub,
	    (const uint8_t *)note->text, note->text_len, sig + 4,
	    slen - 4) != 0)
		return repat_errf(errbuf, REPAT_ESIG,
		    "note: the signature of %s does not verify", name);
	s = &note->sigs[note->nsigs++];
	memcpy(s->name, name, nlen + 1);
	s->id = id;
	s->verified = k != NULL;
	s->b64 = repat_xmalloc(blen + 1);
	memcpy(s->b64, b64, blen);
	s->b64[blen] = '\0';
	return 0;
}

int
repat_note_open(const uint8_t *msg, size_t len,
    const struct repat_note_verifier *known, size_t nknown,
    struct repat_note **out, char *errbuf)
{
	struct repat_note *note = NULL;
	const uint8_t *p, *end, *nl;
	uint8_t *sig = NULL;
	size_t split, nlines = 0, i;
	int rc = REPAT_EINVAL;

	*out = NULL;
	if (msg == NULL || (known == NULL && nknown > 0))
		return repat_errf(errbuf, REPAT_EINVAL, "note: no input");
	if (len > REPAT_NOTE_MAX)
		return repat_errf(errbuf, REPAT_ETOOBIG, "note: too long");
	if (!text_ok(msg, len, true))
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: not UTF-8, or a control character");
	/* The text ends at the last blank line, which must be there. */
	for (split = len; split >= 2; split--)
		if (msg[split - 2] == '\n' && msg[split - 1] == '\n')
			break;
	if (split < 2 || split == len || msg[len - 1] != '\n')
		return repat_errf(errbuf, REPAT_EINVAL,
		    "note: no blank line before the signatures");
	/* split is just past the blank line: text is msg[0, split - 1). */
	for (i = split; i < len; i++)
		if (msg[i] == '\n' && ++nlines > REPAT_NOTE_MAX_SIGS)
			return repat_errf(errbuf, REPAT_ETOOBIG,
			    "note: more than %d signatures",
			    REPAT_NOTE_MAX_SIGS);

	note = repat_xcalloc(1, sizeof(*note));
	note->text_len = split - 1;
	note->text = repat_xmalloc(note->text_len + 1);
	memcpy(note->text, msg, note->text_len);
	note->text[note->text_len] = '\0';
	note->sigs = repat_xcalloc(nlines, sizeof(*note->sigs));
	sig = repat_xmalloc(len);
	end = msg + len;
	for (p = msg + split; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((rc = open_line(note, p, (size_t)(nl - p), known, nknown,
		    sig, errbuf)) != 0)
			goto fail;
	}
	for (i = 0; i < note->nsigs; i++)
		if (note->sigs[i].verified)
			break;
	if (i == note->nsigs) {
		rc = repat_errf(errbuf, REPAT_ESIG,
		    "note: not signed by a known key");
		goto fail;
	}
	free(sig);
	*out = note;
	return 0;
fail:
	free(sig);
	repat_note_free(&note);
	return rc;
}

/* ---------------------------------------------------------- checkpoint */

char *
repat_checkpoint_format(const char *origin, uint64_t size,
    const uint8_t root[REPAT_NOTE_HASH_LEN])
{
	char b64[45];
	size_t n;

	if (origin == NULL)
		return NULL;
	n = strnlen(origin, REPAT_NOTE_MAX_NAME + 1);
	if (n == 0 || n > REPAT_NOTE_MAX_NAME ||
	    !text_ok((const uint8_t *)origin, n, false))
		return NULL;
	b64_encode(root, REPAT_NOTE_HASH_LEN, b64);
	return repat_xasprintf("%s\n%" PRIu64 "\n%s\n", origin, size, b64);
}

/* "0" or a decimal without leading zeros that fits in 64 bits. */
static int
parse_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return REPAT_EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return REPAT_EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return REPAT_EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
repat_checkpoint_parse(const char *text, size_t len, char **origin,
    uint64_t *size, uint8_t root[REPAT_NOTE_HASH_LEN], char *errbuf)
{
	const char *line[3], *p, *end, *nl;
	size_t llen[3], rlen, i = 0;
	uint8_t r[REPAT_NOTE_HASH_LEN + 3];
	int rc;

	*origin = NULL;
	if (text == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "checkpoint: no text");
	if ((rc = check_text((const uint8_t *)text, len, errbuf)) != 0)
		return rc;
	end = text + len;
	for (p = text; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == p)
			return repat_errf(errbuf, REPAT_EINVAL,
			    "checkpoint: empty line");
		if (i < 3) {
			line[i] = p;
			llen[i] = (size_t)(nl - p);
		}
		i++;	/* lines after the third are extension lines */
	}
	if (i < 3)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "checkpoint: fewer than three lines");
	if (llen[0] > REPAT_NOTE_MAX_NAME)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "checkpoint: origin too long");
	if (parse_size(line[1], llen[1], size) != 0)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "checkpoint: bad tree size");
	if (b64_decode(line[2], llen[2], r, sizeof(r), &rlen) != 0 ||
	    rlen != REPAT_NOTE_HASH_LEN)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "checkpoint: bad root hash");
	memcpy(root, r, REPAT_NOTE_HASH_LEN);
	*origin = repat_xmalloc(llen[0] + 1);
	memcpy(*origin, line[0], llen[0]);
	(*origin)[llen[0]] = '\0';
	return 0;
}

int
repat_checkpoint_sign(repat_note_signer_t *s, uint64_t size,
    const uint8_t root[REPAT_NOTE_HASH_LEN], char **out, size_t *outlen,
    char *errbuf)
{
	char *text;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((text = repat_checkpoint_format(s->v.name, size, root)) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL,
		    "checkpoint: bad origin");
	rc = repat_note_sign(text, strlen(text), &s, 1, out, outlen, errbuf);
	free(text);
	return rc;
}

int
repat_checkpoint_open(const uint8_t *msg, size_t len,
    const struct repat_note_verifier *log, uint64_t *size,
    uint8_t root[REPAT_NOTE_HASH_LEN], char *errbuf)
{
	struct repat_note *note;
	uint8_t r[REPAT_NOTE_HASH_LEN];
	char *origin;
	uint64_t sz;
	int rc;

	if ((rc = repat_note_open(msg, len, log, 1, &note, errbuf)) != 0)
		return rc;
	rc = repat_checkpoint_parse(note->text, note->text_len, &origin, &sz,
	    r, errbuf);
	repat_note_free(&note);
	if (rc != 0)
		return rc;
	if (strcmp(origin, log->name) != 0) {
		rc = repat_errf(errbuf, REPAT_EINVAL,
		    "checkpoint: origin is not %s", log->name);
		free(origin);
		return rc;
	}
	free(origin);
	*size = sz;
	memcpy(root, r, REPAT_NOTE_HASH_LEN);
	return 0;
}
