/*
 * Unit tests of sqllex.c, the SQL lexer. A table of cases gives each text
 * and its tokens written as `kind:text` separated by spaces (or the error);
 * the rules follow DuckDB 1.5's scanner, checked against DuckDB itself
 * where noted. Further tests: comments kept as tokens, identifiers, texts
 * that are not NUL-terminated, and lexing time on the inputs that make
 * DuckDB's own scanner quadratic.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqllex.h"
#include "unit.h"

/* The tokens of text[0, len) as "kind:text ...", or "error:NAME@OFFSET". */
static void dump(const char *text, size_t len, unsigned flags, Buf *out)
{
    SqlLexer lx;
    SqlToken t;
    int rc;
    buf_reset(out, 4096);
    sqllex_init(&lx, text, len, flags);
    while ((rc = sqllex_next(&lx, &t)) > 0) {
        if (out->len)
            buf_putc(out, ' ');
        buf_printf(out, "%s:%.*s", sqllex_kind_name(t.kind), (int)t.length, text + t.offset);
    }
    if (rc < 0) {
        if (out->len)
            buf_putc(out, ' ');
        buf_printf(out, "error:%s@%zu", sqllex_error_name(lx.error), lx.error_offset);
    }
    buf_cstr(out);
}

static const struct {
    const char *sql;
    const char *tokens;
} cases[] = {
    {"", ""},
    {"  \t\n ", ""},
    {"SELECT a, b FROM t;", "word:SELECT word:a comma:, word:b word:FROM word:t semi:;"},
    {"s.t.c", "word:s dot:. word:t dot:. word:c"},
    {"_x$1 \xc3\xa9t\xc3\xa9", "word:_x$1 word:\xc3\xa9t\xc3\xa9"},
    /* Strings: '' doubles a quote, no backslash escapes (SELECT 'a\' is a\). */
    {"'it''s' 'a\\'", "string:'it''s' string:'a\\'"},
    {"E'a\\'b' e'\\\\'", "string:E'a\\'b' string:e'\\\\'"},
    {"B'101' X'ff' N'x' U&'d\\0061'", "string:B'101' string:X'ff' string:N'x' string:U&'d\\0061'"},
    {"\"a\"\"b\" U&\"x\"", "quoted:\"a\"\"b\" quoted:U&\"x\""},
    {"$$a'b$$ $t$x$$y$t$ $a$", "string:$$a'b$$ string:$t$x$$y$t$ error:unterminated "
                               "dollar-quoted string@19"},
    {"$1 $name ?2 ? $", "param:$1 param:$name param:?2 param:? other:$"},
    {"x$1", "word:x$1"},
    /* Comments: -- to the end of the line; block comments nest. */
    {"a -- b\nc", "word:a word:c"},
    {"a /* b /* c */ d */ e", "word:a word:e"},
    {"a /* b /* c */ d", "word:a error:unterminated comment@2"},
    {"/**/1", "number:1"},
    {"/*/ */x", "word:x"},
    {"a/**/b", "word:a word:b"},
    /* Numbers end where a letter starts; an exponent needs digits. */
    {"1 1.5 .5 1e10 1e-3 1_000 0x1F 0b_1 1e", "number:1 number:1.5 number:.5 number:1e10 "
                                              "number:1e-3 number:1_000 number:0x1F number:0b_1 "
                                              "number:1 word:e"},
    {"1e'x' 1$a$ 1..2", "number:1 string:e'x' number:1 error:unterminated "
                        "dollar-quoted string@7"},
    {"1..2", "number:1 dot:. number:.2"},
    /* Operators: cut at comments; trailing + and - split off unless ~!@#^&|`?% precede. */
    {"a=-1", "word:a op:= op:- number:1"},
    {"a<>b a>=b a!=b", "word:a op:<> word:b word:a op:>= word:b word:a op:!= word:b"},
    {"a+-+b", "word:a op:+ op:- op:+ word:b"},
    {"a*-b", "word:a op:* op:- word:b"},
    {"a@-b", "word:a op:@- word:b"},
    {"a+/*c*/-b", "word:a op:+ op:- word:b"},
    {"a*--c\n", "word:a op:*"},
    {"x::int y:=1 z:a", "word:x op::: word:int word:y op::= number:1 word:z op:: word:a"},
    {"f(a[1]){}", "word:f open:( word:a open:[ number:1 close:] close:) open:{ close:}"},
    {"a \\ b", "word:a other:\\ word:b"},
    /* Unterminated strings and identifiers. */
    {"'abc", "error:unterminated quoted string@0"},
    {"x E'ab\\'", "word:x error:unterminated quoted string@2"},
    {"\"abc", "error:unterminated quoted identifier@0"},
    {"U&\"a", "error:unterminated quoted identifier@0"},
};

static void test_cases(void)
{
    Buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dump(cases[i].sql, strlen(cases[i].sql), 0, &out);
        CHECK_STR(out.data, cases[i].tokens);
    }
    buf_free(&out);
}

static void test_keep_comments(void)
{
    Buf out = BUF_INIT;
    const char *sql = "a -- x\n/* y /* z */ */b--";
    dump(sql, strlen(sql), SQLLEX_KEEP_COMMENTS, &out);
    CHECK_STR(out.data, "word:a comment:-- x comment:/* y /* z */ */ word:b comment:--");
    buf_free(&out);
}

/* Calls after the end or an error keep answering the same. */
static void test_sticky_end(void)
{
    SqlLexer lx;
    SqlToken t;
    sqllex_init(&lx, "a 'b", 4, 0);
    CHECK(sqllex_next(&lx, &t) == 1);
    CHECK(sqllex_next(&lx, &t) == -1);
    CHECK(sqllex_next(&lx, &t) == -1);
    CHECK(lx.error == SQLLEX_UNTERMINATED_STRING && lx.error_offset == 2);
    sqllex_init(&lx, "a", 1, 0);
    CHECK(sqllex_next(&lx, &t) == 1);
    CHECK(sqllex_next(&lx, &t) == 0);
    CHECK(sqllex_next(&lx, &t) == 0);
}

/* The length bounds the text: nothing past it is read, a NUL inside is a token. */
static void test_length(void)
{
    Buf out = BUF_INIT;
    char *s = malloc(7);
    memcpy(s, "ab'cd'e", 7); /* no NUL: ASan catches a read past the end */
    dump(s, 2, 0, &out);
    CHECK_STR(out.data, "word:ab");
    dump(s, 4, 0, &out);
    CHECK_STR(out.data, "word:ab error:unterminated quoted string@2");
    dump(s, 7, 0, &out);
    CHECK_STR(out.data, "word:ab string:'cd' word:e");
    memcpy(s, "$a$x$a", 6);
    dump(s, 6, 0, &out);
    CHECK_STR(out.data, "error:unterminated dollar-quoted string@0");
    memcpy(s, "/*", 2);
    dump(s, 2, 0, &out);
    CHECK_STR(out.data, "error:unterminated comment@0");
    memcpy(s, "1e+", 3);
    dump(s, 3, 0, &out);
    CHECK_STR(out.data, "number:1 word:e op:+");
    dump("a\0b", 3, 0, &out);
    CHECK_STR(out.data, "word:a other: word:b"); /* %.*s stops at the NUL */
    free(s);
    buf_free(&out);
}

static void test_identifier(void)
{
    Buf out = BUF_INIT;
    const char *sql = "Tab \"a\"\"B\" U&\"x\" select";
    SqlLexer lx;
    SqlToken t[4];
    sqllex_init(&lx, sql, strlen(sql), 0);
    for (int i = 0; i < 4; i++)
        CHECK(sqllex_next(&lx, &t[i]) == 1);
    CHECK(sqllex_identifier(sql, &t[0], &out) == 3);
    CHECK_STR(out.data, "Tab");
    sqllex_identifier(sql, &t[1], &out);
    CHECK_STR(out.data, "a\"B");
    sqllex_identifier(sql, &t[2], &out);
    CHECK_STR(out.data, "x");
    CHECK(sqllex_is_word(sql, &t[3], "select"));
    CHECK(sqllex_is_word(sql, &t[0], "tab"));
    CHECK(!sqllex_is_word(sql, &t[1], "a\"b"));
    CHECK(!sqllex_is_word(sql, &t[0], "ta"));
    buf_free(&out);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Texts of 4 MiB repeating each piece that makes a scanner of DuckDB's kind
 * quadratic (DuckDB takes seconds for 20 KiB of them): each must lex in
 * well under a second, where a quadratic lexer would take hours.
 */
static void test_linear(void)
{
    static const char *const pieces[] = {"/*", "*/",   "/**/", "+",  "+-", "*+", "$a",
                                         "'",  "E'\\", "\"",   "--", "(",  "1e"};
    enum { SIZE = 4 << 20 };
    char *s = malloc(SIZE);
    for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
        size_t plen = strlen(pieces[p]);
        for (size_t i = 0; i < SIZE; i++)
            s[i] = pieces[p][i % plen];
        SqlLexer lx;
        SqlToken t;
        size_t n = 0;
        double t0 = seconds();
        sqllex_init(&lx, s, SIZE, 0);
        while (sqllex_next(&lx, &t) > 0)
            n++;
        double took = seconds() - t0;
        CHECK(took < 2.0);
        if (took >= 2.0)
            fprintf(stderr, "\"%s\" x %zu: %zu tokens in %.2f s\n", pieces[p], SIZE / plen, n,
                    took);
    }
    free(s);
}

/* A text of `n` copies of `piece` between `head` and `tail`; caller frees. */
static char *repeat(const char *head, const char *piece, size_t n, const char *tail)
{
    size_t hl = strlen(head), pl = strlen(piece), tl = strlen(tail);
    char *s = malloc(hl + pl * n + tl + 1);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * pl, piece, pl);
    memcpy(s + hl + pl * n, tail, tl + 1);
    return s;
}

/* Whether sqllex_check_bounds() refuses `s` (and then with which reason). */
static const char *bounds(const char *s)
{
    return sqllex_check_bounds(s, strlen(s));
}

/*
 * What sqllex_check_bounds() lets through (every SQL text we know of, with
 * long runs where real texts have them: strings, line comments, banners)
 * and what it refuses (the runs on which DuckDB's scanner is quadratic).
 */
static void test_bounds(void)
{
    static const char run[] = "a run of more than 64 operator characters";
    static const char depth[] = "block comments nested more than 64 deep";
    static const struct {
        const char *head, *piece;
        size_t n;
        const char *tail, *want;
    } bcases[] = {
        {"SELECT 1", "", 0, "", NULL},
        {"SELECT a<=-1, b->>'x', c !~~* 'y', d::INT, e||f FROM t", "", 0, "", NULL},
        {"SELECT 1 ", "+", 64, "1", NULL},
        {"SELECT 1 ", "+", 65, "1", run},
        {"SELECT 1 ", "+", 2500, "", run},
        {"SELECT 1 ", "-+", 40, "1", run},
        {"SELECT 1 ", "=", 65, "", run},
        {"SELECT 1 ", "+ ", 5000, "1", NULL}, /* spaced out: DuckDB is fast */
        {"SELECT '", "+", 5000, "'", NULL},
        {"SELECT \"", "+", 5000, "\" FROM t", NULL},
        {"SELECT $$", "/*", 5000, "$$", NULL},
        {"SELECT E'", "\\'+", 5000, "'", NULL},
        {"-- ", "=", 200, "\nSELECT 1", NULL},
        {"--", "-", 200, "\nSELECT 1", NULL},
        {"SELECT 1 +", "-", 100, "\n", run}, /* DuckDB's operator reads into the comment */
        {"/", "*", 200, "/ SELECT 1", NULL}, /* a banner: one opener */
        {"/* ", "-+", 200, " */ SELECT 1", NULL},
        {"/* ", "/* x */ ", 1000, "*/ SELECT 1", NULL},
        {"SELECT 1 /*", "/**/", 15, "*/", NULL},
        {"SELECT 1 /*", "/**/", 17, "*/", run},
        {"SELECT 1 /*", "/**/", 5000, "*/", run},
        {"", "/*", 10000, "", run},
        {"SELECT 1 +", "/*", 40, "", run},   /* unterminated, after code */
        {"SELECT 1 ", "/* ", 64, "", NULL},  /* unterminated, DuckDB's error */
        {"SELECT 1 ", "/* ", 65, "", depth}, /* unterminated */
        {"SELECT '", "+", 100, "", NULL},    /* unterminated string: read once */
    };
    for (size_t i = 0; i < sizeof(bcases) / sizeof(bcases[0]); i++) {
        char *s = repeat(bcases[i].head, bcases[i].piece, bcases[i].n, bcases[i].tail);
        const char *got = bounds(s);
        CHECK((got == NULL) == (bcases[i].want == NULL));
        if (got && bcases[i].want)
            CHECK_STR(got, bcases[i].want);
        if ((got == NULL) != (bcases[i].want == NULL))
            fprintf(stderr, "case %zu: %.60s... x %zu: got %s\n", i, bcases[i].head, bcases[i].n,
                    got ? got : "(within bounds)");
        free(s);
    }
    /* Nesting: 64 levels are within bounds, 65 are not. */
    char *open64 = repeat("SELECT 1 ", "/* ", 64, ""), *open65 = repeat("SELECT 1 ", "/* ", 65, "");
    char *ok = repeat(open64, " */", 64, ""), *deep = repeat(open65, " */", 65, "");
    CHECK(bounds(ok) == NULL);
    const char *why = bounds(deep);
    CHECK(why != NULL && strcmp(why, depth) == 0);
    free(open64);
    free(open65);
    free(ok);
    free(deep);
    /* The text ends where DuckDB's C API ends it only if the caller says so:
     * `len` is what is checked. */
    CHECK(sqllex_check_bounds("SELECT 1 ++++", 9) == NULL);
}

/*
 * sqllex_check_bounds() on 4 MiB texts: each completes (a quadratic check
 * would not, within the test's time), whether the text is within bounds
 * and read to its end, or out of bounds only at its end.
 */
static void test_bounds_linear(void)
{
    static const struct {
        const char *piece, *tail;
        bool ok;
    } texts[] = {
        {"a + ", "", true},
        {"/* x */ ", "", true},
        {"'+++' ", "", true},
        {"-- ==== \n", "", true},
        {"/*** ", "", false}, /* 4 MiB of nesting: too deep at level 65 */
        {"a + ", "1 ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++", false},
        {"+ -", "", true},
    };
    enum { SIZE = 4 << 20 };
    for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        size_t n = SIZE / strlen(texts[k].piece);
        char *s = repeat("", texts[k].piece, n, texts[k].tail);
        const char *got = sqllex_check_bounds(s, strlen(s));
        CHECK((got == NULL) == texts[k].ok);
        free(s);
    }
}

int main(void)
{
    UNIT_RUN(test_cases);
    UNIT_RUN(test_keep_comments);
    UNIT_RUN(test_sticky_end);
    UNIT_RUN(test_length);
    UNIT_RUN(test_identifier);
    UNIT_RUN(test_linear);
    UNIT_RUN(test_bounds);
    UNIT_RUN(test_bounds_linear);
    return unit_summary("test_sqllex");
}
