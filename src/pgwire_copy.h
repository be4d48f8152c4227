/*
 * pgwire_copy: PostgreSQL's COPY ... TO STDOUT / FROM STDIN for the front
 * end (docs/pgwire.md#copy). DuckDB never sees a COPY statement from
 * PgPort: this module reads the statement (table, columns or query,
 * direction, text or CSV options), encodes result values as COPY lines and
 * decodes COPY lines into fields for a sink; pgwire_copyio.c runs the
 * statements (a SELECT for TO, DuckDB's appender behind an INSERT's access
 * check for FROM). Files and programs are refused: only the client's own
 * data moves. Prefix pgwcopy_ (pgcopy.c is the binary COPY reader of
 * PostgreSQL links).
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

/*
 * True when the value (n bytes of PostgreSQL text output) goes into a COPY
 * line as it stands: no escape (text) or quotes (CSV) needed.
 */
bool pgwcopy_value_plain(const PgWCopySpec *spec, const char *v, size_t n);
/* Appends one value (n bytes of PostgreSQL text output) to a COPY line, escaped or quoted. */
void pgwcopy_put_value(const PgWCopySpec *spec, Buf *line, const char *v, size_t n);
/* Appends a NULL to a COPY line. */
void pgwcopy_put_null(const PgWCopySpec *spec, Buf *line);

/*
 * Where pgwcopy_decode() hands the rows: each field of a row in order, then
 * the row's end. A callback returns 0, or -1 to stop decoding (the sink
 * keeps its own error).
 */
typedef struct PgWCopySink {
    /* Field `col` (from 0) of the current row: the n bytes at v (borrowed for
     * the call, de-escaped or unquoted, never holding a zero byte), or NULL
     * (v NULL, n 0) when the field was the NULL string. */
    int (*field)(void *ctx, int col, const char *v, size_t n, bool null);
    /* The current row ended after `ncols` fields. */
    int (*row_end)(void *ctx, int ncols);
    void *ctx;
} PgWCopySink;

/* pgwcopy_decode()'s answer when the sink stopped it. */
#define PGWCOPY_SINK_STOPPED (-2)

/*
 * Decodes the complete rows at the start of data[0..n) and hands each to
 * `sink` (the header line and the text format's `\.` end marker are not
 * rows). `last` says no more data follows (a final line without a newline
 * is then a row). `scratch` holds a field that needed de-escaping (the
 * caller's, reused across calls). *rows is incremented per row the sink
 * took; *done is set at `\.`. Returns the bytes consumed (up to the end of
 * the last complete row); -1 with a message in `err` for data that cannot
 * be read (an unterminated CSV quote, a zero byte: PostgreSQL's text cannot
 * hold one); PGWCOPY_SINK_STOPPED when the sink said stop (*rows counts the
 * rows before the one it stopped in).
 */
long pgwcopy_decode(const PgWCopySpec *spec, const char *data, size_t n, bool last,
                    bool *skip_header, const PgWCopySink *sink, Buf *scratch, long *rows,
                    bool *done, char *err, size_t errlen);

#endif
