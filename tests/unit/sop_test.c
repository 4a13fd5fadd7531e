/*
 * sop_test.c: the routing and SOP decisions (lib/sop.c over lib/agreement.c)
 * as one table of cases, each replaying a prefix of a lawful scenario on a
 * fresh case and then submitting one message with an expected outcome.
 * The agreements are real files signed with real keys of a temporary
 * region (agreement_fixture.h), loaded through repat_agreements_load, so
 * "signed by one party only" and "changed after signing" are real too.
 * Then: the founding case end to end, consent withdrawal effects,
 * deadlines, and the invariants checker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agreement_fixture.h"
#include "repat/sop.h"

#define T(x)	REPAT__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define RC(x)	REPAT__REJECT_CODE__REJECT_##x
#define Y	1
#define N	(-1)
#define BIT(s)	(1u << REPAT__CONSENT_SCOPE__CONSENT_SCOPE_##s)
#define NS(x)	REPAT__NATIONALITY_STATUS__NATIONALITY_STATUS_##x
#define AO(x)	REPAT__ASSESSMENT_OUTCOME__ASSESSMENT_OUTCOME_##x
#define PS(x)	REPAT__PLAN_STATUS__PLAN_STATUS_##x
#define CR(x)	REPAT__CLOSURE_REASON__CLOSURE_REASON_##x
#define WISH_YES REPAT__RETURN_WISH__RETURN_WISH_YES
#define WISH_NO	REPAT__RETURN_WISH__RETURN_WISH_NO
#define MIN_MS	(60ULL * 1000)
#define DAY_MS	(86400ULL * 1000)
#define Y2015	1420070400000ULL	/* 2015-01-01 */

/* Header facts of one step; bools: 0 absent, Y true, N false. */
struct fc {
	int child, objected, guardian, bid, risk, clear, swn, located;
	int gconsent;		/* consent_update: guardian_consent */
	int wish, ns, ao, plan, closure;
	unsigned grant, withdraw;
};

struct step {
	int type;
	const char *from;
	const char *to;
	struct fc f;
	int reply;		/* 1-based step replied to; 0 none */
	bool copy;
	const char *agreement;	/* header agreement_id, NULL for any */
	uint64_t at;		/* 0: the test clock */
};

/* The founding case: a Myanmar man in a Thai shelter, lawfully home. */
static const struct step founding[] = {
	/* 1 */ { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.DSW",
	    { .child = N }, 0, false, NULL, 0 },
	/* 2 */ { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW",
	    { .grant = BIT(SHARE_CASE) | BIT(FAMILY_TRACING) |
	    BIT(FOLLOWUP_FEEDBACK) }, 0, false, NULL, 0 },
	/* 3 */ { T(CASE_REFERRAL), "TH.WPC.PATHUMTHANI", "MM.DSW",
	    { .risk = Y, .wish = WISH_YES, .child = N }, 0, false, NULL, 0 },
	/* 4 */ { T(NATIONALITY_VERIFICATION_REQUEST), "TH.DATIP", "MM.DSW",
	    { 0 }, 0, false, NULL, 0 },
	/* 5 */ { T(NATIONALITY_VERIFICATION_REQUEST), "MM.DSW", "MM.DNR",
	    { 0 }, 0, false, NULL, 0 },
	/* 6 */ { T(NATIONALITY_VERIFICATION_RESULT), "MM.DNR", "MM.DSW",
	    { .ns = NS(CONFIRMED) }, 5, false, NULL, 0 },
	/* 7 */ { T(NATIONALITY_VERIFICATION_RESULT), "MM.DSW", "TH.DATIP",
	    { .ns = NS(CONFIRMED) }, 4, false, NULL, 0 },
	/* 8 */ { T(FAMILY_TRACING_REQUEST), "TH.DATIP", "MM.DSW",
	    { 0 }, 0, false, NULL, 0 },
	/* 9 */ { T(FAMILY_TRACING_REQUEST), "MM.DSW", "MM.DSW.KAYIN",
	    { 0 }, 0, false, NULL, 0 },
	/* 10 */ { T(FAMILY_ASSESSMENT_RESULT), "MM.DSW.KAYIN", "MM.DSW",
	    { .ao = AO(SAFE), .located = Y }, 9, false, NULL, 0 },
	/* 11 */ { T(FAMILY_ASSESSMENT_RESULT), "MM.DSW", "TH.DATIP",
	    { .ao = AO(SAFE), .located = Y }, 8, false, NULL, 0 },
	/* 12 */ { T(LEGAL_PROCEEDINGS_UPDATE), "TH.POLICE.ATHD", "TH.DATIP",
	    { .clear = Y }, 0, false, NULL, 0 },
	/* 13 */ { T(LEGAL_PROCEEDINGS_UPDATE), "TH.DATIP", "MM.DSW",
	    { .clear = Y }, 0, false, NULL, 0 },
	/* 14 */ { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 },
	/* 15 */ { T(REPATRIATION_PLAN), "MM.DSW", "TH.DATIP",
	    { .plan = PS(ACCEPTED) }, 14, false, NULL, 0 },
	/* 16 */ { T(TRAVEL_DOCUMENT_NOTICE), "MM.EMB.BANGKOK", "TH.DATIP",
	    { 0 }, 0, false, NULL, 0 },
	/* 17 */ { T(HANDOVER_SCHEDULE), "TH.DATIP", "MM.DSW",
	    { 0 }, 0, false, NULL, 0 },
	/* 18 */ { T(HANDOVER_RECORD), "TH.DATIP", "MM.DSW",
	    { 0 }, 0, false, NULL, 0 },
	/* 19 */ { T(HANDOVER_RECORD), "MM.DSW", "TH.DATIP",
	    { 0 }, 18, false, NULL, 0 },
	/* 20 */ { T(RECEPTION_REPORT), "MM.SHELTER.MYAWADDY", "TH.DATIP",
	    { 0 }, 0, false, NULL, 0 },
	/* 21 */ { T(REINTEGRATION_FOLLOWUP), "MM.DSW", "TH.DATIP",
	    { 0 }, 0, false, NULL, 0 },
	/* 22 */ { T(CASE_CLOSURE), "MM.DSW", "TH.DATIP",
	    { .closure = CR(REINTEGRATED) }, 0, false, NULL, 0 },
};
#define NFOUNDING ((int)(sizeof(founding) / sizeof(founding[0])))

/* Variants of the founding case, made in setup by editing a copy. */
enum { V_FOUNDING, V_UNSAFE, V_NOWISH, V_NORISK, V_CHILD_NOGUARD,
    V_CHILD_COND, V_CHILD, V_WITHDRAWN, V_THIRD, V_NOFOLLOW, V_COUNT };
static struct step variants[V_COUNT][NFOUNDING];

struct row {
	const char *name;
	int variant;
	int prefix;		/* steps of the variant replayed first */
	struct step msg;
	int expect;		/* 0 allowed, else a RejectCode */
};

static const struct row rows[] = {
	{ "identification notice opens a case", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.DSW", { 0 }, 0,
	    false, NULL, 0 }, 0 },
	{ "no agreement KH-MM", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "KH.MOSVY", "MM.DSW", { 0 }, 0,
	    false, NULL, 0 }, RC(NO_AGREEMENT) },
	{ "no agreement LA-VN (COMMIT grants nothing)", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "LA.MLSW", "VN.MPS", { 0 }, 0,
	    false, NULL, 0 }, RC(NO_AGREEMENT) },
	{ "agreement not yet in force (TH-KH)", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "KH.MOSVY", { 0 }, 0,
	    false, NULL, 0 }, RC(NO_AGREEMENT) },
	{ "agreement expired (TH-LA)", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "LA.MLSW", { 0 }, 0,
	    false, NULL, 0 }, RC(NO_AGREEMENT) },
	{ "superseded MoU named", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.DSW", { 0 }, 0,
	    false, "TH-MM-2009", 0 }, RC(NO_AGREEMENT) },
	{ "old MoU governs before the revision", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.DSW", { 0 }, 0,
	    false, "TH-MM-2009", Y2015 }, 0 },
	{ "signed by one party only (TH-VN)", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "VN.MPS", { 0 }, 0,
	    false, NULL, 0 }, RC(NO_AGREEMENT) },
	{ "file changed after signing (TH-CN)", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "CN.MPS", { 0 }, 0,
	    false, NULL, 0 }, RC(NO_AGREEMENT) },
	{ "wrong role: a shelter identifies", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.WPC.PATHUMTHANI", "MM.DSW",
	    { 0 }, 0, false, NULL, 0 }, RC(ROLE_NOT_ALLOWED) },
	{ "unknown focal point", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.OTHER", { 0 }, 0,
	    false, NULL, 0 }, RC(UNKNOWN_RECIPIENT) },
	{ "wrong order: referral before identification", V_FOUNDING, 0,
	    { T(CASE_REFERRAL), "TH.DATIP", "MM.DSW", { 0 }, 0, false, NULL,
	    0 }, RC(CASE_NOT_OPEN) },
	{ "case already open", V_FOUNDING, 1,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.DSW", { 0 }, 0,
	    false, NULL, 0 }, RC(CASE_EXISTS) },
	{ "victim objected to notification", V_FOUNDING, 0,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.DSW",
	    { .objected = Y }, 0, false, NULL, 0 }, RC(VICTIM_OBJECTED) },
	{ "third country touching the case", V_FOUNDING, 2,
	    { T(CONSENT_UPDATE), "KH.MOSVY", "TH.DATIP", { 0 }, 0, false,
	    NULL, 0 }, RC(CASE_OTHER_COUNTRIES) },
	{ "referral without consent", V_FOUNDING, 1,
	    { T(CASE_REFERRAL), "TH.DATIP", "MM.DSW", { 0 }, 0, false, NULL,
	    0 }, RC(CONSENT_REQUIRED) },
	{ "family tracing without consent", V_FOUNDING, 1,
	    { T(FAMILY_TRACING_REQUEST), "TH.DATIP", "MM.DSW", { 0 }, 0,
	    false, NULL, 0 }, RC(CONSENT_REQUIRED) },
	{ "consent withdrawn: later sharing refused", V_WITHDRAWN, 4,
	    { T(NATIONALITY_VERIFICATION_REQUEST), "TH.DATIP", "MM.DSW",
	    { 0 }, 0, false, NULL, 0 }, RC(CONSENT_WITHDRAWN) },
	{ "consent withdrawn: consent update still allowed", V_WITHDRAWN, 4,
	    { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW", { 0 }, 0, false, NULL,
	    0 }, 0 },
	{ "consent withdrawn: closure still allowed", V_WITHDRAWN, 4,
	    { T(CASE_CLOSURE), "TH.DATIP", "MM.DSW",
	    { .closure = CR(DECLINED_RETURN) }, 0, false, NULL, 0 }, 0 },
	{ "plan before nationality", V_FOUNDING, 3,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, RC(RETURN_GATE) },
	{ "plan with unsafe family", V_UNSAFE, 13,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, RC(RETURN_GATE) },
	{ "plan without legal clearance", V_FOUNDING, 11,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, RC(RETURN_GATE) },
	{ "plan when the person does not wish to return", V_NOWISH, 13,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, RC(RETURN_GATE) },
	{ "plan without a risk assessment", V_NORISK, 13,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, RC(RETURN_GATE) },
	{ "child without guardian", V_CHILD_NOGUARD, 13,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 },
	    RC(CHILD_SAFEGUARD) },
	{ "child with a conditional family assessment", V_CHILD_COND, 13,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 },
	    RC(CHILD_SAFEGUARD) },
	{ "child's consent without the guardian's, form says adult",
	    V_CHILD, 1, { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW",
	    { .grant = BIT(SHARE_CASE), .child = N }, 0, false, NULL, 0 },
	    RC(CHILD_SAFEGUARD) },
	{ "child's consent with the guardian's", V_CHILD, 1,
	    { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW",
	    { .grant = BIT(SHARE_CASE), .gconsent = Y }, 0, false, NULL, 0 },
	    0 },
	{ "child's consent withdrawn without the guardian", V_CHILD, 2,
	    { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW",
	    { .withdraw = BIT(FAMILY_TRACING) }, 0, false, NULL, 0 }, 0 },
	{ "adult's consent needs no guardian", V_FOUNDING, 1,
	    { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW",
	    { .grant = BIT(SHARE_CASE) }, 0, false, NULL, 0 }, 0 },
	{ "child with every safeguard: plan allowed", V_CHILD, 13,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, 0 },
	{ "child handover without a receiving social worker", V_CHILD, 17,
	    { T(HANDOVER_RECORD), "TH.DATIP", "MM.DSW", { 0 }, 0, false, NULL,
	    0 }, RC(CHILD_SAFEGUARD) },
	{ "child handover to a named social worker", V_CHILD, 17,
	    { T(HANDOVER_RECORD), "TH.DATIP", "MM.DSW", { .swn = Y }, 0,
	    false, NULL, 0 }, 0 },
	{ "handover without travel document", V_FOUNDING, 15,
	    { T(HANDOVER_RECORD), "TH.DATIP", "MM.DSW", { 0 }, 0, false, NULL,
	    0 }, RC(SOP_ORDER) },
	{ "travel document before nationality", V_FOUNDING, 3,
	    { T(TRAVEL_DOCUMENT_NOTICE), "MM.EMB.BANGKOK", "TH.DATIP", { 0 },
	    0, false, NULL, 0 }, RC(SOP_ORDER) },
	{ "a second plan once one is accepted", V_FOUNDING, 15,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, RC(SOP_ORDER) },
	{ "the proposer accepts its own plan", V_FOUNDING, 14,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(ACCEPTED) }, 14, false, NULL, 0 },
	    RC(ROLE_NOT_ALLOWED) },
	{ "plan accepted without in_reply_to", V_FOUNDING, 14,
	    { T(REPATRIATION_PLAN), "MM.DSW", "TH.DATIP",
	    { .plan = PS(ACCEPTED) }, 0, false, NULL, 0 }, RC(SOP_ORDER) },
	{ "plan without a status", V_FOUNDING, 13,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW", { 0 }, 0, false,
	    NULL, 0 }, RC(MISSING_FACT) },
	{ "counter-proposal: origin rejects", V_FOUNDING, 14,
	    { T(REPATRIATION_PLAN), "MM.DSW", "TH.DATIP",
	    { .plan = PS(REJECTED) }, 14, false, NULL, 0 }, 0 },
	{ "reception before the handover is confirmed", V_FOUNDING, 18,
	    { T(RECEPTION_REPORT), "MM.SHELTER.MYAWADDY", "TH.DATIP", { 0 },
	    0, false, NULL, 0 }, RC(SOP_ORDER) },
	{ "handover confirmed by the same side", V_FOUNDING, 18,
	    { T(HANDOVER_RECORD), "TH.DATIP", "MM.DSW", { 0 }, 18, false,
	    NULL, 0 }, RC(ROLE_NOT_ALLOWED) },
	{ "follow-up before reception", V_FOUNDING, 19,
	    { T(REINTEGRATION_FOLLOWUP), "MM.DSW", "TH.DATIP", { 0 }, 0,
	    false, NULL, 0 }, RC(SOP_ORDER) },
	{ "follow-up without follow-up consent", V_NOFOLLOW, 20,
	    { T(REINTEGRATION_FOLLOWUP), "MM.DSW", "TH.DATIP", { 0 }, 0,
	    false, NULL, 0 }, RC(CONSENT_REQUIRED) },
	{ "nationality result sent by the destination", V_FOUNDING, 4,
	    { T(NATIONALITY_VERIFICATION_RESULT), "TH.DATIP", "MM.DSW",
	    { .ns = NS(CONFIRMED) }, 0, false, NULL, 0 },
	    RC(ROLE_NOT_ALLOWED) },
	{ "nationality result without status", V_FOUNDING, 4,
	    { T(NATIONALITY_VERIFICATION_RESULT), "MM.DSW", "TH.DATIP",
	    { 0 }, 4, false, NULL, 0 }, RC(MISSING_FACT) },
	{ "stateless: closes to a third country", V_THIRD, 7,
	    { T(CASE_CLOSURE), "TH.DATIP", "MM.DSW",
	    { .closure = CR(THIRD_COUNTRY) }, 0, false, NULL, 0 }, 0 },
	{ "stateless: no repatriation plan", V_THIRD, 7,
	    { T(REPATRIATION_PLAN), "TH.DATIP", "MM.DSW",
	    { .plan = PS(PROPOSED) }, 0, false, NULL, 0 }, RC(SOP_ORDER) },
	{ "third-country closure of a national", V_FOUNDING, 7,
	    { T(CASE_CLOSURE), "TH.DATIP", "MM.DSW",
	    { .closure = CR(THIRD_COUNTRY) }, 0, false, NULL, 0 },
	    RC(SOP_ORDER) },
	{ "closure without a reason", V_FOUNDING, 3,
	    { T(CASE_CLOSURE), "TH.DATIP", "MM.DSW", { 0 }, 0, false, NULL,
	    0 }, RC(MISSING_FACT) },
	{ "reintegrated before reception", V_FOUNDING, 3,
	    { T(CASE_CLOSURE), "TH.DATIP", "MM.DSW",
	    { .closure = CR(REINTEGRATED) }, 0, false, NULL, 0 },
	    RC(SOP_ORDER) },
	{ "message on a closed case", V_FOUNDING, NFOUNDING,
	    { T(CONSENT_UPDATE), "MM.DSW", "TH.DATIP", { 0 }, 0, false, NULL,
	    0 }, RC(CASE_NOT_OPEN) },
	{ "copy of the notice to the embassy", V_FOUNDING, 1,
	    { T(IDENTIFICATION_NOTICE), "TH.DATIP", "MM.EMB.BANGKOK", { 0 },
	    0, true, NULL, 0 }, 0 },
	{ "consent granted and withdrawn at once", V_FOUNDING, 1,
	    { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW",
	    { .grant = BIT(SHARE_CASE), .withdraw = BIT(SHARE_CASE) }, 0,
	    false, NULL, 0 }, RC(MALFORMED) },
	{ "origin sends a case referral", V_FOUNDING, 2,
	    { T(CASE_REFERRAL), "MM.SHELTER.MYAWADDY", "TH.DATIP", { 0 }, 0,
	    false, NULL, 0 }, RC(ROLE_NOT_ALLOWED) },
};

/* ---------------------------------------------------------------- fixture */

struct world {
	struct fx_region region;
	repat_agreements_t *set;
	uint64_t now;
	int refused;
};

static void
count_refused(const char *path, int code, const char *reason, void *arg)
{
	(void)path;
	(void)code;
	(void)reason;
	((struct world *)arg)->refused++;
}

static const char commit_text[] =
    "{\"id\": \"COMMIT\", \"title\": \"COMMIT\", \"legal_reference\": "
    "\"Yangon 2004\", \"kind\": \"framework\", \"parties\": [\"KH\", "
    "\"CN\", \"LA\", \"MM\", \"TH\", \"VN\"], \"in_force_from\": "
    "\"2004-10-29\", \"focal_points\": {\"KH\": {\"focal_point\": "
    "[\"KH.MOSVY\"]}, \"CN\": {\"focal_point\": [\"CN.MPS\"]}, \"LA\": "
    "{\"focal_point\": [\"LA.MLSW\"]}, \"MM\": {\"focal_point\": "
    "[\"MM.DSW\"]}, \"TH\": {\"focal_point\": [\"TH.DATIP\"]}, \"VN\": "
    "{\"focal_point\": [\"VN.MPS\"]}}}\n";

static void
make_variants(void)
{
	int v;

	for (v = 0; v < V_COUNT; v++)
		memcpy(variants[v], founding, sizeof(founding));
	variants[V_UNSAFE][9].f.ao = AO(UNSAFE);
	variants[V_UNSAFE][10].f.ao = AO(UNSAFE);
	variants[V_NOWISH][2].f.wish = WISH_NO;
	variants[V_NORISK][2].f.risk = 0;
	/* Children: flagged at identification; referral names a guardian. */
	variants[V_CHILD_NOGUARD][0].f.child = Y;
	variants[V_CHILD_NOGUARD][1].f.gconsent = Y;
	variants[V_CHILD_NOGUARD][2].f.child = Y;
	variants[V_CHILD_NOGUARD][10].f.bid = Y;
	variants[V_CHILD_COND][0].f.child = Y;
	variants[V_CHILD_COND][1].f.gconsent = Y;
	variants[V_CHILD_COND][2].f.guardian = Y;
	variants[V_CHILD_COND][2].f.child = Y;
	variants[V_CHILD_COND][10].f.bid = Y;
	variants[V_CHILD_COND][10].f.ao = AO(CONDITIONAL);
	variants[V_CHILD][0].f.child = Y;
	variants[V_CHILD][1].f.gconsent = Y;
	variants[V_CHILD][2].f.guardian = Y;
	variants[V_CHILD][2].f.child = Y;
	variants[V_CHILD][10].f.bid = Y;
	/* Step 4 withdraws share_case instead of asking for nationality. */
	variants[V_WITHDRAWN][3] = (struct step){ T(CONSENT_UPDATE),
	    "TH.WPC.PATHUMTHANI", "MM.DSW", { .withdraw = BIT(SHARE_CASE) },
	    0, false, NULL, 0 };
	variants[V_THIRD][5].f.ns = NS(POSSIBLY_STATELESS);
	variants[V_THIRD][6].f.ns = NS(POSSIBLY_STATELESS);
	variants[V_NOFOLLOW][1].f.grant = BIT(SHARE_CASE) |
	    BIT(FAMILY_TRACING);
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct fx_region *r = &w->region;
	char err[REPAT_ERRBUF_LEN], *t;
	const char *p;
	uint8_t *buf;
	size_t len;

	fx_region_init(r);
	w->now = fx_now_ms();
	t = fx_bilateral("TH-MM-2009", "TH", "MM", "2009-04-24", NULL, NULL);
	fx_agreement(r, "th-mm-2009.json", t, "TH.DATIP", "MM.DSW", w->now);
	free(t);
	t = fx_bilateral("TH-MM-2019", "TH", "MM", "2019-02-05", NULL,
	    "TH-MM-2009");
	fx_agreement(r, "th-mm-2019.json", t, "TH.DATIP", "MM.DSW", w->now);
	free(t);
	t = fx_bilateral("TH-KH-2099", "TH", "KH", "2099-01-01", NULL, NULL);
	fx_agreement(r, "th-kh.json", t, "TH.DATIP", "KH.MOSVY", w->now);
	free(t);
	t = fx_bilateral("TH-LA-2005", "TH", "LA", "2005-07-13", "2020-12-31",
	    NULL);
	fx_agreement(r, "th-la.json", t, "TH.DATIP", "LA.MLSW", w->now);
	free(t);
	t = fx_bilateral("TH-VN-2008", "TH", "VN", "2008-03-24", NULL, NULL);
	fx_agreement(r, "th-vn.json", t, "TH.DATIP", NULL, w->now);
	free(t);
	t = fx_bilateral("TH-CN-2018", "TH", "CN", "2018-11-02", NULL, NULL);
	p = fx_agreement(r, "th-cn.json", t, "TH.DATIP", "CN.MPS", w->now);
	free(t);
	if (repat_file_read(p, 1 << 20, &buf, &len, err) != 0)
		fx_die("read", err);
	*(char *)strstr((char *)buf, "Test TH-CN") = 'B';	/* "Best" */
	if (repat_file_write(p, buf, len, 0644, err) != 0)
		fx_die("write", err);
	free(buf);
	p = fx_write(r, "commit.json", commit_text);
	{
		static const char *const s[] = { "KH.MOSVY", "CN.MPS",
		    "LA.MLSW", "MM.DSW", "TH.DATIP", "VN.MPS" };
		char keep[400];
		size_t i;

		snprintf(keep, sizeof(keep), "%s", p);
		for (i = 0; i < 6; i++)
			fx_sign(r, keep, s[i], w->now);
	}
	w->set = repat_agreements_load(r->agr_dir, r->trust, w->now,
	    count_refused, w, err);
	if (w->set == NULL)
		fx_die("load", err);
	make_variants();
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	repat_agreements_destroy(&w->set);
	fx_region_free(&w->region);
	free(w);
	return 0;
}

/* ---------------------------------------------------------------- running */

struct msgbuf {
	Repat__CaseFacts facts;
	Repat__ConsentScope granted[5];
	Repat__ConsentScope withdrawn[5];
	uint8_t id[16];
	uint8_t reply[16];
	struct repat_identity sender;
	struct repat_identity recipient;
	struct repat_sop_msg m;
};

static void
set_bool(protobuf_c_boolean *has, protobuf_c_boolean *v, int x)
{
	if (x != 0) {
		*has = 1;
		*v = x > 0;
	}
}

static void
scopes(unsigned mask, Repat__ConsentScope *out, size_t *n)
{
	int s;

	*n = 0;
	for (s = 1; s <= 5; s++)
		if (mask & (1u << s))
			out[(*n)++] = (Repat__ConsentScope)s;
}

/* Builds the SOP view of step st, whose message id is id_byte. */
static void
build(struct world *w, const struct step *st, int id_byte,
    struct msgbuf *b)
{
	Repat__CaseFacts init = REPAT__CASE_FACTS__INIT;
	Repat__CaseFacts *f = &b->facts;

	memset(b, 0, sizeof(*b));
	*f = init;
	set_bool(&f->has_is_child, &f->is_child, st->f.child);
	set_bool(&f->has_victim_objected, &f->victim_objected, st->f.objected);
	set_bool(&f->has_guardian_recorded, &f->guardian_recorded,
	    st->f.guardian);
	set_bool(&f->has_best_interests_recorded, &f->best_interests_recorded,
	    st->f.bid);
	set_bool(&f->has_risk_assessment_recorded,
	    &f->risk_assessment_recorded, st->f.risk);
	set_bool(&f->has_legal_clearance, &f->legal_clearance, st->f.clear);
	set_bool(&f->has_receiving_social_worker_named,
	    &f->receiving_social_worker_named, st->f.swn);
	set_bool(&f->has_family_located, &f->family_located, st->f.located);
	set_bool(&f->has_guardian_consent, &f->guardian_consent,
	    st->f.gconsent);
	if (st->f.wish) {
		f->has_return_wish = 1;
		f->return_wish = (Repat__ReturnWish)st->f.wish;
	}
	if (st->f.ns) {
		f->has_nationality_status = 1;
		f->nationality_status = (Repat__NationalityStatus)st->f.ns;
	}
	if (st->f.ao) {
		f->has_assessment_outcome = 1;
		f->assessment_outcome = (Repat__AssessmentOutcome)st->f.ao;
	}
	if (st->f.plan) {
		f->has_plan_status = 1;
		f->plan_status = (Repat__PlanStatus)st->f.plan;
	}
	if (st->f.closure) {
		f->has_closure_reason = 1;
		f->closure_reason = (Repat__ClosureReason)st->f.closure;
	}
	scopes(st->f.grant, b->granted, &f->n_consent_granted);
	f->consent_granted = b->granted;
	scopes(st->f.withdraw, b->withdrawn, &f->n_consent_withdrawn);
	f->consent_withdrawn = b->withdrawn;
	b->id[15] = (uint8_t)id_byte;
	b->reply[15] = (uint8_t)st->reply;
	b->sender = fx_ks(&w->region, st->from)->id;
	b->recipient = fx_ks(&w->region, st->to)->id;
	b->m.case_ref = "TH-2026-000001";
	b->m.type = st->type;
	b->m.facts = f;
	b->m.message_id = b->id;
	b->m.in_reply_to = st->reply != 0 ? b->reply : NULL;
	b->m.is_copy = st->copy;
	b->m.sender = &b->sender;
	b->m.recipient = &b->recipient;
	b->m.now_ms = st->at != 0 ? st->at : w->now;
}

/* Decides step st on c and applies it when allowed. Returns the code. */
static int
submit(struct world *w, struct repat_case *c, const struct step *st,
    int id_byte, struct repat_sop_effects *fx, char *reason)
{
	const struct repat_agreement *a = NULL;
	struct msgbuf b;
	int code = -1, rc;

	build(w, st, id_byte, &b);
	rc = repat_sop_authorize(w->set, c, &b.m, st->agreement, &a, &code,
	    reason);
	if (rc != 0) {
		assert_int_equal(rc, REPAT_EREFUSED);
		assert_true(code > 0);
		return code;
	}
	assert_non_null(a);
	repat_sop_apply(c, a, &b.m, fx);
	assert_true(repat_case_invariants_hold(c, reason));
	return 0;
}

static void
replay(struct world *w, struct repat_case *c, const struct step *steps,
    int n)
{
	char reason[REPAT_ERRBUF_LEN];
	int i, code;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++) {
		code = submit(w, c, &steps[i], i + 1, NULL, reason);
		if (code != 0)
			fail_msg("step %d (%s) refused %d: %s", i + 1,
			    repat_message_type_name(steps[i].type), code,
			    reason);
	}
}

static void
routing_table(void **state)
{
	struct world *w = *state;
	struct repat_case c;
	char reason[REPAT_ERRBUF_LEN];
	size_t i, failed = 0;
	int code;

	assert_true(sizeof(rows) / sizeof(rows[0]) >= 30);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		replay(w, &c, variants[rows[i].variant], rows[i].prefix);
		reason[0] = '\0';
		code = submit(w, &c, &rows[i].msg, 200, NULL, reason);
		if (code != rows[i].expect) {
			print_error("row %zu \"%s\": got %d, want %d (%s)\n",
			    i, rows[i].name, code, rows[i].expect, reason);
			failed++;
		} else if (code != 0 && reason[0] == '\0') {
			print_error("row %zu \"%s\": refusal without a "
			    "reason\n", i, rows[i].name);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
agreements_loaded(void **state)
{
	struct world *w = *state;

	/* TH-VN (one signature) and TH-CN (changed) were refused. */
	assert_int_equal(w->refused, 2);
	assert_int_equal(repat_agreements_count(w->set), 5);
	assert_null(repat_agreements_find(w->set, "TH-VN-2008"));
	assert_null(repat_agreements_find(w->set, "TH-CN-2018"));
	assert_non_null(repat_agreements_find(w->set, "COMMIT"));
}

static void
founding_case(void **state)
{
	static const int after[NFOUNDING] = {
		REPAT_CASE_OPEN, REPAT_CASE_OPEN, REPAT_CASE_OPEN,
		REPAT_CASE_OPEN, REPAT_CASE_OPEN, REPAT_CASE_OPEN,
		REPAT_CASE_OPEN, REPAT_CASE_OPEN, REPAT_CASE_OPEN,
		REPAT_CASE_OPEN, REPAT_CASE_OPEN, REPAT_CASE_OPEN,
		REPAT_CASE_OPEN, REPAT_CASE_PLAN_PROPOSED, REPAT_CASE_PLANNED,
		REPAT_CASE_PLANNED, REPAT_CASE_PLANNED,
		REPAT_CASE_HANDOVER_RECORDED, REPAT_CASE_HANDED_OVER,
		REPAT_CASE_RECEIVED, REPAT_CASE_FOLLOW_UP, REPAT_CASE_CLOSED,
	};
	struct world *w = *state;
	struct repat_case c;
	struct repat_sop_effects fx;
	char reason[REPAT_ERRBUF_LEN];
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < NFOUNDING; i++) {
		if (submit(w, &c, &founding[i], i + 1, &fx, reason) != 0)
			fail_msg("step %d: %s", i + 1, reason);
		if (c.state != after[i])
			fail_msg("step %d: state %s, want %s", i + 1,
			    repat_case_state_name(c.state),
			    repat_case_state_name(after[i]));
	}
	assert_string_equal(c.case_ref, "TH-2026-000001");
	assert_string_equal(c.countries[0], "TH");
	assert_string_equal(c.countries[1], "MM");
	assert_string_equal(c.agreement_id, "TH-MM-2019");
	assert_int_equal(c.facts.closure_reason, CR(REINTEGRATED));
	assert_int_equal(c.ndeadlines, 0);
	/* MM.DSW, MM.DNR, MM.DSW.KAYIN and TH.DATIP received data. */
	assert_int_equal(c.nrecipients, 4);
	assert_false(c.recipients_overflow);
	assert_string_equal(repat_case_state_name(c.state), "closed");
	assert_false(fx.notify_withdrawal);
}

static void
withdrawal_effects(void **state)
{
	struct world *w = *state;
	struct repat_case c;
	struct repat_sop_effects fx;
	char reason[REPAT_ERRBUF_LEN];
	uint32_t i;
	bool dsw = false;

	replay(w, &c, variants[V_WITHDRAWN], 3);
	assert_true(repat_case_consent(&c, 2));
	assert_int_equal(submit(w, &c, &variants[V_WITHDRAWN][3], 4, &fx,
	    reason), 0);
	assert_true(fx.notify_withdrawal);
	assert_int_equal(fx.withdrawn_scopes, BIT(SHARE_CASE));
	assert_false(repat_case_consent(&c, 2));
	assert_true(repat_case_consent(&c, 3));	/* family_tracing stays */
	for (i = 0; i < c.nrecipients; i++)
		if (strcmp(c.recipients[i], "MM.DSW") == 0)
			dsw = true;
	assert_true(dsw);
	/* Withdrawing again notifies nobody new. */
	assert_int_equal(submit(w, &c, &variants[V_WITHDRAWN][3], 5, &fx,
	    reason), 0);
	assert_false(fx.notify_withdrawal);
	/* Granting again re-opens sharing. */
	{
		struct step g = { T(CONSENT_UPDATE), "TH.DATIP", "MM.DSW",
		    { .grant = BIT(SHARE_CASE) }, 0, false, NULL, 0 };
		struct step q = founding[3];

		assert_int_equal(submit(w, &c, &g, 6, &fx, reason), 0);
		assert_int_equal(submit(w, &c, &q, 7, &fx, reason), 0);
	}
}

static void
deadlines(void **state)
{
	struct world *w = *state;
	struct repat_case c;
	struct repat_case_deadline od[4];
	struct repat_sop_effects fx;
	char reason[REPAT_ERRBUF_LEN];

	replay(w, &c, founding, 3);
	assert_int_equal(repat_case_next_due(&c), 0);
	/* 4: nationality request to MM.DSW, 30 days (a placeholder). */
	assert_int_equal(submit(w, &c, &founding[3], 4, &fx, reason), 0);
	assert_true(fx.deadline_opened);
	assert_int_equal(fx.opened.awaited_type,
	    T(NATIONALITY_VERIFICATION_RESULT));
	assert_string_equal(fx.opened.waiting_on, "MM.DSW");
	assert_true(fx.opened.placeholder);
	assert_int_equal(fx.opened.due_ms, w->now + 30 * DAY_MS);
	assert_int_equal(repat_case_next_due(&c), w->now + 30 * DAY_MS);
	assert_int_equal(repat_case_overdue(&c, w->now + 29 * DAY_MS, od, 4),
	    0);
	assert_int_equal(repat_case_overdue(&c, w->now + 30 * DAY_MS, od, 4),
	    1);
	assert_int_equal(od[0].request_id[15], 4);
	/* 5..7: forwarded, answered, answered: both requests closed. */
	assert_int_equal(submit(w, &c, &founding[4], 5, &fx, reason), 0);
	assert_int_equal(c.ndeadlines, 2);
	assert_int_equal(submit(w, &c, &founding[5], 6, &fx, reason), 0);
	assert_true(fx.deadline_closed);
	assert_string_equal(fx.closed.waiting_on, "MM.DNR");
	assert_int_equal(submit(w, &c, &founding[6], 7, &fx, reason), 0);
	assert_true(fx.deadline_closed);
	assert_int_equal(c.ndeadlines, 0);
	/* 8: family tracing, 5 minutes in the test agreement. */
	assert_int_equal(submit(w, &c, &founding[7], 8, &fx, reason), 0);
	assert_int_equal(fx.opened.due_ms, w->now + 5 * MIN_MS);
	assert_false(fx.opened.placeholder);
	assert_int_equal(repat_case_overdue(&c, w->now + 6 * MIN_MS, od, 4),
	    1);
	assert_int_equal(od[0].awaited_type, T(FAMILY_ASSESSMENT_RESULT));
	/* A reply without in_reply_to closes the oldest from that country. */
	{
		struct step s = founding[10];

		s.reply = 0;
		assert_int_equal(submit(w, &c, &s, 9, &fx, reason), 0);
		assert_true(fx.deadline_closed);
		assert_int_equal(c.ndeadlines, 0);
	}
	/* A pending plan, then the person turns out possibly stateless. */
	replay(w, &c, founding, 14);
	assert_int_equal(c.state, REPAT_CASE_PLAN_PROPOSED);
	assert_int_equal(c.ndeadlines, 1);
	{
		struct step s = founding[6];

		s.reply = 0;
		s.f.ns = NS(POSSIBLY_STATELESS);
		assert_int_equal(submit(w, &c, &s, 15, &fx, reason), 0);
		assert_int_equal(c.state, REPAT_CASE_THIRD_COUNTRY);
		assert_int_equal(c.ndeadlines, 0);
		assert_int_equal(c.plan_side, 0);
	}
}

static void
invariants_catch_breakage(void **state)
{
	struct world *w = *state;
	struct repat_case c;
	char why[REPAT_ERRBUF_LEN];

	replay(w, &c, founding, 15);
	assert_int_equal(c.state, REPAT_CASE_PLANNED);
	assert_true(repat_case_invariants_hold(&c, why));
	c.facts.nationality_status = NS(NOT_CONFIRMED);
	assert_false(repat_case_invariants_hold(&c, why));
	assert_non_null(strstr(why, "6"));
	replay(w, &c, founding, 2);
	c.consent_withdrawn = c.consent_granted;
	assert_false(repat_case_invariants_hold(&c, why));
	replay(w, &c, founding, 2);
	memcpy(c.countries[1], "TH", 3);
	assert_false(repat_case_invariants_hold(&c, why));
	replay(w, &c, founding, 2);
	c.state = REPAT_CASE_CLOSED;
	assert_false(repat_case_invariants_hold(&c, why));
	assert_non_null(strstr(why, "reason"));
}

/*
 * The shipped examples (examples/agreements), signed by each party's
 * focal point in the fixture region: the founding case runs under the
 * revised TH-MM MoU, and LA-VN has no agreement.
 */
static void
founding_case_under_examples(void **state)
{
	static const char *const files[] = { "th-mm-2009.json",
	    "th-mm-2019.json", "th-kh-2003.json", "th-la-2005.json",
	    "th-vn-2008.json", "th-cn-2018.json", "kh-vn-2005.json",
	    "kh-cn-2017.json", "mm-cn-2009.json", "commit-2004.json" };
	static const char *const fp[][2] = { { "TH", "TH.DATIP" },
	    { "MM", "MM.DSW" }, { "KH", "KH.MOSVY" }, { "LA", "LA.MLSW" },
	    { "VN", "VN.MPS" }, { "CN", "CN.MPS" } };
	struct world *w = *state;
	struct fx_region *r = &w->region;
	repat_agreements_t *saved = w->set;
	struct repat_agreement *a;
	struct repat_case c;
	char err[REPAT_ERRBUF_LEN], from[128], to[400];
	struct step la_vn = { T(IDENTIFICATION_NOTICE), "LA.MLSW", "VN.MPS",
	    { 0 }, 0, false, NULL, 0 };
	size_t i, j, k;
	int refused_before = w->refused;

	snprintf(to, sizeof(to), "%s/examples", r->dir);
	mkdir(to, 0700);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(from, sizeof(from), "examples/agreements/%s",
		    files[i]);
		snprintf(to, sizeof(to), "%s/examples/%s", r->dir, files[i]);
		fx_copy(from, to);
		if (repat_agreement_load(to, &a, err) != 0)
			fail_msg("%s", err);
		for (j = 0; j < a->nparties; j++)
			for (k = 0; k < 6; k++)
				if (strcmp(fp[k][0], a->parties[j]) == 0)
					fx_sign(r, to, fp[k][1], w->now);
		repat_agreement_free(&a);
	}
	snprintf(to, sizeof(to), "%s/examples", r->dir);
	w->set = repat_agreements_load(to, r->trust, w->now, count_refused, w,
	    err);
	assert_non_null(w->set);
	assert_int_equal(w->refused, refused_before);
	assert_int_equal(repat_agreements_count(w->set), 10);
	replay(w, &c, founding, NFOUNDING);
	assert_int_equal(c.state, REPAT_CASE_CLOSED);
	assert_string_equal(c.agreement_id, "TH-MM-MOU-2019");
	memset(&c, 0, sizeof(c));
	assert_int_equal(submit(w, &c, &la_vn, 1, NULL, err),
	    RC(NO_AGREEMENT));
	assert_string_equal(repat_agreements_focal_point(w->set, "MM",
	    REPAT__ROLE__ROLE_NATIONALITY, "TH", w->now), "MM.DNR");
	repat_agreements_destroy(&w->set);
	w->set = saved;
}

/* Every state of the founding case survives CaseRecord storage exactly. */
static void
case_record_round_trip(void **state)
{
	struct world *w = *state;
	struct repat_case c, back;
	struct repat_case_facts_pb pb;
	char err[REPAT_ERRBUF_LEN];
	uint8_t *buf;
	size_t len;
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < NFOUNDING; i++) {
		assert_int_equal(submit(w, &c, &founding[i], i + 1, NULL, err),
		    0);
		repat_case_encode(&c, &buf, &len);
		assert_true(len <= REPAT_MAX_CASE_RECORD);
		if (repat_case_decode(buf, len, &back, err) != 0)
			fail_msg("step %d: %s", i + 1, err);
		free(buf);
		if (memcmp(&c, &back, sizeof(c)) != 0)
			fail_msg("step %d: the case changed in storage", i + 1);
	}
	repat_case_facts_export(&c, &pb);
	assert_true(pb.facts.has_nationality_status);
	assert_int_equal(pb.facts.nationality_status, NS(CONFIRMED));
	assert_int_equal(pb.facts.n_consent_granted, 3);
	/* A planned case whose stored facts lost the nationality: corrupt. */
	replay(w, &c, founding, 15);
	c.facts.nationality_status = 0;
	repat_case_encode(&c, &buf, &len);
	assert_int_equal(repat_case_decode(buf, len, &back, err),
	    REPAT_ECORRUPT);
	assert_non_null(strstr(err, "invariant"));
	assert_int_equal(back.state, REPAT_CASE_NONE);
	free(buf);
	/* Out-of-range fields and garbage. */
	replay(w, &c, founding, 2);
	c.state = 42;
	repat_case_encode(&c, &buf, &len);
	assert_int_equal(repat_case_decode(buf, len, &back, err),
	    REPAT_ECORRUPT);
	free(buf);
	assert_int_equal(repat_case_decode((const uint8_t *)"\xff\xff", 2,
	    &back, err), REPAT_EDECODE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(agreements_loaded),
		cmocka_unit_test(routing_table),
		cmocka_unit_test(founding_case),
		cmocka_unit_test(withdrawal_effects),
		cmocka_unit_test(deadlines),
		cmocka_unit_test(invariants_catch_breakage),
		cmocka_unit_test(founding_case_under_examples),
		cmocka_unit_test(case_record_round_trip),
	};

	return cmocka_run_group_tests_name("sop", tests, setup, teardown);
}
