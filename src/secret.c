/*
 * secret: AES-256-GCM sealing of connection strings and password masking.
 * See secret.h for the stored format and the key rules.
 */
#include "secret.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#define SECRET_VERSION 0x01
#define HKDF_INFO "tcp-duckdb connection string key"

int secret_key_init(SecretKey *out_key, const char *text)
{
    size_t n = strlen(text);
    EVP_PKEY_CTX *ctx = NULL;
    int rc = -1;
    if (n == 0)
        return -1;
    if (n == SECRET_KEY_BYTES) {
        memcpy(out_key->bytes, text, SECRET_KEY_BYTES);
        return 0;
    }
    size_t outlen = SECRET_KEY_BYTES;
    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set1_hkdf_key(ctx, (const unsigned char *)text, (int)n) <= 0 ||
        EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)HKDF_INFO,
                                    (int)strlen(HKDF_INFO)) <= 0 ||
        EVP_PKEY_derive(ctx, out_key->bytes, &outlen) <= 0 || outlen != SECRET_KEY_BYTES)
        goto out;
    rc = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

bool secret_key_weak(const char *text)
{
    size_t n = strlen(text);
    return n > 0 && n < SECRET_KEY_BYTES;
}

int secret_seal(const SecretKey *key, const void *plain, size_t len, const void *aad,
                size_t aad_len, unsigned char **out, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *blob = NULL;
    int rc = -1, n = 0;
    if (len > (size_t)INT32_MAX - SECRET_OVERHEAD || aad_len > INT32_MAX)
        return -1;
    blob = malloc(len + SECRET_OVERHEAD);
    if (!blob)
        return -1;
    unsigned char *nonce = blob + 1;
    unsigned char *body = nonce + SECRET_NONCE_BYTES;
    blob[0] = SECRET_VERSION;
    if (RAND_bytes(nonce, SECRET_NONCE_BYTES) != 1)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_BYTES, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key->bytes, nonce) != 1)
        goto out;
    if (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto out;
    if (EVP_EncryptUpdate(ctx, body, &n, plain, (int)len) != 1 || (size_t)n != len)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, body + len, &n) != 1 || n != 0)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_BYTES, body + len) != 1)
        goto out;
    *out = blob;
    *out_len = len + SECRET_OVERHEAD;
    blob = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(blob);
    return rc;
}

int secret_open(const SecretKey *key, const unsigned char *blob, size_t blob_len, const void *aad,
                size_t aad_len, char **out, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    char *plain = NULL;
    int rc = -1, n = 0;
    if (blob_len < SECRET_OVERHEAD || blob[0] != SECRET_VERSION || blob_len > INT32_MAX ||
        aad_len > INT32_MAX)
        return -1;
    size_t len = blob_len - SECRET_OVERHEAD;
    const unsigned char *nonce = blob + 1;
    const unsigned char *body = nonce + SECRET_NONCE_BYTES;
    unsigned char tag[SECRET_TAG_BYTES];
    memcpy(tag, body + len, SECRET_TAG_BYTES);
    plain = malloc(len + 1);
    if (!plain)
        return -1;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_BYTES, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key->bytes, nonce) != 1)
        goto out;
    if (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto out;
    if (EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, body, (int)len) != 1 || (size_t)n != len)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_BYTES, tag) != 1)
        goto out;
    /* The tag check happens here: a wrong key or altered blob fails. */
    if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + len, &n) != 1)
        goto out;
    plain[len] = '\0';
    *out = plain;
    *out_len = len;
    plain = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (plain) {
        OPENSSL_cleanse(plain, len + 1);
        free(plain);
    }
    return rc;
}

/* ---- masking ---------------------------------------------------------- */

typedef struct Out {
    char *p;
    size_t len, cap;
} Out;

static void put(Out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++)
        o->p[o->len++] = s[i];
    o->p[o->len] = '\0';
}

static void put_str(Out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Masks `password=VALUE` parameters in a URI query string (`q` after '?'). */
static void mask_uri_query(Out *o, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n >= 9 && strncmp(q, "password=", 9) == 0)
            put_str(o, "password=***");
        else
            put(o, q, n);
        q += n;
        if (*q == '&')
            put(o, q++, 1);
    }
}

static void mask_uri(Out *o, const char *uri)
{
    const char *scheme_end = strstr(uri, "://") + 3;
    put(o, uri, (size_t)(scheme_end - uri));
    const char *p = scheme_end;
    /* As libpq: user info ends at the first '@' before any '/'. */
    size_t auth = strcspn(p, "@/");
    if (p[auth] == '@') {
        size_t user = strcspn(p, ":@");
        put(o, p, user);
        if (p[user] == ':')
            put_str(o, ":***");
        put_str(o, "@");
        p += auth + 1;
    }
    size_t rest = strcspn(p, "?");
    put(o, p, rest);
    p += rest;
    if (*p == '?') {
        put_str(o, "?");
        mask_uri_query(o, p + 1);
    }
}

static void mask_keywords(Out *o, const char *s)
{
    const char *p = s;
    while (*p) {
        const char *start = p;
        while (isspace((unsigned char)*p))
            p++;
        const char *key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t key_len = (size_t)(p - key);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=') {
            /* Not key=value: copy what was read and go on. */
            put(o, start, (size_t)(p - start));
            if (*p && p == start)
                put(o, p++, 1);
            continue;
        }
        p++;
        while (isspace((unsigned char)*p))
            p++;
        const char *value = p;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p == '\'')
                p++;
        } else {
            while (*p && !isspace((unsigned char)*p)) {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
        }
        if (key_len == 8 && strncmp(key, "password", 8) == 0) {
            put(o, start, (size_t)(value - start));
            put_str(o, "***");
        } else {
            put(o, start, (size_t)(p - start));
        }
    }
}

void secret_mask_conninfo(const char *conninfo, char *out, size_t outlen)
{
    Out o = {.p = out, .cap = outlen};
    if (outlen == 0)
        return;
    out[0] = '\0';
    if (strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0)
        mask_uri(&o, conninfo);
    else
        mask_keywords(&o, conninfo);
}

void secret_mask_text(const char *text, const char *password, char *out, size_t outlen)
{
    Out o = {.p = out, .cap = outlen};
    if (outlen == 0)
        return;
    out[0] = '\0';
    size_t pw = password ? strlen(password) : 0;
    const char *p = text;
    while (*p) {
        const char *hit = pw ? strstr(p, password) : NULL;
        if (!hit) {
            put_str(&o, p);
            break;
        }
        put(&o, p, (size_t)(hit - p));
        put_str(&o, "***");
        p = hit + pw;
    }
}

struct SecretDigest {
    EVP_MD_CTX *ctx;
};

SecretDigest *secret_digest_new(void)
{
    SecretDigest *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
        secret_digest_free(d);
        return NULL;
    }
    return d;
}

void secret_digest_update(SecretDigest *d, const void *p, size_t n)
{
    EVP_DigestUpdate(d->ctx, p, n);
}

void secret_digest_hex(SecretDigest *d, char out[SECRET_DIGEST_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1)
        n = 0;
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * (n < 32 ? n : 32)] = '\0';
}

void secret_digest_free(SecretDigest *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}
