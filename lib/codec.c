/*
 * codec.c: bounded protobuf decode and encode, hex, vocabulary names.
 *
 * This is the only file that calls protobuf-c's pack and unpack (STYLE.md
 * §2.4), so the size checks below guard every decode in the project.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "repat/codec.h"
#include "repat/err.h"
#include "repat/limits.h"
#include "repat/mem.h"

int
repat_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
    size_t len, size_t max, ProtobufCMessage **out)
{
	ProtobufCMessage *m;

	*out = NULL;
	if (len > max)
		return REPAT_ETOOBIG;
	if (buf == NULL || len == 0)
		return REPAT_EDECODE;
	m = protobuf_c_message_unpack(desc, NULL, len, buf);
	if (m == NULL)
		return REPAT_EDECODE;
	/* unpack checks required fields itself; keep the belt anyway. */
	if (!protobuf_c_message_check(m)) {
		protobuf_c_message_free_unpacked(m, NULL);
		return REPAT_EDECODE;
	}
	*out = m;
	return REPAT_OK;
}

void
repat_msg_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

void
repat_encode(const ProtobufCMessage *msg, uint8_t **out, size_t *outlen)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	*out = repat_xmalloc(n);
	*outlen = protobuf_c_message_pack(msg, *out);
}

int
repat_frame_decode(const uint8_t *buf, size_t len, Repat__Frame **out)
{
	int rc;

	rc = REPAT_DECODE(Repat__Frame, frame, buf, len, REPAT_MAX_FRAME, out);
	if (rc == REPAT_OK &&
	    (*out)->command_case == REPAT__FRAME__COMMAND__NOT_SET) {
		repat_msg_free(*out);
		*out = NULL;
		return REPAT_EDECODE;
	}
	return rc;
}

char *
repat_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
repat_unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * n)
		return REPAT_EINVAL;
	for (i = 0; i < n; i++) {
		hi = nibble(hex[2 * i]);
		lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return REPAT_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return REPAT_OK;
}

/*
 * The prefix of an enum's value names is the enum's name in upper snake
 * case ("NationalityStatus" -> "NATIONALITY_STATUS_"); the vocabulary word
 * is the rest, lowercased.
 */
static size_t
enum_prefix_len(const ProtobufCEnumDescriptor *desc)
{
	const char *n = desc->short_name;
	size_t len = 0;

	for (; *n; n++)
		len += (n != desc->short_name && isupper((unsigned char)*n)) ?
		    2 : 1;
	return len + 1;
}

const char *
repat_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
	const ProtobufCEnumValue *v;

	v = protobuf_c_enum_descriptor_get_value(desc, value);
	return v != NULL ? v->name : "UNKNOWN";
}

const char *
repat_reject_code_name(int code)
{
	return repat_enum_name(&repat__reject_code__descriptor, code);
}

const char *
repat_enum_word(const ProtobufCEnumDescriptor *desc, int value, char *out,
    size_t outlen)
{
	const ProtobufCEnumValue *v;
	size_t skip, i;

	v = protobuf_c_enum_descriptor_get_value(desc, value);
	if (v == NULL)
		return NULL;
	skip = enum_prefix_len(desc);
	if (strlen(v->name) <= skip)
		return NULL;
	for (i = 0; v->name[skip + i] && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)v->name[skip + i]);
	out[i] = '\0';
	return out;
}

int
repat_enum_parse(const ProtobufCEnumDescriptor *desc, const char *name)
{
	char word[64];
	unsigned i;

	for (i = 0; i < desc->n_values; i++) {
		if (repat_enum_word(desc, desc->values[i].value, word,
		    sizeof(word)) != NULL && strcmp(word, name) == 0)
			return desc->values[i].value;
	}
	return -1;
}

/* Kept as tables so the names are constant and safe from any thread. */
static const char *const message_type_names[] = {
	NULL, "identification_notice", "case_referral",
	"nationality_verification_request", "nationality_verification_result",
	"family_tracing_request", "family_assessment_result",
	"legal_proceedings_update", "travel_document_notice",
	"repatriation_plan", "handover_schedule", "handover_record",
	"reception_report", "reintegration_followup", "consent_update",
	"case_closure",
};

static const char *const role_names[] = {
	NULL, "focal_point", "nationality", "embassy", "tracing", "shelter",
	"police", "io", "broker",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
name_index(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
repat_message_type_name(int type)
{
	if (type < 1 || (size_t)type >= NELEM(message_type_names))
		return NULL;
	return message_type_names[type];
}

int
repat_message_type_parse(const char *name)
{
	return name_index(message_type_names, NELEM(message_type_names), name);
}

const char *
repat_role_name(int role)
{
	if (role < 1 || (size_t)role >= NELEM(role_names))
		return NULL;
	return role_names[role];
}

int
repat_role_parse(const char *name)
{
	return name_index(role_names, NELEM(role_names), name);
}
