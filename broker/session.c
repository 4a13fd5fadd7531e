/*
 * session.c: the broker's sessions, keyed by the CURVE public key the ZAP
 * handler authenticated (never by routing id, which a reconnecting DEALER
 * changes and a peer could guess).
 *
 *   (no session) --frame--> NEW --valid hello--> ACTIVE
 *        ^                   |                     |
 *        +---- refused hello / bye / revoked ------+
 *
 * A NEW session gets nothing but the answer to its hello. ROUTER cannot
 * drop one peer, so "closing" is forgetting the session after a bye;
 * the peer's next frame starts a NEW session again.
 *
 * Transitions and the functions that make them:
 *   (none) -> NEW        session_get (broker.c take_frame)
 *   NEW -> ACTIVE        handle_hello.c admit
 *   ACTIVE -> ACTIVE     handle_hello.c admit (hello again: re-admitted)
 *   any -> (none)        session_close (refused hello, other connection of
 *                        the agent, revoked at reload), handle_bye, evict
 * Invariants (deliver.c deliver_assert_invariants): an ACTIVE session has
 * an agent id and a window >= 1; acked <= sent <= the last assigned seq.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/mem.h"

struct session *
session_find(struct session_table *t, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (memcmp(t->s[i]->key, key, BROKER_CURVE_LEN) == 0)
			return t->s[i];
	return NULL;
}

/*
 * The table is full: the NEW session seen longest ago gives way, so
 * peers that complete CURVE handshakes with throw-away keys cannot lock
 * agents out. ACTIVE sessions are never evicted.
 */
static struct session *
evict(struct session_table *t)
{
	struct session *old = NULL;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->s[i]->state == SESSION_NEW && (old == NULL ||
		    t->s[i]->last_seen_ms < old->last_seen_ms))
			old = t->s[i];
	if (old != NULL) {
		free(old->r_ids);
		free(old->r_hashes);
	}
	return old;
}

struct session *
session_get(struct session_table *t, const uint8_t *key)
{
	struct session *s;

	if ((s = session_find(t, key)) != NULL)
		return s;
	if (t->n == BROKER_MAX_SESSIONS && (s = evict(t)) != NULL) {
		/* reuse the slot of a peer that never said a valid hello */
		memset(s, 0, sizeof(*s));
		memcpy(s->key, key, BROKER_CURVE_LEN);
		s->state = SESSION_NEW;
		return s;
	}
	if (t->n == BROKER_MAX_SESSIONS)
		return NULL;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->s = repat_xrealloc(t->s, t->cap * sizeof(*t->s));
	}
	s = repat_xcalloc(1, sizeof(*s));
	memcpy(s->key, key, BROKER_CURVE_LEN);
	s->state = SESSION_NEW;
	t->s[t->n++] = s;
	return s;
}

struct session *
session_by_agent(struct session_table *t, const char *agent)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->s[i]->state == SESSION_ACTIVE &&
		    strcmp(t->s[i]->agent_id, agent) == 0)
			return t->s[i];
	return NULL;
}

static void
session_free(struct session *s)
{
	free(s->r_ids);
	free(s->r_hashes);
	free(s);
}

void
session_remove(struct session_table *t, struct session *s)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->s[i] != s)
			continue;
		t->s[i] = t->s[--t->n];
		session_free(s);
		return;
	}
}

void
session_table_clear(struct session_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		session_free(t->s[i]);
	free(t->s);
	memset(t, 0, sizeof(*t));
}

void
session_receipt_add(struct session *s, const uint8_t id[16],
    const uint8_t hash[32])
{
	size_t i;

	for (i = 0; i < s->r_n; i++)
		if (memcmp(s->r_ids[i], id, 16) == 0)
			return;
	if (s->r_n == s->r_cap) {
		s->r_cap = s->r_cap ? s->r_cap * 2 : 16;
		s->r_ids = repat_xrealloc(s->r_ids, s->r_cap * 16);
		s->r_hashes = repat_xrealloc(s->r_hashes, s->r_cap * 32);
	}
	memcpy(s->r_ids[s->r_n], id, 16);
	memcpy(s->r_hashes[s->r_n], hash, 32);
	s->r_n++;
}
