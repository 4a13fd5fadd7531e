/*
 * agreement.c: the agreement format (strict JSON), detached per-party
 * signatures, loading a folder into an immutable set, and the lookup that
 * says which agreement authorizes a message (docs/agreements.md).
 *
 * A signature file FILE.sig.CC binds the SHA-256 of the exact agreement
 * bytes, the agreement id, the party, the signer and the signing time in a
 * fixed binary body signed with purpose "agreement-signature"; the signer's
 * certificate is verified at the signing time against the pinned CA of the
 * party, and the signer must be named as that party's focal point inside
 * the very file it signs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "repat/agreement.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"
#include "repat/sign.h"

#define DAY_MS		(86400ULL * 1000)
#define MINUTE_MS	(60ULL * 1000)
#define SIG_BODY_MAX	(REPAT_HASH_LEN + 1 + REPAT_AGREEMENT_MAX_ID + 2 + \
			    1 + REPAT_MAX_AGENT_ID + 8)

struct repat_agreements {
	size_t n;			/* agreements held */
	struct repat_agreement **a;	/* in load (file name) order */
};

/* ---------------------------------------------------------------- parsing */

/* Refuses any key of obj not in the NULL-terminated list allowed. */
static int
check_keys(json_t *obj, const char *where, const char *const *allowed,
    char *errbuf)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return repat_errf(errbuf, REPAT_EINVAL, "%s: unknown "
			    "key \"%s\"", where, key);
	}
	return 0;
}

/* A string member; required or not. *out NULL when absent and optional. */
static int
get_string(json_t *obj, const char *key, bool required, size_t max,
    const char **out, char *errbuf)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return repat_errf(errbuf, REPAT_EINVAL, "\"%s\" is "
			    "missing", key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max)
		return repat_errf(errbuf, REPAT_EINVAL, "\"%s\" must be a "
		    "non-empty string of at most %zu bytes", key, max);
	*out = json_string_value(v);
	return 0;
}

static bool
id_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > REPAT_AGREEMENT_MAX_ID)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return false;
	}
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD" (a real calendar day, 1970..9999) to 00:00 UTC in ms. */
static int
parse_date(const char *s, uint64_t *ms)
{
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };
	unsigned y = 0, m, d, i;
	bool leap;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return REPAT_EINVAL;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return REPAT_EINVAL;
	for (i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return REPAT_EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return REPAT_EINVAL;
	*ms = (uint64_t)days_from_civil(y, m, d) * DAY_MS;
	return 0;
}

static int
get_date(json_t *obj, const char *key, bool required, uint64_t *ms,
    char *errbuf)
{
	const char *s;
	int rc;

	*ms = 0;
	if ((rc = get_string(obj, key, required, 10, &s, errbuf)) != 0)
		return rc;
	if (s != NULL && parse_date(s, ms) != 0)
		return repat_errf(errbuf, REPAT_EINVAL, "\"%s\": \"%s\" is not "
		    "a date YYYY-MM-DD", key, s);
	return 0;
}

static int
get_type(json_t *v, const char *where, int *type, char *errbuf)
{
	if (!json_is_string(v) ||
	    (*type = repat_message_type_parse(json_string_value(v))) < 1)
		return repat_errf(errbuf, REPAT_EINVAL, "%s: not a message "
		    "type", where);
	return 0;
}

static int
get_role(json_t *v, const char *where, int *role, char *errbuf)
{
	if (!json_is_string(v) ||
	    (*role = repat_role_parse(json_string_value(v))) < 1 ||
	    *role == REPAT__ROLE__ROLE_BROKER)
		return repat_errf(errbuf, REPAT_EINVAL, "%s: not an agent "
		    "role", where);
	return 0;
}

static int
parse_parties(struct repat_agreement *a, json_t *root, char *errbuf)
{
	json_t *arr = json_object_get(root, "parties"), *v;
	size_t i, j;

	if (!json_is_array(arr) || json_array_size(arr) < 2 ||
	    json_array_size(arr) > REPAT_AGREEMENT_MAX_PARTIES)
		return repat_errf(errbuf, REPAT_EINVAL, "\"parties\" must list "
		    "2 to %d country codes", REPAT_AGREEMENT_MAX_PARTIES);
	if (a->kind == REPAT_AGREEMENT_BILATERAL && json_array_size(arr) != 2)
		return repat_errf(errbuf, REPAT_EINVAL, "a bilateral agreement "
		    "has exactly two parties");
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) ||
		    !repat_country_valid(json_string_value(v)) ||
		    json_string_length(v) != 2)
			return repat_errf(errbuf, REPAT_EINVAL, "parties[%zu]: "
			    "not a two-letter country code", i);
		memcpy(a->parties[i], json_string_value(v), 3);
		for (j = 0; j < i; j++)
			if (strcmp(a->parties[j], a->parties[i]) == 0)
				return repat_errf(errbuf, REPAT_EINVAL,
				    "parties: %s is listed twice",
				    a->parties[i]);
	}
	a->nparties = json_array_size(arr);
	return 0;
}

static int
add_focal(struct repat_agreement *a, const char *cc, int role, json_t *v,
    char *errbuf)
{
	struct repat_focal_point *f;
	char idcc[3];
	const char *id;
	size_t i;

	if (!json_is_string(v) || !repat_agent_id_valid(json_string_value(v)))
		return repat_errf(errbuf, REPAT_EINVAL, "focal_points.%s: not "
		    "an agent id CC.ORG[.UNIT]", cc);
	id = json_string_value(v);
	repat_agent_id_country(id, idcc);
	if (strcmp(idcc, cc) != 0)
		return repat_errf(errbuf, REPAT_EINVAL, "focal_points.%s: %s "
		    "belongs to another country", cc, id);
	for (i = 0; i < a->nfocal; i++)
		if (a->focal[i].role == role &&
		    strcmp(a->focal[i].agent_id, id) == 0)
			return repat_errf(errbuf, REPAT_EINVAL,
			    "focal_points.%s: %s is named twice for one role",
			    cc, id);
	if (a->nfocal == REPAT_AGREEMENT_MAX_FOCAL)
		return repat_errf(errbuf, REPAT_ETOOBIG, "more than %d focal "
		    "points", REPAT_AGREEMENT_MAX_FOCAL);
	f = &a->focal[a->nfocal++];
	memcpy(f->country, cc, 3);
	f->role = role;
	snprintf(f->agent_id, sizeof(f->agent_id), "%s", id);
	return 0;
}

static int
parse_focal(struct repat_agreement *a, json_t *root, char *errbuf)
{
	json_t *obj = json_object_get(root, "focal_points"), *roles, *ids, *v;
	const char *cc, *rname;
	size_t i;
	int role, rc;

	if (!json_is_object(obj))
		return repat_errf(errbuf, REPAT_EINVAL, "\"focal_points\" must "
		    "be an object keyed by party");
	a->focal = repat_xcalloc(REPAT_AGREEMENT_MAX_FOCAL, sizeof(*a->focal));
	json_object_foreach(obj, cc, roles) {
		if (!repat_agreement_has_party(a, cc))
			return repat_errf(errbuf, REPAT_EINVAL, "focal_points: "
			    "\"%s\" is not a party", cc);
		if (!json_is_object(roles))
			return repat_errf(errbuf, REPAT_EINVAL,
			    "focal_points.%s must map roles to lists of agent "
			    "ids", cc);
		json_object_foreach(roles, rname, ids) {
			if ((role = repat_role_parse(rname)) < 1 ||
			    role == REPAT__ROLE__ROLE_BROKER)
				return repat_errf(errbuf, REPAT_EINVAL,
				    "focal_points.%s: \"%s\" is not an agent "
				    "role", cc, rname);
			if (!json_is_array(ids) || json_array_size(ids) == 0)
				return repat_errf(errbuf, REPAT_EINVAL,
				    "focal_points.%s.%s must be a non-empty "
				    "list", cc, rname);
			json_array_foreach(ids, i, v)
				if ((rc = add_focal(a, cc, role, v,
				    errbuf)) != 0)
					return rc;
		}
	}
	/* Signers are focal points: every party must name at least one. */
	for (i = 0; i < a->nparties; i++) {
		size_t j;

		for (j = 0; j < a->nfocal; j++)
			if (strcmp(a->focal[j].country, a->parties[i]) == 0 &&
			    a->focal[j].role == REPAT__ROLE__ROLE_FOCAL_POINT)
				break;
		if (j == a->nfocal)
			return repat_errf(errbuf, REPAT_EINVAL, "focal_points: "
			    "party %s names no focal_point", a->parties[i]);
	}
	return 0;
}

static int
add_flow(struct repat_agreement *a, int type, int from, int to, int side,
    char *errbuf)
{
	struct repat_flow *f;

	if (a->nflows == REPAT_AGREEMENT_MAX_FLOWS)
		return repat_errf(errbuf, REPAT_ETOOBIG, "more than %d flows",
		    REPAT_AGREEMENT_MAX_FLOWS);
	f = &a->flows[a->nflows++];
	f->type = type;
	f->from_role = from;
	f->to_role = to;
	f->side = side;
	return 0;
}

static int
parse_flow(struct repat_agreement *a, json_t *fl, size_t idx, char *errbuf)
{
	static const char *const keys[] = { "type", "types", "from", "to",
	    "direction", NULL };
	json_t *t = json_object_get(fl, "type");
	json_t *ts = json_object_get(fl, "types"), *v;
	const char *dir;
	char where[48];
	int from = 0, to = 0, type = 0, side = REPAT_SIDE_ANY, rc;
	size_t i;

	snprintf(where, sizeof(where), "sop.flows[%zu]", idx);
	if (!json_is_object(fl))
		return repat_errf(errbuf, REPAT_EINVAL, "%s: not an object",
		    where);
	if ((rc = check_keys(fl, where, keys, errbuf)) != 0)
		return rc;
	if ((rc = get_role(json_object_get(fl, "from"), where, &from,
	    errbuf)) != 0 || (rc = get_role(json_object_get(fl, "to"), where,
	    &to, errbuf)) != 0)
		return rc;
	if ((rc = get_string(fl, "direction", false, 32, &dir, errbuf)) != 0)
		return rc;
	if (dir == NULL || strcmp(dir, "any") == 0)
		side = REPAT_SIDE_ANY;
	else if (strcmp(dir, "from_destination") == 0)
		side = REPAT_SIDE_DESTINATION;
	else if (strcmp(dir, "from_origin") == 0)
		side = REPAT_SIDE_ORIGIN;
	else
		return repat_errf(errbuf, REPAT_EINVAL, "%s: direction must be "
		    "any, from_destination or from_origin", where);
	if ((t == NULL) == (ts == NULL))
		return repat_errf(errbuf, REPAT_EINVAL, "%s: give exactly one "
		    "of \"type\" and \"types\"", where);
	if (t != NULL) {
		if ((rc = get_type(t, where, &type, errbuf)) != 0)
			return rc;
		return add_flow(a, type, from, to, side, errbuf);
	}
	if (!json_is_array(ts) || json_array_size(ts) == 0)
		return repat_errf(errbuf, REPAT_EINVAL, "%s: \"types\" must be "
		    "a non-empty list", where);
	json_array_foreach(ts, i, v) {
		if ((rc = get_type(v, where, &type, errbuf)) != 0 ||
		    (rc = add_flow(a, type, from, to, side, errbuf)) != 0)
			return rc;
	}
	return 0;
}

static int
parse_deadline(struct repat_agreement *a, json_t *d, size_t idx,
    char *errbuf)
{
	static const char *const keys[] = { "request", "reply", "days",
	    "minutes", "placeholder", "note", NULL };
	struct repat_deadline_rule *r;
	json_t *days, *mins, *ph;
	char where[48];
	json_int_t n;
	size_t i;
	int rc;

	snprintf(where, sizeof(where), "sop.deadlines[%zu]", idx);
	if (!json_is_object(d))
		return repat_errf(errbuf, REPAT_EINVAL, "%s: not an object",
		    where);
	if ((rc = check_keys(d, where, keys, errbuf)) != 0)
		return rc;
	r = &a->deadlines[a->ndeadlines];
	if ((rc = get_type(json_object_get(d, "request"), where,
	    &r->request_type, errbuf)) != 0 ||
	    (rc = get_type(json_object_get(d, "reply"), where, &r->reply_type,
	    errbuf)) != 0)
		return rc;
	for (i = 0; i < a->ndeadlines; i++)
		if (a->deadlines[i].request_type == r->request_type)
			return repat_errf(errbuf, REPAT_EINVAL, "%s: a second "
			    "deadline for the same request type", where);
	days = json_object_get(d, "days");
	mins = json_object_get(d, "minutes");
	if ((days == NULL) == (mins == NULL))
		return repat_errf(errbuf, REPAT_EINVAL, "%s: give exactly one "
		    "of \"days\" and \"minutes\"", where);
	n = json_integer_value(days != NULL ? days : mins);
	if (!json_is_integer(days != NULL ? days : mins) || n < 1 ||
	    n > (days != NULL ? 3650 : 525600))
		return repat_errf(errbuf, REPAT_EINVAL, "%s: the period must "
		    "be a positive whole number (at most ten years)", where);
	r->period_ms = (uint64_t)n * (days != NULL ? DAY_MS : MINUTE_MS);
	ph = json_object_get(d, "placeholder");
	if (ph != NULL && !json_is_boolean(ph))
		return repat_errf(errbuf, REPAT_EINVAL, "%s: \"placeholder\" "
		    "must be true or false", where);
	r->placeholder = json_is_true(ph);
	if ((rc = get_string(d, "note", false, REPAT_MAX_STRING,
	    &(const char *){ NULL }, errbuf)) != 0)
		return rc;
	a->ndeadlines++;
	return 0;
}

static int
parse_sop(struct repat_agreement *a, json_t *root, char *errbuf)
{
	static const char *const keys[] = { "flows", "deadlines", NULL };
	json_t *sop = json_object_get(root, "sop"), *arr, *v;
	size_t i;
	int rc;

	a->flows = repat_xcalloc(REPAT_AGREEMENT_MAX_FLOWS, sizeof(*a->flows));
	a->deadlines = repat_xcalloc(REPAT_AGREEMENT_MAX_DEADLINES,
	    sizeof(*a->deadlines));
	if (sop == NULL) {
		if (a->kind == REPAT_AGREEMENT_BILATERAL)
			return repat_errf(errbuf, REPAT_EINVAL, "a bilateral "
			    "agreement needs \"sop\"");
		return 0;
	}
	if (!json_is_object(sop))
		return repat_errf(errbuf, REPAT_EINVAL, "\"sop\" must be an "
		    "object");
	if ((rc = check_keys(sop, "sop", keys, errbuf)) != 0)
		return rc;
	arr = json_object_get(sop, "flows");
	if (arr != NULL && a->kind == REPAT_AGREEMENT_FRAMEWORK)
		return repat_errf(errbuf, REPAT_EINVAL, "a framework grants no "
		    "routing: it cannot list sop.flows");
	if (arr != NULL && !json_is_array(arr))
		return repat_errf(errbuf, REPAT_EINVAL, "sop.flows must be a "
		    "list");
	json_array_foreach(arr, i, v)
		if ((rc = parse_flow(a, v, i, errbuf)) != 0)
			return rc;
	arr = json_object_get(sop, "deadlines");
	if (arr != NULL && (!json_is_array(arr) ||
	    json_array_size(arr) > REPAT_AGREEMENT_MAX_DEADLINES))
		return repat_errf(errbuf, REPAT_EINVAL, "sop.deadlines must be "
		    "a list of at most %d", REPAT_AGREEMENT_MAX_DEADLINES);
	json_array_foreach(arr, i, v)
		if ((rc = parse_deadline(a, v, i, errbuf)) != 0)
			return rc;
	return 0;
}

static int
parse_crossings(struct repat_agreement *a, json_t *root, char *errbuf)
{
	static const char *const keys[] = { "code", "name", NULL };
	json_t *arr = json_object_get(root, "crossing_points"), *v;
	const char *code, *name;
	size_t i;
	int rc;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) ||
	    json_array_size(arr) > REPAT_AGREEMENT_MAX_CROSSINGS)
		return repat_errf(errbuf, REPAT_EINVAL, "\"crossing_points\" "
		    "must be a list of at most %d",
		    REPAT_AGREEMENT_MAX_CROSSINGS);
	a->crossings = repat_xcalloc(json_array_size(arr) + 1,
	    sizeof(*a->crossings));
	json_array_foreach(arr, i, v) {
		if (!json_is_object(v))
			return repat_errf(errbuf, REPAT_EINVAL,
			    "crossing_points[%zu]: not an object", i);
		if ((rc = check_keys(v, "crossing_points", keys,
		    errbuf)) != 0 ||
		    (rc = get_string(v, "code", true, 32, &code,
		    errbuf)) != 0 ||
		    (rc = get_string(v, "name", true, REPAT_MAX_STRING, &name,
		    errbuf)) != 0)
			return rc;
		if (!id_valid(code))
			return repat_errf(errbuf, REPAT_EINVAL,
			    "crossing_points[%zu]: code must be "
			    "[A-Za-z0-9._-]", i);
		snprintf(a->crossings[i].code, sizeof(a->crossings[i].code),
		    "%s", code);
		a->crossings[i].name = repat_xstrdup(name);
		a->ncrossings++;
	}
	return 0;
}

static int
parse_head(struct repat_agreement *a, json_t *root, char *errbuf)
{
	const char *s;
	json_t *v;
	int rc;

	if ((rc = get_string(root, "id", true, REPAT_AGREEMENT_MAX_ID, &s,
	    errbuf)) != 0)
		return rc;
	if (!id_valid(s))
		return repat_errf(errbuf, REPAT_EINVAL, "\"id\" must be "
		    "[A-Za-z0-9._-]{1,64}");
	snprintf(a->id, sizeof(a->id), "%s", s);
	if ((rc = get_string(root, "title", true, REPAT_MAX_STRING, &s,
	    errbuf)) != 0)
		return rc;
	a->title = repat_xstrdup(s);
	if ((rc = get_string(root, "legal_reference", true, REPAT_MAX_STRING,
	    &s, errbuf)) != 0)
		return rc;
	a->legal_reference = repat_xstrdup(s);
	if ((rc = get_string(root, "kind", true, 16, &s, errbuf)) != 0)
		return rc;
	if (strcmp(s, "bilateral") == 0)
		a->kind = REPAT_AGREEMENT_BILATERAL;
	else if (strcmp(s, "framework") == 0)
		a->kind = REPAT_AGREEMENT_FRAMEWORK;
	else
		return repat_errf(errbuf, REPAT_EINVAL, "\"kind\" must be "
		    "bilateral or framework");
	if ((rc = get_date(root, "in_force_from", true, &a->in_force_from_ms,
	    errbuf)) != 0 || (rc = get_date(root, "in_force_until", false,
	    &a->in_force_until_ms, errbuf)) != 0)
		return rc;
	/* The last day counts in full. */
	if (a->in_force_until_ms != 0) {
		a->in_force_until_ms += DAY_MS;
		if (a->in_force_until_ms <= a->in_force_from_ms)
			return repat_errf(errbuf, REPAT_EINVAL,
			    "\"in_force_until\" is before \"in_force_from\"");
	}
	if ((rc = get_string(root, "supersedes", false, REPAT_AGREEMENT_MAX_ID,
	    &s, errbuf)) != 0)
		return rc;
	if (s != NULL) {
		if (!id_valid(s) || strcmp(s, a->id) == 0)
			return repat_errf(errbuf, REPAT_EINVAL,
			    "\"supersedes\" must name another agreement id");
		snprintf(a->supersedes, sizeof(a->supersedes), "%s", s);
	}
	v = json_object_get(root, "retention_days");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 36500))
		return repat_errf(errbuf, REPAT_EINVAL, "\"retention_days\" "
		    "must be a whole number of days from 1 to 36500");
	a->retention_days = v != NULL ? (uint32_t)json_integer_value(v) : 0;
	return get_string(root, "notes", false, REPAT_MAX_CONFIG, &s, errbuf);
}

int
repat_agreement_parse(const uint8_t *buf, size_t len,
    struct repat_agreement **out, char *errbuf)
{
	static const char *const keys[] = { "id", "title", "legal_reference",
	    "kind", "parties", "in_force_from", "in_force_until", "supersedes",
	    "focal_points", "sop", "retention_days", "crossing_points",
	    "notes", NULL };
	struct repat_agreement *a;
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	if (len > REPAT_MAX_CONFIG)
		return repat_errf(errbuf, REPAT_ETOOBIG, "an agreement is at "
		    "most %d bytes", REPAT_MAX_CONFIG);
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (root == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "line %d: %s",
		    jerr.line, jerr.text);
	a = repat_xcalloc(1, sizeof(*a));
	rc = REPAT_EINVAL;
	if (!json_is_object(root)) {
		repat_errf(errbuf, rc, "an agreement is a JSON object");
		goto fail;
	}
	if ((rc = check_keys(root, "agreement", keys, errbuf)) != 0 ||
	    (rc = parse_head(a, root, errbuf)) != 0 ||
	    (rc = parse_parties(a, root, errbuf)) != 0 ||
	    (rc = parse_focal(a, root, errbuf)) != 0 ||
	    (rc = parse_sop(a, root, errbuf)) != 0 ||
	    (rc = parse_crossings(a, root, errbuf)) != 0)
		goto fail;
	if (EVP_Digest(buf, len, a->sha256, NULL, EVP_sha256(), NULL) != 1) {
		rc = repat_err_openssl(errbuf, REPAT_ECRYPTO);
		goto fail;
	}
	json_decref(root);
	*out = a;
	return 0;
fail:
	json_decref(root);
	repat_agreement_free(&a);
	return rc;
}

int
repat_agreement_load(const char *path, struct repat_agreement **out,
    char *errbuf)
{
	char inner[REPAT_ERRBUF_LEN];
	uint8_t *buf;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = repat_file_read(path, REPAT_MAX_CONFIG, &buf, &len,
	    errbuf)) != 0)
		return rc;
	if ((rc = repat_agreement_parse(buf, len, out, inner)) != 0)
		repat_errf(errbuf, rc, "%s: %s", path, inner);
	free(buf);
	return rc;
}

void
repat_agreement_free(struct repat_agreement **ap)
{
	struct repat_agreement *a;
	size_t i;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	free(a->title);
	free(a->legal_reference);
	free(a->focal);
	free(a->flows);
	free(a->deadlines);
	for (i = 0; i < a->ncrossings; i++)
		free(a->crossings[i].name);
	free(a->crossings);
	free(a);
	*ap = NULL;
}

bool
repat_agreement_in_force(const struct repat_agreement *a, uint64_t now_ms)
{
	return now_ms >= a->in_force_from_ms &&
	    (a->in_force_until_ms == 0 || now_ms < a->in_force_until_ms);
}

bool
repat_agreement_has_party(const struct repat_agreement *a,
    const char *country)
{
	size_t i;

	for (i = 0; i < a->nparties; i++)
		if (strcmp(a->parties[i], country) == 0)
			return true;
	return false;
}

bool
repat_agreement_names(const struct repat_agreement *a, const char *agent_id,
    int role)
{
	size_t i;

	for (i = 0; i < a->nfocal; i++)
		if ((role == 0 || a->focal[i].role == role) &&
		    strcmp(a->focal[i].agent_id, agent_id) == 0)
			return true;
	return false;
}

const struct repat_deadline_rule *
repat_agreement_deadline(const struct repat_agreement *a, int request_type)
{
	size_t i;

	for (i = 0; i < a->ndeadlines; i++)
		if (a->deadlines[i].request_type == request_type)
			return &a->deadlines[i];
	return NULL;
}

/* ------------------------------------------------------------- signatures */

/*
 * The signed body (docs/agreements.md "Signature scheme"):
 *   sha256(file) [32] || u8 len || id || party [2] || u8 len || signer ||
 *   signed_at_ms [8, big-endian]
 */
static size_t
sig_body(uint8_t out[SIG_BODY_MAX], const uint8_t sha[REPAT_HASH_LEN],
    const char *id, const char *party, const char *signer, uint64_t at)
{
	size_t n = 0, l;
	int i;

	memcpy(out, sha, REPAT_HASH_LEN);
	n = REPAT_HASH_LEN;
	l = strlen(id);
	out[n++] = (uint8_t)l;
	memcpy(out + n, id, l);
	n += l;
	memcpy(out + n, party, 2);
	n += 2;
	l = strlen(signer);
	out[n++] = (uint8_t)l;
	memcpy(out + n, signer, l);
	n += l;
	for (i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(at >> (8 * i));
	return n;
}

static char *
b64_encode(const uint8_t *in, size_t n)
{
	char *out = repat_xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* Strict base64 (no whitespace); *out is the caller's. */
static int
b64_decode(const char *s, size_t max, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s), pad = 0;
	uint8_t *buf;
	int r;

	*out = NULL;
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > max + 2)
		return REPAT_EINVAL;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	buf = repat_xmalloc(n / 4 * 3 + 1);
	r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r != n / 4 * 3 || (size_t)r - pad > max) {
		free(buf);
		return REPAT_EINVAL;
	}
	*out = buf;
	*outlen = (size_t)r - pad;
	return 0;
}

static bool
names_focal(const struct repat_agreement *a, const char *cc, const char *id)
{
	size_t i;

	for (i = 0; i < a->nfocal; i++)
		if (a->focal[i].role == REPAT__ROLE__ROLE_FOCAL_POINT &&
		    strcmp(a->focal[i].country, cc) == 0 &&
		    strcmp(a->focal[i].agent_id, id) == 0)
			return true;
	return false;
}

static int
write_sig(const char *path, const struct repat_agreement *a,
    const struct repat_keystore *ks, uint64_t now_ms, char *errbuf)
{
	uint8_t body[SIG_BODY_MAX], sig[REPAT_SIG_LEN], *der = NULL;
	char hex[2 * REPAT_HASH_LEN + 1], *b64cert, *b64sig, *text, *sigpath;
	size_t blen, dlen;
	json_t *o;
	int rc;

	blen = sig_body(body, a->sha256, a->id, ks->id.country,
	    ks->id.agent_id, now_ms);
	if ((rc = repat_sign(ks->sign_key, REPAT_PURPOSE_AGREEMENT_SIG, body,
	    blen, sig)) != 0)
		return repat_err_openssl(errbuf, rc);
	if ((rc = repat_cert_to_der(ks->sign_cert, &der, &dlen)) != 0)
		return repat_errf(errbuf, rc, "cannot encode the signing "
		    "certificate");
	b64cert = b64_encode(der, dlen);
	b64sig = b64_encode(sig, sizeof(sig));
	free(der);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:[s], s:s}",
	    "version", 1, "agreement_id", a->id, "party", ks->id.country,
	    "file_sha256", repat_hex(a->sha256, REPAT_HASH_LEN, hex),
	    "signer", ks->id.agent_id, "signed_at_ms", (json_int_t)now_ms,
	    "certificates", b64cert, "signature", b64sig);
	free(b64cert);
	free(b64sig);
	if (o == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "cannot build the "
		    "signature file");
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "cannot build the "
		    "signature file");
	sigpath = repat_xasprintf("%s.sig.%s", path, ks->id.country);
	rc = repat_file_write(sigpath, text, strlen(text), 0644, errbuf);
	free(sigpath);
	free(text);
	return rc;
}

int
repat_agreement_sign(const char *path, const struct repat_keystore *ks,
    uint64_t now_ms, char *errbuf)
{
	struct repat_agreement *a;
	int rc;

	if (ks->sign_key == NULL || ks->sign_cert == NULL)
		return repat_errf(errbuf, REPAT_EINVAL, "no signing key "
		    "loaded");
	if ((rc = repat_agreement_load(path, &a, errbuf)) != 0)
		return rc;
	if (!repat_agreement_has_party(a, ks->id.country))
		rc = repat_errf(errbuf, REPAT_EAGREEMENT, "%s: %s is not a "
		    "party to %s", path, ks->id.country, a->id);
	else if (ks->id.role != REPAT__ROLE__ROLE_FOCAL_POINT ||
	    !names_focal(a, ks->id.country, ks->id.agent_id))
		rc = repat_errf(errbuf, REPAT_EAGREEMENT, "%s: %s is not named "
		    "as a focal_point of %s in %s; only they sign for %s", path,
		    ks->id.agent_id, ks->id.country, a->id, ks->id.country);
	else
		rc = write_sig(path, a, ks, now_ms, errbuf);
	repat_agreement_free(&a);
	return rc;
}

/* The JSON fields of one signature file, checked for shape. */
struct sigfile {
	const char *id;
	const char *party;
	const char *sha_hex;
	const char *signer;
	uint64_t at;
	json_t *certs;
	const char *sig;
};

static int
parse_sigfile(json_t *o, struct sigfile *s, char *errbuf)
{
	static const char *const keys[] = { "version", "agreement_id", "party",
	    "file_sha256", "signer", "signed_at_ms", "certificates",
	    "signature", NULL };
	json_t *v;
	int rc;

	if (!json_is_object(o))
		return repat_errf(errbuf, REPAT_EINVAL, "not a JSON object");
	if ((rc = check_keys(o, "signature file", keys, errbuf)) != 0)
		return rc;
	v = json_object_get(o, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return repat_errf(errbuf, REPAT_EINVAL, "unsupported version");
	if ((rc = get_string(o, "agreement_id", true, REPAT_AGREEMENT_MAX_ID,
	    &s->id, errbuf)) != 0 ||
	    (rc = get_string(o, "party", true, 2, &s->party, errbuf)) != 0 ||
	    (rc = get_string(o, "file_sha256", true, 64, &s->sha_hex,
	    errbuf)) != 0 ||
	    (rc = get_string(o, "signer", true, REPAT_MAX_AGENT_ID, &s->signer,
	    errbuf)) != 0 ||
	    (rc = get_string(o, "signature", true, 200, &s->sig, errbuf)) != 0)
		return rc;
	v = json_object_get(o, "signed_at_ms");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return repat_errf(errbuf, REPAT_EINVAL, "\"signed_at_ms\" must "
		    "be a time in ms");
	s->at = (uint64_t)json_integer_value(v);
	s->certs = json_object_get(o, "certificates");
	if (!json_is_array(s->certs) || json_array_size(s->certs) < 1 ||
	    json_array_size(s->certs) > REPAT_MAX_CERTS ||
	    !json_is_string(json_array_get(s->certs, 0)))
		return repat_errf(errbuf, REPAT_EINVAL, "\"certificates\" must "
		    "list 1 to %d base64 DER certificates", REPAT_MAX_CERTS);
	return 0;
}

/* Verifies the signer's certificate and the signature of a parsed file. */
static int
verify_sigfile(const struct repat_agreement *a, const struct sigfile *s,
    repat_trust_t *trust, char *errbuf)
{
	struct repat_identity id;
	uint8_t body[SIG_BODY_MAX], *der = NULL, *sig = NULL;
	size_t dlen, slen, blen;
	X509 *cert = NULL;
	int rc;

	if (b64_decode(json_string_value(json_array_get(s->certs, 0)),
	    REPAT_MAX_CERT, &der, &dlen) != 0 ||
	    repat_cert_from_der(der, dlen, &cert) != 0) {
		rc = repat_errf(errbuf, REPAT_ECERT, "the signer certificate "
		    "does not decode");
		goto done;
	}
	if ((rc = repat_trust_verify(trust, cert, s->at, &id, errbuf)) != 0)
		goto done;
	if (strcmp(id.agent_id, s->signer) != 0 ||
	    strcmp(id.country, s->party) != 0) {
		rc = repat_errf(errbuf, REPAT_ECERT, "the certificate is %s's, "
		    "not the signer %s's", id.agent_id, s->signer);
		goto done;
	}
	if (id.role != REPAT__ROLE__ROLE_FOCAL_POINT ||
	    !names_focal(a, s->party, s->signer)) {
		rc = repat_errf(errbuf, REPAT_EAGREEMENT, "%s is not named as "
		    "a focal_point of %s in the agreement", s->signer,
		    s->party);
		goto done;
	}
	if (b64_decode(s->sig, REPAT_SIG_LEN, &sig, &slen) != 0) {
		rc = repat_errf(errbuf, REPAT_ESIG, "the signature does not "
		    "decode");
		goto done;
	}
	blen = sig_body(body, a->sha256, a->id, s->party, s->signer, s->at);
	if (repat_verify(X509_get0_pubkey(cert), REPAT_PURPOSE_AGREEMENT_SIG,
	    body, blen, sig, slen) != 0) {
		rc = repat_errf(errbuf, REPAT_ESIG, "the signature does not "
		    "verify with %s's certificate", s->signer);
		goto done;
	}
	rc = 0;
done:
	free(der);
	free(sig);
	X509_free(cert);
	return rc;
}

static void
check_party(const struct repat_agreement *a, const char *path,
    repat_trust_t *trust, uint64_t now_ms, struct repat_party_status *ps)
{
	char hex[2 * REPAT_HASH_LEN + 1], *sigpath;
	struct sigfile s;
	json_error_t jerr;
	json_t *o = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	ps->state = REPAT_SIG_INVALID;
	sigpath = repat_xasprintf("%s.sig.%s", path, ps->country);
	rc = repat_file_read(sigpath, REPAT_AGREEMENT_SIG_MAX, &buf, &len,
	    ps->reason);
	free(sigpath);
	if (rc == REPAT_ENOENT) {
		ps->state = REPAT_SIG_MISSING;
		snprintf(ps->reason, sizeof(ps->reason), "%s has not signed "
		    "(no %s.sig.%s)", ps->country, path, ps->country);
		return;
	}
	if (rc != 0)
		return;
	o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (o == NULL) {
		snprintf(ps->reason, sizeof(ps->reason), "signature file: line "
		    "%d: %s", jerr.line, jerr.text);
		return;
	}
	memset(&s, 0, sizeof(s));
	if (parse_sigfile(o, &s, ps->reason) != 0)
		goto done;
	snprintf(ps->signer, sizeof(ps->signer), "%s", s.signer);
	ps->signed_at_ms = s.at;
	if (strcmp(s.id, a->id) != 0 || strcmp(s.party, ps->country) != 0) {
		snprintf(ps->reason, sizeof(ps->reason), "the signature is for "
		    "%s by %s, not for %s by %s", s.id, s.party, a->id,
		    ps->country);
		goto done;
	}
	repat_hex(a->sha256, REPAT_HASH_LEN, hex);
	if (strcmp(s.sha_hex, hex) != 0) {
		snprintf(ps->reason, sizeof(ps->reason), "the file was changed "
		    "after %s signed it (SHA-256 differs)", ps->country);
		goto done;
	}
	if (s.at > now_ms + REPAT_AGREEMENT_SKEW_MS) {
		snprintf(ps->reason, sizeof(ps->reason), "the signing time is "
		    "in the future");
		goto done;
	}
	if (verify_sigfile(a, &s, trust, ps->reason) != 0)
		goto done;
	ps->state = REPAT_SIG_VALID;
	ps->reason[0] = '\0';
done:
	json_decref(o);
}

/* Checks path; on full success and keep != NULL hands over the parse. */
static int
check_file(const char *path, repat_trust_t *trust, uint64_t now_ms,
    struct repat_agreement_status *st, struct repat_agreement **keep)
{
	struct repat_agreement *a;
	size_t i;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = repat_agreement_load(path, &a, st->reason)) != 0)
		return rc;
	snprintf(st->id, sizeof(st->id), "%s", a->id);
	st->kind = a->kind;
	st->nparties = a->nparties;
	st->in_force = repat_agreement_in_force(a, now_ms);
	st->in_force_from_ms = a->in_force_from_ms;
	st->in_force_until_ms = a->in_force_until_ms;
	st->all_signed = true;
	for (i = 0; i < a->nparties; i++) {
		memcpy(st->parties[i].country, a->parties[i], 3);
		check_party(a, path, trust, now_ms, &st->parties[i]);
		if (st->parties[i].state != REPAT_SIG_VALID)
			st->all_signed = false;
	}
	if (!st->all_signed) {
		repat_agreement_free(&a);
		return REPAT_EAGREEMENT;
	}
	if (keep != NULL)
		*keep = a;
	else
		repat_agreement_free(&a);
	return 0;
}

int
repat_agreement_check(const char *path, repat_trust_t *trust,
    uint64_t now_ms, struct repat_agreement_status *st)
{
	return check_file(path, trust, now_ms, st, NULL);
}

/* ---------------------------------------------------------------- sets */

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool
is_json_name(const char *n)
{
	size_t l = strlen(n);

	return l > 5 && n[0] != '.' && strcmp(n + l - 5, ".json") == 0;
}

/* The first refusal reason of a status, as one sentence. */
static void
refusal_reason(const struct repat_agreement_status *st, char *out)
{
	size_t i;

	if (st->id[0] == '\0') {
		snprintf(out, REPAT_ERRBUF_LEN, "%s", st->reason);
		return;
	}
	for (i = 0; i < st->nparties; i++)
		if (st->parties[i].state != REPAT_SIG_VALID) {
			snprintf(out, REPAT_ERRBUF_LEN, "%s: not signed by "
			    "every party: %s: %s", st->id,
			    st->parties[i].country, st->parties[i].reason);
			return;
		}
	snprintf(out, REPAT_ERRBUF_LEN, "%s", st->reason);
}

repat_agreements_t *
repat_agreements_load(const char *dir, repat_trust_t *trust, uint64_t now_ms,
    repat_agreement_refused_fn refused, void *arg, char *errbuf)
{
	struct repat_agreement_status st;
	struct repat_agreement *a;
	char reason[REPAT_ERRBUF_LEN], **names = NULL, *path;
	repat_agreements_t *set;
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;
	int rc;

	if ((d = opendir(dir)) == NULL) {
		repat_errf(errbuf, REPAT_EIO, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_json_name(de->d_name))
			continue;
		names = repat_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = repat_xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	set = repat_xcalloc(1, sizeof(*set));
	set->a = repat_xcalloc(n + 1, sizeof(*set->a));
	for (i = 0; i < n; i++) {
		path = repat_xasprintf("%s/%s", dir, names[i]);
		a = NULL;
		rc = check_file(path, trust, now_ms, &st, &a);
		if (rc == 0 && repat_agreements_find(set, a->id) != NULL) {
			rc = REPAT_EEXIST;
			snprintf(reason, sizeof(reason), "%s: another file "
			    "already holds agreement %s", names[i], a->id);
			repat_agreement_free(&a);
		} else if (rc != 0) {
			refusal_reason(&st, reason);
		}
		if (rc == 0)
			set->a[set->n++] = a;
		else if (refused != NULL)
			refused(path, rc, reason, arg);
		free(path);
		free(names[i]);
	}
	free(names);
	return set;
}

repat_agreements_t *
repat_agreements_from(struct repat_agreement **as, size_t n)
{
	repat_agreements_t *set = repat_xcalloc(1, sizeof(*set));
	size_t i;

	set->a = repat_xcalloc(n + 1, sizeof(*set->a));
	for (i = 0; i < n; i++) {
		set->a[set->n++] = as[i];
		as[i] = NULL;
	}
	return set;
}

void
repat_agreements_destroy(repat_agreements_t **setp)
{
	repat_agreements_t *set;
	size_t i;

	if (setp == NULL || (set = *setp) == NULL)
		return;
	for (i = 0; i < set->n; i++)
		repat_agreement_free(&set->a[i]);
	free(set->a);
	free(set);
	*setp = NULL;
}

size_t
repat_agreements_count(const repat_agreements_t *set)
{
	return set->n;
}

const struct repat_agreement *
repat_agreements_get(const repat_agreements_t *set, size_t i)
{
	return i < set->n ? set->a[i] : NULL;
}

const struct repat_agreement *
repat_agreements_find(const repat_agreements_t *set, const char *id)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->a[i]->id, id) == 0)
			return set->a[i];
	return NULL;
}

bool
repat_agreements_superseded(const repat_agreements_t *set,
    const struct repat_agreement *a, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->a[i] != a &&
		    strcmp(set->a[i]->supersedes, a->id) == 0 &&
		    repat_agreement_in_force(set->a[i], now_ms))
			return true;
	return false;
}

/* ---------------------------------------------------------- authorization */

static bool
flow_allowed(const struct repat_agreement *a, const struct repat_route *r)
{
	size_t i;

	for (i = 0; i < a->nflows; i++) {
		const struct repat_flow *f = &a->flows[i];

		if (f->type == r->type && f->from_role == r->sender->role &&
		    f->to_role == r->recipient->role &&
		    (f->side == REPAT_SIDE_ANY ||
		    r->sender_side == REPAT_SIDE_ANY ||
		    f->side == r->sender_side))
			return true;
	}
	return false;
}

/*
 * The refusal of one agreement in force that binds the case's countries,
 * or 0 when it authorizes the route.
 */
static int
judge(const struct repat_agreement *a, const struct repat_route *r,
    char *reason)
{
	const char *tname = repat_message_type_name(r->type);
	const char *sr = repat_role_name(r->sender->role);
	const char *rr = repat_role_name(r->recipient->role);

	if (!repat_agreement_names(a, r->sender->agent_id, r->sender->role)) {
		repat_errf(reason, 0, "%s is not named as %s under agreement "
		    "%s", r->sender->agent_id, sr ? sr : "?", a->id);
		return REPAT__REJECT_CODE__REJECT_ROLE_NOT_ALLOWED;
	}
	if (!repat_agreement_names(a, r->recipient->agent_id,
	    r->recipient->role)) {
		repat_errf(reason, 0, "%s is not a registered %s under "
		    "agreement %s", r->recipient->agent_id, rr ? rr : "?",
		    a->id);
		return REPAT__REJECT_CODE__REJECT_UNKNOWN_RECIPIENT;
	}
	if (!flow_allowed(a, r)) {
		repat_errf(reason, 0, "agreement %s does not allow %s from a "
		    "%s to a %s%s", a->id, tname ? tname : "?", sr ? sr : "?",
		    rr ? rr : "?", r->sender_side == REPAT_SIDE_ORIGIN ?
		    " from the country of origin" : r->sender_side ==
		    REPAT_SIDE_DESTINATION ? " from the destination country" :
		    "");
		return REPAT__REJECT_CODE__REJECT_ROLE_NOT_ALLOWED;
	}
	return 0;
}

int
repat_agreements_authorize(const repat_agreements_t *set,
    const struct repat_route *r, uint64_t now_ms,
    const struct repat_agreement **agreement, int *code, char *reason)
{
	const char *c0, *c1;
	const struct repat_agreement *a;
	char tmp[REPAT_ERRBUF_LEN];
	bool want = r->agreement_id != NULL && r->agreement_id[0] != '\0';
	bool judged = false;
	size_t i;
	int c;

	*agreement = NULL;
	*code = REPAT__REJECT_CODE__REJECT_NO_AGREEMENT;
	c0 = r->case_countries != NULL ? r->case_countries[0] :
	    r->sender->country;
	c1 = r->case_countries != NULL ? r->case_countries[1] :
	    r->recipient->country;
	repat_errf(reason, 0, "no agreement in force binds %s and %s%s%s", c0,
	    c1, want ? " under the id " : "", want ? r->agreement_id : "");
	if (strcmp(c0, c1) == 0)
		return REPAT_EREFUSED;
	for (i = 0; i < set->n; i++) {
		a = set->a[i];
		if (a->kind != REPAT_AGREEMENT_BILATERAL ||
		    !repat_agreement_has_party(a, c0) ||
		    !repat_agreement_has_party(a, c1) ||
		    (want && strcmp(a->id, r->agreement_id) != 0))
			continue;
		if (!repat_agreement_in_force(a, now_ms)) {
			if (!judged)
				repat_errf(reason, 0, "agreement %s is %s in "
				    "force", a->id,
				    now_ms < a->in_force_from_ms ? "not yet" :
				    "no longer");
			continue;
		}
		if (repat_agreements_superseded(set, a, now_ms)) {
			if (!judged)
				repat_errf(reason, 0, "agreement %s is "
				    "superseded by a revised agreement in "
				    "force", a->id);
			continue;
		}
		if ((c = judge(a, r, tmp)) == 0) {
			*agreement = a;
			*code = 0;
			reason[0] = '\0';
			return 0;
		}
		/* Report the first refusal; a later one may still allow. */
		if (!judged) {
			judged = true;
			*code = c;
			snprintf(reason, REPAT_ERRBUF_LEN, "%s", tmp);
		}
	}
	return REPAT_EREFUSED;
}

static const char *
focal_in(const struct repat_agreement *a, const char *country, int role)
{
	size_t i;

	for (i = 0; i < a->nfocal; i++)
		if (a->focal[i].role == role &&
		    strcmp(a->focal[i].country, country) == 0)
			return a->focal[i].agent_id;
	return NULL;
}

const char *
repat_agreements_focal_point(const repat_agreements_t *set,
    const char *country, int role, const char *peer, uint64_t now_ms)
{
	const struct repat_agreement *a;
	const char *id;
	int pass;
	size_t i;

	for (pass = peer != NULL ? 0 : 1; pass < 2; pass++) {
		for (i = 0; i < set->n; i++) {
			a = set->a[i];
			if (a->kind != REPAT_AGREEMENT_BILATERAL ||
			    !repat_agreement_has_party(a, country) ||
			    (pass == 0 &&
			    !repat_agreement_has_party(a, peer)) ||
			    !repat_agreement_in_force(a, now_ms) ||
			    repat_agreements_superseded(set, a, now_ms))
				continue;
			if ((id = focal_in(a, country, role)) != NULL)
				return id;
		}
	}
	return NULL;
}
