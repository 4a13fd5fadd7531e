/*
 * fuzz_agreement.c: the agreement reader (lib/agreement.c) on arbitrary
 * bytes: strict JSON parsing, then, for whatever parses, the lookups the
 * broker makes on a loaded set (authorization, focal points, deadlines,
 * supersession) and one SOP decision, so a parsed-but-odd agreement cannot
 * crash the broker either.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "repat/agreement.h"
#include "repat/sop.h"

/* The opening message of a case between the last two focal points. */
static void
sop_once(const struct repat_agreement *a, const struct repat_identity *s,
    const struct repat_identity *r)
{
	Repat__CaseFacts facts = REPAT__CASE_FACTS__INIT;
	struct repat_sop_msg m;
	struct repat_case c;
	uint8_t id[REPAT_MESSAGE_ID_LEN] = { 1 };
	char reason[REPAT_ERRBUF_LEN];
	int code;

	memset(&m, 0, sizeof(m));
	m.case_ref = "TH-2026-000001";
	m.type = REPAT__MESSAGE_TYPE__MESSAGE_TYPE_IDENTIFICATION_NOTICE;
	m.facts = &facts;
	m.message_id = id;
	m.sender = s;
	m.recipient = r;
	m.now_ms = a->in_force_from_ms;
	memset(&c, 0, sizeof(c));
	if (repat_sop_check(NULL, a, &m, &code, reason) == 0)
		repat_sop_apply(&c, a, &m, NULL);
}

static void
exercise(const repat_agreements_t *set, const struct repat_agreement *a)
{
	struct repat_identity s, r;
	struct repat_route rt;
	const struct repat_agreement *got;
	char reason[REPAT_ERRBUF_LEN];
	size_t i;
	int code, type;

	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	for (i = 0; i < a->nfocal && i < 4; i++) {
		s = r;
		snprintf(r.agent_id, sizeof(r.agent_id), "%s",
		    a->focal[i].agent_id);
		memcpy(r.country, a->focal[i].country, 3);
		r.role = a->focal[i].role;
		(void)repat_agreements_focal_point(set, r.country, r.role,
		    s.country[0] != '\0' ? s.country : NULL,
		    a->in_force_from_ms);
	}
	if (s.agent_id[0] == '\0')
		return;
	memset(&rt, 0, sizeof(rt));
	rt.sender = &s;
	rt.recipient = &r;
	for (type = 1; type <= 15; type++) {
		rt.type = type;
		rt.sender_side = type % 3;
		if (repat_agreements_authorize(set, &rt, a->in_force_from_ms,
		    &got, &code, reason) == 0 && got != a)
			__builtin_trap();	/* the set holds only a */
		(void)repat_agreement_deadline(a, type);
	}
	(void)repat_agreements_superseded(set, a, a->in_force_from_ms);
	sop_once(a, &s, &r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct repat_agreement *a, *as[1];
	char err[REPAT_ERRBUF_LEN];
	repat_agreements_t *set;

	if (repat_agreement_parse(data, size, &a, err) != 0)
		return 0;
	as[0] = a;
	set = repat_agreements_from(as, 1);
	exercise(set, a);
	repat_agreements_destroy(&set);
	return 0;
}
