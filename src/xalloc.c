/*
 * xalloc: allocation that ends the process when memory runs out. See
 * xalloc.h for the contract and the reason.
 */
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "memguard.h"

/*
 * A NULL may be the memory guard refusing the worker's statement more
 * memory (memguard.h): the server's own structures must not fail with it,
 * so the call is repeated once with the guard lifted. Only a second NULL is
 * the system's memory running out.
 */
void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        memguard_lift(true);
        p = malloc(n ? n : 1);
        memguard_lift(false);
    }
    if (!p)
        log_fatal("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        memguard_lift(true);
        p = calloc(n ? n : 1, size ? size : 1);
        memguard_lift(false);
    }
    if (!p)
        log_fatal("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        memguard_lift(true);
        q = realloc(p, n ? n : 1);
        memguard_lift(false);
    }
    if (!q)
        log_fatal("out of memory (%zu bytes)", n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
