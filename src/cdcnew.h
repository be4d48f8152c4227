/*
 * cdcnew: tables created in PostgreSQL after `link` (docs/cdc.md, "Tables
 * created after link"). At a CDC link by a superuser role, an event trigger
 * named like the publication is installed in PostgreSQL, with a SECURITY
 * DEFINER function of the same name in the linked schema. On CREATE TABLE,
 * CREATE TABLE AS, SELECT INTO and ALTER TABLE of a table of the linked
 * schema that is not in the publication, it adds the table to the
 * publication when it has a primary key (with the default replica identity),
 * and writes a transactional logical message (prefix: the publication,
 * content: the table's name) in the same transaction; a table without key
 * is left out (in a publication, its users' own UPDATE and DELETE would
 * fail) with a WARNING to the PostgreSQL session. The stream (cdc.c), meeting
 * that message, creates the DuckDB table and copies it (cdcnew_copy_table).
 *
 * Why a copy rather than the WAL's inserts: pgoutput decodes a change only
 * when its table is in the publication at that change, and the trigger
 * adds a table at the end of its command, after the rows a CREATE TABLE AS
 * wrote (and a table that gains its key by ALTER TABLE has older rows).
 * The copy reads PostgreSQL's table as it is now, later than the message;
 * the stream then replays the table's changes committed after the message,
 * some of which the copy holds already. That converges because the table
 * has a primary key: applying a change deletes every key it touches and
 * inserts the key's newest version, so each key ends as its last change
 * left it and a key no change touches keeps the copy's row. (A keyless
 * table, a multiset, would double rows; the trigger never adds one.)
 *
 * Callers: cdclink (install at link, uninstall at unlink or a failed link)
 * on a command's worker thread; the stream threads of cdc (check, copy).
 */
#ifndef TCPDUCKDB_CDCNEW_H
#define TCPDUCKDB_CDCNEW_H

#include <stdbool.h>

#include "buf.h"
#include "duckdb.h"
#include "pgjob.h"
#include "pgschema.h"

/*
 * Installs the event trigger and its function for publication `pub` of
 * schema `schema` when the connection's role is a superuser (event triggers
 * need one). Returns 1 when installed (or there already: `cdc resync DB`
 * calls it too, which so installs it for a link made before it existed), 0
 * when the role is not a superuser (nothing made: tables created later join
 * through `cdc resync DB TABLE`), -1 with the error in pg.
 */
int cdcnew_install(PgJob *pg, const char *schema, const char *pub)
    __attribute__((warn_unused_result));

/*
 * Drops the event trigger of publication `pub` and its function, when they
 * exist. 0, or -1 with the error in pg.
 */
int cdcnew_uninstall(PgJob *pg, const char *pub) __attribute__((warn_unused_result));

/*
 * Reads what `cdc status` shows of new tables: into not_followed (emptied
 * first) the names of the tables of `schema` that are not in publication
 * `pub`, one a line (no final newline) in name order, and into *out_trigger whether
 * the event trigger exists. 0, or -1 with the error in pg.
 */
int cdcnew_check(PgJob *pg, const char *schema, const char *pub, Buf *not_followed,
                 bool *out_trigger) __attribute__((warn_unused_result));

/*
 * Replaces the DuckDB table of `tb` (PostgreSQL's definition now, with its
 * primary key) with a copy of PostgreSQL's table `schema`.`tb` as it is now,
 * on `con` inside the caller's transaction. *out_rows gets the rows copied.
 * 0, or -1 with the error in pg.
 */
int cdcnew_copy_table(PgJob *pg, duckdb_connection con, const char *schema, const PgTable *tb,
                      int64_t *out_rows) __attribute__((warn_unused_result));

#endif
