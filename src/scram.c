/*
 * scram: SCRAM-SHA-256 password verifiers in PostgreSQL's format. See
 * scram.h for the contract.
 *
 *     SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
 *     StoredKey      = SHA-256(HMAC(SaltedPassword, "Client Key"))
 *     ServerKey      = HMAC(SaltedPassword, "Server Key")
 *
 * Base64 is written and parsed here rather than with OpenSSL's EVP_Decode*,
 * which accepts whitespace and unpadded input; a verifier is either exactly
 * what we (or PostgreSQL) write, or it is rejected. Secrets on the stack are
 * wiped with OPENSSL_cleanse before returning.
 */
#include "scram.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define PREFIX "SCRAM-SHA-256$"
#define KEY_LEN 32  /* SHA-256 output */
#define SALT_LEN 16 /* what we write, as PostgreSQL */
#define SALT_MAX 64 /* the most we accept */
#define ITERATIONS_DIGITS_MAX 8

/* The parts of a verifier. */
typedef struct Verifier {
    int iterations;
    unsigned char salt[SALT_MAX];
    size_t salt_len;
    unsigned char stored_key[KEY_LEN];
    unsigned char server_key[KEY_LEN];
} Verifier;

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes base64 of `in` with padding and a NUL to `out` (4 * ceil(n / 3) + 1 bytes). */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t bits = (uint32_t)in[i] << 16;
        if (left > 1)
            bits |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            bits |= in[i + 2];
        out[o++] = b64_alphabet[(bits >> 18) & 63];
        out[o++] = b64_alphabet[(bits >> 12) & 63];
        out[o++] = left > 1 ? b64_alphabet[(bits >> 6) & 63] : '=';
        out[o++] = left > 2 ? b64_alphabet[bits & 63] : '=';
    }
    out[o] = '\0';
}

static int b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/*
 * Decodes the `len` characters at `s` into `out` (room for `cap` bytes).
 * Returns the number of bytes, or -1 unless the text is non-empty canonical
 * padded base64 (length a multiple of 4, padding only at the end, unused
 * bits zero) that fits.
 */
static long b64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
    if (len == 0 || len % 4 != 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        uint32_t bits = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char ch = s[i + (size_t)j];
            int v = 0;
            if (ch == '=') {
                if (!last || j < 2)
                    return -1;
                pad++;
            } else {
                v = b64_value(ch);
                if (v < 0 || pad > 0)
                    return -1;
            }
            bits = bits << 6 | (uint32_t)v;
        }
        /* Canonical form: the bits that padding leaves unused are zero. */
        if ((pad == 1 && (bits & 0xff) != 0) || (pad == 2 && (bits & 0xffff) != 0))
            return -1;
        size_t bytes = 3 - (size_t)pad;
        if (cap - n < bytes)
            return -1;
        out[n++] = (unsigned char)(bits >> 16);
        if (bytes > 1)
            out[n++] = (unsigned char)(bits >> 8);
        if (bytes > 2)
            out[n++] = (unsigned char)bits;
    }
    return (long)n;
}

/* Decodes base64 from `s` up to `end` into exactly `want` bytes. */
static bool b64_decode_exact(const char *s, const char *end, unsigned char *out, size_t want)
{
    return b64_decode(s, (size_t)(end - s), out, want) == (long)want;
}

static bool parse_iterations(const char *s, const char *end, int *out)
{
    size_t len = (size_t)(end - s);
    if (len == 0 || len > ITERATIONS_DIGITS_MAX || s[0] == '0')
        return false;
    long v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < SCRAM_ITERATIONS_MIN || v > SCRAM_ITERATIONS_MAX)
        return false;
    *out = (int)v;
    return true;
}

/* Splits a verifier into its parts; false when it is malformed. */
static bool parse(const char *text, Verifier *out)
{
    size_t len = strnlen(text, SCRAM_VERIFIER_MAX);
    size_t prefix_len = strlen(PREFIX);
    if (len >= SCRAM_VERIFIER_MAX || strncmp(text, PREFIX, prefix_len) != 0)
        return false;
    const char *end = text + len;
    const char *iter = text + prefix_len;
    const char *salt = memchr(iter, ':', (size_t)(end - iter));
    if (!salt || !parse_iterations(iter, salt, &out->iterations))
        return false;
    salt++;
    const char *stored = memchr(salt, '$', (size_t)(end - salt));
    if (!stored)
        return false;
    long salt_len = b64_decode(salt, (size_t)(stored - salt), out->salt, sizeof(out->salt));
    if (salt_len <= 0)
        return false;
    out->salt_len = (size_t)salt_len;
    stored++;
    const char *server = memchr(stored, ':', (size_t)(end - stored));
    if (!server || !b64_decode_exact(stored, server, out->stored_key, KEY_LEN))
        return false;
    server++;
    return b64_decode_exact(server, end, out->server_key, KEY_LEN);
}

/* Computes StoredKey and ServerKey for `password`; false if OpenSSL fails. */
static bool compute_keys(const char *password, const unsigned char *salt, size_t salt_len,
                         int iterations, unsigned char stored_key[KEY_LEN],
                         unsigned char server_key[KEY_LEN])
{
    static const char client_label[] = "Client Key";
    static const char server_label[] = "Server Key";
    size_t password_len = strlen(password);
    if (password_len > INT_MAX || salt_len > INT_MAX)
        return false;
    unsigned char salted[KEY_LEN];
    unsigned char client_key[KEY_LEN];
    unsigned int n = 0;
    bool ok = PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations,
                                EVP_sha256(), KEY_LEN, salted) == 1;
    ok = ok &&
         HMAC(EVP_sha256(), salted, KEY_LEN, (const unsigned char *)client_label,
              sizeof(client_label) - 1, client_key, &n) != NULL &&
         n == KEY_LEN;
    ok = ok && EVP_Digest(client_key, KEY_LEN, stored_key, &n, EVP_sha256(), NULL) == 1 &&
         n == KEY_LEN;
    ok = ok &&
         HMAC(EVP_sha256(), salted, KEY_LEN, (const unsigned char *)server_label,
              sizeof(server_label) - 1, server_key, &n) != NULL &&
         n == KEY_LEN;
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(client_key, sizeof(client_key));
    return ok;
}

int scram_make_verifier(const char *password, int iterations, char out[SCRAM_VERIFIER_MAX])
{
    out[0] = '\0';
    if (!password || iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX)
        return -1;
    Verifier v = {.iterations = iterations, .salt_len = SALT_LEN};
    int rc = -1;
    if (RAND_bytes(v.salt, SALT_LEN) != 1 ||
        !compute_keys(password, v.salt, v.salt_len, iterations, v.stored_key, v.server_key))
        goto out;
    char salt64[4 * ((SALT_LEN + 2) / 3) + 1];
    char stored64[4 * ((KEY_LEN + 2) / 3) + 1];
    char server64[sizeof(stored64)];
    b64_encode(v.salt, v.salt_len, salt64);
    b64_encode(v.stored_key, KEY_LEN, stored64);
    b64_encode(v.server_key, KEY_LEN, server64);
    int n = snprintf(out, SCRAM_VERIFIER_MAX, PREFIX "%d:%s$%s:%s", iterations, salt64, stored64,
                     server64);
    if (n < 0 || n >= SCRAM_VERIFIER_MAX) {
        out[0] = '\0';
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(&v, sizeof(v));
    return rc;
}

bool scram_verify(const char *verifier, const char *password)
{
    if (!verifier || !password)
        return false;
    Verifier v = {0};
    if (!parse(verifier, &v))
        return false;
    unsigned char stored_key[KEY_LEN] = {0};
    unsigned char server_key[KEY_LEN] = {0};
    bool ok = compute_keys(password, v.salt, v.salt_len, v.iterations, stored_key, server_key);
    /* Both comparisons always run, so the time does not say which differed. */
    int diff = CRYPTO_memcmp(stored_key, v.stored_key, KEY_LEN);
    diff |= CRYPTO_memcmp(server_key, v.server_key, KEY_LEN);
    OPENSSL_cleanse(stored_key, sizeof(stored_key));
    OPENSSL_cleanse(server_key, sizeof(server_key));
    OPENSSL_cleanse(&v, sizeof(v));
    return ok && diff == 0;
}

const char *scram_dummy_verifier(void)
{
    /* Salt and keys are random bytes drawn once; no password derives them. */
    return "SCRAM-SHA-256$4096:zUMze7g3tcqsG/0zrumxxQ==$"
           "9MwKZ20aimBvPWMdN6B0xenNXWbn3DQ4a05hwJQY6SM=:"
           "yCviUEg/XqING4BsMiPj9nsfnhRNwO0A8kQaIRHCKMw=";
}
