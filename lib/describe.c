/*
 * describe.c: headers rendered as JSON and as text (see repat/describe.h).
 *
 * The case facts are rendered by the same descriptor-driven mapper that
 * renders forms (repat_form_to_json), so vocabulary words are spelled one
 * way everywhere.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "repat/codec.h"
#include "repat/describe.h"
#include "repat/form.h"
#include "repat/limits.h"
#include "repat/log.h"
#include "repat/mem.h"

char *
repat_time_iso(uint64_t ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

static void
set_id(json_t *o, const char *key, protobuf_c_boolean has,
    const ProtobufCBinaryData *b)
{
	char hex[2 * REPAT_MESSAGE_ID_LEN + 1];

	if (!has || b->len != REPAT_MESSAGE_ID_LEN)
		return;
	json_object_set_new(o, key, json_string(repat_hex(b->data, b->len,
	    hex)));
}

static json_t *
header_object(const Repat__Header *h)
{
	json_t *o = json_object(), *facts;
	char hex[2 * REPAT_HASH_LEN + 1], when[32], *text;

	json_object_set_new(o, "message_id", json_string(repat_hex(
	    h->message_id.data, h->message_id.len, hex)));
	json_object_set_new(o, "case_ref", json_string(h->case_ref));
	json_object_set_new(o, "type", json_string(
	    repat_message_type_name(h->type)));
	json_object_set_new(o, "sender", json_string(h->sender));
	json_object_set_new(o, "recipient", json_string(h->recipient));
	json_object_set_new(o, "created", json_string(repat_time_iso(
	    h->created_ms, when, sizeof(when))));
	json_object_set_new(o, "expires", json_string(repat_time_iso(
	    h->expires_ms, when, sizeof(when))));
	set_id(o, "in_reply_to", h->has_in_reply_to, &h->in_reply_to);
	set_id(o, "amends", h->has_amends, &h->amends);
	set_id(o, "copy_of", h->has_copy_of, &h->copy_of);
	if (h->agreement_id != NULL)
		json_object_set_new(o, "agreement_id",
		    json_string(h->agreement_id));
	if (h->sender_checkpoint != NULL &&
	    h->sender_checkpoint->root_hash.len == REPAT_HASH_LEN) {
		json_t *c = json_object();

		json_object_set_new(c, "tree_size",
		    json_integer((json_int_t)h->sender_checkpoint->tree_size));
		json_object_set_new(c, "root_hash", json_string(repat_hex(
		    h->sender_checkpoint->root_hash.data, REPAT_HASH_LEN,
		    hex)));
		json_object_set_new(o, "sender_checkpoint", c);
	}
	text = repat_form_to_json(&h->facts->base);
	facts = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	json_object_set_new(o, "facts", facts ? facts : json_object());
	return o;
}

char *
repat_header_json(const Repat__Header *h)
{
	json_t *o = header_object(h);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	if (s == NULL)
		repat_fatalx("out of memory rendering a header");
	return s;
}

void
repat_header_print(FILE *f, const Repat__Header *h)
{
	json_t *o = header_object(h), *v;
	const char *key;
	char *s;

	json_object_foreach(o, key, v) {
		if (json_is_string(v)) {
			fprintf(f, "%-18s %s\n", key, json_string_value(v));
		} else {
			s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fprintf(f, "%-18s %s\n", key, s ? s : "?");
			free(s);
		}
	}
	json_decref(o);
}
