/*
 * params: parsing of the typed request form
 *
 *     query {"sql": "SELECT * FROM t WHERE id = $1", "params": [42]}
 *
 * (docs/protocol.md, "Typed requests"), with which client libraries send a
 * statement and its parameters without pasting values into SQL text. This
 * module only parses the JSON object; the query module binds the values to a
 * DuckDB prepared statement. Pure functions, no I/O, no global state.
 */
#ifndef TCPDUCKDB_PARAMS_H
#define TCPDUCKDB_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most parameters one request may carry. */
#define PARAMS_MAX 1024

typedef enum {
    PARAM_NULL,
    PARAM_BOOL,
    PARAM_INT,    /* an integer that fits in 128 bits */
    PARAM_DOUBLE, /* a JSON number with a fraction or an exponent */
    PARAM_TEXT,   /* a JSON string */
    PARAM_BLOB,   /* {"blob": "<hex>"}: bytes */
} ParamKind;

typedef struct Param {
    ParamKind kind;
    bool b;
    __int128 i;
    double d;
    char *bytes; /* TEXT (UTF-8) and BLOB; owned by the TypedRequest */
    size_t len;
    /* TEXT that a PostgreSQL client sent without a type (PostgreSQL's `unknown`): when
     * DuckDB cannot choose a function for it as a string (`abalance + $1`), query_run binds
     * an integer text as an integer and runs the statement again. */
    bool untyped;
    /* TEXT a PostgreSQL client sent in its array form (`{1,"a b",NULL}`): the same value as
     * DuckDB's list literal (`["1", "a b", NULL]`), which query_run binds instead when the
     * statement's parameter is a LIST (DuckDB's cast does not read `{...}`). Owned, or NULL. */
    char *list;
    size_t list_len;
} Param;

typedef struct TypedRequest {
    char *sql;     /* NUL-terminated, owned */
    Param *params; /* owned; NULL when the request has none */
    size_t nparams;
    bool has_params; /* "params" was present (possibly empty) */
    bool no_cache;   /* "cache": false: neither read nor fill the result cache */
} TypedRequest;

/*
 * Parses `json` (`len` bytes, the text after "query "). Returns 0 and fills
 * `out`, or -1 with a one-line reason in `err` (and `out` empty). Free with
 * params_free() in both cases.
 */
int params_parse(const char *json, size_t len, TypedRequest *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Frees what params_parse() allocated. Accepts NULL. */
void params_free(TypedRequest *r);

#endif
