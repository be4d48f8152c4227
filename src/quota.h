/*
 * quota: how many requests each user is running at once, against
 * MaxUserStatements (docs/security.md, "UserLimits"), so that one user cannot
 * take every worker thread of the server.
 *
 * A request that runs SQL enters before its statements and leaves after
 * them (session.c), with its user's limit (a session's copy of it, which
 * the super user can set per user); an entry over the limit is refused at once, never
 * queued: a client that sends more than it may run at once gets
 * `Error: Too Many Statements` and can retry. The super user is not
 * counted, as PostgreSQL's superuser is not held to connection limits.
 *
 * Memory: one entry per user with a request running now, in a hash table
 * of QUOTA_BUCKETS chains; an entry is freed when its count returns to 0,
 * so the table holds at most one entry per running request. Each chain
 * has its own mutex (on its own cache line), held for a short chain walk:
 * requests of different users rarely share one, so the count costs two
 * uncontended lock round trips per request on any number of cores.
 */
#ifndef TCPDUCKDB_QUOTA_H
#define TCPDUCKDB_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#define QUOTA_BUCKETS 256

typedef struct Quota Quota;

/* An empty table. Caller frees with quota_free(). */
Quota *quota_new(void);

/* Frees; every entered request must have left. Accepts NULL. */
void quota_free(Quota *q);

/*
 * Counts a request of user `user_id` that starts now; false (and nothing
 * counted) when that user already runs `limit` (>= 1: the user's
 * max_statements, limits.h). `q` may be NULL: no limit. Any thread.
 */
bool quota_enter(Quota *q, int64_t user_id, int64_t limit) __attribute__((warn_unused_result));

/* The request counted by a successful quota_enter() has ended. Any thread. */
void quota_leave(Quota *q, int64_t user_id);

#endif
