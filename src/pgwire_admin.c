/*
 * pgwire_admin: PostgreSQL administration statements on the line
 * protocol's command table. See pgwire_admin.h.
 */
#include "pgwire_admin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scram.h"
#include "sqllex.h"
#include "xalloc.h"

#define ADM_TOKENS 64

typedef struct Adm {
    const char *sql;
    SqlToken t[ADM_TOKENS];
    int n;
    bool too_long;
    /* The words handed to the command table, owned. */
    char *word[REQUEST_MAX_WORDS];
    int nwords;
} Adm;

static void adm_read(Adm *a, const char *sql, size_t len)
{
    SqlLexer lx;
    SqlToken t;
    a->sql = sql;
    a->n = 0;
    sqllex_init(&lx, sql, len, 0);
    while (sqllex_next(&lx, &t) > 0) {
        if (t.kind == SQLLEX_SEMI)
            continue;
        if (a->n == ADM_TOKENS) {
            a->too_long = true;
            break;
        }
        a->t[a->n++] = t;
    }
}

static bool is(const Adm *a, int i, const char *lower)
{
    return i >= 0 && i < a->n && sqllex_is_word(a->sql, &a->t[i], lower);
}

static bool is_name(const Adm *a, int i)
{
    return i < a->n && (a->t[i].kind == SQLLEX_WORD || a->t[i].kind == SQLLEX_QUOTED);
}

/* A name as PostgreSQL reads it: unquoted ones folded to lower case. Caller frees. */
static char *name_at(const Adm *a, int i)
{
    Buf b = BUF_INIT;
    sqllex_identifier(a->sql, &a->t[i], &b);
    char *r = xstrndup(b.data ? b.data : "", b.len);
    buf_free(&b);
    if (a->t[i].kind == SQLLEX_WORD)
        for (char *p = r; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return r;
}

/* A plain '...' string's value ('' is one quote); NULL for any other token. Caller frees. */
static char *string_at(const Adm *a, int i)
{
    if (i >= a->n || a->t[i].kind != SQLLEX_STRING || a->sql[a->t[i].offset] != '\'')
        return NULL;
    Buf b = BUF_INIT;
    const char *p = a->sql + a->t[i].offset;
    for (size_t k = 1; k + 1 < a->t[i].length; k++) {
        buf_putc(&b, p[k]);
        if (p[k] == '\'')
            k++;
    }
    char *r = xstrndup(b.data ? b.data : "", b.len);
    buf_free(&b);
    return r;
}

static void push(Adm *a, char *w)
{
    if (a->nwords < REQUEST_MAX_WORDS)
        a->word[a->nwords++] = w;
    else
        free(w);
}

static void adm_free(Adm *a)
{
    for (int i = 0; i < a->nwords; i++)
        free(a->word[i]);
    a->nwords = 0;
}

bool pgadm_is_admin(const char *sql, size_t len)
{
    Adm a = {0};
    adm_read(&a, sql, len);
    if (is(&a, 0, "grant") || is(&a, 0, "revoke"))
        return true;
    if (!(is(&a, 0, "create") || is(&a, 0, "alter") || is(&a, 0, "drop")))
        return false;
    return is(&a, 1, "user") || is(&a, 1, "role") || is(&a, 1, "database");
}

typedef struct Refusal {
    char *state;
    char *err;
    size_t errlen;
} Refusal;

static bool refuse(const Refusal *r, const char *state, const char *msg)
{
    snprintf(r->state, 6, "%s", state);
    snprintf(r->err, r->errlen, "%s", msg);
    return false;
}

/* A password given as PostgreSQL's stored form, which the catalog would take as its text. */
static bool looks_hashed(const char *pw)
{
    if (strncmp(pw, "SCRAM-SHA-256$", 14) == 0)
        return true;
    if (strlen(pw) != 35 || strncmp(pw, "md5", 3) != 0)
        return false;
    for (const char *p = pw + 3; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

/*
 * A verifier a client made (psql's \password: libpq's 4096 iterations and
 * 16-byte salt) is taken when it is well formed by scram.h's strict rules
 * (the prefix, decimal iterations, canonical base64 salt, 32-byte StoredKey
 * and ServerKey) with at least PostgreSQL's 4096 iterations and a 16-byte
 * salt, so a weak verifier is not stored. md5 verifiers are refused.
 */
static bool scram_policy(const char *verifier, const Refusal *r)
{
    int iterations = 0;
    size_t salt_len = 0;
    if (strncmp(verifier, "SCRAM-SHA-256$", 14) != 0)
        return refuse(r, "0A000",
                      "md5 password verifiers are not supported: SCRAM-SHA-256 only (psql: SET "
                      "password_encryption = 'scram-sha-256')");
    if (!scram_verifier_info(verifier, &iterations, &salt_len))
        return refuse(r, "22023",
                      "malformed SCRAM-SHA-256 verifier: SCRAM-SHA-256$ITERATIONS:SALT$STOREDKEY:"
                      "SERVERKEY, base64, 32-byte keys");
    if (iterations < 4096 || salt_len < 16)
        return refuse(r, "22023",
                      "a SCRAM-SHA-256 verifier needs at least 4096 iterations and a 16-byte salt");
    return true;
}

/* CREATE USER|ROLE u [WITH] [LOGIN] PASSWORD 'p' [LOGIN]. */
static bool map_create_user(Adm *a, const Refusal *r, char *tag, size_t cap)
{
    int i = 2;
    if (!is_name(a, i))
        return refuse(r, "42601", "syntax error: CREATE USER needs a name");
    char *user = name_at(a, i++);
    char *pw = NULL;
    if (is(a, i, "with"))
        i++;
    for (; i < a->n; i++) {
        if (is(a, i, "login") || is(a, i, "nosuperuser") || is(a, i, "nocreatedb") ||
            is(a, i, "nocreaterole") || is(a, i, "inherit") || is(a, i, "noreplication") ||
            is(a, i, "nobypassrls"))
            continue; /* what every user of this server is */
        if (is(a, i, "password") && !pw && (pw = string_at(a, i + 1)) != NULL) {
            i++;
            continue;
        }
        free(user);
        free(pw);
        return refuse(r, "0A000",
                      "CREATE USER takes [WITH] [LOGIN] PASSWORD '...' here: role options "
                      "(SUPERUSER, CREATEDB, ...) have no meaning in TCP-DuckDB");
    }
    if (!pw) {
        free(user);
        return refuse(r, "0A000", "CREATE USER needs a PASSWORD '...' in TCP-DuckDB");
    }
    push(a, xstrdup("create"));
    push(a, xstrdup("user"));
    push(a, user);
    push(a, pw);
    snprintf(tag, cap, "CREATE ROLE");
    return true;
}

/* ALTER USER|ROLE u [WITH] PASSWORD 'p' | RENAME TO v. */
static bool map_alter_user(Adm *a, const Refusal *r, char *tag, size_t cap)
{
    int i = 2;
    if (!is_name(a, i))
        return refuse(r, "42601", "syntax error: ALTER USER needs a name");
    char *user = name_at(a, i++);
    if (is(a, i, "rename") && is(a, i + 1, "to") && is_name(a, i + 2) && i + 3 == a->n) {
        push(a, xstrdup("update"));
        push(a, xstrdup("user"));
        push(a, xstrdup("username"));
        push(a, user);
        push(a, name_at(a, i + 2));
        snprintf(tag, cap, "ALTER ROLE");
        return true;
    }
    if (is(a, i, "with"))
        i++;
    char *pw = is(a, i, "password") && i + 2 == a->n ? string_at(a, i + 1) : NULL;
    if (!pw) {
        free(user);
        return refuse(r, "0A000", "ALTER USER takes [WITH] PASSWORD '...' or RENAME TO here");
    }
    push(a, xstrdup("update"));
    push(a, xstrdup("user"));
    push(a, xstrdup("password"));
    push(a, user);
    push(a, pw);
    snprintf(tag, cap, "ALTER ROLE");
    return true;
}

/* DROP USER|ROLE [IF EXISTS] u: one name. */
static bool map_drop_user(Adm *a, const Refusal *r, char *tag, size_t cap, bool *if_exists)
{
    int i = 2;
    if (is(a, 2, "if") && is(a, 3, "exists")) {
        *if_exists = true;
        i = 4;
    }
    if (!is_name(a, i))
        return refuse(r, "42601", "syntax error: DROP USER needs a name");
    if (i + 1 != a->n)
        return refuse(r, "0A000", "DROP USER takes one name here (no list, CASCADE)");
    push(a, xstrdup("drop"));
    push(a, xstrdup("user"));
    push(a, name_at(a, i));
    snprintf(tag, cap, "DROP ROLE");
    return true;
}

/* CREATE DATABASE d | DROP DATABASE [IF EXISTS] d | ALTER DATABASE a RENAME TO b. */
static bool map_database(Adm *a, const Refusal *r, char *tag, size_t cap, bool *if_exists)
{
    int i = 2;
    if (is(a, 0, "drop") && is(a, 2, "if") && is(a, 3, "exists")) {
        *if_exists = true;
        i = 4;
    }
    if (!is_name(a, i))
        return refuse(r, "42601", "syntax error: a database name is needed");
    if (is(a, 0, "alter")) {
        if (!(is(a, i + 1, "rename") && is(a, i + 2, "to") && is_name(a, i + 3) && i + 4 == a->n))
            return refuse(r, "0A000", "ALTER DATABASE takes RENAME TO only here");
        push(a, xstrdup("update"));
        push(a, xstrdup("database"));
        push(a, name_at(a, i));
        push(a, name_at(a, i + 3));
        snprintf(tag, cap, "ALTER DATABASE");
        return true;
    }
    if (i + 1 != a->n)
        return refuse(r, "0A000",
                      "CREATE/DROP DATABASE take a name only here (no WITH, OWNER, TEMPLATE, ...)");
    push(a, xstrdup(is(a, 0, "create") ? "create" : "drop"));
    push(a, xstrdup("database"));
    push(a, name_at(a, i));
    snprintf(tag, cap, "%s DATABASE", is(a, 0, "create") ? "CREATE" : "DROP");
    return true;
}

/* GRANT privs ON [TABLE] t TO u | REVOKE privs ON [TABLE] t FROM u, and ON DATABASE. */
static bool map_grant(Adm *a, const Session *s, const Refusal *r, char *tag, size_t cap)
{
    bool grant = is(a, 0, "grant");
    int i = 1;
    bool all = false, write = false, read = false;
    const char *privs[4];
    int np = 0;
    while (i < a->n && !is(a, i, "on")) {
        if (is(a, i, "all")) {
            all = true;
            if (is(a, i + 1, "privileges"))
                i++;
        } else if (is(a, i, "select") || is(a, i, "insert") || is(a, i, "update") ||
                   is(a, i, "delete")) {
            if (np < 4)
                privs[np++] = is(a, i, "select")   ? "select"
                              : is(a, i, "insert") ? "insert"
                              : is(a, i, "update") ? "update"
                                                   : "delete";
        } else if (is(a, i, "connect") || is(a, i, "temp") || is(a, i, "temporary")) {
            read = true;
        } else if (is(a, i, "create")) {
            write = true;
        } else {
            return refuse(r, "0A000",
                          "GRANT/REVOKE take SELECT, INSERT, UPDATE, DELETE or ALL on tables, "
                          "CONNECT, TEMP, CREATE or ALL on databases here");
        }
        i++;
        if (i < a->n && a->t[i].kind == SQLLEX_COMMA)
            i++;
    }
    if (!is(a, i, "on"))
        return refuse(r, "42601", "syntax error: GRANT/REVOKE ... ON ...");
    i++;
    bool database = is(a, i, "database");
    if (database || is(a, i, "table"))
        i++;
    if (!is_name(a, i) || (i + 1 < a->n && a->t[i + 1].kind == SQLLEX_DOT &&
                           !(is(a, i, "public") || is(a, i, "main"))))
        return refuse(r, "0A000", "GRANT/REVOKE name one table (or database) of this database");
    if (i + 1 < a->n && a->t[i + 1].kind == SQLLEX_DOT)
        i += 2; /* public.t, main.t: the session database's schema */
    if (!is_name(a, i))
        return refuse(r, "42601", "syntax error: a table name is needed");
    int object = i++;
    if (!is(a, i, grant ? "to" : "from") || !is_name(a, i + 1) || i + 2 != a->n ||
        is(a, i + 1, "public"))
        return refuse(r, "0A000",
                      "GRANT/REVOKE ... TO/FROM take one user here (no PUBLIC, list, GRANT "
                      "OPTION, CASCADE)");
    char *user = name_at(a, i + 1);
    push(a, xstrdup(grant ? "grant" : "revoke"));
    if (database) {
        if (np > 0) {
            free(user);
            return refuse(r, "0A000", "SELECT, INSERT, UPDATE, DELETE are granted on tables");
        }
        push(a, xstrdup("database"));
        push(a, name_at(a, object));
        push(a, user);
        if (grant)
            push(a, xstrdup(all || write ? "write" : "read"));
        (void)read;
    } else {
        if (!s->database[0]) {
            free(user);
            return refuse(r, "0A000", "GRANT on a table needs a connected database");
        }
        if (write || read || (np == 0 && !all)) {
            free(user);
            return refuse(r, "0A000", "CONNECT, TEMP and CREATE are granted on databases");
        }
        push(a, xstrdup("table"));
        push(a, xstrdup(s->database));
        push(a, name_at(a, object));
        push(a, user);
        if (all) {
            static const char *const every[] = {"select", "insert", "update", "delete"};
            for (int k = 0; k < 4; k++)
                push(a, xstrdup(every[k]));
        } else {
            for (int k = 0; k < np; k++)
                push(a, xstrdup(privs[k]));
        }
    }
    snprintf(tag, cap, "%s", grant ? "GRANT" : "REVOKE");
    return true;
}

PgAdmResult pgadm_run(Session *s, const SessionEnv *env, const char *sql, size_t len, Buf *line,
                      char *tag, size_t tagcap, char sqlstate[6], char *err, size_t errlen)
{
    Adm a = {0};
    Refusal r = {sqlstate, err, errlen};
    adm_read(&a, sql, len);
    bool mapped = false, if_exists = false;
    if (a.too_long) {
        refuse(&r, "0A000", "this administration statement is too long");
    } else if (is(&a, 0, "grant") || is(&a, 0, "revoke")) {
        mapped = map_grant(&a, s, &r, tag, tagcap);
    } else if (is(&a, 1, "database")) {
        mapped = map_database(&a, &r, tag, tagcap, &if_exists);
    } else if (is(&a, 0, "create")) {
        mapped = map_create_user(&a, &r, tag, tagcap);
    } else if (is(&a, 0, "alter")) {
        mapped = map_alter_user(&a, &r, tag, tagcap);
    } else {
        mapped = map_drop_user(&a, &r, tag, tagcap, &if_exists);
    }
    /* The last word of create user / update user password is the password. */
    bool password = mapped && strcmp(a.word[0], "drop") != 0 && strcmp(a.word[1], "user") == 0 &&
                    (strcmp(a.word[0], "create") == 0 || strcmp(a.word[2], "password") == 0);
    if (password && looks_hashed(a.word[a.nwords - 1])) {
        if (strcmp(a.word[0], "update") == 0 && scram_policy(a.word[a.nwords - 1], &r)) {
            /* ALTER USER u PASSWORD 'SCRAM-SHA-256$...' (psql's \password): the verifier is
             * stored as given, through `update user verifier`. */
            free(a.word[2]);
            a.word[2] = xstrdup("verifier");
        } else if (strcmp(a.word[0], "update") == 0) {
            mapped = false; /* scram_policy said why */
        } else {
            mapped = refuse(&r, "0A000",
                            "CREATE USER takes a password in clear here (over TLS); a verifier "
                            "(SCRAM-SHA-256$...) is taken by ALTER USER u PASSWORD '...' "
                            "(psql's \\password)");
        }
    }
    if (!mapped) {
        adm_free(&a);
        return PGADM_REFUSED;
    }
    RequestWords w = {.n = a.nwords};
    for (int i = 0; i < a.nwords; i++)
        w.word[i] = a.word[i];
    const SessionCommand *cmd = session_command_find(&w);
    buf_reset(line, 256);
    if (!cmd) {
        adm_free(&a);
        refuse(&r, "XX000", "no command for this statement");
        return PGADM_REFUSED;
    }
    session_command_run(cmd, s, env, &w, line);
    adm_free(&a);
    bool ok = line->len >= 7 && memcmp(line->data, "success", 7) == 0;
    /* DROP DATABASE|USER IF EXISTS of one that is not there: done, as in PostgreSQL. */
    if (!ok && if_exists && line->len > 0 && memmem(line->data, line->len, "Does Not Exist", 14))
        ok = true;
    return ok ? PGADM_OK : PGADM_LINE;
}
