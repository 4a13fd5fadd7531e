/*
 * err.c: error phrases and error-buffer helpers (see repat/err.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "repat/err.h"

static const char *const phrases[] = {
	[0] = "success",
	[1] = "invalid input",
	[2] = "input too large",
	[3] = "cannot decode",
	[4] = "cryptographic failure",
	[5] = "bad signature",
	[6] = "certificate not acceptable",
	[7] = "certificate revoked",
	[8] = "expired",
	[9] = "input/output error",
	[10] = "not found",
	[11] = "permission problem",
	[12] = "database error",
	[13] = "storage full",
	[14] = "form does not validate",
	[15] = "header facts do not match payload",
	[16] = "payload does not open",
	[17] = "timed out",
	[18] = "refused",
	[19] = "protocol violation",
	[20] = "agreement problem",
	[21] = "already exists",
	[22] = "stored data corrupt",
	[23] = "passphrase missing or wrong",
	[24] = "usage error",
};

const char *
repat_strerror(int code)
{
	int i = -code;

	if (i < 0 || (size_t)i >= sizeof(phrases) / sizeof(phrases[0]) ||
	    phrases[i] == NULL)
		return "unknown error";
	return phrases[i];
}

int
repat_errf(char *errbuf, int code, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL)
		return code;
	va_start(ap, fmt);
	vsnprintf(errbuf, REPAT_ERRBUF_LEN, fmt, ap);
	va_end(ap);
	return code;
}

int
repat_err_openssl(char *errbuf, int code)
{
	unsigned long e;
	size_t used;
	char one[160];

	while ((e = ERR_get_error()) != 0) {
		if (errbuf == NULL)
			continue;
		ERR_error_string_n(e, one, sizeof(one));
		used = strnlen(errbuf, REPAT_ERRBUF_LEN);
		if (used + 3 < REPAT_ERRBUF_LEN)
			snprintf(errbuf + used, REPAT_ERRBUF_LEN - used, "%s%s",
			    used ? ": " : "", one);
	}
	return code;
}
