/*
 * note.h: C2SP signed notes (c2sp.org/signed-note, the format of Go's
 * golang.org/x/mod/sumdb/note) and the tlog-checkpoint body the broker
 * signs over its audit log (c2sp.org/tlog-checkpoint).
 *
 * A signed note is text ending in "\n", a blank line, then one or more
 * signature lines:
 *
 *   <text, ending in \n>
 *   \n
 *   U+2014 EM DASH, space, key name, space, base64(key ID[4] || sig[64]), \n
 *   ...
 *
 * The key ID is SHA-256(name || 0x0A || 0x01 || Ed25519 public key)[:4],
 * big-endian. Keys are written as
 *
 *   verifier key  name+hex8(key ID)+base64(0x01 || public key[32])
 *   signer key    PRIVATE+KEY+name+hex8(key ID)+base64(0x01 || seed[32])
 *
 * Signatures are plain Ed25519 over the text bytes exactly (no repat
 * purpose prefix: outside tools must verify them). Notes are valid UTF-8
 * with no control character but "\n"; key names are non-empty, with no
 * Unicode space and no '+'. Opening refuses anything else, and anything
 * over REPAT_NOTE_MAX bytes or REPAT_NOTE_MAX_SIGS signature lines.
 *
 * A checkpoint's text is "ORIGIN\nSIZE\nBASE64(ROOT)\n" with optional
 * extension lines after; repat's origin and broker key name are both
 * "repat-broker/<broker agent id>" (docs/audit.md).
 *
 * Thread-safe: no global state; a signer is read-only after creation.
 */
#ifndef REPAT_NOTE_H
#define REPAT_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define REPAT_NOTE_MAX		(16 * 1024)	/* one signed note */
#define REPAT_NOTE_MAX_SIGS	32	/* signature lines (spec: >= 16) */
#define REPAT_NOTE_MAX_NAME	255	/* key name or origin, bytes */
#define REPAT_NOTE_PUB_LEN	32	/* Ed25519 public key */
#define REPAT_NOTE_SEED_LEN	32	/* Ed25519 private key (seed) */
#define REPAT_NOTE_HASH_LEN	32	/* checkpoint root hash */

typedef struct repat_note_signer repat_note_signer_t;

/* A known key: what a verifier key string holds. */
struct repat_note_verifier {
	char	 name[REPAT_NOTE_MAX_NAME + 1]; /* key name */
	uint32_t id;			/* key ID */
	uint8_t	 pub[REPAT_NOTE_PUB_LEN]; /* Ed25519 public key */
};

/* One signature line of an opened note. */
struct repat_note_sig {
	char	 name[REPAT_NOTE_MAX_NAME + 1]; /* key name */
	uint32_t id;			/* key ID from the line */
	char	*b64;			/* base64(ID || sig) as sent */
	bool	 verified;		/* by a known key, else unknown */
};

/* An opened note. Owned by the caller: free with repat_note_free. */
struct repat_note {
	char			*text;	/* signed text, ends in "\n",
					   NUL-terminated (none inside) */
	size_t			 text_len; /* bytes of text */
	struct repat_note_sig	*sigs;	/* in note order, repeats
					   dropped */
	size_t			 nsigs;	/* entries in sigs */
};

/* ---------------------------------------------------------------- keys */

/* true when name is a valid key name (see above) of at most MAX_NAME bytes. */
bool repat_note_name_is_valid(const char *name);

/* SHA-256(name || 0x0A || 0x01 || pub)[:4] as a big-endian integer. */
uint32_t repat_note_key_id(const char *name,
    const uint8_t pub[REPAT_NOTE_PUB_LEN]);

/*
 * Fills v from name and pub, computing the key ID. 0, or REPAT_EINVAL for
 * an invalid name.
 */
int repat_note_verifier_init(struct repat_note_verifier *v, const char *name,
    const uint8_t pub[REPAT_NOTE_PUB_LEN]);

/*
 * Parses a verifier key string. 0, or REPAT_EINVAL (malformed, wrong
 * algorithm byte, or a key ID that does not match name and key) with the
 * reason in errbuf (may be NULL).
 */
int repat_note_verifier_parse(const char *vkey, struct repat_note_verifier *v,
    char *errbuf);

/* The verifier key string of v. The caller frees it. */
char *repat_note_verifier_format(const struct repat_note_verifier *v);

/*
 * A signer named name over the Ed25519 key (which it up-references: the
 * caller keeps its own reference). NULL with errbuf filled when the name
 * is invalid or the key is not Ed25519.
 */
repat_note_signer_t *repat_note_signer_new(const char *name, EVP_PKEY *key,
    char *errbuf);

/* A signer from a signer key string; NULL with errbuf filled. */
repat_note_signer_t *repat_note_signer_parse(const char *skey, char *errbuf);

/* Frees *s and NULLs it; NULL and *s == NULL are fine. */
void repat_note_signer_destroy(repat_note_signer_t **s);

/* The signer's public half, borrowed for the signer's lifetime. */
const struct repat_note_verifier *
    repat_note_signer_verifier(const repat_note_signer_t *s);

/*
 * The signer key string of name and an Ed25519 seed: a secret. The caller
 * frees it with repat_free_secret(str, strlen(str)). NULL for an invalid
 * name.
 */
char *repat_note_signer_format(const char *name,
    const uint8_t seed[REPAT_NOTE_SEED_LEN]);

/* --------------------------------------------------------------- notes */

/*
 * Signs text (len bytes: non-empty, ending in "\n", valid UTF-8, no
 * control character but "\n", at most REPAT_NOTE_MAX) with each of the n
 * signers, in order, and writes the signed note to *out (NUL-terminated,
 * *outlen bytes without the NUL; the caller frees). 0, REPAT_EINVAL or
 * REPAT_ETOOBIG for bad text, REPAT_ECRYPTO when signing fails; *out is
 * NULL on failure.
 */
int repat_note_sign(const char *text, size_t len,
    repat_note_signer_t *const *signers, size_t n, char **out,
    size_t *outlen, char *errbuf);

/*
 * Opens the signed note msg (len bytes): checks its form, then every
 * signature line whose name and key ID both match one of the nknown keys
 * must verify. Lines of unknown keys are kept, unverified. 0 when at
 * least one known key's signature verified, with *out the opened note
 * (the caller frees it with repat_note_free). Otherwise *out is NULL and:
 * REPAT_ETOOBIG over a size limit; REPAT_EINVAL for a malformed note;
 * REPAT_ESIG when a known key's signature does not verify or no known key
 * signed.
 */
int repat_note_open(const uint8_t *msg, size_t len,
    const struct repat_note_verifier *known, size_t nknown,
    struct repat_note **out, char *errbuf)
    __attribute__((warn_unused_result));

/* Frees *n and NULLs it; NULL and *n == NULL are fine. */
void repat_note_free(struct repat_note **n);

/* ---------------------------------------------------------- checkpoint */

/*
 * "origin\nsize\nbase64(root)\n", the caller frees it. NULL when origin
 * is empty, over REPAT_NOTE_MAX_NAME bytes, not UTF-8 or holds a control
 * character.
 */
char *repat_checkpoint_format(const char *origin, uint64_t size,
    const uint8_t root[REPAT_NOTE_HASH_LEN]);

/*
 * Parses checkpoint text (len bytes, as in struct repat_note's text):
 * *origin (the caller frees it), *size and root. Extension lines are
 * allowed and ignored (they are covered by the signature all the same).
 * 0 or REPAT_EINVAL (REPAT_ETOOBIG over REPAT_NOTE_MAX); *origin is NULL
 * on failure. The text proves nothing unless it came out of
 * repat_note_open.
 */
int repat_checkpoint_parse(const char *text, size_t len, char **origin,
    uint64_t *size, uint8_t root[REPAT_NOTE_HASH_LEN], char *errbuf);

/*
 * Signs the checkpoint of (size, root) as the signer, with the signer's
 * key name as the origin: *out as for repat_note_sign.
 */
int repat_checkpoint_sign(repat_note_signer_t *s, uint64_t size,
    const uint8_t root[REPAT_NOTE_HASH_LEN], char **out, size_t *outlen,
    char *errbuf);

/*
 * The agent's one call: opens a checkpoint note signed by log (the
 * broker's key; other signatures are ignored), checks that the origin is
 * log->name and gives size and root. 0, or the errors of repat_note_open
 * and repat_checkpoint_parse (REPAT_EINVAL for another origin).
 */
int repat_checkpoint_open(const uint8_t *msg, size_t len,
    const struct repat_note_verifier *log, uint64_t *size,
    uint8_t root[REPAT_NOTE_HASH_LEN], char *errbuf)
    __attribute__((warn_unused_result));

#endif
