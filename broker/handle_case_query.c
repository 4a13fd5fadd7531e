/*
 * handle_case_query.c: the non-personal state of a case, answered only to
 * its parties (agents of one of the case's two countries). Anyone else,
 * and a reference without a case, gets the same REJECT_CASE_NOT_OPEN, so a
 * query reveals nothing about cases of other countries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/envelope.h"
#include "repat/mem.h"

static void
answer(struct broker *b, struct session *s, const struct repat_case *c)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__CaseState cs = REPAT__CASE_STATE__INIT;
	Repat__Deadline dl[REPAT_CASE_MAX_DEADLINES], *dp[REPAT_CASE_MAX_DEADLINES];
	struct repat_case_facts_pb facts;
	char *countries[2];
	uint32_t i;

	cs.case_ref = (char *)c->case_ref;
	cs.state = (char *)repat_case_state_name(c->state);
	countries[0] = (char *)c->countries[0];
	countries[1] = (char *)c->countries[1];
	cs.n_countries = 2;
	cs.countries = countries;
	for (i = 0; i < c->ndeadlines && i < REPAT_CASE_MAX_DEADLINES; i++) {
		repat__deadline__init(&dl[i]);
		dl[i].awaited_type = c->deadlines[i].awaited_type;
		dl[i].waiting_on = (char *)c->deadlines[i].waiting_on;
		dl[i].due_ms = c->deadlines[i].due_ms;
		dl[i].request_id.data = (uint8_t *)c->deadlines[i].request_id;
		dl[i].request_id.len = 16;
		dp[i] = &dl[i];
	}
	cs.n_deadlines = i;
	cs.deadlines = dp;
	repat_case_facts_export(c, &facts);
	cs.facts = &facts.facts;
	f.command_case = REPAT__FRAME__COMMAND_CASE_STATE;
	f.case_state = &cs;
	broker_queue_frame(b, s, &f);
}

int
handle_case_query(struct broker *b, struct session *s, Repat__CaseQuery *m)
{
	struct repat_case *c;

	if (!repat_case_ref_valid(m->case_ref)) {
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_BAD_CASE_REF,
		    "A case reference looks like CC-YYYY-NNNNNN.");
		return 0;
	}
	c = repat_xmalloc(sizeof(*c));
	if (store_case_get(&b->store, m->case_ref, c) == 0 &&
	    c->state != REPAT_CASE_NONE &&
	    repat_case_side(c, s->country) >= 0)
		answer(b, s, c);
	else
		reject(b, s, NULL, REPAT__REJECT_CODE__REJECT_CASE_NOT_OPEN,
		    "No open case with this reference has you as a party.");
	free(c);
	return 0;
}
