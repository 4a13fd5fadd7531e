/*
 * codec.h: the only door between bytes and protobuf-c structures.
 *
 * Every decode is bounded: the length is checked against a limit before
 * protobuf-c sees a byte, and a message protobuf-c accepts is also checked
 * for required fields. Decoded messages are owned by the caller and freed
 * with repat_msg_free(). Encoded buffers are owned by the caller (free()).
 *
 * Thread-safe: no shared state.
 */
#ifndef REPAT_CODEC_H
#define REPAT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "repat.pb-c.h"
#include "vocab.pb-c.h"

/*
 * Decodes buf[0..len) as a message of desc, refusing len > max
 * (REPAT_ETOOBIG), empty or malformed input (REPAT_EDECODE). On success
 * *out is the caller's; on failure *out is NULL.
 */
int repat_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
    size_t len, size_t max, ProtobufCMessage **out)
    __attribute__((warn_unused_result));

/* Frees a decoded message; NULL is fine. Not for messages built by hand. */
void repat_msg_free(void *msg);

/* Encodes msg into a new buffer *out of *outlen bytes; the caller frees. */
void repat_encode(const ProtobufCMessage *msg, uint8_t **out, size_t *outlen);

/* Typed shorthands for the messages decoded most. */
#define REPAT_DECODE(T, lower, buf, len, max, outp)			\
	repat_decode(&repat__##lower##__descriptor, (buf), (len), (max),	\
	    (ProtobufCMessage **)(void *)(outp))

int repat_frame_decode(const uint8_t *buf, size_t len, Repat__Frame **out)
    __attribute__((warn_unused_result));

/* Hex of n bytes into out (2n+1 bytes). Returns out. */
char *repat_hex(const uint8_t *in, size_t n, char *out);
/* Parses exactly 2n hex digits into out. 0 or REPAT_EINVAL. */
int repat_unhex(const char *hex, uint8_t *out, size_t n);

/* An enum value's name as written in the .proto, or "UNKNOWN". */
const char *repat_enum_name(const ProtobufCEnumDescriptor *desc, int value);
/* A RejectCode's name ("REJECT_BAD_SIGNATURE"), or "UNKNOWN". */
const char *repat_reject_code_name(int code);

/* Names of vocabulary values in DOMAIN.md's lowercase words. */
const char *repat_message_type_name(int type);
int repat_message_type_parse(const char *name);	/* -1 when unknown */
const char *repat_role_name(int role);
int repat_role_parse(const char *name);		/* -1 when unknown */
/*
 * The lowercase word of an enum value: its proto name without the enum's
 * prefix ("NATIONALITY_STATUS_CONFIRMED" -> "confirmed"). Writes into out
 * (at least 64 bytes) and returns it, or NULL when value is not in desc.
 */
const char *repat_enum_word(const ProtobufCEnumDescriptor *desc, int value,
    char *out, size_t outlen);
/* The value whose word is name, or -1. */
int repat_enum_parse(const ProtobufCEnumDescriptor *desc, const char *name);

#endif
