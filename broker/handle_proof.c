/*
 * handle_proof.c: audit proofs: inclusion of a message's acceptance entry
 * and consistency from an older checkpoint, both against the latest
 * signed checkpoint (checkpoint.c does the work).
 */
#include "broker.h"

int
handle_proof(struct broker *b, struct session *s, Repat__ProofRequest *m)
{
	return checkpoint_proof(b, s, m);
}
