/*
 * fnlist: the one hand-kept list of DuckDB built-in names whose meaning
 * DuckDB's own metadata does not tell, shared by the access check
 * (authz_builtins.c) and the result cache (rescache.c).
 *
 * DuckDB 1.5.6's duckdb_functions() reports a stability (CONSISTENT,
 * CONSISTENT_WITHIN_QUERY, VOLATILE) for scalar and aggregate functions
 * only: every table function, table macro and macro has NULL. Both
 * consumers take what DuckDB reports for scalar and aggregate functions and
 * treat every other row as unsafe (fail closed), except the names here:
 *
 * - FNLIST_PURE_TABLE: table functions that compute rows from their
 *   arguments alone (no table, file, setting, catalog entry or clock), so
 *   the same arguments always give the same rows. Each one is trusted only
 *   where DuckDB lists it as a built-in table function (a name DuckDB stops
 *   listing is unknown again, hence unsafe).
 * - FNLIST_CONNECTION_STATE: reported CONSISTENT (or VOLATILE) but reading
 *   the connection's or the server's state rather than the database:
 *   settings, variables, sequences, secrets, another statement's plan.
 * - FNLIST_CHANGES_DATABASE: calling it changes the database (sequences).
 * - FNLIST_SIDE_EFFECT: calling it changes something outside the database
 *   (the log).
 * - FNLIST_STATEMENT_INPUT: turns a user's JSON into a statement tree
 *   (docs/security.md, "Known limits").
 * - FNLIST_VALUE_KEYWORD: an SQL keyword that calls a function without
 *   parentheses (current_timestamp, current_user, ...): its value depends
 *   on the moment or the session.
 *
 * Read-only constant data: any thread, no lock.
 */
#ifndef TCPDUCKDB_FNLIST_H
#define TCPDUCKDB_FNLIST_H

#include <stddef.h>

enum {
    FNLIST_PURE_TABLE = 1u << 0,
    FNLIST_CONNECTION_STATE = 1u << 1,
    FNLIST_CHANGES_DATABASE = 1u << 2,
    FNLIST_SIDE_EFFECT = 1u << 3,
    FNLIST_STATEMENT_INPUT = 1u << 4,
    FNLIST_VALUE_KEYWORD = 1u << 5,
};

/* One name of the list (lower case) and its FNLIST_* flags. */
typedef struct FnlistEntry {
    const char *name;
    unsigned flags;
} FnlistEntry;

/* The list: *out_n entries, static storage. */
const FnlistEntry *fnlist_entries(size_t *out_n);

/* The flags of `name` (`len` bytes, any case); 0 when it is not listed. */
unsigned fnlist_flags(const char *name, size_t len);

#endif
