/*
 * autoparam: the literals a SELECT can take as parameters. See autoparam.h
 * for the rules; every one of them errs on the side of keeping a literal.
 *
 * The text is lexed once into a bounded token array (a longer text is not
 * looked at), then each literal is judged by its neighbours: two tokens
 * before it (the column and the comparison), the token before the column,
 * and the token after the literal.
 */
#include "autoparam.h"

#include <stdint.h>
#include <string.h>

#include "sqllex.h"

/* Tokens of one text looked at; a text with more keeps its literals. */
#define MAX_TOKENS 1024

/* Words after which a bare column starts a comparison of its own. */
static const char *const starts[] = {"where", "and", "or", "not"};

/* Words that may follow a taken literal without binding to it. */
static const char *const ends[] = {"and",    "or",      "order",  "group", "limit",  "offset",
                                   "having", "qualify", "window", "union", "except", "intersect"};

/* Words that are no column: a literal compared with them stays. */
static const char *const not_columns[] = {"not",
                                          "null",
                                          "true",
                                          "false",
                                          "exists",
                                          "case",
                                          "interval",
                                          "date",
                                          "time",
                                          "timestamp",
                                          "any",
                                          "all",
                                          "some",
                                          "array",
                                          "row",
                                          "default",
                                          "select",
                                          "distinct",
                                          "where",
                                          "and",
                                          "or",
                                          "from",
                                          "cast",
                                          "try_cast",
                                          "unique",
                                          "map",
                                          "struct",
                                          "list",
                                          "current_date",
                                          "current_time",
                                          "current_timestamp",
                                          "localtime",
                                          "localtimestamp"};

/* Words that end a select list at their own depth of parentheses. */
static const char *const after_select[] = {"from",    "where",  "group",  "having",
                                           "qualify", "window", "order",  "limit",
                                           "offset",  "union",  "except", "intersect"};

/* Words that make a whole text keep its literals. */
static const char *const refused[] = {"between", "nextval", "setval", "currval"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct Lexed {
    const char *sql;
    SqlToken tok[MAX_TOKENS];
    size_t n;
    /* For each ( token: it opens a condition (after WHERE, AND, OR, NOT or such a parenthesis). */
    bool cond_open[MAX_TOKENS];
    /* For each token: it is inside a select list, at its depth or an enclosing one. DuckDB
     * names a result column after the text of its expression, literals included, so nothing
     * there may change (a FILTER (WHERE ...), a subquery, a derived table's unnamed column). */
    bool in_select_list[MAX_TOKENS];
} Lexed;

static bool word_in(const Lexed *lx, size_t i, const char *const *words, size_t n)
{
    if (lx->tok[i].kind != SQLLEX_WORD)
        return false;
    for (size_t k = 0; k < n; k++)
        if (sqllex_is_word(lx->sql, &lx->tok[i], words[k]))
            return true;
    return false;
}

static bool is_op(const Lexed *lx, size_t i, const char *op)
{
    const SqlToken *t = &lx->tok[i];
    return t->kind == SQLLEX_OP && t->length == strlen(op) &&
           memcmp(lx->sql + t->offset, op, t->length) == 0;
}

static bool is_comparison(const Lexed *lx, size_t i)
{
    static const char *const ops[] = {"=", "==", "<>", "!=", "<", "<=", ">", ">="};
    for (size_t k = 0; k < COUNT(ops); k++)
        if (is_op(lx, i, ops[k]))
            return true;
    return false;
}

/* A token that starts a condition when a column follows it. */
static bool starts_condition(const Lexed *lx, size_t i)
{
    return word_in(lx, i, starts, COUNT(starts)) ||
           (lx->tok[i].kind == SQLLEX_OPEN && lx->cond_open[i]);
}

static bool is_name(const Lexed *lx, size_t i)
{
    SqlTokenKind k = lx->tok[i].kind;
    return k == SQLLEX_QUOTED ||
           (k == SQLLEX_WORD && !word_in(lx, i, not_columns, COUNT(not_columns)));
}

/*
 * Whether tokens [from, to) are a bare column name: name (. name)*, with a
 * condition starting before it.
 */
static bool is_column_ref(const Lexed *lx, size_t to)
{
    if (to == 0)
        return false;
    size_t i = to - 1;
    for (;;) {
        if (!is_name(lx, i))
            return false;
        if (i >= 2 && lx->tok[i - 1].kind == SQLLEX_DOT) {
            i -= 2;
            continue;
        }
        break;
    }
    return i >= 1 && starts_condition(lx, i - 1);
}

/* Whether the token after a literal (or the end at n) leaves the literal alone. */
static bool ends_operand(const Lexed *lx, size_t i)
{
    if (i == lx->n)
        return true;
    const SqlToken *t = &lx->tok[i];
    if (t->kind == SQLLEX_CLOSE)
        return lx->sql[t->offset] == ')';
    if (t->kind == SQLLEX_SEMI)
        return i + 1 == lx->n;
    return word_in(lx, i, ends, COUNT(ends));
}

/* A plain decimal integer up to INT64_MAX, into *out. */
static bool plain_integer(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* A plain '...' string (no prefix, no dollar quote), its value appended to `strings`. */
static bool plain_string(const char *s, size_t len, Buf *strings, size_t *out_len)
{
    if (len < 2 || s[0] != '\'' || s[len - 1] != '\'')
        return false;
    size_t start = strings->len;
    for (size_t i = 1; i + 1 < len; i++) {
        buf_putc(strings, s[i]);
        if (s[i] == '\'')
            i++; /* '' stands for one quote */
    }
    *out_len = strings->len - start;
    return true;
}

/* Deepest nesting of parentheses looked at; a text nested deeper keeps its literals. */
#define MAX_DEPTH 64

static bool lex_all(Lexed *lx, const char *sql, size_t len)
{
    SqlLexer l;
    SqlToken t;
    int rc;
    /* Per depth of parentheses: a select list is open there (SELECT seen, no FROM, WHERE, ...
     * yet); `enclosing`: one is open at this depth or an outer one. */
    bool select_list[MAX_DEPTH] = {false}, enclosing[MAX_DEPTH] = {false};
    size_t depth = 0;
    lx->sql = sql;
    lx->n = 0;
    sqllex_init(&l, sql, len, 0);
    while ((rc = sqllex_next(&l, &t)) == 1) {
        if (lx->n == MAX_TOKENS)
            return false;
        size_t i = lx->n++;
        lx->tok[i] = t;
        if (sqllex_is_word(sql, &t, "select")) {
            select_list[depth] = true;
        } else if (word_in(lx, i, after_select, COUNT(after_select))) {
            select_list[depth] = false;
        } else if (t.kind == SQLLEX_OPEN) {
            if (++depth == MAX_DEPTH)
                return false;
            select_list[depth] = false;
            enclosing[depth] = enclosing[depth - 1] || select_list[depth - 1];
        } else if (t.kind == SQLLEX_CLOSE && depth > 0) {
            depth--;
        }
        lx->in_select_list[i] = select_list[depth] || enclosing[depth];
        lx->cond_open[i] =
            t.kind == SQLLEX_OPEN && sql[t.offset] == '(' && i > 0 && starts_condition(lx, i - 1);
        if (t.kind == SQLLEX_PARAM || word_in(lx, i, refused, COUNT(refused)))
            return false;
        if (t.kind == SQLLEX_SEMI && i == 0)
            return false;
    }
    return rc == 0 && lx->n > 0 && sqllex_is_word(sql, &lx->tok[0], "select");
}

void autoparam_shape_free(AutoparamShape *sh)
{
    buf_free(&sh->text);
    buf_free(&sh->strings);
    memset(sh, 0, sizeof(*sh));
}

bool autoparam_shape(const char *sql, size_t len, AutoparamShape *out)
{
    if (len > AUTOPARAM_MAX_SQL)
        return false;
    static __thread Lexed lx;
    if (!lex_all(&lx, sql, len))
        return false;
    /* A ; anywhere but at the end makes several statements. */
    for (size_t i = 0; i + 1 < lx.n; i++)
        if (lx.tok[i].kind == SQLLEX_SEMI)
            return false;
    size_t taken[AUTOPARAM_MAX_LITERALS];
    size_t text_len[AUTOPARAM_MAX_LITERALS] = {0};
    size_t n = 0;
    for (size_t i = 2; i < lx.n; i++) {
        const SqlToken *t = &lx.tok[i];
        if ((t->kind != SQLLEX_NUMBER && t->kind != SQLLEX_STRING) || lx.in_select_list[i])
            continue;
        if (!is_comparison(&lx, i - 1) || !is_column_ref(&lx, i - 1) || !ends_operand(&lx, i + 1))
            continue;
        if (n == AUTOPARAM_MAX_LITERALS) {
            autoparam_shape_free(out);
            return false;
        }
        Param *p = &out->values[n];
        const char *s = sql + t->offset;
        int64_t v;
        if (t->kind == SQLLEX_NUMBER && plain_integer(s, t->length, &v)) {
            p->kind = PARAM_INT;
            p->i = v;
        } else if (t->kind == SQLLEX_STRING &&
                   plain_string(s, t->length, &out->strings, &text_len[n])) {
            p->kind = PARAM_TEXT;
        } else {
            continue;
        }
        taken[n++] = i;
    }
    if (n == 0) {
        autoparam_shape_free(out);
        return false;
    }
    /* `strings` grows no more: pointers into it stay valid. */
    buf_cstr(&out->strings);
    size_t at = 0, str = 0;
    for (size_t k = 0; k < n; k++) {
        const SqlToken *t = &lx.tok[taken[k]];
        buf_append(&out->text, sql + at, t->offset - at);
        buf_printf(&out->text, "$%zu", k + 1);
        at = t->offset + t->length;
        if (out->values[k].kind == PARAM_TEXT) {
            out->values[k].bytes = out->strings.data + str;
            out->values[k].len = text_len[k];
            str += text_len[k];
        }
    }
    buf_append(&out->text, sql + at, len - at);
    buf_cstr(&out->text);
    out->request.sql = out->text.data;
    out->request.params = out->values;
    out->request.nparams = n;
    out->request.has_params = true;
    return true;
}
