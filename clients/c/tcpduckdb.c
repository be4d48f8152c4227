/*
 * tcpduckdb.c: the requests of libtcpduckdb (tcpduckdb.h): commands, login, transactions, typed
 * queries and their JSON parameters. Each request checks the connection's state, builds its
 * line in the connection's request buffer, sends it (tdb_io.c) and reads the answer
 * (tdb_answer.c); the state changes READY -> SENT -> READY for tdb_send_query() and
 * tdb_get_result(), and READY -> STREAMING for a streamed answer.
 */
#include "tdb_internal.h"

#include <openssl/crypto.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- commands ------------------------------------------------------------------------- */

/* Whether `text` is the transaction command `verb` in one of the forms the server takes
 * (src/session.c: the words case-insensitive, blanks and one ';' around them). */
static bool is_tx_command(const char *text, const char *const *forms)
{
    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
        text++;
    size_t len = strlen(text);
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        len--;
    if (len > 0 && text[len - 1] == ';')
        len--;
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        len--;
    char norm[32];
    size_t n = 0;
    bool space = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            space = n > 0;
            continue;
        }
        if (n + 2 >= sizeof(norm))
            return false;
        if (space)
            norm[n++] = ' ';
        space = false;
        norm[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    norm[n] = '\0';
    for (size_t i = 0; forms[i]; i++)
        if (strcmp(norm, forms[i]) == 0)
            return true;
    return false;
}

/* Follows the transaction status (tdb_transaction_status_of) through a request's outcome;
 * server errors inside a transaction are seen by tdb__server_error(). */
static void track_transaction(tdb_conn *c, const char *text, int rc)
{
    static const char *const begins[] = {"start transaction", "begin", "begin transaction", NULL};
    static const char *const ends[] = {
        "commit",          "commit transaction", "end",
        "end transaction", "rollback",           "rollback transaction",
        "abort",           "abort transaction",  NULL};
    if (is_tx_command(text, begins)) {
        if (rc == 0)
            c->tx = TDB_TRANS_INTRANS;
    } else if (is_tx_command(text, ends)) {
        /* A commit that fails (an aborted transaction) ends it too; so does a rollback
         * answered `no transaction`. A lost connection has no transaction either. */
        c->tx = TDB_TRANS_IDLE;
    }
}

int tdb_command(tdb_conn *c, const char *text, char **out_answer)
{
    if (out_answer)
        *out_answer = NULL;
    int rc = tdb__check_ready(c);
    if (rc != 0)
        return rc;
    if (!text)
        return tdb__set_error(c, TDB_EINVAL, "no request text");
    rc = tdb__send_request(c, text, strlen(text));
    if (rc == 0)
        rc = tdb__read_answer(c, out_answer);
    if (rc == 0)
        tdb__set_error(c, TDB_OK, "%s", "");
    track_transaction(c, text, rc);
    return rc;
}

/* Sends text and expects the answer `success`. */
static int command_success(tdb_conn *c, const char *text)
{
    char *answer = NULL;
    int rc = tdb_command(c, text, &answer);
    if (rc == 0 && strcmp(answer, "success") != 0)
        rc = tdb__set_error(c, TDB_EPROTO, "unexpected answer: %.200s", answer);
    free(answer);
    return rc;
}

/* Appends a word quoted for the server's splitter: "..." with \" and \\. */
static int put_quoted_word(Str *s, const char *word)
{
    int rc = tdb__str_putc(s, '"');
    for (const char *p = word; *p && rc == 0; p++) {
        if (*p == '"' || *p == '\\')
            rc = tdb__str_putc(s, '\\');
        if (rc == 0)
            rc = tdb__str_putc(s, *p);
    }
    if (rc == 0)
        rc = tdb__str_putc(s, '"');
    return rc;
}

/* Keeps a copy of a login or database name for tdb_reset (the old one wiped). */
static int remember(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -1;
    if (*slot)
        OPENSSL_cleanse(*slot, strlen(*slot));
    free(*slot);
    *slot = copy;
    return 0;
}

int tdb_login(tdb_conn *c, const char *user, const char *password)
{
    if (!user || !password)
        return tdb__set_error(c, TDB_EINVAL, "no user or password");
    Str s = {0};
    int rc = tdb__str_puts(&s, "login ");
    if (rc == 0)
        rc = put_quoted_word(&s, user);
    if (rc == 0)
        rc = tdb__str_putc(&s, ' ');
    if (rc == 0)
        rc = put_quoted_word(&s, password);
    rc = rc != 0 ? tdb__set_error(c, TDB_ENOMEM, "out of memory") : command_success(c, s.p);
    if (rc == 0 && (remember(&c->user, user) != 0 || remember(&c->password, password) != 0))
        rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
    /* The request held the password: do not leave it in freed memory. */
    if (s.p)
        memset(s.p, 0, s.cap);
    if (c->req.p)
        memset(c->req.p, 0, c->req.cap);
    tdb__str_free(&s);
    if (rc == 0)
        c->cancel_asked = false; /* a new session: its key may be asked for */
    return rc;
}

int tdb_connect_database(tdb_conn *c, const char *database)
{
    if (!database)
        return tdb__set_error(c, TDB_EINVAL, "no database name");
    Str s = {0};
    int rc = tdb__str_puts(&s, "connect ");
    if (rc == 0)
        rc = put_quoted_word(&s, database);
    rc = rc != 0 ? tdb__set_error(c, TDB_ENOMEM, "out of memory") : command_success(c, s.p);
    if (rc == 0 && remember(&c->dbname, database) != 0)
        rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
    tdb__str_free(&s);
    return rc;
}

int tdb_begin(tdb_conn *c)
{
    return command_success(c, "start transaction");
}

int tdb_commit(tdb_conn *c)
{
    return command_success(c, "commit");
}

int tdb_rollback(tdb_conn *c)
{
    return command_success(c, "rollback");
}

/* ---- cancel --------------------------------------------------------------------------- */

struct tdb_cancel_handle {
    char *host;
    int port;
    int timeout_ms;
    tdb_sslmode sslmode;
    char *sslrootcert, *sslcert, *sslkey;
    uint64_t id;
    char key[33];
};

/*
 * Parses the answer to `session key`, `{"session":ID,"key":"32 hex digits"}`, exactly as the
 * server writes it; -1 for anything else.
 */
static int parse_session_key(const char *answer, uint64_t *out_id, char out_key[33])
{
    static const char head[] = "{\"session\":", mid[] = ",\"key\":\"", tail[] = "\"}";
    const char *p = answer;
    uint64_t id = 0;
    if (strncmp(p, head, sizeof(head) - 1) != 0)
        return -1;
    p += sizeof(head) - 1;
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (id > (UINT64_MAX - digit) / 10)
            return -1;
        id = id * 10 + digit;
    }
    if (strncmp(p, mid, sizeof(mid) - 1) != 0)
        return -1;
    p += sizeof(mid) - 1;
    if (strspn(p, "0123456789abcdef") != 32 || strcmp(p + 32, tail) != 0)
        return -1;
    memcpy(out_key, p, 32);
    out_key[32] = '\0';
    *out_id = id;
    return 0;
}

/* A copy of an optional string: 0, or -1 when out of memory. */
static int dup_opt(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

/* Asks the server for the session's cancel id and key (`session key`) unless known. */
static int fetch_session_key(tdb_conn *c)
{
    if (c->cancel_id != 0)
        return 0;
    char *answer = NULL;
    int rc = tdb_command(c, "session key", &answer);
    if (rc == 0 && parse_session_key(answer, &c->cancel_id, c->cancel_key) != 0)
        rc = tdb__set_error(c, TDB_EPROTO, "unexpected answer to session key: %.200s", answer);
    free(answer);
    return rc;
}

tdb_cancel_handle *tdb_get_cancel(tdb_conn *c)
{
    if (!c)
        return NULL;
    if (fetch_session_key(c) != 0)
        return NULL;
    tdb_cancel_handle *h = calloc(1, sizeof(*h));
    if (!h || dup_opt(&h->host, c->host) || dup_opt(&h->sslrootcert, c->sslrootcert) ||
        dup_opt(&h->sslcert, c->sslcert) || dup_opt(&h->sslkey, c->sslkey)) {
        tdb_free_cancel(h);
        tdb__set_error(c, TDB_ENOMEM, "out of memory");
        return NULL;
    }
    h->port = c->port;
    h->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    h->sslmode = c->sslmode;
    h->id = c->cancel_id;
    memcpy(h->key, c->cancel_key, sizeof(h->key));
    return h;
}

int tdb_cancel(const tdb_cancel_handle *h, char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!h) {
        if (errbuf && errbuf_size)
            snprintf(errbuf, errbuf_size, "no cancel handle");
        return TDB_EINVAL;
    }
    tdb_conn *c = tdb_conn_new();
    if (!c) {
        if (errbuf && errbuf_size)
            snprintf(errbuf, errbuf_size, "out of memory");
        return TDB_ENOMEM;
    }
    tdb_tls_options o = {.sslmode = h->sslmode,
                         .sslrootcert = h->sslrootcert,
                         .sslcert = h->sslcert,
                         .sslkey = h->sslkey};
    char line[96];
    char *answer = NULL;
    int rc = tdb_set_tls(c, &o);
    if (rc == 0) {
        tdb_set_timeout(c, h->timeout_ms);
        rc = tdb_connect(c, h->host, h->port, h->timeout_ms);
    }
    if (rc == 0) {
        snprintf(line, sizeof(line), "cancel %" PRIu64 " %s", h->id, h->key);
        rc = tdb_command(c, line, &answer);
    }
    if (rc == 0 && strcmp(answer, "success") != 0)
        rc = tdb__set_error(c, TDB_EPROTO, "unexpected answer to cancel: %.200s", answer);
    if (rc != 0 && errbuf && errbuf_size)
        snprintf(errbuf, errbuf_size, "%s", tdb_error(c));
    free(answer);
    tdb_close(c);
    return rc;
}

void tdb_free_cancel(tdb_cancel_handle *h)
{
    if (!h)
        return;
    free(h->host);
    free(h->sslrootcert);
    free(h->sslcert);
    free(h->sslkey);
    free(h);
}

/* ---- parameters ----------------------------------------------------------------------- */

tdb_param tdb_param_text(const char *text)
{
    return tdb_param_text_len(text, text ? strlen(text) : 0);
}

/* A double as the shortest JSON number that reads back the same, always with a '.' or 'e'. */
static int put_double(Str *s, double d)
{
    if (isnan(d))
        return tdb__str_puts(s, "\"NaN\"");
    if (isinf(d))
        return tdb__str_puts(s, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    char num[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(num, sizeof(num), "%.*g", prec, d);
        if (strtod(num, NULL) == d)
            break;
    }
    if (!strpbrk(num, ".eE"))
        strcat(num, ".0");
    return tdb__str_puts(s, num);
}

static int put_param(Str *s, const tdb_param *p)
{
    static const char hex[] = "0123456789abcdef";
    char num[32];
    switch (p->kind) {
    case TDB_PARAM_NULL:
        return tdb__str_puts(s, "null");
    case TDB_PARAM_BOOL:
        return tdb__str_puts(s, p->v.b ? "true" : "false");
    case TDB_PARAM_INT64:
        snprintf(num, sizeof(num), "%" PRId64, p->v.i);
        return tdb__str_puts(s, num);
    case TDB_PARAM_DOUBLE:
        return put_double(s, p->v.d);
    case TDB_PARAM_TEXT:
        if (!p->v.bytes.ptr && p->v.bytes.len)
            return TDB_EINVAL;
        return tdb__str_put_json_string(s, p->v.bytes.ptr ? p->v.bytes.ptr : "", p->v.bytes.len);
    case TDB_PARAM_BLOB: {
        const unsigned char *b = p->v.bytes.ptr;
        if (!b && p->v.bytes.len)
            return TDB_EINVAL;
        if (tdb__str_puts(s, "{\"blob\":\"") != 0 ||
            tdb__str_reserve(s, 2 * p->v.bytes.len + 2) != 0)
            return TDB_ENOMEM;
        for (size_t i = 0; i < p->v.bytes.len; i++) {
            s->p[s->len++] = hex[b[i] >> 4];
            s->p[s->len++] = hex[b[i] & 15];
        }
        s->p[s->len] = '\0';
        return tdb__str_puts(s, "\"}");
    }
    }
    return TDB_EINVAL;
}

/* Builds `query {"sql":...,"params":[...]}` in c->req. */
static int build_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams)
{
    Str *s = &c->req;
    s->len = 0;
    int rc = tdb__str_puts(s, "query {\"sql\":");
    if (rc == 0)
        rc = tdb__str_put_json_string(s, sql, strlen(sql));
    if (rc == 0 && nparams > 0) {
        rc = tdb__str_puts(s, ",\"params\":[");
        for (size_t i = 0; i < nparams && rc == 0; i++) {
            if (i)
                rc = tdb__str_putc(s, ',');
            if (rc == 0)
                rc = put_param(s, &params[i]);
            if (rc == TDB_EINVAL)
                return tdb__set_error(c, TDB_EINVAL, "parameter %zu has no bytes or a bad kind",
                                      i + 1);
        }
        if (rc == 0)
            rc = tdb__str_putc(s, ']');
    }
    if (rc == 0)
        rc = tdb__str_putc(s, '}');
    return rc == 0 ? 0 : tdb__set_error(c, TDB_ENOMEM, "out of memory");
}

/* After a typed query: one that succeeded inside a transaction marked failed shows that DuckDB
 * did not abort it (an error of parsing or binding leaves it usable). Returns rc. */
static int sql_done(tdb_conn *c, int rc)
{
    if (rc == 0 && c->tx == TDB_TRANS_INERROR)
        c->tx = TDB_TRANS_INTRANS;
    return rc;
}

/* Sends a typed query; its answer is next on the connection. */
static int send_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams)
{
    int rc = tdb__check_ready(c);
    if (rc != 0)
        return rc;
    if (!sql || (nparams && !params))
        return tdb__set_error(c, TDB_EINVAL, "no SQL text or no parameters");
    if ((rc = build_query(c, sql, params, nparams)) != 0)
        return rc;
    c->busy_scan = 0;
    return tdb__send_request(c, c->req.p, c->req.len);
}

static int fetch_session_key(tdb_conn *c);

int tdb_query_start(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams,
                    tdb_result **out_result)
{
    *out_result = NULL;
    /* The session's cancel key, asked for before its first streamed query (one round trip
     * per session), since tdb_query_end() may need it in the middle of an answer, when the
     * connection cannot ask. A refusal (not logged in, a server without cancel requests) is
     * not an error and is not asked again: abandoned results are then read to their end. */
    if (c && c->state == CONN_READY && c->cancel_id == 0 && !c->cancel_asked) {
        c->cancel_asked = true;
        if (fetch_session_key(c) != 0) {
            if (!tdb_is_connected(c))
                return c->err_status; /* the connection died on the way */
            tdb__set_error(c, TDB_OK, "%s", "");
        }
    }
    int rc = send_query(c, sql, params, nparams);
    return sql_done(c, rc != 0 ? rc : tdb__read_header(c, true, out_result));
}

int tdb_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams,
              tdb_result **out_result)
{
    *out_result = NULL;
    int rc = send_query(c, sql, params, nparams);
    return sql_done(c, rc != 0 ? rc : tdb__read_result(c, out_result));
}

int tdb_send_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams)
{
    int rc = 0;
    if (c->nonblocking) {
        if ((rc = tdb__check_ready(c)) != 0)
            return rc;
        if (!sql || (nparams && !params))
            return tdb__set_error(c, TDB_EINVAL, "no SQL text or no parameters");
        if ((rc = build_query(c, sql, params, nparams)) != 0)
            return rc;
        c->busy_scan = 0;
        rc = tdb__queue_request(c, c->req.p, c->req.len);
    } else {
        rc = send_query(c, sql, params, nparams);
    }
    if (rc == 0)
        c->state = CONN_SENT;
    return rc;
}

int tdb_get_result(tdb_conn *c, tdb_result **out_result)
{
    *out_result = NULL;
    if (c->state != CONN_SENT)
        return c->state == CONN_READY
                   ? tdb__set_error(c, TDB_EINVAL, "no query was sent (tdb_send_query)")
                   : tdb__check_ready(c);
    int rc = tdb__send_queued(c); /* nonblocking: what tdb_flush has not sent yet */
    if (rc != 0)
        return rc;
    c->state = CONN_READY;
    return sql_done(c, tdb__read_result(c, out_result));
}

/* ---- escaping ------------------------------------------------------------------------- */

/* Whether bytes[0, len) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool valid_utf8(const unsigned char *b, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c0 = b[i];
        size_t n = c0 < 0x80             ? 1
                   : (c0 & 0xe0) == 0xc0 ? 2
                   : (c0 & 0xf0) == 0xe0 ? 3
                   : (c0 & 0xf8) == 0xf0 ? 4
                                         : 0;
        if (n == 0 || i + n > len)
            return false;
        uint32_t cp = n == 1 ? c0 : n == 2 ? c0 & 0x1fu : n == 3 ? c0 & 0x0fu : c0 & 0x07u;
        for (size_t k = 1; k < n; k++) {
            if ((b[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (b[i + k] & 0x3fu);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

/* `quote` + str with every `quote` doubled + `quote`. */
static char *escape_quoted(const char *str, size_t len, char quote)
{
    if (!str)
        return NULL;
    const char *nul = memchr(str, '\0', len);
    if (nul)
        len = (size_t)(nul - str);
    if (!valid_utf8((const unsigned char *)str, len))
        return NULL;
    size_t quotes = 0;
    for (size_t i = 0; i < len; i++)
        quotes += str[i] == quote;
    if (len > (SIZE_MAX - 3) / 2)
        return NULL;
    char *out = malloc(len + quotes + 3);
    if (!out)
        return NULL;
    size_t n = 0;
    out[n++] = quote;
    for (size_t i = 0; i < len; i++) {
        if (str[i] == quote)
            out[n++] = quote;
        out[n++] = str[i];
    }
    out[n++] = quote;
    out[n] = '\0';
    return out;
}

char *tdb_escape_literal(const char *str, size_t len)
{
    return escape_quoted(str, len, '\'');
}

char *tdb_escape_identifier(const char *str, size_t len)
{
    return escape_quoted(str, len, '"');
}
