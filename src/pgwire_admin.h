/*
 * pgwire_admin: PostgreSQL's spellings of the administration commands,
 * mapped onto the line protocol's command table (session.c), so the same
 * handlers, checks (super user only) and catalog serve both protocols. The
 * mapping is tabled in docs/pgwire.md ("Administration"):
 *   CREATE DATABASE d                      -> create database d
 *   DROP DATABASE [IF EXISTS] d            -> drop database d
 *   ALTER DATABASE a RENAME TO b           -> update database a b
 *   CREATE USER|ROLE u [WITH] ... PASSWORD 'p' ...  -> create user u p
 *   ALTER USER|ROLE u [WITH] PASSWORD 'p'  -> update user password u p
 *   ALTER USER|ROLE u RENAME TO v          -> update user username u v
 *   GRANT privs|ALL ON [TABLE] t TO u      -> grant table DB t u privs
 *   GRANT CONNECT|TEMP ON DATABASE d TO u  -> grant database d u read
 *   GRANT ALL|CREATE ON DATABASE d TO u    -> grant database d u write
 *   REVOKE ... FROM u                      -> revoke table / revoke database
 * (DB is the session's database.) What has no line-protocol command (DROP
 * USER, role options such as SUPERUSER, GRANT to PUBLIC or WITH GRANT
 * OPTION) and a password given as a verifier ('SCRAM-SHA-256$...', 'md5...',
 * which would otherwise become the password's text) are refused with
 * 0A000, never half done.
 *
 * Thread: the worker that owns the session.
 */
#ifndef TCPDUCKDB_PGWIRE_ADMIN_H
#define TCPDUCKDB_PGWIRE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "session.h"

/* True when the statement `sql` is an administration command of this module's. */
bool pgadm_is_admin(const char *sql, size_t len);

typedef enum {
    PGADM_OK,      /* done: *tag is the CommandComplete tag */
    PGADM_LINE,    /* the command's error line (reply.h) is in `line` */
    PGADM_REFUSED, /* not a form this server maps: sqlstate and err say why */
} PgAdmResult;

/*
 * Runs the administration statement `sql` through the session's command
 * table. `line` receives the command's answer; `tag` (tagcap bytes) the
 * tag; `sqlstate` (6 bytes) and `err` a refusal.
 */
PgAdmResult pgadm_run(Session *s, const SessionEnv *env, const char *sql, size_t len, Buf *line,
                      char *tag, size_t tagcap, char sqlstate[6], char *err, size_t errlen);

#endif
