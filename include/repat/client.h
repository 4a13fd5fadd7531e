/*
 * client.h: an agent's connection to the broker (DESIGN.md §5).
 *
 * A ZeroMQ DEALER connected as CURVE client to the broker's pinned CURVE
 * key, never setting a routing id (the broker keys sessions by CURVE key).
 * The client says hello (signed with purpose "hello"), submits serialized
 * SignedEnvelopes and waits for the broker's signed receipt or rejection,
 * receives deliveries and notices in sequence, and acks them cumulatively
 * with a signed Ack. Everything the broker signs (receipts, notices) is
 * verified with the key of the pinned broker certificate; every delivered
 * envelope is verified with repat_envelope_verify against the agent's own
 * trust bundle before it is handed up. The broker is trusted for delivery
 * only.
 *
 * Durability contract: a submit is on the broker's disk once
 * repat_client_submit() reports it receipted. Resending after a timeout
 * sends the SAME bytes, which the broker answers with the original receipt,
 * so "send until receipted" is safe. The application acks a sequence number
 * only after it stored everything up to it; deliveries not acked are
 * delivered again (the client drops sequence numbers it already handed up).
 *
 * Ownership: a repat_client_t borrows the keystore and the broker
 * certificate given to repat_client_new(); both must outlive it. Events
 * own their buffers until repat_client_event_clear().
 *
 * Threads: one client is used by one thread at a time (a ZeroMQ socket is
 * not thread-safe). Different clients in different threads are fine.
 */
#ifndef REPAT_CLIENT_H
#define REPAT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "repat.pb-c.h"
#include "repat/envelope.h"
#include "repat/pki.h"

typedef struct repat_client repat_client_t;

/* Options for repat_client_connect(); zero means the default. */
struct repat_client_options {
	uint32_t window;	/* deliveries in flight (default 64) */
	uint64_t acked_seq;	/* what the application stored durably */
};

/*
 * A new, unconnected client for the agent in ks. endpoint is
 * "tcp://host:port"; broker_curve_public_z85 the broker's pinned CURVE
 * public key (40 Z85 characters); broker_cert its pinned Ed25519
 * certificate (role broker). NULL with errbuf set on failure.
 */
repat_client_t *repat_client_new(const struct repat_keystore *ks,
    const char *endpoint, const char *broker_curve_public_z85,
    X509 *broker_cert, char *errbuf);

/* Closes the socket (sending bye when connected) and frees; NULLs *c. */
void repat_client_destroy(repat_client_t **c);

/*
 * Connects, says hello and waits up to timeout_ms for the welcome.
 * opts may be NULL. REPAT_ETIMEOUT when the broker does not answer,
 * REPAT_EREFUSED when it refuses (errbuf holds its code and reason),
 * REPAT_ESIG when its welcome certificate is not the pinned one.
 * A client may connect again after an error or repat_client_close().
 */
int repat_client_connect(repat_client_t *c,
    const struct repat_client_options *opts, int timeout_ms, char *errbuf);

/* Sends bye and closes the socket; the client may connect again. */
void repat_client_close(repat_client_t *c);

/* The broker's clock at the welcome (or last pong), ms since the epoch. */
uint64_t repat_client_broker_time(const repat_client_t *c);

/* ---- submitting */

/* The answer to one submit. */
struct repat_submit_result {
	bool receipted;			/* on the broker's disk */
	int code;			/* Repat__RejectCode when refused, else 0 */
	char reason[256];		/* the broker's sentence when refused */
	uint64_t broker_time_ms;	/* from the receipt or rejection */
	uint8_t message_id[16];		/* the header's message id */
	uint8_t envelope_hash[32];	/* SHA-256 of the SignedEnvelope */
	uint8_t *receipt;		/* the serialized Receipt, caller frees */
	size_t receipt_len;
};

/*
 * Submits one serialized SignedEnvelope and waits up to timeout_ms for its
 * receipt or rejection, resending the same bytes every resend_ms (0: a
 * third of timeout_ms). Returns 0 when the broker answered (look at
 * res->receipted), REPAT_ETIMEOUT, REPAT_EINVAL for bytes that are not an
 * envelope, REPAT_ESIG for a receipt the broker's key does not verify.
 * Deliveries arriving meanwhile are kept for repat_client_next_event().
 * Free res->receipt with free() (NULL when refused).
 */
int repat_client_submit(repat_client_t *c, const uint8_t *bytes, size_t len,
    int timeout_ms, struct repat_submit_result *res, char *errbuf);

/* One item of a pipelined batch. */
struct repat_submit_item {
	const uint8_t *bytes;		/* a serialized SignedEnvelope, borrowed */
	size_t len;
	struct repat_submit_result result;	/* filled by the call */
	bool answered;			/* result holds the broker's answer */
};

/*
 * Submits n envelopes with up to `pipeline` (0: 64) outstanding at once,
 * resending unanswered ones after resend_ms, and returns when every item
 * is answered or timeout_ms passed since the last answer (REPAT_ETIMEOUT;
 * the answered flags say which). Receipts covering several ids answer
 * them all. Bytes that are not a SignedEnvelope are answered locally
 * (code REJECT_MALFORMED, never sent); the others go on. The caller frees
 * each result.receipt.
 */
int repat_client_submit_batch(repat_client_t *c, struct repat_submit_item *items,
    size_t n, size_t pipeline, int resend_ms, int timeout_ms, char *errbuf);

/* ---- receiving */

enum repat_client_event_kind {
	REPAT_EVENT_DELIVER = 1,	/* a message addressed to us */
	REPAT_EVENT_NOTICE = 2,		/* a broker notice (delivered, expired, ...) */
	REPAT_EVENT_BYE = 3		/* the broker closed the session */
};

/* What repat_client_next_event() hands up. */
struct repat_client_event {
	int kind;			/* enum repat_client_event_kind */
	uint64_t seq;			/* delivery sequence, ack it when stored */
	/* REPAT_EVENT_DELIVER */
	uint8_t *envelope;		/* serialized SignedEnvelope, owned */
	size_t envelope_len;
	uint64_t accepted_ms;		/* when the broker accepted it */
	struct repat_verified v;	/* decoded; v.verified when it checked */
	char verify_error[256];		/* why it did not verify, else "" */
	/* REPAT_EVENT_NOTICE */
	uint8_t *notice;		/* the serialized Notice frame, owned */
	size_t notice_len;
	Repat__NoticeBody *notice_body;	/* decoded, owned; NULL if bad */
	bool notice_verified;		/* signed by the pinned broker key */
	/* REPAT_EVENT_BYE */
	int bye_code;			/* Repat__RejectCode or 0 */
	char bye_reason[256];
};

/*
 * Waits up to timeout_ms for the next event in sequence. Deliveries and
 * notices come in sequence order, each once per connection (redeliveries
 * of numbers already handed up are dropped). A delivery whose envelope
 * does not verify is still handed up, with v.verified false and
 * verify_error set: the application must ack it too (and quarantine it),
 * or the stream stops. 0 with *ev filled, REPAT_ETIMEOUT, or REPAT_EIO /
 * REPAT_EPROTO when not connected. Clear ev with repat_client_event_clear.
 */
int repat_client_next_event(repat_client_t *c, int timeout_ms,
    struct repat_client_event *ev);
void repat_client_event_clear(struct repat_client_event *ev);

/*
 * Acks everything up to up_to_seq (cumulative, signed with purpose "ack").
 * Does not wait for an answer. 0 or REPAT_EIO/REPAT_ECRYPTO.
 */
int repat_client_ack(repat_client_t *c, uint64_t up_to_seq, char *errbuf);

/* The highest sequence number handed up so far (0 before any). */
uint64_t repat_client_last_seq(const repat_client_t *c);

/* ---- queries */

/*
 * Fetches the directory: the certificate pairs of registered agents.
 * *out is decoded and the caller's (repat_msg_free). The caller checks
 * every entry against its own trust bundle before sealing to it.
 */
int repat_client_directory(repat_client_t *c, int timeout_ms,
    Repat__Directory **out, char *errbuf);

/* The non-personal state of a case we are party to; *out as above. */
int repat_client_case_query(repat_client_t *c, const char *case_ref,
    int timeout_ms, Repat__CaseState **out, char *errbuf);

/*
 * An audit proof: inclusion for message_id (16 bytes, or NULL) and/or
 * consistency from old_size (0: none). *out as above.
 */
int repat_client_proof(repat_client_t *c, const uint8_t *message_id,
    uint64_t old_size, int timeout_ms, Repat__Proof **out, char *errbuf);

/* Ping; on success *broker_time_ms is the broker's clock. */
int repat_client_ping(repat_client_t *c, int timeout_ms,
    uint64_t *broker_time_ms, char *errbuf);

/* ---- frames for code that drives the protocol itself */

/*
 * The serialized Frame of a hello signed by ks for the connection whose
 * CURVE public key is curve_key, to the broker whose CURVE key is
 * broker_key (docs/protocol.md). *out is the caller's. repat-bench sends
 * these on its own lean sockets; this library sends the same bytes.
 */
int repat_hello_frame(const struct repat_keystore *ks,
    const uint8_t curve_key[32], const uint8_t broker_key[32],
    uint64_t time_ms, uint32_t window, uint64_t acked_seq, uint8_t **out,
    size_t *outlen);

/* The serialized Frame of a cumulative Ack signed by ks. */
int repat_ack_frame(const struct repat_keystore *ks, uint64_t up_to_seq,
    uint64_t time_ms, uint8_t **out, size_t *outlen);

#endif
