/*
 * pgschema: the tables of a PostgreSQL schema as link copies them. Reads the
 * tables' columns from PostgreSQL's catalog, maps each column's type to the
 * DuckDB type it is stored as (docs/postgres.md lists the mapping), and
 * writes the SQL text built from them: DuckDB's CREATE TABLE and primary key,
 * PostgreSQL's COPY of a table, quoted identifiers and literals.
 *
 * Invariants: every column of a PgSchema has a supported type (reading fails
 * with the column named otherwise), and its DuckDB type is the one pgvalue
 * decodes its values into (a numeric's DECIMAL has at most 38 digits and a
 * scale from 0 to the precision). Names are always quoted into SQL, never
 * pasted.
 *
 * Callers: the commands of pglink, on the worker thread that runs them.
 * Reading uses the caller's PgJob; the SQL writers touch no connection.
 */
#ifndef TCPDUCKDB_PGSCHEMA_H
#define TCPDUCKDB_PGSCHEMA_H

#include <stdbool.h>

#include "buf.h"
#include "pgjob.h"
#include "pgvalue.h"

/* One column of a PostgreSQL table, as link maps it. */
typedef struct PgCol {
    char *name;
    char *pg_type;    /* format_type(), for messages */
    PgValueType type; /* how its values decode; the enum labels are owned here */
    bool not_null;
    int pk_pos;         /* 1-based position in the primary key, 0 when not in it */
    char duck_type[64]; /* DuckDB type, except enums (built from the labels) */
} PgCol;

typedef struct PgTable {
    char *name;
    PgCol *cols;
    int ncols;
    int npk; /* columns in the primary key */
} PgTable;

/* Tables in name order, columns in PostgreSQL's order. */
typedef struct PgSchema {
    PgTable *tables;
    int n;
} PgSchema;

/*
 * Reads the ordinary and partitioned tables of PostgreSQL schema `schema`
 * (only table `table` when not NULL) into *out, which starts zeroed. Returns
 * 0; or -1 with the error recorded in the job (an unsupported type, a table
 * without columns, PostgreSQL's error). Either way the caller frees *out with
 * pgschema_free().
 */
int pgschema_read(PgJob *j, const char *schema, const char *table, PgSchema *out)
    __attribute__((warn_unused_result));

/* Frees what pgschema_read() filled in; *s is then empty. */
void pgschema_free(PgSchema *s);

/* Drops the columns of `tb` past the first `ncols` (a CDC stream meeting a table whose later
 * columns its changes do not have yet). */
void pgschema_cut_columns(PgTable *tb, int ncols);

/* Appends `s` as a quoted SQL identifier ("a""b"). */
void pgschema_put_ident(Buf *b, const char *s);

/* Appends `s` as a quoted SQL string literal ('it''s'). */
void pgschema_put_literal(Buf *b, const char *s);

/* Appends `schema`.`table`, both quoted. */
void pgschema_put_relation(Buf *b, const char *schema, const char *table);

/* Appends the DuckDB type of `col` (with [] for arrays). */
void pgschema_put_duck_type(Buf *b, const PgCol *col);

/*
 * Appends CREATE TABLE for `tb` in DuckDB, with NOT NULL and, when with_pk,
 * the primary key. link leaves the key out and adds it after the copy
 * (pgschema_add_pk_sql): DuckDB builds the index from the whole column about
 * twice as fast as it maintains it per appended row (3.0 s against 1.65 s
 * for 5M rows here).
 */
void pgschema_create_table_sql(Buf *b, const PgTable *tb, bool with_pk);

/* Appends ALTER TABLE ... ADD PRIMARY KEY for `tb`; false (nothing written) without a key. */
bool pgschema_add_pk_sql(Buf *b, const PgTable *tb);

/* Appends PostgreSQL's COPY of all of `tb` in schema `schema`, in binary format. */
void pgschema_copy_sql(Buf *b, const char *schema, const PgTable *tb);

#endif
