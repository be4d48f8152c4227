/*
 * xalloc: the server's allocation functions that never return NULL. Like
 * Redis's zmalloc, running out of memory is not an error a request can
 * recover from in this process: the functions log and abort (log_fatal), so
 * callers need no NULL checks and no error path for allocation.
 *
 * Use them for the server's own structures. Memory a user's request can
 * make arbitrarily large (a result, a request text) must be bounded before
 * it is allocated (MaxRequestBytes, the output buffer's limits), not left to
 * these functions to stop. A zero size allocates one byte, so a NULL result
 * always means failure and never "nothing". Free with free(). Any thread.
 *
 * On a worker thread running a statement, malloc may return NULL because
 * the memory guard refuses the statement more memory (memguard.h); these
 * functions then retry once with the guard lifted, so the server's own
 * structures never fail for a statement's limit.
 */
#ifndef TCPDUCKDB_XALLOC_H
#define TCPDUCKDB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull, alloc_size(1)));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull, alloc_size(1, 2)));
/* realloc(p, n); p may be NULL. On failure p is left as it was (the process ends anyway). */
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull, alloc_size(2)));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
/* A NUL-terminated copy of the first n bytes of s (which need not be terminated). */
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));

#endif
