/*
 * form_int.h: what lib/form_json.c, lib/form_check.c and lib/form_rules.c
 * share and nobody else needs: problem reporting, the format checks of
 * single values and the per-type rules. The public API is repat/form.h.
 */
#ifndef REPAT_FORM_INT_H
#define REPAT_FORM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "repat/form.h"

/* Adds an error (warning false) or a warning at path to report. */
void form_problem(struct repat_form_report *r, bool warning,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "base.name" or "name" when base is empty, into out. */
void form_path(char *out, size_t outlen, const char *base, const char *name);
/* "base[i]" into out. */
void form_path_index(char *out, size_t outlen, const char *base, size_t i);

/* form_check.c: one value at a time; true when well-formed. */
bool form_utf8_valid(const char *s, size_t len);
/* The offset of the first byte that is not valid UTF-8, or len. */
size_t form_utf8_bad_offset(const char *s, size_t len);
bool form_country_valid(const char *cc);
/* Reduced-precision ISO 8601 date; fills y, m, d (0 when absent). */
bool form_date_parse(const char *s, int *y, int *m, int *d);
bool form_datetime_valid(const char *s);
bool form_case_ref_valid(const char *s);
bool form_agent_id_valid(const char *s);
bool form_language_valid(const char *s);
bool form_phone_valid(const char *s);
bool form_code_valid(const char *s);
/* True when Burmese text in s looks like Zawgyi rather than Unicode. */
bool form_looks_zawgyi(const char *s);

/* The format a field's name promises (proto/forms.proto header). */
enum form_format {
	FORM_FMT_TEXT,
	FORM_FMT_DATE,
	FORM_FMT_DATETIME,
	FORM_FMT_COUNTRY,
	FORM_FMT_CASE_REF,
	FORM_FMT_AGENT_ID,
	FORM_FMT_LANGUAGE,
	FORM_FMT_PHONE,
	FORM_FMT_CODE
};
enum form_format form_format_of(const char *field_name);
/* Checks s against fmt, adding a problem at path when it fails. */
void form_check_string(struct repat_form_report *r, const char *path,
    const char *s, enum form_format fmt);

/* form_rules.c: the cross-field rules of type (1..15). */
void form_rules(int type, const ProtobufCMessage *form,
    struct repat_form_report *r, time_t now);
/* The type (1..15) whose form message desc is, or 0. */
int form_type_of(const ProtobufCMessageDescriptor *desc);

/*
 * Age in whole years on the date now of a reduced-precision birth date;
 * the youngest the person can be (a birth date of "2008" counts as
 * 2008-12-31). -1 when the date does not parse.
 */
int form_age_years(const char *date_of_birth, time_t now);

#endif
