/*
 * Unit tests of secret.c: sealing connection strings and masking passwords.
 *
 * The known answers come from outside this code: the HKDF output was
 * computed with Python's hmac/hashlib (RFC 5869 by hand), and the sealed
 * blob with the `cryptography` package's AESGCM (key = that HKDF output,
 * nonce 00..0b, aad "db 7").
 */
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "unit.h"

static const unsigned char hkdf_short_key[32] = {
    0x4a, 0xdd, 0x5e, 0xde, 0x6d, 0xc5, 0x54, 0x70, 0x45, 0x6d, 0x36, 0x63, 0xff, 0x05, 0xee, 0x7a,
    0x65, 0xeb, 0x84, 0x52, 0xc3, 0x6e, 0x9b, 0x8d, 0x6b, 0x05, 0x16, 0xa4, 0x29, 0x32, 0x24, 0x45};

static const unsigned char python_blob[] = {
    0x01, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x5d, 0x51, 0x19, 0xb1, 0xda, 0xd0, 0x48, 0x4d, 0x46, 0x68, 0x13, 0x89, 0x19,
    0xd7, 0xb1, 0x14, 0xfd, 0x5e, 0x27, 0x37, 0x14, 0xef, 0x84, 0x9b, 0x20, 0xcf,
    0x73, 0x3e, 0x8b, 0xf2, 0x5a, 0x2e, 0x27, 0x66, 0x38, 0x27, 0x0b};

static void test_key_rules(void)
{
    SecretKey k;
    CHECK(secret_key_init(&k, "") == -1);
    CHECK(secret_key_init(&k, "short key") == 0);
    CHECK(memcmp(k.bytes, hkdf_short_key, 32) == 0);
    const char *exact = "0123456789abcdef0123456789ABCDEF";
    CHECK(secret_key_init(&k, exact) == 0);
    CHECK(memcmp(k.bytes, exact, 32) == 0);
    CHECK(secret_key_weak("short key"));
    CHECK(!secret_key_weak(""));
    CHECK(!secret_key_weak(exact));
    CHECK(!secret_key_weak("a key that is much longer than thirty-two bytes"));
}

static void test_open_python_blob(void)
{
    SecretKey k;
    char *plain = NULL;
    size_t n = 0;
    CHECK(secret_key_init(&k, "short key") == 0);
    CHECK(secret_open(&k, python_blob, sizeof(python_blob), "db 7", 4, &plain, &n) == 0);
    CHECK_STR(plain, "postgresql://u:p@h/db");
    CHECK(n == strlen("postgresql://u:p@h/db"));
    free(plain);
    plain = NULL;
    /* Another database's aad, another key: refused. */
    CHECK(secret_open(&k, python_blob, sizeof(python_blob), "db 8", 4, &plain, &n) == -1);
    SecretKey other;
    CHECK(secret_key_init(&other, "another key") == 0);
    CHECK(secret_open(&other, python_blob, sizeof(python_blob), "db 7", 4, &plain, &n) == -1);
    CHECK(plain == NULL);
}

static void test_round_trip_and_tamper(void)
{
    SecretKey k;
    CHECK(secret_key_init(&k, "A15pG0m3hwf0tfpVW6m92eZ6vRmAQA3C") == 0);
    const char *dsn = "host=db user=app password='s3cr et'";
    unsigned char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    CHECK(secret_seal(&k, dsn, strlen(dsn), "x", 1, &a, &alen) == 0);
    CHECK(secret_seal(&k, dsn, strlen(dsn), "x", 1, &b, &blen) == 0);
    CHECK(alen == strlen(dsn) + SECRET_OVERHEAD);
    /* A fresh nonce each time: the same text seals differently. */
    CHECK(alen == blen && memcmp(a, b, alen) != 0);
    CHECK(memmem(a, alen, "s3cr", 4) == NULL);
    char *plain = NULL;
    size_t n = 0;
    CHECK(secret_open(&k, a, alen, "x", 1, &plain, &n) == 0);
    CHECK_STR(plain, dsn);
    free(plain);
    for (size_t i = 0; i < alen; i++) {
        plain = NULL;
        a[i] ^= 0x01;
        CHECK(secret_open(&k, a, alen, "x", 1, &plain, &n) == -1);
        a[i] ^= 0x01;
    }
    CHECK(secret_open(&k, a, 5, "x", 1, &plain, &n) == -1);
    CHECK(secret_open(&k, a, 0, "x", 1, &plain, &n) == -1);
    free(a);
    free(b);
}

static const char *mask(const char *in)
{
    static char out[512];
    secret_mask_conninfo(in, out, sizeof(out));
    return out;
}

static void test_mask_conninfo(void)
{
    CHECK_STR(mask("postgresql://user:pass@localhost:5432/db"),
              "postgresql://user:***@localhost:5432/db");
    CHECK_STR(mask("postgres://u:p%40ss@h/db?sslmode=disable&password=x2&application_name=a"),
              "postgres://u:***@h/db?sslmode=disable&password=***&application_name=a");
    CHECK_STR(mask("postgresql://user@host/db"), "postgresql://user@host/db");
    CHECK_STR(mask("postgresql://host/db?password=secret"), "postgresql://host/db?password=***");
    CHECK_STR(mask("postgresql://:pw@host"), "postgresql://:***@host");
    CHECK_STR(mask("postgresql://host:5432/a@b"), "postgresql://host:5432/a@b");
    CHECK_STR(mask("host=h user=u password=secret dbname=d"),
              "host=h user=u password=*** dbname=d");
    CHECK_STR(mask("password = 'it\\'s x' host=h"), "password = *** host=h");
    CHECK_STR(mask("host=h password='a b c'"), "host=h password=***");
    CHECK_STR(mask("password=\\ x host=h"), "password=*** host=h");
    CHECK_STR(mask("  host=h   passwordx=y"), "  host=h   passwordx=y");
    CHECK_STR(mask("garbage password"), "garbage password");
    CHECK_STR(mask(""), "");
    char small[8];
    secret_mask_conninfo("host=h password=secret", small, sizeof(small));
    CHECK_STR(small, "host=h ");
}

static void test_mask_text(void)
{
    char out[128];
    secret_mask_text("connection to \"pw\" failed: pw pw", "pw", out, sizeof(out));
    CHECK_STR(out, "connection to \"***\" failed: *** ***");
    secret_mask_text("no secret here", "", out, sizeof(out));
    CHECK_STR(out, "no secret here");
    secret_mask_text("no secret here", NULL, out, sizeof(out));
    CHECK_STR(out, "no secret here");
}

int main(void)
{
    UNIT_RUN(test_key_rules);
    UNIT_RUN(test_open_python_blob);
    UNIT_RUN(test_round_trip_and_tamper);
    UNIT_RUN(test_mask_conninfo);
    UNIT_RUN(test_mask_text);
    return unit_summary("secret");
}
