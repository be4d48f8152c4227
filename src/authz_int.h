/*
 * authz_int.h: what the files of the statement classifier share; nothing
 * outside authz*.c includes it (the public API is authz.h).
 *
 * The classifier is four layers, each a file:
 *   authz_builtins.c  the process-wide cache of DuckDB's built-in names
 *                     (functions, keywords, catalog views), read-only once
 *                     filled;
 *   authz_parse.c     the request's tokens (sqllex.c), its statements, the
 *                     parts of INSERT, UPDATE and DELETE, and the checks that
 *                     need only the tokens (statement kinds, function calls);
 *   authz_rewrite.c   the names to replace by placeholders and the statement
 *                     texts sent to duckdb_get_table_names;
 *   authz.c           the probe for views, the privileges of each table, the
 *                     answers, and the public authz_check()/authz_recheck().
 * One check is one Ctx, owned by the calling thread from start to end; the
 * only state shared between threads is the built-in names cache.
 */
#ifndef TCPDUCKDB_AUTHZ_INT_H
#define TCPDUCKDB_AUTHZ_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "authz.h"
#include "buf.h"
#include "duckdb.h"
#include "log.h"
#include "nameset.h"
#include "sqllex.h"
#include "xalloc.h"

/* Placeholders and aliases we put into statement texts start with this; a
 * request that uses the prefix itself cannot be verified. */
#define RESERVED_PREFIX "__authz_"
#define RESERVED_PREFIX_LEN 8

/* ------------------------------------------------------------------------ */
/* The cache of DuckDB's built-in names (authz_builtins.c)                   */

/* Flags of a built-in name. */
enum {
    S_FUNC = 1u << 0,        /* a built-in scalar, aggregate or window function or macro */
    S_TABLEFN = 1u << 1,     /* a built-in table function that may be used */
    S_TABLEFN_BAD = 1u << 2, /* a built-in table function that may not be used */
    S_DENY = 1u << 3,        /* a function that may never be called */
    S_KEYWORD = 1u << 4,     /* an SQL keyword */
    S_RESERVED = 1u << 5,    /* a keyword that cannot name a table unquoted */
    S_SV = 1u << 6,          /* the name of one of DuckDB's catalog views */
    S_SV_BARE = 1u << 7,     /* ... one that an unqualified name can reach */
    S_SV_MAIN = 1u << 8,     /* ... one that main.NAME can reach (schema main of "system") */
};

/*
 * Fills the cache once per process, with `con`; later calls return at once.
 * Returns 0, or -1 with DuckDB's message in `err`. Any thread.
 */
int authz_builtins_load(duckdb_connection con, Buf *err) __attribute__((warn_unused_result));

/* The S_* flags of a name (0 when it is none of DuckDB's); after a successful load. */
uint32_t authz_builtin_flags(const char *s, size_t len);

/*
 * Runs `sql` (every column VARCHAR, at most 4) and calls `fn` with each
 * row's values (NULL when null), valid for the call. Returns 0, or -1 with
 * DuckDB's message in `err`.
 */
int authz_each_row(duckdb_connection con, const char *sql,
                   void (*fn)(void *ctx, const char **vals, const size_t *lens), void *ctx,
                   Buf *err) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------------ */
/* One check                                                                 */

/* A token of the request (an SqlToken, with its bracket and list context). */
typedef struct Tok {
    uint32_t start, len;
    int32_t match; /* for SQLLEX_OPEN and SQLLEX_CLOSE: the index of the other bracket, or -1 */
    uint8_t kind;
    bool from_list; /* for SQLLEX_COMMA: it separates the items of a FROM or USING list */
} Tok;

/* The token ranges found in a statement: [a, b), empty when a == b. */
typedef struct Range {
    size_t a, b;
} Range;

typedef enum { K_SELECT, K_INSERT, K_UPDATE, K_DELETE, K_TRUNCATE } StmtKind;

typedef struct Stmt {
    size_t first, end; /* the statement's tokens, without the semicolon */
    size_t body;       /* the first token after an EXPLAIN prefix */
    bool explain;
    StmtKind kind;
    Range with; /* a leading WITH clause */
    /* INSERT, UPDATE, DELETE, TRUNCATE: */
    bool has_target;
    size_t target_first, target_last; /* the target's name, 1 to 3 parts */
    size_t binding;                   /* the token columns use to name the target */
    Range source;                     /* INSERT: the query or VALUES */
    Range set;                        /* UPDATE and ON CONFLICT DO UPDATE: the assignments */
    Range from;                       /* UPDATE ... FROM, DELETE ... USING */
    Range where;                      /* UPDATE, DELETE, DO UPDATE: the condition */
    Range conflict_target;            /* ON CONFLICT (what is inside the brackets) */
    Range conflict_where;             /* ON CONFLICT (cols) WHERE ... */
    Range returning;
    AuthzPrivileges target_privs;
} Stmt;

/* Flags of the names of one request (Ctx.words). */
enum {
    W_CHAIN_LAST = 1u << 0, /* written as the last part of a dotted name */
    W_PROBE = 1u << 1,      /* asked about in the probe for views */
    W_PRESENT = 1u << 2,    /* the probe found it is not a view */
    W_MAIN_VIEW = 1u << 3,  /* a view of schema main */
    W_RENAME = 1u << 4,     /* replaced by a placeholder in texts sent to DuckDB */
};

/* What an answer says, for deciding which answer a request gets. */
typedef enum {
    V_NONE,
    V_DENIED, /* a statement kind or function no such user may use */
    V_UNSURE, /* cannot verify, or a statement DuckDB is likely to reject as invalid */
    V_OTHER,  /* tables denied, or DuckDB's error */
} Verdict;

/* One table lookup of a successful check (see AuthzPlan in authz.h). */
typedef struct PlanItem {
    char *name; /* as check_table asked for it, NUL-terminated */
    size_t len;
    AuthzPrivileges need;
    uint32_t order; /* first_seen(), for the order of the answer */
} PlanItem;

struct AuthzPlan {
    PlanItem *items;
    size_t n, cap;
};

typedef struct Ctx {
    duckdb_connection con;
    AuthzPlan *plan; /* when not NULL, every privilege lookup is recorded here */
    const char *sql;
    const AuthzUser *user;
    Buf *err_out;    /* where answers go */
    Verdict verdict; /* of the last answer */
    Tok *tok;
    size_t ntok, captok;
    bool balanced; /* every bracket closes within its statement */
    Stmt *st;
    size_t nst, capst;
    NameSet words;  /* every name in the request; aux = index of its first token */
    NameSet denied; /* tables to list in the answer; aux = order of appearance */
    Buf text;       /* a statement text for DuckDB */
    Buf name;       /* an unquoted name */
    Buf parts;      /* the parts of a name DuckDB listed */
    Buf msg;
} Ctx;

/* ------------------------------------------------------------------------ */
/* Tokens (the inline helpers every layer uses)                              */

static inline const char *tok_text(const Ctx *c, size_t i)
{
    return c->sql + c->tok[i].start;
}

static inline bool kw(const Ctx *c, const Stmt *st, size_t i, const char *word)
{
    return i < st->end && c->tok[i].kind == SQLLEX_WORD &&
           nameset_eq_str(tok_text(c, i), c->tok[i].len, word);
}

static inline bool is_name_tok(const Ctx *c, const Stmt *st, size_t i)
{
    return i < st->end && (c->tok[i].kind == SQLLEX_WORD || c->tok[i].kind == SQLLEX_QUOTED);
}

static inline bool is_open_paren(const Ctx *c, const Stmt *st, size_t i)
{
    return i < st->end && c->tok[i].kind == SQLLEX_OPEN && tok_text(c, i)[0] == '(';
}

/* The index after token i, past the whole bracket group when i opens one. */
static inline size_t skip(const Ctx *c, size_t i)
{
    if (c->tok[i].kind == SQLLEX_OPEN && c->tok[i].match > (int32_t)i)
        return (size_t)c->tok[i].match + 1;
    return i + 1;
}

/* The unquoted name of token i (a word or quoted identifier) in `out`,
 * which is reset; returns its length, out->data is NUL-terminated. */
static inline size_t tok_name(const Ctx *c, size_t i, Buf *out)
{
    SqlToken t = {.offset = c->tok[i].start, .length = c->tok[i].len, .kind = c->tok[i].kind};
    return sqllex_identifier(c->sql, &t, out);
}

/* ------------------------------------------------------------------------ */
/* Statements (authz_parse.c)                                                */

/*
 * Splits c->sql into tokens, pairs the brackets (c->balanced), cuts the
 * tokens into statements (c->st) and marks the commas of FROM lists.
 * Returns 0, or -1 when a string, quoted identifier or comment does not
 * end (DuckDB's parser then has the answer); nothing is answered.
 */
int authz_lex(Ctx *c) __attribute__((warn_unused_result));

/* Finds the kind of statement `st` and the parts of INSERT, UPDATE and
 * DELETE. Returns 0, or -1 with the answer appended. */
int authz_classify(Ctx *c, Stmt *st) __attribute__((warn_unused_result));

/* The checks that need only the tokens: reserved names, statements that
 * list the catalog, and function calls. Returns 0, or -1 (answered). */
int authz_check_tokens(Ctx *c, const Stmt *st) __attribute__((warn_unused_result));

/* Whether the call at token i is in the place of a table (after FROM, JOIN,
 * LATERAL, or a comma of a FROM list), as opposed to an expression. */
bool authz_in_from_position(const Ctx *c, const Stmt *st, size_t i);

/* Whether the name at token i is followed by a list of column names in
 * brackets (a table alias `t(a, b)`, a CTE `q(a, b)`), not a call. */
bool authz_is_column_list(const Ctx *c, const Stmt *st, size_t i);

/* The end (a comma or `limit`) of the assignment `col = value` that starts
 * at token `item`; *out_eq is the position of its top-level '=', or the end
 * when it has none. */
size_t authz_assignment_end(const Ctx *c, size_t item, size_t limit, size_t *out_eq);

/* ------------------------------------------------------------------------ */
/* Texts for DuckDB (authz_rewrite.c)                                        */

/*
 * Records every name of statement `st` in c->words, with the index of its
 * first token, and which of them to ask the probe for views about.
 */
void authz_collect_names(Ctx *c, const Stmt *st);

/* After the probe for views: which names to replace by placeholders. */
void authz_choose_renames(Ctx *c);

/*
 * Builds in c->text a statement whose table references are those of `st`
 * other than its target; `relaxed` also rewrites what DuckDB cannot bind
 * when listing tables (see emit in authz_rewrite.c).
 */
void authz_build_text(Ctx *c, const Stmt *st, bool relaxed);

/* The index in c->words of the name a placeholder stands for, or -1 when
 * `s` is not one of our placeholders. */
long authz_placeholder_of(const Ctx *c, const char *s, size_t len);

/* ------------------------------------------------------------------------ */
/* Answers (authz.c); each appends one line to c->err_out, sets c->verdict   */
/* and returns -1.                                                           */

/* "Access Denied: <prefix><name> is not allowed for user "U"", name upper case when `upper`. */
int authz_deny_what(Ctx *c, const char *prefix, const char *name, size_t len, bool upper);

/* Denies the statement kind named by the word at token i (an unsure verdict for a non-keyword). */
int authz_deny_kind(Ctx *c, size_t i);

/* "Access Denied: cannot verify this statement's access: REASON". */
int authz_cannot_verify(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* DuckDB's message without the lines that suggest other names. */
int authz_duckdb_error(Ctx *c, const char *msg);

#endif
