/*
 * userlimits: the per-user limits a super user can set over the server-wide
 * defaults (docs/security.md, "Resource limits"), as PostgreSQL's
 * `ALTER ROLE ... SET statement_timeout`.
 *
 * Each limit has a name, the Config setting that is its default, and a
 * range. A user's own values are stored in the catalog (catalog.h,
 * catalog_user_limit_set) and read at login: a change applies from the
 * user's next login, as a role's settings do in PostgreSQL. A session's
 * UserLimits are its own copy, so nothing here is shared or locked.
 */
#ifndef TCPDUCKDB_USERLIMITS_H
#define TCPDUCKDB_USERLIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

typedef enum {
    USERLIMIT_STATEMENT_TIMEOUT,  /* seconds a statement may run; 0: none (StatementTimeout) */
    USERLIMIT_IDLE_IN_TX_TIMEOUT, /* seconds idle in a transaction; 0: none
                                   * (IdleInTransactionTimeout) */
    USERLIMIT_MAX_STATEMENTS,     /* requests at once over the user's connections
                                   * (MaxUserStatements); not applied to the super user */
    USERLIMIT_STATEMENT_MEMORY,   /* bytes one statement may allocate (StatementMemoryLimit) */
    USERLIMIT_COUNT
} UserLimitId;

/* One session's effective limits. */
typedef struct UserLimits {
    int64_t value[USERLIMIT_COUNT];
    bool own[USERLIMIT_COUNT]; /* set for the user, not the server's default */
} UserLimits;

/* The server's defaults from `cfg`, none marked as the user's own. */
void userlimits_defaults(UserLimits *out, const Config *cfg);

/* The id of the limit called `name` (case-insensitive), or -1. */
int userlimits_find(const char *name);

/* The name of a limit, e.g. "statement_timeout". */
const char *userlimits_name(UserLimitId id);

/*
 * Parses `text` as a value of limit `id`: a non-negative decimal integer
 * within the limit's range (for statement_memory, a size as the settings
 * write it: 512MB, 2GB; no percentage). Returns false (and `why` says the range) when
 * it is not one.
 */
bool userlimits_parse(UserLimitId id, const char *text, int64_t *out, char *why, size_t whylen);

/* Every limit's names, separated by ", ", for usage answers. */
const char *userlimits_names(void);

#endif
