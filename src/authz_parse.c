/*
 * authz_parse: the classifier's view of a request's text. See authz_int.h.
 *
 * The request is split into tokens by sqllex (DuckDB's lexical rules, so
 * that we never see code where DuckDB sees a string or the reverse), its
 * brackets paired and its statements cut at semicolons as DuckDB cuts
 * them. Each statement is then classified by its first words: a query, or
 * INSERT, UPDATE, DELETE and TRUNCATE, whose target and clauses (source,
 * SET, FROM/USING, WHERE, ON CONFLICT, RETURNING) are found as token
 * ranges, and the privileges the target needs are derived from them
 * (docs/access-control.md, "What a statement needs"); every other kind is
 * denied. The function calls and names are checked on the tokens too,
 * before DuckDB parses anything, because its parser expands PRAGMA and
 * IMPORT DATABASE statements (and IMPORT reads files while doing so).
 *
 * Everything here works on one Ctx on the calling thread; it reads the
 * built-in names cache only. Each function looks at each token a bounded
 * number of times, except where a comment says otherwise.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "authz_int.h"

static void push_tok(Ctx *c, SqlTokenKind kind, size_t start, size_t end)
{
    if (c->ntok == c->captok) {
        c->captok = c->captok ? c->captok * 2 : 64;
        c->tok = xrealloc(c->tok, c->captok * sizeof(*c->tok));
    }
    c->tok[c->ntok++] = (Tok){.start = (uint32_t)start,
                              .len = (uint32_t)(end - start),
                              .match = -1,
                              .kind = (uint8_t)kind};
}

/* Splits c->sql into tokens (sqllex) and pairs its brackets. Returns 0 or -1 (see authz_lex). */
static int tokenize(Ctx *c)
{
    SqlLexer lx;
    SqlToken t;
    int32_t *stack = NULL;
    size_t depth = 0, capdepth = 0;
    int rc;
    sqllex_init(&lx, c->sql, strlen(c->sql), 0);
    c->balanced = true;
    while ((rc = sqllex_next(&lx, &t)) > 0) {
        push_tok(c, t.kind, t.offset, t.offset + t.length);
        char ch = c->sql[t.offset];
        if (t.kind == SQLLEX_OPEN) {
            if (depth == capdepth) {
                capdepth = capdepth ? capdepth * 2 : 16;
                stack = xrealloc(stack, capdepth * sizeof(*stack));
            }
            stack[depth++] = (int32_t)(c->ntok - 1);
        } else if (t.kind == SQLLEX_CLOSE) {
            char want = ch == ')' ? '(' : ch == ']' ? '[' : '{';
            if (depth > 0 && c->sql[c->tok[stack[depth - 1]].start] == want) {
                int32_t open = stack[--depth];
                c->tok[open].match = (int32_t)(c->ntok - 1);
                c->tok[c->ntok - 1].match = open;
            } else {
                c->balanced = false;
            }
        } else if (t.kind == SQLLEX_SEMI) {
            if (depth > 0)
                c->balanced = false;
            depth = 0;
        }
    }
    if (depth > 0)
        c->balanced = false;
    free(stack);
    return rc;
}

/* Cuts the tokens into statements at semicolons, skipping empty ones as DuckDB does. */
static void split_statements(Ctx *c)
{
    size_t first = 0;
    for (size_t i = 0; i <= c->ntok; i++) {
        if (i < c->ntok && c->tok[i].kind != SQLLEX_SEMI)
            continue;
        if (i > first) {
            if (c->nst == c->capst) {
                c->capst = c->capst ? c->capst * 2 : 8;
                c->st = xrealloc(c->st, c->capst * sizeof(*c->st));
            }
            c->st[c->nst++] = (Stmt){.first = first, .end = i};
        }
        first = i + 1;
    }
}

/*
 * The first token in [a, b) at bracket depth 0 that is one of `words`, or
 * b. A FROM after DISTINCT (IS DISTINCT FROM) is part of an expression.
 */
static size_t find_kw(const Ctx *c, const Stmt *st, size_t a, size_t b, const char *const *words)
{
    for (size_t i = a; i < b; i = skip(c, i)) {
        for (const char *const *w = words; *w; w++) {
            if (kw(c, st, i, *w) &&
                !(!strcmp(*w, "from") && i > st->first && kw(c, st, i - 1, "distinct")))
                return i;
        }
    }
    return b;
}

/* ------------------------------------------------------------------------ */
/* Statement shapes                                                          */

/* Parses `WITH [RECURSIVE] name [(cols)] [USING KEY (..)] AS [NOT] [MATERIALIZED] (..), ...`
 * from token i; returns the index of the main statement keyword, or 0. */
static size_t parse_with(const Ctx *c, const Stmt *st, size_t i)
{
    i++;
    if (kw(c, st, i, "recursive"))
        i++;
    for (;;) {
        if (!is_name_tok(c, st, i))
            return 0;
        i++;
        if (is_open_paren(c, st, i))
            i = skip(c, i);
        if (kw(c, st, i, "using") && kw(c, st, i + 1, "key") && is_open_paren(c, st, i + 2))
            i = skip(c, i + 2);
        if (!kw(c, st, i, "as"))
            return 0;
        i++;
        if (kw(c, st, i, "not"))
            i++;
        if (kw(c, st, i, "materialized"))
            i++;
        if (!is_open_paren(c, st, i))
            return 0;
        i = skip(c, i);
        if (i < st->end && c->tok[i].kind == SQLLEX_COMMA) {
            i++;
            continue;
        }
        return i < st->end ? i : 0;
    }
}

/* Parses a table name of 1 to 3 parts at i; returns the index after it, or 0. */
static size_t parse_target(const Ctx *c, Stmt *st, size_t i)
{
    if (!is_name_tok(c, st, i))
        return 0;
    st->has_target = true;
    st->target_first = i;
    int parts = 1;
    while (i + 2 < st->end && c->tok[i + 1].kind == SQLLEX_DOT && is_name_tok(c, st, i + 2)) {
        if (++parts > 3)
            return 0;
        i += 2;
    }
    st->target_last = i;
    st->binding = i;
    return i + 1;
}

/* An optional alias at i that is not one of `stop`; returns the index after it, or 0. */
static size_t parse_alias(const Ctx *c, Stmt *st, size_t i, const char *const *stop)
{
    if (kw(c, st, i, "as")) {
        if (!is_name_tok(c, st, i + 1))
            return 0;
        st->binding = i + 1;
        return i + 2;
    }
    if (!is_name_tok(c, st, i))
        return i;
    for (const char *const *w = stop; *w; w++)
        if (kw(c, st, i, *w))
            return i;
    st->binding = i;
    return i + 1;
}

static bool starts_query(const Ctx *c, const Stmt *st, size_t i)
{
    return is_open_paren(c, st, i) || kw(c, st, i, "select") || kw(c, st, i, "from") ||
           kw(c, st, i, "values") || kw(c, st, i, "with") || kw(c, st, i, "table");
}

/*
 * The end (a comma or `limit`) of the assignment `col = value` that starts
 * at token `item`; *out_eq is the position of its top-level '=', or the end
 * when it has none.
 */
size_t authz_assignment_end(const Ctx *c, size_t item, size_t limit, size_t *out_eq)
{
    size_t end = item;
    while (end < limit && c->tok[end].kind != SQLLEX_COMMA)
        end = skip(c, end);
    size_t eq = item;
    while (eq < end &&
           !(c->tok[eq].kind == SQLLEX_OP && c->tok[eq].len == 1 && tok_text(c, eq)[0] == '='))
        eq = skip(c, eq);
    *out_eq = eq;
    return end;
}

/*
 * Whether token i of an assignment's value can read a column of the table
 * being changed. A value reads nothing only when it is made of literals,
 * parameters, operators, brackets and calls of functions other than
 * COLUMNS; everything else is taken to read:
 *   - a name, except NULL, TRUE, FALSE, DEFAULT (and, for ON CONFLICT,
 *     excluded.col, which is the row being inserted);
 *   - a positional reference `#n` (DuckDB's `#` is nothing else; any
 *     operator holding one counts), which names the table's n-th column;
 *   - a star, and COLUMNS(...) (also *COLUMNS), which expand to columns;
 *   - any byte sqllex does not know (SQLLEX_OTHER), since we cannot tell.
 * *skip_to is set past `excluded.col`.
 */
static bool value_token_reads(const Ctx *c, const Stmt *st, size_t i, size_t end, bool excluded_ok,
                              size_t *skip_to)
{
    const Tok *t = &c->tok[i];
    switch (t->kind) {
    case SQLLEX_STRING:
    case SQLLEX_NUMBER:
    case SQLLEX_PARAM:
    case SQLLEX_OPEN:
    case SQLLEX_CLOSE:
    case SQLLEX_COMMA:
    case SQLLEX_DOT:
        return false;
    case SQLLEX_OP:
        if (memchr(tok_text(c, i), '#', t->len))
            return true;
        if (t->len == 1 && tok_text(c, i)[0] == '*') {
            /* A star follows a bracket, a comma, a dot or nothing; a
             * product follows an operand. */
            if (i == 0)
                return true;
            uint8_t k = c->tok[i - 1].kind;
            return k == SQLLEX_OPEN || k == SQLLEX_COMMA || k == SQLLEX_DOT || k == SQLLEX_OP;
        }
        return false;
    case SQLLEX_WORD:
    case SQLLEX_QUOTED:
        if (i + 1 < end && is_open_paren(c, st, i + 1))
            return kw(c, st, i, "columns");
        if (excluded_ok && kw(c, st, i, "excluded") && i + 2 < end &&
            c->tok[i + 1].kind == SQLLEX_DOT) {
            *skip_to = i + 2;
            return false;
        }
        return !(kw(c, st, i, "null") || kw(c, st, i, "true") || kw(c, st, i, "false") ||
                 kw(c, st, i, "default"));
    default:
        return true;
    }
}

/*
 * Whether assignments `col = value, ...` read the table being changed (see
 * value_token_reads). Returns -1 when an assignment has no '='.
 */
static int assignments_read(const Ctx *c, const Stmt *st, Range r, bool excluded_ok)
{
    bool reads = false;
    size_t item = r.a;
    while (item < r.b) {
        size_t eq;
        size_t end = authz_assignment_end(c, item, r.b, &eq);
        if (eq >= end)
            return -1;
        for (size_t i = eq + 1; i < end && !reads; i++)
            reads = value_token_reads(c, st, i, end, excluded_ok, &i);
        item = end + 1;
    }
    return reads ? 1 : 0;
}

static int parse_insert(Ctx *c, Stmt *st, size_t i)
{
    static const char *const source_end[] = {"on", "returning", NULL};
    static const char *const set_end[] = {"where", "returning", NULL};
    static const char *const ret[] = {"returning", NULL};
    static const char *const do_kw[] = {"do", NULL};
    bool replace = false, do_update = false;
    i++;
    if (kw(c, st, i, "or")) {
        if (kw(c, st, i + 1, "replace"))
            replace = true;
        else if (!kw(c, st, i + 1, "ignore"))
            return authz_cannot_verify(c, "unexpected INSERT syntax");
        i += 2;
    }
    if (!kw(c, st, i, "into") || !(i = parse_target(c, st, i + 1)))
        return authz_cannot_verify(c, "unexpected INSERT syntax");
    if (kw(c, st, i, "as")) {
        if (!is_name_tok(c, st, i + 1))
            return authz_cannot_verify(c, "unexpected INSERT syntax");
        st->binding = i + 1;
        i += 2;
    }
    if (is_open_paren(c, st, i) && !starts_query(c, st, i + 1))
        i = skip(c, i); /* the column list */
    if (kw(c, st, i, "by") && (kw(c, st, i + 1, "name") || kw(c, st, i + 1, "position")))
        i += 2;
    if (kw(c, st, i, "default") && kw(c, st, i + 1, "values")) {
        i += 2;
    } else {
        if (!starts_query(c, st, i))
            return authz_cannot_verify(c, "unexpected INSERT syntax");
        size_t e = i;
        for (;;) {
            e = find_kw(c, st, e, st->end, source_end);
            if (!kw(c, st, e, "on") || kw(c, st, e + 1, "conflict"))
                break;
            e++;
        }
        st->source = (Range){i, e};
        i = e;
    }
    if (kw(c, st, i, "on")) {
        i += 2; /* ON CONFLICT */
        if (is_open_paren(c, st, i)) {
            st->conflict_target = (Range){i + 1, skip(c, i) - 1};
            i = skip(c, i);
            if (kw(c, st, i, "where")) {
                size_t e = find_kw(c, st, i + 1, st->end, do_kw);
                st->conflict_where = (Range){i + 1, e};
                i = e;
            }
        }
        if (!kw(c, st, i, "do"))
            return authz_cannot_verify(c, "unexpected ON CONFLICT syntax");
        i++;
        if (kw(c, st, i, "nothing")) {
            i++;
        } else if (kw(c, st, i, "update") && kw(c, st, i + 1, "set")) {
            do_update = true;
            size_t e = find_kw(c, st, i + 2, st->end, set_end);
            st->set = (Range){i + 2, e};
            i = e;
            if (kw(c, st, i, "where")) {
                e = find_kw(c, st, i + 1, st->end, ret);
                st->where = (Range){i + 1, e};
                i = e;
            }
        } else {
            return authz_cannot_verify(c, "unexpected ON CONFLICT syntax");
        }
    }
    if (kw(c, st, i, "returning")) {
        st->returning = (Range){i + 1, st->end};
        i = st->end;
    }
    if (i != st->end)
        return authz_cannot_verify(c, "unexpected INSERT syntax");
    int reads = 0;
    if (do_update && (reads = assignments_read(c, st, st->set, true)) < 0)
        return authz_cannot_verify(c, "unexpected ON CONFLICT syntax");
    st->target_privs = AUTHZ_INSERT;
    if (replace || do_update)
        st->target_privs |= AUTHZ_UPDATE;
    if (reads || st->returning.b > st->returning.a || st->where.b > st->where.a ||
        st->conflict_where.b > st->conflict_where.a)
        st->target_privs |= AUTHZ_SELECT;
    return 0;
}

/* The optional `WHERE ...` and `RETURNING ...` that end an UPDATE or a
 * DELETE, from token i; returns the token after them. */
static size_t parse_where_returning(Ctx *c, Stmt *st, size_t i)
{
    static const char *const ret[] = {"returning", NULL};
    if (kw(c, st, i, "where")) {
        size_t e = find_kw(c, st, i + 1, st->end, ret);
        st->where = (Range){i + 1, e};
        i = e;
    }
    if (kw(c, st, i, "returning")) {
        st->returning = (Range){i + 1, st->end};
        i = st->end;
    }
    return i;
}

static int parse_update(Ctx *c, Stmt *st, size_t i)
{
    static const char *const alias_stop[] = {"set", NULL};
    static const char *const set_end[] = {"from", "where", "returning", NULL};
    static const char *const from_end[] = {"where", "returning", NULL};
    if (!(i = parse_target(c, st, i + 1)) || !(i = parse_alias(c, st, i, alias_stop)) ||
        !kw(c, st, i, "set"))
        return authz_cannot_verify(c, "unexpected UPDATE syntax");
    size_t e = find_kw(c, st, i + 1, st->end, set_end);
    st->set = (Range){i + 1, e};
    i = e;
    if (kw(c, st, i, "from")) {
        e = find_kw(c, st, i + 1, st->end, from_end);
        st->from = (Range){i + 1, e};
        i = e;
    }
    i = parse_where_returning(c, st, i);
    int reads = assignments_read(c, st, st->set, false);
    if (i != st->end || st->set.b == st->set.a || reads < 0)
        return authz_cannot_verify(c, "unexpected UPDATE syntax");
    st->target_privs = AUTHZ_UPDATE;
    if (reads || st->from.b > st->from.a || st->where.b > st->where.a ||
        st->returning.b > st->returning.a)
        st->target_privs |= AUTHZ_SELECT;
    return 0;
}

static int parse_delete(Ctx *c, Stmt *st, size_t i)
{
    static const char *const alias_stop[] = {"using", "where", "returning", NULL};
    static const char *const using_end[] = {"where", "returning", NULL};
    if (!kw(c, st, i + 1, "from") || !(i = parse_target(c, st, i + 2)) ||
        !(i = parse_alias(c, st, i, alias_stop)))
        return authz_cannot_verify(c, "unexpected DELETE syntax");
    size_t e;
    if (kw(c, st, i, "using")) {
        e = find_kw(c, st, i + 1, st->end, using_end);
        st->from = (Range){i + 1, e};
        i = e;
    }
    i = parse_where_returning(c, st, i);
    if (i != st->end)
        return authz_cannot_verify(c, "unexpected DELETE syntax");
    st->target_privs = AUTHZ_DELETE;
    if (st->from.b > st->from.a || st->where.b > st->where.a || st->returning.b > st->returning.a)
        st->target_privs |= AUTHZ_SELECT;
    return 0;
}

/*
 * Finds the kind of statement `st` and the parts of INSERT, UPDATE and
 * DELETE. Returns 0, or -1 with the answer appended.
 */
int authz_classify(Ctx *c, Stmt *st)
{
    size_t i = st->first;
    if (kw(c, st, i, "explain")) {
        st->explain = true;
        i++;
        if (is_open_paren(c, st, i)) {
            for (size_t k = i + 1; k < skip(c, i); k++)
                if (kw(c, st, k, "analyze") || kw(c, st, k, "analyse"))
                    return authz_deny_what(c, "EXPLAIN ANALYZE", "", 0, false);
            i = skip(c, i);
        }
        if (kw(c, st, i, "analyze") || kw(c, st, i, "analyse"))
            return authz_deny_what(c, "EXPLAIN ANALYZE", "", 0, false);
        if (i >= st->end)
            return authz_cannot_verify(c, "EXPLAIN of nothing");
    }
    st->body = i;
    if (kw(c, st, i, "with")) {
        size_t main = parse_with(c, st, i);
        if (!main)
            return authz_cannot_verify(c, "unexpected WITH syntax");
        st->with = (Range){i, main};
        i = main;
    }
    if (is_open_paren(c, st, i) || kw(c, st, i, "select") || kw(c, st, i, "from") ||
        kw(c, st, i, "values") || kw(c, st, i, "table")) {
        st->kind = K_SELECT;
        return 0;
    }
    if (kw(c, st, i, "insert")) {
        st->kind = K_INSERT;
        return parse_insert(c, st, i);
    }
    if (kw(c, st, i, "update")) {
        st->kind = K_UPDATE;
        return parse_update(c, st, i);
    }
    if (kw(c, st, i, "delete")) {
        st->kind = K_DELETE;
        return parse_delete(c, st, i);
    }
    if (kw(c, st, i, "truncate") && st->with.a == st->with.b) {
        st->kind = K_TRUNCATE;
        if (kw(c, st, i + 1, "table"))
            i++;
        if (!(i = parse_target(c, st, i + 1)) || i != st->end)
            return authz_cannot_verify(c, "unexpected TRUNCATE syntax");
        st->target_privs = AUTHZ_DELETE;
        return 0;
    }
    return authz_deny_kind(c, i);
}

/* ------------------------------------------------------------------------ */
/* Function calls                                                            */

/*
 * Marks the commas that separate the items of a FROM (or DELETE ... USING)
 * list, in one pass: at each bracket depth, the clause last begun there
 * decides. JOIN ... ON does not end a FROM list: `FROM a JOIN b ON x, c`.
 */
static void mark_from_lists(Ctx *c)
{
    static const char *const from_words[] = {"from", "using", NULL};
    static const char *const other_words[] = {
        "select", "where",  "group",     "having", "order", "qualify",   "window", "limit",
        "offset", "values", "returning", "set",    "union", "intersect", "except", NULL};
    bool *in_from = xrealloc(NULL, (c->ntok + 1) * sizeof(*in_from));
    size_t depth = 0;
    in_from[0] = false;
    for (size_t i = 0; i < c->ntok; i++) {
        Tok *t = &c->tok[i];
        if (t->kind == SQLLEX_OPEN) {
            in_from[++depth] = false;
        } else if (t->kind == SQLLEX_CLOSE) {
            if (depth > 0)
                depth--;
        } else if (t->kind == SQLLEX_SEMI) {
            depth = 0;
            in_from[0] = false;
        } else if (t->kind == SQLLEX_COMMA) {
            t->from_list = in_from[depth];
        } else if (t->kind == SQLLEX_WORD) {
            for (const char *const *w = from_words; *w; w++)
                if (nameset_eq_str(tok_text(c, i), t->len, *w))
                    in_from[depth] = true;
            for (const char *const *w = other_words; *w; w++)
                if (nameset_eq_str(tok_text(c, i), t->len, *w))
                    in_from[depth] = false;
        }
    }
    free(in_from);
}

/* Whether the call at token i is in the place of a table (after FROM, JOIN,
 * LATERAL, or a comma of a FROM list), as opposed to an expression. */
bool authz_in_from_position(const Ctx *c, const Stmt *st, size_t i)
{
    if (i == st->first)
        return false;
    return kw(c, st, i - 1, "from") || kw(c, st, i - 1, "join") || kw(c, st, i - 1, "lateral") ||
           kw(c, st, i - 1, "using") ||
           (c->tok[i - 1].kind == SQLLEX_COMMA && c->tok[i - 1].from_list);
}

/*
 * Whether the bracket group opened at token `open` holds only names
 * separated by commas, as a list of column aliases does.
 */
static bool is_name_list(const Ctx *c, const Stmt *st, size_t open)
{
    size_t close = skip(c, open) - 1;
    if (close <= open + 1)
        return false;
    for (size_t k = open + 1; k < close; k++) {
        bool want_name = (k - open) % 2 == 1;
        if (want_name ? !is_name_tok(c, st, k) : c->tok[k].kind != SQLLEX_COMMA)
            return false;
    }
    return true;
}

/*
 * Whether the ')' at token i ends an item of a FROM list: a subquery or
 * VALUES in brackets, or a table function call, in the place of a table.
 */
static bool ends_from_item(const Ctx *c, const Stmt *st, size_t i)
{
    if (c->tok[i].kind != SQLLEX_CLOSE || c->tok[i].match < 0 || c->tok[i].match >= (int32_t)i ||
        tok_text(c, i)[0] != ')')
        return false;
    size_t open = (size_t)c->tok[i].match;
    if (open <= st->first)
        return false;
    if (authz_in_from_position(c, st, open))
        return true;
    return is_name_tok(c, st, open - 1) && authz_in_from_position(c, st, open - 1);
}

/*
 * Whether name token i, followed by '(', is a function call rather than a
 * list of column names: after AS (`AS x(a, b)`), after a table name
 * (`t x(a, b)`: no function call can follow a name that is not a keyword),
 * after a subquery, VALUES or table function in the place of a table when
 * the brackets hold only names (`(VALUES (1)) t(a)`, `range(3) t(i)`:
 * DuckDB's grammar has no call that directly follows a FROM item, so the
 * name is an alias, and a list of bare names calls nothing either way), the
 * target of INSERT, or a CTE being defined (`q(a) AS (...)`).
 */
static bool is_call(const Ctx *c, const Stmt *st, size_t i)
{
    if (st->has_target && st->target_last == i)
        return false;
    if (i > st->first) {
        const Tok *prev = &c->tok[i - 1];
        if (kw(c, st, i - 1, "as") || prev->kind == SQLLEX_QUOTED)
            return false;
        if (ends_from_item(c, st, i - 1) && is_name_list(c, st, i + 1))
            return false;
        if (prev->kind == SQLLEX_WORD &&
            !(authz_builtin_flags(tok_text(c, i - 1), prev->len) & S_KEYWORD))
            return false;
    }
    int32_t close = c->tok[i + 1].match;
    if (close < 0)
        return true;
    size_t j = (size_t)close + 1;
    if (kw(c, st, j, "as") && (is_open_paren(c, st, j + 1) || kw(c, st, j + 1, "materialized") ||
                               kw(c, st, j + 1, "not")))
        return false;
    if (kw(c, st, j, "using") && kw(c, st, j + 1, "key"))
        return false;
    return true;
}

/*
 * Whether the name at token i is followed by a list of column names in
 * brackets (a table alias `t(a, b)`, a CTE `q(a, b)`), not a call.
 */
bool authz_is_column_list(const Ctx *c, const Stmt *st, size_t i)
{
    /* A reserved word (USING, ON, VALUES) cannot be an alias unquoted. */
    if (!is_name_tok(c, st, i) ||
        (c->tok[i].kind == SQLLEX_WORD &&
         (authz_builtin_flags(tok_text(c, i), c->tok[i].len) & S_RESERVED)))
        return false;
    return is_open_paren(c, st, i + 1) && is_name_list(c, st, i + 1) && !is_call(c, st, i);
}

static int check_call(Ctx *c, const Stmt *st, size_t i)
{
    size_t len = tok_name(c, i, &c->name);
    const char *name = c->name.data;
    if ((len >= 7 && nameset_eq(name, 7, "duckdb_", 7)) ||
        (len >= 7 && nameset_eq(name, 7, "pragma_", 7)))
        return authz_deny_what(c, "function ", name, len, false);
    uint32_t f = authz_builtin_flags(name, len);
    if (f & S_DENY)
        return authz_deny_what(c, "function ", name, len, false);
    if (f & S_TABLEFN_BAD) {
        if (!(f & S_FUNC) || authz_in_from_position(c, st, i))
            return authz_deny_what(c, "function ", name, len, false);
        return 0;
    }
    if (f & (S_FUNC | S_TABLEFN))
        return 0;
    if (c->tok[i].kind == SQLLEX_WORD && (f & S_KEYWORD))
        return 0;
    return authz_cannot_verify(c, "%.*s is not a built-in function", (int)(len > 200 ? 200 : len),
                               name);
}

/*
 * The checks that need only the tokens: reserved names, statements that
 * list the catalog, and function calls.
 */
int authz_check_tokens(Ctx *c, const Stmt *st)
{
    for (size_t i = st->first; i < st->end; i++) {
        const Tok *t = &c->tok[i];
        if (t->kind != SQLLEX_WORD && t->kind != SQLLEX_QUOTED)
            continue;
        size_t len = tok_name(c, i, &c->name);
        if (len >= RESERVED_PREFIX_LEN &&
            nameset_eq(c->name.data, RESERVED_PREFIX_LEN, RESERVED_PREFIX, RESERVED_PREFIX_LEN))
            return authz_cannot_verify(c, "names starting with %s are reserved", RESERVED_PREFIX);
        /* SHOW TABLES and DESCRIBE list the catalog, also as subqueries. */
        if (kw(c, st, i, "show") || kw(c, st, i, "describe") || kw(c, st, i, "summarize"))
            return authz_deny_kind(c, i);
        if (i + 1 < st->end && is_open_paren(c, st, i + 1) && is_call(c, st, i) &&
            check_call(c, st, i) != 0)
            return -1;
    }
    return 0;
}

int authz_lex(Ctx *c)
{
    if (tokenize(c) != 0)
        return -1;
    split_statements(c);
    mark_from_lists(c);
    return 0;
}
