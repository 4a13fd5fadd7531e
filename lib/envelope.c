/*
 * envelope.c: seal, sign, parse, verify and open case messages (see
 * repat/envelope.h and docs/message-format.md).
 *
 * Order matters for safety: the broker and recipients decode only within
 * limits, verify the signature over the exact received envelope bytes, and
 * only then act on the header; recipients decrypt only verified envelopes
 * and refuse a form whose derived facts differ from the header's, so the
 * facts the broker routed on are the facts the form states.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "repat/codec.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/repat.h"
#include "repat/seal.h"
#include "repat/sign.h"

bool
repat_case_ref_valid(const char *ref)
{
	static const char pattern[] = "AA-9999-999999";
	size_t i;

	if (ref == NULL || strlen(ref) != sizeof(pattern) - 1)
		return false;
	for (i = 0; pattern[i]; i++) {
		if (pattern[i] == 'A' && (ref[i] < 'A' || ref[i] > 'Z'))
			return false;
		if (pattern[i] == '9' && (ref[i] < '0' || ref[i] > '9'))
			return false;
		if (pattern[i] == '-' && ref[i] != '-')
			return false;
	}
	return true;
}

static void
set_id(protobuf_c_boolean *has, ProtobufCBinaryData *field,
    const uint8_t *id)
{
	if (id == NULL)
		return;
	*has = 1;
	field->data = (uint8_t *)id;
	field->len = REPAT_MESSAGE_ID_LEN;
}

static int
check_spec(const struct repat_message_spec *spec, char *errbuf)
{
	const ProtobufCMessageDescriptor *d;

	d = repat_form_descriptor(spec->type);
	if (d == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "unknown message type "
		    "%d", spec->type);
	if (spec->form == NULL || spec->form->descriptor != d)
		return repat_errf(errbuf, REPAT_EINVAL, "the form is not a %s "
		    "form", repat_message_type_name(spec->type));
	if (!repat_case_ref_valid(spec->case_ref))
		return repat_errf(errbuf, REPAT_EINVAL, "case reference '%s' "
		    "is not of the form CC-YYYY-NNNNNN", spec->case_ref ?
		    spec->case_ref : "");
	if (spec->recipient == NULL || !repat_agent_id_valid(spec->recipient))
		return repat_errf(errbuf, REPAT_EINVAL, "recipient '%s' is not "
		    "an agent id (CC.ORG[.UNIT])", spec->recipient ?
		    spec->recipient : "");
	return REPAT_OK;
}

/* The serialized Header of a new message; *out is the caller's. */
static int
build_header(const struct repat_keystore *ks,
    const struct repat_message_spec *spec, uint64_t now_ms,
    Repat__CaseFacts *facts, uint8_t id[16], uint8_t **out, size_t *len,
    char *errbuf)
{
	Repat__Header h = REPAT__HEADER__INIT;

	/*
	 * The creation time (48 bits of ms, big-endian), then 80 random
	 * bits: the broker's index of message ids then grows at its end
	 * instead of at a random page per message, which cut the broker's
	 * storage writes by a sixth (docs/decisions/0007). created_ms is in
	 * the header already, so the id tells the broker nothing new.
	 */
	for (int i = 0; i < REPAT_MESSAGE_ID_TIME_LEN; i++)
		id[i] = (uint8_t)(now_ms >> (8 * (REPAT_MESSAGE_ID_TIME_LEN -
		    1 - i)));
	if (RAND_bytes(id + REPAT_MESSAGE_ID_TIME_LEN, REPAT_MESSAGE_ID_LEN -
	    REPAT_MESSAGE_ID_TIME_LEN) != 1)
		return repat_err_openssl(errbuf, REPAT_ECRYPTO);
	h.version = REPAT_WIRE_VERSION;
	h.message_id.data = id;
	h.message_id.len = REPAT_MESSAGE_ID_LEN;
	h.case_ref = (char *)spec->case_ref;
	h.type = (Repat__MessageType)spec->type;
	h.sender = (char *)ks->id.agent_id;
	h.recipient = (char *)spec->recipient;
	h.created_ms = now_ms;
	h.expires_ms = spec->expires_ms ? spec->expires_ms :
	    now_ms + REPAT_DEFAULT_EXPIRY_MS;
	if (h.expires_ms <= now_ms)
		return repat_errf(errbuf, REPAT_EINVAL, "the message would "
		    "expire before it is sent");
	set_id(&h.has_in_reply_to, &h.in_reply_to, spec->in_reply_to);
	set_id(&h.has_amends, &h.amends, spec->amends);
	set_id(&h.has_copy_of, &h.copy_of, spec->copy_of);
	h.agreement_id = (char *)spec->agreement_id;
	h.sender_checkpoint = (Repat__CheckpointRef *)spec->checkpoint;
	h.facts = facts;
	repat_encode(&h.base, out, len);
	if (*len > REPAT_MAX_HEADER) {
		free(*out);
		*out = NULL;
		return repat_errf(errbuf, REPAT_ETOOBIG, "header of %zu bytes "
		    "exceeds %d", *len, REPAT_MAX_HEADER);
	}
	return REPAT_OK;
}

/* The serialized Payload; *out is the caller's, to wipe. */
static void
build_payload(const struct repat_message_spec *spec, uint8_t **out,
    size_t *len)
{
	Repat__Payload p = REPAT__PAYLOAD__INIT;
	uint8_t *form;
	size_t formlen;

	repat_form_encode(spec->form, &form, &formlen);
	p.type = (Repat__MessageType)spec->type;
	p.form.data = form;
	p.form.len = formlen;
	p.operator_ = (char *)spec->operator_name;
	repat_encode(&p.base, out, len);
	repat_free_secret(form, formlen);
}

static int
sign_envelope(const struct repat_keystore *ks, const uint8_t *header,
    size_t hlen, const uint8_t enc[32], const uint8_t *ct, size_t ctlen,
    uint8_t **out, size_t *outlen, char *errbuf)
{
	Repat__Envelope e = REPAT__ENVELOPE__INIT;
	Repat__SignedEnvelope se = REPAT__SIGNED_ENVELOPE__INIT;
	ProtobufCBinaryData cert;
	uint8_t *env, sig[REPAT_SIG_LEN];
	size_t envlen;
	int rc;

	e.header.data = (uint8_t *)header;
	e.header.len = hlen;
	e.enc.data = (uint8_t *)enc;
	e.enc.len = REPAT_HPKE_ENC_LEN;
	e.ciphertext.data = (uint8_t *)ct;
	e.ciphertext.len = ctlen;
	repat_encode(&e.base, &env, &envlen);
	rc = repat_sign(ks->sign_key, REPAT_PURPOSE_ENVELOPE, env, envlen, sig);
	if (rc != REPAT_OK) {
		free(env);
		return repat_err_openssl(errbuf, rc);
	}
	if ((rc = repat_cert_to_der(ks->sign_cert, &cert.data, &cert.len)) !=
	    REPAT_OK) {
		free(env);
		return repat_errf(errbuf, rc, "cannot encode own certificate");
	}
	se.envelope.data = env;
	se.envelope.len = envlen;
	se.signature.data = sig;
	se.signature.len = sizeof(sig);
	se.n_certificates = 1;
	se.certificates = &cert;
	repat_encode(&se.base, out, outlen);
	free(cert.data);
	free(env);
	if (*outlen > REPAT_MAX_ENVELOPE) {
		free(*out);
		*out = NULL;
		return repat_errf(errbuf, REPAT_ETOOBIG, "message of %zu bytes "
		    "exceeds %d", *outlen, REPAT_MAX_ENVELOPE);
	}
	return REPAT_OK;
}

int
repat_envelope_seal(const struct repat_keystore *ks, X509 *recipient_enc_cert,
    const struct repat_message_spec *spec, uint64_t now_ms, uint8_t **out,
    size_t *outlen, uint8_t message_id[16], char *errbuf)
{
	Repat__CaseFacts facts = REPAT__CASE_FACTS__INIT;
	struct repat_form_report report;
	struct repat_identity rid;
	uint8_t *header = NULL, *payload = NULL, *ct = NULL;
	uint8_t pub[32], enc[REPAT_HPKE_ENC_LEN];
	size_t hlen = 0, plen = 0, ctlen = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = check_spec(spec, errbuf)) != REPAT_OK)
		return rc;
	if ((rc = repat_cert_identity(recipient_enc_cert, &rid, errbuf)) !=
	    REPAT_OK)
		return rc;
	if (strcmp(rid.agent_id, spec->recipient) != 0)
		return repat_errf(errbuf, REPAT_ECERT, "the encryption "
		    "certificate is %s's, not %s's", rid.agent_id,
		    spec->recipient);
	if ((rc = repat_cert_public_raw(recipient_enc_cert, pub)) != REPAT_OK)
		return repat_errf(errbuf, rc, "cannot read %s's encryption "
		    "key", spec->recipient);
	/* The recipient validates again; never seal what it would refuse. */
	memset(&report, 0, sizeof(report));
	if (repat_form_validate(spec->form, &report) != REPAT_OK) {
		const struct repat_form_problem *p = &report.items[0];

		while (p->warning && p + 1 < report.items + report.n)
			p++;
		rc = repat_errf(errbuf, REPAT_EFORM, "the form does not "
		    "validate: %s: %s", p->path, p->message);
		goto done;
	}
	if ((rc = repat_form_facts(spec->type, spec->form, &facts)) !=
	    REPAT_OK) {
		repat_errf(errbuf, rc, "cannot derive the case facts");
		goto done;
	}
	rc = build_header(ks, spec, now_ms, &facts, message_id, &header, &hlen,
	    errbuf);
	if (rc != REPAT_OK)
		goto done;
	build_payload(spec, &payload, &plen);
	if (plen > REPAT_MAX_PAYLOAD) {
		rc = repat_errf(errbuf, REPAT_ETOOBIG, "form of %zu bytes "
		    "exceeds %d", plen, REPAT_MAX_PAYLOAD);
		goto done;
	}
	rc = repat_seal(pub, header, hlen, payload, plen, enc, &ct, &ctlen);
	if (rc != REPAT_OK) {
		repat_err_openssl(errbuf, rc);
		goto done;
	}
	rc = sign_envelope(ks, header, hlen, enc, ct, ctlen, out, outlen,
	    errbuf);
done:
	repat_facts_clear(&facts);
	repat_free_secret(payload, plen);
	free(header);
	free(ct);
	return rc;
}

static bool
id_ok(protobuf_c_boolean has, const ProtobufCBinaryData *b)
{
	return !has || b->len == REPAT_MESSAGE_ID_LEN;
}

static int
check_header(const Repat__Header *h, char *errbuf)
{
	if (h->version != REPAT_WIRE_VERSION)
		return repat_errf(errbuf, REPAT_EINVAL, "header version %u, "
		    "this software speaks %d", h->version, REPAT_WIRE_VERSION);
	if (h->message_id.len != REPAT_MESSAGE_ID_LEN)
		return repat_errf(errbuf, REPAT_EINVAL, "message_id must be %d "
		    "bytes", REPAT_MESSAGE_ID_LEN);
	if (!repat_case_ref_valid(h->case_ref))
		return repat_errf(errbuf, REPAT_EINVAL, "case_ref is not of the "
		    "form CC-YYYY-NNNNNN");
	if (repat_message_type_name(h->type) == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "unknown message type "
		    "%d", h->type);
	if (!repat_agent_id_valid(h->sender))
		return repat_errf(errbuf, REPAT_EINVAL, "sender is not an "
		    "agent id");
	if (!repat_agent_id_valid(h->recipient))
		return repat_errf(errbuf, REPAT_EINVAL, "recipient is not an "
		    "agent id");
	if (h->expires_ms <= h->created_ms)
		return repat_errf(errbuf, REPAT_EINVAL, "expires_ms is not "
		    "after created_ms");
	if (!id_ok(h->has_in_reply_to, &h->in_reply_to) ||
	    !id_ok(h->has_amends, &h->amends) ||
	    !id_ok(h->has_copy_of, &h->copy_of))
		return repat_errf(errbuf, REPAT_EINVAL, "in_reply_to, amends "
		    "and copy_of must be %d-byte message ids",
		    REPAT_MESSAGE_ID_LEN);
	if (h->agreement_id != NULL && strlen(h->agreement_id) > 128)
		return repat_errf(errbuf, REPAT_EINVAL, "agreement_id too long");
	if (h->sender_checkpoint != NULL &&
	    h->sender_checkpoint->root_hash.len != REPAT_HASH_LEN)
		return repat_errf(errbuf, REPAT_EINVAL, "sender_checkpoint "
		    "root must be %d bytes", REPAT_HASH_LEN);
	return REPAT_OK;
}

int
repat_envelope_parse(const uint8_t *buf, size_t len, struct repat_verified *v,
    char *errbuf)
{
	Repat__SignedEnvelope *se;
	size_t i;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = REPAT_DECODE(Repat__SignedEnvelope, signed_envelope, buf, len,
	    REPAT_MAX_ENVELOPE, &v->signed_envelope);
	if (rc != REPAT_OK)
		return repat_errf(errbuf, rc, rc == REPAT_ETOOBIG ? "message "
		    "larger than %d bytes" : "not a signed envelope",
		    REPAT_MAX_ENVELOPE);
	se = v->signed_envelope;
	if (se->signature.len != REPAT_SIG_LEN)
		return repat_errf(errbuf, REPAT_EINVAL, "signature must be %d "
		    "bytes", REPAT_SIG_LEN);
	if (se->n_certificates < 1 || se->n_certificates > REPAT_MAX_CERTS)
		return repat_errf(errbuf, REPAT_EINVAL, "expected 1 to %d "
		    "certificates, got %zu", REPAT_MAX_CERTS,
		    se->n_certificates);
	for (i = 0; i < se->n_certificates; i++)
		if (se->certificates[i].len > REPAT_MAX_CERT)
			return repat_errf(errbuf, REPAT_ETOOBIG, "certificate "
			    "%zu larger than %d bytes", i, REPAT_MAX_CERT);
	rc = REPAT_DECODE(Repat__Envelope, envelope, se->envelope.data,
	    se->envelope.len, REPAT_MAX_ENVELOPE, &v->envelope);
	if (rc != REPAT_OK)
		return repat_errf(errbuf, rc, "envelope does not decode");
	if (v->envelope->enc.len != REPAT_HPKE_ENC_LEN ||
	    v->envelope->ciphertext.len < REPAT_AEAD_TAG_LEN)
		return repat_errf(errbuf, REPAT_EINVAL, "sealed payload is "
		    "malformed");
	rc = REPAT_DECODE(Repat__Header, header, v->envelope->header.data,
	    v->envelope->header.len, REPAT_MAX_HEADER, &v->header);
	if (rc != REPAT_OK)
		return repat_errf(errbuf, rc, "header does not decode");
	if ((rc = check_header(v->header, errbuf)) != REPAT_OK)
		return rc;
	if (EVP_Digest(buf, len, v->hash, NULL, EVP_sha256(), NULL) != 1)
		return repat_err_openssl(errbuf, REPAT_ECRYPTO);
	return REPAT_OK;
}

int
repat_envelope_check_signature(const struct repat_verified *v,
    const uint8_t pub[32])
{
	const Repat__SignedEnvelope *se = v->signed_envelope;

	if (se == NULL)
		return REPAT_ESIG;
	return repat_verify_raw(pub, REPAT_PURPOSE_ENVELOPE, se->envelope.data,
	    se->envelope.len, se->signature.data, se->signature.len);
}

int
repat_envelope_verify(repat_trust_t *trust, const uint8_t *buf, size_t len,
    uint64_t now_ms, struct repat_verified *v, char *errbuf)
{
	uint8_t pub[32];
	int rc;

	if ((rc = repat_envelope_parse(buf, len, v, errbuf)) != REPAT_OK)
		return rc;
	if (repat_cert_from_der(v->signed_envelope->certificates[0].data,
	    v->signed_envelope->certificates[0].len, &v->sender_cert) !=
	    REPAT_OK)
		return repat_errf(errbuf, REPAT_ECERT, "sender certificate "
		    "does not decode");
	rc = repat_trust_verify(trust, v->sender_cert, now_ms, &v->sender,
	    errbuf);
	if (rc != REPAT_OK)
		return rc;
	if (strcmp(v->sender.agent_id, v->header->sender) != 0)
		return repat_errf(errbuf, REPAT_ESIG, "signed by %s but claims "
		    "to come from %s", v->sender.agent_id, v->header->sender);
	if (repat_cert_public_raw(v->sender_cert, pub) != REPAT_OK ||
	    repat_envelope_check_signature(v, pub) != REPAT_OK)
		return repat_errf(errbuf, REPAT_ESIG, "the signature of %s does "
		    "not verify: the message was altered or not signed by %s",
		    v->header->sender, v->header->sender);
	v->verified = true;
	return REPAT_OK;
}

void
repat_verified_clear(struct repat_verified *v)
{
	repat_msg_free(v->header);
	repat_msg_free(v->envelope);
	repat_msg_free(v->signed_envelope);
	X509_free(v->sender_cert);
	memset(v, 0, sizeof(*v));
}

/* Decodes the opened plaintext and checks it against the header. */
static int
check_payload(const Repat__Header *h, const uint8_t *pt, size_t ptlen,
    ProtobufCMessage **form, char **operator_name,
    struct repat_form_report *report, char *errbuf)
{
	Repat__Payload *p;
	Repat__CaseFacts facts = REPAT__CASE_FACTS__INIT;
	int rc;

	rc = REPAT_DECODE(Repat__Payload, payload, pt, ptlen,
	    REPAT_MAX_PAYLOAD, &p);
	if (rc != REPAT_OK)
		return repat_errf(errbuf, REPAT_EOPEN, "the payload does not "
		    "decode");
	if (p->type != h->type) {
		/* p->type is the sender's word: it may name no type at all */
		rc = repat_errf(errbuf, REPAT_EFACTS, "the payload is a %s, "
		    "the header says %s",
		    repat_message_type_name(p->type) != NULL ?
		    repat_message_type_name(p->type) : "form of no known type",
		    repat_message_type_name(h->type));
		goto done;
	}
	rc = repat_form_decode(h->type, p->form.data, p->form.len, form,
	    report);
	if (rc != REPAT_OK) {
		repat_errf(errbuf, rc, "the sealed form is not a valid %s",
		    repat_message_type_name(h->type));
		goto done;
	}
	if (repat_form_facts(h->type, *form, &facts) != REPAT_OK ||
	    !repat_facts_equal(&facts, h->facts)) {
		rc = repat_errf(errbuf, REPAT_EFACTS, "the header's case facts "
		    "do not match the sealed form: refused");
		repat_form_free(*form);
		*form = NULL;
		goto done;
	}
	if (operator_name != NULL)
		*operator_name = p->operator_ ? repat_xstrdup(p->operator_) :
		    NULL;
done:
	repat_facts_clear(&facts);
	/* The payload held personal data: wipe its form bytes before free. */
	repat_wipe(p->form.data, p->form.len);
	repat_msg_free(p);
	return rc;
}

int
repat_envelope_open(const struct repat_keystore *ks,
    const struct repat_verified *v, ProtobufCMessage **form,
    char **operator_name, struct repat_form_report *report, char *errbuf)
{
	const Repat__Envelope *e = v->envelope;
	uint8_t sk[32], *pt = NULL;
	size_t ptlen = 0, i;
	int rc;

	*form = NULL;
	if (operator_name != NULL)
		*operator_name = NULL;
	if (!v->verified)
		return repat_errf(errbuf, REPAT_ESIG, "refusing to open an "
		    "unverified message");
	if (strcmp(v->header->recipient, ks->id.agent_id) != 0)
		return repat_errf(errbuf, REPAT_EOPEN, "the message is for %s, "
		    "not for %s", v->header->recipient, ks->id.agent_id);
	/* The current key, then the keys retired by rotations, newest first. */
	rc = REPAT_EOPEN;
	for (i = 0; rc != REPAT_OK && i <= ks->n_retired; i++) {
		if (repat_key_raw_private(i == 0 ? ks->enc_key :
		    ks->retired_enc[i - 1], sk) != REPAT_OK)
			continue;
		rc = repat_open(sk, e->header.data, e->header.len, e->enc.data,
		    e->ciphertext.data, e->ciphertext.len, &pt, &ptlen);
	}
	repat_wipe(sk, sizeof(sk));
	if (rc != REPAT_OK)
		return repat_errf(errbuf, REPAT_EOPEN, "the payload does not "
		    "open with %s's key%s: altered, or sealed to a key this "
		    "agent no longer holds", ks->id.agent_id, ks->n_retired ?
		    " or its retired keys" : "");
	rc = check_payload(v->header, pt, ptlen, form, operator_name, report,
	    errbuf);
	repat_free_secret(pt, ptlen);
	return rc;
}
