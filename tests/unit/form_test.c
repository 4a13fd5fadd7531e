/*
 * form_test.c: case forms: JSON round trips of every example, a table of bad
 * forms each with its error path, multilingual text, the Zawgyi warning,
 * facts per type, and payload decoding that refuses unknown fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../lib/form_int.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/mem.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = repat_xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static char *
example(int type, size_t *len)
{
	char path[128];

	snprintf(path, sizeof(path), "examples/forms/%s.json",
	    repat_message_type_name(type));
	return slurp(path, len);
}

static bool
has_problem(const struct repat_form_report *r, const char *path,
    const char *substr, bool warning)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->items[i].warning == warning &&
		    strcmp(r->items[i].path, path) == 0 &&
		    strstr(r->items[i].message, substr) != NULL)
			return true;
	return false;
}

static void
dump(const struct repat_form_report *r)
{
	repat_form_report_print(r, stdout);
}

/* ------------------------------------------------------- round trips */

static void
examples_round_trip(void **state)
{
	struct repat_form_report rep;
	ProtobufCMessage *f1, *f2;
	char *text, *j1, *j2;
	size_t len;
	int t;

	(void)state;
	for (t = 1; t <= 15; t++) {
		text = example(t, &len);
		if (repat_form_from_json(t, text, len, &f1, &rep) != 0)
			dump(&rep);
		assert_non_null(f1);
		assert_int_equal(rep.errors, 0);
		j1 = repat_form_to_json(f1);
		assert_int_equal(repat_form_from_json(t, j1, strlen(j1), &f2,
		    &rep), REPAT_OK);
		j2 = repat_form_to_json(f2);
		assert_string_equal(j1, j2);
		/* The examples are kept canonical, and the templates equal. */
		assert_string_equal(j1, text);
		assert_string_equal(repat_form_template(t), text);
		assert_non_null(repat_form_type_summary(t));
		repat_form_free(f1);
		repat_form_free(f2);
		free(j1);
		free(j2);
		free(text);
	}
	assert_null(repat_form_template(0));
	assert_null(repat_form_template(16));
	assert_null(repat_form_descriptor(16));
}

static void
examples_encode_decode(void **state)
{
	struct repat_form_report rep;
	ProtobufCMessage *f1, *f2;
	char *text, *j1, *j2;
	uint8_t *buf;
	size_t len, blen;
	int t;

	(void)state;
	for (t = 1; t <= 15; t++) {
		text = example(t, &len);
		assert_int_equal(repat_form_from_json(t, text, len, &f1, &rep),
		    REPAT_OK);
		repat_form_encode(f1, &buf, &blen);
		assert_int_equal(repat_form_decode(t, buf, blen, &f2, &rep),
		    REPAT_OK);
		assert_int_equal(repat_form_validate(f2, &rep), REPAT_OK);
		j1 = repat_form_to_json(f1);
		j2 = repat_form_to_json(f2);
		assert_string_equal(j1, j2);
		repat_form_free(f1);
		repat_form_free(f2);
		free(buf);
		free(j1);
		free(j2);
		free(text);
	}
}

/* ---------------------------------------------------------- bad forms */

/* Adult case referral fields; tests add or replace around them. */
#define REF_NAME "'full_name':'A','sex':'male','age_basis':'self_declared'," \
	"'claimed_nationality':'MM','return_wish':'yes'," \
	"'exploitation_types':['forced_labour']"
#define REF REF_NAME ",'date_of_birth':'1990'"
#define CLOSE "'reason':'reintegrated','closed_on':'2026-01-01'"
#define CONSENT "'decision':'granted','recorded_by':'W','recorded_at':" \
	"'2026-05-14T14:20+07:00','interpreter_language':'my'"
#define ASSESS "'assessment_outcome':'safe','assessor_agency':'DSW'," \
	"'assessed_on':'2026-01-01'"
#define NVR "'verifying_authority':'DNR','verified_on':'2026-01-01'"
#define PLAN "'case_refs':['TH-2026-000117']"
#define REC "'handed_over_at':'2026-10-15T10:05+07:00'," \
	"'crossing_point_code':'TH-MM-1','documents_and_belongings_transferred'" \
	":true,'countersigned_by':'X'"

struct bad {
	const char *type;
	const char *json;	/* ' stands for " */
	const char *path;
	const char *msg;
};

static const struct bad bads[] = {
	{ "case_closure", "{'reason':'happy','closed_on':'2026-01-01'}",
	    "reason", "unknown value \"happy\"" },
	{ "case_closure", "{'reason':'reintegrated','closed_on':'2026-13-01'}",
	    "closed_on", "bad date" },
	{ "case_closure", "{'reason':'reintegrated','closed_on':'2025-02-29'}",
	    "closed_on", "bad date" },
	{ "case_closure", "{'reason':'reintegrated','closed_on':'01/02/2026'}",
	    "closed_on", "expected YYYY" },
	{ "case_closure", "{'reason':'reintegrated','closed_on':'2199-01-01'}",
	    "closed_on", "in the future" },
	{ "case_closure", "{'reason':5,'closed_on':'2026-01-01'}",
	    "reason", "wrong JSON type" },
	{ "case_closure", "{" CLOSE ",'operator':'x'}",
	    "operator", "unknown field" },
	{ "case_closure", "{" CLOSE ",'summary':null}",
	    "summary", "null is not a value" },
	{ "case_closure", "{" CLOSE ",'summary':''}", "summary", "empty" },
	{ "case_closure", "{" CLOSE ",'summary':'a\\u0001b'}",
	    "summary", "control character" },
	{ "case_closure", "{'reason':'reintegrated'}",
	    "closed_on", "required field missing" },
	{ "case_closure", "{'reason':'third_country','closed_on':'2026-01-01'}",
	    "referred_to", "required" },
	{ "case_closure", "{" CLOSE "", "", "invalid JSON" },
	{ "case_closure", "{'reason':'reintegrated','reason':'deceased',"
	    "'closed_on':'2026-01-01'}", "", "duplicate object key" },
	{ "case_closure", "[]", "", "a form is a JSON object" },
	{ "case_closure", "", "", "invalid JSON" },
	{ "identification_notice", "{'identified_on':'2026-01-01',"
	    "'identifying_body':'mdt','is_child':'false',"
	    "'victim_objected_to_notification':false}",
	    "is_child", "true or false" },
	{ "identification_notice", "{'identified_on':'2026-01-01',"
	    "'identifying_body':'mdt','is_child':false,"
	    "'presumed_nationality':'XX',"
	    "'victim_objected_to_notification':false}",
	    "presumed_nationality", "bad country code" },
	{ "case_referral", "{" REF ",'family_contacts':[{'name':'B',"
	    "'email':'b@example.org'}]}",
	    "family_contacts[0].email", "unknown field" },
	{ "case_referral", "{" REF ",'family_contacts':[{'name':'B'},"
	    "{'name':'C','phone':'call me'}]}",
	    "family_contacts[1].phone", "bad phone number" },
	{ "case_referral", "{" REF ",'family_contacts':[{'phone':'+95 9 1234567'}]}",
	    "family_contacts[0].name", "required field missing" },
	{ "case_referral", "{" REF "}", "is_child", "required: say whether" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':15}",
	    "guardian", "child" },
	{ "case_referral", "{" REF_NAME ",'date_of_birth':'2015-06'}",
	    "guardian", "child" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':19}",
	    "guardian", "possibly under 18" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':16,'is_child':false,"
	    "'guardian':{'name':'G','agency':'WPC'},'child_views':'wants home'}",
	    "is_child", "treated as a child" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':16,"
	    "'guardian':{'name':'G','agency':'WPC'}}",
	    "child_views", "required" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':16,"
	    "'guardian':{'name':'G'},'child_views':'x'}",
	    "guardian.agency", "required field missing" },
	{ "case_referral", "{'full_name':'A','sex':'male','age_basis':"
	    "'self_declared','claimed_nationality':'mm','return_wish':'yes',"
	    "'exploitation_types':['forced_labour'],'date_of_birth':'1990'}",
	    "claimed_nationality", "bad country code" },
	{ "case_referral", "{" REF ",'aliases':'Ko Kyaw'}",
	    "aliases", "expected an array" },
	{ "case_referral", "{" REF ",'origin_address':[]}",
	    "origin_address", "expected an object" },
	{ "case_referral", "{" REF ",'aliases':['x',null]}",
	    "aliases[1]", "null in a list" },
	{ "case_referral", "{'full_name':'A','sex':'male','age_basis':"
	    "'self_declared','claimed_nationality':'MM','return_wish':'yes',"
	    "'date_of_birth':'1990','exploitation_types':['slavery']}",
	    "exploitation_types[0]", "expected one of forced_labour" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':-1}",
	    "estimated_age", "out of range" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':25.5}",
	    "estimated_age", "expected an integer" },
	{ "case_referral", "{" REF_NAME ",'estimated_age':150}",
	    "estimated_age", "not a human age" },
	{ "case_referral", "{" REF_NAME "}", "date_of_birth",
	    "date_of_birth or estimated_age" },
	{ "case_referral", "{'full_name':'A','sex':'male','age_basis':"
	    "'document','claimed_nationality':'MM','return_wish':'yes',"
	    "'exploitation_types':['forced_labour'],'estimated_age':40}",
	    "age_basis", "needs the date_of_birth" },
	{ "case_referral", "{" REF ",'accompanying_children':[{'full_name':"
	    "'K','estimated_age':30}]}", "accompanying_children[0]",
	    "not a child" },
	{ "case_referral", "{'full_name':'A','sex':'male','age_basis':"
	    "'self_declared','claimed_nationality':'MM','return_wish':'yes',"
	    "'date_of_birth':'1990'}", "exploitation_types", "at least one" },
	{ "case_referral", "{" REF ",'risk_factors':['stigma']}",
	    "risk_level", "required when risk_factors" },
	{ "case_referral", "{" REF ",'languages':['Burmese']}",
	    "languages[0]", "bad language tag" },
	{ "case_referral", "{" REF ",'origin_address':{'country':'ZZ'}}",
	    "origin_address.country", "bad country code" },
	{ "consent_update", "{" CONSENT ",'scope':['share_case'],"
	    "'rights_explained':true,'is_child':true,'guardian_name':'G'}",
	    "guardian_consent", "required for a child" },
	{ "consent_update", "{" CONSENT ",'scope':['share_case'],"
	    "'rights_explained':true,'is_child':true,'guardian_consent':false,"
	    "'guardian_name':'G'}", "guardian_consent", "guardian's consent" },
	{ "consent_update", "{" CONSENT ",'scope':['share_case'],"
	    "'rights_explained':false}", "rights_explained", "told their rights" },
	{ "consent_update", "{" CONSENT ",'rights_explained':true}",
	    "scope", "at least one scope" },
	{ "consent_update", "{" CONSENT ",'scope':['share_case','share_case'],"
	    "'rights_explained':true}", "scope[1]", "listed twice" },
	{ "consent_update", "{'decision':'granted','recorded_by':'W',"
	    "'recorded_at':'2026-05-14T14:20+07:00','interpreter_language':"
	    "'Burmese','scope':['share_case'],'rights_explained':true}",
	    "interpreter_language", "bad language tag" },
	{ "consent_update", "{'decision':'granted','recorded_by':'W',"
	    "'recorded_at':'2026-05-14 14:20','interpreter_language':'my',"
	    "'scope':['share_case'],'rights_explained':true}",
	    "recorded_at", "bad date-time" },
	{ "consent_update", "{'decision':'granted',"
	    "'recorded_at':'2026-05-14T14:20Z','interpreter_language':'my',"
	    "'scope':['share_case'],'rights_explained':true}",
	    "recorded_by", "required field missing" },
	{ "nationality_verification_result", "{'status':'more_info_needed',"
	    NVR "}", "more_info_requested", "required" },
	{ "nationality_verification_result", "{'status':'not_confirmed',"
	    NVR ",'national_id_number':'12/ABC(N)1'}", "national_id_number",
	    "data minimisation" },
	{ "nationality_verification_request", "{'claimed_identity':{"
	    "'full_name':'A'}}", "claimed_identity.claimed_nationality",
	    "required field missing" },
	{ "family_assessment_result", "{'family_located':true," ASSESS
	    ",'is_child':true}", "best_interests_determination",
	    "required for a child" },
	{ "family_assessment_result", "{'family_located':false," ASSESS
	    ",'recommended_placement':'family'}", "recommended_placement",
	    "not located" },
	{ "family_tracing_request", "{'notes':'n'}", "family_contacts",
	    "at least one family contact" },
	{ "legal_proceedings_update", "{'proceeding_stage':'none',"
	    "'witness_required':true}", "witness_required", "no proceedings" },
	{ "travel_document_notice", "{'document_type':'passport',"
	    "'document_number':'MA123','valid_until':'2026-01-01',"
	    "'issuing_post':'Embassy','issued_on':'2026-02-01'}",
	    "valid_until", "not after issued_on" },
	{ "repatriation_plan", "{" PLAN ",'plan_status':'rejected'}",
	    "status_reason", "required when the plan is rejected" },
	{ "repatriation_plan", "{" PLAN ",'plan_status':'proposed',"
	    "'proposed_date':'2026-10-15','channel':'g2g_land',"
	    "'receiving_agency_id':'MM.DSW'}", "crossing_point_code",
	    "land or BLO" },
	{ "repatriation_plan", "{" PLAN ",'plan_status':'accepted',"
	    "'proposed_date':'2026-10-15','channel':'air',"
	    "'receiving_agency_id':'dsw'}", "receiving_agency_id",
	    "bad agent id" },
	{ "repatriation_plan", "{'case_refs':['TH-2026-000117','TH-26-1'],"
	    "'plan_status':'rejected','status_reason':'r'}", "case_refs[1]",
	    "bad case reference" },
	{ "repatriation_plan", "{'plan_status':'rejected','status_reason':'r'}",
	    "case_refs", "at least one case" },
	{ "handover_schedule", "{'scheduled_at':'2026-10-15T09:30',"
	    "'crossing_point_code':'TH-MM-1','case_refs':['TH-2026-000117']}",
	    "scheduled_at", "with Z or +HH:MM" },
	{ "handover_schedule", "{'scheduled_at':'2026-10-15T09:30Z',"
	    "'crossing_point_code':'mae sot','case_refs':['TH-2026-000117']}",
	    "crossing_point_code", "bad code" },
	{ "handover_record", "{" REC ",'handed_over_case_refs':["
	    "'TH-2026-000117']}", "officials", "officials present" },
	{ "reintegration_followup", "{'followup_on':'2026-11-20',"
	    "'living_situation':'with_family','share_with_former_host':true,"
	    "'next_followup_due':'2026-11-01'}", "next_followup_due",
	    "not after followup_on" },
	{ "reception_report", "{'arrived_on':'2026-10-15',"
	    "'transit_facility_id':'MM.SHELTER.KAWTHAUNG',"
	    "'onward_escort_date':'2026-10-01'}", "onward_escort_date",
	    "before arrived_on" },
};

static char *
quotes(const char *s)
{
	char *out = repat_xstrdup(s), *p;

	for (p = out; *p; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

static void
bad_forms_table(void **state)
{
	struct repat_form_report rep;
	ProtobufCMessage *f;
	size_t i, failures = 0;
	char *json;
	int type;

	(void)state;
	assert_true(sizeof(bads) / sizeof(bads[0]) >= 40);
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		type = repat_message_type_parse(bads[i].type);
		assert_true(type > 0);
		json = quotes(bads[i].json);
		f = (void *)1;
		if (repat_form_from_json(type, json, strlen(json), &f,
		    &rep) != REPAT_EFORM || f != NULL ||
		    !has_problem(&rep, bads[i].path, bads[i].msg, false)) {
			printf("bad form %zu (%s %s): want %s: ...%s...; got:\n",
			    i, bads[i].type, json, bads[i].path, bads[i].msg);
			dump(&rep);
			failures++;
		}
		free(json);
	}
	assert_int_equal(failures, 0);
}

static void
invalid_utf8_refused(void **state)
{
	static const char json[] = "{\"reason\":\"reintegrated\","
	    "\"closed_on\":\"2026-01-01\",\"summary\":\"a\xc0\xafz\"}";
	struct repat_form_report rep;
	ProtobufCMessage *f;

	(void)state;
	assert_int_equal(repat_form_from_json(15, json, sizeof(json) - 1, &f,
	    &rep), REPAT_EFORM);
	assert_null(f);
	assert_true(has_problem(&rep, "", "not valid UTF-8", false));
	assert_false(form_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(form_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(form_utf8_valid("\xe1\x80", 2));		/* truncated */
	assert_true(form_utf8_valid("\xe1\x80\x80", 3));
}

static void
limits_enforced(void **state)
{
	struct repat_form_report rep;
	ProtobufCMessage *f;
	size_t n = REPAT_MAX_STRING + 1, i, used;
	char *json;

	(void)state;
	/* One string one byte over the limit. */
	json = repat_xmalloc(n + 128);
	used = (size_t)sprintf(json, "{\"reason\":\"reintegrated\","
	    "\"closed_on\":\"2026-01-01\",\"summary\":\"");
	memset(json + used, 'a', n);
	strcpy(json + used + n, "\"}");
	assert_int_equal(repat_form_from_json(15, json, strlen(json), &f,
	    &rep), REPAT_EFORM);
	assert_true(has_problem(&rep, "summary", "too long", false));
	/* Exactly at the limit is fine. */
	memset(json + used, 'a', n - 1);
	strcpy(json + used + n - 1, "\"}");
	assert_int_equal(repat_form_from_json(15, json, strlen(json), &f,
	    &rep), REPAT_OK);
	repat_form_free(f);
	free(json);

	/* One list item too many. */
	json = repat_xmalloc(64 * (REPAT_MAX_REPEATED + 2) + 512);
	used = (size_t)sprintf(json, "{\"full_name\":\"A\",\"sex\":\"male\","
	    "\"age_basis\":\"self_declared\",\"claimed_nationality\":\"MM\","
	    "\"return_wish\":\"yes\",\"date_of_birth\":\"1990\","
	    "\"exploitation_types\":[\"forced_labour\"],\"aliases\":[");
	for (i = 0; i <= REPAT_MAX_REPEATED; i++)
		used += (size_t)sprintf(json + used, "%s\"a%zu\"", i ? "," : "",
		    i);
	strcpy(json + used, "]}");
	assert_int_equal(repat_form_from_json(2, json, strlen(json), &f,
	    &rep), REPAT_EFORM);
	assert_true(has_problem(&rep, "aliases", "too many items", false));
	free(json);

	/* The whole text over REPAT_MAX_FORM_JSON, before parsing. */
	json = repat_xcalloc(1, REPAT_MAX_FORM_JSON + 2);
	memset(json, ' ', REPAT_MAX_FORM_JSON + 1);
	assert_int_equal(repat_form_from_json(15, json, REPAT_MAX_FORM_JSON + 1,
	    &f, &rep), REPAT_EFORM);
	assert_true(has_problem(&rep, "", "too large", false));
	free(json);

	assert_int_equal(repat_form_from_json(99, "{}", 2, &f, &rep),
	    REPAT_EINVAL);
}

/* ------------------------------------------------------ multilingual */

static void
multilingual_round_trip(void **state)
{
	static const char *const names[] = {
		"\xe0\xb8\xaa\xe0\xb8\xa1\xe0\xb8\x8a\xe0\xb8\xb2\xe0\xb8\xa2 "
		"\xe0\xb9\x83\xe0\xb8\x88\xe0\xb8\x94\xe0\xb8\xb5",	/* Thai */
		"\xe1\x80\xa1\xe1\x80\xb1\xe1\x80\xac\xe1\x80\x84\xe1\x80\xba"
		"\xe1\x80\x80\xe1\x80\xbb\xe1\x80\xb1\xe1\x80\xac\xe1\x80\xba",
								/* Burmese */
		"\xe1\x9e\x9f\xe1\x9e\xbb\xe1\x9e\x81 \xe1\x9e\x9f\xe1\x9e\xbb"
		"\xe1\x9e\x95\xe1\x9e\xb6\xe1\x9e\x8f",		/* Khmer */
		"\xe0\xba\xaa\xe0\xba\xbb\xe0\xba\xa1\xe0\xba\x9a\xe0\xba\xb1"
		"\xe0\xba\x94",					/* Lao */
		"Nguy\xe1\xbb\x85n Th\xe1\xbb\x8b H\xc6\xb0\xc6\xa1ng",
								/* Vietnamese */
		"\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e",		/* Chinese */
	};
	struct repat_form_report rep;
	Repat__CaseReferral *c;
	ProtobufCMessage *f, *g;
	char json[2048], *out;
	uint8_t *buf;
	size_t i, used, blen;

	(void)state;
	used = (size_t)snprintf(json, sizeof(json), "{\"full_name\":\"%s\","
	    "\"sex\":\"female\",\"age_basis\":\"self_declared\","
	    "\"claimed_nationality\":\"VN\",\"return_wish\":\"yes\","
	    "\"date_of_birth\":\"1990\",\"is_child\":false,"
	    "\"exploitation_types\":"
	    "[\"forced_marriage\"],\"aliases\":[", names[4]);
	for (i = 0; i < 6; i++)
		used += (size_t)snprintf(json + used, sizeof(json) - used,
		    "%s\"%s\"", i ? "," : "", names[i]);
	snprintf(json + used, sizeof(json) - used, "]}");
	if (repat_form_from_json(2, json, strlen(json), &f, &rep) != 0)
		dump(&rep);
	assert_non_null(f);
	assert_int_equal(rep.n, 0);	/* no Zawgyi false positive */
	out = repat_form_to_json(f);
	assert_int_equal(repat_form_from_json(2, out, strlen(out), &g, &rep),
	    REPAT_OK);
	c = (Repat__CaseReferral *)(void *)g;
	assert_int_equal(c->n_aliases, 6);
	for (i = 0; i < 6; i++) {
		assert_string_equal(c->aliases[i], names[i]);
		/* raw UTF-8 in the JSON text, not \u escapes */
		assert_non_null(strstr(out, names[i]));
	}
	assert_string_equal(c->full_name, names[4]);
	repat_form_free(g);
	repat_form_encode(f, &buf, &blen);
	assert_int_equal(repat_form_decode(2, buf, blen, &g, &rep), REPAT_OK);
	c = (Repat__CaseReferral *)(void *)g;
	for (i = 0; i < 6; i++)
		assert_memory_equal(c->aliases[i], names[i],
		    strlen(names[i]) + 1);
	repat_form_free(g);
	repat_form_free(f);
	free(buf);
	free(out);
}

static void
zawgyi_warning(void **state)
{
	/* "ေအာင္" typed the Zawgyi way: E vowel first, U+1039 as asat. */
	static const char zawgyi[] = "\xe1\x80\xb1\xe1\x80\xa1\xe1\x80\xac"
	    "\xe1\x80\x84\xe1\x80\xb9";
	/* Unicode "အောင်" and the kinzi of "တနင်္သာရီ". */
	static const char unicode[] = "\xe1\x80\xa1\xe1\x80\xb1\xe1\x80\xac"
	    "\xe1\x80\x84\xe1\x80\xba \xe1\x80\x90\xe1\x80\x94\xe1\x80\x84"
	    "\xe1\x80\xba\xe1\x80\xb9\xe1\x80\x9e\xe1\x80\xac\xe1\x80\x9b"
	    "\xe1\x80\xae";
	struct repat_form_report rep;
	ProtobufCMessage *f;
	char json[512];

	(void)state;
	assert_true(form_looks_zawgyi(zawgyi));
	assert_true(form_looks_zawgyi("U \xe1\x80\xbb\xe1\x80\x80"));
	assert_false(form_looks_zawgyi(unicode));
	assert_false(form_looks_zawgyi("Aung Kyaw"));
	snprintf(json, sizeof(json), "{\"reason\":\"reintegrated\","
	    "\"closed_on\":\"2026-01-01\",\"summary\":\"%s\"}", zawgyi);
	assert_int_equal(repat_form_from_json(15, json, strlen(json), &f,
	    &rep), REPAT_OK);
	assert_int_equal(rep.errors, 0);
	assert_true(has_problem(&rep, "summary", "Zawgyi", true));
	repat_form_free(f);
}

static void
warnings_keep_form_valid(void **state)
{
	static const struct bad warns[] = {
		{ "case_referral", "{" REF ",'is_child':false,'medical_needs_summary':'HIV "
		    "positive'}", "medical_needs_summary", "explicit "
		    "medical_share" },
		{ "identification_notice", "{'identified_on':'2026-01-01',"
		    "'identifying_body':'police','is_child':true,"
		    "'victim_objected_to_notification':true}",
		    "victim_objected_to_notification", "broker will refuse" },
		{ "family_assessment_result", "{'family_located':true," ASSESS
		    ",'family_linked_to_trafficking':true}",
		    "assessment_outcome", "linked to the trafficking" },
		{ "travel_document_notice", "{'document_type':'passport',"
		    "'document_number':'MA123','valid_until':'2020-01-01',"
		    "'issuing_post':'Embassy'}", "valid_until", "expired" },
	};
	struct repat_form_report rep;
	ProtobufCMessage *f;
	size_t i;
	char *json;

	(void)state;
	for (i = 0; i < sizeof(warns) / sizeof(warns[0]); i++) {
		json = quotes(warns[i].json);
		assert_int_equal(repat_form_from_json(
		    repat_message_type_parse(warns[i].type), json, strlen(json),
		    &f, &rep), REPAT_OK);
		assert_int_equal(rep.errors, 0);
		assert_true(has_problem(&rep, warns[i].path, warns[i].msg,
		    true));
		repat_form_free(f);
		free(json);
	}
}

/* A case worker at UTC+7 dates forms with a day UTC may not have reached. */
static void
future_dates_allow_local_today(void **state)
{
	struct repat_form_report rep;
	ProtobufCMessage *f;
	char json[128], day[11];
	time_t t = time(NULL) + 10 * 3600;	/* someone's today */
	struct tm tm;

	(void)state;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(json, sizeof(json), "{\"reason\":\"reintegrated\","
	    "\"closed_on\":\"%s\"}", day);
	assert_int_equal(repat_form_from_json(15, json, strlen(json), &f,
	    &rep), REPAT_OK);
	repat_form_free(f);
	t = time(NULL) + 2 * 86400;		/* nobody's today */
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(json, sizeof(json), "{\"reason\":\"reintegrated\","
	    "\"closed_on\":\"%s\"}", day);
	assert_int_equal(repat_form_from_json(15, json, strlen(json), &f,
	    &rep), REPAT_EFORM);
	assert_true(has_problem(&rep, "closed_on", "in the future", false));
}

/* ------------------------------------------------------------- facts */

static ProtobufCMessage *
parse(int type, const char *json)
{
	struct repat_form_report rep;
	ProtobufCMessage *f;
	char *j = quotes(json);

	if (repat_form_from_json(type, j, strlen(j), &f, &rep) != 0)
		dump(&rep);
	free(j);
	assert_non_null(f);
	return f;
}

static void
facts_of(int type, const ProtobufCMessage *f, Repat__CaseFacts *facts)
{
	repat__case_facts__init(facts);
	assert_int_equal(repat_form_facts(type, f, facts), REPAT_OK);
}

/* A byte-order mark, as Windows editors save one, is skipped. */
static void
byte_order_mark_skipped(void **state)
{
	ProtobufCMessage *f = parse(14, "\xEF\xBB\xBF{'scope':['share_case'],"
	    "'decision':'granted','recorded_by':'W','interpreter_language':"
	    "'km','recorded_at':'2026-05-14T14:20+07:00',"
	    "'rights_explained':true}");
	struct repat_form_report rep;
	ProtobufCMessage *g = NULL;

	(void)state;
	repat_form_free(f);
	/* only at the start: one in the middle is still refused */
	assert_int_not_equal(repat_form_from_json(14, "{\xEF\xBB\xBF}", 5, &g,
	    &rep), REPAT_OK);
	assert_null(g);
}

static void
facts_from_examples(void **state)
{
	struct repat_form_report rep;
	Repat__CaseFacts facts, empty = REPAT__CASE_FACTS__INIT;
	ProtobufCMessage *f;
	char *text;
	size_t len;
	int t;

	(void)state;
	for (t = 1; t <= 15; t++) {
		text = example(t, &len);
		assert_int_equal(repat_form_from_json(t, text, len, &f, &rep),
		    REPAT_OK);
		free(text);
		facts_of(t, f, &facts);
		switch (t) {
		case 1:
			assert_true(facts.has_is_child && !facts.is_child);
			assert_true(facts.has_victim_objected &&
			    !facts.victim_objected);
			break;
		case 2:
			assert_true(facts.has_is_child && !facts.is_child);
			assert_true(facts.has_guardian_recorded &&
			    !facts.guardian_recorded);
			assert_true(facts.has_risk_assessment_recorded &&
			    facts.risk_assessment_recorded);
			assert_int_equal(facts.return_wish,
			    REPAT__RETURN_WISH__RETURN_WISH_YES);
			break;
		case 4:
			assert_int_equal(facts.nationality_status,
			    REPAT__NATIONALITY_STATUS__NATIONALITY_STATUS_CONFIRMED);
			break;
		case 6:
			assert_int_equal(facts.assessment_outcome,
			    REPAT__ASSESSMENT_OUTCOME__ASSESSMENT_OUTCOME_SAFE);
			assert_true(facts.has_family_located &&
			    facts.family_located);
			assert_true(facts.has_best_interests_recorded &&
			    !facts.best_interests_recorded);
			break;
		case 7:
			assert_true(facts.has_legal_clearance &&
			    facts.legal_clearance);
			break;
		case 9:
			assert_int_equal(facts.plan_status,
			    REPAT__PLAN_STATUS__PLAN_STATUS_PROPOSED);
			break;
		case 10:
		case 11:
			assert_true(facts.has_receiving_social_worker_named &&
			    facts.receiving_social_worker_named);
			break;
		case 14:
			assert_int_equal(facts.n_consent_granted, 4);
			assert_int_equal(facts.n_consent_withdrawn, 0);
			break;
		case 15:
			assert_int_equal(facts.closure_reason,
			    REPAT__CLOSURE_REASON__CLOSURE_REASON_REINTEGRATED);
			break;
		default:	/* 3, 5, 8, 12, 13 carry no facts */
			assert_true(repat_facts_equal(&facts, &empty));
			break;
		}
		if (t != 3 && t != 5 && t != 8 && t != 12 && t != 13)
			assert_false(repat_facts_equal(&facts, &empty));
		repat_facts_clear(&facts);
		repat_form_free(f);
	}
	f = parse(15, "{" CLOSE "}");
	assert_int_equal(repat_form_facts(14, f, &facts), REPAT_EINVAL);
	repat_form_free(f);
}

static void
facts_child_referral(void **state)
{
	Repat__CaseFacts facts;
	ProtobufCMessage *f;

	(void)state;
	/* 19, self-declared: may be a child, so treated as one. */
	f = parse(2, "{'full_name':'A','sex':'female','age_basis':"
	    "'self_declared','claimed_nationality':'LA','return_wish':"
	    "'undecided','exploitation_types':['sexual_exploitation'],"
	    "'estimated_age':19,'guardian':{'name':'G','agency':'WPC'},"
	    "'child_views':'wants to go home','is_child':true}");
	facts_of(2, f, &facts);
	assert_true(facts.has_is_child && facts.is_child);
	assert_true(facts.guardian_recorded);
	assert_true(facts.has_risk_assessment_recorded &&
	    !facts.risk_assessment_recorded);
	assert_true(repat_form_is_child(2, f));
	repat_facts_clear(&facts);
	repat_form_free(f);
	/* 19 from a document: an adult. */
	f = parse(2, "{'full_name':'A','sex':'male','age_basis':'document',"
	    "'claimed_nationality':'MM','return_wish':'no','exploitation_types'"
	    ":['forced_labour'],'date_of_birth':'2007-01-01','is_child':false}");
	facts_of(2, f, &facts);
	assert_true(facts.has_is_child && !facts.is_child);
	assert_int_equal(facts.return_wish, REPAT__RETURN_WISH__RETURN_WISH_NO);
	repat_facts_clear(&facts);
	repat_form_free(f);
}

static void
facts_legal_clearance(void **state)
{
	static const struct {
		const char *json;
		bool clear;
	} cases[] = {
		{ "{'proceeding_stage':'none','witness_required':false}", true },
		{ "{'proceeding_stage':'closed','witness_required':true}", true },
		{ "{'proceeding_stage':'trial','witness_required':false}", true },
		{ "{'proceeding_stage':'trial','witness_required':true}", false },
		{ "{'proceeding_stage':'investigation','witness_required':true,"
		    "'testimony_deposited':false}", false },
		{ "{'proceeding_stage':'investigation','witness_required':true,"
		    "'testimony_deposited':true}", true },
	};
	Repat__CaseFacts facts;
	ProtobufCMessage *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = parse(7, cases[i].json);
		facts_of(7, f, &facts);
		assert_true(facts.has_legal_clearance);
		assert_int_equal(!!facts.legal_clearance, cases[i].clear);
		repat_facts_clear(&facts);
		repat_form_free(f);
	}
}

static void
facts_consent_and_equality(void **state)
{
	Repat__CaseFacts a, b;
	ProtobufCMessage *f, *g;

	(void)state;
	f = parse(14, "{'scope':['share_case','medical_share'],'decision':"
	    "'withdrawn','recorded_by':'W','interpreter_language':'km',"
	    "'recorded_at':'2026-05-14T14:20+07:00','rights_explained':false,"
	    "'is_child':true,'guardian_consent':false,'guardian_name':'H'}");
	g = parse(14, "{'scope':['medical_share','share_case'],'decision':"
	    "'withdrawn','recorded_by':'X','interpreter_language':'km',"
	    "'recorded_at':'2026-06-01T08:00Z','rights_explained':true,"
	    "'is_child':true,'guardian_consent':false,'guardian_name':'G'}");
	facts_of(14, f, &a);
	facts_of(14, g, &b);
	assert_int_equal(a.n_consent_withdrawn, 2);
	assert_int_equal(a.n_consent_granted, 0);
	/* the SOP holds a child's case to the guardian's consent */
	assert_true(a.has_is_child && a.is_child);
	assert_true(a.has_guardian_consent && !a.guardian_consent);
	/* order of scopes aside, the same facts */
	assert_true(repat_facts_equal(&a, &b));
	b.consent_withdrawn[1] = REPAT__CONSENT_SCOPE__CONSENT_SCOPE_NOTIFY_ORIGIN;
	assert_false(repat_facts_equal(&a, &b));
	repat_facts_clear(&b);
	assert_false(repat_facts_equal(&a, &b));
	b.has_is_child = 1;
	assert_false(repat_facts_equal(&b, &a));
	repat_facts_clear(&a);
	repat_facts_clear(&b);
	assert_true(repat_facts_equal(&a, &b));
	a.has_plan_status = b.has_plan_status = 1;
	a.plan_status = REPAT__PLAN_STATUS__PLAN_STATUS_ACCEPTED;
	b.plan_status = REPAT__PLAN_STATUS__PLAN_STATUS_REJECTED;
	assert_false(repat_facts_equal(&a, &b));
	repat_form_free(f);
	repat_form_free(g);
}

/* ------------------------------------------------------------ decode */

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static void
decode_refuses_unknown_fields(void **state)
{
	struct repat_form_report rep;
	Repat__Address a = REPAT__ADDRESS__INIT;
	ProtobufCMessage *f;
	uint8_t *enc, buf[512], inner[256];
	size_t len, n;

	(void)state;
	/* Top level: a valid closure plus field 50 (varint 1). */
	f = parse(15, "{" CLOSE "}");
	repat_form_encode(f, &enc, &len);
	repat_form_free(f);
	memcpy(buf, enc, len);
	free(enc);
	len += put_varint(buf + len, 50 << 3);
	buf[len++] = 1;
	assert_int_equal(repat_form_decode(15, buf, len, &f, &rep),
	    REPAT_EFORM);
	assert_null(f);
	assert_true(has_problem(&rep, "", "unknown field number 50", false));

	/* Nested: an Address with field 77 inside a tracing request. */
	a.village = "Pyin Bu";
	repat_encode(&a.base, &enc, &len);
	memcpy(inner, enc, len);
	free(enc);
	len += put_varint(inner + len, (uint64_t)77 << 3);
	inner[len++] = 5;
	n = 0;
	buf[n++] = 2 << 3 | 2;	/* origin_address, length-delimited */
	n += put_varint(buf + n, len);
	memcpy(buf + n, inner, len);
	n += len;
	assert_int_equal(repat_form_decode(5, buf, n, &f, &rep), REPAT_EFORM);
	assert_null(f);
	assert_true(has_problem(&rep, "origin_address",
	    "unknown field number 77", false));

	/* Bytes that are no form at all. */
	assert_int_equal(repat_form_decode(2, (const uint8_t *)"\xff\xff",
	    2, &f, &rep), REPAT_EDECODE);
	assert_int_equal(repat_form_decode(2, NULL, 0, &f, &rep),
	    REPAT_EDECODE);
	assert_int_equal(repat_form_decode(0, buf, n, &f, &rep),
	    REPAT_EINVAL);
}

static void
decode_validates(void **state)
{
	Repat__CaseClosure c = REPAT__CASE_CLOSURE__INIT;
	struct repat_form_report rep;
	ProtobufCMessage *f;
	uint8_t *enc;
	size_t len;

	(void)state;
	/* A sender that skipped validation: a third_country closure with a
	 * bad date and no referral is refused by the recipient. */
	c.reason = REPAT__CLOSURE_REASON__CLOSURE_REASON_THIRD_COUNTRY;
	c.closed_on = "yesterday";
	repat_encode(&c.base, &enc, &len);
	assert_int_equal(repat_form_decode(15, enc, len, &f, &rep),
	    REPAT_EFORM);
	assert_null(f);
	assert_true(has_problem(&rep, "closed_on", "bad date", false));
	assert_true(has_problem(&rep, "referred_to", "required", false));
	free(enc);
	/* An enum number outside the vocabulary. */
	c.reason = 42;
	c.closed_on = "2026-01-01";
	c.referred_to = "UNHCR";
	repat_encode(&c.base, &enc, &len);
	assert_int_equal(repat_form_decode(15, enc, len, &f, &rep),
	    REPAT_EFORM);
	assert_true(has_problem(&rep, "reason", "unknown ClosureReason", false));
	free(enc);
	assert_int_equal(repat_form_validate(&c.base, &rep), REPAT_EFORM);
	assert_int_equal(repat_form_validate(NULL, &rep), REPAT_EINVAL);
}

/* ------------------------------------------------------ value checks */

static void
value_checks(void **state)
{
	int y, m, d, n = 0;
	char cc[3];

	(void)state;
	for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
		for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++) {
			cc[2] = '\0';
			n += form_country_valid(cc);
		}
	assert_int_equal(n, 249);
	assert_true(form_country_valid("TH") && form_country_valid("MM") &&
	    form_country_valid("KH") && form_country_valid("LA") &&
	    form_country_valid("VN") && form_country_valid("CN"));
	assert_false(form_country_valid("XK") || form_country_valid("UK") ||
	    form_country_valid("th") || form_country_valid("THA"));
	assert_true(form_date_parse("1990", &y, &m, &d) && m == 0 && d == 0);
	assert_true(form_date_parse("1990-07", &y, &m, &d) && m == 7);
	assert_true(form_date_parse("2024-02-29", &y, &m, &d) && d == 29);
	assert_false(form_date_parse("2100-02-29", &y, &m, &d));
	assert_false(form_date_parse("1990-7-1", &y, &m, &d));
	assert_false(form_date_parse("1990-00", &y, &m, &d));
	assert_true(form_datetime_valid("2026-10-15T09:30+06:30"));
	assert_true(form_datetime_valid("2026-10-15T09:30:59Z"));
	assert_false(form_datetime_valid("2026-10-15T24:00Z"));
	assert_false(form_datetime_valid("2026-10-15T09:30Zx"));
	assert_true(form_case_ref_valid("MM-2026-000001"));
	assert_false(form_case_ref_valid("XX-2026-000001"));
	assert_true(form_agent_id_valid("TH.WPC.PATHUMTHANI"));
	assert_false(form_agent_id_valid("TH.WPC.A.B"));
	assert_false(form_agent_id_valid("TH..X"));
	assert_true(form_language_valid("zh-Hans"));
	assert_true(form_language_valid("shn"));
	assert_false(form_language_valid("my-"));
	assert_int_equal(form_format_of("date_of_birth"), FORM_FMT_DATE);
	assert_int_equal(form_format_of("handed_over_case_refs"),
	    FORM_FMT_CASE_REF);
	assert_int_equal(form_format_of("full_name"), FORM_FMT_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(examples_round_trip),
		cmocka_unit_test(examples_encode_decode),
		cmocka_unit_test(bad_forms_table),
		cmocka_unit_test(invalid_utf8_refused),
		cmocka_unit_test(limits_enforced),
		cmocka_unit_test(multilingual_round_trip),
		cmocka_unit_test(zawgyi_warning),
		cmocka_unit_test(warnings_keep_form_valid),
		cmocka_unit_test(future_dates_allow_local_today),
		cmocka_unit_test(facts_from_examples),
		cmocka_unit_test(facts_child_referral),
		cmocka_unit_test(facts_legal_clearance),
		cmocka_unit_test(facts_consent_and_equality),
		cmocka_unit_test(byte_order_mark_skipped),
		cmocka_unit_test(decode_refuses_unknown_fields),
		cmocka_unit_test(decode_validates),
		cmocka_unit_test(value_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
