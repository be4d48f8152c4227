/*
 * throttle: failed-login throttling per client address and per user name
 * (docs/security.md, "Login limits").
 *
 * Rule. Each address and each user name has a count of failed logins in a
 * window of THROTTLE_WINDOW_MS. When an address reaches `limit` failures
 * (a user name 4 x `limit`, so that one address is throttled long before
 * it can lock a user out), it is blocked for 1 s; from then on every
 * further failure blocks it again for twice as long as the last time, up
 * to THROTTLE_MAX_DELAY_MS. While an address or the user name is blocked,
 * a login is refused at once, before the password is checked, so a refused
 * attempt costs no PBKDF2 and counts as no failure. Nothing sleeps: the
 * caller answers at once with the time left. A successful login forgets
 * both its address's and its user's failures. An entry with no failure for
 * THROTTLE_FORGET_MS is forgotten too.
 *
 * Memory is bounded: each table (addresses, user names) holds at most
 * `capacity` entries; when full, the entry whose last failure is oldest is
 * reused, preferring one that is not blocked now. Failures are logged as
 * one summary line per THROTTLE_WINDOW_MS at most, never one per attempt.
 *
 * Shared by every worker; one mutex inside guards everything. Times are
 * passed in (CLOCK_MONOTONIC milliseconds) so tests can drive the clock.
 */
#ifndef TCPDUCKDB_THROTTLE_H
#define TCPDUCKDB_THROTTLE_H

#include <stdint.h>

#define THROTTLE_WINDOW_MS 60000
#define THROTTLE_MAX_DELAY_MS 60000
#define THROTTLE_FORGET_MS (15 * 60000)
/* A user name is throttled after this many times the address limit. */
#define THROTTLE_USER_FACTOR 4
/* Entries per table (addresses, user names) of the server's throttle. */
#define THROTTLE_CAPACITY 4096
/* Longest key: an address in text (an IPv6 /64 prefix) or a user name. */
#define THROTTLE_KEY_MAX 64

typedef struct Throttle Throttle;

/*
 * A throttle blocking after `limit` failures per address (0: never blocks;
 * failures are still logged), with at most `capacity` (>= 1)
 * entries per table. Caller frees with throttle_free().
 */
Throttle *throttle_new(int limit, int capacity);

/* Logs the failures not yet reported and frees. Accepts NULL. */
void throttle_free(Throttle *t);

/*
 * 0 when a login of `user` from `addr` may be checked now; otherwise the
 * whole seconds (>= 1) until it may, and the refusal is counted for the
 * log. `user` is NULL when the name is not a valid user name (then only
 * the address counts). `t` may be NULL. Any thread.
 */
int throttle_login_check(Throttle *t, const char *addr, const char *user, int64_t now_ms);

/* Counts a failed login (wrong password or unknown user). Same terms. */
void throttle_login_failed(Throttle *t, const char *addr, const char *user, int64_t now_ms);

/* A successful login: forgets the failures of `addr` and of `user`. Same terms. */
void throttle_login_succeeded(Throttle *t, const char *addr, const char *user);

/* Entries in use in the address and user tables (for tests). */
void throttle_counts(Throttle *t, int *out_addrs, int *out_users);

#endif
