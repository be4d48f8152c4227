/*
 * fuzz_sqllex: the SQL lexer (src/sqllex.c) on any bytes. For every input:
 * tokens come in order, inside the text, non-empty and never overlapping;
 * what lies between two tokens is whitespace or comments (lexing it with
 * comments kept gives only comment tokens, whitespace between them); the
 * same text lexed with comments kept gives the same other tokens; each
 * token lexed alone gives itself back (a token never depends on what
 * follows it once it has ended); an error is reported at or after
 * the last token and repeats on the next call. A hang (non-linear time)
 * is a timeout.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "sqllex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The bytes [a, b) hold only whitespace and complete comments. */
static void check_gap(const char *s, size_t a, size_t b)
{
    SqlLexer lx;
    SqlToken t;
    size_t pos = a;
    sqllex_init(&lx, s + a, b - a, SQLLEX_KEEP_COMMENTS);
    while (sqllex_next(&lx, &t) > 0) {
        assert(t.kind == SQLLEX_COMMENT);
        for (size_t k = pos; k < a + t.offset; k++)
            assert(is_space(s[k]));
        pos = a + t.offset + t.length;
    }
    assert(lx.error == SQLLEX_OK);
    for (size_t k = pos; k < b; k++)
        assert(is_space(s[k]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    SqlLexer lx, kept;
    SqlToken t, k;
    int rc, krc;
    size_t end = 0;
    sqllex_init(&lx, s, size, 0);
    sqllex_init(&kept, s, size, SQLLEX_KEEP_COMMENTS);
    while ((rc = sqllex_next(&lx, &t)) > 0) {
        assert(t.length >= 1 && t.offset >= end && t.offset + t.length <= size);
        assert(t.kind != SQLLEX_COMMENT);
        assert(strcmp(sqllex_kind_name(t.kind), "unknown") != 0);
        check_gap(s, end, t.offset);
        while ((krc = sqllex_next(&kept, &k)) > 0 && k.kind == SQLLEX_COMMENT)
            ;
        assert(krc == 1 && k.offset == t.offset && k.length == t.length && k.kind == t.kind);

        /* Alone, a token lexes as itself: an operator split off a run (a=-1) too. */
        SqlLexer one;
        SqlToken u;
        sqllex_init(&one, s + t.offset, t.length, 0);
        assert(sqllex_next(&one, &u) == 1);
        assert(u.offset == 0 && u.length == t.length && u.kind == t.kind);
        assert(sqllex_next(&one, &u) == 0);
        end = t.offset + t.length;
    }
    if (rc == 0) {
        check_gap(s, end, size);
        while ((krc = sqllex_next(&kept, &k)) > 0)
            assert(k.kind == SQLLEX_COMMENT);
        assert(krc == 0);
    } else {
        assert(lx.error != SQLLEX_OK && lx.error_offset >= end && lx.error_offset < size);
        assert(strcmp(sqllex_error_name(lx.error), "unknown error") != 0);
    }
    assert(sqllex_next(&lx, &t) == rc);
    return 0;
}
