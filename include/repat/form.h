/*
 * form.h: case forms as JSON, their validation, and the case facts they
 * imply (DOMAIN.md §3 and §7, docs/forms.md).
 *
 * A form enters and leaves as JSON whose keys are the proto field names of
 * proto/forms.proto and whose enum values are DOMAIN.md's lowercase words.
 * Parsing refuses duplicate keys and unknown fields (data minimisation);
 * validation checks required fields, dates, country codes, UTF-8, lengths
 * and cross-field rules (children need a guardian, ...). Every problem is
 * reported with its JSON path.
 *
 * The same validation runs on a form decoded from a sealed payload, so a
 * recipient refuses what a sender's librepat should never have sealed.
 * Ownership: returned forms are the caller's (repat_form_free). Thread-safe.
 */
#ifndef REPAT_FORM_H
#define REPAT_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "forms.pb-c.h"
#include "repat.pb-c.h"

#define REPAT_FORM_MAX_PROBLEMS 64

struct repat_form_problem {
	char path[128];		/* "family_contacts[1].phone", "" for the form */
	char message[192];	/* what is wrong, and what is expected */
	bool warning;		/* true: accepted, but a person should look */
};

struct repat_form_report {
	size_t n;		/* problems and warnings held in items */
	size_t errors;		/* how many of them are errors */
	struct repat_form_problem items[REPAT_FORM_MAX_PROBLEMS];
};

/* The form message descriptor of a message type (1..15), or NULL. */
const ProtobufCMessageDescriptor *repat_form_descriptor(int type);

/*
 * Parses JSON text as a form of type and validates it. Returns 0 when
 * valid (warnings may be in report), REPAT_EFORM with report filled when
 * not (REPAT_EINVAL for a type outside 1..15). *form is set only on
 * success. Validation uses today's date (dates not in the future, ages).
 */
int repat_form_from_json(int type, const char *json, size_t len,
    ProtobufCMessage **form, struct repat_form_report *report);

/*
 * The form as canonical JSON text (field-number order, two-space indent,
 * UTF-8 unchanged, final newline); the caller frees. Works for any
 * message of bool, enum, string, integer and nested-message fields.
 */
char *repat_form_to_json(const ProtobufCMessage *form);

/* Validates a form already in memory (the same rules as from_json). */
int repat_form_validate(const ProtobufCMessage *form,
    struct repat_form_report *report);

/* Serializes a form for the sealed payload; *out is the caller's. */
void repat_form_encode(const ProtobufCMessage *form, uint8_t **out,
    size_t *len);
/*
 * Decodes a form of type from a payload (bounded by REPAT_MAX_PAYLOAD),
 * refusing unknown fields anywhere in it, then validates. REPAT_EDECODE
 * (bytes do not decode) or REPAT_EFORM (report filled) on failure.
 */
int repat_form_decode(int type, const uint8_t *buf, size_t len,
    ProtobufCMessage **form, struct repat_form_report *report);

/* Frees a form from from_json or decode; NULL is fine. */
void repat_form_free(ProtobufCMessage *form);

/*
 * Derives the header's case facts from a valid form of type (docs/forms.md
 * §6). facts must be initialised (REPAT__CASE_FACTS__INIT); repeated fields
 * it fills are freed by repat_facts_clear. REPAT_EINVAL when form is not a
 * form of type. It does not validate: validate first.
 */
int repat_form_facts(int type, const ProtobufCMessage *form,
    Repat__CaseFacts *facts);
void repat_facts_clear(Repat__CaseFacts *facts);
/* True when two fact sets say exactly the same (order of scopes aside). */
bool repat_facts_equal(const Repat__CaseFacts *a, const Repat__CaseFacts *b);

/*
 * True when the form says the case is a child's: is_child where the form
 * has it, and for a case_referral also the age rule (under 18, or under 21
 * with an age not taken from a document). False for other types.
 */
bool repat_form_is_child(int type, const ProtobufCMessage *form);

/* A one-line description of type (1..15) for `repat form types`, or NULL. */
const char *repat_form_type_summary(int type);

/*
 * The filled-in example form of type as JSON (the text of
 * examples/forms/TYPE.json), or NULL. Static storage.
 */
const char *repat_form_template(int type);

/* Prints the report to f, one "path: message" per line. */
void repat_form_report_print(const struct repat_form_report *report,
    void *file);

#endif
