/*
 * sqllex: the SQL lexer. See sqllex.h for the rules it follows.
 *
 * Every scan looks at each byte of the text a bounded number of times, so
 * lexing a text is linear in its length. Two places needed care for that:
 *   - an operator run whose trailing + and - are split off: by DuckDB's
 *     rules the bytes split off are then single-byte tokens, one by one;
 *     scanning the run again from each of them (as DuckDB's scanner does)
 *     would be quadratic, so the lexer remembers where the run ends
 *     (split_end) and returns those bytes without scanning;
 *   - the end of a $tag$ dollar quote is searched for once; a tag cannot
 *     contain $, so a partial match never overlaps the next candidate.
 * All reads go through at(), which answers '\0' past the end, so the text
 * need not be NUL-terminated and no scan runs past it.
 *
 * No state is shared: a lexer belongs to one thread.
 */
#include "sqllex.h"

#include <string.h>

static char at(const SqlLexer *lx, size_t i)
{
    return i < lx->len ? lx->text[i] : '\0';
}

static bool in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_ident_cont(char c)
{
    return is_ident_start(c) || is_digit(c) || c == '$';
}

static bool is_op_char(char c)
{
    return in_set(c, "~!@#^&|`+-*/%<>=");
}

static bool is_digit_or_sep(char c)
{
    return is_digit(c) || c == '_';
}

/*
 * Returns the end of a string or quoted identifier whose opening `quote`
 * is at i (a doubled quote stands for one; with `backslash`, a backslash
 * escapes the next byte), or 0 when it does not end.
 */
static size_t scan_quoted(const SqlLexer *lx, size_t i, char quote, bool backslash)
{
    for (i++; i < lx->len; i++) {
        char c = lx->text[i];
        if (backslash && c == '\\' && i + 1 < lx->len) {
            i++;
        } else if (c == quote) {
            if (at(lx, i + 1) != quote)
                return i + 1;
            i++;
        }
    }
    return 0;
}

/*
 * Returns the end of the number starting at i, as DuckDB's scanner reads
 * it: digits (with _ separators), a fraction, an exponent only when digits
 * follow the E, or 0x, 0b, 0o and their digits. Letters after a number
 * start a new token: 1e'x' is 1 and then the string E'x', 1$a$ is 1 and
 * then a dollar quote.
 */
static size_t scan_number(const SqlLexer *lx, size_t i)
{
    if (at(lx, i) == '0' && in_set(at(lx, i + 1), "xXbBoO") &&
        (is_xdigit(at(lx, i + 2)) || at(lx, i + 2) == '_')) {
        for (i += 2; is_xdigit(at(lx, i)) || at(lx, i) == '_'; i++)
            ;
        return i;
    }
    while (is_digit_or_sep(at(lx, i)))
        i++;
    if (at(lx, i) == '.' && at(lx, i + 1) != '.')
        for (i++; is_digit_or_sep(at(lx, i)); i++)
            ;
    char e = at(lx, i), sign = at(lx, i + 1);
    if ((e == 'e' || e == 'E') &&
        (is_digit(sign) || ((sign == '+' || sign == '-') && is_digit(at(lx, i + 2)))))
        for (i += 2; is_digit_or_sep(at(lx, i)); i++)
            ;
    return i;
}

/*
 * Returns the end of the operator starting at i, by the rules of DuckDB's
 * scanner (PostgreSQL's): a run of operator characters that stops where a
 * comment starts, and a trailing + or - is its own token unless the run has
 * one of ~!@#^&|`?%, so that "a=-1" is "a", "=", "-", "1". When trailing
 * bytes are split off, each of them is a token of one byte (the run from
 * any of them has only + and -), which split_end records.
 */
static size_t scan_operator(SqlLexer *lx, size_t i)
{
    if (i < lx->split_end)
        return i + 1;
    size_t start = i;
    while (is_op_char(at(lx, i)) && !(at(lx, i) == '-' && at(lx, i + 1) == '-') &&
           !(at(lx, i) == '/' && at(lx, i + 1) == '*'))
        i++;
    if (i == start)
        return i + 1;
    if (i - start > 1 && (at(lx, i - 1) == '+' || at(lx, i - 1) == '-')) {
        for (size_t k = start; k + 1 < i; k++)
            if (in_set(at(lx, k), "~!@#^&|`?%"))
                return i;
        size_t run_end = i;
        do
            i--;
        while (i - start > 1 && (at(lx, i - 1) == '+' || at(lx, i - 1) == '-'));
        lx->split_end = run_end;
    }
    return i;
}

/* The end of the block comment opening at i (nested ones included), or 0. */
static size_t scan_block_comment(const SqlLexer *lx, size_t i)
{
    size_t nest = 0;
    while (i < lx->len) {
        char c = lx->text[i], d = at(lx, i + 1);
        if (c == '/' && d == '*') {
            nest++;
            i += 2;
        } else if (c == '*' && d == '/') {
            i += 2;
            if (--nest == 0)
                return i;
        } else {
            i++;
        }
    }
    return 0;
}

/*
 * At a '$' at i: a dollar quote $$..$$ or $tag$..$tag$ (kind STRING), a
 * parameter $1 or $name (PARAM), or a lone '$' (OTHER). Sets *out_end;
 * returns the kind, or -1 for a dollar quote that does not end.
 */
static int scan_dollar(const SqlLexer *lx, size_t i, size_t *out_end)
{
    size_t j = i + 1;
    if (is_ident_start(at(lx, j)))
        while (is_ident_start(at(lx, j)) || is_digit(at(lx, j)))
            j++;
    if (at(lx, j) == '$') {
        const char *tag = lx->text + i;
        size_t taglen = j + 1 - i;
        for (size_t k = j + 1; k + taglen <= lx->len; k++) {
            if (lx->text[k] == '$' && memcmp(lx->text + k, tag, taglen) == 0) {
                *out_end = k + taglen;
                return SQLLEX_STRING;
            }
        }
        return -1;
    }
    if (j > i + 1) {
        while (is_ident_cont(at(lx, j)))
            j++;
        *out_end = j;
        return SQLLEX_PARAM;
    }
    if (is_digit(at(lx, j))) {
        while (is_digit(at(lx, j)))
            j++;
        *out_end = j;
        return SQLLEX_PARAM;
    }
    *out_end = i + 1;
    return SQLLEX_OTHER;
}

void sqllex_init(SqlLexer *lx, const char *text, size_t len, unsigned flags)
{
    *lx = (SqlLexer){.text = text, .len = len, .flags = flags};
}

static int fail(SqlLexer *lx, SqlLexError error, size_t offset)
{
    lx->error = error;
    lx->error_offset = offset;
    lx->pos = lx->len;
    return -1;
}

int sqllex_next(SqlLexer *lx, SqlToken *out)
{
    if (lx->error != SQLLEX_OK)
        return -1;
    size_t i = lx->pos;
    for (;;) {
        while (i < lx->len && is_space(lx->text[i]))
            i++;
        if (i >= lx->len) {
            lx->pos = i;
            return 0;
        }
        size_t start = i;
        char ch = lx->text[i], next = at(lx, i + 1);
        if (ch == '-' && next == '-') {
            while (i < lx->len && lx->text[i] != '\n' && lx->text[i] != '\r')
                i++;
        } else if (ch == '/' && next == '*') {
            i = scan_block_comment(lx, i);
            if (!i)
                return fail(lx, SQLLEX_UNTERMINATED_COMMENT, start);
        } else {
            break;
        }
        if (lx->flags & SQLLEX_KEEP_COMMENTS) {
            *out = (SqlToken){.offset = start, .length = i - start, .kind = SQLLEX_COMMENT};
            lx->pos = i;
            return 1;
        }
    }

    size_t start = i, end = 0;
    char ch = lx->text[i], next = at(lx, i + 1);
    SqlTokenKind kind;
    if (ch == '\'' || ch == '"') {
        end = scan_quoted(lx, i, ch, false);
        kind = ch == '"' ? SQLLEX_QUOTED : SQLLEX_STRING;
    } else if ((ch == 'e' || ch == 'E') && next == '\'') {
        end = scan_quoted(lx, i + 1, '\'', true);
        kind = SQLLEX_STRING;
    } else if (in_set(ch, "bBxXnN") && next == '\'') {
        end = scan_quoted(lx, i + 1, '\'', false);
        kind = SQLLEX_STRING;
    } else if ((ch == 'u' || ch == 'U') && next == '&' &&
               (at(lx, i + 2) == '\'' || at(lx, i + 2) == '"')) {
        char quote = at(lx, i + 2);
        end = scan_quoted(lx, i + 2, quote, false);
        kind = quote == '"' ? SQLLEX_QUOTED : SQLLEX_STRING;
    } else if (is_ident_start(ch)) {
        for (end = i; is_ident_cont(at(lx, end)); end++)
            ;
        kind = SQLLEX_WORD;
    } else if (ch == '$') {
        int k = scan_dollar(lx, i, &end);
        if (k < 0)
            return fail(lx, SQLLEX_UNTERMINATED_DOLLAR, start);
        kind = (SqlTokenKind)k;
    } else if (ch == '?') {
        for (end = i + 1; is_digit(at(lx, end)); end++)
            ;
        kind = SQLLEX_PARAM;
    } else if (is_digit(ch) || (ch == '.' && is_digit(next))) {
        end = scan_number(lx, i);
        kind = SQLLEX_NUMBER;
    } else if (is_op_char(ch)) {
        end = scan_operator(lx, i);
        kind = SQLLEX_OP;
    } else if (ch == ':') {
        end = i + ((next == ':' || next == '=') ? 2 : 1);
        kind = SQLLEX_OP;
    } else if (ch == '(' || ch == '[' || ch == '{') {
        end = i + 1;
        kind = SQLLEX_OPEN;
    } else if (ch == ')' || ch == ']' || ch == '}') {
        end = i + 1;
        kind = SQLLEX_CLOSE;
    } else if (ch == ',' || ch == ';' || ch == '.') {
        end = i + 1;
        kind = ch == ',' ? SQLLEX_COMMA : ch == ';' ? SQLLEX_SEMI : SQLLEX_DOT;
    } else {
        end = i + 1;
        kind = SQLLEX_OTHER;
    }
    if (!end)
        return fail(lx,
                    kind == SQLLEX_QUOTED ? SQLLEX_UNTERMINATED_QUOTED : SQLLEX_UNTERMINATED_STRING,
                    start);
    *out = (SqlToken){.offset = start, .length = end - start, .kind = kind};
    lx->pos = end;
    return 1;
}

const char *sqllex_error_name(SqlLexError error)
{
    switch (error) {
    case SQLLEX_OK:
        return "no error";
    case SQLLEX_UNTERMINATED_STRING:
        return "unterminated quoted string";
    case SQLLEX_UNTERMINATED_QUOTED:
        return "unterminated quoted identifier";
    case SQLLEX_UNTERMINATED_DOLLAR:
        return "unterminated dollar-quoted string";
    case SQLLEX_UNTERMINATED_COMMENT:
        return "unterminated comment";
    }
    return "unknown error";
}

const char *sqllex_kind_name(SqlTokenKind kind)
{
    static const char *const names[] = {
        [SQLLEX_WORD] = "word",     [SQLLEX_QUOTED] = "quoted", [SQLLEX_STRING] = "string",
        [SQLLEX_NUMBER] = "number", [SQLLEX_PARAM] = "param",   [SQLLEX_OP] = "op",
        [SQLLEX_OPEN] = "open",     [SQLLEX_CLOSE] = "close",   [SQLLEX_COMMA] = "comma",
        [SQLLEX_SEMI] = "semi",     [SQLLEX_DOT] = "dot",       [SQLLEX_COMMENT] = "comment",
        [SQLLEX_OTHER] = "other",
    };
    if ((unsigned)kind >= sizeof(names) / sizeof(names[0]) || !names[kind])
        return "unknown";
    return names[kind];
}

size_t sqllex_identifier(const char *text, const SqlToken *tok, Buf *out)
{
    const char *s = text + tok->offset;
    buf_reset(out, 4096);
    if (tok->kind == SQLLEX_QUOTED) {
        size_t from = (s[0] == '"') ? 1 : 3; /* "x" or U&"x" */
        for (size_t k = from; k + 1 < tok->length; k++) {
            buf_putc(out, s[k]);
            if (s[k] == '"')
                k++;
        }
    } else {
        buf_append(out, s, tok->length);
    }
    buf_cstr(out);
    return out->len;
}

bool sqllex_is_word(const char *text, const SqlToken *tok, const char *lower)
{
    if (tok->kind != SQLLEX_WORD || strlen(lower) != tok->length)
        return false;
    const char *s = text + tok->offset;
    for (size_t i = 0; i < tok->length; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Bounds (sqllex_check_bounds)                                              */

/* The run of operator characters being measured: the bytes up to `end`. */
typedef struct OpRun {
    size_t end, len;
    size_t openers; /* comment openers in the run */
    bool in_code;   /* some of it is code, not comment */
} OpRun;

static const char reason_run[] = "a run of more than 64 operator characters";
static const char reason_depth[] = "block comments nested more than 64 deep";
_Static_assert(SQLLEX_MAX_OPERATOR_RUN == 64 && SQLLEX_MAX_COMMENT_DEPTH == 64,
               "the reasons above name the bounds");

/*
 * Adds the `n` operator bytes at `offset` to the run, which they continue
 * when they follow it directly, or start anew. Returns whether the run is
 * now out of bounds.
 */
static bool run_add(OpRun *r, size_t offset, size_t n, bool code, size_t openers)
{
    if (offset != r->end || r->len == 0)
        *r = (OpRun){0};
    r->end = offset + n;
    r->len += n;
    r->openers += openers;
    r->in_code |= code;
    return r->len > SQLLEX_MAX_OPERATOR_RUN && (r->in_code || r->openers > 1);
}

/*
 * Measures the block comment [i, end) (nested ones included, as
 * scan_block_comment reads them). Returns a reason, or NULL.
 */
static const char *check_block_comment(const SqlLexer *lx, size_t i, size_t end, OpRun *r)
{
    size_t depth = 0;
    while (i < end) {
        char c = lx->text[i], d = at(lx, i + 1);
        if (c == '/' && d == '*') {
            if (++depth > SQLLEX_MAX_COMMENT_DEPTH)
                return reason_depth;
            if (run_add(r, i, 2, false, 1))
                return reason_run;
            i += 2;
        } else if (c == '*' && d == '/') {
            if (run_add(r, i, 2, false, 0))
                return reason_run;
            i += 2;
            if (--depth == 0)
                return NULL;
        } else {
            if (is_op_char(c) && run_add(r, i, 1, false, 0))
                return reason_run;
            i++;
        }
    }
    return NULL;
}

const char *sqllex_check_bounds(const char *text, size_t len)
{
    SqlLexer lx;
    SqlToken t;
    OpRun r = {0};
    const char *why = NULL;
    int rc = 0;
    sqllex_init(&lx, text, len, SQLLEX_KEEP_COMMENTS);
    while (!why && (rc = sqllex_next(&lx, &t)) > 0) {
        const char *s = text + t.offset;
        if (t.kind == SQLLEX_OP && is_op_char(s[0])) {
            if (run_add(&r, t.offset, t.length, true, 0))
                why = reason_run;
        } else if (t.kind == SQLLEX_COMMENT && s[0] == '/') {
            why = check_block_comment(&lx, t.offset, t.offset + t.length, &r);
        } else if (t.kind == SQLLEX_COMMENT && r.in_code && t.offset == r.end) {
            /* `+--...`: DuckDB's operator rule reads on into the comment's
             * leading operator bytes; a comment alone is one match. */
            size_t n = 0;
            while (n < t.length && is_op_char(s[n]))
                n++;
            if (run_add(&r, t.offset, n, true, 0))
                why = reason_run;
            r = (OpRun){0};
        } else {
            r = (OpRun){0};
        }
    }
    if (!why && rc < 0 && lx.error == SQLLEX_UNTERMINATED_COMMENT)
        why = check_block_comment(&lx, lx.error_offset, len, &r);
    return why;
}
