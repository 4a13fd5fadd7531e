/*
 * handle_bye.c: the agent leaves; the session is forgotten without an
 * answer (its unacked deliveries are redelivered at its next hello).
 */
#include "broker.h"
#include "repat/log.h"

int
handle_bye(struct broker *b, struct session *s)
{
	repat_log_info("bye from %s", s->agent_id);
	session_remove(&b->sessions, s);
	return 0;
}
