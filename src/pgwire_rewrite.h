/*
 * pgwire_rewrite: the text DuckDB is given for a statement a PostgreSQL
 * client sent (docs/pgwire.md). PostgreSQL spellings that DuckDB reads
 * differently or not at all are rewritten before the statement is
 * classified, access-checked and run, so every later step sees the text
 * DuckDB resolves: bytea hex literals ('\x0001'::bytea) in DuckDB's escape
 * form, the schema qualifier `public.` as `main.`, `version()` as
 * PostgreSQL's text, and the DDL spellings of pgwire_ddl.h. Every rewrite
 * works on the lexer's tokens (sqllex.h), so nothing inside a string or a
 * comment is touched.
 *
 * Called by the simple query protocol (pgwire_session.c) for each
 * statement and by Parse (pgwire_extended.c). Pure functions: no state,
 * any thread.
 */
#ifndef TCPDUCKDB_PGWIRE_REWRITE_H
#define TCPDUCKDB_PGWIRE_REWRITE_H

#include <stddef.h>

/*
 * The text DuckDB is given for the `len` bytes at `sql` (one statement or
 * several). Always a new NUL-terminated text, the input's copy when
 * nothing is rewritten; caller frees with free().
 */
char *pgrw_client_text(const char *sql, size_t len);

/* What version() answers: "PostgreSQL 15.0 on ..., compiled by TCP-DuckDB ...", static. */
const char *pgrw_version(void);

#endif
