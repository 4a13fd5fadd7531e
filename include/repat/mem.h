/*
 * mem.h: allocation that never returns NULL, and secret wiping.
 *
 * Out of memory aborts with file and line (OpenSMTPD, CZMQ, Redis): memory
 * abuse is prevented by input limits (limits.h), not by handling NULL at
 * every call site.
 */
#ifndef REPAT_MEM_H
#define REPAT_MEM_H

#include <stddef.h>

#define repat_xmalloc(n)	repat_xmalloc_at((n), __FILE__, __LINE__)
#define repat_xcalloc(m, n)	repat_xcalloc_at((m), (n), __FILE__, __LINE__)
#define repat_xrealloc(p, n)	repat_xrealloc_at((p), (n), __FILE__, __LINE__)
#define repat_xstrdup(s)	repat_xstrdup_at((s), __FILE__, __LINE__)

void *repat_xmalloc_at(size_t n, const char *file, int line);
void *repat_xcalloc_at(size_t m, size_t n, const char *file, int line);
void *repat_xrealloc_at(void *p, size_t n, const char *file, int line);
char *repat_xstrdup_at(const char *s, const char *file, int line);
/* asprintf that aborts on failure; the caller frees. */
char *repat_xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Wipes n bytes in a way the compiler cannot remove. */
void repat_wipe(void *p, size_t n);
/* Wipes then frees; p may be NULL. */
void repat_free_secret(void *p, size_t n);

#endif
