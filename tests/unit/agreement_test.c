/*
 * agreement_test.c: lib/agreement.c against real files and real keys:
 * strict parsing (tests/data/agreements fixtures and examples/agreements),
 * detached signatures made and checked with certificates from real
 * national CAs (lib/ca.c) in a temporary region, loading a folder, the
 * authorization lookup and focal-point resolution.
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

#include "agreement_fixture.h"
#include "repat/agreement.h"

#define FIX "tests/data/agreements/"
#define Y2026 1780000000000ULL	/* 2026-05-28, inside every example */

static int
setup(void **state)
{
	struct fx_region *r = calloc(1, sizeof(*r));

	fx_region_init(r);
	*state = r;
	return 0;
}

static int
teardown(void **state)
{
	fx_region_free(*state);
	free(*state);
	return 0;
}

/* ---- parsing */

static void
valid_fixture_parses(void **state)
{
	struct repat_agreement *a;
	char err[REPAT_ERRBUF_LEN];
	const struct repat_deadline_rule *d;

	(void)state;
	assert_int_equal(repat_agreement_load(FIX "valid.json", &a, err), 0);
	assert_string_equal(a->id, "TH-MM-MOU-2019");
	assert_int_equal(a->kind, REPAT_AGREEMENT_BILATERAL);
	assert_int_equal(a->nparties, 2);
	assert_string_equal(a->parties[0], "TH");
	assert_string_equal(a->supersedes, "TH-MM-MOU-2009");
	/* 2019-02-05T00:00:00Z */
	assert_int_equal(a->in_force_from_ms, 1549324800000ULL);
	assert_int_equal(a->in_force_until_ms, 0);
	assert_true(repat_agreement_names(a, "MM.DNR",
	    REPAT__ROLE__ROLE_NATIONALITY));
	assert_false(repat_agreement_names(a, "MM.DNR",
	    REPAT__ROLE__ROLE_FOCAL_POINT));
	d = repat_agreement_deadline(a,
	    REPAT__MESSAGE_TYPE__MESSAGE_TYPE_NATIONALITY_VERIFICATION_REQUEST);
	assert_non_null(d);
	assert_int_equal(d->period_ms, 30ULL * 86400 * 1000);
	assert_true(d->placeholder);
	assert_true(a->ncrossings >= 3);
	assert_true(repat_agreement_in_force(a, Y2026));
	assert_false(repat_agreement_in_force(a, 1549324800000ULL - 1));
	repat_agreement_free(&a);
	assert_null(a);
}

static void
bad_fixtures_refused(void **state)
{
	static const struct {
		const char *file;
		const char *why;	/* a word the error must contain */
	} bad[] = {
		{ "dup_key.json", "duplicate" },
		{ "dup_key_nested.json", "duplicate" },
		{ "unknown_key.json", "colour" },
		{ "unknown_flow_key.json", "priority" },
		{ "bad_date_day.json", "date" },
		{ "bad_date_format.json", "date" },
		{ "bad_date_month.json", "date" },
		{ "bad_date_leap.json", "date" },
		{ "until_before_from.json", "before" },
		{ "bilateral_three_parties.json", "two parties" },
		{ "framework_with_flows.json", "framework" },
		{ "foreign_focal_point.json", "another country" },
		{ "bad_role.json", "role" },
		{ "bad_type.json", "message type" },
		{ "deadline_days_and_minutes.json", "exactly one" },
		{ "party_without_focal_point.json", "focal_point" },
		{ "party_twice.json", "twice" },
		{ "bad_id.json", "id" },
		{ "not_json.json", "line" },
		{ "nul_in_string.json", "line" },
	};
	struct repat_agreement *a;
	char err[REPAT_ERRBUF_LEN], path[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), FIX "%s", bad[i].file);
		err[0] = '\0';
		a = (void *)1;
		if (repat_agreement_load(path, &a, err) == 0)
			fail_msg("%s was accepted", bad[i].file);
		assert_null(a);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("%s: \"%s\" does not say %s", bad[i].file, err,
			    bad[i].why);
	}
}

static void
examples_parse(void **state)
{
	static const char *const files[] = { "th-mm-2009.json",
	    "th-mm-2019.json", "th-kh-2003.json", "th-la-2005.json",
	    "th-vn-2008.json", "th-cn-2018.json", "kh-vn-2005.json",
	    "kh-cn-2017.json", "mm-cn-2009.json", "commit-2004.json" };
	struct repat_agreement *a;
	char err[REPAT_ERRBUF_LEN], path[128];
	size_t i;
	bool la_vn = false;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "examples/agreements/%s",
		    files[i]);
		if (repat_agreement_load(path, &a, err) != 0)
			fail_msg("%s", err);
		if (a->kind == REPAT_AGREEMENT_BILATERAL &&
		    repat_agreement_has_party(a, "LA") &&
		    repat_agreement_has_party(a, "VN"))
			la_vn = true;
		if (strcmp(files[i], "commit-2004.json") == 0) {
			assert_int_equal(a->kind, REPAT_AGREEMENT_FRAMEWORK);
			assert_int_equal(a->nparties, 6);
			assert_int_equal(a->nflows, 0);
		}
		repat_agreement_free(&a);
	}
	assert_false(la_vn);	/* there is no LA-VN agreement */
}

static void
in_force_until_counts_last_day(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement *a;
	char err[REPAT_ERRBUF_LEN], *t;

	t = fx_bilateral("X-1", "TH", "LA", "2005-07-13", "2020-12-31", NULL);
	assert_int_equal(repat_agreement_parse((uint8_t *)t, strlen(t), &a,
	    err), 0);
	/* 2020-12-31T23:59:59Z is in force, 2021-01-01T00:00:00Z is not. */
	assert_true(repat_agreement_in_force(a, 1609459199000ULL));
	assert_false(repat_agreement_in_force(a, 1609459200000ULL));
	repat_agreement_free(&a);
	free(t);
	(void)r;
}

/* ---- signatures */

static const char *
signed_pair(struct fx_region *r, const char *file, uint64_t at)
{
	char *t = fx_bilateral("TH-MM-T", "TH", "MM", "2019-02-05", NULL,
	    NULL);
	const char *p = fx_agreement(r, file, t, "TH.DATIP", "MM.DSW", at);

	free(t);
	return p;
}

static void
sign_and_check(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement_status st;
	uint64_t now = fx_now_ms();
	const char *p = signed_pair(r, "ok.json", now);

	assert_int_equal(repat_agreement_check(p, r->trust, now, &st), 0);
	assert_string_equal(st.id, "TH-MM-T");
	assert_true(st.all_signed);
	assert_true(st.in_force);
	assert_int_equal(st.nparties, 2);
	assert_int_equal(st.parties[0].state, REPAT_SIG_VALID);
	assert_int_equal(st.parties[1].state, REPAT_SIG_VALID);
	assert_string_equal(st.parties[1].signer, "MM.DSW");
	assert_int_equal(st.parties[1].signed_at_ms, now);
}

static void
changed_after_signing_invalid(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement_status st;
	char err[REPAT_ERRBUF_LEN];
	uint64_t now = fx_now_ms();
	const char *p = signed_pair(r, "changed.json", now);
	uint8_t *buf;
	size_t len;

	assert_int_equal(repat_file_read(p, 1 << 20, &buf, &len, err), 0);
	/* One character of the title: still valid JSON, other bytes. */
	*(char *)strstr((char *)buf, "Test TH-MM-T") = 'B';
	assert_int_equal(repat_file_write(p, buf, len, 0644, err), 0);
	free(buf);
	assert_int_equal(repat_agreement_check(p, r->trust, now, &st),
	    REPAT_EAGREEMENT);
	assert_false(st.all_signed);
	assert_int_equal(st.parties[0].state, REPAT_SIG_INVALID);
	assert_non_null(strstr(st.parties[0].reason, "changed"));
}

static void
one_party_only_not_loaded(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement_status st;
	uint64_t now = fx_now_ms();
	char *t = fx_bilateral("TH-VN-T", "TH", "VN", "2008-03-24", NULL,
	    NULL);
	const char *p = fx_agreement(r, "half.json", t, "TH.DATIP", NULL, now);

	free(t);
	assert_int_equal(repat_agreement_check(p, r->trust, now, &st),
	    REPAT_EAGREEMENT);
	assert_int_equal(st.parties[0].state, REPAT_SIG_VALID);
	assert_int_equal(st.parties[1].state, REPAT_SIG_MISSING);
	assert_non_null(strstr(st.parties[1].reason, "VN"));
}

static void
signer_not_focal_point(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement_status st;
	struct repat_keystore ks;
	char err[REPAT_ERRBUF_LEN], *t;
	uint64_t now = fx_now_ms();
	const char *p;

	/* The library refuses to sign for a shelter. */
	t = fx_bilateral("TH-MM-S", "TH", "MM", "2019-02-05", NULL, NULL);
	p = fx_write(r, "shelter.json", t);
	free(t);
	assert_int_equal(repat_agreement_sign(p, fx_ks(r, "TH.WPC.PATHUMTHANI"),
	    now, err), REPAT_EAGREEMENT);
	assert_non_null(strstr(err, "focal_point"));
	/* A focal point of a country that is no party is refused too. */
	assert_int_equal(repat_agreement_sign(p, fx_ks(r, "KH.MOSVY"), now,
	    err), REPAT_EAGREEMENT);
	/*
	 * A shelter whose keystore claims to be a focal point gets a file
	 * written, but the checker reads the role from the certificate.
	 */
	ks = *fx_ks(r, "TH.WPC.PATHUMTHANI");
	ks.id.role = REPAT__ROLE__ROLE_FOCAL_POINT;
	t = fx_bilateral("TH-MM-S", "TH", "MM", "2019-02-05", NULL, NULL);
	/* ... and named in the file as a TH focal point, */
	{
		char *at = strstr(t, "[\"TH.DATIP\"]"), *t2;

		assert_non_null(at);
		t2 = repat_xasprintf("%.*s[\"TH.DATIP\", "
		    "\"TH.WPC.PATHUMTHANI\"]%s", (int)(at - t), t,
		    at + strlen("[\"TH.DATIP\"]"));
		free(t);
		t = t2;
	}
	p = fx_write(r, "shelter.json", t);
	free(t);
	assert_int_equal(repat_agreement_sign(p, &ks, now, err), 0);
	fx_sign(r, p, "MM.DSW", now);
	assert_int_equal(repat_agreement_check(p, r->trust, now, &st),
	    REPAT_EAGREEMENT);
	assert_int_equal(st.parties[0].state, REPAT_SIG_INVALID);
	assert_non_null(strstr(st.parties[0].reason, "not named"));
	assert_int_equal(st.parties[1].state, REPAT_SIG_VALID);
}

static void
expired_certificate_at_signing(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement_status st;
	time_t now = time(NULL);
	uint64_t now_ms = (uint64_t)now * 1000;
	char *t;
	const char *p;

	/*
	 * TH.DATIP's old certificate: valid from 200 s to 100 s ago (the
	 * fixture's CAs were made a moment ago, valid from 300 s before).
	 */
	struct repat_keystore *old = fx_agent_add_at(r, "TH.DATIP",
	    REPAT__ROLE__ROLE_FOCAL_POINT, now - 200, now - 100);

	t = fx_bilateral("TH-MM-E", "TH", "MM", "2019-02-05", NULL, NULL);
	p = fx_write(r, "expired.json", t);
	free(t);
	/* Signed today with the expired certificate: invalid. */
	assert_int_equal(repat_agreement_sign(p, old, now_ms, NULL), 0);
	fx_sign(r, p, "MM.DSW", now_ms);
	assert_int_equal(repat_agreement_check(p, r->trust, now_ms, &st),
	    REPAT_EAGREEMENT);
	assert_int_equal(st.parties[0].state, REPAT_SIG_INVALID);
	assert_non_null(strstr(st.parties[0].reason, "expired"));
	/* Signed 150 s ago, while it was valid: still valid now. */
	assert_int_equal(repat_agreement_sign(p, old, now_ms - 150 * 1000,
	    NULL), 0);
	assert_int_equal(repat_agreement_check(p, r->trust, now_ms, &st), 0);
	assert_int_equal(st.parties[0].state, REPAT_SIG_VALID);
	/* A signing time in the future is refused. */
	assert_int_equal(repat_agreement_sign(p, fx_ks(r, "TH.DATIP"),
	    now_ms + 3600 * 1000, NULL), 0);
	assert_int_equal(repat_agreement_check(p, r->trust, now_ms, &st),
	    REPAT_EAGREEMENT);
	assert_non_null(strstr(st.parties[0].reason, "future"));
}

/* A signature file edited by hand: each field change is caught. */
static void
tampered_signature_files(void **state)
{
	static const struct {
		const char *key;
		const char *value;	/* JSON text */
		const char *why;
	} edits[] = {
		{ "signer", "\"TH.IOM\"", "TH.IOM" },
		{ "signed_at_ms", NULL, "signature" },
		{ "agreement_id", "\"OTHER\"", "OTHER" },
		{ "party", "\"MM\"", "not for" },
		{ "signature", "\"AAAA\"", "signature" },
		{ "certificates", "[\"!!\"]", "decode" },
		{ "extra", "1", "unknown key" },
	};
	struct fx_region *r = *state;
	struct repat_agreement_status st;
	char err[REPAT_ERRBUF_LEN], sigpath[420];
	uint64_t now = fx_now_ms();
	const char *p = signed_pair(r, "tamper.json", now);
	json_t *orig, *o;
	char *text;
	size_t i;

	snprintf(sigpath, sizeof(sigpath), "%s.sig.TH", p);
	orig = json_load_file(sigpath, 0, NULL);
	assert_non_null(orig);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		o = json_deep_copy(orig);
		if (strcmp(edits[i].key, "signed_at_ms") == 0)
			json_object_set_new(o, edits[i].key,
			    json_integer((json_int_t)now - 1000));
		else
			json_object_set_new(o, edits[i].key,
			    json_loads(edits[i].value, JSON_DECODE_ANY, NULL));
		text = json_dumps(o, 0);
		assert_int_equal(repat_file_write(sigpath, text, strlen(text),
		    0644, err), 0);
		free(text);
		json_decref(o);
		assert_int_equal(repat_agreement_check(p, r->trust, now, &st),
		    REPAT_EAGREEMENT);
		assert_int_equal(st.parties[0].state, REPAT_SIG_INVALID);
		if (strstr(st.parties[0].reason, edits[i].why) == NULL)
			fail_msg("edit %s: \"%s\"", edits[i].key,
			    st.parties[0].reason);
	}
	/* A certificate from another country's CA under TH's name. */
	o = json_deep_copy(orig);
	{
		uint8_t *der;
		size_t dlen;
		char *b64;

		X509 *mm = fx_ks(r, "MM.DSW")->sign_cert;

		assert_int_equal(repat_cert_to_der(mm, &der, &dlen), 0);
		b64 = malloc(4 * ((dlen + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)b64, der, (int)dlen);
		json_object_set_new(o, "certificates", json_pack("[s]", b64));
		free(b64);
		free(der);
	}
	text = json_dumps(o, 0);
	assert_int_equal(repat_file_write(sigpath, text, strlen(text), 0644,
	    err), 0);
	free(text);
	json_decref(o);
	assert_int_equal(repat_agreement_check(p, r->trust, now, &st),
	    REPAT_EAGREEMENT);
	assert_int_equal(st.parties[0].state, REPAT_SIG_INVALID);
	json_decref(orig);
}

/* ---- loading a folder */

struct refusals {
	int n;
	char last[REPAT_ERRBUF_LEN];
};

static void
on_refused(const char *path, int code, const char *reason, void *arg)
{
	struct refusals *rf = arg;

	(void)path;
	(void)code;
	rf->n++;
	snprintf(rf->last, sizeof(rf->last), "%s", reason);
}

static void
load_folder(void **state)
{
	struct fx_region *r = *state;
	struct refusals rf = { 0, "" };
	repat_agreements_t *set;
	char err[REPAT_ERRBUF_LEN], dir[200], *t;
	uint64_t now = fx_now_ms();
	struct repat_agreement_status st;

	snprintf(dir, sizeof(dir), "%s/load", r->dir);
	mkdir(dir, 0700);
	snprintf(r->agr_dir, sizeof(r->agr_dir), "%s", dir);
	t = fx_bilateral("A-TH-MM", "TH", "MM", "2019-02-05", NULL, NULL);
	fx_agreement(r, "a.json", t, "TH.DATIP", "MM.DSW", now);
	/* The same id again: refused as a duplicate. */
	fx_agreement(r, "b.json", t, "TH.DATIP", "MM.DSW", now);
	free(t);
	t = fx_bilateral("C-TH-VN", "TH", "VN", "2008-03-24", NULL, NULL);
	fx_agreement(r, "c.json", t, "TH.DATIP", NULL, now);
	free(t);
	fx_write(r, "d.json", "{\"id\": 1}");
	fx_write(r, "notes.txt", "ignored");
	set = repat_agreements_load(dir, r->trust, now, on_refused, &rf, err);
	assert_non_null(set);
	assert_int_equal(repat_agreements_count(set), 1);
	assert_string_equal(repat_agreements_get(set, 0)->id, "A-TH-MM");
	assert_non_null(repat_agreements_find(set, "A-TH-MM"));
	assert_null(repat_agreements_find(set, "C-TH-VN"));
	assert_int_equal(rf.n, 3);
	repat_agreements_destroy(&set);
	assert_null(set);
	/* check on a missing file */
	assert_int_equal(repat_agreement_check("/nonexistent/x.json",
	    r->trust, now, &st), REPAT_ENOENT);
	assert_null(repat_agreements_load("/nonexistent", r->trust, now, NULL,
	    NULL, err));
	snprintf(r->agr_dir, sizeof(r->agr_dir), "%s/agreements", r->dir);
}

/* ---- authorization and focal points */

static void
authorize_and_resolve(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement *as[3];
	const struct repat_agreement *got;
	struct repat_identity th, mm, mmx, kh, shelter;
	struct repat_route rt;
	repat_agreements_t *set;
	char err[REPAT_ERRBUF_LEN], reason[REPAT_ERRBUF_LEN], *t;
	int code;

	t = fx_bilateral("OLD", "TH", "MM", "2009-04-24", NULL, NULL);
	assert_int_equal(repat_agreement_parse((uint8_t *)t, strlen(t), &as[0],
	    err), 0);
	free(t);
	t = fx_bilateral("NEW", "TH", "MM", "2019-02-05", NULL, "OLD");
	assert_int_equal(repat_agreement_parse((uint8_t *)t, strlen(t), &as[1],
	    err), 0);
	free(t);
	t = fx_bilateral("TK", "TH", "KH", "2030-01-01", NULL, NULL);
	assert_int_equal(repat_agreement_parse((uint8_t *)t, strlen(t), &as[2],
	    err), 0);
	free(t);
	set = repat_agreements_from(as, 3);
	assert_null(as[0]);
	th = fx_ks(r, "TH.DATIP")->id;
	mm = fx_ks(r, "MM.DSW")->id;
	mmx = fx_ks(r, "MM.OTHER")->id;
	kh = fx_ks(r, "KH.MOSVY")->id;
	shelter = fx_ks(r, "TH.WPC.PATHUMTHANI")->id;
	memset(&rt, 0, sizeof(rt));
	rt.sender = &th;
	rt.recipient = &mm;
	rt.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE;
	rt.sender_side = REPAT_SIDE_DESTINATION;
	assert_int_equal(repat_agreements_authorize(set, &rt, Y2026, &got,
	    &code, reason), 0);
	assert_string_equal(got->id, "NEW");
	/* In 2015 the old MoU governs. */
	assert_int_equal(repat_agreements_authorize(set, &rt, 1420070400000ULL,
	    &got, &code, reason), 0);
	assert_string_equal(got->id, "OLD");
	/* Naming the superseded one in 2026 is refused. */
	rt.agreement_id = "OLD";
	assert_int_equal(repat_agreements_authorize(set, &rt, Y2026, &got,
	    &code, reason), REPAT_EREFUSED);
	assert_int_equal(code, REPAT__REJECT_CODE__REJECT_NO_AGREEMENT);
	assert_non_null(strstr(reason, "superseded"));
	rt.agreement_id = NULL;
	/* Wrong side: the origin does not send identification notices. */
	rt.sender = &mm;
	rt.recipient = &th;
	rt.sender_side = REPAT_SIDE_ORIGIN;
	assert_int_equal(repat_agreements_authorize(set, &rt, Y2026, &got,
	    &code, reason), REPAT_EREFUSED);
	assert_int_equal(code, REPAT__REJECT_CODE__REJECT_ROLE_NOT_ALLOWED);
	/* A recipient nobody named. */
	rt.sender = &th;
	rt.recipient = &mmx;
	rt.sender_side = REPAT_SIDE_DESTINATION;
	assert_int_equal(repat_agreements_authorize(set, &rt, Y2026, &got,
	    &code, reason), REPAT_EREFUSED);
	assert_int_equal(code, REPAT__REJECT_CODE__REJECT_UNKNOWN_RECIPIENT);
	/* A shelter may refer, not identify. */
	rt.sender = &shelter;
	rt.recipient = &mm;
	assert_int_equal(repat_agreements_authorize(set, &rt, Y2026, &got,
	    &code, reason), REPAT_EREFUSED);
	assert_int_equal(code, REPAT__REJECT_CODE__REJECT_ROLE_NOT_ALLOWED);
	rt.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_REFERRAL;
	assert_int_equal(repat_agreements_authorize(set, &rt, Y2026, &got,
	    &code, reason), 0);
	/* TH-KH is not in force until 2030. */
	rt.sender = &th;
	rt.recipient = &kh;
	rt.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE;
	assert_int_equal(repat_agreements_authorize(set, &rt, Y2026, &got,
	    &code, reason), REPAT_EREFUSED);
	assert_int_equal(code, REPAT__REJECT_CODE__REJECT_NO_AGREEMENT);
	assert_non_null(strstr(reason, "not yet"));
	/* Focal point resolution. */
	assert_string_equal(repat_agreements_focal_point(set, "MM",
	    REPAT__ROLE__ROLE_FOCAL_POINT, "TH", Y2026), "MM.DSW");
	assert_string_equal(repat_agreements_focal_point(set, "MM",
	    REPAT__ROLE__ROLE_NATIONALITY, NULL, Y2026), "MM.DNR");
	assert_null(repat_agreements_focal_point(set, "KH",
	    REPAT__ROLE__ROLE_FOCAL_POINT, NULL, Y2026));
	assert_null(repat_agreements_focal_point(set, "MM",
	    REPAT__ROLE__ROLE_POLICE, NULL, Y2026));
	repat_agreements_destroy(&set);
}

/* A signer certificate revoked since (CRL held now) voids its signature. */
static void
revoked_signer_invalid(void **state)
{
	struct fx_region *r = *state;
	struct repat_agreement_status st;
	char err[REPAT_ERRBUF_LEN], cadir[200], from[256], to[256], *t;
	uint64_t now = fx_now_ms();
	time_t tnow = time(NULL);
	struct repat_keystore *ks = fx_agent_add_at(r, "TH.DATIP",
	    REPAT__ROLE__ROLE_FOCAL_POINT, tnow - 60, tnow + 3600);
	repat_ca_t *ca;
	const char *p;

	t = fx_bilateral("TH-MM-R", "TH", "MM", "2019-02-05", NULL, NULL);
	p = fx_write(r, "revoked.json", t);
	free(t);
	assert_int_equal(repat_agreement_sign(p, ks, now, err), 0);
	fx_sign(r, p, "MM.DSW", now);
	assert_int_equal(repat_agreement_check(p, r->trust, now, &st), 0);
	fx_ca_path(r, "TH", cadir, sizeof(cadir));
	assert_int_equal(repat_ca_open(cadir, NULL, &ca, err), 0);
	assert_int_equal(repat_ca_revoke(ca, ks->sign_cert, -1, err), 0);
	repat_ca_close(&ca);
	snprintf(from, sizeof(from), "%s/ca.crl", cadir);
	snprintf(to, sizeof(to), "%s/TH.crl", r->trust_dir);
	fx_copy(from, to);
	repat_trust_destroy(&r->trust);
	r->trust = repat_trust_load(r->trust_dir, err);
	assert_non_null(r->trust);
	assert_int_equal(repat_agreement_check(p, r->trust, now, &st),
	    REPAT_EAGREEMENT);
	assert_int_equal(st.parties[0].state, REPAT_SIG_INVALID);
	assert_non_null(strstr(st.parties[0].reason, "revoked"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_fixture_parses),
		cmocka_unit_test(bad_fixtures_refused),
		cmocka_unit_test(examples_parse),
		cmocka_unit_test(in_force_until_counts_last_day),
		cmocka_unit_test(sign_and_check),
		cmocka_unit_test(changed_after_signing_invalid),
		cmocka_unit_test(one_party_only_not_loaded),
		cmocka_unit_test(signer_not_focal_point),
		cmocka_unit_test(expired_certificate_at_signing),
		cmocka_unit_test(tampered_signature_files),
		cmocka_unit_test(load_folder),
		cmocka_unit_test(authorize_and_resolve),
		cmocka_unit_test(revoked_signer_invalid),
	};

	return cmocka_run_group_tests_name("agreement", tests, setup,
	    teardown);
}
