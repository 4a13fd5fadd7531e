/*
 * handle_hello.c: admitting an agent (DESIGN.md §5, docs/protocol.md
 * "Hello checks").
 *
 * In order: the body decodes; its version is ours; exactly two
 * certificates, signing then encryption, verified as a pair against the
 * pinned CA of their country at the broker's time (chain, validity, CRL);
 * the signature (purpose hello) with the signing certificate's key; the
 * body's agent id is the certificates'; its CURVE key is this very
 * connection's (the ZAP User-Id), so a hello cannot be replayed over
 * another connection; its broker key is ours; its time within the skew.
 * A refused hello is answered with Bye(code, reason) and the session is
 * forgotten. The first valid hello registers the agent.
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "repat/repat.h"
#include "repat/codec.h"
#include "repat/db.h"
#include "repat/err.h"
#include "repat/log.h"
#include "repat/sign.h"

void
session_close(struct broker *b, struct session *s, int code,
    const char *reason)
{
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Bye bye = REPAT__BYE__INIT;

	if (code != 0) {
		bye.has_code = 1;
		bye.code = code;
	}
	bye.reason = (char *)reason;
	f.command_case = REPAT__FRAME__COMMAND_BYE;
	f.bye = &bye;
	broker_queue_frame(b, s, &f);
	session_remove(&b->sessions, s);
}

static int
cert_code(int rc)
{
	switch (rc) {
	case REPAT_EREVOKED:
		return REPAT__REJECT_CODE__REJECT_CERTIFICATE_REVOKED;
	case REPAT_EEXPIRED:
		return REPAT__REJECT_CODE__REJECT_CERTIFICATE_EXPIRED;
	default:
		return REPAT__REJECT_CODE__REJECT_BAD_CERTIFICATE;
	}
}

/* The checks; 0 or a reject code with reason. */
static int
check_hello(struct broker *b, struct session *s, Repat__Hello *h,
    Repat__HelloBody *body, struct repat_identity *id, uint8_t pub[32],
    char *reason, size_t rlen)
{
	char err[REPAT_ERRBUF_LEN] = "";
	X509 *sc = NULL, *ec = NULL;
	uint64_t now = broker_now(b), skew = (uint64_t)b->cfg.clock_skew_ms;
	int code = 0, rc;

	if (body->version != REPAT_WIRE_VERSION) {
		snprintf(reason, rlen, "This broker speaks wire version %d; "
		    "upgrade or downgrade repat.", REPAT_WIRE_VERSION);
		return REPAT__REJECT_CODE__REJECT_UNSUPPORTED_VERSION;
	}
	if (h->n_certificates != 2 ||
	    h->certificates[0].len > REPAT_MAX_CERT ||
	    h->certificates[1].len > REPAT_MAX_CERT ||
	    repat_cert_from_der(h->certificates[0].data,
	    h->certificates[0].len, &sc) != 0 ||
	    repat_cert_from_der(h->certificates[1].data,
	    h->certificates[1].len, &ec) != 0) {
		snprintf(reason, rlen, "A hello carries exactly two DER "
		    "certificates, signing then encryption.");
		code = REPAT__REJECT_CODE__REJECT_BAD_CERTIFICATE;
		goto out;
	}
	/* the trust bundle is shared with the preparers (prepare.c) */
	pthread_mutex_lock(&b->pool.cert_mu);
	rc = repat_trust_verify_pair(b->trust, sc, ec, now, id, err);
	pthread_mutex_unlock(&b->pool.cert_mu);
	if (rc != 0) {
		snprintf(reason, rlen, "Your certificates are not accepted "
		    "(%s); ask your country's CA.", err);
		code = cert_code(rc);
	} else if (repat_cert_public_raw(sc, pub) != 0 ||
	    repat_verify_raw(pub, REPAT_PURPOSE_HELLO, h->body.data,
	    h->body.len, h->signature.data, h->signature.len) != 0) {
		snprintf(reason, rlen, "The hello signature does not verify "
		    "with your signing certificate.");
		code = REPAT__REJECT_CODE__REJECT_BAD_SIGNATURE;
	} else if (strcmp(body->agent_id, id->agent_id) != 0) {
		/* Only a well-formed id is echoed: the reason reaches logs. */
		snprintf(reason, rlen, "The hello names %.64s but the "
		    "certificates are for %s.",
		    repat_agent_id_valid(body->agent_id) ? body->agent_id :
		    "a malformed agent id", id->agent_id);
		code = REPAT__REJECT_CODE__REJECT_SENDER_MISMATCH;
	} else if (body->curve_key.len != BROKER_CURVE_LEN ||
	    memcmp(body->curve_key.data, s->key, BROKER_CURVE_LEN) != 0) {
		snprintf(reason, rlen, "The hello signs a CURVE key that is "
		    "not this connection's; use the key in curve.key.");
		code = REPAT__REJECT_CODE__REJECT_CURVE_KEY_MISMATCH;
	} else if (body->broker_key.len != BROKER_CURVE_LEN ||
	    memcmp(body->broker_key.data, b->curve_pub,
	    BROKER_CURVE_LEN) != 0) {
		snprintf(reason, rlen, "The hello is meant for another "
		    "broker; check broker_curve_key in agent.conf.");
		code = REPAT__REJECT_CODE__REJECT_WRONG_BROKER;
	} else if (body->time_ms > now + skew || body->time_ms + skew < now) {
		snprintf(reason, rlen, "Your clock differs from the "
		    "broker's by more than %lld s; set it right.",
		    (long long)(skew / 1000));
		code = REPAT__REJECT_CODE__REJECT_CLOCK_SKEW;
	}
out:
	X509_free(sc);
	X509_free(ec);
	return code;
}

static int
admit(struct broker *b, struct session *s, Repat__Hello *h,
    Repat__HelloBody *body, const struct repat_identity *id,
    const uint8_t pub[32])
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	Repat__Frame f = REPAT__FRAME__INIT;
	Repat__Welcome w = REPAT__WELCOME__INIT;
	struct session *old;
	struct agent_row a;
	bool created;
	uint32_t window, attempts;
	int rc;

	rc = store_agent_put(&b->store, id, h->certificates[0].data,
	    h->certificates[0].len, h->certificates[1].data,
	    h->certificates[1].len, pub, broker_now(b), &created);
	if (rc == 0 && created) {
		e.kind = REPAT__AUDIT_KIND__AUDIT_AGENT_REGISTERED;
		e.agent_id = (char *)id->agent_id;
		rc = broker_audit(b, &e);
	}
	if (rc == 0) {
		repat__audit_entry__init(&e);
		e.kind = REPAT__AUDIT_KIND__AUDIT_AGENT_ADMITTED;
		e.agent_id = (char *)id->agent_id;
		rc = broker_audit(b, &e);
	}
	if (rc == 0)
		rc = store_agent_get(&b->store, id->agent_id, &a);
	if (rc != 0)
		return rc;
	if ((old = session_by_agent(&b->sessions, id->agent_id)) != NULL &&
	    old != s)
		session_close(b, old, 0, "Another connection of this agent "
		    "said hello.");
	window = body->has_window && body->window > 0 ? body->window :
	    BROKER_DEFAULT_WINDOW;
	if (window > (uint32_t)b->cfg.inflight)
		window = (uint32_t)b->cfg.inflight;
	/*
	 * A hello on a live session (the agent came back on a new connection
	 * without a bye: it crashed, or its link dropped) does not start the
	 * head's count again, or an agent that crashes on a message would
	 * block its stream forever. A bye ends the count: `repat watch`
	 * says bye before it retries a failed --exec, and `repat send` when
	 * it is done; neither refused the message.
	 */
	attempts = s->state == SESSION_ACTIVE &&
	    strcmp(s->agent_id, id->agent_id) == 0 &&
	    s->acked == a.acked_seq ? s->head_attempts : 0;
	s->state = SESSION_ACTIVE;
	snprintf(s->agent_id, sizeof(s->agent_id), "%s", id->agent_id);
	memcpy(s->country, id->country, sizeof(s->country));
	memcpy(s->sign_pub, pub, 32);
	s->window = window;
	s->acked = s->sent = a.acked_seq;
	s->backoff_ms = (uint64_t)b->cfg.redeliver_min_ms;
	s->head_attempts = attempts;
	s->last_progress_ms = broker_now(b);
	s->dirty = true;
	s->last_seen_ms = broker_now(b);
	store_seen(b, s);
	if (attempts >= (uint32_t)b->cfg.delivery_limit &&
	    a.next_seq > a.acked_seq + 1)
		deliver_dead_letter_head(b, s);
	w.version = REPAT_WIRE_VERSION;
	w.broker_time_ms = broker_now(b);
	w.broker_certificate.data = b->cert_der;
	w.broker_certificate.len = b->cert_der_len;
	w.has_next_seq = 1;
	w.next_seq = a.acked_seq + 1;
	f.command_case = REPAT__FRAME__COMMAND_WELCOME;
	f.welcome = &w;
	broker_queue_frame(b, s, &f);
	s->welcome_owed = true;		/* until the group's COMMIT */
	repat_log_info("hello %s: admitted, window %u, resuming after seq %llu",
	    s->agent_id, window, (unsigned long long)a.acked_seq);
	return REPAT_OK;
}

int
handle_hello(struct broker *b, struct session *s, Repat__Hello *h)
{
	Repat__HelloBody *body = NULL;
	struct repat_identity id;
	uint8_t pub[32];
	char reason[REPAT_ERRBUF_LEN + 64];
	int code, rc;

	memset(&id, 0, sizeof(id));
	if (REPAT_DECODE(Repat__HelloBody, hello_body, h->body.data,
	    h->body.len, REPAT_MAX_HEADER, &body) != 0) {
		code = REPAT__REJECT_CODE__REJECT_MALFORMED;
		snprintf(reason, sizeof(reason), "The hello body does not "
		    "decode as a HelloBody.");
	} else {
		code = check_hello(b, s, h, body, &id, pub, reason,
		    sizeof(reason));
	}
	if (code != 0) {
		repat_log_info("hello refused: %s (%s)",
		    repat_reject_code_name(code), reason);
		broker_refusal(b);
		session_close(b, s, code, reason);
		repat_msg_free(body);
		return REPAT_OK;
	}
	rc = admit(b, s, h, body, &id, pub);
	repat_msg_free(body);
	return rc;
}

/* Loads an agent's certificate pair from the store and verifies it now. */
static int
recheck(struct broker *b, const char *agent, char *err)
{
	sqlite3_stmt *st;
	X509 *sc = NULL, *ec = NULL;
	struct repat_identity id;
	int rc = REPAT_ENOENT;

	st = repat_db_prepare(b->store.db, "SELECT sign_cert, enc_cert FROM "
	    "agents WHERE id = ?1");
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    repat_cert_from_der(sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), &sc) == 0 &&
	    repat_cert_from_der(sqlite3_column_blob(st, 1),
	    (size_t)sqlite3_column_bytes(st, 1), &ec) == 0)
		rc = repat_trust_verify_pair(b->trust, sc, ec, broker_now(b),
		    &id, err);
	sqlite3_finalize(st);
	X509_free(sc);
	X509_free(ec);
	return rc;
}

void
session_recheck_all(struct broker *b)
{
	char err[REPAT_ERRBUF_LEN];
	struct session *s;
	size_t i;

	if (broker_group_begin(b) != 0)
		return;
	for (i = 0; i < b->sessions.n;) {
		s = b->sessions.s[i];
		if (s->state == SESSION_ACTIVE &&
		    recheck(b, s->agent_id, err) != 0) {
			repat_log_info("reload: closing %s: %s", s->agent_id,
			    err);
			session_close(b, s, REPAT__REJECT_CODE__REJECT_CERTIFICATE_REVOKED,
			    "Your certificate is no longer accepted.");
			continue;	/* the last session moved into slot i */
		}
		i++;
	}
	broker_group_end(b);
}
