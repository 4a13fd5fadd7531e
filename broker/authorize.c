/*
 * authorize.c: may this message pass? (DESIGN.md §6 step 3, §7)
 *
 *   sop   (the default) an agreement in force binds both countries of the
 *         case, names sender and recipient as focal points under their
 *         roles and allows this type between them; the case's state allows
 *         it now (SOP order) and consent covers it (lib/sop.c,
 *         repat_sop_authorize). With no agreement loaded every message is
 *         refused REJECT_NO_AGREEMENT.
 *   open  every registered agent may write to every other. For tests
 *         only: it must be named in broker.conf, is logged at start and
 *         written to the audit (AUDIT_OPEN_AUTHORIZATION). Cases are still
 *         tracked when the SOP would allow the message, so case queries
 *         work in test regions; nothing is refused for SOP reasons.
 *
 * Runs inside the submit's savepoint: the case is updated and stored here,
 * and rolled back with the message if storing the message fails. A consent
 * withdrawal queues a NOTICE_CONSENT_WITHDRAWN to every other agent that
 * received data on the case, and an AUDIT_CONSENT_WITHDRAWN entry.
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "repat/err.h"
#include "repat/log.h"

static int
notify_withdrawal(struct broker *b, const struct repat_case *c,
    const struct repat_sop_msg *m, const struct repat_sop_effects *fx)
{
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	Repat__NoticeBody nb;
	Repat__ConsentScope scopes[32];
	ProtobufCBinaryData id = { 16, (uint8_t *)m->message_id };
	uint8_t case_hash[32];
	size_t ns = 0;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < 32; i++)
		if (fx->withdrawn_scopes & (1u << i))
			scopes[ns++] = (Repat__ConsentScope)i;
	for (i = 0; i < c->nrecipients && rc == 0; i++) {
		if (strcmp(c->recipients[i], m->sender->agent_id) == 0)
			continue;
		repat__notice_body__init(&nb);
		nb.kind = REPAT__NOTICE_KIND__NOTICE_CONSENT_WITHDRAWN;
		nb.n_message_ids = 1;
		nb.message_ids = &id;
		nb.case_ref = (char *)c->case_ref;
		nb.n_scopes = ns;
		nb.scopes = scopes;
		rc = deliver_notice(b, c->recipients[i], &nb);
	}
	if (rc != 0)
		return rc;
	audit_case_hash(&b->audit, c->case_ref, case_hash);
	e.kind = REPAT__AUDIT_KIND__AUDIT_CONSENT_WITHDRAWN;
	e.has_message_id = 1;
	e.message_id = id;
	e.sender = (char *)m->sender->agent_id;
	e.has_case_hash = 1;
	e.case_hash.data = case_hash;
	e.case_hash.len = 32;
	e.has_count = 1;
	e.count = c->nrecipients;
	return broker_audit(b, &e);
}

static void
sop_msg(struct broker *b, const struct repat_verified *v,
    const struct repat_identity *sender, const struct repat_identity *rcpt,
    struct repat_sop_msg *m)
{
	const Repat__Header *h = v->header;

	memset(m, 0, sizeof(*m));
	m->case_ref = h->case_ref;
	m->type = h->type;
	m->facts = h->facts;
	m->message_id = h->message_id.data;
	m->in_reply_to = h->has_in_reply_to ? h->in_reply_to.data : NULL;
	m->is_copy = h->has_copy_of;
	m->sender = sender;
	m->recipient = rcpt;
	m->now_ms = broker_now(b);
}

int
authorize(struct broker *b, const struct repat_verified *v,
    const struct repat_identity *sender,
    char agreement[REPAT_AGREEMENT_MAX_ID + 1], char *reason,
    size_t reasonlen)
{
	struct repat_identity rcpt;
	struct repat_case c;
	struct repat_sop_msg m;
	struct repat_sop_effects fx;
	const struct repat_agreement *a = NULL;
	char why[REPAT_ERRBUF_LEN];
	bool have;
	int code = 0, rc;

	if (b->cfg.authorization == BROKER_AUTH_SOP && b->agreements == NULL)
		return authorize_sop(b, v, sender, reason, reasonlen);
	if (store_agent_identity(&b->store, v->header->recipient, &rcpt) != 0) {
		snprintf(reason, reasonlen, "The recipient %s is not "
		    "registered at this broker.", v->header->recipient);
		return REPAT__REJECT_CODE__REJECT_UNKNOWN_RECIPIENT;
	}
	rc = store_case_get(&b->store, v->header->case_ref, &c);
	if (rc != 0 && rc != REPAT_ENOENT) {
		snprintf(reason, reasonlen, "The broker cannot read this "
		    "case; tell its operator.");
		return REPAT__REJECT_CODE__REJECT_INTERNAL;
	}
	have = rc == 0;
	/*
	 * The retention of the case's agreement applies to its messages
	 * (purge.c), not that of the agreement that let this one pass: a
	 * case keeps one retention when a revised MoU supersedes the one it
	 * was opened under.
	 */
	snprintf(agreement, REPAT_AGREEMENT_MAX_ID + 1, "%s",
	    have ? c.agreement_id : "");
	sop_msg(b, v, sender, &rcpt, &m);
	why[0] = '\0';
	if (b->cfg.authorization == BROKER_AUTH_OPEN) {
		if (repat_sop_check(have ? &c : NULL, NULL, &m, &code,
		    why) != 0) {
			/* why names the case: never logged */
			repat_log_debug("open authorization: the SOP would "
			    "refuse (%s); case not updated",
			    repat_reject_code_name(code));
			return 0;
		}
	} else if (repat_sop_authorize(b->agreements, have ? &c : NULL, &m,
	    v->header->agreement_id, &a, &code, why) != 0) {
		snprintf(reason, reasonlen, "%s", why);
		return code != 0 ? code : REPAT__REJECT_CODE__REJECT_NO_AGREEMENT;
	}
	if (!have)
		memset(&c, 0, sizeof(c));
	repat_sop_apply(&c, a, &m, &fx);
	snprintf(agreement, REPAT_AGREEMENT_MAX_ID + 1, "%s", c.agreement_id);
	/*
	 * A storage failure here is answered STORAGE_FULL or INTERNAL, and
	 * handle_submit returns an error for both, so dispatch rolls back the
	 * savepoint: the case row and any withdrawal notices already queued
	 * go with the refused message.
	 */
	if ((rc = store_case_put(&b->store, &c)) != 0 ||
	    (fx.notify_withdrawal &&
	    (rc = notify_withdrawal(b, &c, &m, &fx)) != 0)) {
		snprintf(reason, reasonlen, "The broker could not store the "
		    "case; send the message again later.");
		return rc == REPAT_EFULL ?
		    REPAT__REJECT_CODE__REJECT_STORAGE_FULL :
		    REPAT__REJECT_CODE__REJECT_INTERNAL;
	}
	return 0;
}

int
authorize_sop(struct broker *b, const struct repat_verified *v,
    const struct repat_identity *sender, char *reason, size_t reasonlen)
{
	(void)b;
	(void)sender;
	snprintf(reason, reasonlen, "No agreement in force allows %s to "
	    "send to %s; ask your focal point about the MoU and its SOP.",
	    v->header->sender, v->header->recipient);
	return REPAT__REJECT_CODE__REJECT_NO_AGREEMENT;
}

static void
on_refused(const char *path, int code, const char *reason, void *arg)
{
	struct broker *b = arg;
	Repat__AuditEntry e = REPAT__AUDIT_ENTRY__INIT;
	const char *base = strrchr(path, '/');

	repat_log_warnx("agreement %s refused: %s (%s)", path, reason,
	    repat_strerror(code));
	e.kind = REPAT__AUDIT_KIND__AUDIT_AGREEMENT_REFUSED;
	e.detail = (char *)(base != NULL ? base + 1 : path);
	(void)broker_audit(b, &e);
}

int
authorize_reload(struct broker *b)
{
	Repat__AuditEntry e;
	repat_agreements_t *set;
	const struct repat_agreement *a;
	char err[REPAT_ERRBUF_LEN];
	size_t i, n;

	if (broker_group_begin(b) != 0)
		return REPAT_EDB;
	set = repat_agreements_load(b->cfg.agreements, b->trust,
	    broker_now(b), on_refused, b, err);
	if (set == NULL) {
		repat_log_info("agreements: %s (none loaded)", err);
	} else {
		repat_agreements_destroy(&b->agreements);
		b->agreements = set;
	}
	n = b->agreements != NULL ? repat_agreements_count(b->agreements) : 0;
	for (i = 0; i < n; i++) {
		a = repat_agreements_get(b->agreements, i);
		repat__audit_entry__init(&e);
		e.kind = REPAT__AUDIT_KIND__AUDIT_AGREEMENT_LOADED;
		e.agreement_id = (char *)a->id;
		(void)broker_audit(b, &e);
		repat_log_info("agreement %s loaded", a->id);
	}
	if (n == 0 && b->cfg.authorization == BROKER_AUTH_SOP)
		repat_log_warnx("agreements: none loaded from %s: every submit "
		    "is refused NO_AGREEMENT", b->cfg.agreements);
	broker_group_end(b);
	/* a retention may be shorter now: not a minute later */
	purge_restart(b);
	return (int)n;
}
