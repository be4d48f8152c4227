/*
 * pgwire_settings: the PostgreSQL front end's client settings. See
 * pgwire_settings.h. The statements are read with the front end's tokens
 * (pgsess_first_tokens, pgwire_session_int.h); the messages are pgwire.c's.
 */
#include "pgwire_settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgwire.h"
#include "pgwire_session_int.h"
#include "sqllex.h"

/* The client settings answered here (SHOW) and reported at login (ParameterStatus). */
static const struct {
    const char *name;
    const char *value; /* the default */
    bool report;       /* sent as ParameterStatus */
} settings[] = {
    {"server_version", "15.0", true}, /* version() says the rest (pgsess_version) */
    {"server_version_num", "150000", false},
    {"server_encoding", "UTF8", true},
    {"client_encoding", "UTF8", true},
    {"DateStyle", "ISO, MDY", true},
    {"IntervalStyle", "postgres", true},
    {"TimeZone", "UTC", true},
    {"integer_datetimes", "on", true},
    {"standard_conforming_strings", "on", true},
    {"application_name", "", true},
    {"is_superuser", "off", true},
    {"session_authorization", "", true},
    {"extra_float_digits", "1", false},
    {"search_path", "\"$user\", public", false},
    {"transaction_isolation", "repeatable read", false},
    {"default_transaction_isolation", "repeatable read", false},
    {"transaction_read_only", "off", false},
    {"default_transaction_read_only", "off", false},
    {"statement_timeout", "0", false},
    {"lock_timeout", "0", false},
    {"idle_in_transaction_session_timeout", "0", false},
    {"client_min_messages", "notice", false},
    {"bytea_output", "hex", false},
    {"lc_messages", "C", false},
    {"lc_monetary", "C", false},
    {"lc_numeric", "C", false},
    {"lc_time", "C", false},
    {"max_identifier_length", "63", false},
    {"password_encryption", "scram-sha-256", false}, /* libpq reads it for psql's \password */
    {"datestyle", NULL, false},                      /* aliases resolved by setting_find() */
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))
_Static_assert(NSETTINGS == PGSET_COUNT, "PGSET_COUNT is the table's size");

static int setting_find(const char *name)
{
    if (strcasecmp(name, "datestyle") == 0)
        name = "DateStyle";
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].value && strcasecmp(settings[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* False for the settings a client may not change (server_version, ...). */
static bool setting_settable(int k)
{
    static const char *const fixed[] = {"server_version",        "server_version_num",
                                        "server_encoding",       "is_superuser",
                                        "integer_datetimes",     "max_identifier_length",
                                        "session_authorization", "password_encryption"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(settings[k].name, fixed[i]) == 0)
            return false;
    return true;
}

void pgset_init(PgSettings *st)
{
    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].value)
            snprintf(st->values[i], PGSET_VALUE_MAX, "%s", settings[i].value);
}

bool pgset_known(const char *name)
{
    return setting_find(name) >= 0;
}

static bool set_value(PgSettings *st, int k, const char *value, Buf *out);

void pgset_startup(PgSettings *st, const char *name, const char *value)
{
    int k = setting_find(name);
    if (k < 0 || !setting_settable(k))
        return;
    /* A value SET would refuse keeps the default, which ParameterStatus then reports (pgjdbc
     * sends the JVM's zone as TimeZone). */
    Buf ignored = BUF_INIT;
    (void)set_value(st, k, value, &ignored);
    buf_free(&ignored);
}

void pgset_login(PgSettings *st, const char *user, bool super, Buf *out)
{
    snprintf(st->values[setting_find("session_authorization")], PGSET_VALUE_MAX, "%s", user);
    snprintf(st->values[setting_find("is_superuser")], PGSET_VALUE_MAX, "%s", super ? "on" : "off");
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].report && settings[i].value)
            pgwire_parameter_status(out, settings[i].name, st->values[i]);
}

/* SELECT [pg_catalog.]current_setting('name' [, missing_ok]) or
 * SELECT [pg_catalog.]set_config('name', 'value', is_local), with an optional alias. */
typedef struct SettingCall {
    bool set; /* set_config; else current_setting */
    char name[PGSET_VALUE_MAX];
    char value[PGSET_VALUE_MAX];
    bool flag; /* missing_ok, is_local */
    char column[64];
} SettingCall;

/* The setting a SET, RESET or SHOW names (index into settings), or -1. */
static int named_setting(const char *sql, size_t len, int *out_value_tok, PgTokens *tk)
{
    pgsess_first_tokens(sql, len, tk);
    int i = 1;
    if (pgsess_word_is(sql, tk, 1, "session") || pgsess_word_is(sql, tk, 1, "local"))
        i = pgsess_word_is(sql, tk, 0, "set") ? 2 : 1;
    if (pgsess_word_is(sql, tk, i, "transaction") && pgsess_word_is(sql, tk, i + 1, "isolation")) {
        *out_value_tok = -1;
        return setting_find("transaction_isolation");
    }
    if (pgsess_word_is(sql, tk, i, "time") && pgsess_word_is(sql, tk, i + 1, "zone")) {
        *out_value_tok = i + 2;
        return setting_find("TimeZone");
    }
    if (i >= tk->n)
        return -1;
    Buf name = BUF_INIT;
    sqllex_identifier(sql, &tk->t[i], &name);
    int k = setting_find(buf_cstr(&name));
    buf_free(&name);
    *out_value_tok = i + 1;
    if (*out_value_tok < tk->n && (pgsess_word_is(sql, tk, i + 1, "to") ||
                                   (tk->t[i + 1].kind == SQLLEX_OP && tk->t[i + 1].length == 1 &&
                                    sql[tk->t[i + 1].offset] == '=')))
        (*out_value_tok)++;
    return k;
}

/*
 * statement_timeout's value as PostgreSQL reads it: milliseconds, or a
 * number with a unit (us, ms, s, min, h, d); 0 turns it off. False for
 * anything else or past INT32_MAX ms, as in PostgreSQL.
 */
static bool timeout_ms(const char *v, int64_t *ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"", 1},        {"us", 0.001},    {"ms", 1},        {"s", 1000},
                 {"min", 60000}, {"h", 3600000.0}, {"d", 86400000.0}};
    while (isspace((unsigned char)*v))
        v++;
    if (!isdigit((unsigned char)v[0]) && !(v[0] == '.' && isdigit((unsigned char)v[1])))
        return false;
    char *end = NULL;
    double d = strtod(v, &end);
    while (isspace((unsigned char)*end))
        end++;
    size_t ulen = 0;
    while (isalpha((unsigned char)end[ulen]))
        ulen++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].unit) != ulen || strncmp(end, units[i].unit, ulen) != 0)
            continue;
        const char *rest = end + ulen;
        while (isspace((unsigned char)*rest))
            rest++;
        double total = d * units[i].ms + 0.5;
        if (*rest || total >= 2147483648.0)
            return false;
        *ms = (int64_t)total;
        return true;
    }
    return false;
}

/* `ms` as PostgreSQL shows a time setting: in the largest unit that divides it. */
static void timeout_text(int64_t ms, char *out, size_t cap)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}};
    for (size_t i = 0; ms > 0 && i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms % units[i].ms == 0) {
            snprintf(out, cap, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(out, cap, ms > 0 ? "%lldms" : "%lld", (long long)ms);
}

void pgset_apply_timeout(PgSettings *st, Session *s)
{
    int64_t ms = 0;
    int k = setting_find("statement_timeout");
    if (!timeout_ms(st->values[k], &ms))
        ms = 0;
    s->client_timeout_ms = ms;
}

/*
 * True for the TimeZone values that mean UTC. The front end writes
 * timestamptz values in UTC (pgwire.c) and DuckDB's TimeZone cannot be set
 * per connection under the sandbox's lock_configuration (pool.c; DuckDB's
 * allowed_configs would let every line protocol user SET GLOBAL it for the
 * whole database), so any other zone is refused rather than stored and
 * silently ignored.
 */
static bool timezone_is_utc(const char *v)
{
    static const char *const utc[] = {
        "UTC",       "Etc/UTC",       "GMT", "Etc/GMT", "UCT",      "Etc/UCT", "Zulu", "Etc/Zulu",
        "Universal", "Etc/Universal", "Z",   "GMT0",    "Etc/GMT0", "UTC0",    "0",    "+0",
        "-0",        "00:00",         "+00", "+00:00"};
    for (size_t i = 0; i < sizeof(utc) / sizeof(utc[0]); i++)
        if (strcasecmp(v, utc[i]) == 0)
            return true;
    return false;
}

/* extra_float_digits as PostgreSQL reads it: an integer from -15 to 3. */
static bool float_digits_value(const char *v, int *out)
{
    char *end = NULL;
    while (isspace((unsigned char)*v))
        v++;
    long n = strtol(v, &end, 10);
    if (end == v)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || n < -15 || n > 3)
        return false;
    *out = (int)n;
    return true;
}

bool pgset_sends_warnings(const PgSettings *st)
{
    return strcasecmp(st->values[setting_find("client_min_messages")], "error") != 0;
}

int pgset_extra_float_digits(const PgSettings *st)
{
    int n = 1;
    if (!float_digits_value(st->values[setting_find("extra_float_digits")], &n))
        n = 1;
    return n;
}

/*
 * True when every schema of a search_path value is one PostgreSQL's clients
 * mean by the default path: public (DuckDB's main, the only schema a table
 * grant names), "$user", pg_catalog, pg_temp, or main itself. DuckDB
 * resolves unqualified names in main already, so such a value needs nothing
 * applied; a path through another schema would make DuckDB resolve names
 * the front end's catalog emulation and grants know nothing of.
 */
static bool search_path_is_default(const char *v, char *bad, size_t badlen)
{
    static const char *const ok[] = {"public", "$user", "pg_catalog", "pg_temp", "main"};
    const char *p = v;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (!*p)
            return true;
        char name[PGSET_VALUE_MAX];
        size_t n = 0;
        if (*p == '"') {
            for (p++; *p && n + 1 < sizeof(name); p++) {
                if (*p == '"' && p[1] == '"')
                    p++;
                else if (*p == '"')
                    break;
                name[n++] = *p;
            }
            if (*p == '"')
                p++;
        } else {
            for (; *p && *p != ',' && !isspace((unsigned char)*p) && n + 1 < sizeof(name); p++)
                name[n++] = (char)tolower((unsigned char)*p);
        }
        name[n] = '\0';
        bool known = false;
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
            known = known || strcmp(name, ok[i]) == 0;
        if (!known) {
            snprintf(bad, badlen, "%s", name);
            return false;
        }
        while (*p && *p != ',')
            p++;
    }
}

/* Sets setting k to `value` (SET, set_config) after checking it; false: an error answered. */
static bool set_value(PgSettings *st, int k, const char *value, Buf *out)
{
    char norm[PGSET_VALUE_MAX];
    if (strcmp(settings[k].name, "TimeZone") == 0 && !timezone_is_utc(value)) {
        pgwire_errorf(
            out, "0A000",
            "time zone \"%s\" is not supported: this server shows timestamps with time zone "
            "in UTC only (SET TimeZone TO 'UTC')",
            value);
        return false;
    }
    if (strcmp(settings[k].name, "extra_float_digits") == 0) {
        int n = 0;
        if (!float_digits_value(value, &n)) {
            pgwire_errorf(out, "22023",
                          "invalid value for parameter \"extra_float_digits\": \"%s\" (an integer "
                          "from -15 to 3)",
                          value);
            return false;
        }
    }
    if (strcmp(settings[k].name, "search_path") == 0) {
        char bad[PGSET_VALUE_MAX];
        if (!search_path_is_default(value, bad, sizeof(bad))) {
            pgwire_errorf(
                out, "0A000",
                "schema \"%s\" cannot be on the search_path: only public (DuckDB's main), "
                "\"$user\" and pg_catalog can; qualify other schemas' names instead",
                bad);
            return false;
        }
    }
    if (strcmp(settings[k].name, "client_encoding") == 0 && strcasecmp(value, "UTF8") != 0 &&
        strcasecmp(value, "UTF-8") != 0 && strcasecmp(value, "unicode") != 0) {
        pgwire_errorf(out, "22023", "client_encoding %s is not supported: only UTF8", value);
        return false;
    }
    if (!setting_settable(k)) {
        pgwire_errorf(out, "55P02", "parameter \"%s\" cannot be changed", settings[k].name);
        return false;
    }
    if (strcmp(settings[k].name, "statement_timeout") == 0) {
        int64_t ms = 0;
        if (!timeout_ms(value, &ms)) {
            pgwire_errorf(
                out, "22023",
                "invalid value for parameter \"statement_timeout\": \"%s\" (milliseconds, or a "
                "number with a unit: us, ms, s, min, h, d)",
                value);
            return false;
        }
        timeout_text(ms, norm, sizeof(norm));
        value = norm;
    }
    snprintf(st->values[k], PGSET_VALUE_MAX, "%s", value);
    if (settings[k].report)
        pgwire_parameter_status(out, settings[k].name, st->values[k]);
    return true;
}

/* The text of a standard string literal token ('' inside is one quote); false for others. */
static bool string_literal(const char *sql, const SqlToken *t, char *out, size_t cap)
{
    if (t->kind != SQLLEX_STRING || t->length < 2 || sql[t->offset] != '\'')
        return false;
    Buf b = BUF_INIT;
    for (size_t i = t->offset + 1; i + 1 < t->offset + t->length; i++) {
        buf_putc(&b, sql[i]);
        if (sql[i] == '\'')
            i++;
    }
    snprintf(out, cap, "%s", buf_cstr(&b));
    buf_free(&b);
    return true;
}

/* SET name TO value: the value as text (a quoted string without quotes). */
bool pgset_set(PgSettings *st, const char *sql, size_t len, Buf *out)
{
    PgTokens tk;
    int v = 0;
    int k = named_setting(sql, len, &v, &tk);
    if (k < 0 || v < 0 || v >= tk.n) {
        pgwire_errorf(out, "42601", "syntax error in SET");
        return false;
    }
    char value[PGSET_VALUE_MAX];
    const SqlToken *t = &tk.t[v];
    if (string_literal(sql, t, value, sizeof(value))) {
        /* the literal's text */
    } else if (pgsess_word_is(sql, &tk, v, "default") || pgsess_word_is(sql, &tk, v, "local")) {
        snprintf(value, sizeof(value), "%s", settings[k].value);
    } else {
        size_t n = tk.end - t->offset;
        snprintf(value, sizeof(value), "%.*s", (int)(n < PGSET_VALUE_MAX ? n : PGSET_VALUE_MAX - 1),
                 sql + t->offset);
    }
    if (!set_value(st, k, value, out))
        return false;
    pgwire_command_complete(out, "SET");
    return true;
}

/* Every setting (k < 0) or setting k back to its default, with ParameterStatus. */
static void reset_settings(PgSettings *st, int k, Buf *out)
{
    bool all = k < 0;
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (!settings[i].value || (!all && (int)i != k) ||
            strcmp(settings[i].name, "session_authorization") == 0)
            continue;
        snprintf(st->values[i], PGSET_VALUE_MAX, "%s", settings[i].value);
        if (settings[i].report)
            pgwire_parameter_status(out, settings[i].name, st->values[i]);
    }
}

void pgset_reset_all(PgSettings *st, Buf *out)
{
    reset_settings(st, -1, out);
}

void pgset_reset(PgSettings *st, const char *sql, size_t len, Buf *out)
{
    PgTokens tk;
    int v = 0;
    pgsess_first_tokens(sql, len, &tk);
    bool all = pgsess_word_is(sql, &tk, 1, "all");
    reset_settings(st, all ? -1 : named_setting(sql, len, &v, &tk), out);
    pgwire_command_complete(out, "RESET");
}

bool pgset_show(const PgSettings *st, const char *sql, size_t len, bool describe, Buf *out)
{
    PgTokens tk;
    int v = 0;
    int k = named_setting(sql, len, &v, &tk);
    if (k < 0) {
        pgwire_errorf(out, "42704", "unrecognized configuration parameter");
        return false;
    }
    const char *name = settings[k].name;
    if (describe)
        pgwire_text_row_description(out, &name, 1);
    size_t m = pgwire_begin(out, 'D');
    pgwire_put_i16(out, 1);
    pgwire_put_i32(out, (int32_t)strlen(st->values[k]));
    buf_append_str(out, st->values[k]);
    pgwire_end(out, m);
    pgwire_command_complete(out, "SHOW");
    return true;
}

/* ---- current_setting() and set_config(): answered here when alone ---- */

/* A boolean literal: true/false, or a string PostgreSQL reads as one. */
static bool bool_literal(const char *sql, const SqlToken *t, bool *out)
{
    char v[16];
    if (t->kind == SQLLEX_WORD) {
        if (sqllex_is_word(sql, t, "true") || sqllex_is_word(sql, t, "false")) {
            *out = sqllex_is_word(sql, t, "true");
            return true;
        }
        return false;
    }
    if (!string_literal(sql, t, v, sizeof(v)))
        return false;
    static const char *const yes[] = {"t", "true", "on", "yes", "1"};
    static const char *const no[] = {"f", "false", "off", "no", "0"};
    for (size_t i = 0; i < 5; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool is_kind(const PgTokens *tk, int i, SqlTokenKind kind)
{
    return i < tk->n && tk->t[i].kind == kind;
}

/* True when `sql` is exactly such a call (parsed into *c). */
static bool setting_call(const char *sql, size_t len, SettingCall *c)
{
    PgTokens tk;
    pgsess_first_tokens(sql, len, &tk);
    memset(c, 0, sizeof(*c));
    int max = (int)(sizeof(tk.t) / sizeof(tk.t[0]));
    if (tk.n >= max || !pgsess_word_is(sql, &tk, 0, "select"))
        return false;
    int i = 1;
    if (pgsess_word_is(sql, &tk, 1, "pg_catalog") && is_kind(&tk, 2, SQLLEX_DOT))
        i = 3;
    if (pgsess_word_is(sql, &tk, i, "set_config"))
        c->set = true;
    else if (!pgsess_word_is(sql, &tk, i, "current_setting"))
        return false;
    snprintf(c->column, sizeof(c->column), "%s", c->set ? "set_config" : "current_setting");
    i++;
    if (!is_kind(&tk, i, SQLLEX_OPEN) || sql[tk.t[i].offset] != '(' || i + 1 >= tk.n ||
        !string_literal(sql, &tk.t[i + 1], c->name, sizeof(c->name)))
        return false;
    i += 2;
    if (c->set) {
        if (!is_kind(&tk, i, SQLLEX_COMMA) || i + 1 >= tk.n ||
            !string_literal(sql, &tk.t[i + 1], c->value, sizeof(c->value)) ||
            !is_kind(&tk, i + 2, SQLLEX_COMMA) || i + 3 >= tk.n ||
            !bool_literal(sql, &tk.t[i + 3], &c->flag))
            return false;
        i += 4;
    } else if (is_kind(&tk, i, SQLLEX_COMMA)) {
        if (i + 1 >= tk.n || !bool_literal(sql, &tk.t[i + 1], &c->flag))
            return false;
        i += 2;
    }
    if (!is_kind(&tk, i, SQLLEX_CLOSE) || sql[tk.t[i].offset] != ')')
        return false;
    i++;
    if (pgsess_word_is(sql, &tk, i, "as"))
        i++;
    if (i < tk.n && (tk.t[i].kind == SQLLEX_WORD || tk.t[i].kind == SQLLEX_QUOTED)) {
        Buf b = BUF_INIT;
        sqllex_identifier(sql, &tk.t[i], &b);
        if (tk.t[i].kind == SQLLEX_WORD)
            for (size_t j = 0; j < b.len; j++)
                b.data[j] = (char)tolower((unsigned char)b.data[j]);
        snprintf(c->column, sizeof(c->column), "%s", buf_cstr(&b));
        buf_free(&b);
        i++;
    }
    return i == tk.n;
}

bool pgset_calls_setting_fn(const char *sql, size_t len)
{
    SqlLexer lx;
    SqlToken t, prev = {0};
    bool have = false;
    sqllex_init(&lx, sql, len, 0);
    while (sqllex_next(&lx, &t) > 0) {
        if (have && t.kind == SQLLEX_OPEN &&
            (sqllex_is_word(sql, &prev, "current_setting") ||
             sqllex_is_word(sql, &prev, "set_config")))
            return true;
        prev = t;
        have = true;
    }
    return false;
}

static void send_text_row(Buf *out, const char *value)
{
    size_t m = pgwire_begin(out, 'D');
    pgwire_put_i16(out, 1);
    if (!value) {
        pgwire_put_i32(out, -1);
    } else {
        pgwire_put_i32(out, (int32_t)strlen(value));
        buf_append_str(out, value);
    }
    pgwire_end(out, m);
}

bool pgset_is_setting_call(const char *sql, size_t len)
{
    SettingCall c;
    return setting_call(sql, len, &c);
}

bool pgset_call(PgSettings *st, const char *sql, bool describe, Buf *out)
{
    SettingCall c;
    if (!setting_call(sql, strlen(sql), &c)) {
        pgwire_errorf(out, "42601", "syntax error in current_setting() or set_config()");
        return false;
    }
    int k = strcasecmp(c.name, "transaction isolation level") == 0
                ? setting_find("transaction_isolation")
                : setting_find(c.name);
    if (k < 0 && (c.set || !c.flag)) {
        pgwire_errorf(out, "42704", "unrecognized configuration parameter \"%s\"", c.name);
        return false;
    }
    if (c.set && c.flag) {
        pgwire_errorf(out, "0A000",
                      "set_config(..., true), local to the transaction, is not supported: use "
                      "set_config(name, value, false) or SET");
        return false;
    }
    if (c.set && !set_value(st, k, c.value, out))
        return false;
    if (describe) {
        const char *col = c.column;
        pgwire_text_row_description(out, &col, 1);
    }
    send_text_row(out, k >= 0 ? st->values[k] : NULL);
    pgwire_command_complete(out, "SELECT 1");
    return true;
}

const char *pgset_show_column(const char *sql, size_t len, char buf[64])
{
    SettingCall c;
    if (setting_call(sql, len, &c)) {
        snprintf(buf, 64, "%s", c.column);
        return buf;
    }
    PgTokens tk;
    int v = 0;
    int k = named_setting(sql, len, &v, &tk);
    return k >= 0 ? settings[k].name : "setting";
}