/*
 * handle_ack.c: a recipient's cumulative, signed acknowledgement.
 *
 * The AckBody is verified with the recipient's signing key (purpose ack)
 * over the received bytes and must name the session's agent. Acking
 * "everything up to N" marks every pending row up to N delivered, audits
 * each message, and queues one signed NOTICE_DELIVERED per sender that
 * carries this very Ack, so the sender holds the recipient's own
 * signature, not only the broker's word.
 */
#include <string.h>

#include "broker.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/sign.h"

int
handle_ack(struct broker *b, struct session *s, Repat__Ack *m)
{
	Repat__AckBody *body;
	Repat__Ack clean = REPAT__ACK__INIT;
	struct agent_row a;
	int rc;

	if (REPAT_DECODE(Repat__AckBody, ack_body, m->body.data, m->body.len,
	    REPAT_MAX_HEADER, &body) != 0) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_MALFORMED,
		    "The ack body does not decode as an AckBody.");
		return REPAT_OK;
	}
	if (repat_verify_raw(s->sign_pub, REPAT_PURPOSE_ACK, m->body.data,
	    m->body.len, m->signature.data, m->signature.len) != 0) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_BAD_SIGNATURE,
		    "The ack signature does not verify with your signing "
		    "certificate.");
		rc = REPAT_OK;
		goto out;
	}
	if (strcmp(body->recipient, s->agent_id) != 0) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_SENDER_MISMATCH,
		    "The ack names another recipient than you.");
		rc = REPAT_OK;
		goto out;
	}
	if ((rc = store_agent_get(&b->store, s->agent_id, &a)) != 0)
		goto out;
	if (body->up_to_seq >= a.next_seq) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_MALFORMED,
		    "The ack covers sequence numbers never delivered.");
		goto out;
	}
	/*
	 * The stored ack, not the session's copy, is where the range starts:
	 * rows between them would stay pending under an ack for good.
	 */
	if (body->up_to_seq <= a.acked_seq)
		goto out;	/* old news: acks may cross redeliveries */
	/*
	 * The notices carry the signed fields only: protobuf-c would pack
	 * the peer's unknown fields back into every sender's notice.
	 */
	clean.body = m->body;
	clean.signature = m->signature;
	rc = deliver_acked(b, s, a.acked_seq, body->up_to_seq, &clean);
out:
	repat_msg_free(body);
	return rc;
}
