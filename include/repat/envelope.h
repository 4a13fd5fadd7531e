/*
 * envelope.h: a case message from form to signed, sealed bytes and back.
 *
 * Sealing: librepat derives the header's case facts from the form, seals
 * the padded Payload to the recipient's X25519 encryption certificate with
 * the header bytes as associated data (seal.h), and signs the Envelope with
 * purpose "envelope" (sign.h). The result is a serialized SignedEnvelope:
 * the bytes the broker stores and delivers, and the content of an offline
 * message file (docs/message-format.md).
 *
 * Verifying needs no private key and reads no personal data: decode within
 * limits, check the header, the sender's certificate against the pinned
 * bundle and the signature over the exact received bytes. The broker does
 * this for every submit; agents do it for everything they receive.
 * Opening needs the recipient's keys and also checks that the form
 * validates and implies exactly the header's facts.
 *
 * Ownership: *out buffers are the caller's (free()); a repat_verified owns
 * what it decoded until repat_verified_clear(). Thread-safe.
 */
#ifndef REPAT_ENVELOPE_H
#define REPAT_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "repat.pb-c.h"
#include "repat/form.h"
#include "repat/pki.h"

/* Default lifetime of a message when the sender sets none: 30 days. */
#define REPAT_DEFAULT_EXPIRY_MS (30ULL * 24 * 3600 * 1000)

/* What a sender says about a message; the rest is derived. */
struct repat_message_spec {
	int type;			/* Repat__MessageType */
	const char *case_ref;		/* CC-YYYY-NNNNNN */
	const char *recipient;		/* a concrete agent id */
	uint64_t expires_ms;		/* 0: now + REPAT_DEFAULT_EXPIRY_MS */
	const uint8_t *in_reply_to;	/* 16 bytes or NULL */
	const uint8_t *amends;		/* 16 bytes or NULL */
	const uint8_t *copy_of;		/* 16 bytes or NULL */
	const char *agreement_id;	/* NULL when none is named */
	const Repat__CheckpointRef *checkpoint;	/* sender's latest, or NULL */
	const ProtobufCMessage *form;	/* a valid form of type */
	const char *operator_name;	/* the person sending, or NULL */
};

/*
 * Builds, seals and signs a message from ks to the holder of
 * recipient_enc_cert (which the caller has verified). On success *out is
 * the serialized SignedEnvelope and message_id its fresh id.
 */
int repat_envelope_seal(const struct repat_keystore *ks,
    X509 *recipient_enc_cert, const struct repat_message_spec *spec,
    uint64_t now_ms, uint8_t **out, size_t *outlen,
    uint8_t message_id[16], char *errbuf);

/* A decoded, and after repat_envelope_verify trusted, SignedEnvelope. */
struct repat_verified {
	Repat__SignedEnvelope *signed_envelope;	/* decoded, owned */
	Repat__Envelope *envelope;		/* decoded, owned */
	Repat__Header *header;			/* decoded, owned */
	X509 *sender_cert;			/* owned; set by verify */
	struct repat_identity sender;		/* set by verify */
	uint8_t hash[32];			/* SHA-256 of the whole bytes */
	bool verified;				/* signature and chain checked */
};

/*
 * Decodes and checks structure only, no cryptography and no X.509: sizes,
 * the header's version, a 16-byte id, case reference, agent ids, type,
 * expires after created, one signing certificate present (as bytes: the
 * broker verifies it through its cache by hash, so decoding it here for
 * every message would be wasted work; sender_cert stays NULL). REPAT_EDECODE, REPAT_EINVAL
 * or REPAT_ETOOBIG with errbuf saying which field.
 */
int repat_envelope_parse(const uint8_t *buf, size_t len,
    struct repat_verified *v, char *errbuf);

/*
 * Checks the signature over the exact envelope bytes against pub, the
 * sender's Ed25519 key (taken from a certificate the caller verified).
 */
int repat_envelope_check_signature(const struct repat_verified *v,
    const uint8_t pub[32]) __attribute__((warn_unused_result));

/*
 * parse + the sender certificate verified by trust at now_ms + the
 * certificate's agent id equals header.sender + signature. On success
 * v->verified is true.
 */
int repat_envelope_verify(repat_trust_t *trust, const uint8_t *buf,
    size_t len, uint64_t now_ms, struct repat_verified *v, char *errbuf)
    __attribute__((warn_unused_result));

void repat_verified_clear(struct repat_verified *v);

/*
 * Opens a verified envelope addressed to ks: decrypts, decodes the
 * payload, validates the form and refuses it unless its derived facts
 * equal the header's (REPAT_EFACTS). *form and *operator_name (may be
 * NULL) are the caller's.
 */
int repat_envelope_open(const struct repat_keystore *ks,
    const struct repat_verified *v, ProtobufCMessage **form,
    char **operator_name, struct repat_form_report *report, char *errbuf);

/* CC-YYYY-NNNNNN with CC capital letters and digits elsewhere. */
bool repat_case_ref_valid(const char *ref);

#endif
