/*
 * Unit tests of scram.c: SCRAM-SHA-256 verifiers in PostgreSQL's format.
 *
 * The known answers come from outside this code: two verifiers written by
 * PostgreSQL 15.18 (Debian 15.18-0+deb12u1; CREATE ROLE ... PASSWORD with
 * password_encryption = 'scram-sha-256', read from pg_authid.rolpassword),
 * and a few computed with Python's hashlib.pbkdf2_hmac, hmac and base64 for
 * salt lengths and iteration counts PostgreSQL does not write.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scram.h"
#include "unit.h"

/* PostgreSQL 15: CREATE ROLE x PASSWORD 'secret'. */
static const char pg_secret[] =
    "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
    "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=";
/* PostgreSQL 15: CREATE ROLE y PASSWORD 'correct horse battery staple'. */
static const char pg_horse[] =
    "SCRAM-SHA-256$4096:SwmGMdNTWWRfJJJEvb8QXA==$lRG8l2ETGp4cSCwluYAIwTN7tyagByV1/fEkHCXEFgg=:"
    "NVZHXuGhDCPOnvSV2GXLVnYz5ijkbYNABsYQ5ODgJZw=";

/* Python: password "pencil", salt 0x7a (1 byte), 1 iteration. */
static const char py_salt1[] = "SCRAM-SHA-256$1:eg==$ReicZguAGTyCxbgGKFdBtKdP9aHtnOkHRf6Cya3Jb68=:"
                               "DGbBEZSfCPn08YoTaqyfLxMag6rzW9gGQI0LKgw+qx0=";
/* Python: password "pencil", salt bytes 0..63 (the largest accepted), 2 iterations. */
static const char py_salt64[] =
    "SCRAM-SHA-256$2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
    "OTo7PD0+Pw==$sFbDWEZuRo/syh9htpypPkZKTwD84zboaCrkIhMhEZQ=:"
    "db6AJIw2PXpnNJL+6m5ps+HaghOyIpgZ57X2SqK+4oY=";
/* Python: the same with salt bytes 0..64, one byte more than accepted. */
static const char py_salt65[] =
    "SCRAM-SHA-256$2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
    "OTo7PD0+P0A=$eAo5UNlCv1K1/M3XDOjHAoxdLSbbFdH6RAsxxeSgflI=:"
    "KZVUpx9/q3f/qoU8ML2JLAtzS63cQoxo2cgQ9yThmTQ=";
/* Python: password "p\u00e4ss" as its UTF-8 bytes (no SASLprep), salt bytes 0..15, 3 iterations. */
static const char py_utf8[] = "SCRAM-SHA-256$3:AAECAwQFBgcICQoLDA0ODw==$"
                              "frqETrR3jm3+CCCyo/+sdTspNgcRr46f5U8eY+UQxjs=:"
                              "Hmd8J1dx/fCN8SlZOLL/thKb/YA0zu9ZFmVE9NSwUmw=";

static void test_round_trip(void)
{
    char v[SCRAM_VERIFIER_MAX];
    CHECK(scram_make_verifier("secret", SCRAM_DEFAULT_ITERATIONS, v) == 0);
    CHECK(strncmp(v, "SCRAM-SHA-256$4096:", 19) == 0);
    CHECK(scram_verify(v, "secret"));
    CHECK(!scram_verify(v, "Secret"));
    CHECK(!scram_verify(v, "secret "));
    CHECK(!scram_verify(v, "secre"));
    CHECK(!scram_verify(v, ""));
    CHECK(!scram_verify(v, NULL));
    CHECK(!scram_verify(NULL, "secret"));

    /* Same shape as PostgreSQL's: 16-byte salt, 32-byte keys. */
    CHECK(strlen(v) == strlen(pg_secret));

    CHECK(scram_make_verifier("x", 1, v) == 0);
    CHECK(strncmp(v, "SCRAM-SHA-256$1:", 16) == 0);
    CHECK(scram_verify(v, "x"));
    CHECK(!scram_verify(v, "y"));

    char long_password[1025];
    memset(long_password, 'p', sizeof(long_password) - 1);
    long_password[sizeof(long_password) - 1] = '\0';
    CHECK(scram_make_verifier(long_password, 10, v) == 0);
    CHECK(scram_verify(v, long_password));
    long_password[1000] = 'q';
    CHECK(!scram_verify(v, long_password));
}

static void test_salt_differs(void)
{
    char a[SCRAM_VERIFIER_MAX], b[SCRAM_VERIFIER_MAX];
    CHECK(scram_make_verifier("secret", SCRAM_DEFAULT_ITERATIONS, a) == 0);
    CHECK(scram_make_verifier("secret", SCRAM_DEFAULT_ITERATIONS, b) == 0);
    CHECK(strcmp(a, b) != 0);
    /* The salts differ, not only the keys. */
    CHECK(strncmp(a, b, 19 + 24) != 0);
    CHECK(scram_verify(a, "secret") && scram_verify(b, "secret"));
}

static void test_bad_arguments(void)
{
    char v[SCRAM_VERIFIER_MAX] = "unchanged";
    CHECK(scram_make_verifier("secret", 0, v) == -1);
    CHECK(v[0] == '\0');
    CHECK(scram_make_verifier("secret", -4096, v) == -1);
    CHECK(scram_make_verifier("secret", SCRAM_ITERATIONS_MAX + 1, v) == -1);
    CHECK(scram_make_verifier(NULL, 4096, v) == -1);
}

static void test_known_answers(void)
{
    CHECK(scram_verify(pg_secret, "secret"));
    CHECK(!scram_verify(pg_secret, "secret2"));
    CHECK(scram_verify(pg_horse, "correct horse battery staple"));
    CHECK(!scram_verify(pg_horse, "correct horse battery stapl"));
    CHECK(!scram_verify(pg_horse, "secret"));
    CHECK(scram_verify(py_salt1, "pencil"));
    CHECK(!scram_verify(py_salt1, "Pencil"));
    CHECK(scram_verify(py_salt64, "pencil"));
    CHECK(!scram_verify(py_salt65, "pencil")); /* salt longer than accepted */
    CHECK(scram_verify(py_utf8, "p\xc3\xa4ss"));
    CHECK(!scram_verify(py_utf8, "pass"));
}

/* Variants of pg_secret that are all malformed; "secret" must match none. */
static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "SCRAM-SHA-256$",
        "SCRAM-SHA-256",
        "secret",
        /* prefix */
        "scram-sha-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-1$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        " SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "md5$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        /* iterations */
        "SCRAM-SHA-256$:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$0:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$-4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$+4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$04096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$ 4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096x:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$10000001:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/"
        "wQawbeY3EcHLKTdNm17D8=:AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$99999999999999999999:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/"
        "wQawbeY3EcHLKTdNm17D8=:AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        /* salt */
        "SCRAM-SHA-256$4096:$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:FbpoK5xIvryev!uQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:FbpoK5xIvry evZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ=A$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCR==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=", /* non-canonical: unused bits set */
        "SCRAM-SHA-256$4096:====$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        /* StoredKey */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D9=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=", /* non-canonical: same bytes */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm1:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=", /* 30 bytes */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8A:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=", /* 33 bytes */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=", /* padding missing */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$:AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=$"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        /* ServerKey */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi5=", /* non-canonical: same bytes */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=\n",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4= ",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=:AAAA",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=AAAA",
        /* the keys swapped: well-formed, but wrong */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=:"
        "UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=",
        /* only one key right: both are compared */
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "BVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:FbpoK5xIvryevZuQCvFeCQ==$VdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        /* a different iteration count or salt */
        "SCRAM-SHA-256$4097:FbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
        "SCRAM-SHA-256$4096:GbpoK5xIvryevZuQCvFeCQ==$UdkciRXUGqGhrgXgWfNwD/wQawbeY3EcHLKTdNm17D8=:"
        "AVg+6BDJ2zeP+0cANo0OM5IWlqXdP4tyuYBoudjzoi4=",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (scram_verify(bad[i], "secret")) {
            fprintf(stderr, "accepted malformed verifier #%zu: %s\n", i, bad[i]);
            CHECK(!"malformed verifier matched");
        }
        unit_checks++;
    }
    /* Too long: the valid verifier with padding characters before it. */
    char longer[2 * SCRAM_VERIFIER_MAX];
    snprintf(longer, sizeof(longer), "%s%0*d", pg_secret, SCRAM_VERIFIER_MAX, 0);
    CHECK(!scram_verify(longer, "secret"));
    /* The unmodified original still matches, so the cases above failed for their flaw. */
    CHECK(scram_verify(pg_secret, "secret"));
    /* scram_verifier_info: the same rules, for a verifier made by a client. */
    int iterations = 0;
    size_t salt_len = 0;
    CHECK(scram_verifier_info(pg_secret, &iterations, &salt_len));
    CHECK(iterations == 4096 && salt_len == 16);
    for (size_t i = 0; i < 13; i++)
        CHECK(!scram_verifier_info(bad[i], NULL, NULL));
    CHECK(!scram_verifier_info(longer, NULL, NULL));
    CHECK(!scram_verifier_info(NULL, NULL, NULL));
}

static void test_dummy(void)
{
    const char *d = scram_dummy_verifier();
    CHECK(d == scram_dummy_verifier());
    CHECK(strncmp(d, "SCRAM-SHA-256$4096:", 19) == 0);
    /* Well-formed: the shape of a verifier we write (24-char salt, 44-char keys). */
    const char *salt = d + 19;
    const char *dollar = strchr(salt, '$');
    const char *colon = dollar ? strchr(dollar, ':') : NULL;
    CHECK(dollar && dollar - salt == 24);
    CHECK(colon && colon - dollar - 1 == 44 && strlen(colon + 1) == 44);
    CHECK(strlen(d) == strlen(pg_secret));
    CHECK(!scram_verify(d, ""));
    CHECK(!scram_verify(d, "duck"));
    CHECK(!scram_verify(d, "secret"));
    CHECK(!scram_verify(d, "password"));
}

/* Runs make/verify on several threads at once (the server's workers do). */
static void *hash_thread(void *arg)
{
    long i = (long)(intptr_t)arg;
    char password[32], v[SCRAM_VERIFIER_MAX];
    snprintf(password, sizeof(password), "password-%ld", i);
    long ok = 1;
    for (int round = 0; round < 5; round++) {
        if (scram_make_verifier(password, 100, v) != 0 || !scram_verify(v, password) ||
            scram_verify(v, "other") || !scram_verify(pg_secret, "secret"))
            ok = 0;
    }
    return (void *)(intptr_t)ok;
}

static void test_threads(void)
{
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
        CHECK(pthread_create(&t[i], NULL, hash_thread, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < 8; i++) {
        void *ok = NULL;
        pthread_join(t[i], &ok);
        CHECK(ok == (void *)(intptr_t)1);
    }
}

int main(void)
{
    UNIT_RUN(test_round_trip);
    UNIT_RUN(test_salt_differs);
    UNIT_RUN(test_bad_arguments);
    UNIT_RUN(test_known_answers);
    UNIT_RUN(test_malformed);
    UNIT_RUN(test_dummy);
    UNIT_RUN(test_threads);
    return unit_summary("test_scram");
}
