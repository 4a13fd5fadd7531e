/*
 * limits.h: the size limits of untrusted input, checked before any decode
 * or allocation. The broker sets ZMQ_MAXMSGSIZE from REPAT_MAX_FRAME.
 *
 * Compatibility: lowering a limit can make a peer's valid message invalid;
 * raising one is safe. Change them together with docs/protocol.md.
 */
#ifndef REPAT_LIMITS_H
#define REPAT_LIMITS_H

#define REPAT_MAX_FRAME		(1024 * 1024)	/* one ZeroMQ message */
#define REPAT_MAX_ENVELOPE	(960 * 1024)	/* one SignedEnvelope */
#define REPAT_MAX_HEADER	4096		/* one serialized Header */
#define REPAT_MAX_PAYLOAD	(768 * 1024)	/* plaintext before padding */
#define REPAT_MAX_FORM_JSON	(512 * 1024)	/* one form as JSON text */
#define REPAT_MAX_CERT		4096		/* one DER certificate */
#define REPAT_MAX_CERTS		4		/* certificates in one chain */
#define REPAT_MAX_CRLS		256		/* CRLs in one Directory */
#define REPAT_MAX_AGENT_ID	64		/* CC.ORG[.UNIT] */
#define REPAT_MAX_CASE_REF	16		/* CC-YYYY-NNNNNN */
#define REPAT_MAX_STRING	4096		/* one free-text form field */
#define REPAT_MAX_REPEATED	256		/* items in one form list */
#define REPAT_MAX_CONFIG	(64 * 1024)	/* one config or agreement file */
#define REPAT_MESSAGE_ID_LEN	16
#define REPAT_MESSAGE_ID_TIME_LEN 6		/* its leading ms timestamp */
#define REPAT_HASH_LEN		32

#endif
