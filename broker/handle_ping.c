/*
 * handle_ping.c: ping -> pong with the broker's clock (agents compare it
 * with their own before sealing).
 */
#include "broker.h"

int
handle_ping(struct broker *b, struct session *s, Repat__Ping *m)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Pong p = REPAT__PONG__INIT;

	p.has_nonce = m->has_nonce;
	p.nonce = m->nonce;
	p.broker_time_ms = broker_now(b);
	f.command_case = REPAT__FRAME__COMMAND_PONG;
	f.pong = &p;
	broker_queue_frame(b, s, &f);
	return 0;
}
