/*
 * pgwire_settings: the client settings of one PostgreSQL front end
 * connection. The table of settings the front end knows (their defaults and
 * which are reported as ParameterStatus), their values in one connection,
 * and the statements about them the front end answers itself: SET, RESET,
 * SHOW, and SELECT current_setting(...) / set_config(...) as a whole
 * statement. statement_timeout is also the session's limit
 * (pgset_apply_timeout).
 *
 * Every answer is appended to `out` as PostgreSQL messages; an error is one
 * ErrorResponse, and whether it fails a transaction block is the caller's
 * (pgwire_session.c) decision.
 *
 * Thread: the worker that owns the connection, as pgwire_session.h.
 */
#ifndef TCPDUCKDB_PGWIRE_SETTINGS_H
#define TCPDUCKDB_PGWIRE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "session.h"

/* The value of a client setting (SET), at most, with its NUL. */
#define PGSET_VALUE_MAX 128
/* The entries of the settings table (pgwire_settings.c checks it). */
#define PGSET_COUNT 30

/* One connection's settings; pgset_init gives the defaults. */
typedef struct PgSettings {
    char values[PGSET_COUNT][PGSET_VALUE_MAX];
} PgSettings;

void pgset_init(PgSettings *st);

/* True when `name` (any case) is a setting of the table. */
bool pgset_known(const char *name);

/* A setting of the startup packet (application_name, DateStyle, ...): stored when it is
 * known and settable, ignored otherwise. */
void pgset_startup(PgSettings *st, const char *name, const char *value);

/* After login: session_authorization and is_superuser, then every reported setting as
 * ParameterStatus. */
void pgset_login(PgSettings *st, const char *user, bool super, Buf *out);

/* SET, RESET and SHOW of a known setting (pgsess_classify said so); false: an
 * ErrorResponse was answered. `describe`: send a RowDescription first. */
bool pgset_set(PgSettings *st, const char *sql, size_t len, Buf *out);
void pgset_reset(PgSettings *st, const char *sql, size_t len, Buf *out);
bool pgset_show(const PgSettings *st, const char *sql, size_t len, bool describe, Buf *out);

/* DISCARD ALL's part: every setting back to its default (session_authorization kept),
 * with ParameterStatus for the reported ones. */
void pgset_reset_all(PgSettings *st, Buf *out);

/* True when `sql` calls current_setting( or set_config( anywhere, outside strings. */
bool pgset_calls_setting_fn(const char *sql, size_t len);
/* True when `sql` is exactly SELECT [pg_catalog.]current_setting(...) or set_config(...),
 * with an optional alias: a statement pgset_call answers. */
bool pgset_is_setting_call(const char *sql, size_t len);
/* Answers such a statement (NUL-terminated); false: an ErrorResponse was answered. */
bool pgset_call(PgSettings *st, const char *sql, bool describe, Buf *out);

/* The column name of the answer of a SHOW or setting call; `buf` holds it when it is the
 * statement's alias. */
const char *pgset_show_column(const char *sql, size_t len, char buf[64]);

/* True when client_min_messages lets a WARNING through (every level but error does). */
bool pgset_sends_warnings(const PgSettings *st);

/* The extra_float_digits setting (-15..3; 1, PostgreSQL's default, when unset or unreadable). */
int pgset_extra_float_digits(const PgSettings *st);

/*
 * The statement_timeout setting, in milliseconds, as the session's client timeout
 * (Session.client_timeout_ms): it lowers the user's limit (userlimits.h), never raises it
 * (session_statement_timeout_ms). Called before every statement.
 */
void pgset_apply_timeout(PgSettings *st, Session *s);

#endif
