/*
 * form_check.c: the format checks of single form values: UTF-8, ISO 3166-1
 * country codes, reduced-precision ISO 8601 dates, date-times, case
 * references, agent ids, language tags, phone numbers, codes, and the
 * Zawgyi heuristic for Burmese text.
 *
 * A field's format follows from its name (proto/forms.proto header), so one
 * generic walk checks all fifteen forms and a new field gets its check by
 * being named after the convention.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_int.h"
#include "repat/limits.h"

/*
 * The officially assigned ISO 3166-1 alpha-2 codes (249, as published by the
 * ISO 3166 Maintenance Agency). Reserved and user-assigned codes (XK, EU,
 * UK, ...) are refused: a form must name a country everybody agrees on.
 */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ "
    "OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA "
    "RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU "
    "WF WS "
    "YE YT "
    "ZA ZM ZW ";

bool
form_country_valid(const char *cc)
{
	size_t i;

	if (cc == NULL || strlen(cc) != 2 || !isupper((unsigned char)cc[0]) ||
	    !isupper((unsigned char)cc[1]))
		return false;
	for (i = 0; countries[i] != '\0'; i += 3)
		if (countries[i] == cc[0] && countries[i + 1] == cc[1])
			return true;
	return false;
}

/*
 * Decodes one UTF-8 sequence at s[0..len); returns its length and the code
 * point, or 0 when the sequence is invalid (overlong, surrogate, beyond
 * U+10FFFF, truncated).
 */
static size_t
utf8_next(const unsigned char *s, size_t len, unsigned long *cp)
{
	size_t n, i;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

size_t
form_utf8_bad_offset(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i, n;

	for (i = 0; i < len; i += n)
		if ((n = utf8_next(p + i, len - i, &cp)) == 0)
			return i;
	return len;
}

bool
form_utf8_valid(const char *s, size_t len)
{
	return form_utf8_bad_offset(s, len) == len;
}

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* "YYYY", "YYYY-MM" or "YYYY-MM-DD" at the start of s, n bytes long. */
static bool
date_prefix(const char *s, size_t n, int *y, int *m, int *d)
{
	*y = *m = *d = 0;
	if ((n != 4 && n != 7 && n != 10) || !all_digits(s, 4))
		return false;
	*y = num(s, 4);
	if (*y < 1900 || *y > 2199)
		return false;
	if (n == 4)
		return true;
	if (s[4] != '-' || !all_digits(s + 5, 2))
		return false;
	*m = num(s + 5, 2);
	if (*m < 1 || *m > 12)
		return false;
	if (n == 7)
		return true;
	if (s[7] != '-' || !all_digits(s + 8, 2))
		return false;
	*d = num(s + 8, 2);
	return *d >= 1 && *d <= days_in_month(*y, *m);
}

bool
form_date_parse(const char *s, int *y, int *m, int *d)
{
	return date_prefix(s, strlen(s), y, m, d);
}

/* YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM): a moment needs its zone. */
bool
form_datetime_valid(const char *s)
{
	size_t n = strlen(s), t;
	int y, m, d;

	if (n < 17 || !date_prefix(s, 10, &y, &m, &d) || s[10] != 'T')
		return false;
	if (!all_digits(s + 11, 2) || s[13] != ':' || !all_digits(s + 14, 2) ||
	    num(s + 11, 2) > 23 || num(s + 14, 2) > 59)
		return false;
	t = 16;
	if (s[t] == ':') {
		if (n < t + 3 || !all_digits(s + t + 1, 2) ||
		    num(s + t + 1, 2) > 59)
			return false;
		t += 3;
	}
	if (s[t] == 'Z')
		return s[t + 1] == '\0';
	if (s[t] != '+' && s[t] != '-')
		return false;
	return n == t + 6 && all_digits(s + t + 1, 2) && s[t + 3] == ':' &&
	    all_digits(s + t + 4, 2) && num(s + t + 1, 2) <= 14 &&
	    num(s + t + 4, 2) <= 59;
}

bool
form_case_ref_valid(const char *s)
{
	char cc[3];

	if (strlen(s) != 14 || s[2] != '-' || s[7] != '-' ||
	    !all_digits(s + 3, 4) || !all_digits(s + 8, 6))
		return false;
	memcpy(cc, s, 2);
	cc[2] = '\0';
	return form_country_valid(cc);
}

/* CC.ORG[.UNIT], each part [A-Z0-9_-]. */
bool
form_agent_id_valid(const char *s)
{
	char cc[3];
	size_t i, parts = 1, partlen = 0;

	if (strlen(s) > REPAT_MAX_AGENT_ID || strlen(s) < 4 || s[2] != '.')
		return false;
	memcpy(cc, s, 2);
	cc[2] = '\0';
	if (!form_country_valid(cc))
		return false;
	for (i = 3; s[i] != '\0'; i++) {
		if (s[i] == '.') {
			if (partlen == 0)
				return false;
			parts++;
			partlen = 0;
		} else if (isupper((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-')
			partlen++;
		else
			return false;
	}
	return partlen > 0 && parts <= 2;
}

/* A BCP 47 tag, simplified: 2-3 lowercase letters, then -subtags. */
bool
form_language_valid(const char *s)
{
	size_t i = 0, sub;

	while (islower((unsigned char)s[i]))
		i++;
	if (i < 2 || i > 3)
		return false;
	while (s[i] == '-') {
		i++;
		for (sub = 0; isalnum((unsigned char)s[i]); sub++)
			i++;
		if (sub < 2 || sub > 8)
			return false;
	}
	return s[i] == '\0';
}

bool
form_phone_valid(const char *s)
{
	size_t i, digits = 0;

	if (strlen(s) > 32)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (s[i] == '+' && i == 0)
			continue;
		else if (strchr(" -()", s[i]) == NULL)
			return false;
	}
	return digits >= 6 && digits <= 15;
}

bool
form_code_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isupper((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return i >= 2 && i <= 32;
}

static bool
myanmar(unsigned long cp)
{
	return cp >= 0x1000 && cp <= 0x109f;
}

static bool
myanmar_consonant(unsigned long cp)
{
	return cp >= 0x1000 && cp <= 0x1021;
}

/*
 * Zawgyi is the legacy Burmese font encoding that reuses Myanmar code
 * points in visual order. Two signs that cannot occur in well-formed
 * Unicode Burmese:
 *  - U+1031 (vowel sign E) or U+103B (in Zawgyi: medial RA) at the start of
 *    a word: Unicode stores them after their consonant, Zawgyi before it;
 *  - U+1039 not followed by a consonant: in Unicode it stacks the next
 *    consonant; Zawgyi uses it as the asat (killer) at a syllable's end.
 * Only a warning: a person should look, the text is still accepted.
 */
bool
form_looks_zawgyi(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i, n;
	unsigned long cp, prev = 0, next;

	for (i = 0; i < len; i += n, prev = cp) {
		if ((n = utf8_next(p + i, len - i, &cp)) == 0)
			return false;
		if ((cp == 0x1031 || cp == 0x103b) && !myanmar(prev))
			return true;
		if (cp != 0x1039)
			continue;
		if (i + n >= len || utf8_next(p + i + n, len - i - n,
		    &next) == 0 || !myanmar_consonant(next))
			return true;
	}
	return false;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum form_format
form_format_of(const char *name)
{
	if (ends_with(name, "_on") || ends_with(name, "_date") ||
	    strcmp(name, "date_of_birth") == 0 || ends_with(name, "_until") ||
	    ends_with(name, "_due"))
		return FORM_FMT_DATE;
	if (ends_with(name, "_at"))
		return FORM_FMT_DATETIME;
	if (ends_with(name, "country") || ends_with(name, "nationality"))
		return FORM_FMT_COUNTRY;
	if (ends_with(name, "case_refs"))
		return FORM_FMT_CASE_REF;
	if (ends_with(name, "_agency_id"))
		return FORM_FMT_AGENT_ID;
	if (ends_with(name, "language") || strcmp(name, "languages") == 0)
		return FORM_FMT_LANGUAGE;
	if (strcmp(name, "phone") == 0)
		return FORM_FMT_PHONE;
	if (ends_with(name, "_code"))
		return FORM_FMT_CODE;
	return FORM_FMT_TEXT;
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
			return true;
	return false;
}

void
form_check_string(struct repat_form_report *r, const char *path,
    const char *s, enum form_format fmt)
{
	size_t len = strlen(s);
	int y, m, d;

	if (len > REPAT_MAX_STRING) {
		form_problem(r, false, path, "too long: %zu bytes, at most %d",
		    len, REPAT_MAX_STRING);
		return;
	}
	if (!form_utf8_valid(s, len)) {
		form_problem(r, false, path, "not valid UTF-8");
		return;
	}
	if (has_control(s)) {
		form_problem(r, false, path, "control character in text");
		return;
	}
	if (len == 0) {
		form_problem(r, false, path, "empty; leave the field out "
		    "instead");
		return;
	}
	switch (fmt) {
	case FORM_FMT_TEXT:
		if (form_looks_zawgyi(s))
			form_problem(r, true, path, "Burmese text looks like "
			    "Zawgyi, not Unicode; convert it");
		break;
	case FORM_FMT_DATE:
		if (!form_date_parse(s, &y, &m, &d))
			form_problem(r, false, path, "bad date \"%.40s\": "
			    "expected YYYY, YYYY-MM or YYYY-MM-DD", s);
		break;
	case FORM_FMT_DATETIME:
		if (!form_datetime_valid(s))
			form_problem(r, false, path, "bad date-time \"%.40s\": "
			    "expected YYYY-MM-DDTHH:MM[:SS] with Z or +HH:MM",
			    s);
		break;
	case FORM_FMT_COUNTRY:
		if (!form_country_valid(s))
			form_problem(r, false, path, "bad country code "
			    "\"%.40s\": expected ISO 3166-1 alpha-2 (TH, MM, "
			    "KH, LA, VN, CN, ...)", s);
		break;
	case FORM_FMT_CASE_REF:
		if (!form_case_ref_valid(s))
			form_problem(r, false, path, "bad case reference "
			    "\"%.40s\": expected CC-YYYY-NNNNNN", s);
		break;
	case FORM_FMT_AGENT_ID:
		if (!form_agent_id_valid(s))
			form_problem(r, false, path, "bad agent id \"%.40s\": "
			    "expected CC.ORG[.UNIT]", s);
		break;
	case FORM_FMT_LANGUAGE:
		if (!form_language_valid(s))
			form_problem(r, false, path, "bad language tag "
			    "\"%.40s\": expected a BCP 47 tag (my, th, km, "
			    "lo, vi, zh)", s);
		break;
	case FORM_FMT_PHONE:
		if (!form_phone_valid(s))
			form_problem(r, false, path, "bad phone number "
			    "\"%.40s\": expected digits with + - ( ) and "
			    "spaces, 6 to 15 digits", s);
		break;
	case FORM_FMT_CODE:
		if (!form_code_valid(s))
			form_problem(r, false, path, "bad code \"%.40s\": "
			    "expected 2 to 32 of A-Z, 0-9 and -", s);
		break;
	}
}
