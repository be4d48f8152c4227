/*
 * catalog: the server's metadata in SQLite: users, databases, grants and
 * PostgreSQL links, in one file (DBdir/ServerDbFile).
 *
 * The schema carries its version in PRAGMA user_version; catalog_open()
 * creates it on first start and upgrades older versions step by step, each
 * step in one transaction. Foreign keys are on and the journal is WAL.
 * Every change that touches more than one row runs in one transaction.
 *
 * Databases are identified by an id that is never reused once committed
 * (AUTOINCREMENT; a create that fails rolls back and may hand the same id to
 * the next create, whose file creation first removes any leftover file):
 * the DuckDB file of database 7 is DBdir/databases/7.duckdb whatever its
 * name, so renaming a database is a catalog update only and never races
 * with sessions that have the file open.
 *
 * Thread-safety: one SQLite connection guarded by a mutex inside Catalog;
 * every function may be called from any thread. Calls are short (indexed
 * lookups), except the password checks, which run outside the lock.
 */
#ifndef TCPDUCKDB_CATALOG_H
#define TCPDUCKDB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Catalog Catalog;

typedef enum {
    CATALOG_OK = 0,
    CATALOG_NOT_FOUND,  /* the named user or database does not exist */
    CATALOG_EXISTS,     /* the new name is taken */
    CATALOG_DENIED,     /* wrong user or password */
    CATALOG_ERROR = -1, /* SQLite failed; the log says why */
} CatalogStatus;

/* Name rule for users and databases: [A-Za-z_][A-Za-z0-9_]{0,62}. */
#define CATALOG_NAME_MAX 63
#define CATALOG_NAME_RULE "[A-Za-z_][A-Za-z0-9_]{0,62}"
#define CATALOG_PASSWORD_MAX 1024
#define CATALOG_SUPER_USER "duck"

bool catalog_name_valid(const char *name);

typedef struct CatalogUser {
    int64_t id;
    char name[CATALOG_NAME_MAX + 1];
    bool super;
} CatalogUser;

typedef enum { CATALOG_ACCESS_NONE = 0, CATALOG_ACCESS_READ, CATALOG_ACCESS_WRITE } CatalogAccess;

/*
 * Opens (creating or upgrading) the catalog at `path` and makes sure the
 * super user exists, created with `super_password` on first start (logging
 * "Super user created"). On failure returns NULL with a message in `err`.
 */
Catalog *catalog_open(const char *path, const char *super_password, char *err, size_t errlen);
/* Accepts NULL. */
void catalog_close(Catalog *c);

/* Checks a password; CATALOG_DENIED for a wrong one or an unknown user
 * (indistinguishable, in answer and in time). */
CatalogStatus catalog_login(Catalog *c, const char *name, const char *password,
                            CatalogUser *out_user) __attribute__((warn_unused_result));
/*
 * The user `name` and their stored SCRAM verifier (scram.h), for a front end
 * that runs the SCRAM exchange itself (pgwire). CATALOG_NOT_FOUND for an
 * unknown or invalid name; the caller must then run the same exchange with
 * a made-up verifier, so that the answer does not tell.
 */
CatalogStatus catalog_user_verifier(Catalog *c, const char *name, CatalogUser *out_user,
                                    char verifier[256]) __attribute__((warn_unused_result));
CatalogStatus catalog_user_create(Catalog *c, const char *name, const char *password)
    __attribute__((warn_unused_result));
CatalogStatus catalog_user_rename(Catalog *c, const char *old_name, const char *new_name)
    __attribute__((warn_unused_result));
/* Removes user `name` (never the super user) with their grants and limits (ON DELETE
 * CASCADE); CATALOG_NOT_FOUND when there is no such user who may be removed. */
CatalogStatus catalog_user_delete(Catalog *c, const char *name) __attribute__((warn_unused_result));
/* Stores `verifier` (already made, checked with scram_verifier_info) as user `name`'s; a
 * malformed one is CATALOG_ERROR and nothing changes. */
CatalogStatus catalog_user_set_verifier(Catalog *c, const char *name, const char *verifier)
    __attribute__((warn_unused_result));
CatalogStatus catalog_user_set_password(Catalog *c, const char *name, const char *password)
    __attribute__((warn_unused_result));

/*
 * Sets limit `name` (userlimits.h) of user `user_id` to `value`, or removes
 * the user's own value when `value` < 0 (the server's default applies
 * again; removing a value that is not set is OK).
 */
CatalogStatus catalog_user_limit_set(Catalog *c, int64_t user_id, const char *name, int64_t value)
    __attribute__((warn_unused_result));

/*
 * Calls `fn` with each limit stored for `user_id` (the catalog lock is held
 * during the calls: `fn` must not call into the catalog). Returns 0, or -1
 * when SQLite fails (logged).
 */
int catalog_user_limits(Catalog *c, int64_t user_id,
                        void (*fn)(void *ctx, const char *name, int64_t value), void *ctx)
    __attribute__((warn_unused_result));
/* True while the super user's password is still "duck" (protected mode). */
bool catalog_super_has_default_password(Catalog *c);

/*
 * Creates database `name`. `create_file(id, ctx)` is called inside the
 * catalog transaction to create the DuckDB file for the new id; if it
 * returns nonzero the database is not recorded. On success *out_id is set.
 */
CatalogStatus catalog_database_create(Catalog *c, const char *name,
                                      int (*create_file)(int64_t id, void *ctx), void *ctx,
                                      int64_t *out_id) __attribute__((warn_unused_result));
CatalogStatus catalog_database_find(Catalog *c, const char *name, int64_t *out_id)
    __attribute__((warn_unused_result));
/* Deletes database `id` with its grants and link (ON DELETE CASCADE).
 * CATALOG_NOT_FOUND when there is no such database. */
CatalogStatus catalog_database_delete(Catalog *c, int64_t id) __attribute__((warn_unused_result));
CatalogStatus catalog_database_rename(Catalog *c, const char *old_name, const char *new_name)
    __attribute__((warn_unused_result));

/*
 * A number that moves whenever a write changed a row of the catalog (a user, a database, a
 * grant, a limit), set before the writing function returns: what was read from the catalog
 * while the number was N is still true while it is N. Counts the rows this process changed
 * (SQLite's total_changes): the server is the only writer of its catalog. Any thread.
 */
uint64_t catalog_generation(Catalog *c);

/* The access `user_id` has to database `db_id` (NONE when no grant). */
CatalogStatus catalog_database_access(Catalog *c, int64_t user_id, int64_t db_id,
                                      CatalogAccess *out_access)
    __attribute__((warn_unused_result));

/* Finds a user by name (CATALOG_NOT_FOUND when there is none). */
CatalogStatus catalog_user_find(Catalog *c, const char *name, CatalogUser *out_user)
    __attribute__((warn_unused_result));

/*
 * Table privileges, a bit set. The values are stored in table_grants and
 * equal the AUTHZ_* bits of the enforcement module.
 */
#define CATALOG_PRIV_SELECT 1u
#define CATALOG_PRIV_INSERT 2u
#define CATALOG_PRIV_UPDATE 4u
#define CATALOG_PRIV_DELETE 8u
#define CATALOG_PRIV_ALL 15u
/* What a database grant allows table grants to give: read -> select only. */
unsigned catalog_access_cap(CatalogAccess access);

/* Sets the database grant of a user (replacing read by write or back). */
CatalogStatus catalog_grant_database(Catalog *c, int64_t db_id, int64_t user_id,
                                     CatalogAccess access) __attribute__((warn_unused_result));
/* Removes the database grant and, with it, every table grant of the user on
 * that database. CATALOG_OK even when there was none (revoking is idempotent). */
CatalogStatus catalog_revoke_database(Catalog *c, int64_t db_id, int64_t user_id)
    __attribute__((warn_unused_result));
/*
 * Adds `privs` to the user's grant on `table` (DuckDB's spelling of the
 * name, schema main). CATALOG_DENIED when the user has no database grant or
 * its cap does not allow `privs` (read allows select only).
 */
CatalogStatus catalog_grant_table(Catalog *c, int64_t db_id, int64_t user_id, const char *table,
                                  unsigned privs) __attribute__((warn_unused_result));
/* Removes `privs` from the user's grant on `table`; the grant goes when none is left. */
CatalogStatus catalog_revoke_table(Catalog *c, int64_t db_id, int64_t user_id, const char *table,
                                   unsigned privs) __attribute__((warn_unused_result));
/*
 * The privileges the user holds on `table` (compared case-insensitively, as
 * DuckDB resolves names), already capped by the database grant. 0 when none
 * or on error.
 */
unsigned catalog_table_privileges(Catalog *c, int64_t db_id, int64_t user_id, const char *table);
/*
 * Deletes the table grants on database `db_id` whose table is not in
 * `tables` (`n` names, DuckDB's spelling): called after the super user
 * dropped or renamed tables, so a grant never passes to a different table
 * created later under the same name. Returns the number removed, or -1.
 */
int catalog_table_grants_prune(Catalog *c, int64_t db_id, const char *const *tables, size_t n);

/*
 * One change of a table's name for catalog_table_grants_rename(): the grants
 * on `from` move to `to`, or are deleted when `to` is NULL (the table is
 * gone). Both borrowed for the call; DuckDB's spelling, schema main.
 */
typedef struct CatalogTableRename {
    const char *from;
    const char *to;
} CatalogTableRename;
/*
 * Applies `n` renames to the table grants on database `db_id` in one
 * transaction and all at once, so names may swap (a -> b and b -> a) or
 * shift (a -> b, b -> c). The `from` names must differ from each other
 * (case-insensitively, as DuckDB's names do) and no `to` may hold a control
 * character. A grant already stored under a `to` name that is not itself
 * moved away is replaced: it names no table the caller knows. Called after
 * the super user renamed or dropped tables, so a grant stays with its table
 * (access.c compares DuckDB's table oids). Returns the number of grants
 * moved or deleted, or -1 (nothing changed).
 */
int catalog_table_grants_rename(Catalog *c, int64_t db_id, const CatalogTableRename *renames,
                                size_t n) __attribute__((warn_unused_result));

/*
 * Listings for the `show` commands. `row` is called once per row with the
 * row's text columns (a NULL column is NULL); strings are valid only during
 * the call. The catalog lock is held meanwhile: `row` must not call back
 * into the catalog.
 *   CATALOG_LIST_USERS      name, super ("true"/"false"), id   (filter unused)
 *   CATALOG_LIST_DATABASES  name, access, id                   (filter: a user id, or 0 for all;
 *                                                               access NULL when filter is 0)
 *   CATALOG_LIST_GRANTS     database, access, table, privileges bits in decimal
 *                           (table NULL for a database without table grants)
 */
typedef enum { CATALOG_LIST_USERS, CATALOG_LIST_DATABASES, CATALOG_LIST_GRANTS } CatalogList;
CatalogStatus catalog_list(Catalog *c, CatalogList what, int64_t filter,
                           void (*row)(void *ctx, const char *const *cols, int ncols), void *ctx)
    __attribute__((warn_unused_result));

/*
 * PostgreSQL links (docs/postgres.md): the sealed connection string of a
 * linked database (secret.h's format; the catalog never sees it in clear).
 * catalog_pglink_set() stores it, replacing an earlier one.
 * catalog_pglink_get() loads it into *out_blob (caller frees with free());
 * CATALOG_NOT_FOUND when the database is not linked.
 * catalog_pglink_delete() forgets the link (CATALOG_OK also when there was none).
 */
CatalogStatus catalog_pglink_set(Catalog *c, int64_t db_id, const void *blob, size_t len)
    __attribute__((warn_unused_result));
CatalogStatus catalog_pglink_get(Catalog *c, int64_t db_id, unsigned char **out_blob,
                                 size_t *out_len) __attribute__((warn_unused_result));
CatalogStatus catalog_pglink_delete(Catalog *c, int64_t db_id) __attribute__((warn_unused_result));

/*
 * What a forced `unlink` of a CDC-linked database left in PostgreSQL (a
 * slot and a publication it could not drop), kept until a later `cdc
 * drop-orphans` drops them (docs/cdc.md). The connection string stays
 * sealed as the link had it (its AAD names database_id, the id the
 * database had then).
 */
typedef struct CatalogCdcOrphan {
    int64_t id;
    char database[CATALOG_NAME_MAX + 1];
    int64_t database_id;
    char slot[64], publication[64];
    char target[512]; /* the connection string with its password masked */
    void *dsn_sealed; /* secret.h's format */
    size_t dsn_len;
    char left_at[32]; /* UTC, ISO 8601 (set by the catalog) */
    char last_error[512];
} CatalogCdcOrphan;

/* Records `o` (id and left_at are the catalog's). */
CatalogStatus catalog_cdc_orphan_add(Catalog *c, const CatalogCdcOrphan *o)
    __attribute__((warn_unused_result));
/* Every record, oldest first, in *out (free with catalog_cdc_orphans_free). */
CatalogStatus catalog_cdc_orphan_list(Catalog *c, CatalogCdcOrphan **out, size_t *out_n)
    __attribute__((warn_unused_result));
/* Keeps why the last attempt to drop record `id` failed. */
CatalogStatus catalog_cdc_orphan_set_error(Catalog *c, int64_t id, const char *err)
    __attribute__((warn_unused_result));
/* Forgets record `id` (its slot and publication are dropped). */
CatalogStatus catalog_cdc_orphan_delete(Catalog *c, int64_t id) __attribute__((warn_unused_result));
/* Frees a list of catalog_cdc_orphan_list. Accepts NULL. */
void catalog_cdc_orphans_free(CatalogCdcOrphan *v, size_t n);

/*
 * The tables a CDC stream follows (read-only to users, docs/cdc.md), so that
 * they are known at server start before the stream reaches PostgreSQL.
 * catalog_cdc_followed_list() fills *out with *out_n names (free with
 * catalog_names_free); catalog_cdc_followed_set() replaces the list of
 * `db_id` (n = 0 forgets it); catalog_cdc_followed_add() adds one name.
 * Dropping the database forgets its list.
 */
CatalogStatus catalog_cdc_followed_list(Catalog *c, int64_t db_id, char ***out, int *out_n)
    __attribute__((warn_unused_result));
CatalogStatus catalog_cdc_followed_set(Catalog *c, int64_t db_id, const char *const *names, int n)
    __attribute__((warn_unused_result));
CatalogStatus catalog_cdc_followed_add(Catalog *c, int64_t db_id, const char *name)
    __attribute__((warn_unused_result));
/* Frees a list of names (each, then the array). Accepts NULL. */
void catalog_names_free(char **v, int n);

#endif
