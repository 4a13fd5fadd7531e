/*
 * local_store_test.c: the agent's SQLite file (agent/local_store.c) on a
 * real file: mode 0600, outbox idempotence and answers, inbox
 * deduplication of redeliveries, notices applied to the outbox, the
 * monotonic acked sequence, directory cache, views log, listing filters.
 *
 * Envelopes are built by hand (structurally valid, not signed): the store
 * only parses headers; verification is tested with the envelope module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../agent/local_store.h"
#include "repat/codec.h"
#include "repat/envelope.h"
#include "repat/err.h"
#include "repat/pki.h"
#include "repat/repat.h"

struct fixture {
	char dir[64];
	local_store_t *ls;
	uint8_t *cert;		/* a self-signed DER certificate */
	size_t cert_len;
};

static void
make_cert(struct fixture *f)
{
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();
	unsigned char *p;
	int len;

	assert_int_equal(repat_key_generate(EVP_PKEY_ED25519, &key), 0);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"TH.TEST", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, key, NULL) > 0);
	len = i2d_X509(x, NULL);
	f->cert = malloc((size_t)len);
	p = f->cert;
	i2d_X509(x, &p);
	f->cert_len = (size_t)len;
	X509_free(x);
	EVP_PKEY_free(key);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[REPAT_ERRBUF_LEN] = "";

	snprintf(f->dir, sizeof(f->dir), "/tmp/repat-ls-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(local_store_open(f->dir, &f->ls, err), REPAT_OK);
	make_cert(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	local_store_close(&f->ls);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->cert);
	free(f);
	return 0;
}

/* A structurally valid SignedEnvelope with id byte idb. */
static void
envelope(struct fixture *f, uint8_t idb, const char *sender,
    const char *recipient, const char *case_ref, uint8_t sigb,
    const uint8_t *reply_to, uint8_t **out, size_t *len)
{
	Repat__Header h = REPAT__HEADER__INIT;
	Repat__CaseFacts facts = REPAT__CASE_FACTS__INIT;
	Repat__Envelope e = REPAT__ENVELOPE__INIT;
	Repat__SignedEnvelope se = REPAT__SIGNED_ENVELOPE__INIT;
	ProtobufCBinaryData certs[1];
	uint8_t id[16], enc[32], ct[48], sig[64], *hb, *eb;
	size_t hlen, elen;

	memset(id, idb, sizeof(id));
	memset(enc, 1, sizeof(enc));
	memset(ct, 2, sizeof(ct));
	memset(sig, sigb, sizeof(sig));
	h.version = REPAT_WIRE_VERSION;
	h.message_id.data = id;
	h.message_id.len = 16;
	h.case_ref = (char *)case_ref;
	h.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_REFERRAL;
	h.sender = (char *)sender;
	h.recipient = (char *)recipient;
	h.created_ms = 1000;
	h.expires_ms = 2000;
	h.facts = &facts;
	if (reply_to != NULL) {
		h.has_in_reply_to = 1;
		h.in_reply_to.data = (uint8_t *)reply_to;
		h.in_reply_to.len = 16;
	}
	repat_encode(&h.base, &hb, &hlen);
	e.header.data = hb;
	e.header.len = hlen;
	e.enc.data = enc;
	e.enc.len = sizeof(enc);
	e.ciphertext.data = ct;
	e.ciphertext.len = sizeof(ct);
	repat_encode(&e.base, &eb, &elen);
	se.envelope.data = eb;
	se.envelope.len = elen;
	se.signature.data = sig;
	se.signature.len = sizeof(sig);
	certs[0].data = f->cert;
	certs[0].len = f->cert_len;
	se.n_certificates = 1;
	se.certificates = certs;
	repat_encode(&se.base, out, len);
	free(hb);
	free(eb);
}

static void
file_is_private(void **state)
{
	struct fixture *f = *state;
	char path[128], err[REPAT_ERRBUF_LEN] = "";
	struct stat st;

	snprintf(path, sizeof(path), "%s/agent.db", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Reopening runs no migration twice and keeps the data. */
	assert_int_equal(local_store_set_acked_seq(f->ls, 7, err), 0);
	local_store_close(&f->ls);
	assert_int_equal(local_store_open(f->dir, &f->ls, err), REPAT_OK);
	assert_int_equal(local_store_acked_seq(f->ls), 7);
}

static void
outbox_is_idempotent(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "";
	struct ls_queued *q;
	uint8_t *a, *b;
	size_t alen, blen, n;

	envelope(f, 0x11, "TH.A", "MM.B", "TH-2026-000001", 5, NULL, &a,
	    &alen);
	envelope(f, 0x11, "TH.A", "MM.B", "TH-2026-000001", 6, NULL, &b,
	    &blen);
	assert_int_equal(local_store_outbox_add(f->ls, a, alen, false, 10,
	    err), REPAT_OK);
	assert_int_equal(local_store_outbox_add(f->ls, a, alen, false, 11,
	    err), REPAT_OK);
	/* Same id, other bytes: refused, the stored bytes stay. */
	assert_int_equal(local_store_outbox_add(f->ls, b, blen, false, 12,
	    err), REPAT_EEXIST);
	assert_int_equal(local_store_outbox_queued(f->ls, &q, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(q[0].len, alen);
	assert_memory_equal(q[0].bytes, a, alen);
	local_store_queued_free(q, n);
	/* Not an envelope: refused. */
	assert_int_not_equal(local_store_outbox_add(f->ls, (const uint8_t *)
	    "junk", 4, false, 13, err), REPAT_OK);
	free(a);
	free(b);
}

static void
outbox_answers_and_notices(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "";
	Repat__NoticeBody nb = REPAT__NOTICE_BODY__INIT;
	ProtobufCBinaryData ids[1];
	struct ls_queued *q;
	struct ls_msg m;
	uint8_t *a, *b, ida[16], idb[16];
	size_t alen, blen, n;

	envelope(f, 0x21, "TH.A", "MM.B", "TH-2026-000002", 5, NULL, &a,
	    &alen);
	envelope(f, 0x22, "TH.A", "MM.C", "TH-2026-000002", 5, NULL, &b,
	    &blen);
	memset(ida, 0x21, 16);
	memset(idb, 0x22, 16);
	assert_int_equal(local_store_outbox_add(f->ls, a, alen, false, 10,
	    err), 0);
	assert_int_equal(local_store_outbox_add(f->ls, b, blen, true, 11,
	    err), 0);
	assert_int_equal(local_store_outbox_answer(f->ls, ida, true, 0, NULL,
	    500, (const uint8_t *)"rcpt", 4, err), 0);
	assert_int_equal(local_store_outbox_answer(f->ls, idb, false, 16,
	    "no agreement", 501, NULL, 0, err), 0);
	assert_int_equal(local_store_outbox_queued(f->ls, &q, &n), 0);
	assert_int_equal(n, 0);
	local_store_queued_free(q, n);
	assert_int_equal(local_store_find(f->ls, ida, &m), 0);
	assert_true(m.sent);
	assert_string_equal(m.status, LS_RECEIPTED);
	assert_int_equal(m.broker_time_ms, 500);
	assert_int_equal(m.envelope_len, alen);
	free(m.envelope);
	assert_int_equal(local_store_find(f->ls, idb, &m), 0);
	assert_string_equal(m.status, LS_REJECTED);
	assert_int_equal(m.reject_code, 16);
	assert_string_equal(m.reason, "no agreement");
	assert_true(m.relayed);
	free(m.envelope);
	/* A verified delivered notice marks the message delivered. */
	ids[0].data = ida;
	ids[0].len = 16;
	nb.kind = REPAT__NOTICE_KIND__NOTICE_DELIVERED;
	nb.to = "TH.A";
	nb.n_message_ids = 1;
	nb.message_ids = ids;
	nb.case_ref = "TH-2026-000002";
	nb.broker_time_ms = 900;
	/* Unverified first: stored, but changes nothing. */
	assert_int_equal(local_store_notice_add(f->ls, 3, &nb, NULL, 0, false,
	    20, err), 0);
	assert_int_equal(local_store_find(f->ls, ida, &m), 0);
	assert_string_equal(m.status, LS_RECEIPTED);
	free(m.envelope);
	assert_int_equal(local_store_notice_add(f->ls, 4, &nb, NULL, 0, true,
	    21, err), 0);
	assert_int_equal(local_store_find(f->ls, ida, &m), 0);
	assert_string_equal(m.status, LS_DELIVERED);
	assert_int_equal(m.delivered_ms, 900);
	free(m.envelope);
	free(a);
	free(b);
}

static int
count_row(const struct ls_msg *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static void
inbox_keeps_each_message_once(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "";
	struct repat_verified v;
	struct ls_filter flt;
	struct ls_msg m;
	uint8_t *a, *r, id[16], orig[16];
	size_t alen, rlen;
	int n;

	memset(orig, 0x77, 16);
	envelope(f, 0x31, "MM.B", "TH.A", "TH-2026-000003", 5, orig, &a,
	    &alen);
	assert_int_equal(repat_envelope_parse(a, alen, &v, err), 0);
	assert_int_equal(local_store_inbox_add(f->ls, 1, a, alen, v.header,
	    100, "", 200, err), 1);
	/* A redelivery (after a crash before the ack) is not a new row. */
	assert_int_equal(local_store_inbox_add(f->ls, 1, a, alen, v.header,
	    100, "", 201, err), 0);
	repat_verified_clear(&v);
	/* Bytes that do not parse are kept, quarantined. */
	r = (uint8_t *)"garbage";
	rlen = 7;
	assert_int_equal(local_store_inbox_add(f->ls, 2, r, rlen, NULL, 100,
	    "not a signed envelope", 202, err), 1);
	memset(&flt, 0, sizeof(flt));
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 2);
	flt.unread = true;
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 1);
	memset(id, 0x31, 16);
	assert_int_equal(local_store_inbox_mark_read(f->ls, id), 0);
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 0);
	assert_int_equal(local_store_find(f->ls, id, &m), 0);
	assert_false(m.sent);
	assert_string_equal(m.status, LS_READ);
	assert_string_equal(m.sender, "MM.B");
	assert_true(m.has_reply_to);
	assert_memory_equal(m.in_reply_to, orig, 16);
	assert_int_equal(m.seq, 1);
	assert_false(m.exec_done);
	free(m.envelope);
	assert_int_equal(local_store_inbox_mark_exec(f->ls, id), 0);
	assert_int_equal(local_store_find(f->ls, id, &m), 0);
	assert_true(m.exec_done);
	free(m.envelope);
	free(a);
}

static void
listing_filters(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "";
	struct repat_verified v;
	struct ls_filter flt;
	uint8_t *a, *b;
	size_t alen, blen;
	int n;

	envelope(f, 0x41, "TH.A", "MM.B", "TH-2026-000004", 5, NULL, &a,
	    &alen);
	envelope(f, 0x42, "MM.B", "TH.A", "TH-2026-000005", 5, NULL, &b,
	    &blen);
	assert_int_equal(local_store_outbox_add(f->ls, a, alen, false, 10,
	    err), 0);
	assert_int_equal(repat_envelope_parse(b, blen, &v, err), 0);
	assert_int_equal(local_store_inbox_add(f->ls, 9, b, blen, v.header,
	    100, "", 200, err), 1);
	repat_verified_clear(&v);
	memset(&flt, 0, sizeof(flt));
	flt.case_ref = "TH-2026-000004";
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 1);
	memset(&flt, 0, sizeof(flt));
	flt.from = "MM.B";	/* sent to and received from MM.B */
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 2);
	flt.received_only = true;
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 1);
	memset(&flt, 0, sizeof(flt));
	flt.limit = 1;
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 1);
	memset(&flt, 0, sizeof(flt));
	flt.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_CLOSURE;
	n = 0;
	local_store_list(f->ls, &flt, count_row, &n);
	assert_int_equal(n, 0);
	free(a);
	free(b);
}

static void
acked_seq_only_grows(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "";

	assert_int_equal(local_store_acked_seq(f->ls), 0);
	assert_int_equal(local_store_set_acked_seq(f->ls, 5, err), 0);
	assert_int_equal(local_store_set_acked_seq(f->ls, 3, err), 0);
	assert_int_equal(local_store_acked_seq(f->ls), 5);
	assert_int_equal(local_store_begin(f->ls, err), 0);
	assert_int_equal(local_store_set_acked_seq(f->ls, 9, err), 0);
	local_store_rollback(f->ls);
	assert_int_equal(local_store_acked_seq(f->ls), 5);
}

static void
directory_and_views(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN] = "", **ids;
	uint8_t *der, id[16];
	size_t len, n, i;

	assert_int_equal(local_store_directory_put(f->ls, "MM.DSW", 1,
	    (const uint8_t *)"s1", 2, (const uint8_t *)"e1", 2, 5, err), 0);
	assert_int_equal(local_store_directory_put(f->ls, "MM.DSW.KAYIN", 5,
	    (const uint8_t *)"s2", 2, (const uint8_t *)"e2", 2, 5, err), 0);
	assert_int_equal(local_store_directory_put(f->ls, "TH.DATIP", 1,
	    (const uint8_t *)"s3", 2, (const uint8_t *)"e3", 2, 5, err), 0);
	assert_int_equal(local_store_directory_count(f->ls), 3);
	assert_int_equal(local_store_directory_find(f->ls, "MM", 1, &ids, &n),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "MM.DSW");
	free(ids[0]);
	free(ids);
	assert_int_equal(local_store_directory_find(f->ls, "MM", 0, &ids, &n),
	    0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	assert_int_equal(local_store_directory_enc(f->ls, "TH.DATIP", &der,
	    &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(der, "e3", 2);
	free(der);
	assert_int_equal(local_store_directory_enc(f->ls, "LA.X", &der, &len),
	    REPAT_ENOENT);
	assert_int_equal(local_store_directory_clear(f->ls, err), 0);
	assert_int_equal(local_store_directory_count(f->ls), 0);
	memset(id, 0x51, 16);
	assert_int_equal(local_store_view_count(f->ls, id), 0);
	assert_int_equal(local_store_view_log(f->ls, id, "TH-2026-000009",
	    "somchai", "show", 77, err), 0);
	assert_int_equal(local_store_view_log(f->ls, NULL, "TH-2026-000009",
	    "somchai", "case", 78, err), 0);
	assert_int_equal(local_store_view_count(f->ls, id), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(file_is_private, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(outbox_is_idempotent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(outbox_answers_and_notices,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(inbox_keeps_each_message_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(listing_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(acked_seq_only_grows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(directory_and_views, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
