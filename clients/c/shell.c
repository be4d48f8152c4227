/*
 * tcp-duckdb-cli: the interactive shell of TCP-DuckDB, built on libtcpduckdb.
 *
 * Input comes from -c texts, -f files, stdin when it is not a terminal, or
 * the terminal through libedit (history in ~/.tcpduckdb_history). Every
 * source is fed line by line to one splitter: a line that starts a server
 * command (login, create database, grant, connect, list, begin, commit, ...)
 * is sent at once as one line; anything else is SQL, collected until a `;`
 * outside quotes and comments, and run as a typed query. Lines starting with
 * a backslash are shell commands (\? lists them).
 *
 * As psql, a script goes on after an error unless ON_ERROR_STOP is set: exit
 * status 1 when a request failed, 2 for usage and connection problems, 3 when
 * ON_ERROR_STOP ended the script, 0 otherwise. psql's printing settings
 * (\pset, \x, -t -A -F -o -q), variables (\set, :name), \d and \l, the pager and
 * tab completion are described in clients/c/README.md.
 *
 * Ctrl-C (SIGINT), as in psql: while a request runs, it cancels it (a cancel
 * request on a second connection, docs/protocol.md "Cancel"); the request
 * then fails with the server's Canceled error and the shell goes on (a
 * script stops, as at any error). At the interactive prompt it throws away
 * the line and the statement being collected and shows a new prompt. A
 * signal handler may not connect or allocate, so it only hands the cancel
 * handle through a pipe to a thread that sends the cancel; at the prompt it
 * jumps out of readline() (siglongjmp), which libedit allows: its own
 * handler restores the terminal before passing the signal on, and the next
 * readline() starts from an empty line. Anywhere else a script ends as
 * SIGINT ends it by default; the interactive shell ignores it.
 */
#include "shell_copy.h"
#include "shell_edit.h"
#include "tcpduckdb.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#ifndef TCPDUCKDB_VERSION
#define TCPDUCKDB_VERSION "dev"
#endif

enum { EXIT_SQL = 1, EXIT_USAGE = 2, EXIT_STOPPED = 3 };

typedef enum { MODE_TABLE, MODE_UNALIGNED, MODE_CSV, MODE_JSON, MODE_LINE } OutputMode;

/* A \\set variable. */
typedef struct {
    char *name;
    char *value;
} Var;

/* Where the splitter is inside the SQL collected so far. */
typedef enum {
    LEX_NORMAL,
    LEX_SQUOTE,
    LEX_DQUOTE,
    LEX_LINE_COMMENT,
    LEX_BLOCK_COMMENT,
    LEX_DOLLAR
} LexState;

typedef struct {
    tdb_conn *conn;
    tdb_cancel_handle *cancel; /* the session's, once logged in (NULL: Ctrl-C cannot cancel) */
    OutputMode mode;
    bool timing;
    bool interactive;
    bool quit;
    int status; /* exit status so far */
    char database[128];
    /* Where the shell is connected, for \conninfo. */
    const char *host;
    long port;
    const char *user;
    /* The SQL statement being collected, and how far it was scanned. */
    char *sql;
    size_t sql_len;
    size_t sql_cap;
    size_t scanned;
    LexState lex;
    char dollar_tag[64];
    char *last_sql; /* the last statement run, for \g with nothing collected */
    FILE *input;    /* the source being read (\copy ... FROM stdin reads its next lines) */
    /* Printing (\pset, \x, -t -A -F -q): psql's settings of the same names. */
    FILE *out;     /* query results: stdout, or the file of \o / -o */
    bool expanded; /* \x */
    bool tuples_only;
    bool quiet; /* -q: no "success", row counts or informational lines */
    int border; /* 0, 1 (default) or 2 */
    char null_str[64];
    char fieldsep[16];
    size_t fetch_count; /* rows per batch of the aligned table (FETCH_COUNT; 0: 1000) */
    /* Variables (\set, -v), interpolated as :name, :'name', :"name". */
    Var *vars;
    size_t nvars;
    bool on_error_stop; /* ON_ERROR_STOP: a script stops at the first error */
    bool pager;         /* \pset pager: page long results in interactive mode */
    bool had_error;
} Shell;

/* ---- Ctrl-C ----------------------------------------------------------------------------- */

/*
 * What the SIGINT handler reads (see the top of the file). `sigint_cancel` is the handle of the
 * session while a request runs, NULL otherwise; `sigint_in_readline` is set while the prompt
 * waits in readline(), the only time `sigint_jmp` may be jumped to. Written by the main thread,
 * read by the handler, which runs on the main thread (the cancel thread blocks SIGINT).
 */
static tdb_cancel_handle *volatile sigint_cancel;
static volatile sig_atomic_t sigint_in_readline;
static volatile sig_atomic_t sigint_interactive;
static sigjmp_buf sigint_jmp;
/* The handler writes a handle pointer (or NULL: stop) to [1]; the cancel thread reads [0]. */
static int cancel_pipe[2] = {-1, -1};

static void on_sigint(int signo)
{
    tdb_cancel_handle *h = sigint_cancel;
    if (h) {
        int saved = errno;
        ssize_t w = write(cancel_pipe[1], &h, sizeof(h)); /* atomic: less than PIPE_BUF */
        (void)w;
        errno = saved;
        return;
    }
    if (sigint_in_readline) {
        sigint_in_readline = 0;
        siglongjmp(sigint_jmp, 1);
    }
    if (sigint_interactive)
        return;
    signal(signo, SIG_DFL);
    raise(signo);
}

/* The cancel thread: sends a cancel for each handle the handler passes, until NULL. */
static void *cancel_main(void *arg)
{
    (void)arg;
    tdb_cancel_handle *h = NULL;
    while (read(cancel_pipe[0], &h, sizeof(h)) == (ssize_t)sizeof(h) && h) {
        char err[256];
        if (tdb_cancel(h, err, sizeof(err)) == TDB_OK)
            fputs("Cancel request sent\n", stderr);
        else
            fprintf(stderr, "Could not send cancel request: %s\n", err);
    }
    return NULL;
}

/*
 * Starts the cancel thread (with SIGINT blocked, so the handler always runs on the main thread)
 * and installs the handler. Returns 0, or -1 when either fails: then Ctrl-C keeps its default.
 */
static int sigint_start(pthread_t *out_thread)
{
    if (pipe2(cancel_pipe, O_CLOEXEC) != 0)
        return -1;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(out_thread, NULL, cancel_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(cancel_pipe[0]);
        close(cancel_pipe[1]);
        cancel_pipe[0] = cancel_pipe[1] = -1;
        return -1;
    }
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    return 0;
}

/* Restores Ctrl-C's default and stops the cancel thread. */
static void sigint_stop(pthread_t thread)
{
    signal(SIGINT, SIG_DFL);
    tdb_cancel_handle *none = NULL;
    ssize_t w = write(cancel_pipe[1], &none, sizeof(none));
    (void)w;
    pthread_join(thread, NULL);
    close(cancel_pipe[0]);
    close(cancel_pipe[1]);
}

/* ---- output --------------------------------------------------------------------------- */

static void print_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/*
 * An output buffer for the streamed modes: a row is built here and written with one fwrite
 * per 64 KiB. fputc and small fwrites through stdio took half the time of a CSV export
 * (docs/performance.md "Shell CSV export").
 */
typedef struct {
    FILE *out;
    size_t n;
    char buf[1 << 16];
} OutBuf;

static void ob_flush(OutBuf *ob)
{
    if (ob->n)
        fwrite(ob->buf, 1, ob->n, ob->out);
    ob->n = 0;
}

static void ob_write(OutBuf *ob, const char *s, size_t len)
{
    if (len > sizeof(ob->buf) - ob->n) {
        ob_flush(ob);
        if (len > sizeof(ob->buf)) {
            fwrite(s, 1, len, ob->out);
            return;
        }
    }
    memcpy(ob->buf + ob->n, s, len);
    ob->n += len;
}

static void print_csv_field(FILE *out, const char *s, size_t len)
{
    if (!s)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL && len == strlen(s)) {
        fwrite(s, 1, len, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

/* Display text of a cell for the table and line modes: control characters escaped. */
static char *display_text(const tdb_result *r, size_t row, size_t col)
{
    size_t len = 0;
    const char *s = tdb_result_text(r, row, col, &len);
    if (!s)
        return strdup("NULL");
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (ch == '\t') {
            out[n++] = '\\';
            out[n++] = 't';
        } else if (ch == '\r') {
            out[n++] = '\\';
            out[n++] = 'r';
        } else if (ch < 0x20) {
            n += (size_t)sprintf(out + n, "\\x%02x", ch);
        } else {
            out[n++] = (char)ch;
        }
    }
    out[n] = '\0';
    return out;
}

/* Columns a code point takes on a terminal: wcwidth() when the locale knows it, else East Asian
 * wide and emoji ranges 2, combining marks 0, the rest 1 (so CJK aligns in the C locale too). */
static int cp_width(unsigned cp)
{
    int w = wcwidth((wchar_t)cp);
    if (w >= 0)
        return w;
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFE0F)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
        (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

/* Width on a terminal of UTF-8 text (invalid bytes count one column each). */
static size_t display_width(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t w = 0;
    while (*s) {
        unsigned cp = *s;
        int n = cp < 0x80 ? 0 : cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : -1;
        if (n <= 0) {
            w++;
            s++;
            continue;
        }
        cp &= 0x3Fu >> n;
        int k = 1;
        for (; k <= n && (s[k] & 0xC0) == 0x80; k++)
            cp = cp << 6 | (s[k] & 0x3Fu);
        if (k <= n) {
            w++;
            s++;
            continue;
        }
        w += (size_t)cp_width(cp);
        s += n + 1;
    }
    return w;
}

static void pad(FILE *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', out);
}

static void repeat(FILE *out, char ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(ch, out);
}

static bool right_aligned_kind(tdb_value_kind k)
{
    return k == TDB_VALUE_INT || k == TDB_VALUE_FLOAT;
}

/* Display text of the current row's cell: the null string for NULL, control characters
 * escaped. */
static char *cell_text(const Shell *sh, const tdb_result *r, size_t col)
{
    if (tdb_result_is_null(r, 0, col))
        return strdup(sh->null_str);
    return display_text(r, 0, col);
}

/* A batch of rows of the aligned table: their display texts and alignment. */
typedef struct {
    char **cells;
    bool *right;
    size_t nrows;
} Batch;

static void batch_clear(Batch *b, size_t ncols)
{
    for (size_t i = 0; i < b->nrows * ncols; i++)
        free(b->cells[i]);
    b->nrows = 0;
}

/* The rule under the header or around the table: border 2 "+---+---+", else "---+---". */
static void print_rule(const Shell *sh, FILE *out, const size_t *width, size_t ncols)
{
    if (sh->border == 2)
        fputc('+', out);
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            fputc(sh->border == 0 ? ' ' : '+', out);
        repeat(out, '-', width[c] + (sh->border == 0 ? 0 : 2));
    }
    if (sh->border == 2)
        fputc('+', out);
    fputc('\n', out);
}

/* One line of the aligned table (header when right is NULL: names centred). */
static void print_cells(const Shell *sh, FILE *out, char *const *text, const bool *right,
                        const size_t *width, size_t ncols)
{
    for (size_t c = 0; c < ncols; c++) {
        size_t w = display_width(text[c]);
        size_t extra = width[c] > w ? width[c] - w : 0;
        if (sh->border == 0)
            fputs(c ? " " : "", out);
        else if (sh->border == 1)
            fputs(c ? " | " : " ", out);
        else
            fputs(c ? " | " : "| ", out);
        bool last = c + 1 == ncols && sh->border < 2;
        if (!right) {
            pad(out, extra / 2);
            fputs(text[c], out);
            if (!last)
                pad(out, extra - extra / 2);
        } else if (right[c]) {
            pad(out, extra);
            fputs(text[c], out);
        } else {
            fputs(text[c], out);
            if (!last)
                pad(out, extra);
        }
    }
    if (sh->border == 2)
        fputs(" |", out);
    fputc('\n', out);
}

static void print_footer(const Shell *sh, FILE *out, size_t nrows)
{
    if (!sh->tuples_only)
        fprintf(out, "(%zu row%s)\n", nrows, nrows == 1 ? "" : "s");
}

/*
 * The aligned table (psql's format), streamed: rows are formatted in batches of FETCH_COUNT
 * (a variable; default 1000) with the column widths taken from the first batch, as psql does
 * with FETCH_COUNT; a later, wider value widens its own line only. So a result of any size
 * needs the memory of one batch.
 */
static int print_table(const Shell *sh, tdb_result *r, FILE *out)
{
    size_t ncols = tdb_result_ncols(r), batch_rows = sh->fetch_count ? sh->fetch_count : 1000;
    size_t *width = calloc(ncols ? ncols : 1, sizeof(size_t));
    Batch b = {.cells = calloc(batch_rows * (ncols ? ncols : 1), sizeof(char *)),
               .right = calloc(batch_rows * (ncols ? ncols : 1), sizeof(bool))};
    char **names = calloc(ncols ? ncols : 1, sizeof(char *));
    size_t total = 0;
    bool first = true;
    int rc = TDB_ENOMEM;
    if (!width || !b.cells || !b.right || !names)
        goto out;
    for (size_t c = 0; c < ncols; c++) {
        names[c] = (char *)tdb_result_column_name(r, c);
        width[c] = display_width(names[c]);
    }
    for (;;) {
        int more = 1;
        while (b.nrows < batch_rows && (more = tdb_next_row(r)) == 1) {
            for (size_t c = 0; c < ncols; c++) {
                char *text = cell_text(sh, r, c);
                if (!text) {
                    rc = TDB_ENOMEM;
                    goto out;
                }
                b.cells[b.nrows * ncols + c] = text;
                b.right[b.nrows * ncols + c] = right_aligned_kind(tdb_result_value_kind(r, 0, c));
            }
            b.nrows++;
        }
        if (more < 0) {
            rc = more;
            goto out;
        }
        if (first) {
            for (size_t i = 0; i < b.nrows * ncols; i++) {
                size_t w = display_width(b.cells[i]);
                if (w > width[i % ncols])
                    width[i % ncols] = w;
            }
            if (sh->border == 2)
                print_rule(sh, out, width, ncols);
            if (!sh->tuples_only) {
                print_cells(sh, out, names, NULL, width, ncols);
                print_rule(sh, out, width, ncols);
            }
            first = false;
        }
        for (size_t i = 0; i < b.nrows; i++)
            print_cells(sh, out, b.cells + i * ncols, b.right + i * ncols, width, ncols);
        total += b.nrows;
        batch_clear(&b, ncols);
        if (more == 0)
            break;
    }
    if (sh->border == 2)
        print_rule(sh, out, width, ncols);
    print_footer(sh, out, total);
    rc = 0;
out:
    if (b.cells)
        batch_clear(&b, ncols);
    free(b.cells);
    free(b.right);
    free(names);
    free(width);
    return rc;
}

/* ---- server answers in JSON as tables (\l, \du, \dp) ------------------------------------- */

/* A growing list of strings. */
typedef struct {
    char **v;
    size_t n, cap;
} StrList;

static int sl_push(StrList *l, char *str)
{
    if (!str)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **g = realloc(l->v, cap * sizeof(char *));
        if (!g) {
            free(str);
            return -1;
        }
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n++] = str;
    return 0;
}

static void sl_free(StrList *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static void json_ws(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

/* A JSON string at *p (after its opening quote) as UTF-8; NULL when malformed. */
static char *json_string(const char **p)
{
    size_t cap = strlen(*p) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    const char *q = *p;
    while (*q && *q != '"') {
        if (*q != '\\') {
            out[n++] = *q++;
            continue;
        }
        q++;
        char e = *q ? *q++ : 0;
        if (e == 'n')
            out[n++] = '\n';
        else if (e == 't')
            out[n++] = '\t';
        else if (e == 'r')
            out[n++] = '\r';
        else if (e == 'b')
            out[n++] = '\b';
        else if (e == 'f')
            out[n++] = '\f';
        else if (e == 'u') {
            unsigned cp = 0;
            for (int k = 0; k < 4 && isxdigit((unsigned char)*q); k++, q++)
                cp = cp * 16 +
                     (unsigned)(isdigit((unsigned char)*q) ? *q - '0' : (tolower(*q) - 'a' + 10));
            if (cp < 0x80) {
                out[n++] = (char)cp;
            } else if (cp < 0x800) {
                out[n++] = (char)(0xC0 | cp >> 6);
                out[n++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[n++] = (char)(0xE0 | cp >> 12);
                out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            }
        } else if (e) {
            out[n++] = e;
        }
    }
    if (*q != '"') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *p = q + 1;
    return out;
}

/* A JSON value as display text: strings as they are, null as NULL (-1 for the caller's null
 * string), arrays of scalars joined with ", ". Returns NULL when malformed. */
static char *json_value(const char **p, bool *is_null)
{
    json_ws(p);
    *is_null = false;
    if (**p == '"') {
        (*p)++;
        return json_string(p);
    }
    if (**p == '[') {
        (*p)++;
        char *joined = strdup("");
        json_ws(p);
        while (joined && **p && **p != ']') {
            bool nul;
            char *item = json_value(p, &nul);
            if (!item) {
                free(joined);
                return NULL;
            }
            size_t a = strlen(joined), b = strlen(item);
            char *g = realloc(joined, a + b + 3);
            if (g) {
                if (a)
                    memcpy(g + a, ", ", 2), a += 2;
                memcpy(g + a, item, b + 1);
            } else {
                free(joined);
            }
            joined = g;
            free(item);
            json_ws(p);
            if (**p == ',')
                (*p)++;
            json_ws(p);
        }
        if (**p != ']') {
            free(joined);
            return NULL;
        }
        (*p)++;
        return joined;
    }
    const char *start = *p;
    while (**p && **p != ',' && **p != '}' && **p != ']' && !isspace((unsigned char)**p))
        (*p)++;
    if (*p == start)
        return NULL;
    size_t len = (size_t)(*p - start);
    if (len == 4 && !memcmp(start, "null", 4))
        *is_null = true;
    return strndup(start, len);
}

/*
 * Prints a server answer that is a JSON array of flat objects (list users, list databases,
 * list grants) as an aligned table, the columns in the first object's order. Returns -1 when
 * the answer has another shape (the caller prints it as it is).
 */
static int print_json_table(const Shell *sh, const char *json, const char *const *headers,
                            size_t nheaders)
{
    StrList names = {0}, cells = {0};
    const char *p = json;
    int rc = -1;
    json_ws(&p);
    if (*p++ != '[')
        goto out;
    size_t nrows = 0;
    json_ws(&p);
    while (*p == '{') {
        p++;
        size_t col = 0;
        json_ws(&p);
        while (*p == '"') {
            p++;
            char *key = json_string(&p);
            json_ws(&p);
            if (!key || *p++ != ':') {
                free(key);
                goto out;
            }
            bool is_null;
            char *val = json_value(&p, &is_null);
            if (!val) {
                free(key);
                goto out;
            }
            if (is_null) {
                free(val);
                val = strdup(sh->null_str);
            }
            if (nrows == 0) {
                if (sl_push(&names, key) != 0) {
                    free(val);
                    goto out;
                }
            } else {
                free(key);
            }
            if (col < names.n && sl_push(&cells, val) != 0)
                goto out;
            if (col >= names.n)
                free(val);
            col++;
            json_ws(&p);
            if (*p == ',')
                p++;
            json_ws(&p);
        }
        if (*p++ != '}' || col != names.n)
            goto out;
        nrows++;
        json_ws(&p);
        if (*p == ',')
            p++;
        json_ws(&p);
    }
    if (*p != ']')
        goto out;
    size_t ncols = names.n;
    if (ncols == 0) {
        /* No rows: the headers the caller expects. */
        for (size_t i = 0; i < nheaders; i++)
            if (sl_push(&names, strdup(headers[i])) != 0)
                goto out;
        ncols = names.n;
    }
    if (sh->mode == MODE_UNALIGNED || sh->mode == MODE_CSV) {
        bool csv = sh->mode == MODE_CSV;
        for (size_t r = sh->tuples_only ? 1 : 0; r <= nrows; r++) {
            char **line = r ? cells.v + (r - 1) * ncols : names.v;
            for (size_t c = 0; c < ncols; c++) {
                if (c)
                    fputs(csv ? "," : sh->fieldsep, sh->out);
                if (csv)
                    print_csv_field(sh->out, line[c], strlen(line[c]));
                else
                    fputs(line[c], sh->out);
            }
            fputc('\n', sh->out);
        }
        if (!csv)
            print_footer(sh, sh->out, nrows);
        rc = 0;
        goto out;
    }
    size_t *width = calloc(ncols ? ncols : 1, sizeof(size_t));
    bool *right = calloc(ncols ? ncols : 1, sizeof(bool));
    if (!width || !right) {
        free(width);
        free(right);
        goto out;
    }
    for (size_t i = 0; i < ncols; i++)
        width[i] = display_width(names.v[i]);
    for (size_t i = 0; i < cells.n; i++) {
        size_t w = display_width(cells.v[i]);
        if (w > width[i % ncols])
            width[i % ncols] = w;
    }
    FILE *out = sh->out;
    if (sh->border == 2)
        print_rule(sh, out, width, ncols);
    if (!sh->tuples_only) {
        print_cells(sh, out, names.v, NULL, width, ncols);
        print_rule(sh, out, width, ncols);
    }
    for (size_t r = 0; r < nrows; r++)
        print_cells(sh, out, cells.v + r * ncols, right, width, ncols);
    if (sh->border == 2)
        print_rule(sh, out, width, ncols);
    print_footer(sh, out, nrows);
    free(width);
    free(right);
    rc = 0;
out:
    sl_free(&names);
    sl_free(&cells);
    return rc;
}

/* Expanded output (\x): a record per row, "name | value" lines, streamed. */
static int print_expanded(const Shell *sh, tdb_result *r, FILE *out)
{
    size_t ncols = tdb_result_ncols(r), namew = 0, n = 0;
    for (size_t c = 0; c < ncols; c++) {
        size_t w = display_width(tdb_result_column_name(r, c));
        if (w > namew)
            namew = w;
    }
    int rc;
    while ((rc = tdb_next_row(r)) == 1) {
        n++;
        if (!sh->tuples_only) {
            int len = fprintf(out, "-[ RECORD %zu ]", n);
            if (len > 0 && (size_t)len < namew + 1)
                repeat(out, '-', namew + 1 - (size_t)len);
            fputs(sh->border ? "+-----\n" : "\n", out);
        }
        for (size_t c = 0; c < ncols; c++) {
            const char *name = tdb_result_column_name(r, c);
            char *text = cell_text(sh, r, c);
            fputs(name, out);
            pad(out, namew - display_width(name));
            fprintf(out, "%s%s\n", sh->border ? " | " : " ", text ? text : "");
            free(text);
        }
    }
    if (rc == 0 && n == 0 && !sh->tuples_only)
        fputs("(0 rows)\n", out);
    return rc;
}

/* Unaligned output (-A, \pset format unaligned): fields joined by fieldsep, streamed. */
static int print_unaligned(const Shell *sh, tdb_result *r, FILE *out)
{
    size_t ncols = tdb_result_ncols(r), n = 0;
    if (!sh->tuples_only) {
        for (size_t c = 0; c < ncols; c++)
            fprintf(out, "%s%s", c ? sh->fieldsep : "", tdb_result_column_name(r, c));
        fputc('\n', out);
    }
    int rc;
    while ((rc = tdb_next_row(r)) == 1) {
        n++;
        for (size_t c = 0; c < ncols; c++) {
            size_t len = 0;
            const char *s = tdb_result_text(r, 0, c, &len);
            if (c)
                fputs(sh->fieldsep, out);
            if (s)
                fwrite(s, 1, len, out);
            else
                fputs(sh->null_str, out);
        }
        fputc('\n', out);
    }
    if (rc == 0)
        print_footer(sh, out, n);
    return rc;
}
/* Prints the current row (row 0) of a streamed result in the csv, json or line mode. */
static void print_row(Shell *sh, tdb_result *r, size_t nth, FILE *out)
{
    size_t ncols = tdb_result_ncols(r);
    switch (sh->mode) {
    case MODE_CSV:
        break; /* print_csv_rows */
    case MODE_JSON:
        fputs(nth ? ",\n{" : "[{", out);
        for (size_t c = 0; c < ncols; c++) {
            const char *json = tdb_result_json(r, 0, c);
            if (c)
                fputc(',', out);
            print_json_string(out, tdb_result_column_name(r, c));
            fputc(':', out);
            fputs(json ? json : "null", out);
        }
        fputc('}', out);
        break;
    case MODE_LINE: {
        size_t w = 0;
        for (size_t c = 0; c < ncols; c++) {
            size_t cw = display_width(tdb_result_column_name(r, c));
            if (cw > w)
                w = cw;
        }
        if (nth)
            fputc('\n', out);
        for (size_t c = 0; c < ncols; c++) {
            const char *name = tdb_result_column_name(r, c);
            char *text = display_text(r, 0, c);
            pad(out, w - display_width(name));
            fprintf(out, "%s = %s\n", name, text ? text : "");
            free(text);
        }
        break;
    }
    case MODE_TABLE:
    case MODE_UNALIGNED:
        break;
    }
}

/*
 * Streams the rest of a result as CSV rows; returns the last status (0 at the end). Each row
 * comes from the library as one CSV line (tdb_next_row_csv: no cell table, no per-cell calls),
 * gathered into 64 KiB writes (docs/performance.md "Shell CSV export").
 */
static int print_csv_rows(tdb_result *r, FILE *out)
{
    OutBuf *ob = malloc(sizeof(*ob));
    if (!ob)
        return TDB_ENOMEM;
    ob->out = out;
    ob->n = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = tdb_next_row_csv(r, NULL, &line, &len)) == 1)
        ob_write(ob, line, len);
    ob_flush(ob);
    free(ob);
    return rc;
}

/* ---- running requests ----------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reports a failed request; records the exit status; stops a script. */
static void report_error(Shell *sh, int rc)
{
    fflush(stdout);
    if (sh->out)
        fflush(sh->out);
    /* The server sends the newlines of DuckDB's messages as the two characters \n. */
    fputs("Error: ", stderr);
    for (const char *p = tdb_error(sh->conn); *p; p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            fputc('\n', stderr);
            p++;
        } else {
            fputc(*p, stderr);
        }
    }
    fputc('\n', stderr);
    if (!tdb_is_connected(sh->conn)) {
        fprintf(stderr, "the connection to the server is lost\n");
        sh->status = EXIT_USAGE;
        sh->quit = true;
        return;
    }
    (void)rc;
    /* As psql: a script goes on after an error unless ON_ERROR_STOP is set (then it ends
     * with status 3); the exit status is 1 when any request failed. */
    sh->had_error = true;
    if (!sh->interactive) {
        sh->status = EXIT_SQL;
        if (sh->on_error_stop) {
            sh->status = EXIT_STOPPED;
            sh->quit = true;
        }
    }
}

static void print_timing(Shell *sh, double t0)
{
    if (sh->timing)
        fprintf(sh->out, "Time: %.3f ms\n", now_ms() - t0);
}

static void run_sql_now(Shell *sh, const char *sql);

/* Runs SQL with Ctrl-C cancelling it. */
/*
 * The pager (interactive mode, results to the terminal, \pset pager on): output is held back
 * until it has more lines than the terminal; then $PAGER (default "less -S", else "more") is
 * started with what was held, and the rest streams into it. A short result is written to the
 * terminal as it is. If the pager is left before the end, the rest of the result is read and
 * dropped (writes to it fail; SIGPIPE is ignored while it runs).
 */
typedef struct {
    char *held;
    size_t len, cap;
    size_t lines, max_lines;
    FILE *pager; /* NULL until started */
    bool broken; /* the pager is gone */
} Pager;

static ssize_t pager_write(void *cookie, const char *buf, size_t size)
{
    Pager *pg = cookie;
    if (pg->pager) {
        if (!pg->broken && fwrite(buf, 1, size, pg->pager) != size)
            pg->broken = true;
        return (ssize_t)size;
    }
    for (size_t i = 0; i < size; i++)
        pg->lines += buf[i] == '\n';
    if (pg->len + size > pg->cap) {
        size_t cap = (pg->len + size) * 2;
        char *g = realloc(pg->held, cap);
        if (!g)
            return -1;
        pg->held = g;
        pg->cap = cap;
    }
    memcpy(pg->held + pg->len, buf, size);
    pg->len += size;
    if (pg->lines >= pg->max_lines) {
        const char *cmd = getenv("PAGER");
        if (!cmd || !*cmd)
            cmd = access("/usr/bin/less", X_OK) == 0 ? "less -S" : "more";
        fflush(stdout);
        pg->pager = popen(cmd, "w");
        if (!pg->pager) {
            pg->pager = stdout; /* no pager: the terminal */
        }
        if (fwrite(pg->held, 1, pg->len, pg->pager) != pg->len)
            pg->broken = true;
        free(pg->held);
        pg->held = NULL;
        pg->len = pg->cap = 0;
    }
    return (ssize_t)size;
}

static int pager_close(void *cookie)
{
    Pager *pg = cookie;
    if (pg->pager && pg->pager != stdout)
        pclose(pg->pager); /* waits for the user to leave it */
    else if (pg->len)
        fwrite(pg->held, 1, pg->len, stdout);
    fflush(stdout);
    free(pg->held);
    return 0;
}

static FILE *pager_open(Pager *pg)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row < 2)
        return NULL;
    *pg = (Pager){.max_lines = (size_t)ws.ws_row - 1};
    cookie_io_functions_t io = {.write = pager_write, .close = pager_close};
    return fopencookie(pg, "w", io);
}

static void run_sql(Shell *sh, const char *sql)
{
    Pager pg;
    FILE *paged = NULL;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    if (sh->interactive && sh->pager && sh->out == stdout && isatty(STDOUT_FILENO) &&
        (paged = pager_open(&pg)) != NULL) {
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, &old_pipe);
        sh->out = paged;
    }
    sigint_cancel = sh->cancel;
    run_sql_now(sh, sql);
    sigint_cancel = NULL;
    if (paged) {
        sh->out = stdout;
        fclose(paged);
        sigaction(SIGPIPE, &old_pipe, NULL);
    }
}

static void run_sql_now(Shell *sh, const char *sql)
{
    double t0 = now_ms();
    tdb_result *r = NULL;
    FILE *out = sh->out;
    int rc = tdb_query_start(sh->conn, sql, NULL, 0, &r);
    if (rc != 0) {
        report_error(sh, rc);
        return;
    }
    tdb_result_kind kind = tdb_result_kind_of(r);
    bool chatty = !sh->quiet && !sh->tuples_only &&
                  (sh->mode == MODE_TABLE || sh->mode == MODE_LINE || sh->mode == MODE_UNALIGNED);
    if (kind == TDB_RESULT_ROWS) {
        size_t n = 0;
        if (sh->mode == MODE_TABLE && sh->expanded) {
            rc = print_expanded(sh, r, out);
        } else if (sh->mode == MODE_TABLE) {
            rc = print_table(sh, r, out);
        } else if (sh->mode == MODE_UNALIGNED) {
            rc = print_unaligned(sh, r, out);
        } else if (sh->mode == MODE_CSV) {
            if (!sh->tuples_only) {
                for (size_t c = 0; c < tdb_result_ncols(r); c++) {
                    const char *name = tdb_result_column_name(r, c);
                    if (c)
                        fputc(',', out);
                    print_csv_field(out, name, strlen(name));
                }
                fputc('\n', out);
            }
            rc = print_csv_rows(r, out);
        } else {
            while ((rc = tdb_next_row(r)) == 1)
                print_row(sh, r, n++, out);
            if (sh->mode == MODE_JSON)
                fputs(n ? "]\n" : "[]\n", out);
        }
        if (rc != 0) {
            tdb_query_end(r);
            report_error(sh, rc);
            return;
        }
    } else if (kind == TDB_RESULT_CHANGED && chatty) {
        long long n = (long long)tdb_result_changed(r);
        fprintf(out, "%lld row%s changed\n", n, n == 1 ? "" : "s");
    } else if (kind == TDB_RESULT_SUCCESS && chatty) {
        fprintf(out, "success\n");
    }
    rc = tdb_query_end(r);
    if (rc != 0) {
        report_error(sh, rc);
        return;
    }
    print_timing(sh, t0);
}

/* Sends a server command line as it is and prints its answer. */
static void run_command(Shell *sh, const char *line)
{
    double t0 = now_ms();
    char *answer = NULL;
    sigint_cancel = sh->cancel;
    int rc = tdb_command(sh->conn, line, &answer);
    sigint_cancel = NULL;
    if (rc != 0) {
        report_error(sh, rc);
        return;
    }
    if (strcmp(answer, "success") != 0 ||
        (!sh->quiet && (sh->mode == MODE_TABLE || sh->mode == MODE_LINE)))
        fprintf(sh->out, "%s\n", answer);
    free(answer);
    /* Follow the connected database for the prompt. */
    char word[16], name[128];
    if (sscanf(line, "%15s %127s", word, name) == 2 && strcasecmp(word, "connect") == 0)
        snprintf(sh->database, sizeof(sh->database), "%s", name);
    else if (sscanf(line, "%15s", word) == 1 && strcasecmp(word, "disconnect") == 0)
        sh->database[0] = '\0';
    else if (sscanf(line, "%15s", word) == 1 && strcasecmp(word, "login") == 0 && !sh->cancel)
        sh->cancel = tdb_get_cancel(sh->conn); /* NULL: Ctrl-C cannot cancel */
    print_timing(sh, t0);
}

/* ---- recognising server commands ------------------------------------------------------ */

/* Copies the first n words of line, lower-cased, into words (each up to 31 bytes). */
static size_t split_words(const char *line, char words[][32], size_t n)
{
    size_t count = 0;
    const char *p = line;
    while (count < n) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t k = 0;
        while (*p && *p != ' ' && *p != '\t') {
            if (k < 31)
                words[count][k++] = (char)tolower((unsigned char)*p);
            p++;
        }
        words[count][k] = '\0';
        count++;
    }
    return count;
}

/* The transaction commands and their SQL spellings, with an optional ';' (as the server). */
static bool is_transaction(const char *line)
{
    static const char *const forms[] = {
        "start transaction",    "begin", "begin transaction", "commit",
        "commit transaction",   "end",   "end transaction",   "rollback",
        "rollback transaction", "abort", "abort transaction"};
    char norm[32];
    size_t n = 0;
    bool space = false;
    size_t len = strlen(line);
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    if (len && line[len - 1] == ';')
        len--;
    for (size_t i = 0; i < len; i++) {
        char ch = line[i];
        if (isspace((unsigned char)ch)) {
            space = n > 0;
            continue;
        }
        if (n + 2 >= sizeof(norm))
            return false;
        if (space)
            norm[n++] = ' ';
        space = false;
        norm[n++] = (char)tolower((unsigned char)ch);
    }
    norm[n] = '\0';
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (strcmp(norm, forms[i]) == 0)
            return true;
    return false;
}

/* True when line has the shape of a server command (docs/protocol.md), not of SQL. */
static bool is_server_command(const char *line)
{
    char w[3][32];
    size_t n = split_words(line, w, 3);
    if (n == 0)
        return false;
    if (is_transaction(line))
        return true;
    if (!strcmp(w[0], "login") || !strcmp(w[0], "connect") || !strcmp(w[0], "disconnect") ||
        !strcmp(w[0], "list") || !strcmp(w[0], "stats"))
        return true;
    if (!strcmp(w[0], "query") && strchr(line, '{'))
        return true;
    if (n >= 2 && (!strcmp(w[0], "link") || !strcmp(w[0], "migrate") || !strcmp(w[0], "unlink")))
        return true;
    if (n >= 2 && !strcmp(w[0], "create") && (!strcmp(w[1], "database") || !strcmp(w[1], "user")))
        return true;
    if (n >= 2 && (!strcmp(w[0], "grant") || !strcmp(w[0], "revoke")) &&
        (!strcmp(w[1], "database") || !strcmp(w[1], "table")))
        return true;
    if (n >= 2 && !strcmp(w[0], "update") && (!strcmp(w[1], "database") || !strcmp(w[1], "user")) &&
        !(n >= 3 && !strcmp(w[2], "set")))
        return true;
    return false;
}

/* ---- backslash commands --------------------------------------------------------------- */

static void print_help(void)
{
    puts(
        "Server commands (one line, no ';' needed):\n"
        "  login USER PASSWORD                 log in\n"
        "  connect DB / disconnect             use a database / leave it\n"
        "  create database NAME                (super user)\n"
        "  create user NAME PASSWORD           (super user)\n"
        "  update database OLD NEW             rename a database (super user)\n"
        "  update user username OLD NEW        rename a user (super user)\n"
        "  update user password USER NEW       set a password (super user)\n"
        "  drop user NAME                      remove a user and their grants (super user)\n"
        "  grant database DB USER read|write   (super user)\n"
        "  grant table DB TABLE USER PRIV...   PRIV: select insert update delete\n"
        "  revoke database DB USER / revoke table DB TABLE USER PRIV...\n"
        "  list users | list databases | list grants [USER]\n"
        "  link DB \"CONNSTRING\" [SCHEMA]      copy a PostgreSQL schema (super user)\n"
        "  migrate DB / unlink DB [force]      apply its changes / stop following it\n"
        "  start transaction (begin) / commit / rollback\n"
        "Anything else is SQL for the connected database, ended by ';'.\n"
        "\n"
        "Shell commands:\n"
        "  \\?                       this help\n"
        "  \\q                       quit (also quit, exit, Ctrl-D)\n"
        "  \\c DB                    connect to database DB\n"
        "  \\l                       list databases\n"
        "  \\conninfo               where the shell is connected, and whether TLS is on\n"
        "  \\timing [on|off]         show how long each request takes\n"
        "  \\mode table|csv|json|line  output format\n"
        "  \\g / \\r / \\p             send / clear / show the statement typed so far\n"
        "  \\d [NAME], \\dt, \\dv, \\dn  relations, tables, views, schemas; NAME's columns\n"
        "  \\du, \\dp [USER]          users (super user), grants\n"
        "  \\x [on|off]              expanded output\n"
        "  \\pset NAME [VALUE]       format|border|null|fieldsep|tuples_only|expanded|pager\n"
        "  \\t, \\a, \\f SEP          tuples only, unaligned toggle, field separator\n"
        "  \\o [FILE||CMD]           send results to a file or pipe (none: the terminal)\n"
        "  \\i FILE                  run the commands in FILE\n"
        "  \\e [FILE]                edit the statement (or FILE) in $VISUAL/$EDITOR, then run it\n"
        "  \\copy T|(Q) FROM|TO 'F'  copy rows between table T / query Q and a file of this\n"
        "                           machine (csv or text; options as psql's \\copy)\n"
        "  \\echo TEXT, \\qecho TEXT  print TEXT (to the terminal / the \\o output)\n"
        "  \\set [NAME [VALUE]], \\unset NAME   variables, used as :NAME :'NAME' :\"NAME\"\n"
        "                           (ON_ERROR_STOP, FETCH_COUNT are special)");
}

/* One line on the connection's transport, as psql prints "SSL connection (...)". */
static void print_tls(const Shell *sh, FILE *out)
{
    const char *version = tdb_tls_version(sh->conn);
    if (version)
        fprintf(out, "TLS connection (protocol: %s, cipher: %s)\n", version,
                tdb_tls_cipher(sh->conn));
    else
        fprintf(out, "not encrypted (no TLS)\n");
}

static void print_conninfo(const Shell *sh)
{
    printf("Connected to %s port %ld as user \"%s\"", sh->host, sh->port,
           sh->user && *sh->user ? sh->user : "(not logged in)");
    if (sh->database[0])
        printf(", database \"%s\"", sh->database);
    printf(". ");
    print_tls(sh, stdout);
}

static void flush_sql(Shell *sh);
static void run_statement_copy(Shell *sh, const char *stmt);
static bool blank(const char *s, size_t len);
static void run_stream(Shell *sh, FILE *in);

/* ---- variables ------------------------------------------------------------------------ */

static const char *var_get(const Shell *sh, const char *name, size_t len)
{
    for (size_t i = 0; i < sh->nvars; i++)
        if (strlen(sh->vars[i].name) == len && !memcmp(sh->vars[i].name, name, len))
            return sh->vars[i].value;
    return NULL;
}

static bool truthy(const char *v)
{
    return v && (!strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcasecmp(v, "1") ||
                 !strcasecmp(v, "yes") || !strcasecmp(v, "t"));
}

/* Sets (value non-NULL) or removes a variable; the special ones change settings at once. */
static void var_set(Shell *sh, const char *name, const char *value)
{
    if (!strcmp(name, "ON_ERROR_STOP"))
        sh->on_error_stop = truthy(value);
    else if (!strcmp(name, "FETCH_COUNT"))
        sh->fetch_count = value ? strtoul(value, NULL, 10) : 0;
    for (size_t i = 0; i < sh->nvars; i++) {
        if (strcmp(sh->vars[i].name, name) != 0)
            continue;
        free(sh->vars[i].value);
        if (value) {
            sh->vars[i].value = strdup(value);
            return;
        }
        free(sh->vars[i].name);
        sh->vars[i] = sh->vars[--sh->nvars];
        return;
    }
    if (!value)
        return;
    Var *grown = realloc(sh->vars, (sh->nvars + 1) * sizeof(Var));
    if (!grown)
        return;
    sh->vars = grown;
    sh->vars[sh->nvars].name = strdup(name);
    sh->vars[sh->nvars].value = strdup(value);
    if (sh->vars[sh->nvars].name && sh->vars[sh->nvars].value)
        sh->nvars++;
}

static bool var_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

/*
 * A line with :name, :'name' (a quoted literal) and :"name" (a quoted identifier) replaced
 * by the variable's value, outside quotes and comments (lex: the state the line starts in),
 * as psql does; `::` casts and unknown names are left as they are. Returns a malloc'd line.
 */
static char *interpolate(const Shell *sh, const char *line, LexState lex)
{
    size_t cap = strlen(line) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
#define PUT(ptr, len)                                                                              \
    do {                                                                                           \
        size_t l_ = (len);                                                                         \
        if (n + l_ + 1 > cap) {                                                                    \
            cap = (n + l_ + 1) * 2;                                                                \
            char *g_ = realloc(out, cap);                                                          \
            if (!g_) {                                                                             \
                free(out);                                                                         \
                return NULL;                                                                       \
            }                                                                                      \
            out = g_;                                                                              \
        }                                                                                          \
        memcpy(out + n, (ptr), l_);                                                                \
        n += l_;                                                                                   \
    } while (0)
    for (const char *p = line; *p;) {
        if (lex == LEX_NORMAL && p[0] == ':' && p[1] != ':' && (p == line || p[-1] != ':')) {
            char q = (p[1] == '\'' || p[1] == '"') ? p[1] : 0;
            const char *name = p + 1 + (q ? 1 : 0), *e = name;
            while (var_char(*e))
                e++;
            const char *v = e > name ? var_get(sh, name, (size_t)(e - name)) : NULL;
            if (v && (!q || *e == q)) {
                char *esc = q == '\''  ? tdb_escape_literal(v, strlen(v))
                            : q == '"' ? tdb_escape_identifier(v, strlen(v))
                                       : NULL;
                const char *val = q ? esc : v;
                if (val)
                    PUT(val, strlen(val));
                free(esc);
                p = e + (q ? 1 : 0);
                continue;
            }
        }
        if (lex == LEX_NORMAL) {
            if (*p == '\'')
                lex = LEX_SQUOTE;
            else if (*p == '"')
                lex = LEX_DQUOTE;
            else if (p[0] == '-' && p[1] == '-')
                lex = LEX_LINE_COMMENT;
        } else if ((lex == LEX_SQUOTE && *p == '\'') || (lex == LEX_DQUOTE && *p == '"')) {
            lex = LEX_NORMAL;
        }
        PUT(p, 1);
        p++;
    }
#undef PUT
    out[n] = '\0';
    return out;
}

/* Where query results go (\o, -o): a file, a pipe ("|command") or stdout (NULL or ""). */
static bool out_is_pipe;

static int set_output(Shell *sh, const char *target)
{
    FILE *f = stdout;
    bool pipe_ = false;
    if (target && *target == '|') {
        fflush(stdout);
        f = popen(target + 1, "w");
        pipe_ = true;
    } else if (target && *target) {
        f = fopen(target, "w");
    }
    if (!f) {
        fprintf(stderr, "%s: %s\n", target, strerror(errno));
        return -1;
    }
    if (sh->out && sh->out != stdout) {
        if (out_is_pipe)
            pclose(sh->out);
        else
            fclose(sh->out);
    }
    sh->out = f;
    out_is_pipe = pipe_;
    return 0;
}

static void say(const Shell *sh, const char *fmt, const char *arg)
{
    if (!sh->quiet) {
        printf(fmt, arg);
        fputc('\n', stdout);
    }
}

/* \pset NAME [VALUE], as psql's (format, border, null, fieldsep, tuples_only, expanded). */
static int pset(Shell *sh, const char *name, const char *value)
{
    if (!strcmp(name, "format")) {
        static const struct {
            const char *name;
            OutputMode mode;
        } formats[] = {{"aligned", MODE_TABLE},       {"table", MODE_TABLE},
                       {"unaligned", MODE_UNALIGNED}, {"csv", MODE_CSV},
                       {"json", MODE_JSON},           {"line", MODE_LINE}};
        for (size_t i = 0; value && i < sizeof(formats) / sizeof(formats[0]); i++)
            if (!strcmp(value, formats[i].name)) {
                sh->mode = formats[i].mode;
                say(sh, "Output format is %s.", value);
                return 0;
            }
        fprintf(stderr, "\\pset: allowed formats are aligned, unaligned, csv, json, line\n");
        return -1;
    }
    if (!strcmp(name, "border")) {
        long b = value ? strtol(value, NULL, 10) : 1;
        if (b < 0 || b > 2) {
            fprintf(stderr, "\\pset: border is 0, 1 or 2\n");
            return -1;
        }
        sh->border = (int)b;
        char v[8];
        snprintf(v, sizeof(v), "%d", sh->border);
        say(sh, "Border style is %s.", v);
        return 0;
    }
    if (!strcmp(name, "null")) {
        snprintf(sh->null_str, sizeof(sh->null_str), "%s", value ? value : "");
        say(sh, "Null display is \"%s\".", sh->null_str);
        return 0;
    }
    if (!strcmp(name, "fieldsep")) {
        snprintf(sh->fieldsep, sizeof(sh->fieldsep), "%s", value ? value : "|");
        say(sh, "Field separator is \"%s\".", sh->fieldsep);
        return 0;
    }
    if (!strcmp(name, "tuples_only") || !strcmp(name, "t")) {
        sh->tuples_only = value ? truthy(value) : !sh->tuples_only;
        say(sh, "Tuples only is %s.", sh->tuples_only ? "on" : "off");
        return 0;
    }
    if (!strcmp(name, "expanded") || !strcmp(name, "x")) {
        sh->expanded = value ? truthy(value) : !sh->expanded;
        say(sh, "Expanded display is %s.", sh->expanded ? "on" : "off");
        return 0;
    }
    if (!strcmp(name, "pager")) {
        sh->pager = value ? truthy(value) : !sh->pager;
        say(sh, "Pager usage is %s.", sh->pager ? "on" : "off");
        return 0;
    }
    fprintf(stderr, "\\pset: unknown option: %s\n", name);
    return -1;
}

static void report_usage(Shell *sh);

/* Runs a server command answering a JSON list and prints it as a table (raw if it is not). */
static void run_listing(Shell *sh, const char *command, const char *const *headers, size_t nh)
{
    char *answer = NULL;
    sigint_cancel = sh->cancel;
    int rc = tdb_command(sh->conn, command, &answer);
    sigint_cancel = NULL;
    if (rc != 0) {
        report_error(sh, rc);
        return;
    }
    if (print_json_table(sh, answer, headers, nh) != 0)
        fprintf(sh->out, "%s\n", answer);
    free(answer);
}

static void run_sql(Shell *sh, const char *sql);

/*
 * \d, \dt, \dv, \dn and \d NAME, answered by queries of DuckDB's information_schema in the
 * connected database: the server runs them as any query, so a user sees what their grants
 * let them query, no more. NAME may be schema.table.
 */
/*
 * True when the user may read the catalog. A user who is not a super user may not (the server
 * refuses information_schema, SHOW, DESCRIBE and duckdb_*() to them, docs/security.md), so
 * \d answers them from what they may see: their grants and the columns of a query.
 */
static bool catalog_readable(Shell *sh)
{
    tdb_result *r = NULL;
    int rc = tdb_query(sh->conn, "SELECT 1 FROM information_schema.schemata LIMIT 0", NULL, 0, &r);
    tdb_result_free(r);
    return rc == 0;
}

/* \dt for a user without catalog access: the tables of their grants on this database. */
static void describe_from_grants(Shell *sh)
{
    char *answer = NULL;
    int rc = tdb_command(sh->conn, "list grants", &answer);
    if (rc != 0) {
        report_error(sh, rc);
        return;
    }
    /* Rebuild the list as [{"Name":...,"Access":...}] for this database. */
    size_t cap = 2 * strlen(answer) + 64, n = 0; /* escapes at most double a name */
    char *json = malloc(cap);
    const char *p = answer;
    bool whole_db = false;
    if (!json)
        goto out;
    n += (size_t)snprintf(json, cap, "[");
    while ((p = strstr(p, "{\"database\":"))) {
        const char *q = p + 12;
        bool nul;
        char *db = json_value(&q, &nul);
        const char *t = strstr(q, "\"table\":");
        const char *a = strstr(q, "\"access\":");
        char *table = NULL, *access = NULL;
        bool tnull = true, anull = true;
        if (t) {
            t += 8;
            table = json_value(&t, &tnull);
        }
        if (a) {
            a += 9;
            access = json_value(&a, &anull);
        }
        if (db && !strcmp(db, sh->database)) {
            if (tnull) {
                whole_db = true;
            } else if (table) {
                n += (size_t)snprintf(json + n, cap - n, "%s{\"Name\":", n > 1 ? "," : "");
                FILE *m = fmemopen(json + n, cap - n, "w");
                if (m) {
                    print_json_string(m, table);
                    fputs(",\"Type\":\"table\"}", m);
                    long used = ftell(m);
                    fclose(m);
                    n += (size_t)used;
                }
            }
        }
        free(db);
        free(table);
        free(access);
        p = q;
    }
    snprintf(json + n, cap - n, "]");
    static const char *const h[] = {"Name", "Type"};
    print_json_table(sh, json, h, 2);
    if (whole_db)
        fprintf(sh->out,
                "(a grant on the whole database \"%s\": its tables are not listed to a "
                "user without access to the catalog)\n",
                sh->database);
out:
    free(json);
    free(answer);
}

/* \d NAME for a user without catalog access: the columns of `SELECT * FROM NAME LIMIT 0`. */
static void describe_from_query(Shell *sh, const char *name)
{
    const char *dot = strchr(name, '.');
    char *schema = dot ? tdb_escape_identifier(name, (size_t)(dot - name)) : NULL;
    char *table = tdb_escape_identifier(dot ? dot + 1 : name, strlen(dot ? dot + 1 : name));
    char sql[1024];
    tdb_result *r = NULL;
    if (!table)
        goto out;
    snprintf(sql, sizeof(sql), "SELECT * FROM %s%s%s LIMIT 0", schema ? schema : "",
             schema ? "." : "", table);
    int rc = tdb_query(sh->conn, sql, NULL, 0, &r);
    if (rc != 0) {
        report_error(sh, rc);
        goto out;
    }
    if (!sh->tuples_only)
        fprintf(sh->out, "Table \"%s\"\n", name);
    size_t cap = 64, n = 0;
    for (size_t c = 0; c < tdb_result_ncols(r); c++)
        cap +=
            2 * (strlen(tdb_result_column_name(r, c)) + strlen(tdb_result_column_type(r, c))) + 40;
    char *json = malloc(cap);
    if (!json)
        goto out;
    n += (size_t)snprintf(json, cap, "[");
    for (size_t c = 0; c < tdb_result_ncols(r); c++) {
        n += (size_t)snprintf(json + n, cap - n, "%s{\"Column\":", c ? "," : "");
        FILE *m = fmemopen(json + n, cap - n, "w");
        if (m) {
            print_json_string(m, tdb_result_column_name(r, c));
            fputs(",\"Type\":", m);
            print_json_string(m, tdb_result_column_type(r, c));
            fputc('}', m);
            long used = ftell(m);
            fclose(m);
            n += (size_t)used;
        }
    }
    snprintf(json + n, cap - n, "]");
    static const char *const h[] = {"Column", "Type"};
    print_json_table(sh, json, h, 2);
    free(json);
out:
    tdb_result_free(r);
    free(schema);
    free(table);
}

static void describe(Shell *sh, const char *cmd, const char *name)
{
    char sql[2048];
    bool plus = cmd[strlen(cmd) - 1] == '+';
    if (!catalog_readable(sh)) {
        if (name && cmd[1] != 't' && cmd[1] != 'v')
            describe_from_query(sh, name);
        else if (!strcmp(cmd, "dn"))
            fprintf(sh->out, "(schemas are not listed to a user without access to the catalog)\n");
        else
            describe_from_grants(sh);
        return;
    }
    if (!strcmp(cmd, "dn")) {
        snprintf(sql, sizeof(sql),
                 "SELECT schema_name AS \"Name\" FROM information_schema.schemata "
                 "WHERE catalog_name = current_database() AND schema_name NOT IN "
                 "('information_schema', 'pg_catalog') ORDER BY 1");
        run_sql(sh, sql);
        return;
    }
    if (!name || cmd[1] == 't' || cmd[1] == 'v') {
        const char *type = cmd[1] == 't'   ? " AND table_type = 'BASE TABLE'"
                           : cmd[1] == 'v' ? " AND table_type = 'VIEW'"
                                           : "";
        char *pat = name ? tdb_escape_literal(name, strlen(name)) : NULL;
        snprintf(sql, sizeof(sql),
                 "SELECT table_schema AS \"Schema\", table_name AS \"Name\", "
                 "CASE table_type WHEN 'BASE TABLE' THEN 'table' WHEN 'VIEW' THEN 'view' "
                 "ELSE lower(table_type) END AS \"Type\" FROM information_schema.tables "
                 "WHERE table_catalog = current_database() AND table_schema NOT IN "
                 "('information_schema', 'pg_catalog')%s%s%s ORDER BY 1, 2",
                 type, pat ? " AND table_name LIKE " : "", pat ? pat : "");
        free(pat);
        run_sql(sh, sql);
        return;
    }
    const char *dot = strchr(name, '.');
    char *schema = dot ? tdb_escape_literal(name, (size_t)(dot - name)) : NULL;
    char *table = tdb_escape_literal(dot ? dot + 1 : name, strlen(dot ? dot + 1 : name));
    if (!table || (dot && !schema)) {
        free(schema);
        free(table);
        return;
    }
    /* Does it exist (for psql's message), and where? */
    snprintf(sql, sizeof(sql),
             "SELECT table_schema, table_type FROM information_schema.tables WHERE "
             "table_catalog = current_database() AND table_name = %s%s%s ORDER BY 1 LIMIT 1",
             table, schema ? " AND table_schema = " : "", schema ? schema : "");
    tdb_result *r = NULL;
    sigint_cancel = sh->cancel;
    int rc = tdb_query(sh->conn, sql, NULL, 0, &r);
    sigint_cancel = NULL;
    if (rc != 0) {
        report_error(sh, rc);
        goto out;
    }
    if (tdb_result_nrows(r) == 0) {
        fprintf(stderr, "Did not find any relation named \"%s\".\n", name);
        report_usage(sh);
        goto out;
    }
    const char *found = tdb_result_text(r, 0, 0, NULL);
    const char *kind = tdb_result_text(r, 0, 1, NULL);
    if (!sh->tuples_only)
        fprintf(sh->out, "%s \"%s.%s\"\n", kind && !strcmp(kind, "VIEW") ? "View" : "Table", found,
                dot ? dot + 1 : name);
    char *fs = tdb_escape_literal(found, strlen(found));
    snprintf(sql, sizeof(sql),
             "SELECT column_name AS \"Column\", data_type AS \"Type\", "
             "CASE is_nullable WHEN 'NO' THEN 'not null' ELSE '' END AS \"Nullable\", "
             "coalesce(column_default, '') AS \"Default\"%s FROM information_schema.columns "
             "WHERE table_catalog = current_database() AND table_schema = %s AND table_name = %s "
             "ORDER BY ordinal_position",
             plus ? ", coalesce(COLUMN_COMMENT, '') AS \"Description\"" : "", fs ? fs : "''",
             table);
    free(fs);
    tdb_result_free(r);
    r = NULL;
    run_sql(sh, sql);
out:
    tdb_result_free(r);
    free(schema);
    free(table);
}

/* A bad backslash command: in a script, an error as any other (ON_ERROR_STOP ends it). */
static void report_usage(Shell *sh)
{
    sh->had_error = true;
    if (!sh->interactive) {
        sh->status = sh->status ? sh->status : EXIT_SQL;
        if (sh->on_error_stop) {
            sh->status = EXIT_STOPPED;
            sh->quit = true;
        }
    }
}

/* The words of a backslash command's argument text: a word may be 'quoted' ('' for a quote). */
static size_t arg_words(const char *p, char words[][256], size_t max)
{
    size_t n = 0;
    while (n < max) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        size_t k = 0;
        if (*p == '\'') {
            for (p++; *p; p++) {
                if (*p == '\'' && p[1] == '\'')
                    p++;
                else if (*p == '\'') {
                    p++;
                    break;
                }
                if (k < 255)
                    words[n][k++] = *p;
            }
        } else {
            while (*p && !isspace((unsigned char)*p)) {
                if (k < 255)
                    words[n][k++] = *p;
                p++;
            }
        }
        words[n][k] = '\0';
        n++;
    }
    return n;
}

/* \copy: shell_copy.c does the work; Ctrl-C cancels its requests as any query's. */
static void run_copy(Shell *sh, const char *args)
{
    char err[512];
    long long rows = 0;
    sigint_cancel = sh->cancel;
    int rc =
        shcopy_run(sh->conn, args, sh->input ? sh->input : stdin, sh->out, &rows, err, sizeof(err));
    sigint_cancel = NULL;
    if (rc == SHCOPY_LOCAL) {
        fprintf(stderr, "\\copy: %s\n", err);
        report_usage(sh);
    } else if (rc != 0) {
        report_error(sh, rc);
    } else if (!sh->quiet) {
        printf("COPY %lld\n", rows);
    }
}

static void feed_line(Shell *sh, const char *line);

/*
 * \e [FILE]: the statement being collected (or else the last one run), or FILE, in the user's
 * editor (shell_edit.c); what was saved replaces the statement being collected and is fed
 * line by line as if typed, so a text ending in ';' runs at once and an unfinished one stays
 * collected (as psql).
 */
static void edit_buffer(Shell *sh, const char *file)
{
    const char *text = sh->sql_len ? sh->sql : sh->last_sql ? sh->last_sql : "";
    size_t len = sh->sql_len ? sh->sql_len : strlen(text);
    char err[512];
    char *edited = NULL;
    if (shedit_edit(text, len, file, &edited, err, sizeof(err)) != 0) {
        fprintf(stderr, "\\e: %s\n", err);
        report_usage(sh);
        return;
    }
    sh->sql_len = 0;
    sh->scanned = 0;
    sh->lex = LEX_NORMAL;
    size_t n = strlen(edited);
    while (n && (edited[n - 1] == '\n' || edited[n - 1] == '\r'))
        edited[--n] = '\0';
    if (sh->interactive && n)
        add_history(edited);
    for (char *line = edited, *next; line && !sh->quit; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!next && !*line)
            break;
        feed_line(sh, line);
    }
    free(edited);
}

static void run_backslash(Shell *sh, const char *raw)
{
    char cmd[32] = "", arg[128] = "";
    char *line = strdup(raw);
    if (!line)
        return;
    int n = sscanf(line, "\\%31s %127s", cmd, arg);
    const char *rest = line + 1;
    while (*rest && !isspace((unsigned char)*rest))
        rest++;
    while (isspace((unsigned char)*rest))
        rest++;
    static char words[3][256];
    size_t nw = arg_words(rest, words, 3);
    if (n < 1 || !strcmp(cmd, "?") || !strcmp(cmd, "h")) {
        print_help();
    } else if (!strcmp(cmd, "q")) {
        sh->quit = true;
    } else if (!strcmp(cmd, "c") || !strcmp(cmd, "connect")) {
        if (n < 2) {
            fprintf(stderr, "usage: \\c DATABASE\n");
            return;
        }
        int rc = tdb_connect_database(sh->conn, arg);
        if (rc != 0) {
            report_error(sh, rc);
            return;
        }
        snprintf(sh->database, sizeof(sh->database), "%s", arg);
        if (sh->interactive)
            printf("connected to database %s\n", arg);
    } else if (!strcmp(cmd, "g")) {
        /* The statement collected so far (it may lack its ';'), else the last one again. */
        if (sh->sql_len && !blank(sh->sql, sh->sql_len))
            flush_sql(sh);
        else if (sh->last_sql)
            run_statement_copy(sh, sh->last_sql);
    } else if (!strcmp(cmd, "r")) {
        sh->sql_len = 0;
        sh->scanned = 0;
        sh->lex = LEX_NORMAL;
        if (sh->interactive)
            puts("Query buffer reset (cleared).");
    } else if (!strcmp(cmd, "p")) {
        if (sh->sql_len)
            printf("%.*s", (int)sh->sql_len, sh->sql);
        else
            puts("Query buffer is empty.");
    } else if (!strcmp(cmd, "x")) {
        if (nw && !strcmp(words[0], "auto"))
            strcpy(words[0], "on");
        pset(sh, "expanded", nw ? words[0] : NULL);
    } else if (!strcmp(cmd, "t")) {
        pset(sh, "tuples_only", nw ? words[0] : NULL);
    } else if (!strcmp(cmd, "a")) {
        pset(sh, "format", sh->mode == MODE_UNALIGNED ? "aligned" : "unaligned");
    } else if (!strcmp(cmd, "f")) {
        pset(sh, "fieldsep", nw ? words[0] : "|");
    } else if (!strcmp(cmd, "pset")) {
        if (!nw)
            fprintf(stderr, "usage: \\pset NAME [VALUE]\n");
        else if (pset(sh, words[0], nw > 1 ? words[1] : NULL) != 0 && !sh->interactive)
            report_usage(sh);
    } else if (!strcmp(cmd, "o") || !strcmp(cmd, "out")) {
        if (set_output(sh, *rest == '|' ? rest : nw ? words[0] : NULL) != 0)
            report_usage(sh);
    } else if (!strcmp(cmd, "i") || !strcmp(cmd, "include")) {
        static int depth;
        FILE *f = nw ? fopen(words[0], "r") : NULL;
        if (!f) {
            fprintf(stderr, "%s: %s\n", nw ? words[0] : "\\i",
                    nw ? strerror(errno) : "needs a file");
            report_usage(sh);
        } else if (depth >= 16) {
            fprintf(stderr, "\\i: files included 16 deep: stopped\n");
            fclose(f);
            report_usage(sh);
        } else {
            bool was = sh->interactive;
            sh->interactive = false; /* a file behaves as a script (ON_ERROR_STOP applies) */
            depth++;
            run_stream(sh, f);
            depth--;
            sh->interactive = was;
            if (was)
                sh->quit = false, sh->status = 0;
            fclose(f);
        }
    } else if (!strcmp(cmd, "echo") || !strcmp(cmd, "qecho")) {
        FILE *to = !strcmp(cmd, "qecho") ? sh->out : stdout;
        static char all[64][256];
        size_t k = arg_words(rest, all, 64);
        for (size_t i = 0; i < k; i++)
            fprintf(to, "%s%s", i ? " " : "", all[i]);
        fputc('\n', to);
    } else if (!strcmp(cmd, "set")) {
        if (!nw) {
            for (size_t i = 0; i < sh->nvars; i++)
                printf("%s = '%s'\n", sh->vars[i].name, sh->vars[i].value);
        } else {
            /* \set NAME VALUE...: the value is the words joined without spaces (as psql). */
            static char all[64][256];
            size_t k = arg_words(rest, all, 64);
            char value[4096] = "";
            size_t vn = 0;
            for (size_t i = 1; i < k; i++)
                vn += (size_t)snprintf(value + vn, vn < sizeof(value) ? sizeof(value) - vn : 0,
                                       "%s", all[i]);
            var_set(sh, words[0], value);
        }
    } else if (!strcmp(cmd, "unset")) {
        if (nw)
            var_set(sh, words[0], NULL);
    } else if (!strcmp(cmd, "l") || !strcmp(cmd, "list")) {
        static const char *const h[] = {"name", "access"};
        run_listing(sh, "list databases", h, 2);
    } else if (!strcmp(cmd, "du") || !strcmp(cmd, "dg")) {
        static const char *const h[] = {"name", "super"};
        run_listing(sh, "list users", h, 2);
    } else if (!strcmp(cmd, "dp") || !strcmp(cmd, "z")) {
        static const char *const h[] = {"database", "access", "table", "privileges"};
        char c2[300];
        snprintf(c2, sizeof(c2), "list grants%s%s", nw ? " " : "", nw ? words[0] : "");
        run_listing(sh, c2, h, 4);
    } else if (!strcmp(cmd, "d") || !strcmp(cmd, "dt") || !strcmp(cmd, "dv") ||
               !strcmp(cmd, "dn") || !strcmp(cmd, "d+") || !strcmp(cmd, "dt+")) {
        describe(sh, cmd, nw ? words[0] : NULL);
    } else if (!strcmp(cmd, "copy")) {
        run_copy(sh, rest);
    } else if (!strcmp(cmd, "e") || !strcmp(cmd, "edit")) {
        edit_buffer(sh, nw ? words[0] : NULL);
    } else if (!strcmp(cmd, "conninfo")) {
        print_conninfo(sh);
    } else if (!strcmp(cmd, "timing")) {
        sh->timing = n < 2 ? !sh->timing : !strcasecmp(arg, "on");
        printf("Timing is %s.\n", sh->timing ? "on" : "off");
    } else if (!strcmp(cmd, "mode")) {
        if (n < 2 || !strcmp(arg, "table"))
            sh->mode = MODE_TABLE;
        else if (!strcmp(arg, "csv"))
            sh->mode = MODE_CSV;
        else if (!strcmp(arg, "json"))
            sh->mode = MODE_JSON;
        else if (!strcmp(arg, "line"))
            sh->mode = MODE_LINE;
        else
            fprintf(stderr, "usage: \\mode table|csv|json|line\n");
    } else {
        fprintf(stderr, "unknown command \\%s; \\? lists the commands\n", cmd);
        report_usage(sh);
    }
    free(line);
}

/* ---- the statement splitter ----------------------------------------------------------- */

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* The first byte after leading blanks and comments (-- to the end of the line, and C style). */
static char *skip_comments(char *s)
{
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (s[0] == '-' && s[1] == '-') {
            char *nl = strchr(s, '\n');
            s = nl ? nl + 1 : s + strlen(s);
        } else if (s[0] == '/' && s[1] == '*') {
            char *end = strstr(s + 2, "*/");
            if (!end)
                return s;
            s = end + 2;
        } else {
            return s;
        }
    }
}

static void run_statement(Shell *sh, char *stmt)
{
    if (!sh->last_sql || strcmp(sh->last_sql, stmt) != 0) {
        free(sh->last_sql);
        sh->last_sql = strdup(stmt);
    }
    size_t len = strlen(stmt);
    while (len && isspace((unsigned char)stmt[len - 1]))
        stmt[--len] = '\0';
    /* Comments before a statement would hide a transaction command from the check below. */
    char *start = skip_comments(stmt);
    if (!*start || !strcmp(start, ";"))
        return;
    if (is_transaction(start))
        run_command(sh, start);
    else
        run_sql(sh, start);
}

static void run_statement_copy(Shell *sh, const char *stmt)
{
    char *copy = strdup(stmt);
    if (copy)
        run_statement(sh, copy);
    free(copy);
}

/* Scans the collected SQL from sh->scanned; runs every statement ended by a top-level ';'. */
static void scan_sql(Shell *sh)
{
    size_t i = sh->scanned;
    while (i < sh->sql_len && !sh->quit) {
        char ch = sh->sql[i], next = i + 1 < sh->sql_len ? sh->sql[i + 1] : '\0';
        switch (sh->lex) {
        case LEX_NORMAL:
            if (ch == '\'') {
                sh->lex = LEX_SQUOTE;
            } else if (ch == '"') {
                sh->lex = LEX_DQUOTE;
            } else if (ch == '-' && next == '-') {
                sh->lex = LEX_LINE_COMMENT;
                i++;
            } else if (ch == '/' && next == '*') {
                sh->lex = LEX_BLOCK_COMMENT;
                i++;
            } else if (ch == '$' && (i == 0 || !isalnum((unsigned char)sh->sql[i - 1]))) {
                /* $tag$ ... $tag$ (a $1 placeholder is not a tag: it has no closing '$'). */
                size_t k = i + 1;
                while (k < sh->sql_len && (isalnum((unsigned char)sh->sql[k]) || sh->sql[k] == '_'))
                    k++;
                if (k < sh->sql_len && sh->sql[k] == '$' && k - i < sizeof(sh->dollar_tag) &&
                    !isdigit((unsigned char)sh->sql[i + 1])) {
                    memcpy(sh->dollar_tag, sh->sql + i, k - i + 1);
                    sh->dollar_tag[k - i + 1] = '\0';
                    sh->lex = LEX_DOLLAR;
                    i = k;
                }
            } else if (ch == ';') {
                /* A statement: run it, keep the rest. */
                char saved = sh->sql[i + 1];
                sh->sql[i + 1] = '\0';
                char *stmt = strdup(sh->sql);
                sh->sql[i + 1] = saved;
                size_t rest = sh->sql_len - (i + 1);
                memmove(sh->sql, sh->sql + i + 1, rest);
                sh->sql_len = rest;
                sh->sql[rest] = '\0';
                i = 0;
                if (stmt)
                    run_statement(sh, stmt);
                free(stmt);
                if (blank(sh->sql, sh->sql_len))
                    sh->sql_len = 0;
                continue;
            }
            break;
        case LEX_SQUOTE:
            if (ch == '\'')
                sh->lex = LEX_NORMAL; /* '' is two quoted strings back to back: same effect */
            break;
        case LEX_DQUOTE:
            if (ch == '"')
                sh->lex = LEX_NORMAL;
            break;
        case LEX_LINE_COMMENT:
            if (ch == '\n')
                sh->lex = LEX_NORMAL;
            break;
        case LEX_BLOCK_COMMENT:
            if (ch == '*' && next == '/') {
                sh->lex = LEX_NORMAL;
                i++;
            }
            break;
        case LEX_DOLLAR: {
            size_t tl = strlen(sh->dollar_tag);
            if (ch == '$' && sh->sql_len - i >= tl && !memcmp(sh->sql + i, sh->dollar_tag, tl)) {
                sh->lex = LEX_NORMAL;
                i += tl - 1;
            }
            break;
        }
        }
        i++;
    }
    sh->scanned = sh->sql_len < i ? sh->sql_len : i;
    if (sh->sql_len == 0) {
        sh->scanned = 0;
        sh->lex = LEX_NORMAL;
    }
}

static void append_sql(Shell *sh, const char *line)
{
    size_t len = strlen(line);
    if (sh->sql_len + len + 2 > sh->sql_cap) {
        size_t cap = (sh->sql_len + len + 2) * 2;
        char *p = realloc(sh->sql, cap);
        if (!p) {
            fprintf(stderr, "Error: out of memory\n");
            exit(EXIT_USAGE);
        }
        sh->sql = p;
        sh->sql_cap = cap;
    }
    memcpy(sh->sql + sh->sql_len, line, len);
    sh->sql_len += len;
    sh->sql[sh->sql_len++] = '\n';
    sh->sql[sh->sql_len] = '\0';
}

static void feed_line_now(Shell *sh, const char *line);

/* Feeds one input line (without its newline), with the variables interpolated. */
static void feed_line(Shell *sh, const char *line)
{
    LexState at = sh->lex == LEX_LINE_COMMENT ? LEX_NORMAL : sh->lex;
    char *expanded = sh->nvars && strchr(line, ':') ? interpolate(sh, line, at) : NULL;
    feed_line_now(sh, expanded ? expanded : line);
    free(expanded);
}

static void feed_line_now(Shell *sh, const char *line)
{
    /* Comment lines before a command are dropped, so the command is recognised. */
    if (sh->sql_len > 0 && sh->lex == LEX_NORMAL && !*skip_comments(sh->sql)) {
        sh->sql_len = 0;
        sh->scanned = 0;
    }
    /* A backslash command runs at once, also after an unfinished statement (as in psql: the
     * statement stays collected, and \g sends it); inside a quote or comment it is text. */
    if (sh->sql_len == 0 || sh->lex == LEX_NORMAL) {
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\\') {
            run_backslash(sh, p);
            return;
        }
    }
    if (sh->sql_len == 0) {
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            return;
        char w[1][32];
        if (split_words(p, w, 1) == 1 && (!strcmp(w[0], "quit") || !strcmp(w[0], "exit")) &&
            blank(p + 4, strlen(p + 4))) {
            sh->quit = true;
            return;
        }
        if (is_server_command(p)) {
            char *cmd = strdup(p);
            if (!cmd)
                return;
            size_t len = strlen(cmd);
            while (len && (isspace((unsigned char)cmd[len - 1]) || cmd[len - 1] == ';'))
                cmd[--len] = '\0';
            run_command(sh, cmd);
            free(cmd);
            return;
        }
    }
    append_sql(sh, line);
    scan_sql(sh);
}

/* Runs what is left at the end of a source: the last statement may lack its ';'. */
static void flush_sql(Shell *sh)
{
    if (sh->sql_len && !sh->quit) {
        if (sh->lex == LEX_NORMAL || sh->lex == LEX_LINE_COMMENT) {
            char *stmt = strdup(sh->sql);
            if (stmt)
                run_statement(sh, stmt);
            free(stmt);
        } else {
            fprintf(stderr, "Error: unterminated quote or comment at the end of the input\n");
            sh->status = EXIT_SQL;
        }
    }
    sh->sql_len = 0;
    sh->scanned = 0;
    sh->lex = LEX_NORMAL;
}

/* Runs the lines of `in`; `data` is where \copy ... FROM stdin reads. */
static void run_stream_from(Shell *sh, FILE *in, FILE *data)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    FILE *outer = sh->input;
    sh->input = data;
    while (!sh->quit && (n = getline(&line, &cap, in)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        feed_line(sh, line);
    }
    free(line);
    flush_sql(sh);
    sh->input = outer;
}

static void run_stream(Shell *sh, FILE *in)
{
    run_stream_from(sh, in, in);
}

static void run_text(Shell *sh, const char *text)
{
    if (!*text)
        return;
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    if (!in) {
        fprintf(stderr, "Error: %s\n", strerror(errno));
        sh->status = EXIT_USAGE;
        sh->quit = true;
        return;
    }
    /* A -c text's \copy ... FROM stdin reads the shell's standard input (as psql). */
    run_stream_from(sh, in, sh->input ? sh->input : stdin);
    fclose(in);
}

/* ---- interactive mode ----------------------------------------------------------------- */

static void history_path(char *out, size_t len)
{
    const char *home = getenv("HOME");
    if (home && *home)
        snprintf(out, len, "%s/.tcpduckdb_history", home);
    else
        out[0] = '\0';
}

/*
 * History keeps a statement typed over several lines as one entry (as psql), with its line
 * breaks: the lines are collected in `pending` until the statement is complete (`done`). A
 * backslash command typed in the middle is an entry of its own.
 */
typedef struct {
    char *text;
    size_t len;
} Pending;

static void remember(Pending *p, const char *line, bool done)
{
    const char *t = line;
    while (isspace((unsigned char)*t))
        t++;
    if (*t == '\\' && p->len) {
        add_history(line);
        return;
    }
    if (!*t && !p->len)
        return;
    size_t n = strlen(line);
    char *grown = realloc(p->text, p->len + n + 2);
    if (!grown)
        return;
    p->text = grown;
    if (p->len)
        p->text[p->len++] = '\n';
    memcpy(p->text + p->len, line, n + 1);
    p->len += n;
    if (done) {
        add_history(p->text);
        p->len = 0;
    }
}

/* ---- tab completion ------------------------------------------------------------------- */

/*
 * Tab completes SQL keywords, shell commands' first words and the names of tables and columns
 * of the connected database: read from information_schema when the user may (else the table
 * names of their grants), once per database, at the first Tab.
 */
static Shell *complete_shell;
static StrList complete_names;
static char complete_db[128];
static bool complete_loaded;

static const char *const sql_keywords[] = {
    "SELECT",       "FROM",         "WHERE",       "GROUP BY",
    "ORDER BY",     "HAVING",       "LIMIT",       "OFFSET",
    "INSERT INTO",  "VALUES",       "UPDATE",      "SET",
    "DELETE FROM",  "CREATE TABLE", "CREATE VIEW", "CREATE SCHEMA",
    "CREATE INDEX", "DROP TABLE",   "DROP VIEW",   "ALTER TABLE",
    "JOIN",         "LEFT JOIN",    "INNER JOIN",  "ON",
    "USING",        "AS",           "AND",         "OR",
    "NOT",          "NULL",         "IS",          "IN",
    "EXISTS",       "BETWEEN",      "LIKE",        "DISTINCT",
    "UNION",        "UNION ALL",    "CASE",        "WHEN",
    "THEN",         "ELSE",         "END",         "WITH",
    "COUNT",        "EXPLAIN",      "BEGIN",       "COMMIT",
    "ROLLBACK",     "DESC",         "ASC",         "PRIMARY KEY",
    "DEFAULT",      "INTEGER",      "BIGINT",      "VARCHAR",
    "DOUBLE",       "BOOLEAN",      "DATE",        "TIMESTAMP",
    "COPY",         "RETURNING",    NULL};

static void complete_load(Shell *sh)
{
    if (complete_loaded && !strcmp(complete_db, sh->database))
        return;
    sl_free(&complete_names);
    complete_names = (StrList){0};
    snprintf(complete_db, sizeof(complete_db), "%s", sh->database);
    complete_loaded = true;
    if (!sh->database[0])
        return;
    tdb_result *r = NULL;
    if (catalog_readable(sh) &&
        tdb_query(sh->conn,
                  "SELECT DISTINCT table_name FROM information_schema.tables WHERE table_catalog "
                  "= current_database() UNION SELECT DISTINCT column_name FROM "
                  "information_schema.columns WHERE table_catalog = current_database()",
                  NULL, 0, &r) == 0) {
        for (size_t i = 0; i < tdb_result_nrows(r); i++) {
            const char *t = tdb_result_text(r, i, 0, NULL);
            if (t)
                sl_push(&complete_names, strdup(t));
        }
        tdb_result_free(r);
        return;
    }
    tdb_result_free(r);
    char *answer = NULL;
    if (tdb_command(sh->conn, "list grants", &answer) != 0)
        return;
    for (const char *p = answer; (p = strstr(p, "\"table\":")) != NULL;) {
        p += 8;
        bool nul;
        char *t = json_value(&p, &nul);
        if (t && !nul)
            sl_push(&complete_names, t);
        else
            free(t);
    }
    free(answer);
}

static char *complete_next(const char *text, int state)
{
    static size_t kw, nm;
    size_t len = strlen(text);
    if (state == 0)
        kw = nm = 0;
    bool lower = len && islower((unsigned char)text[0]);
    while (sql_keywords[kw]) {
        const char *k = sql_keywords[kw++];
        if (!strncasecmp(k, text, len)) {
            char *m = strdup(k);
            for (char *c = m; m && lower && *c; c++)
                *c = (char)tolower((unsigned char)*c);
            return m;
        }
    }
    while (nm < complete_names.n) {
        const char *n = complete_names.v[nm++];
        if (!strncmp(n, text, len))
            return strdup(n);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    if (complete_shell)
        complete_load(complete_shell);
    return rl_completion_matches(text, complete_next);
}

static void run_interactive(Shell *sh)
{
    complete_shell = sh;
    rl_attempted_completion_function = complete;
    static Pending pending; /* static: kept across the siglongjmp of Ctrl-C */
    char hist[4096];
    history_path(hist, sizeof(hist));
    using_history();
    stifle_history(2000);
    if (hist[0])
        read_history(hist);
    printf("tcp-duckdb-cli %s. Type \\? for help, \\q to quit.\n", TCPDUCKDB_VERSION);
    if (tdb_tls_version(sh->conn))
        print_tls(sh, stdout);
    while (!sh->quit) {
        char prompt[160];
        const char *name = sh->database[0] ? sh->database : "tcpduckdb";
        snprintf(prompt, sizeof(prompt), "%s%s ", name, sh->sql_len ? "->" : "=>");
        if (sigsetjmp(sigint_jmp, 1) != 0) {
            /* Ctrl-C at the prompt: the line and the statement so far are dropped. */
            putchar('\n');
            fflush(stdout);
            sh->sql_len = 0;
            sh->scanned = 0;
            sh->lex = LEX_NORMAL;
            pending.len = 0;
            continue;
        }
        sigint_in_readline = 1;
        char *line = readline(prompt);
        sigint_in_readline = 0;
        if (!line) {
            putchar('\n');
            break;
        }
        feed_line(sh, line);
        remember(&pending, line, sh->sql_len == 0);
        if (sh->sql_len == 0)
            complete_loaded = false; /* a statement may have created a table */
        free(line);
        fflush(stdout);
    }
    free(pending.text);
    sl_free(&complete_names);
    complete_names = (StrList){0};
    complete_shell = NULL;
    if (hist[0] && write_history(hist) != 0)
        fprintf(stderr, "cannot write the history file %s\n", hist);
}

/* ---- start-up ------------------------------------------------------------------------- */

/* Reads a password from the terminal without echo; NULL when there is no terminal. */
static char *prompt_password(const char *user)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    FILE *tty = fdopen(fd, "r+");
    if (!tty) {
        close(fd);
        return NULL;
    }
    struct termios old, quiet;
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    fprintf(tty, "Password for user %s: ", user);
    fflush(tty);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, tty);
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = '\0';
    return line;
}

/*
 * The password file, as libpq's .pgpass: $TCPDUCKDB_PASSFILE or ~/.tcpduckdbpass, lines
 * host:port:database:user:password, `*` matching anything in the first four fields, `\:` and
 * `\\` escaping, `#` starting a comment line. The first matching line wins. The database
 * field matches the -d database ("" when none). A file readable or writable by group or others
 * is ignored with a warning (its mode must be 0600 or stricter). Returns a malloc'd password or
 * NULL.
 */
static bool passfile_field(char **p, char *out, size_t cap)
{
    size_t n = 0;
    while (**p && **p != ':') {
        char ch = *(*p)++;
        if (ch == '\\' && **p)
            ch = *(*p)++;
        if (n + 1 < cap)
            out[n++] = ch;
    }
    out[n] = '\0';
    if (**p == ':') {
        (*p)++;
        return true;
    }
    return false;
}

static bool passfile_match(const char *field, const char *value)
{
    return !strcmp(field, "*") || !strcmp(field, value);
}

static char *passfile_password(const char *host, long port, const char *database, const char *user)
{
    char path[4096];
    const char *env = getenv("TCPDUCKDB_PASSFILE");
    const char *home = getenv("HOME");
    if (env && *env)
        snprintf(path, sizeof(path), "%s", env);
    else if (home && *home)
        snprintf(path, sizeof(path), "%s/.tcpduckdbpass", home);
    else
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        fprintf(stderr,
                "WARNING: password file \"%s\" has group or world access; permissions "
                "should be u=rw (0600) or less\n",
                path);
        fclose(f);
        return NULL;
    }
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%ld", port);
    char *line = NULL, *found = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!found && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!n || line[0] == '#')
            continue;
        char fh[256], fp[32], fd[256], fu[256], pw[1024];
        char *p = line;
        if (!passfile_field(&p, fh, sizeof(fh)) || !passfile_field(&p, fp, sizeof(fp)) ||
            !passfile_field(&p, fd, sizeof(fd)) || !passfile_field(&p, fu, sizeof(fu)))
            continue;
        passfile_field(&p, pw, sizeof(pw));
        if (passfile_match(fh, host) && passfile_match(fp, portstr) &&
            passfile_match(fd, database ? database : "") && passfile_match(fu, user))
            found = strdup(pw);
        memset(pw, 0, sizeof(pw));
    }
    if (line)
        memset(line, 0, cap);
    free(line);
    fclose(f);
    return found;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tcp-duckdb-cli [-h HOST] [-p PORT] [-U USER] [-d DATABASE]\n"
            "                      [-c SQL]... [-f FILE] [--csv|--json|--line|--table]\n"
            "                      [--sslmode MODE] [--sslrootcert FILE]\n"
            "                      [--sslcert FILE] [--sslkey FILE]\n"
            "  -h HOST       server host (default $TCPDUCKDB_HOST or 127.0.0.1)\n"
            "  -p PORT       server port (default $TCPDUCKDB_PORT or 4000)\n"
            "  -U USER       log in as USER (default $TCPDUCKDB_USER, else $USER;\n"
            "                -U \"\" connects without logging in)\n"
            "  -d DATABASE   connect to DATABASE after login (default $TCPDUCKDB_DATABASE)\n"
            "  -c SQL        run SQL or a server command (repeatable), then exit\n"
            "  -f FILE       run the statements in FILE (- for stdin), then exit\n"
            "  --csv, --json, --line, --table   output format (default: aligned table)\n"
            "  --sslmode MODE      disable, prefer, require, verify-ca or verify-full\n"
            "                      (default $TCPDUCKDB_SSLMODE or prefer)\n"
            "  --sslrootcert FILE  CA certificates for verify-ca/verify-full\n"
            "                      (default $TCPDUCKDB_SSLROOTCERT, else the system's)\n"
            "  --sslcert FILE      client certificate (default $TCPDUCKDB_SSLCERT)\n"
            "  --sslkey FILE       its key (default $TCPDUCKDB_SSLKEY, else in --sslcert)\n"
            "  -t, -A, -F SEP, -x   tuples only, unaligned, field separator, expanded\n"
            "  -o FILE       results to FILE\n"
            "  -q            quiet: no \"success\", row counts or informational lines\n"
            "  -v NAME=VALUE set a variable (-v ON_ERROR_STOP=1: stop at the first error)\n"
            "  -1            run the -c/-f actions in one transaction\n"
            "  --help        this text\n"
            "The password comes from $TCPDUCKDB_PASSWORD, else the password file\n"
            "($TCPDUCKDB_PASSFILE or ~/.tcpduckdbpass, host:port:database:user:password,\n"
            "mode 0600), else is asked for on the terminal.\n"
            "Without -c or -f, reads stdin when it is not a terminal, else runs interactively.\n"
            "Exit status: 0 ok, 1 a request failed, 2 usage or connection error,\n"
            "3 stopped by ON_ERROR_STOP.\n");
}

typedef struct {
    char kind; /* 'c' or 'f' */
    const char *arg;
} Action;

int main(int argc, char **argv)
{
    /* The terminal's character set, so libedit reads and echoes multibyte (UTF-8) input:
     * in the default C locale it drops every byte above 127, silently changing what the
     * user typed (issue 21). Only LC_CTYPE: numbers keep the C locale's format. */
    setlocale(LC_CTYPE, "");
    Shell sh = {
        .mode = MODE_TABLE, .pager = true, .border = 1, .null_str = "NULL", .fieldsep = "|"};
    sh.out = stdout;
    const char *output = NULL;
    bool single_tx = false;
    const char *host = getenv("TCPDUCKDB_HOST") ? getenv("TCPDUCKDB_HOST") : "127.0.0.1";
    const char *port_s = getenv("TCPDUCKDB_PORT") ? getenv("TCPDUCKDB_PORT") : "4000";
    const char *user = getenv("TCPDUCKDB_USER");
    const char *database = getenv("TCPDUCKDB_DATABASE");
    const char *sslmode = getenv("TCPDUCKDB_SSLMODE");
    tdb_tls_options tls = {.sslrootcert = getenv("TCPDUCKDB_SSLROOTCERT"),
                           .sslcert = getenv("TCPDUCKDB_SSLCERT"),
                           .sslkey = getenv("TCPDUCKDB_SSLKEY")};
    Action *actions = calloc((size_t)argc, sizeof(Action));
    size_t nactions = 0;
    static const struct option longopts[] = {{"csv", no_argument, NULL, 'C'},
                                             {"json", no_argument, NULL, 'J'},
                                             {"line", no_argument, NULL, 'L'},
                                             {"table", no_argument, NULL, 'T'},
                                             {"help", no_argument, NULL, 'H'},
                                             {"host", required_argument, NULL, 'h'},
                                             {"port", required_argument, NULL, 'p'},
                                             {"username", required_argument, NULL, 'U'},
                                             {"dbname", required_argument, NULL, 'd'},
                                             {"command", required_argument, NULL, 'c'},
                                             {"file", required_argument, NULL, 'f'},
                                             {"sslmode", required_argument, NULL, 'S'},
                                             {"sslrootcert", required_argument, NULL, 'R'},
                                             {"sslcert", required_argument, NULL, 'E'},
                                             {"sslkey", required_argument, NULL, 'K'},
                                             {"tuples-only", no_argument, NULL, 't'},
                                             {"no-align", no_argument, NULL, 'A'},
                                             {"field-separator", required_argument, NULL, 'F'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"set", required_argument, NULL, 'v'},
                                             {"variable", required_argument, NULL, 'v'},
                                             {"single-transaction", no_argument, NULL, '1'},
                                             {"expanded", no_argument, NULL, 'x'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    if (!actions)
        return EXIT_USAGE;
    while ((opt = getopt_long(argc, argv, "h:p:U:d:c:f:tAF:o:qv:1x", longopts, NULL)) != -1) {
        switch (opt) {
        case 't':
            sh.tuples_only = true;
            break;
        case 'A':
            sh.mode = MODE_UNALIGNED;
            break;
        case 'F':
            snprintf(sh.fieldsep, sizeof(sh.fieldsep), "%s", optarg);
            break;
        case 'o':
            output = optarg;
            break;
        case 'q':
            sh.quiet = true;
            break;
        case 'x':
            sh.expanded = true;
            break;
        case '1':
            single_tx = true;
            break;
        case 'v': {
            char *eq = strchr(optarg, '=');
            if (eq) {
                *eq = '\0';
                var_set(&sh, optarg, eq + 1);
                *eq = '=';
            } else {
                var_set(&sh, optarg, "");
            }
            break;
        }
        case 'h':
            host = optarg;
            break;
        case 'p':
            port_s = optarg;
            break;
        case 'U':
            user = optarg;
            break;
        case 'd':
            database = optarg;
            break;
        case 'c':
        case 'f':
            actions[nactions].kind = (char)opt;
            actions[nactions++].arg = optarg;
            break;
        case 'C':
            sh.mode = MODE_CSV;
            break;
        case 'J':
            sh.mode = MODE_JSON;
            break;
        case 'L':
            sh.mode = MODE_LINE;
            break;
        case 'T':
            sh.mode = MODE_TABLE;
            break;
        case 'S':
            sslmode = optarg;
            break;
        case 'R':
            tls.sslrootcert = optarg;
            break;
        case 'E':
            tls.sslcert = optarg;
            break;
        case 'K':
            tls.sslkey = optarg;
            break;
        case 'H':
            usage(stdout);
            free(actions);
            return 0;
        default:
            usage(stderr);
            free(actions);
            return EXIT_USAGE;
        }
    }
    char *end = NULL;
    long port = strtol(port_s, &end, 10);
    if (optind < argc || *end || port <= 0 || port > 65535) {
        usage(stderr);
        free(actions);
        return EXIT_USAGE;
    }
    if (sslmode && *sslmode && tdb_sslmode_parse(sslmode, &tls.sslmode) != TDB_OK) {
        fprintf(stderr,
                "Error: bad sslmode \"%s\": use disable, prefer, require, verify-ca or "
                "verify-full\n",
                sslmode);
        free(actions);
        return EXIT_USAGE;
    }
    /* No user given: the login name, as psql. -U "" connects without logging in. */
    if (!user) {
        user = getenv("USER");
        if (!user || !*user) {
            const struct passwd *pw = getpwuid(getuid());
            user = pw ? pw->pw_name : NULL;
        }
    }
    if (database && !*database)
        database = NULL;
    sh.host = host;
    sh.port = port;
    sh.user = user;

    sh.conn = tdb_conn_new();
    if (!sh.conn) {
        free(actions);
        return EXIT_USAGE;
    }
    int rc = tdb_set_tls(sh.conn, &tls);
    if (rc == 0)
        rc = tdb_connect(sh.conn, host, (int)port, 10000);
    if (rc == 0 && user && *user) {
        char *prompted = NULL;
        const char *password = getenv("TCPDUCKDB_PASSWORD");
        if (!password)
            password = prompted = passfile_password(host, port, database, user);
        if (!password)
            password = prompted = prompt_password(user);
        if (!password) {
            fprintf(stderr, "Error: no password: set TCPDUCKDB_PASSWORD or run on a terminal\n");
            tdb_close(sh.conn);
            free(actions);
            return EXIT_USAGE;
        }
        rc = tdb_login(sh.conn, user, password);
        if (prompted) {
            memset(prompted, 0, strlen(prompted));
            free(prompted);
        }
    }
    if (rc == 0 && database) {
        rc = tdb_connect_database(sh.conn, database);
        if (rc == 0)
            snprintf(sh.database, sizeof(sh.database), "%s", database);
    }
    if (rc != 0) {
        fprintf(stderr, "Error: %s\n", tdb_error(sh.conn));
        tdb_close(sh.conn);
        free(actions);
        return EXIT_USAGE;
    }
    if (user && *user)
        sh.cancel = tdb_get_cancel(sh.conn); /* NULL (an old server): Ctrl-C cannot cancel */
    pthread_t cancel_thread;
    bool sigint_on = sigint_start(&cancel_thread) == 0;

    if (output && set_output(&sh, output) != 0) {
        tdb_close(sh.conn);
        free(actions);
        return EXIT_USAGE;
    }
    /* -1: the -c and -f actions in one transaction, rolled back if any of them failed. */
    single_tx = single_tx && nactions > 0;
    if (single_tx && tdb_command(sh.conn, "begin", NULL) != 0) {
        report_error(&sh, TDB_ESERVER);
        single_tx = false;
    }
    if (nactions > 0) {
        for (size_t i = 0; i < nactions && !sh.quit; i++) {
            if (actions[i].kind == 'c') {
                run_text(&sh, actions[i].arg);
            } else if (!strcmp(actions[i].arg, "-")) {
                run_stream(&sh, stdin);
            } else {
                FILE *f = fopen(actions[i].arg, "r");
                if (!f) {
                    fprintf(stderr, "Error: cannot open %s: %s\n", actions[i].arg, strerror(errno));
                    sh.status = EXIT_USAGE;
                    break;
                }
                run_stream(&sh, f);
                fclose(f);
            }
        }
    } else if (isatty(STDIN_FILENO)) {
        sh.interactive = true;
        sigint_interactive = 1;
        run_interactive(&sh);
    } else {
        run_stream(&sh, stdin);
    }
    if (single_tx && tdb_is_connected(sh.conn)) {
        const char *end_tx = sh.had_error ? "rollback" : "commit";
        if (tdb_command(sh.conn, end_tx, NULL) != 0)
            report_error(&sh, TDB_ESERVER);
    }
    if (sh.had_error && !sh.status && !sh.interactive)
        sh.status = EXIT_SQL;
    set_output(&sh, NULL);
    fflush(stdout);
    if (sigint_on)
        sigint_stop(cancel_thread);
    tdb_free_cancel(sh.cancel);
    tdb_close(sh.conn);
    free(sh.sql);
    free(sh.last_sql);
    for (size_t i = 0; i < sh.nvars; i++) {
        free(sh.vars[i].name);
        free(sh.vars[i].value);
    }
    free(sh.vars);
    free(actions);
    return sh.status;
}
