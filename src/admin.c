/*
 * admin: the web admin page's routes, its sessions and /metrics. See
 * admin.h and docs/admin.md.
 *
 * Security model, in the order a request meets it:
 *   - every answer carries a Content-Security-Policy that allows scripts,
 *     styles and requests from the page's own origin only (no inline
 *     script), and nosniff / no framing / no referrer headers;
 *   - /metrics: from loopback without login, from elsewhere only with
 *     `Authorization: Bearer MetricsToken` (never when the token is empty);
 *   - the session cookie is random (32 bytes from getrandom), HttpOnly,
 *     SameSite=Strict, Secure under TLS, and the session ends after
 *     AdminSessionTimeout seconds unused;
 *   - every POST but the login carries the session's CSRF token in the
 *     X-CSRF-Token header, and a POST whose Origin is another site is
 *     refused;
 *   - what a user may do is decided by the line protocol's handlers, which
 *     this module calls with words built from the request; the page never
 *     checks a grant itself;
 *   - every action is logged with the user and the client's address, never
 *     with a password;
 *   - the page's script builds the DOM with textContent only, so a name or
 *     a value is never parsed as HTML (web/app.js).
 */
#include "admin.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "admin_metrics.h"
#include "catalog.h"
#include "dbstatus.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "webassets.h"
#include "xalloc.h"

#define TOKEN_BYTES 32
#define TOKEN_HEX (2 * TOKEN_BYTES)
#define COOKIE_NAME "tcpduckdb_admin"

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                          "frame-ancestors 'none'; base-uri 'none'";

typedef struct AdminSession {
    char id[TOKEN_HEX + 1];   /* the cookie's value */
    char csrf[TOKEN_HEX + 1]; /* the token every state-changing request must carry */
    char addr[HTTP_ADDR_MAX]; /* where the login came from, for the log */
    Session *s;               /* the line protocol's session, logged in */
    pthread_mutex_t use;      /* held while a request uses `s` */
    /* Under Admin.lock: */
    int64_t last_ms; /* last use, for the idle expiry */
    int busy;        /* requests holding it */
    bool dead;       /* logged out or expired: freed when busy drops to 0 */
} AdminSession;

struct Admin {
    const SessionEnv *env;
    Throttle *throttle;
    HttpServer *http;
    bool tls;
    int64_t started_ms;
    time_t started_wall;
    pthread_mutex_t lock; /* guards `sessions` and their last_ms, busy, dead */
    AdminSession *sessions[ADMIN_SESSIONS_MAX];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void random_token(char out[TOKEN_HEX + 1])
{
    unsigned char raw[TOKEN_BYTES];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0)
            log_fatal("getrandom failed");
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Equality that takes as long whatever the first difference (tokens, cookies). */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* ---- answers ---- */

static void security_headers(HttpRequest *r)
{
    http_header_add(r, "Content-Security-Policy", CSP);
    http_header_add(r, "X-Content-Type-Options", "nosniff");
    http_header_add(r, "X-Frame-Options", "DENY");
    http_header_add(r, "Referrer-Policy", "no-referrer");
    http_header_add(r, "Cache-Control", "no-store");
}

static void reply_buf(HttpRequest *r, int status, const char *type, const Buf *b)
{
    http_reply(r, status, type, b->data, b->len);
}

/* {"error": MESSAGE} with `status`. */
static void reply_error(HttpRequest *r, int status, const char *msg)
{
    Buf b = BUF_INIT;
    buf_append_str(&b, "{\"error\":");
    json_append_string(&b, msg, strlen(msg));
    buf_append_str(&b, "}\n");
    reply_buf(r, status, "application/json", &b);
    buf_free(&b);
}

/* ---- sessions of the page ---- */

static void session_destroy(Admin *a, AdminSession *as)
{
    session_free(as->s, a->env);
    pthread_mutex_destroy(&as->use);
    free(as);
}

/* Ends sessions idle past AdminSessionTimeout; under a->lock. Returns those to free. */
static int sweep_locked(Admin *a, AdminSession **out_free, int64_t now)
{
    int64_t idle_ms = (int64_t)a->env->cfg->admin_session_timeout_sec * 1000;
    int n = 0;
    for (int i = 0; i < ADMIN_SESSIONS_MAX; i++) {
        AdminSession *as = a->sessions[i];
        if (!as || as->busy > 0 || (!as->dead && now - as->last_ms <= idle_ms))
            continue;
        if (!as->dead)
            log_info("admin: session of user %s from %s expired", as->s->user.name, as->addr);
        a->sessions[i] = NULL;
        out_free[n++] = as;
    }
    return n;
}

static void sweep(Admin *a)
{
    AdminSession *gone[ADMIN_SESSIONS_MAX];
    pthread_mutex_lock(&a->lock);
    int n = sweep_locked(a, gone, now_ms());
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < n; i++)
        session_destroy(a, gone[i]);
}

/* The cookie's session id from the Cookie header into `out`; false when absent. */
static bool cookie_id(HttpRequest *r, char out[TOKEN_HEX + 1])
{
    const char *h = http_header(r, "Cookie");
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        size_t nlen = strlen(COOKIE_NAME);
        if (strncmp(h, COOKIE_NAME, nlen) == 0 && h[nlen] == '=') {
            const char *v = h + nlen + 1;
            size_t len = strcspn(v, ";");
            if (len != TOKEN_HEX)
                return false;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        h = strchr(h, ';');
    }
    return false;
}

/*
 * The live session of the request's cookie, held (busy) and locked for use;
 * NULL when there is none or it expired. Release with release().
 */
static AdminSession *acquire(Admin *a, HttpRequest *r)
{
    char id[TOKEN_HEX + 1];
    if (!cookie_id(r, id))
        return NULL;
    AdminSession *found = NULL;
    int64_t now = now_ms();
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < ADMIN_SESSIONS_MAX && !found; i++) {
        AdminSession *as = a->sessions[i];
        if (as && !as->dead && same_secret(as->id, id))
            found = as;
    }
    if (found && now - found->last_ms > (int64_t)a->env->cfg->admin_session_timeout_sec * 1000) {
        found->dead = true;
        log_info("admin: session of user %s from %s expired", found->s->user.name, found->addr);
        found = NULL;
    }
    if (found) {
        found->busy++;
        found->last_ms = now;
    }
    pthread_mutex_unlock(&a->lock);
    if (found)
        pthread_mutex_lock(&found->use);
    return found;
}

static void release(Admin *a, AdminSession *as)
{
    pthread_mutex_unlock(&as->use);
    pthread_mutex_lock(&a->lock);
    as->busy--;
    /* Read under the lock: once it is released another thread's sweep may free `as`. */
    bool dead = as->dead;
    pthread_mutex_unlock(&a->lock);
    if (dead)
        sweep(a);
}

/* ---- routes ---- */

/* Sessions of the page now (logged in, not ended). */
static int page_sessions(Admin *a)
{
    int page = 0;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < ADMIN_SESSIONS_MAX; i++)
        page += a->sessions[i] && !a->sessions[i]->dead;
    pthread_mutex_unlock(&a->lock);
    return page;
}

/* Runs one command of the table with `w`'s words on the session; the answer line in `out`. */
static void run_command(Admin *a, AdminSession *as, RequestWords *w, Buf *out)
{
    const SessionCommand *c = session_command_find(w);
    if (!c) {
        buf_append_str(out, "Error: Bad Request: not a command\n");
        return;
    }
    session_command_run(c, as->s, a->env, w, out);
}

/* The HTTP status for an answer line. */
static int status_of(const char *line)
{
    if (strncmp(line, "Error: ", 7) != 0)
        return 200;
    if (strncmp(line + 7, "Unauthorized", 12) == 0 || strncmp(line + 7, "Access Denied", 13) == 0)
        return 403;
    if (strncmp(line + 7, "Too Many", 8) == 0)
        return 429;
    return 400;
}

/*
 * Wraps one answer line of the protocol as JSON: {"answer": VALUE} for a
 * JSON answer, {"ok": true} for success, {"error": TEXT} for an error,
 * {"answer": "TEXT"} otherwise.
 */
static void answer_json(const Buf *line, Buf *out)
{
    size_t n = line->len;
    while (n > 0 && line->data[n - 1] == '\n')
        n--;
    if (n >= 7 && memcmp(line->data, "Error: ", 7) == 0) {
        buf_append_str(out, "{\"error\":");
        json_append_string(out, line->data + 7, n - 7);
    } else if (n == 7 && memcmp(line->data, "success", 7) == 0) {
        buf_append_str(out, "{\"ok\":true");
    } else if (n > 0 && (line->data[0] == '[' || line->data[0] == '{')) {
        buf_append_str(out, "{\"answer\":");
        buf_append(out, line->data, n);
    } else {
        buf_append_str(out, "{\"answer\":");
        json_append_string(out, line->data, n);
    }
    buf_append_str(out, "}\n");
}

/*
 * Copies `text` for the log, up to its first line end and at most outlen - 1 bytes, with every
 * other control character replaced by '?': words and answers come from the request, and a line
 * end in them could forge log lines.
 */
static void loggable(const char *text, char *out, size_t outlen)
{
    size_t n = 0;
    for (; text && text[n] && text[n] != '\n' && n + 1 < outlen; n++) {
        unsigned char ch = (unsigned char)text[n];
        out[n] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[n] = '\0';
}

/* The command's words as they may be logged: passwords become "***". */
static void loggable_words(const RequestWords *w, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    bool create_user =
        w->n >= 2 && request_word_is(w->word[0], "create") && request_word_is(w->word[1], "user");
    bool set_password =
        w->n >= 3 && request_word_is(w->word[0], "update") && request_word_is(w->word[1], "user") &&
        (request_word_is(w->word[2], "password") || request_word_is(w->word[2], "verifier"));
    for (int i = 0; i < w->n && len + 1 < outlen; i++) {
        const char *word = w->word[i];
        if ((create_user && i == 3) || (set_password && i == 4))
            word = "***";
        char clean[160];
        loggable(word, clean, sizeof(clean));
        int k = snprintf(out + len, outlen - len, "%s%s", i ? " " : "", clean);
        if (k < 0)
            break;
        len += (size_t)k;
    }
}

/*
 * POST /api/command, words w=...&w=...: a command of the table that the
 * page offers (creating, renaming, dropping, granting, listing, stats,
 * backup and restore, the sessions and their cancel and terminate). The
 * handler decides whether this user may run it; the page adds no rule.
 */
static void route_command(Admin *a, AdminSession *as, HttpRequest *r)
{
    static const char *const allowed[] = {"create", "update", "drop",     "grant",  "revoke",
                                          "list",   "stats",  "backup",   "verify", "restore",
                                          "show",   "cancel", "terminate"};
    RequestWords w = {0};
    while (w.n < REQUEST_MAX_WORDS && http_param(r, "w", w.n))
        w.word[w.n] = (char *)http_param(r, "w", w.n), w.n++;
    if (http_param(r, "w", w.n)) {
        reply_error(r, 400, "Bad Request: too many words");
        return;
    }
    bool ok = false;
    for (size_t i = 0; w.n > 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
        ok = ok || request_word_is(w.word[0], allowed[i]);
    if (!ok) {
        reply_error(r, 400, "Bad Request: the page does not run this command");
        return;
    }
    /* `cancel ID KEY` is the keyed form for clients not logged in: not the page's. */
    if (request_word_is(w.word[0], "cancel") && w.n != 2) {
        reply_error(r, 400, "Bad Request: usage: cancel SESSION-ID");
        return;
    }
    Buf line = BUF_INIT, body = BUF_INIT;
    run_command(a, as, &w, &line);
    buf_putc(&line, '\0');
    line.len--;
    /* Every action is logged; reading (list, stats, show sessions) is not. */
    if (!request_word_is(w.word[0], "list") && !request_word_is(w.word[0], "stats") &&
        !request_word_is(w.word[0], "show")) {
        char words[512];
        loggable_words(&w, words, sizeof(words));
        char answer[128];
        loggable(line.data, answer, sizeof(answer));
        log_info("admin: user %s from %s: %s -> %s", as->s->user.name, http_peer(r), words, answer);
    }
    answer_json(&line, &body);
    reply_buf(r, status_of(line.data), "application/json", &body);
    buf_free(&line);
    buf_free(&body);
}

typedef struct Sink {
    Buf all;
    bool overflow;
} Sink;

/* QueryIo.flush for the console: keeps the answer up to ADMIN_RESULT_MAX, drops the rest. */
static int sink_flush(void *ctx, Buf *out)
{
    Sink *k = ctx;
    if (k->all.len + out->len > ADMIN_RESULT_MAX)
        k->overflow = true;
    if (!k->overflow)
        buf_append(&k->all, out->data, out->len);
    out->len = 0;
    return 0;
}

/*
 * POST /api/query (database, sql): connects the session to `database`
 * through the `connect` handler when it is not there yet (the grant check),
 * then runs the SQL as a typed request through session_handle() (the
 * access check, limits, timeouts). The answer: {"seconds": S, "result":
 * {...}} or {"seconds": S, "error": TEXT}.
 */
static void route_query(Admin *a, AdminSession *as, HttpRequest *r)
{
    const char *db = http_param(r, "database", 0);
    const char *sql = http_param(r, "sql", 0);
    if (!db || !sql || !*sql) {
        reply_error(r, 400, "Bad Request: database and sql are needed");
        return;
    }
    Buf line = BUF_INIT, text = BUF_INIT, body = BUF_INIT;
    Sink sink = {BUF_INIT, false};
    Session *s = as->s;
    if (s->state != SESSION_CONNECTED || strcmp(s->database, db) != 0) {
        RequestWords w = {.n = 2, .word = {"connect", (char *)db}};
        run_command(a, as, &w, &line);
        if (strncmp(line.data, "success", 7) != 0) {
            buf_putc(&line, '\0');
            line.len--;
            char answer[128], name[CATALOG_NAME_MAX + 1];
            loggable(line.data, answer, sizeof(answer));
            loggable(db, name, sizeof(name));
            log_info("admin: user %s from %s: connect %s -> %s", s->user.name, http_peer(r), name,
                     answer);
            answer_json(&line, &body);
            reply_buf(r, status_of(line.data), "application/json", &body);
            goto out;
        }
    }
    buf_append_str(&text, "query {\"sql\":");
    json_append_string(&text, sql, strlen(sql));
    buf_append_str(&text, "}");
    buf_putc(&text, '\0');
    text.len--;
    log_info("admin: user %s from %s: query on %s (%zu bytes of SQL)", s->user.name, http_peer(r),
             s->database, strlen(sql));
    QueryIo io = {.out = &line, .flush = sink_flush, .ctx = &sink, .client_fd = -1};
    line.len = 0;
    double start = now_sec();
    session_handle(s, a->env, REQUEST_OK, text.data, text.len, &io);
    sink_flush(&sink, &line);
    double seconds = now_sec() - start;
    buf_printf(&body, "{\"seconds\":%.6f,", seconds);
    /* The last line is the answer or, after rows that streamed, the error. */
    size_t n = sink.all.len;
    while (n > 0 && sink.all.data[n - 1] == '\n')
        n--;
    size_t last = n;
    while (last > 0 && sink.all.data[last - 1] != '\n')
        last--;
    int status = 200;
    if (sink.overflow) {
        status = 400;
        buf_printf(&body,
                   "\"error\":\"the result is larger than %d MiB, more than the console "
                   "shows: add a LIMIT or aggregate\"}\n",
                   ADMIN_RESULT_MAX / (1024 * 1024));
    } else if (n - last >= 7 && memcmp(sink.all.data + last, "Error: ", 7) == 0) {
        buf_append_str(&body, "\"error\":");
        json_append_string(&body, sink.all.data + last + 7, n - last - 7);
        buf_append_str(&body, "}\n");
        status = strncmp(sink.all.data + last + 7, "Access Denied", 13) == 0 ? 403 : 400;
    } else {
        buf_append_str(&body, "\"result\":");
        buf_append(&body, sink.all.data, n);
        buf_append_str(&body, "}\n");
    }
    reply_buf(r, status, "application/json", &body);
    /* Outside a transaction the session leaves the database, so that an idle page holds no
     * pin in the pool (the next query connects again, a pool hit). */
    if (s->state == SESSION_CONNECTED && !s->in_tx) {
        RequestWords w = {.n = 1, .word = {"disconnect"}};
        line.len = 0;
        run_command(a, as, &w, &line);
    }
out:
    buf_free(&line);
    buf_free(&text);
    buf_free(&body);
    buf_free(&sink.all);
}

/*
 * GET /api/databases: the `list databases` answer (every database for the
 * super user, the granted ones with their grant for others) and, for the
 * super user, each database's size on disk, pool state, sessions and link
 * (dbstatus.h).
 */
static void route_databases(Admin *a, AdminSession *as, HttpRequest *r)
{
    Buf line = BUF_INIT, body = BUF_INIT;
    RequestWords w = {.n = 2, .word = {"list", "databases"}};
    run_command(a, as, &w, &line);
    buf_putc(&line, '\0');
    line.len--;
    if (line.data[0] != '[') {
        answer_json(&line, &body);
        reply_buf(r, status_of(line.data), "application/json", &body);
        goto out;
    }
    buf_append_str(&body, "{\"databases\":");
    buf_append(&body, line.data, line.len - 1);
    buf_append_str(&body, ",\"state\":");
    if (as->s->user.super)
        dbstatus_json(a->env->catalog, a->env->pool, &body);
    else
        buf_append_str(&body, "{}");
    buf_append_str(&body, "}\n");
    reply_buf(r, 200, "application/json", &body);
out:
    buf_free(&line);
    buf_free(&body);
}

/*
 * GET /api/overview: the `stats` answer (super user only, by its handler)
 * with the request totals and the uptime, which the page polls for its charts.
 */
static void route_overview(Admin *a, AdminSession *as, HttpRequest *r)
{
    Buf line = BUF_INIT, body = BUF_INIT;
    RequestWords w = {.n = 1, .word = {"stats"}};
    run_command(a, as, &w, &line);
    buf_putc(&line, '\0');
    line.len--;
    if (line.data[0] != '{') {
        answer_json(&line, &body);
        reply_buf(r, status_of(line.data), "application/json", &body);
        goto out;
    }
    uint64_t requests, errors, sql;
    double sql_seconds;
    metrics_totals(&requests, &errors, &sql, &sql_seconds);
    buf_printf(&body,
               "{\"uptime\":%.3f,\"requests\":%llu,\"errors\":%llu,\"queries\":%llu,"
               "\"query_seconds\":%.6f,\"pg_port\":%d,\"admin_sessions\":%d,\"stats\":",
               (double)(now_ms() - a->started_ms) / 1000.0, (unsigned long long)requests,
               (unsigned long long)errors, (unsigned long long)sql, sql_seconds,
               a->env->cfg->pg_port, page_sessions(a));
    buf_append(&body, line.data, line.len - 1);
    buf_append_str(&body, "}\n");
    reply_buf(r, 200, "application/json", &body);
out:
    buf_free(&line);
    buf_free(&body);
}

static void me_json(AdminSession *as, Buf *out)
{
    buf_append_str(out, "{\"user\":");
    json_append_string(out, as->s->user.name, strlen(as->s->user.name));
    /* `session`: this page's own row in `show sessions` (its cancel id). */
    buf_printf(out, ",\"super\":%s,\"session\":%llu,\"csrf\":\"%s\"}\n",
               as->s->user.super ? "true" : "false", (unsigned long long)as->s->cancel.id,
               as->csrf);
}

/* POST /api/login (user, password): the `login` handler, with the throttle, on a new Session. */
static void route_login(Admin *a, HttpRequest *r)
{
    const char *user = http_param(r, "user", 0);
    const char *password = http_param(r, "password", 0);
    if (!user || !password) {
        reply_error(r, 400, "Bad Request: user and password are needed");
        return;
    }
    sweep(a);
    Session *s = session_new();
    snprintf(s->login.addr, sizeof(s->login.addr), "%s", http_peer(r));
    s->login.throttle = a->throttle;
    RequestWords w = {.n = 3, .word = {"login", (char *)user, (char *)password}};
    Buf line = BUF_INIT, body = BUF_INIT;
    const SessionCommand *c = session_command_find(&w);
    session_command_run(c, s, a->env, &w, &line);
    buf_putc(&line, '\0');
    line.len--;
    if (s->state != SESSION_AUTHED) {
        int status = strstr(line.data, "Too Many") ? 429 : 401;
        session_free(s, a->env);
        answer_json(&line, &body);
        reply_buf(r, status, "application/json", &body);
        goto out;
    }
    AdminSession *as = xcalloc(1, sizeof(*as));
    random_token(as->id);
    random_token(as->csrf);
    snprintf(as->addr, sizeof(as->addr), "%s", http_peer(r));
    as->s = s;
    pthread_mutex_init(&as->use, NULL);
    as->last_ms = now_ms();
    bool placed = false;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < ADMIN_SESSIONS_MAX && !placed; i++) {
        if (!a->sessions[i]) {
            a->sessions[i] = as;
            placed = true;
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (!placed) {
        session_destroy(a, as);
        reply_error(r, 503, "Service Unavailable: too many sessions of the admin page");
        goto out;
    }
    log_info("admin: user %s logged in from %s", s->user.name, http_peer(r));
    char cookie[256];
    snprintf(cookie, sizeof(cookie), COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict%s", as->id,
             a->tls ? "; Secure" : "");
    http_header_add(r, "Set-Cookie", cookie);
    me_json(as, &body);
    reply_buf(r, 200, "application/json", &body);
out:
    buf_free(&line);
    buf_free(&body);
}

static void route_logout(Admin *a, AdminSession *as, HttpRequest *r)
{
    log_info("admin: user %s logged out from %s", as->s->user.name, http_peer(r));
    pthread_mutex_lock(&a->lock);
    as->dead = true;
    pthread_mutex_unlock(&a->lock);
    http_header_add(r, "Set-Cookie", COOKIE_NAME "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    http_reply(r, 200, "application/json", "{\"ok\":true}\n", 12);
}

/*
 * GET /metrics: who may read it is decided here (loopback, or the bearer
 * MetricsToken); what it says is admin_metrics.c's.
 */
static void route_metrics(Admin *a, HttpRequest *r)
{
    const Config *cfg = a->env->cfg;
    if (!http_peer_loopback(r)) {
        const char *auth = http_header(r, "Authorization");
        if (!cfg->metrics_token[0] || !auth || strncmp(auth, "Bearer ", 7) != 0 ||
            !same_secret(auth + 7, cfg->metrics_token)) {
            http_header_add(r, "WWW-Authenticate", "Bearer realm=\"tcp-duckdb metrics\"");
            reply_error(r, 401, "Unauthorized: /metrics needs MetricsToken from this address");
            return;
        }
    }
    Buf b = BUF_INIT;
    adminmetrics_write(a->env, page_sessions(a), a->started_wall, a->started_ms, &b);
    http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    buf_free(&b);
}

static bool serve_asset(HttpRequest *r, const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const WebAsset *w = web_assets; w->path; w++) {
        if (strcmp(w->path, path) == 0) {
            http_reply(r, 200, w->type, w->data, w->len);
            return true;
        }
    }
    return false;
}

/* A POST from a page of another origin (the Origin header names it) is refused. */
static bool same_origin(HttpRequest *r, bool tls)
{
    const char *origin = http_header(r, "Origin");
    const char *host = http_header(r, "Host");
    if (!origin)
        return true;
    if (!host)
        return false;
    const char *scheme = tls ? "https://" : "http://";
    size_t sl = strlen(scheme);
    return strncmp(origin, scheme, sl) == 0 && strcmp(origin + sl, host) == 0;
}

static void handle(HttpRequest *r, void *ctx)
{
    Admin *a = ctx;
    const char *path = http_path(r);
    HttpMethod m = http_method(r);
    security_headers(r);
    if (m == HTTP_GET && strcmp(path, "/metrics") == 0) {
        route_metrics(a, r);
        return;
    }
    if (m == HTTP_GET && strncmp(path, "/api/", 5) != 0) {
        if (!serve_asset(r, path))
            reply_error(r, 404, "Not Found");
        return;
    }
    if (m == HTTP_POST && !same_origin(r, a->tls)) {
        reply_error(r, 403, "Forbidden: cross-origin request");
        return;
    }
    if (m == HTTP_POST && strcmp(path, "/api/login") == 0) {
        route_login(a, r);
        return;
    }
    AdminSession *as = acquire(a, r);
    if (!as) {
        reply_error(r, 401, "Unauthorized: log in");
        return;
    }
    if (m == HTTP_POST) {
        const char *token = http_header(r, "X-CSRF-Token");
        if (!token || !same_secret(token, as->csrf)) {
            char where[128];
            loggable(path, where, sizeof(where));
            log_warn("admin: request %s of user %s from %s refused: missing or wrong CSRF token",
                     where, as->s->user.name, http_peer(r));
            reply_error(r, 403, "Forbidden: missing or wrong CSRF token");
            release(a, as);
            return;
        }
    }
    if (m == HTTP_GET && strcmp(path, "/api/me") == 0) {
        Buf b = BUF_INIT;
        me_json(as, &b);
        reply_buf(r, 200, "application/json", &b);
        buf_free(&b);
    } else if (m == HTTP_GET && strcmp(path, "/api/databases") == 0) {
        route_databases(a, as, r);
    } else if (m == HTTP_GET && strcmp(path, "/api/overview") == 0) {
        route_overview(a, as, r);
    } else if (m == HTTP_POST && strcmp(path, "/api/command") == 0) {
        route_command(a, as, r);
    } else if (m == HTTP_POST && strcmp(path, "/api/query") == 0) {
        route_query(a, as, r);
    } else if (m == HTTP_POST && strcmp(path, "/api/logout") == 0) {
        route_logout(a, as, r);
    } else {
        reply_error(r, 404, "Not Found");
    }
    release(a, as);
}

int admin_start(const SessionEnv *env, TlsServer *tls, Throttle *throttle, Admin **out, char *err,
                size_t errlen)
{
    *out = NULL;
    if (env->cfg->admin_port == 0)
        return 0;
    Admin *a = xcalloc(1, sizeof(*a));
    a->env = env;
    a->throttle = throttle;
    a->tls = tls != NULL;
    a->started_ms = now_ms();
    a->started_wall = time(NULL);
    pthread_mutex_init(&a->lock, NULL);
    if (http_server_start(env->cfg->admin_addr, env->cfg->admin_port, tls, handle, a, &a->http, err,
                          errlen) != 0) {
        pthread_mutex_destroy(&a->lock);
        free(a);
        return -1;
    }
    log_info("admin page on %s://%s:%d/", tls ? "https" : "http", env->cfg->admin_addr,
             http_server_port(a->http));
    *out = a;
    return 0;
}

void admin_stop(Admin *a)
{
    if (!a)
        return;
    http_server_stop(a->http);
    for (int i = 0; i < ADMIN_SESSIONS_MAX; i++)
        if (a->sessions[i])
            session_destroy(a, a->sessions[i]);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
