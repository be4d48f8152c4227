/*
 * pgwire_copy: PostgreSQL's COPY ... TO STDOUT / FROM STDIN for the front
 * end (docs/pgwire.md#copy). DuckDB never sees a COPY statement from
 * PgPort: this module reads the statement (table, columns or query,
 * direction, text or CSV options), encodes result values as COPY lines and
 * decodes COPY lines into rows; pgwire_session.c runs the SELECT or INSERT
 * statements it builds through session_run_sql(), so the same access
 * checks apply (SELECT for TO, INSERT for FROM). Files and programs are
 * refused: only the client's own data moves. Prefix pgwcopy_ (pgcopy.c is
 * the binary COPY reader of PostgreSQL links).
 *
 * Thread: the worker that owns the session; no shared state.
 */
#ifndef TCPDUCKDB_PGWIRE_COPY_H
#define TCPDUCKDB_PGWIRE_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef struct PgWCopySpec {
    bool to;       /* TO STDOUT; else FROM STDIN */
    bool csv;      /* FORMAT csv; else text */
    bool header;   /* CSV HEADER */
    char delim;    /* '\t' (text) or ',' (csv) unless DELIMITER */
    char quote;    /* CSV quote, '"' */
    char *null;    /* NULL string: "\\N" (text), "" (csv) */
    char *target;  /* the table as written, with its column list: `t (a, b)` */
    char *table;   /* the table as written */
    char *columns; /* the column list as written without parentheses, or NULL: all */
    char *query;   /* COPY (query) TO: the query; then target and table are NULL */
    /* FROM: which target columns are bytea (BLOB), whose PostgreSQL hex text
     * (\x0001) is rewritten to DuckDB's escapes (\x00\x01); NULL: none known. */
    bool *bytea;
    int nbytea;
} PgWCopySpec;

/*
 * Reads COPY statement `sql` into *out (zeroed by the caller). Returns 0,
 * or -1 with a SQLSTATE and a message for the client: `42501` for a file
 * or program, `0A000` for BINARY or an option not handled, `42601` for a
 * statement it cannot read.
 */
int pgwcopy_spec_parse(const char *sql, size_t len, PgWCopySpec *out, char sqlstate[6], char *err,
                       size_t errlen);
void pgwcopy_spec_free(PgWCopySpec *spec);

/* Appends one value (n bytes of PostgreSQL text output) to a COPY line. */
void pgwcopy_put_value(const PgWCopySpec *spec, Buf *line, const char *v, size_t n);
/* Appends a NULL to a COPY line. */
void pgwcopy_put_null(const PgWCopySpec *spec, Buf *line);

/*
 * Decodes the complete rows at the start of data[0..n) and appends each as
 * the SQL of a VALUES row, `('v1', NULL, ...)`, to `values` (rows separated
 * by commas; every value a string literal that DuckDB casts to the
 * column's type). `last` says no more data follows (a final line without a
 * newline is then a row). *rows is incremented per row; *done is set at
 * the text format's `\.` end marker. Returns the bytes consumed (up to the
 * end of the last complete row), or -1 with a message in `err` for data
 * that cannot be read (an unterminated CSV quote, a zero byte: PostgreSQL's
 * text cannot hold one, and DuckDB's C API would end the SQL text there).
 */
long pgwcopy_decode(const PgWCopySpec *spec, const char *data, size_t n, bool last,
                    bool *skip_header, Buf *values, long *rows, bool *done, char *err,
                    size_t errlen);

#endif
