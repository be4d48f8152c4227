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
#include <pthread.h>
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

bool scram_verifier_info(const char *verifier, int *iterations, size_t *salt_len)
{
    Verifier v;
    if (!verifier || !parse(verifier, &v))
        return false;
    if (iterations)
        *iterations = v.iterations;
    if (salt_len)
        *salt_len = v.salt_len;
    return true;
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

/* ---- the server side of an exchange (RFC 5802, as PostgreSQL runs it) ---- */

/* The salt of a user who does not exist: a keyed hash of the name, so that
 * it is the same at every attempt, as a real one is, and tells nothing. */
static unsigned char mock_secret[KEY_LEN];
static pthread_once_t mock_once = PTHREAD_ONCE_INIT;

static void mock_init(void)
{
    if (RAND_bytes(mock_secret, sizeof(mock_secret)) != 1)
        memset(mock_secret, 0x5a, sizeof(mock_secret)); /* still never matches: `known` */
}

/* The value of attribute `name` ("r=") at `p` up to the next ',' or `end`. */
static bool attr(const char *p, const char *end, char name, const char **out_v,
                 const char **out_end)
{
    if (end - p < 2 || p[0] != name || p[1] != '=')
        return false;
    const char *v = p + 2;
    const char *e = memchr(v, ',', (size_t)(end - v));
    *out_v = v;
    *out_end = e ? e : end;
    return true;
}

int scram_server_first(ScramExchange *x, const char *verifier, const char *user, const char *msg,
                       size_t len, char *out, size_t outlen)
{
    memset(x, 0, sizeof(*x));
    const char *end = msg + len;
    if (len < 3 || len >= SCRAM_MESSAGE_MAX || memchr(msg, '\0', len))
        return -1;
    /* gs2-header: "n,," or "y,," (no channel binding; "p=" is not offered). */
    if ((msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
        return -1;
    const char *p = msg + 2;
    if (p < end && *p == 'a') { /* an authzid: PostgreSQL ignores it, and so do we */
        const char *c = memchr(p, ',', (size_t)(end - p));
        if (!c)
            return -1;
        p = c;
    }
    if (p >= end || *p != ',')
        return -1;
    p++;
    size_t gs2_len = (size_t)(p - msg);
    if (gs2_len >= sizeof(x->gs2))
        return -1;
    memcpy(x->gs2, msg, gs2_len);
    x->gs2[gs2_len] = '\0';
    const char *bare = p;
    const char *v, *ve;
    /* n=user: the user of the startup packet counts, as in PostgreSQL. */
    if (!attr(p, end, 'n', &v, &ve) || ve >= end)
        return -1;
    if (!attr(ve + 1, end, 'r', &v, &ve) || ve == v)
        return -1;
    for (const char *q = v; q < ve; q++)
        if (*q < 0x21 || *q > 0x7e)
            return -1;
    size_t cnonce_len = (size_t)(ve - v);
    Verifier ver = {0};
    x->known = verifier && parse(verifier, &ver);
    if (!x->known) {
        pthread_once(&mock_once, mock_init);
        unsigned char h[KEY_LEN];
        unsigned int n = 0;
        if (!HMAC(EVP_sha256(), mock_secret, sizeof(mock_secret), (const unsigned char *)user,
                  strlen(user), h, &n))
            return -1;
        ver.iterations = SCRAM_DEFAULT_ITERATIONS;
        ver.salt_len = SALT_LEN;
        memcpy(ver.salt, h, SALT_LEN);
    }
    x->iterations = ver.iterations;
    memcpy(x->stored_key, ver.stored_key, KEY_LEN);
    memcpy(x->server_key, ver.server_key, KEY_LEN);
    unsigned char rnd[18];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -1;
    char snonce[25];
    b64_encode(rnd, sizeof(rnd), snonce);
    char salt64[4 * ((SALT_MAX + 2) / 3) + 1];
    b64_encode(ver.salt, ver.salt_len, salt64);
    int w = snprintf(x->nonce, sizeof(x->nonce), "%.*s%s", (int)cnonce_len, v, snonce);
    if (w < 0 || (size_t)w >= sizeof(x->nonce))
        return -1;
    w = snprintf(out, outlen, "r=%s,s=%s,i=%d", x->nonce, salt64, ver.iterations);
    if (w < 0 || (size_t)w >= outlen)
        return -1;
    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    w = snprintf(x->auth, sizeof(x->auth), "%.*s,%s,", (int)(end - bare), bare, out);
    if (w < 0 || (size_t)w >= sizeof(x->auth))
        return -1;
    x->auth_len = (size_t)w;
    OPENSSL_cleanse(&ver, sizeof(ver));
    x->started = true;
    return 0;
}

ScramResult scram_server_final(ScramExchange *x, const char *msg, size_t len, char *out,
                               size_t outlen)
{
    if (!x->started || len >= SCRAM_MESSAGE_MAX || memchr(msg, '\0', len))
        return SCRAM_MALFORMED;
    const char *end = msg + len;
    const char *v, *ve;
    /* c=: base64 of the gs2 header the client sent first. */
    if (!attr(msg, end, 'c', &v, &ve) || ve >= end)
        return SCRAM_MALFORMED;
    char want[4 * ((sizeof(x->gs2) + 2) / 3) + 1];
    b64_encode((const unsigned char *)x->gs2, strlen(x->gs2), want);
    if ((size_t)(ve - v) != strlen(want) || memcmp(v, want, strlen(want)) != 0)
        return SCRAM_MALFORMED;
    if (!attr(ve + 1, end, 'r', &v, &ve) || ve >= end)
        return SCRAM_MALFORMED;
    if ((size_t)(ve - v) != strlen(x->nonce) || memcmp(v, x->nonce, strlen(x->nonce)) != 0)
        return SCRAM_MALFORMED;
    /* The proof is the last attribute; extensions may come before it. */
    const char *proof = NULL;
    for (const char *q = ve; q + 3 <= end; q++)
        if (q[0] == ',' && q[1] == 'p' && q[2] == '=')
            proof = q;
    if (!proof)
        return SCRAM_MALFORMED;
    unsigned char client_proof[KEY_LEN];
    if (!b64_decode_exact(proof + 3, end, client_proof, KEY_LEN))
        return SCRAM_MALFORMED;
    size_t without = (size_t)(proof - msg);
    if (x->auth_len + without >= sizeof(x->auth))
        return SCRAM_MALFORMED;
    memcpy(x->auth + x->auth_len, msg, without);
    size_t auth_len = x->auth_len + without;
    unsigned char sig[KEY_LEN], client_key[KEY_LEN], stored[KEY_LEN], server_sig[KEY_LEN];
    unsigned int n = 0;
    bool ok = HMAC(EVP_sha256(), x->stored_key, KEY_LEN, (const unsigned char *)x->auth, auth_len,
                   sig, &n) != NULL;
    for (int i = 0; i < KEY_LEN; i++)
        client_key[i] = client_proof[i] ^ sig[i];
    ok = ok && EVP_Digest(client_key, KEY_LEN, stored, &n, EVP_sha256(), NULL) == 1;
    /* Always compared, so that an unknown user takes the same path. */
    bool match = ok && CRYPTO_memcmp(stored, x->stored_key, KEY_LEN) == 0 && x->known;
    ok = ok && HMAC(EVP_sha256(), x->server_key, KEY_LEN, (const unsigned char *)x->auth, auth_len,
                    server_sig, &n) != NULL;
    OPENSSL_cleanse(client_key, sizeof(client_key));
    x->started = false;
    if (!ok || !match)
        return SCRAM_DENIED;
    char sig64[4 * ((KEY_LEN + 2) / 3) + 1];
    b64_encode(server_sig, KEY_LEN, sig64);
    int w = snprintf(out, outlen, "v=%s", sig64);
    if (w < 0 || (size_t)w >= outlen)
        return SCRAM_DENIED;
    return SCRAM_OK;
}

void scram_exchange_clear(ScramExchange *x)
{
    OPENSSL_cleanse(x, sizeof(*x));
}
