/*
 * err.h: librepat's one error enum.
 *
 * Functions named as actions return 0 on success or a negative REPAT_E*
 * code; repat_strerror() turns a code into a short English phrase. The
 * detail a person needs (which field, which file) travels in the caller's
 * error buffer, never in the code.
 */
#ifndef REPAT_ERR_H
#define REPAT_ERR_H

#include <stddef.h>

enum repat_err {
	REPAT_OK = 0,
	REPAT_EINVAL = -1,	/* bad argument or malformed input */
	REPAT_ETOOBIG = -2,	/* input over a size limit */
	REPAT_EDECODE = -3,	/* bytes do not decode */
	REPAT_ECRYPTO = -4,	/* a cryptographic operation failed */
	REPAT_ESIG = -5,	/* a signature does not verify */
	REPAT_ECERT = -6,	/* a certificate is not acceptable */
	REPAT_EREVOKED = -7,	/* a certificate is revoked */
	REPAT_EEXPIRED = -8,	/* something is past its validity */
	REPAT_EIO = -9,		/* a file or socket operation failed */
	REPAT_ENOENT = -10,	/* a file, key or record is missing */
	REPAT_EPERM = -11,	/* permissions are unsafe or refused */
	REPAT_EDB = -12,	/* the database failed */
	REPAT_EFULL = -13,	/* storage is full */
	REPAT_EFORM = -14,	/* a form does not validate */
	REPAT_EFACTS = -15,	/* header facts do not match the payload */
	REPAT_EOPEN = -16,	/* a sealed payload does not open */
	REPAT_ETIMEOUT = -17,	/* no answer in time */
	REPAT_EREFUSED = -18,	/* the peer refused (see its rejection) */
	REPAT_EPROTO = -19,	/* the peer broke the protocol */
	REPAT_EAGREEMENT = -20,	/* an agreement is missing, unsigned or invalid */
	REPAT_EEXIST = -21,	/* the thing already exists */
	REPAT_ECORRUPT = -22,	/* stored data fails its integrity check */
	REPAT_EPASS = -23,	/* passphrase missing or wrong */
	REPAT_EUSAGE = -24,	/* a command was called wrongly */
	REPAT_ERR_MIN_ = -25	/* keep last */
};

/* A static phrase for code; never NULL. */
const char *repat_strerror(int code);

/*
 * Error buffers: helpers that can say more than a code take a caller's
 * buffer of REPAT_ERRBUF_LEN bytes and write one sentence into it (as
 * Redis's anet does); the caller decides whether to log or print it.
 */
#define REPAT_ERRBUF_LEN 256

/* Formats into errbuf (may be NULL) and returns code, for one-line returns. */
int repat_errf(char *errbuf, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Appends OpenSSL's queued errors to errbuf (after a ": ") and clears the
 * queue, so no stale error leaks into the next operation. Returns code.
 */
int repat_err_openssl(char *errbuf, int code);

#endif
