/*
 * mem.c: aborting allocators and secret wiping (see repat/mem.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "repat/mem.h"

static void
oom(size_t n, const char *file, int line)
{
	fprintf(stderr, "repat: out of memory allocating %zu bytes at %s:%d\n",
	    n, file, line);
	abort();
}

void *
repat_xmalloc_at(size_t n, const char *file, int line)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n, file, line);
	return p;
}

void *
repat_xcalloc_at(size_t m, size_t n, const char *file, int line)
{
	void *p = calloc(m ? m : 1, n ? n : 1);

	if (p == NULL)
		oom(m * n, file, line);
	return p;
}

void *
repat_xrealloc_at(void *p, size_t n, const char *file, int line)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n, file, line);
	return q;
}

char *
repat_xstrdup_at(const char *s, const char *file, int line)
{
	size_t n = strlen(s) + 1;
	char *p = repat_xmalloc_at(n, file, line);

	memcpy(p, s, n);
	return p;
}

char *
repat_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0, __FILE__, __LINE__);
	s = repat_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void
repat_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
repat_free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	repat_wipe(p, n);
	free(p);
}
