/*
 * codec_test.c: bounded decoding of frames, envelopes and vocabulary names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repat/codec.h"
#include "repat/err.h"
#include "repat/limits.h"

static void
ping_round_trip(void **state)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Ping p = REPAT__PING__INIT;
	Repat__Frame *back;
	uint8_t *buf;
	size_t len;

	(void)state;
	p.has_nonce = 1;
	p.nonce = 42;
	f.command_case = REPAT__FRAME__COMMAND_PING;
	f.ping = &p;
	repat_encode(&f.base, &buf, &len);
	assert_int_equal(repat_frame_decode(buf, len, &back), REPAT_OK);
	assert_int_equal(back->command_case, REPAT__FRAME__COMMAND_PING);
	assert_int_equal(back->ping->nonce, 42);
	repat_msg_free(back);
	free(buf);
}

static void
empty_and_garbage_refused(void **state)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	Repat__Frame *f = (void *)1;

	(void)state;
	assert_int_equal(repat_frame_decode(NULL, 0, &f), REPAT_EDECODE);
	assert_null(f);
	assert_int_equal(repat_frame_decode(garbage, sizeof(garbage), &f),
	    REPAT_EDECODE);
	assert_null(f);
}

static void
oversize_refused_before_decode(void **state)
{
	size_t n = REPAT_MAX_FRAME + 1;
	uint8_t *big = calloc(1, n);
	Repat__Frame *f;

	(void)state;
	assert_int_equal(repat_frame_decode(big, n, &f), REPAT_ETOOBIG);
	assert_null(f);
	free(big);
}

static void
truncated_refused(void **state)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Submit s = REPAT__SUBMIT__INIT;
	Repat__Frame *back;
	uint8_t payload[300];
	uint8_t *buf;
	size_t len, cut;

	(void)state;
	memset(payload, 7, sizeof(payload));
	s.signed_envelope.data = payload;
	s.signed_envelope.len = sizeof(payload);
	f.command_case = REPAT__FRAME__COMMAND_SUBMIT;
	f.submit = &s;
	repat_encode(&f.base, &buf, &len);
	for (cut = 1; cut < len; cut++)
		assert_int_not_equal(repat_frame_decode(buf, len - cut, &back),
		    REPAT_OK);
	free(buf);
}

static void
missing_required_refused(void **state)
{
	/* A Submit (field 3) with no signed_envelope inside. */
	static const uint8_t submit_empty[] = { 0x1a, 0x00 };
	Repat__Frame *f;

	(void)state;
	assert_int_equal(repat_frame_decode(submit_empty,
	    sizeof(submit_empty), &f), REPAT_EDECODE);
}

static void
empty_frame_refused(void **state)
{
	static const uint8_t nothing_set[] = { 0x00 };
	Repat__Frame *f;

	(void)state;
	assert_int_not_equal(repat_frame_decode(nothing_set, 0 + 1, &f),
	    REPAT_OK);
}

static void
vocabulary_words(void **state)
{
	char w[64];

	(void)state;
	assert_string_equal(repat_message_type_name(
	    REPAT__MESSAGE_TYPE__MESSAGE_TYPE_CASE_REFERRAL), "case_referral");
	assert_int_equal(repat_message_type_parse("case_closure"), 15);
	assert_int_equal(repat_message_type_parse("CASE_CLOSURE"), -1);
	assert_null(repat_message_type_name(0));
	assert_null(repat_message_type_name(16));
	assert_string_equal(repat_role_name(1), "focal_point");
	assert_int_equal(repat_role_parse("shelter"), 5);
	assert_string_equal(repat_enum_word(
	    &repat__nationality_status__descriptor, 4, w, sizeof(w)),
	    "possibly_stateless");
	assert_int_equal(repat_enum_parse(&repat__assessment_outcome__descriptor,
	    "unsafe"), 2);
	assert_int_equal(repat_enum_parse(&repat__assessment_outcome__descriptor,
	    "fine"), -1);
	/* Every message type's table name matches its proto name. */
	for (int t = 1; t <= 15; t++)
		assert_string_equal(repat_message_type_name(t), repat_enum_word(
		    &repat__message_type__descriptor, t, w, sizeof(w)));
}

static void
hex_round_trip(void **state)
{
	uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4];
	char hex[9];

	(void)state;
	assert_string_equal(repat_hex(in, 4, hex), "00ab7fff");
	assert_int_equal(repat_unhex("00AB7fff", out, 4), REPAT_OK);
	assert_memory_equal(in, out, 4);
	assert_int_equal(repat_unhex("00ab7ff", out, 4), REPAT_EINVAL);
	assert_int_equal(repat_unhex("00ab7fgf", out, 4), REPAT_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ping_round_trip),
		cmocka_unit_test(empty_and_garbage_refused),
		cmocka_unit_test(oversize_refused_before_decode),
		cmocka_unit_test(truncated_refused),
		cmocka_unit_test(missing_required_refused),
		cmocka_unit_test(empty_frame_refused),
		cmocka_unit_test(vocabulary_words),
		cmocka_unit_test(hex_round_trip),
	};

	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
