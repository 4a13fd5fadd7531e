/*
 * form_json.c: case forms between JSON and protobuf-c structures, driven by
 * the message descriptors of proto/forms.proto (one mapper for all fifteen
 * types), and the generic validation walk every form gets.
 *
 * Three phases, each reporting problems with their JSON path:
 *  1. mapping: JSON types against field types, unknown keys, duplicate keys
 *     (jansson), enum words, missing required fields;
 *  2. the generic walk (also run on decoded payloads): unknown protobuf
 *     fields, lengths, counts, UTF-8, enum values, and the format each
 *     field's name promises (form_check.c);
 *  3. the cross-field rules of the type (form_rules.c), skipped when phase 1
 *     failed, since a half-mapped form would only yield confusing errors.
 *
 * Forms built here are allocated field by field with the system allocator,
 * exactly as protobuf-c's unpack does, so repat_msg_free() frees both.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "forms.pb-c.h"
#include "form_int.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/limits.h"
#include "repat/mem.h"

/* ------------------------------------------------------------ problems */

void
form_problem(struct repat_form_report *r, bool warning, const char *path,
    const char *fmt, ...)
{
	struct repat_form_problem *p;
	char msg[sizeof(p->message)];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One error per path: the first is the one worth fixing. */
	for (i = 0; i < r->n; i++) {
		p = &r->items[i];
		if (strcmp(p->path, path) != 0 || p->warning != warning)
			continue;
		if (!warning || strcmp(p->message, msg) == 0)
			return;
	}
	if (!warning)
		r->errors++;
	if (r->n == REPAT_FORM_MAX_PROBLEMS)
		return;
	p = &r->items[r->n++];
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->message, sizeof(p->message), "%s", msg);
	p->warning = warning;
}

/* Paths are for people; a path cut at the buffer's end still says where. */
static void
append(char *out, size_t outlen, const char *s)
{
	size_t used = strlen(out), n = strlen(s);

	if (used + 1 >= outlen)
		return;
	if (n > outlen - used - 1)
		n = outlen - used - 1;
	memcpy(out + used, s, n);
	out[used + n] = '\0';
}

void
form_path(char *out, size_t outlen, const char *base, const char *name)
{
	out[0] = '\0';
	append(out, outlen, base);
	if (base[0] != '\0')
		append(out, outlen, ".");
	append(out, outlen, name);
}

void
form_path_index(char *out, size_t outlen, const char *base, size_t i)
{
	char idx[32];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	out[0] = '\0';
	append(out, outlen, base);
	append(out, outlen, idx);
}

/* ---------------------------------------------------------- descriptors */

static const ProtobufCMessageDescriptor *const form_descs[] = {
	NULL,
	&repat__identification_notice__descriptor,
	&repat__case_referral__descriptor,
	&repat__nationality_verification_request__descriptor,
	&repat__nationality_verification_result__descriptor,
	&repat__family_tracing_request__descriptor,
	&repat__family_assessment_result__descriptor,
	&repat__legal_proceedings_update__descriptor,
	&repat__travel_document_notice__descriptor,
	&repat__repatriation_plan__descriptor,
	&repat__handover_schedule__descriptor,
	&repat__handover_record__descriptor,
	&repat__reception_report__descriptor,
	&repat__reintegration_followup__descriptor,
	&repat__consent_update__descriptor,
	&repat__case_closure__descriptor,
};

#define NTYPES ((int)(sizeof(form_descs) / sizeof(form_descs[0])) - 1)

const ProtobufCMessageDescriptor *
repat_form_descriptor(int type)
{
	if (type < 1 || type > NTYPES)
		return NULL;
	return form_descs[type];
}

int
form_type_of(const ProtobufCMessageDescriptor *desc)
{
	int t;

	for (t = 1; t <= NTYPES; t++)
		if (form_descs[t] == desc)
			return t;
	return 0;
}

/* --------------------------------------------------------- field access */

#define FIELD(m, fd)	((char *)(m) + (fd)->offset)
#define QUANT(m, fd)	((char *)(m) + (fd)->quantifier_offset)

static size_t
elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return sizeof(int32_t);
	}
}

static bool
is_pointer(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_STRING || t == PROTOBUF_C_TYPE_MESSAGE;
}

/* Whether an optional or required field holds a value. */
static bool
present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)QUANT(m, fd) > 0;
	if (is_pointer(fd->type))
		return *(void *const *)FIELD(m, fd) != NULL;
	if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	return *(const protobuf_c_boolean *)QUANT(m, fd) != 0;
}

static ProtobufCMessage *
msg_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = repat_xcalloc(1, d->sizeof_message);

	d->message_init(m);
	return m;
}

/* ----------------------------------------------------- JSON -> message */

static void from_object(ProtobufCMessage *m, json_t *obj, const char *path,
    struct repat_form_report *r);

static void
enum_words(const ProtobufCEnumDescriptor *ed, char *out, size_t outlen)
{
	char word[64];
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < ed->n_values && used + 1 < outlen; i++) {
		if (repat_enum_word(ed, ed->values[i].value, word,
		    sizeof(word)) == NULL)
			continue;
		used += (size_t)snprintf(out + used, outlen - used, "%s%s",
		    i ? ", " : "", word);
	}
}

static bool
integer_in_range(const ProtobufCFieldDescriptor *fd, json_int_t v)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		return v >= 0 && v <= (json_int_t)UINT32_MAX;
	case PROTOBUF_C_TYPE_INT32:
		return v >= INT32_MIN && v <= INT32_MAX;
	case PROTOBUF_C_TYPE_UINT64:
		return v >= 0;
	default:
		return true;
	}
}

/* One value of fd's type from v into dst. False (and a problem) if not. */
static bool
from_value(const ProtobufCFieldDescriptor *fd, json_t *v, void *dst,
    const char *path, struct repat_form_report *r)
{
	char words[160];
	json_int_t i;
	int e;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			break;
		*(char **)dst = repat_xstrdup(json_string_value(v));
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			break;
		*(protobuf_c_boolean *)dst = json_is_true(v);
		return true;
	case PROTOBUF_C_TYPE_ENUM:
		if (!json_is_string(v))
			break;
		e = repat_enum_parse(fd->descriptor, json_string_value(v));
		if (e < 0) {
			enum_words(fd->descriptor, words, sizeof(words));
			form_problem(r, false, path, "unknown value \"%.32s\": "
			    "expected one of %s", json_string_value(v), words);
			return false;
		}
		*(int *)dst = e;
		return true;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		if (!json_is_integer(v))
			break;
		i = json_integer_value(v);
		if (!integer_in_range(fd, i)) {
			form_problem(r, false, path, "number out of range");
			return false;
		}
		if (fd->type == PROTOBUF_C_TYPE_UINT64)
			*(uint64_t *)dst = (uint64_t)i;
		else if (fd->type == PROTOBUF_C_TYPE_INT64)
			*(int64_t *)dst = (int64_t)i;
		else if (fd->type == PROTOBUF_C_TYPE_UINT32)
			*(uint32_t *)dst = (uint32_t)i;
		else
			*(int32_t *)dst = (int32_t)i;
		return true;
	case PROTOBUF_C_TYPE_MESSAGE:
		if (!json_is_object(v))
			break;
		*(ProtobufCMessage **)dst = msg_new(fd->descriptor);
		from_object(*(ProtobufCMessage **)dst, v, path, r);
		return true;
	default:
		form_problem(r, false, path, "field type not supported in "
		    "forms");
		return false;
	}
	form_problem(r, false, path, "wrong JSON type: expected %s",
	    fd->type == PROTOBUF_C_TYPE_STRING ? "a string" :
	    fd->type == PROTOBUF_C_TYPE_BOOL ? "true or false" :
	    fd->type == PROTOBUF_C_TYPE_ENUM ? "a string (vocabulary word)" :
	    fd->type == PROTOBUF_C_TYPE_MESSAGE ? "an object" : "an integer");
	return false;
}

static void
from_array(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
    json_t *arr, const char *path, struct repat_form_report *r)
{
	size_t n = json_array_size(arr), i, sz = elem_size(fd->type), got = 0;
	char ipath[sizeof(r->items[0].path)];
	char *items;

	if (n > REPAT_MAX_REPEATED) {
		form_problem(r, false, path, "too many items: %zu, at most %d",
		    n, REPAT_MAX_REPEATED);
		return;
	}
	if (n == 0)
		return;
	items = repat_xcalloc(n, sz);
	for (i = 0; i < n; i++) {
		form_path_index(ipath, sizeof(ipath), path, i);
		if (json_is_null(json_array_get(arr, i)))
			form_problem(r, false, ipath, "null in a list");
		else if (from_value(fd, json_array_get(arr, i),
		    items + got * sz, ipath, r))
			got++;
	}
	*(size_t *)QUANT(m, fd) = got;
	*(void **)FIELD(m, fd) = items;
}

static void
from_object(ProtobufCMessage *m, json_t *obj, const char *path,
    struct repat_form_report *r)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *fd;
	char fpath[sizeof(r->items[0].path)];
	const char *key;
	json_t *v;
	unsigned i;

	json_object_foreach(obj, key, v) {
		form_path(fpath, sizeof(fpath), path, key);
		fd = protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (fd == NULL) {
			form_problem(r, false, fpath, "unknown field (not in "
			    "%s)", d->short_name);
			continue;
		}
		if (json_is_null(v)) {
			form_problem(r, false, fpath, "null is not a value; "
			    "leave the field out");
			continue;
		}
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			if (json_is_array(v))
				from_array(m, fd, v, fpath, r);
			else
				form_problem(r, false, fpath, "wrong JSON "
				    "type: expected an array");
			continue;
		}
		if (from_value(fd, v, FIELD(m, fd), fpath, r) &&
		    fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    !is_pointer(fd->type))
			*(protobuf_c_boolean *)QUANT(m, fd) = 1;
	}
	for (i = 0; i < d->n_fields; i++) {
		fd = &d->fields[i];
		if (fd->label != PROTOBUF_C_LABEL_REQUIRED ||
		    json_object_get(obj, fd->name) != NULL)
			continue;
		form_path(fpath, sizeof(fpath), path, fd->name);
		form_problem(r, false, fpath, "required field missing");
	}
}

/* ------------------------------------------------------ generic checks */

static void walk(const ProtobufCMessage *m, const char *path,
    struct repat_form_report *r);

static void
check_value(const ProtobufCFieldDescriptor *fd, const void *v,
    const char *path, struct repat_form_report *r)
{
	int e;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		form_check_string(r, path, *(char *const *)v,
		    form_format_of(fd->name));
		break;
	case PROTOBUF_C_TYPE_ENUM:
		e = *(const int *)v;
		if (protobuf_c_enum_descriptor_get_value(fd->descriptor,
		    e) == NULL)
			form_problem(r, false, path, "unknown %s value %d",
			    ((const ProtobufCEnumDescriptor *)
			    fd->descriptor)->short_name, e);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		walk(*(ProtobufCMessage *const *)v, path, r);
		break;
	default:
		break;
	}
}

static void
walk(const ProtobufCMessage *m, const char *path,
    struct repat_form_report *r)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *fd;
	char fpath[sizeof(r->items[0].path)];
	char ipath[sizeof(r->items[0].path)];
	size_t n, j, sz;
	unsigned i;

	/* Data minimisation: nothing outside the form's allow-list. */
	for (j = 0; j < m->n_unknown_fields; j++)
		form_problem(r, false, path, "unknown field number %u (not in "
		    "%s)", m->unknown_fields[j].tag, d->short_name);
	for (i = 0; i < d->n_fields; i++) {
		fd = &d->fields[i];
		form_path(fpath, sizeof(fpath), path, fd->name);
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			if (present(m, fd))
				check_value(fd, FIELD(m, fd), fpath, r);
			else if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
				form_problem(r, false, fpath,
				    "required field missing");
			continue;
		}
		n = *(const size_t *)QUANT(m, fd);
		if (n > REPAT_MAX_REPEATED) {
			form_problem(r, false, fpath, "too many items: %zu, at "
			    "most %d", n, REPAT_MAX_REPEATED);
			continue;
		}
		sz = elem_size(fd->type);
		for (j = 0; j < n; j++) {
			form_path_index(ipath, sizeof(ipath), fpath, j);
			check_value(fd, *(char *const *)FIELD(m, fd) + j * sz,
			    ipath, r);
		}
	}
}

/* ----------------------------------------------------- message -> JSON */

static json_t *to_object(const ProtobufCMessage *m);

static json_t *
to_value(const ProtobufCFieldDescriptor *fd, const void *v)
{
	char word[64];

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		return json_string(*(char *const *)v);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)v);
	case PROTOBUF_C_TYPE_ENUM:
		/* An unknown value stays visible as its number. */
		if (repat_enum_word(fd->descriptor, *(const int *)v, word,
		    sizeof(word)) == NULL)
			return json_integer(*(const int *)v);
		return json_string(word);
	case PROTOBUF_C_TYPE_MESSAGE:
		return to_object(*(ProtobufCMessage *const *)v);
	case PROTOBUF_C_TYPE_UINT32:
		return json_integer(*(const uint32_t *)v);
	case PROTOBUF_C_TYPE_INT64:
		return json_integer((json_int_t)*(const int64_t *)v);
	case PROTOBUF_C_TYPE_UINT64:
		/* Above INT64_MAX cannot be a JSON integer here; refuse it. */
		if (*(const uint64_t *)v > INT64_MAX)
			return NULL;
		return json_integer((json_int_t)*(const uint64_t *)v);
	default:
		return json_integer(*(const int32_t *)v);
	}
}

static json_t *
to_object(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *fd;
	json_t *obj = json_object(), *arr, *v;
	size_t n, j, sz;
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		fd = &d->fields[i];
		if (!present(m, fd))
			continue;
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			v = to_value(fd, FIELD(m, fd));
			/* NULL only for text that is not UTF-8: left out. */
			if (v != NULL)
				json_object_set_new(obj, fd->name, v);
			continue;
		}
		arr = json_array();
		n = *(const size_t *)QUANT(m, fd);
		sz = elem_size(fd->type);
		for (j = 0; j < n; j++) {
			v = to_value(fd, *(char *const *)FIELD(m, fd) + j * sz);
			if (v != NULL)
				json_array_append_new(arr, v);
		}
		json_object_set_new(obj, fd->name, arr);
	}
	return obj;
}

char *
repat_form_to_json(const ProtobufCMessage *form)
{
	json_t *obj = to_object(form);
	char *s, *out;
	size_t n;

	s = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (s == NULL)
		abort();	/* jansson fails here only out of memory */
	n = strlen(s);
	out = repat_xmalloc(n + 2);
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	free(s);
	return out;
}

/* --------------------------------------------------------------- API */

static int
finish(int type, const ProtobufCMessage *m, bool rules,
    struct repat_form_report *r)
{
	walk(m, "", r);
	if (rules)
		form_rules(type, m, r, time(NULL));
	return r->errors ? REPAT_EFORM : REPAT_OK;
}

int
repat_form_from_json(int type, const char *json, size_t len,
    ProtobufCMessage **form, struct repat_form_report *report)
{
	const ProtobufCMessageDescriptor *d = repat_form_descriptor(type);
	ProtobufCMessage *m;
	json_error_t err;
	json_t *root;
	int rc;

	memset(report, 0, sizeof(*report));
	*form = NULL;
	if (d == NULL) {
		form_problem(report, false, "", "unknown form type %d", type);
		return REPAT_EINVAL;
	}
	if (len > REPAT_MAX_FORM_JSON) {
		form_problem(report, false, "", "form too large: %zu bytes, at "
		    "most %d", len, REPAT_MAX_FORM_JSON);
		return REPAT_EFORM;
	}
	/*
	 * A UTF-8 byte-order mark, as Windows editors save one, says nothing
	 * JSON needs: skipped, not refused as "'[' or '{' expected".
	 */
	if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
		json += 3;
		len -= 3;
	}
	/* jansson would refuse it too, but without saying where. */
	if (!form_utf8_valid(json, len)) {
		form_problem(report, false, "", "not valid UTF-8 (near byte "
		    "%zu)", form_utf8_bad_offset(json, len));
		return REPAT_EFORM;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		form_problem(report, false, "", "invalid JSON at line %d, "
		    "column %d: %s", err.line, err.column, err.text);
		return REPAT_EFORM;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		form_problem(report, false, "", "a form is a JSON object");
		return REPAT_EFORM;
	}
	m = msg_new(d);
	from_object(m, root, "", report);
	json_decref(root);
	rc = finish(type, m, report->errors == 0, report);
	if (rc != REPAT_OK) {
		repat_msg_free(m);
		return rc;
	}
	*form = m;
	return REPAT_OK;
}

int
repat_form_validate(const ProtobufCMessage *form,
    struct repat_form_report *report)
{
	int type;

	memset(report, 0, sizeof(*report));
	type = form == NULL ? 0 : form_type_of(form->descriptor);
	if (type == 0) {
		form_problem(report, false, "", "not a case form");
		return REPAT_EINVAL;
	}
	return finish(type, form, true, report);
}

void
repat_form_encode(const ProtobufCMessage *form, uint8_t **out, size_t *len)
{
	repat_encode(form, out, len);
}

int
repat_form_decode(int type, const uint8_t *buf, size_t len,
    ProtobufCMessage **form, struct repat_form_report *report)
{
	const ProtobufCMessageDescriptor *d = repat_form_descriptor(type);
	ProtobufCMessage *m;
	int rc;

	memset(report, 0, sizeof(*report));
	*form = NULL;
	if (d == NULL) {
		form_problem(report, false, "", "unknown form type %d", type);
		return REPAT_EINVAL;
	}
	rc = repat_decode(d, buf, len, REPAT_MAX_PAYLOAD, &m);
	if (rc != REPAT_OK) {
		form_problem(report, false, "", "the form does not decode as "
		    "%s: %s", d->short_name, repat_strerror(rc));
		return REPAT_EDECODE;
	}
	rc = finish(type, m, true, report);
	if (rc != REPAT_OK) {
		repat_msg_free(m);
		return rc;
	}
	*form = m;
	return REPAT_OK;
}

void
repat_form_free(ProtobufCMessage *form)
{
	repat_msg_free(form);
}

void
repat_form_report_print(const struct repat_form_report *report, void *file)
{
	FILE *f = file;
	size_t i, shown = 0;

	for (i = 0; i < report->n; i++) {
		const struct repat_form_problem *p = &report->items[i];

		fprintf(f, "%s%s%s%s\n", p->warning ? "warning: " : "",
		    p->path, p->path[0] ? ": " : "", p->message);
		shown += !p->warning;
	}
	if (report->errors > shown)
		fprintf(f, "(%zu more errors not shown)\n",
		    report->errors - shown);
}
