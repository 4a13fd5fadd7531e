/*
 * dispatch.c: the one switch from a received Frame to its handler.
 *
 * Before a valid hello a peer gets nothing but the answer to its hello:
 * every other command from a NEW session is dropped and counted as a
 * refusal (aggregated into the audit, so nobody grows the log for free).
 * Each command runs under its own savepoint; a handler that returns a
 * storage error has its writes rolled back without touching the rest of
 * the group. Only this file decides between answering and dropping.
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/log.h"

static int
run(struct broker *b, struct session *s, struct prepared *p)
{
	Repat__Frame *f = p->frame;

	switch (f->command_case) {
	case REPAT__FRAME__COMMAND_HELLO:
		return handle_hello(b, s, f->hello);
	case REPAT__FRAME__COMMAND_SUBMIT:
		return handle_submit(b, s, p);
	case REPAT__FRAME__COMMAND_ACK:
		return handle_ack(b, s, f->ack);
	case REPAT__FRAME__COMMAND_PING:
		return handle_ping(b, s, f->ping);
	case REPAT__FRAME__COMMAND_DIRECTORY_REQUEST:
		return handle_directory(b, s);
	case REPAT__FRAME__COMMAND_CASE_QUERY:
		return handle_case_query(b, s, f->case_query);
	case REPAT__FRAME__COMMAND_PROOF_REQUEST:
		return handle_proof(b, s, f->proof_request);
	case REPAT__FRAME__COMMAND_BYE:
		return handle_bye(b, s);
	default:
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_MALFORMED,
		    "This command is sent by the broker, never to it; "
		    "check the client's protocol implementation.");
		return REPAT_OK;
	}
}

void
dispatch(struct broker *b, struct session *s, struct prepared *p)
{
	Repat__Frame *f = p->frame;
	uint64_t mark;
	int rc = p->decode_rc;

	if (rc != 0) {
		if (s->state != SESSION_ACTIVE) {
			broker_refusal(b);
			return;
		}
		repat_log_info("session %s: malformed frame (%zu bytes)",
		    s->agent_id, p->len);
		reject(b, s, NULL, rc == REPAT_ETOOBIG ?
		    REPAT__REJECT_CODE__REJECT_TOO_LARGE :
		    REPAT__REJECT_CODE__REJECT_MALFORMED,
		    "The frame does not decode as a repat Frame; check the "
		    "client's protocol implementation.");
		return;
	}
	if (s->state != SESSION_ACTIVE &&
	    f->command_case != REPAT__FRAME__COMMAND_HELLO) {
		broker_refusal(b);
		return;
	}
	mark = audit_mark(&b->audit);
	if (store_savepoint(&b->store) != 0)
		return;
	rc = run(b, s, p);
	if (rc != 0) {
		store_rollback_to(&b->store);
		audit_rewind(&b->audit, mark);
	} else {
		store_release(&b->store);
	}
}
