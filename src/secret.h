/*
 * secret: encryption of the PostgreSQL connection strings the catalog
 * stores, and masking of passwords in connection strings and messages.
 *
 * Stored form (a blob): the version byte 0x01, a random 12-byte nonce, the
 * AES-256-GCM ciphertext, and the 16-byte tag. Additional authenticated data
 * binds a blob to the database it belongs to, so a blob copied to another
 * row of the catalog does not decrypt.
 *
 * The key comes from ENCRYPTION_KEY:
 *   - empty: no key; secret_key_init() fails and `link` is refused;
 *   - exactly 32 bytes: used as the AES-256 key as it is (the seed's Go
 *     server used its 32-byte key directly);
 *   - any other length: the AES key is HKDF-SHA-256(ikm = the key's bytes,
 *     salt = none, info = "tcp-duckdb connection string key"), 32 bytes.
 *     A key shorter than 32 bytes is accepted, but start-up warns that it is
 *     weak (secret_key_weak()).
 * Changing ENCRYPTION_KEY makes the stored connection strings unreadable:
 * `migrate` of a database linked under the old key then fails with a clear
 * error and the database must be linked again.
 *
 * Pure functions over caller-owned buffers; OpenSSL's EVP is thread-safe, so
 * any thread may call any function.
 */
#ifndef TCPDUCKDB_SECRET_H
#define TCPDUCKDB_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECRET_KEY_BYTES 32
#define SECRET_NONCE_BYTES 12
#define SECRET_TAG_BYTES 16
/* Bytes a sealed blob adds to its plaintext: version, nonce and tag. */
#define SECRET_OVERHEAD (1 + SECRET_NONCE_BYTES + SECRET_TAG_BYTES)

typedef struct SecretKey {
    unsigned char bytes[SECRET_KEY_BYTES];
} SecretKey;

/* Derives the AES key from ENCRYPTION_KEY's text as described above.
 * Returns -1 when `text` is empty (no key configured). */
int secret_key_init(SecretKey *out_key, const char *text) __attribute__((warn_unused_result));

/* True when a non-empty key is shorter than 32 bytes (worth a warning). */
bool secret_key_weak(const char *text);

/*
 * Encrypts `plain` (`len` bytes) bound to `aad` (`aad_len` bytes). On
 * success returns 0 and *out (malloc'ed, caller frees) holds *out_len =
 * len + SECRET_OVERHEAD bytes. Returns -1 when OpenSSL fails.
 */
int secret_seal(const SecretKey *key, const void *plain, size_t len, const void *aad,
                size_t aad_len, unsigned char **out, size_t *out_len)
    __attribute__((warn_unused_result));

/*
 * Decrypts a blob from secret_seal(). On success returns 0 and *out
 * (malloc'ed, NUL-terminated, caller frees) holds *out_len bytes. Returns -1
 * when the blob is malformed, was sealed with another key or other `aad`,
 * or was altered.
 */
int secret_open(const SecretKey *key, const unsigned char *blob, size_t blob_len, const void *aad,
                size_t aad_len, char **out, size_t *out_len) __attribute__((warn_unused_result));

/*
 * Writes `conninfo` into `out` (always NUL-terminated, truncated to
 * `outlen`) with the password replaced by "***": the password of a URI
 * (postgresql://user:PASSWORD@host, postgres://...), a `password=` query
 * parameter, and `password=VALUE` of the key=value form (quoted or not).
 */
void secret_mask_conninfo(const char *conninfo, char *out, size_t outlen);

/*
 * Writes `text` into `out` with every occurrence of `password` replaced by
 * "***" (for messages such as libpq's, which might quote it). A NULL or
 * empty `password` copies `text`. Always NUL-terminates.
 */
void secret_mask_text(const char *text, const char *password, char *out, size_t outlen);

/*
 * SHA-256 over a stream of bytes, for the checksums of backup files
 * (backup.h). secret_digest_new() returns NULL only when OpenSSL fails;
 * secret_digest_hex() finishes the digest into 64 lowercase hex digits and a
 * NUL. Free with secret_digest_free() (accepts NULL). One thread at a time
 * per digest.
 */
typedef struct SecretDigest SecretDigest;
#define SECRET_DIGEST_HEX 65
SecretDigest *secret_digest_new(void);
void secret_digest_update(SecretDigest *d, const void *p, size_t n);
void secret_digest_hex(SecretDigest *d, char out[SECRET_DIGEST_HEX]);
void secret_digest_free(SecretDigest *d);

#endif
