/*
 * scram: password verifiers in PostgreSQL's SCRAM-SHA-256 format
 * (RFC 5802/7677, as stored in pg_authid.rolpassword):
 *
 *     SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
 *
 * so that a future PostgreSQL-protocol front end can run a real SCRAM
 * exchange against the same stored users. The password itself is never
 * stored. Verification recomputes StoredKey and ServerKey from the password
 * and compares both in constant time. Thread-safe (no mutable global
 * state); uses OpenSSL.
 *
 * Passwords are taken as bytes. PostgreSQL first normalises a password with
 * SASLprep (RFC 4013), which leaves pure ASCII unchanged, so for ASCII
 * passwords our verifiers and PostgreSQL's are interchangeable; a non-ASCII
 * password may hash differently from PostgreSQL's.
 *
 * Accepted verifiers are strict: the exact prefix, iterations as decimal
 * digits without sign or leading zero in SCRAM_ITERATIONS_MIN..MAX, a salt
 * of 1 to 64 bytes, both keys exactly 32 bytes, all in canonical standard
 * base64 ("=" padding, unused bits zero, no other characters), and fewer
 * than SCRAM_VERIFIER_MAX bytes in all. Verifiers are written with a 16-byte salt, as PostgreSQL's.
 */
#ifndef TCPDUCKDB_SCRAM_H
#define TCPDUCKDB_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

/* Large enough for any verifier this module writes or accepts. */
#define SCRAM_VERIFIER_MAX 256
/* PostgreSQL's default iteration count (scram_iterations). */
#define SCRAM_DEFAULT_ITERATIONS 4096
/* Iteration counts this module writes and accepts. */
#define SCRAM_ITERATIONS_MIN 1
#define SCRAM_ITERATIONS_MAX 10000000

/*
 * Writes a new verifier for `password` with a fresh random 16-byte salt into
 * `out` (NUL-terminated). Returns 0, or -1 if `password` is NULL,
 * `iterations` is outside SCRAM_ITERATIONS_MIN..MAX, or the system's random
 * source or OpenSSL fails (`out` is then an empty string).
 */
int scram_make_verifier(const char *password, int iterations, char out[SCRAM_VERIFIER_MAX])
    __attribute__((warn_unused_result));

/*
 * Returns true when `password` matches `verifier`. A well-formed verifier
 * costs one PBKDF2 run with its iteration count whatever the outcome, so
 * callers that must not reveal whether a user exists call it with
 * scram_dummy_verifier() for unknown users. A malformed verifier (or a NULL
 * argument) never matches and returns at once.
 */
bool scram_verify(const char *verifier, const char *password);

/*
 * True when `verifier` is well formed by the rules above (a verifier made
 * elsewhere, e.g. by libpq for psql's \password); its iteration count and
 * salt length go to the out parameters (either may be NULL).
 */
bool scram_verifier_info(const char *verifier, int *iterations, size_t *salt_len);

/* A well-formed verifier with SCRAM_DEFAULT_ITERATIONS iterations that no
 * password is known to match (its keys are random bytes, not derived from a
 * password). A static string. */
const char *scram_dummy_verifier(void);

/*
 * The server side of a SCRAM-SHA-256 exchange (RFC 5802/7677) against a
 * stored verifier, as PostgreSQL runs it over its protocol (pgwire):
 * without channel binding (gs2 flags `n` and `y`), the user named in the
 * client's first message ignored in favour of the startup packet's. One
 * exchange per login attempt, owned by the connection's thread.
 */
#define SCRAM_MESSAGE_MAX 1024 /* longest client message accepted */
typedef struct ScramExchange {
    bool started, known;
    int iterations;
    unsigned char stored_key[32], server_key[32];
    char gs2[64];   /* the client's gs2 header, e.g. "n,," */
    char nonce[96]; /* client nonce + server nonce */
    char auth[3 * SCRAM_MESSAGE_MAX];
    size_t auth_len;
} ScramExchange;

/*
 * Reads the client-first-message `msg` and writes the server-first-message
 * into `out` (NUL-terminated). `verifier` is the user's stored verifier, or
 * NULL for an unknown user: the exchange then runs the same, with a salt
 * made from `user` that is the same at every attempt, and ends SCRAM_DENIED.
 * Returns 0, or -1 when the message is malformed or does not fit.
 */
int scram_server_first(ScramExchange *x, const char *verifier, const char *user, const char *msg,
                       size_t len, char *out, size_t outlen) __attribute__((warn_unused_result));

typedef enum { SCRAM_OK, SCRAM_DENIED, SCRAM_MALFORMED } ScramResult;

/*
 * Checks the client-final-message's proof. SCRAM_OK with the
 * server-final-message ("v=...") in `out`; SCRAM_DENIED for a wrong proof
 * or an unknown user; SCRAM_MALFORMED for a message that is not one.
 */
ScramResult scram_server_final(ScramExchange *x, const char *msg, size_t len, char *out,
                               size_t outlen) __attribute__((warn_unused_result));

/* Wipes the keys an exchange holds. */
void scram_exchange_clear(ScramExchange *x);

#endif
