/*
 * pgwire_ddl: PostgreSQL's spellings of DDL that DuckDB 1.5.6 rejects as
 * sent but can do, translated before DuckDB sees them (docs/pgwire.md,
 * "DDL"), so that `pgbench -i` and schema scripts written for PostgreSQL
 * run:
 *   - DROP TABLE|VIEW|SEQUENCE|INDEX [IF EXISTS] a, b, ... [CASCADE|RESTRICT]
 *     becomes one DROP per name (DuckDB drops one object at a time); the
 *     statements run as one text, so in one transaction as in PostgreSQL;
 *   - TRUNCATE [TABLE] [ONLY] a, b [CONTINUE IDENTITY] [RESTRICT] becomes one
 *     TRUNCATE per name;
 *   - CREATE ... WITH (fillfactor=..., autovacuum_..., toast_...,
 *     parallel_workers=...) loses the WITH: storage hints of PostgreSQL's
 *     heap that mean nothing to DuckDB's storage.
 * What would change the outcome if ignored is refused instead
 * (pgddl_refusal): TRUNCATE ... RESTART IDENTITY (DuckDB would not reset
 * the sequences) and TRUNCATE ... CASCADE (it would not truncate the
 * referencing tables).
 *
 * Works on sqllex tokens: strings, quoted names and comments are never
 * changed. Pure functions; any thread.
 */
#ifndef TCPDUCKDB_PGWIRE_DDL_H
#define TCPDUCKDB_PGWIRE_DDL_H

#include <stddef.h>

/* The statement `sql` (len bytes, one statement) as DuckDB should get it: a new text
 * (caller frees), or NULL when it stays as it is. */
char *pgddl_rewrite(const char *sql, size_t len);

/* 0, or -1 with the reason in `err` (SQLSTATE 0A000) for a statement whose PostgreSQL
 * meaning DuckDB cannot give. */
int pgddl_refusal(const char *sql, size_t len, char *err, size_t errlen);

#endif
