/*
 * tdb_conninfo.c: tdb_connectdb() and tdb_reset() of libtcpduckdb (tcpduckdb.h): conninfo
 * strings (`host=... port=...`), URIs (`tcpduckdb://user:pass@host:port/db?sslmode=...`) and
 * the TCPDUCKDB_* environment defaults, which the Go, Node and Python clients share
 * (docs/protocol.md, "Client libraries").
 *
 * A parsed string is a set of keyword values, each NULL until given; the environment and then
 * the defaults fill the ones left NULL. Messages never quote a password.
 */
#include "tdb_internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    K_HOST,
    K_PORT,
    K_USER,
    K_PASSWORD,
    K_DBNAME,
    K_SSLMODE,
    K_SSLROOTCERT,
    K_SSLCERT,
    K_SSLKEY,
    K_CONNECT_TIMEOUT,
    K_COUNT
};

/* Keyword, environment variable (NULL: none), default (NULL: none). */
static const struct {
    const char *key;
    const char *env;
    const char *def;
} keys[K_COUNT] = {
    [K_HOST] = {"host", "TCPDUCKDB_HOST", "127.0.0.1"},
    [K_PORT] = {"port", "TCPDUCKDB_PORT", "4000"},
    [K_USER] = {"user", "TCPDUCKDB_USER", NULL},
    [K_PASSWORD] = {"password", "TCPDUCKDB_PASSWORD", NULL},
    [K_DBNAME] = {"dbname", "TCPDUCKDB_DATABASE", NULL},
    [K_SSLMODE] = {"sslmode", "TCPDUCKDB_SSLMODE", "prefer"},
    [K_SSLROOTCERT] = {"sslrootcert", "TCPDUCKDB_SSLROOTCERT", NULL},
    [K_SSLCERT] = {"sslcert", "TCPDUCKDB_SSLCERT", NULL},
    [K_SSLKEY] = {"sslkey", "TCPDUCKDB_SSLKEY", NULL},
    [K_CONNECT_TIMEOUT] = {"connect_timeout", NULL, "30"},
};

typedef struct {
    char *v[K_COUNT];
} Params;

static void params_free(Params *p)
{
    for (int i = 0; i < K_COUNT; i++) {
        if (p->v[i])
            OPENSSL_cleanse(p->v[i], strlen(p->v[i]));
        free(p->v[i]);
        p->v[i] = NULL;
    }
}

static int key_index(const char *key, size_t len)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strlen(keys[i].key) == len && memcmp(keys[i].key, key, len) == 0)
            return i;
    return -1;
}

/* Sets keyword k to a copy of value[0, len); a later value wins. */
static int set_value(tdb_conn *c, Params *p, int k, const char *value, size_t len)
{
    char *copy = strndup(value, len);
    if (!copy)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    if (p->v[k])
        OPENSSL_cleanse(p->v[k], strlen(p->v[k]));
    free(p->v[k]);
    p->v[k] = copy;
    return 0;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes s[0, len) in place into a new string (*out, caller frees); `plus`: '+' is a
 * space (query values, as Go's url.ParseQuery). A bad escape or a decoded NUL is TDB_EINVAL.
 */
static int decode(tdb_conn *c, const char *what, const char *s, size_t len, bool plus, char **out)
{
    char *d = malloc(len + 1);
    if (!d)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int h1 = i + 1 < len ? hex_value(s[i + 1]) : -1;
            int h2 = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (h1 < 0 || h2 < 0 || (h1 == 0 && h2 == 0)) {
                free(d);
                return tdb__set_error(c, TDB_EINVAL, "bad URI: a bad %%-escape in the %s", what);
            }
            d[n++] = (char)(h1 * 16 + h2);
            i += 2;
        } else if (plus && s[i] == '+') {
            d[n++] = ' ';
        } else {
            d[n++] = s[i];
        }
    }
    d[n] = '\0';
    *out = d;
    return 0;
}

/* Sets keyword k from the percent-encoded s[0, len). */
static int set_decoded(tdb_conn *c, Params *p, int k, const char *s, size_t len, bool plus)
{
    char *d = NULL;
    int rc = decode(c, keys[k].key, s, len, plus, &d);
    if (rc != 0)
        return rc;
    rc = set_value(c, p, k, d, strlen(d));
    OPENSSL_cleanse(d, strlen(d));
    free(d);
    return rc;
}

/* tcpduckdb://[user[:password]@][host][:port][/dbname][?key=value&...] */
static int parse_uri(tdb_conn *c, const char *uri, Params *p)
{
    const char *s = uri + strlen("tcpduckdb://");
    size_t auth_len = strcspn(s, "/?#");
    if (s[auth_len] == '#')
        return tdb__set_error(c, TDB_EINVAL, "bad URI: a fragment (#) has no meaning");
    const char *at = memrchr(s, '@', auth_len);
    int rc = 0;
    if (at) {
        size_t user_len = strcspn(s, ":@");
        const char *colon = s + user_len < at && s[user_len] == ':' ? s + user_len : NULL;
        rc = set_decoded(c, p, K_USER, s, colon ? (size_t)(colon - s) : (size_t)(at - s), false);
        if (rc == 0 && colon)
            rc = set_decoded(c, p, K_PASSWORD, colon + 1, (size_t)(at - colon - 1), false);
        if (rc != 0)
            return rc;
    }
    const char *host = at ? at + 1 : s;
    const char *end = s + auth_len;
    const char *port = NULL;
    size_t host_len;
    if (host < end && *host == '[') { /* [IPv6] */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close)
            return tdb__set_error(c, TDB_EINVAL, "bad URI: an IPv6 host without its ']'");
        if (close + 1 < end && close[1] != ':')
            return tdb__set_error(c, TDB_EINVAL, "bad URI: text after the IPv6 host");
        port = close + 1 < end ? close + 2 : NULL;
        rc = set_decoded(c, p, K_HOST, host + 1, (size_t)(close - host - 1), false);
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        host_len = colon ? (size_t)(colon - host) : (size_t)(end - host);
        port = colon ? colon + 1 : NULL;
        if (host_len > 0)
            rc = set_decoded(c, p, K_HOST, host, host_len, false);
    }
    if (rc == 0 && port && port < end)
        rc = set_value(c, p, K_PORT, port, (size_t)(end - port));
    if (rc != 0)
        return rc;
    s = end;
    if (*s == '/') {
        size_t db_len = strcspn(s + 1, "?#");
        if (db_len > 0 && (rc = set_decoded(c, p, K_DBNAME, s + 1, db_len, false)) != 0)
            return rc;
        s += 1 + db_len;
    }
    if (*s == '#')
        return tdb__set_error(c, TDB_EINVAL, "bad URI: a fragment (#) has no meaning");
    if (*s != '?')
        return 0;
    s++;
    while (*s) {
        size_t pair = strcspn(s, "&#");
        if (s[pair] == '#')
            return tdb__set_error(c, TDB_EINVAL, "bad URI: a fragment (#) has no meaning");
        const char *eq = memchr(s, '=', pair);
        if (pair > 0) {
            char *key = NULL;
            rc = decode(c, "parameter name", s, eq ? (size_t)(eq - s) : pair, true, &key);
            if (rc != 0)
                return rc;
            int k = key_index(key, strlen(key));
            if (k < 0 || k == K_USER || k == K_PASSWORD || k == K_HOST || k == K_PORT ||
                k == K_DBNAME) {
                rc = tdb__set_error(c, TDB_EINVAL, "bad URI: unknown parameter \"%.64s\"", key);
                free(key);
                return rc;
            }
            free(key);
            const char *val = eq ? eq + 1 : s + pair;
            rc = set_decoded(c, p, k, val, (size_t)(s + pair - val), true);
            if (rc != 0)
                return rc;
        }
        s += pair;
        if (*s == '&')
            s++;
    }
    return 0;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* key=value ... (libpq's syntax: blanks around '=', values in '...' with \' and \\). */
static int parse_conninfo(tdb_conn *c, const char *s, Params *p)
{
    for (;;) {
        while (is_blank(*s))
            s++;
        if (!*s)
            return 0;
        const char *key = s;
        while (*s && *s != '=' && !is_blank(*s))
            s++;
        size_t key_len = (size_t)(s - key);
        while (is_blank(*s))
            s++;
        if (*s != '=')
            return tdb__set_error(c, TDB_EINVAL, "bad conninfo: \"%.*s\" without '=value'",
                                  (int)(key_len > 64 ? 64 : key_len), key);
        int k = key_index(key, key_len);
        if (k < 0)
            return tdb__set_error(c, TDB_EINVAL, "bad conninfo: unknown keyword \"%.*s\"",
                                  (int)(key_len > 64 ? 64 : key_len), key);
        s++;
        while (is_blank(*s))
            s++;
        Str v = {0};
        int rc = tdb__str_reserve(&v, 0);
        if (*s == '\'') {
            for (s++; rc == 0 && *s != '\''; s++) {
                if (!*s) {
                    tdb__str_free(&v);
                    return tdb__set_error(c, TDB_EINVAL, "bad conninfo: an unterminated quote");
                }
                if (*s == '\\' && s[1])
                    s++;
                rc = tdb__str_putc(&v, *s);
            }
            s++;
        } else {
            for (; rc == 0 && *s && !is_blank(*s); s++) {
                if (*s == '\\' && s[1])
                    s++;
                rc = tdb__str_putc(&v, *s);
            }
        }
        if (rc == 0)
            rc = set_value(c, p, k, v.p, v.len);
        else
            rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
        if (v.p)
            OPENSSL_cleanse(v.p, v.cap);
        tdb__str_free(&v);
        if (rc != 0)
            return rc;
    }
}

/* Fills what the string left out from the environment, then from the defaults. */
static int fill_defaults(tdb_conn *c, Params *p)
{
    for (int k = 0; k < K_COUNT; k++) {
        if (p->v[k])
            continue;
        const char *v = keys[k].env ? getenv(keys[k].env) : NULL;
        if (!v || !*v)
            v = keys[k].def;
        if (v && set_value(c, p, k, v, strlen(v)) != 0)
            return TDB_ENOMEM;
    }
    return 0;
}

/* A decimal integer in [lo, hi] (the whole text); false otherwise. */
static bool parse_int(const char *text, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int connect_params(tdb_conn *c, const Params *p)
{
    long port = 0, secs = 0;
    if (!parse_int(p->v[K_PORT], 1, 65535, &port))
        return tdb__set_error(c, TDB_EINVAL, "bad port \"%.32s\"", p->v[K_PORT]);
    if (!parse_int(p->v[K_CONNECT_TIMEOUT], 0, 86400, &secs))
        return tdb__set_error(c, TDB_EINVAL, "bad connect_timeout \"%.32s\" (seconds)",
                              p->v[K_CONNECT_TIMEOUT]);
    tdb_tls_options tls = {
        .sslrootcert = p->v[K_SSLROOTCERT], .sslcert = p->v[K_SSLCERT], .sslkey = p->v[K_SSLKEY]};
    if (tdb_sslmode_parse(p->v[K_SSLMODE], &tls.sslmode) != 0)
        return tdb__set_error(c, TDB_EINVAL,
                              "sslmode must be disable, prefer, require, verify-ca or "
                              "verify-full, not \"%.32s\"",
                              p->v[K_SSLMODE]);
    if (tls.sslkey && !tls.sslcert)
        return tdb__set_error(c, TDB_EINVAL, "sslkey is given without sslcert");
    int rc = tdb_set_tls(c, &tls);
    if (rc == 0)
        rc = tdb_connect(c, p->v[K_HOST], (int)port, (int)secs * 1000);
    if (rc == 0 && p->v[K_USER])
        rc = tdb_login(c, p->v[K_USER], p->v[K_PASSWORD] ? p->v[K_PASSWORD] : "");
    if (rc == 0 && p->v[K_DBNAME] && *p->v[K_DBNAME])
        rc = tdb_connect_database(c, p->v[K_DBNAME]);
    return rc;
}

tdb_conn *tdb_connectdb(const char *conninfo)
{
    tdb_conn *c = tdb_conn_new();
    if (!c)
        return NULL;
    Params p = {{0}};
    int rc = 0;
    if (conninfo && strncmp(conninfo, "tcpduckdb://", 12) == 0)
        rc = parse_uri(c, conninfo, &p);
    else if (conninfo && strchr(conninfo, ':') && strstr(conninfo, "://") &&
             strcspn(conninfo, ":") < strcspn(conninfo, "= \t"))
        rc = tdb__set_error(c, TDB_EINVAL, "bad URI: the scheme must be tcpduckdb://");
    else if (conninfo)
        rc = parse_conninfo(c, conninfo, &p);
    if (rc == 0 && fill_defaults(c, &p) != 0)
        rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
    if (rc == 0)
        rc = connect_params(c, &p);
    params_free(&p);
    c->connectdb_status = rc;
    return c;
}

int tdb_connectdb_status(const tdb_conn *c)
{
    return c ? c->connectdb_status : TDB_ENOMEM;
}

int tdb_reset(tdb_conn *c)
{
    if (!c->host)
        return tdb__set_error(c, TDB_EINVAL, "the handle never connected: nothing to reset");
    char *host = strdup(c->host);
    char *user = c->user ? strdup(c->user) : NULL;
    char *password = c->password ? strdup(c->password) : NULL;
    char *dbname = c->dbname ? strdup(c->dbname) : NULL;
    int rc = 0;
    if (!host || (c->user && !user) || (c->password && !password) || (c->dbname && !dbname)) {
        rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
        goto out;
    }
    tdb__disconnect(c);
    rc = tdb_connect(c, host, c->port, c->connect_timeout_ms);
    if (rc == 0 && user)
        rc = tdb_login(c, user, password ? password : "");
    if (rc == 0 && dbname)
        rc = tdb_connect_database(c, dbname);
out:
    free(host);
    free(user);
    if (password)
        OPENSSL_cleanse(password, strlen(password));
    free(password);
    free(dbname);
    return rc;
}
