/*
 * envelope_test.c: a case message sealed, signed, verified and opened, and
 * every way of tampering with it failing closed with its own error
 * (issue 3, item 8). Uses a real region made by `repat region init` and
 * real national CAs (include/repat/ca.h) for the forged certificates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "repat/ca.h"
#include "repat/codec.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/pki.h"
#include "repat/seal.h"
#include "repat/sign.h"

#define SENDER		"TH.WPC.PATHUMTHANI"
#define RECIPIENT	"MM.DSW"
#define THIRD		"MM.DNR"
#define CASE		"TH-2026-000123"

struct fixture {
	char dir[64];			/* the temp folder holding the region */
	struct repat_keystore sender;	/* TH.WPC.PATHUMTHANI */
	struct repat_keystore recipient;	/* MM.DSW */
	struct repat_keystore third;	/* MM.DNR */
	ProtobufCMessage *form;		/* examples/forms/case_referral.json */
	uint8_t *msg;			/* a good sealed message */
	size_t msglen;
	uint64_t now;			/* ms */
};

static uint64_t
now_ms(void)
{
	return (uint64_t)time(NULL) * 1000;
}

static void
load_agent(struct fixture *f, const char *id, struct repat_keystore *ks)
{
	char err[REPAT_ERRBUF_LEN] = "", *path;

	path = repat_xasprintf("%s/region/agents/%s", f->dir, id);
	if (repat_keystore_load(path, NULL, ks, err) != REPAT_OK)
		fail_msg("%s: %s", id, err);
	free(path);
}

static ProtobufCMessage *
load_form(const char *name)
{
	struct repat_form_report rep;
	ProtobufCMessage *form = NULL;
	char err[REPAT_ERRBUF_LEN], *path;
	uint8_t *json;
	size_t len;

	path = repat_xasprintf("examples/forms/%s.json", name);
	assert_int_equal(repat_file_read(path, REPAT_MAX_FORM_JSON, &json,
	    &len, err), REPAT_OK);
	assert_int_equal(repat_form_from_json(repat_message_type_parse(name),
	    (char *)json, len, &form, &rep), REPAT_OK);
	free(json);
	free(path);
	return form;
}

/*
 * Seals a case referral from `from` to the recipient's encryption cert,
 * created at `at`; its id into id.
 */
static int
seal_at(struct fixture *f, const struct repat_keystore *from, X509 *to_cert,
    const char *to, uint64_t at, uint8_t id[16], uint8_t **out,
    size_t *outlen)
{
	struct repat_message_spec spec;
	char err[REPAT_ERRBUF_LEN] = "";
	int rc;

	memset(&spec, 0, sizeof(spec));
	spec.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_REFERRAL;
	spec.case_ref = CASE;
	spec.recipient = to;
	spec.form = f->form;
	spec.operator_name = "Somchai (case worker)";
	rc = repat_envelope_seal(from, to_cert, &spec, at, out, outlen, id,
	    err);
	if (rc != REPAT_OK)
		print_message("seal: %s\n", err);
	return rc;
}

static int
seal_from(struct fixture *f, const struct repat_keystore *from,
    X509 *to_cert, const char *to, uint8_t **out, size_t *outlen)
{
	uint8_t id[16];

	return seal_at(f, from, to_cert, to, f->now, id, out, outlen);
}

static int
setup(void **state)
{
	struct fixture *f = repat_xcalloc(1, sizeof(*f));
	char *cmd;
	const char *build = getenv("REPAT_BUILD");

	if (build == NULL)
		build = "build";
	strcpy(f->dir, "/tmp/repat-envelope-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	cmd = repat_xasprintf("%s/repat region init --out %s/region "
	    ">/dev/null", build, f->dir);
	if (system(cmd) != 0) {
		free(cmd);
		return -1;
	}
	free(cmd);
	load_agent(f, SENDER, &f->sender);
	load_agent(f, RECIPIENT, &f->recipient);
	load_agent(f, THIRD, &f->third);
	f->form = load_form("case_referral");
	f->now = now_ms();
	if (seal_from(f, &f->sender, f->recipient.enc_cert, RECIPIENT,
	    &f->msg, &f->msglen) != REPAT_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = repat_xasprintf("rm -rf %s", f->dir);

	(void)system(cmd);
	free(cmd);
	repat_keystore_clear(&f->sender);
	repat_keystore_clear(&f->recipient);
	repat_keystore_clear(&f->third);
	repat_form_free(f->form);
	free(f->msg);
	free(f);
	return 0;
}

/* Verifies buf as the recipient; returns the code and clears. */
static int
verify_code(struct fixture *f, const struct repat_keystore *as,
    const uint8_t *buf, size_t len)
{
	struct repat_verified v;
	char err[REPAT_ERRBUF_LEN] = "";
	int rc;

	rc = repat_envelope_verify(as->trust, buf, len, f->now, &v, err);
	repat_verified_clear(&v);
	return rc;
}

/* Verifies then opens buf as `as`; returns the open code. */
static int
open_code(struct fixture *f, const struct repat_keystore *as,
    const uint8_t *buf, size_t len, char *err)
{
	struct repat_verified v;
	struct repat_form_report rep;
	ProtobufCMessage *form = NULL;
	int rc;

	rc = repat_envelope_verify(as->trust, buf, len, f->now, &v, err);
	if (rc == REPAT_OK)
		rc = repat_envelope_open(as, &v, &form, NULL, &rep, err);
	repat_form_free(form);
	repat_verified_clear(&v);
	return rc;
}

static void
round_trip(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v;
	struct repat_form_report rep;
	ProtobufCMessage *form;
	char err[REPAT_ERRBUF_LEN] = "", *operator_name, *a, *b;

	assert_int_equal(repat_envelope_verify(f->recipient.trust, f->msg,
	    f->msglen, f->now, &v, err), REPAT_OK);
	assert_true(v.verified);
	assert_string_equal(v.sender.agent_id, SENDER);
	assert_string_equal(v.header->case_ref, CASE);
	assert_int_equal(repat_envelope_open(&f->recipient, &v, &form,
	    &operator_name, &rep, err), REPAT_OK);
	a = repat_form_to_json(form);
	b = repat_form_to_json(f->form);
	assert_string_equal(a, b);
	assert_string_equal(operator_name, "Somchai (case worker)");
	/* The broker sees facts, never the form: no name in the header. */
	assert_null(memmem(v.envelope->header.data, v.envelope->header.len,
	    "full_name", 9));
	free(a);
	free(b);
	free(operator_name);
	repat_form_free(form);
	repat_verified_clear(&v);
}

/*
 * A message id starts with its creation time, so ids sort by age and the
 * broker's index of them grows at its end; the rest stays random.
 */
static void
message_ids_sort_by_creation_time(void **state)
{
	struct fixture *f = *state;
	uint8_t ids[3][REPAT_MESSAGE_ID_LEN], prefix[REPAT_MESSAGE_ID_TIME_LEN];
	uint64_t when[3] = { f->now, f->now, f->now + 1 };
	int i;

	for (i = 0; i < 3; i++) {
		uint8_t *out;
		size_t len;

		assert_int_equal(seal_at(f, &f->sender, f->recipient.enc_cert,
		    RECIPIENT, when[i], ids[i], &out, &len), REPAT_OK);
		free(out);
	}
	for (i = 0; i < REPAT_MESSAGE_ID_TIME_LEN; i++)
		prefix[i] = (uint8_t)(when[0] >> (8 * (REPAT_MESSAGE_ID_TIME_LEN -
		    1 - i)));
	assert_memory_equal(ids[0], prefix, sizeof(prefix));
	assert_memory_equal(ids[1], prefix, sizeof(prefix));
	/* Same millisecond: the random part tells them apart. */
	assert_memory_not_equal(ids[0], ids[1], REPAT_MESSAGE_ID_LEN);
	assert_true(memcmp(ids[0], ids[2], REPAT_MESSAGE_ID_LEN) < 0);
	assert_true(memcmp(ids[1], ids[2], REPAT_MESSAGE_ID_LEN) < 0);
}

static void
third_agent_cannot_open(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t sk[32], *pt = NULL;
	size_t ptlen = 0;

	/* It can verify who sent it: signatures are public. */
	assert_int_equal(open_code(f, &f->third, f->msg, f->msglen, err),
	    REPAT_EOPEN);
	assert_non_null(strstr(err, "is for MM.DSW"));
	/* And its key does not open the seal even when tried directly. */
	assert_int_equal(repat_envelope_verify(f->third.trust, f->msg,
	    f->msglen, f->now, &v, err), REPAT_OK);
	assert_int_equal(repat_key_raw_private(f->third.enc_key, sk), 0);
	assert_int_equal(repat_open(sk, v.envelope->header.data,
	    v.envelope->header.len, v.envelope->enc.data,
	    v.envelope->ciphertext.data, v.envelope->ciphertext.len, &pt,
	    &ptlen), REPAT_EOPEN);
	assert_null(pt);
	repat_verified_clear(&v);
}

static void
retired_key_still_opens(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "";
	EVP_PKEY *old = f->recipient.enc_key, *fresh;

	/* MM.DSW rotated: a new current key, the old one retired. */
	assert_int_equal(repat_key_generate(EVP_PKEY_X25519, &fresh), 0);
	f->recipient.enc_key = fresh;
	assert_int_equal(open_code(f, &f->recipient, f->msg, f->msglen, err),
	    REPAT_EOPEN);
	assert_non_null(strstr(err, "no longer holds"));
	f->recipient.retired_enc[0] = old;
	f->recipient.n_retired = 1;
	assert_int_equal(open_code(f, &f->recipient, f->msg, f->msglen, err),
	    REPAT_OK);
	/* Back as it was, for the tests that follow. */
	f->recipient.enc_key = old;
	f->recipient.retired_enc[0] = NULL;
	f->recipient.n_retired = 0;
	EVP_PKEY_free(fresh);
}

static void
any_flipped_byte_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t *copy = repat_xmalloc(f->msglen);
	size_t i;

	/* Every byte of the message, header and signature included. */
	for (i = 0; i < f->msglen; i += (i < 512 ? 1 : 7)) {
		memcpy(copy, f->msg, f->msglen);
		copy[i] ^= 0x01;
		if (verify_code(f, &f->recipient, copy, f->msglen) == REPAT_OK)
			fail_msg("flipping byte %zu was not detected", i);
	}
	free(copy);
}

/*
 * Rebuilds a SignedEnvelope from parts and signs it with key for purpose,
 * carrying cert: how a malicious sender would make well-signed nonsense.
 */
static void
resign(EVP_PKEY *key, enum repat_purpose purpose, X509 *cert,
    const ProtobufCBinaryData *header, const ProtobufCBinaryData *enc,
    const ProtobufCBinaryData *ct, uint8_t **out, size_t *outlen)
{
	Repat__Envelope e = REPAT__ENVELOPE__INIT;
	Repat__SignedEnvelope se = REPAT__SIGNED_ENVELOPE__INIT;
	ProtobufCBinaryData der;
	uint8_t *env, sig[REPAT_SIG_LEN];
	size_t envlen;

	e.header = *header;
	e.enc = *enc;
	e.ciphertext = *ct;
	repat_encode(&e.base, &env, &envlen);
	assert_int_equal(repat_sign(key, purpose, env, envlen, sig), 0);
	assert_int_equal(repat_cert_to_der(cert, &der.data, &der.len), 0);
	se.envelope.data = env;
	se.envelope.len = envlen;
	se.signature.data = sig;
	se.signature.len = sizeof(sig);
	se.n_certificates = 1;
	se.certificates = &der;
	repat_encode(&se.base, out, outlen);
	free(der.data);
	free(env);
}

static struct repat_verified
parsed(const uint8_t *buf, size_t len)
{
	struct repat_verified v;
	char err[REPAT_ERRBUF_LEN];

	assert_int_equal(repat_envelope_parse(buf, len, &v, err), REPAT_OK);
	return v;
}

static void
ciphertext_changed_by_its_own_sender(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v = parsed(f->msg, f->msglen);
	ProtobufCBinaryData ct = v.envelope->ciphertext;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t *bad;
	size_t badlen;

	ct.data = repat_xmalloc(ct.len);
	memcpy(ct.data, v.envelope->ciphertext.data, ct.len);
	ct.data[ct.len / 2] ^= 0x80;
	resign(f->sender.sign_key, REPAT_PURPOSE_ENVELOPE, f->sender.sign_cert,
	    &v.envelope->header, &v.envelope->enc, &ct, &bad, &badlen);
	assert_int_equal(open_code(f, &f->recipient, bad, badlen, err),
	    REPAT_EOPEN);
	free(ct.data);
	free(bad);
	repat_verified_clear(&v);
}

static void
payload_moved_under_another_header(void **state)
{
	struct fixture *f = *state;
	struct repat_verified a = parsed(f->msg, f->msglen), b;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t *other, *bad;
	size_t otherlen, badlen;

	assert_int_equal(seal_from(f, &f->sender, f->recipient.enc_cert,
	    RECIPIENT, &other, &otherlen), REPAT_OK);
	b = parsed(other, otherlen);
	/* b's header (another message id) over a's sealed payload. */
	resign(f->sender.sign_key, REPAT_PURPOSE_ENVELOPE, f->sender.sign_cert,
	    &b.envelope->header, &a.envelope->enc, &a.envelope->ciphertext,
	    &bad, &badlen);
	assert_int_equal(verify_code(f, &f->recipient, bad, badlen), REPAT_OK);
	assert_int_equal(open_code(f, &f->recipient, bad, badlen, err),
	    REPAT_EOPEN);
	free(bad);
	free(other);
	repat_verified_clear(&a);
	repat_verified_clear(&b);
}

static void
facts_contradicting_payload(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v = parsed(f->msg, f->msglen);
	Repat__Payload p = REPAT__PAYLOAD__INIT;
	ProtobufCBinaryData header, enc, ct;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t pub[32], encbuf[32], *payload, *bad;
	size_t plen, badlen;

	/* Claim a child case (the SOP then asks for safeguards) ... */
	v.header->facts->has_is_child = 1;
	v.header->facts->is_child = 1;
	repat_encode(&v.header->base, &header.data, &header.len);
	/* ... over the same adult form, sealed correctly to that header. */
	repat_form_encode(f->form, &p.form.data, &p.form.len);
	p.type = v.header->type;
	repat_encode(&p.base, &payload, &plen);
	assert_int_equal(repat_cert_public_raw(f->recipient.enc_cert, pub), 0);
	assert_int_equal(repat_seal(pub, header.data, header.len, payload,
	    plen, encbuf, &ct.data, &ct.len), 0);
	enc.data = encbuf;
	enc.len = sizeof(encbuf);
	resign(f->sender.sign_key, REPAT_PURPOSE_ENVELOPE, f->sender.sign_cert,
	    &header, &enc, &ct, &bad, &badlen);
	assert_int_equal(open_code(f, &f->recipient, bad, badlen, err),
	    REPAT_EFACTS);
	assert_non_null(strstr(err, "facts"));
	free(bad);
	free(ct.data);
	free(payload);
	free(p.form.data);
	free(header.data);
	repat_verified_clear(&v);
}

/*
 * review: a payload whose type names no message type at all (a sender's
 * bytes) is refused EFACTS with a sentence, not printf("%s", NULL).
 */
static void
payload_of_unknown_type(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v = parsed(f->msg, f->msglen);
	Repat__Payload p = REPAT__PAYLOAD__INIT;
	ProtobufCBinaryData enc, ct;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t pub[32], encbuf[32], *payload, *bad;
	size_t plen, badlen;

	repat_form_encode(f->form, &p.form.data, &p.form.len);
	p.type = 999;
	repat_encode(&p.base, &payload, &plen);
	assert_int_equal(repat_cert_public_raw(f->recipient.enc_cert, pub), 0);
	assert_int_equal(repat_seal(pub, v.envelope->header.data,
	    v.envelope->header.len, payload, plen, encbuf, &ct.data, &ct.len),
	    0);
	enc.data = encbuf;
	enc.len = sizeof(encbuf);
	resign(f->sender.sign_key, REPAT_PURPOSE_ENVELOPE, f->sender.sign_cert,
	    &v.envelope->header, &enc, &ct, &bad, &badlen);
	assert_int_equal(open_code(f, &f->recipient, bad, badlen, err),
	    REPAT_EFACTS);
	assert_null(strstr(err, "(null)"));
	assert_non_null(strstr(err, "no known type"));
	free(bad);
	free(ct.data);
	free(payload);
	free(p.form.data);
	repat_verified_clear(&v);
}

static void
signature_by_another_agent(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v = parsed(f->msg, f->msglen), w;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t *bad;
	size_t badlen;

	/* MM.DNR's key under the sender's certificate. */
	resign(f->third.sign_key, REPAT_PURPOSE_ENVELOPE, f->sender.sign_cert,
	    &v.envelope->header, &v.envelope->enc, &v.envelope->ciphertext,
	    &bad, &badlen);
	assert_int_equal(verify_code(f, &f->recipient, bad, badlen),
	    REPAT_ESIG);
	free(bad);
	/* MM.DNR signing honestly, but the header claims the shelter. */
	resign(f->third.sign_key, REPAT_PURPOSE_ENVELOPE, f->third.sign_cert,
	    &v.envelope->header, &v.envelope->enc, &v.envelope->ciphertext,
	    &bad, &badlen);
	assert_int_equal(repat_envelope_verify(f->recipient.trust, bad, badlen,
	    f->now, &w, err), REPAT_ESIG);
	assert_non_null(strstr(err, "claims to come from"));
	free(bad);
	repat_verified_clear(&w);
	repat_verified_clear(&v);
}

static void
signature_for_another_purpose(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v = parsed(f->msg, f->msglen);
	uint8_t *bad;
	size_t badlen;

	resign(f->sender.sign_key, REPAT_PURPOSE_HELLO, f->sender.sign_cert,
	    &v.envelope->header, &v.envelope->enc, &v.envelope->ciphertext,
	    &bad, &badlen);
	assert_int_equal(verify_code(f, &f->recipient, bad, badlen),
	    REPAT_ESIG);
	free(bad);
	repat_verified_clear(&v);
}

/* Opens a region CA (test regions keep CA keys without passphrase). */
static repat_ca_t *
open_ca(struct fixture *f, const char *cc)
{
	char err[REPAT_ERRBUF_LEN] = "", *dir;
	repat_ca_t *ca = NULL;

	dir = repat_xasprintf("%s/region/ca/%s", f->dir, cc);
	if (repat_ca_open(dir, NULL, &ca, err) != REPAT_OK)
		fail_msg("ca %s: %s", cc, err);
	free(dir);
	return ca;
}

/* A new agent's key and certificate from ca, valid in [nb, na]. */
static void
issue(repat_ca_t *ca, const char *id, time_t nb, time_t na, EVP_PKEY **key,
    X509 **cert)
{
	char err[REPAT_ERRBUF_LEN] = "";
	X509_REQ *req, *enc_req;
	X509 *enc = NULL;
	EVP_PKEY *xkey;

	assert_int_equal(repat_key_generate(EVP_PKEY_ED25519, key), 0);
	assert_int_equal(repat_key_generate(EVP_PKEY_X25519, &xkey), 0);
	assert_int_equal(repat_request_make(*key, *key, id, 5, &req, err), 0);
	assert_int_equal(repat_request_make(*key, xkey, id, 5, &enc_req, err),
	    0);
	if (repat_ca_issue_at(ca, req, enc_req, nb, na, cert, &enc, err) != 0)
		fail_msg("issue %s: %s", id, err);
	X509_free(enc);
	X509_REQ_free(req);
	X509_REQ_free(enc_req);
	EVP_PKEY_free(xkey);
}

/* A message from a freshly issued signer, reusing the good message. */
static int
verify_signed_by(struct fixture *f, EVP_PKEY *key, X509 *cert,
    const char *claimed_sender, char *err)
{
	struct repat_verified v = parsed(f->msg, f->msglen), out;
	ProtobufCBinaryData header;
	uint8_t *bad;
	size_t badlen;
	int rc;

	free(v.header->sender);
	v.header->sender = repat_xstrdup(claimed_sender);
	repat_encode(&v.header->base, &header.data, &header.len);
	resign(key, REPAT_PURPOSE_ENVELOPE, cert, &header, &v.envelope->enc,
	    &v.envelope->ciphertext, &bad, &badlen);
	rc = repat_envelope_verify(f->recipient.trust, bad, badlen, f->now,
	    &out, err);
	repat_verified_clear(&out);
	free(bad);
	free(header.data);
	repat_verified_clear(&v);
	return rc;
}

static void
certificate_rules(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "";
	repat_ca_t *th = open_ca(f, "TH");
	time_t now = time(NULL);
	EVP_PKEY *key;
	X509 *cert;

	/* Expired: valid last year only. */
	issue(th, "TH.WPC.OLD", now - 400 * 86400, now - 35 * 86400, &key,
	    &cert);
	assert_int_equal(verify_signed_by(f, key, cert, "TH.WPC.OLD", err),
	    REPAT_EEXPIRED);
	X509_free(cert);
	EVP_PKEY_free(key);
	/* Revoked: a good certificate, then on the TH CRL. */
	issue(th, "TH.WPC.GONE", now - 60, now + 86400, &key, &cert);
	assert_int_equal(verify_signed_by(f, key, cert, "TH.WPC.GONE", err),
	    REPAT_OK);
	assert_int_equal(repat_ca_revoke(th, cert, -1, err), REPAT_OK);
	{
		char *src = repat_xasprintf("%s/region/ca/TH/ca.crl", f->dir);
		char *dst = repat_xasprintf("%s/region/agents/%s/trust/TH.crl",
		    f->dir, RECIPIENT);
		char *cmd = repat_xasprintf("cp %s %s", src, dst);
		struct repat_keystore fresh;

		assert_int_equal(system(cmd), 0);
		free(cmd);
		free(src);
		free(dst);
		load_agent(f, RECIPIENT, &fresh);
		repat_keystore_clear(&f->recipient);
		f->recipient = fresh;
	}
	assert_int_equal(verify_signed_by(f, key, cert, "TH.WPC.GONE", err),
	    REPAT_EREVOKED);
	X509_free(cert);
	EVP_PKEY_free(key);
	repat_ca_close(&th);
}

static void
certificate_from_another_countrys_ca(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "", *path;
	EVP_PKEY *cakey, *key;
	X509 *cacert, *cert;
	X509_NAME *name;

	/* The TH CA (pinned) certifies an id of Myanmar by hand. */
	path = repat_xasprintf("%s/region/ca/TH/ca.key", f->dir);
	assert_int_equal(repat_key_load(path, NULL, &cakey, err), 0);
	free(path);
	path = repat_xasprintf("%s/region/ca/TH/ca.crt", f->dir);
	assert_int_equal(repat_cert_load(path, &cacert, err), 0);
	free(path);
	assert_int_equal(repat_key_generate(EVP_PKEY_ED25519, &key), 0);
	cert = X509_new();
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
	    (const unsigned char *)"MM", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
	    (const unsigned char *)"focal_point", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"MM.DSW", -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(cacert));
	X509_set_pubkey(cert, key);
	assert_true(X509_sign(cert, cakey, NULL) > 0);
	/* It even claims to be MM.DSW: refused, not the MM CA's. */
	assert_int_equal(verify_signed_by(f, key, cert, "MM.DSW", err),
	    REPAT_ECERT);
	X509_free(cert);
	X509_free(cacert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
}

static void
truncated_empty_oversized(void **state)
{
	struct fixture *f = *state;
	struct repat_verified v;
	char err[REPAT_ERRBUF_LEN] = "";
	size_t cut, big = REPAT_MAX_ENVELOPE + 1;
	uint8_t *huge = repat_xcalloc(1, big);

	assert_int_equal(repat_envelope_verify(f->recipient.trust, NULL, 0,
	    f->now, &v, err), REPAT_EDECODE);
	repat_verified_clear(&v);
	assert_int_equal(repat_envelope_verify(f->recipient.trust, huge, big,
	    f->now, &v, err), REPAT_ETOOBIG);
	repat_verified_clear(&v);
	for (cut = 1; cut < f->msglen; cut += 13)
		assert_int_not_equal(verify_code(f, &f->recipient, f->msg,
		    f->msglen - cut), REPAT_OK);
	free(huge);
}

static void
seal_refuses_bad_input(void **state)
{
	struct fixture *f = *state;
	struct repat_message_spec spec;
	char err[REPAT_ERRBUF_LEN] = "";
	uint8_t id[16], *out;
	size_t outlen;

	memset(&spec, 0, sizeof(spec));
	spec.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_REFERRAL;
	spec.case_ref = "Aung Ko Ko";		/* a name, never a reference */
	spec.recipient = RECIPIENT;
	spec.form = f->form;
	assert_int_equal(repat_envelope_seal(&f->sender, f->recipient.enc_cert,
	    &spec, f->now, &out, &outlen, id, err), REPAT_EINVAL);
	assert_non_null(strstr(err, "CC-YYYY-NNNNNN"));
	spec.case_ref = CASE;
	spec.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_CLOSURE;
	assert_int_equal(repat_envelope_seal(&f->sender, f->recipient.enc_cert,
	    &spec, f->now, &out, &outlen, id, err), REPAT_EINVAL);
	spec.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_REFERRAL;
	/* Sealing to MM.DNR's certificate while naming MM.DSW. */
	assert_int_equal(repat_envelope_seal(&f->sender, f->third.enc_cert,
	    &spec, f->now, &out, &outlen, id, err), REPAT_ECERT);
	assert_null(out);
}

static void
case_refs(void **state)
{
	(void)state;
	assert_true(repat_case_ref_valid("TH-2026-000123"));
	assert_false(repat_case_ref_valid("th-2026-000123"));
	assert_false(repat_case_ref_valid("TH-2026-00012"));
	assert_false(repat_case_ref_valid("TH-2026-0001234"));
	assert_false(repat_case_ref_valid("TH_2026_000123"));
	assert_false(repat_case_ref_valid(""));
	assert_false(repat_case_ref_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(message_ids_sort_by_creation_time),
		cmocka_unit_test(third_agent_cannot_open),
		cmocka_unit_test(retired_key_still_opens),
		cmocka_unit_test(any_flipped_byte_refused),
		cmocka_unit_test(ciphertext_changed_by_its_own_sender),
		cmocka_unit_test(payload_moved_under_another_header),
		cmocka_unit_test(facts_contradicting_payload),
		cmocka_unit_test(payload_of_unknown_type),
		cmocka_unit_test(signature_by_another_agent),
		cmocka_unit_test(signature_for_another_purpose),
		cmocka_unit_test(certificate_rules),
		cmocka_unit_test(certificate_from_another_countrys_ca),
		cmocka_unit_test(truncated_empty_oversized),
		cmocka_unit_test(seal_refuses_bad_input),
		cmocka_unit_test(case_refs),
	};

	return cmocka_run_group_tests_name("envelope", tests, setup, teardown);
}
