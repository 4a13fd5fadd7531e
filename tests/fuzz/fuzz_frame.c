/*
 * fuzz_frame.c: the broker's first parser: one ZeroMQ message as a Frame,
 * then the signed bytes inside it (envelope, header, hello and ack bodies).
 */
#include "fuzz.h"
#include "repat/codec.h"
#include "repat/limits.h"

static void
inner(const ProtobufCBinaryData *b, const ProtobufCMessageDescriptor *d,
    size_t max)
{
	ProtobufCMessage *m;

	if (repat_decode(d, b->data, b->len, max, &m) == 0)
		repat_msg_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Repat__Frame *f;
	Repat__SignedEnvelope *se;

	if (repat_frame_decode(data, size, &f) != 0)
		return 0;
	switch (f->command_case) {
	case REPAT__FRAME__COMMAND_HELLO:
		inner(&f->hello->body, &repat__hello_body__descriptor,
		    REPAT_MAX_HEADER);
		break;
	case REPAT__FRAME__COMMAND_ACK:
		inner(&f->ack->body, &repat__ack_body__descriptor,
		    REPAT_MAX_HEADER);
		break;
	case REPAT__FRAME__COMMAND_SUBMIT:
		if (REPAT_DECODE(Repat__SignedEnvelope, signed_envelope,
		    f->submit->signed_envelope.data,
		    f->submit->signed_envelope.len, REPAT_MAX_ENVELOPE,
		    &se) == 0) {
			inner(&se->envelope, &repat__envelope__descriptor,
			    REPAT_MAX_ENVELOPE);
			repat_msg_free(se);
		}
		break;
	default:
		break;
	}
	repat_msg_free(f);
	return 0;
}
