/*
 * message_format_test.c: the worked example of docs/message-format.md.
 *
 * Builds a message step by step from the fixed inputs in
 * tests/data/example/ exactly as the document describes (header, payload,
 * padding, HPKE with a fixed ephemeral key, envelope, signature), checks
 * the bytes equal the committed files byte for byte, and checks that
 * repat's own verify and open accept them. If the document and the code
 * ever part ways, this test fails. REPAT_WRITE_EXAMPLE=1 rewrites the
 * committed files (after a deliberate format change only).
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

#include "repat/codec.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/mem.h"
#include "repat/pki.h"
#include "repat/repat.h"
#include "repat/seal.h"
#include "repat/sign.h"

#define EX "tests/data/example"

struct example {
	char dir[64];			/* temp copy of the agents (mode 0600) */
	json_t *in;			/* inputs.json */
	struct repat_keystore sender;
	struct repat_keystore recipient;
	ProtobufCMessage *form;
};

static const char *
in_str(struct example *x, const char *key)
{
	const char *s = json_string_value(json_object_get(x->in, key));

	assert_non_null(s);
	return s;
}

static uint64_t
in_u64(struct example *x, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(x->in, key));
}

static void
load_agent(struct example *x, const char *id, struct repat_keystore *ks)
{
	char err[REPAT_ERRBUF_LEN] = "", *path;

	path = repat_xasprintf("%s/%s", x->dir, id);
	if (repat_keystore_load(path, NULL, ks, err) != REPAT_OK)
		fail_msg("%s: %s", id, err);
	free(path);
}

static int
setup(void **state)
{
	struct example *x = repat_xcalloc(1, sizeof(*x));
	struct repat_form_report rep;
	char err[REPAT_ERRBUF_LEN], *cmd;
	uint8_t *json;
	size_t len;

	strcpy(x->dir, "/tmp/repat-example-XXXXXX");
	if (mkdtemp(x->dir) == NULL)
		return -1;
	/* git does not keep modes; keys must be 0600 to load. */
	cmd = repat_xasprintf("cp -r " EX "/agents/. %s && chmod -R go-rwx %s",
	    x->dir, x->dir);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	x->in = json_load_file(EX "/inputs.json", JSON_REJECT_DUPLICATES, NULL);
	if (x->in == NULL)
		return -1;
	load_agent(x, in_str(x, "sender"), &x->sender);
	load_agent(x, in_str(x, "recipient"), &x->recipient);
	if (repat_file_read(EX "/form.json", REPAT_MAX_FORM_JSON, &json, &len,
	    err) != REPAT_OK)
		return -1;
	if (repat_form_from_json(repat_message_type_parse(in_str(x, "type")),
	    (char *)json, len, &x->form, &rep) != REPAT_OK)
		return -1;
	free(json);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct example *x = *state;
	char *cmd = repat_xasprintf("rm -rf %s", x->dir);

	(void)system(cmd);
	free(cmd);
	repat_keystore_clear(&x->sender);
	repat_keystore_clear(&x->recipient);
	repat_form_free(x->form);
	json_decref(x->in);
	free(x);
	return 0;
}

/* Compares with, or with REPAT_WRITE_EXAMPLE=1 writes, a committed file. */
static void
same_as_file(const char *name, const uint8_t *b, size_t n)
{
	char err[REPAT_ERRBUF_LEN] = "", *path;
	uint8_t *want;
	size_t wantlen;

	path = repat_xasprintf(EX "/%s", name);
	if (getenv("REPAT_WRITE_EXAMPLE") != NULL)
		assert_int_equal(repat_file_write(path, b, n, 0644, err), 0);
	if (repat_file_read(path, REPAT_MAX_ENVELOPE, &want, &wantlen, err) !=
	    REPAT_OK)
		fail_msg("%s", err);
	if (wantlen != n || memcmp(want, b, n) != 0)
		fail_msg("%s: the bytes built by the documented steps differ "
		    "from the committed example", name);
	free(want);
	free(path);
}

static void
worked_example(void **state)
{
	struct example *x = *state;
	Repat__CaseFacts facts = REPAT__CASE_FACTS__INIT;
	Repat__Header h = REPAT__HEADER__INIT;
	Repat__Payload p = REPAT__PAYLOAD__INIT;
	Repat__Envelope e = REPAT__ENVELOPE__INIT;
	Repat__SignedEnvelope se = REPAT__SIGNED_ENVELOPE__INIT;
	ProtobufCBinaryData cert;
	repat_hpke_t *ctx;
	uint8_t id[16], skE[32], pkR[32], enc[32], sig[64];
	uint8_t *header, *payload, *padded, *ct, *env, *msg;
	size_t hlen, plen, padlen, envlen, msglen;

	/* 1. The header, with the facts derived from the form. */
	assert_int_equal(repat_unhex(in_str(x, "message_id"), id, 16), 0);
	assert_int_equal(repat_form_facts(repat_message_type_parse(in_str(x,
	    "type")), x->form, &facts), 0);
	h.version = REPAT_WIRE_VERSION;
	h.message_id.data = id;
	h.message_id.len = sizeof(id);
	h.case_ref = (char *)in_str(x, "case_ref");
	h.type = (Repat__MessageType)repat_message_type_parse(in_str(x,
	    "type"));
	h.sender = (char *)in_str(x, "sender");
	h.recipient = (char *)in_str(x, "recipient");
	h.created_ms = in_u64(x, "created_ms");
	h.expires_ms = in_u64(x, "expires_ms");
	h.facts = &facts;
	repat_encode(&h.base, &header, &hlen);
	same_as_file("header.bin", header, hlen);

	/* 2. The payload: type, the form's own bytes, the operator. */
	p.type = h.type;
	repat_form_encode(x->form, &p.form.data, &p.form.len);
	p.operator_ = (char *)in_str(x, "operator");
	repat_encode(&p.base, &payload, &plen);
	same_as_file("payload.bin", payload, plen);

	/* 3. Padding: 0x80 then zeros up to the bucket. */
	padlen = repat_pad_len(plen);
	padded = repat_xcalloc(1, padlen);
	memcpy(padded, payload, plen);
	padded[plen] = 0x80;

	/* 4. HPKE base mode to the recipient's X25519 key, aad = header. */
	assert_int_equal(repat_unhex(in_str(x, "ephemeral_secret_key"), skE,
	    32), 0);
	assert_int_equal(repat_cert_public_raw(x->recipient.enc_cert, pkR), 0);
	assert_int_equal(repat_hpke_setup_sender(REPAT_HPKE_BASE,
	    REPAT_HPKE_AES256GCM, pkR, skE, (const uint8_t *)REPAT_SEAL_INFO,
	    strlen(REPAT_SEAL_INFO), NULL, 0, NULL, 0, enc, &ctx), 0);
	ct = repat_xmalloc(padlen + REPAT_AEAD_TAG_LEN);
	assert_int_equal(repat_hpke_seal(ctx, header, hlen, padded, padlen,
	    ct), 0);
	repat_hpke_destroy(&ctx);

	/* 5. The envelope, signed with purpose "envelope". */
	e.header.data = header;
	e.header.len = hlen;
	e.enc.data = enc;
	e.enc.len = sizeof(enc);
	e.ciphertext.data = ct;
	e.ciphertext.len = padlen + REPAT_AEAD_TAG_LEN;
	repat_encode(&e.base, &env, &envlen);
	same_as_file("envelope.bin", env, envlen);
	assert_int_equal(repat_sign(x->sender.sign_key, REPAT_PURPOSE_ENVELOPE,
	    env, envlen, sig), 0);
	assert_int_equal(repat_cert_to_der(x->sender.sign_cert, &cert.data,
	    &cert.len), 0);
	se.envelope.data = env;
	se.envelope.len = envlen;
	se.signature.data = sig;
	se.signature.len = sizeof(sig);
	se.n_certificates = 1;
	se.certificates = &cert;
	repat_encode(&se.base, &msg, &msglen);
	same_as_file("message.repat", msg, msglen);

	repat_facts_clear(&facts);
	free(cert.data);
	free(msg);
	free(env);
	free(ct);
	free(padded);
	free(payload);
	free(p.form.data);
	free(header);
}

static void
repat_opens_the_example(void **state)
{
	struct example *x = *state;
	struct repat_verified v;
	struct repat_form_report rep;
	ProtobufCMessage *form;
	char err[REPAT_ERRBUF_LEN] = "", *op, *a, *b;
	uint8_t *msg;
	size_t len;

	assert_int_equal(repat_file_read(EX "/message.repat",
	    REPAT_MAX_ENVELOPE, &msg, &len, err), 0);
	/* Verified at the example's creation time plus one minute. */
	if (repat_envelope_verify(x->recipient.trust, msg, len,
	    in_u64(x, "created_ms") + 60000, &v, err) != REPAT_OK)
		fail_msg("verify: %s", err);
	if (repat_envelope_open(&x->recipient, &v, &form, &op, &rep, err) !=
	    REPAT_OK)
		fail_msg("open: %s", err);
	a = repat_form_to_json(form);
	b = repat_form_to_json(x->form);
	assert_string_equal(a, b);
	assert_string_equal(op, in_str(x, "operator"));
	free(a);
	free(b);
	free(op);
	repat_form_free(form);
	repat_verified_clear(&v);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(worked_example),
		cmocka_unit_test(repat_opens_the_example),
	};

	return cmocka_run_group_tests_name("message_format", tests, setup,
	    teardown);
}
