/*
 * buf: a growable byte buffer, the one string type of the server.
 *
 * Responses are built into a Buf and written to the socket in large pieces;
 * a worker keeps one Buf for its whole life and resets it between requests,
 * so the steady state allocates nothing. The contents are not NUL-terminated
 * unless buf_cstr() is called. Growth failure aborts (out of memory is a
 * programmer-level condition here, as in Redis' sds).
 */
#ifndef TCPDUCKDB_BUF_H
#define TCPDUCKDB_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct Buf {
    char *data;
    size_t len;
    size_t cap;
} Buf;

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for at least n more bytes; returns the write position. */
char *buf_reserve(Buf *b, size_t n);
void buf_append(Buf *b, const void *p, size_t n);
void buf_append_str(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` between two `quote` characters, doubling each `quote` inside
 * it: a SQL identifier ("a""b") or string literal ('it''s'). */
void buf_append_quoted(Buf *b, const char *s, char quote);
/* Removes the first n bytes (n <= len), keeping the rest in order. */
void buf_consume(Buf *b, size_t n);
/* Returns the contents as a NUL-terminated string, owned by the buffer. */
const char *buf_cstr(Buf *b);
/* Empties the buffer, keeping its memory unless it grew past keep bytes. */
void buf_reset(Buf *b, size_t keep);
/* Frees the memory; the Buf is then empty and reusable. Accepts NULL. */
void buf_free(Buf *b);

static inline void buf_putc(Buf *b, char c)
{
    if (b->len == b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
}

#endif
