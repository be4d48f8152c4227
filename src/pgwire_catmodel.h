/*
 * pgwire_catmodel: the emulated PostgreSQL catalog the front end's catalog
 * answers are built from (docs/pgwire.md#catalog), and the writer of those
 * answers. It reads what the user may see now: the tables, views and
 * indexes of schema main of the connected database (DuckDB's
 * duckdb_tables(), duckdb_views(), duckdb_indexes(), duckdb_columns(),
 * duckdb_constraints(), on the session's own connection), kept only when the
 * user holds a grant on the table (the super user sees all); an index is
 * seen with its table. `main` is shown as `public`. Relation OIDs are
 * DuckDB's catalog oids plus 16384 (where PostgreSQL's user objects start).
 *
 * The answer modules (pgwire_catpsql.c, pgwire_catjdbc.c) take from a
 * client's query text only name patterns and OIDs (catmodel_literal_after,
 * catmodel_oid_after); patterns reach DuckDB as bound parameters, never as
 * SQL.
 *
 * Thread: the worker that owns the session; no shared state.
 */
#ifndef TCPDUCKDB_PGWIRE_CATMODEL_H
#define TCPDUCKDB_PGWIRE_CATMODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "catalog.h"
#include "pgwire.h"
#include "session.h"

/* DuckDB oids are small; PostgreSQL's user objects start at 16384. */
#define CATMODEL_OID_BASE 16384LL

/* ---- answers: RowDescription (text columns), DataRows, CommandComplete ---- */

typedef struct CatAnswer {
    Buf *out;
    int ncols;
    long rows;
} CatAnswer;

/* Starts an answer of `n` text columns named `names` (borrowed for the call). */
void catmodel_begin(CatAnswer *a, Buf *out, const char *const *names, int n);
/* One DataRow of a->ncols values (NULL: SQL NULL). */
void catmodel_row(CatAnswer *a, const char *const *vals);
/* CommandComplete `SELECT rows`. */
void catmodel_end(CatAnswer *a);
/* An answer with `n` columns and no rows: a catalog DuckDB has no counterpart of. */
void catmodel_empty(Buf *out, const char *const *names, int n);
/* An ErrorResponse `what: msg` with `sqlstate` (msg NULL: "unknown error"). */
void catmodel_error(Buf *out, const char *sqlstate, const char *what, const char *msg);

/* ---- reading the client's query ---- */

/*
 * The string literal that follows `marker` in `sql` (blanks skipped), with
 * '' undoubled, into `val` (appended); false when the marker or a closed
 * literal is absent. Clients send standard strings
 * (standard_conforming_strings is on).
 */
bool catmodel_literal_after(const char *sql, const char *marker, Buf *val);
/*
 * SQL's LIKE with escape character backslash, as pgjdbc's patterns mean it
 * (`%` any run, `_` any one character): greedy with one backtrack point,
 * O(len(s) * len(p)) at worst.
 */
bool catmodel_like_match(const char *s, const char *p);
/* `name` as a LIKE pattern (escape backslash) matching only itself, into `b`; returns it. */
const char *catmodel_like_exact(const char *name, Buf *b);
/* The OID in `marker'NNN'` (or `marker NNN`), or -1 when absent or not digits. */
long long catmodel_oid_after(const char *sql, const char *marker);

/* ---- reading DuckDB ---- */

/*
 * Prepares `sql` on the session's connection, binds the VARCHAR (NULL: SQL
 * NULL) and then BIGINT parameters, and runs it into `res` (the caller
 * destroys it). False with an ErrorResponse `what: ...` (sqlstate
 * `run_state` when it fails to run).
 */
bool catmodel_read(Session *s, const char *sql, const char *const *texts, int ntexts,
                   const long long *ints, int nints, const char *what, const char *run_state,
                   duckdb_result *res, Buf *out);
/* A value of `res` as text, or NULL for SQL NULL; caller frees with free(). */
char *catmodel_value(duckdb_result *res, idx_t col, idx_t row);

/* ---- relations ---- */

typedef struct CatRelation {
    long long oid; /* PostgreSQL's view: DuckDB's oid + CATMODEL_OID_BASE */
    char *name;
    char kind;     /* 'r' table, 'v' view, 'i' index */
    char *table;   /* an index's table, else NULL */
    char *comment; /* COMMENT ON ..., or NULL */
    char *sql;     /* DuckDB's CREATE statement (views and indexes), or NULL */
    bool unique;   /* an index's UNIQUE */
} CatRelation;

typedef struct CatRelations {
    CatRelation *r;
    size_t n, cap;
} CatRelations;

/* What to list; a NULL pattern matches everything. */
typedef struct CatFilter {
    const char *name_re;     /* full-match regular expression over the name (psql) */
    const char *name_like;   /* LIKE pattern, escape backslash (pgjdbc) */
    const char *schema_re;   /* ... over the schema name, `public` */
    const char *schema_like; /* ... */
    const char *kinds;       /* of "rvi"; NULL: tables and views */
    long long oid;           /* only this one (PostgreSQL's view), or -1 */
} CatFilter;

#define CATFILTER_ALL                                                                              \
    {                                                                                              \
        NULL, NULL, NULL, NULL, NULL, -1                                                           \
    }

/*
 * Appends to `rs` the relations the user of `s` may see that pass `f`,
 * ordered by name. Returns false with an ErrorResponse in `out` on failure
 * (a bad pattern: 2201B). Free `rs` with catmodel_relations_free.
 */
bool catmodel_relations(Session *s, const SessionEnv *env, const CatFilter *f, CatRelations *rs,
                        Buf *out);
/* The one relation `oid` the user may see into `rs`, or none (no error). */
bool catmodel_relation(Session *s, const SessionEnv *env, long long oid, CatRelations *rs,
                       Buf *out);
void catmodel_relations_free(CatRelations *rs);

/* ---- columns ---- */

typedef struct CatColumn {
    char *name;
    char *duck_type; /* DuckDB's name of the type */
    char *dflt;      /* the DEFAULT expression, or NULL */
    char *comment;   /* or NULL */
    bool not_null;
    PgType pg; /* as RowDescription gives it for this column (oid 25 when unencoded) */
} CatColumn;

typedef struct CatColumns {
    CatColumn *c;
    size_t n;
} CatColumns;

/* The columns of relation `r` (a table or view), in order. False with an ErrorResponse. */
bool catmodel_columns(Session *s, const CatRelation *r, CatColumns *cs, Buf *out);
void catmodel_columns_free(CatColumns *cs);

/* Writes the DataRow of column `c` (the `index`th, from 0) of relation `r` into `a`, or none. */
typedef void (*CatColumnRow)(CatAnswer *a, const CatRelation *r, const CatColumn *c, size_t index,
                             void *ctx);

/*
 * An answer of the `n` columns `names` with the rows `row` writes for each
 * column of each relation of `rs`, into `out`. False with the ErrorResponse
 * alone (no RowDescription) when a relation's columns cannot be read.
 */
bool catmodel_column_answer(Session *s, const CatRelations *rs, const char *const *names, int n,
                            CatColumnRow row, void *ctx, Buf *out);

/* A DuckDB type name in PostgreSQL's words, as format_type() writes them, appended to `b`. */
void catmodel_type_name(const char *duck, Buf *b);

/* ---- keys and indexes of a table ---- */

typedef struct CatKey {
    char *name;      /* the constraint's or index's name */
    char *columns;   /* "a, b" (an index: its expressions) */
    bool primary;    /* a PRIMARY KEY constraint */
    bool constraint; /* a PRIMARY KEY or UNIQUE constraint, not an index */
    bool unique;
    char *column; /* with catmodel_primary_key: one column each */
    int seq;      /* its position in the key, from 1 */
} CatKey;

typedef struct CatKeys {
    CatKey *k;
    size_t n;
} CatKeys;

/*
 * The PRIMARY KEY and UNIQUE constraints and the indexes of table `r`
 * (PRIMARY KEY first, then by name). False with an ErrorResponse.
 */
bool catmodel_keys(Session *s, const CatRelation *r, CatKeys *ks, Buf *out);
/* The columns of the PRIMARY KEY of table `r`, one CatKey each, in key order. */
bool catmodel_primary_key(Session *s, const CatRelation *r, CatKeys *ks, Buf *out);
void catmodel_keys_free(CatKeys *ks);

/* ---- types ---- */

/*
 * PostgreSQL's typname of `oid`, one of the types the front end sends
 * (docs/pgwire.md#types, arrays `_int4` ...), with *out_array; NULL for any
 * other oid.
 */
const char *catmodel_type_oid_name(long long oid, bool *out_array);
/*
 * The `i`th (from 0) of those element types, in ascending OID order: its OID
 * and its array type's. False past the last.
 */
bool catmodel_type_at(size_t i, long long *out_oid, long long *out_array);

/* ---- the rest ---- */

/* The name of the first super user: the owner of every database, schema and table. */
void catmodel_owner(const SessionEnv *env, char name[CATALOG_NAME_MAX + 1]);

#endif
