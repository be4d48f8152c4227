/*
 * Unit tests of params.c: the typed request's JSON reader.
 */
#include <math.h>
#include <string.h>

#include "params.h"
#include "unit.h"

static int parse(const char *json, TypedRequest *out, char *err)
{
    return params_parse(json, strlen(json), out, err, 256);
}

static void test_sql_only(void)
{
    TypedRequest r;
    char err[256];
    CHECK(parse("{\"sql\": \"SELECT 1\"}", &r, err) == 0);
    CHECK_STR(r.sql, "SELECT 1");
    CHECK(!r.has_params && r.nparams == 0);
    params_free(&r);
    CHECK(parse(" { \"params\" : [ ] , \"sql\":\"x\" } ", &r, err) == 0);
    CHECK(r.has_params && r.nparams == 0);
    params_free(&r);
}

static void test_scalars(void)
{
    TypedRequest r;
    char err[256];
    CHECK(parse("{\"sql\":\"q\",\"params\":[null,true,false,0,-12,3.5,-1e3,\"a\\\"b\\\\c\\n\","
                "\"\\u00e9\\ud83d\\ude00\",{\"blob\":\"00fF\"},"
                "170141183460469231731687303715884105727,"
                "-170141183460469231731687303715884105728]}",
                &r, err) == 0);
    CHECK(r.nparams == 12);
    CHECK(r.params[0].kind == PARAM_NULL);
    CHECK(r.params[1].kind == PARAM_BOOL && r.params[1].b);
    CHECK(r.params[2].kind == PARAM_BOOL && !r.params[2].b);
    CHECK(r.params[3].kind == PARAM_INT && r.params[3].i == 0);
    CHECK(r.params[4].kind == PARAM_INT && r.params[4].i == -12);
    CHECK(r.params[5].kind == PARAM_DOUBLE && r.params[5].d == 3.5);
    CHECK(r.params[6].kind == PARAM_DOUBLE && r.params[6].d == -1000.0);
    CHECK(r.params[7].kind == PARAM_TEXT && r.params[7].len == 6);
    CHECK_STR(r.params[7].bytes, "a\"b\\c\n");
    CHECK_STR(r.params[8].bytes, "\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(r.params[9].kind == PARAM_BLOB && r.params[9].len == 2 &&
          memcmp(r.params[9].bytes, "\x00\xff", 2) == 0);
    __int128 max = (__int128)(((unsigned __int128)1 << 127) - 1);
    CHECK(r.params[10].kind == PARAM_INT && r.params[10].i == max);
    CHECK(r.params[11].kind == PARAM_INT && r.params[11].i == -max - 1);
    params_free(&r);
}

static void test_rejects(void)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"sql\":1}",
        "{\"sql\":\"a\",\"sql\":\"b\"}",
        "{\"sql\":\"a\",\"other\":1}",
        "{\"sql\":\"a\"} x",
        "{\"sql\":\"a\"",
        "{\"sql\":\"a\",}",
        "{\"sql\":\"a\\u0000\"}",
        "{\"sql\":\"\\ud800\"}",
        "{\"sql\":\"\\udc00\"}",
        "{\"sql\":\"\\x\"}",
        "{\"sql\":\"tab\there\"}",
        "{\"sql\":\"a\",\"params\":[01]}",
        "{\"sql\":\"a\",\"params\":[1.]}",
        "{\"sql\":\"a\",\"params\":[-]}",
        "{\"sql\":\"a\",\"params\":[1e]}",
        "{\"sql\":\"a\",\"params\":[nul]}",
        "{\"sql\":\"a\",\"params\":[[1]]}",
        "{\"sql\":\"a\",\"params\":[{\"blob\":\"0\"}]}",
        "{\"sql\":\"a\",\"params\":[{\"blob\":\"zz\"}]}",
        "{\"sql\":\"a\",\"params\":[{\"x\":\"00\"}]}",
        "{\"sql\":\"a\",\"params\":[1,]}",
        "{\"sql\":\"a\",\"params\":[170141183460469231731687303715884105728]}",
        "{\"sql\":\"a\",\"params\":[-170141183460469231731687303715884105729]}",
        "{\"sql\":\"a\",\"params\":{}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        TypedRequest r;
        char err[256] = "";
        int rc = parse(bad[i], &r, err);
        CHECK(rc == -1);
        CHECK(strncmp(err, "malformed typed request: ", 25) == 0);
        CHECK(r.sql == NULL && r.params == NULL);
        if (rc == 0)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        params_free(&r);
    }
}

static void test_too_many(void)
{
    char json[16 * PARAMS_MAX];
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"sql\":\"a\",\"params\":[0");
    for (int i = 0; i < PARAMS_MAX; i++)
        n += (size_t)snprintf(json + n, sizeof(json) - n, ",0");
    snprintf(json + n, sizeof(json) - n, "]}");
    TypedRequest r;
    char err[256];
    CHECK(parse(json, &r, err) == -1);
    CHECK(strstr(err, "too many parameters") != NULL);
    params_free(&r);
}

int main(void)
{
    UNIT_RUN(test_sql_only);
    UNIT_RUN(test_scalars);
    UNIT_RUN(test_rejects);
    UNIT_RUN(test_too_many);
    return unit_summary("test_params");
}
