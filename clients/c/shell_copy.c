/*
 * shell_copy.c: the shell's \copy (shell_copy.h says what it does).
 *
 * FROM reads records (CSV as RFC 4180 with psql's NULL rule: an unquoted field equal to the
 * NULL text, empty by default, is NULL; or PostgreSQL's text format: \N and backslash escapes)
 * and sends them as `INSERT INTO T [(COLUMNS)] VALUES (?, ...), ...` with every value bound as
 * text, which DuckDB casts to the column's type. A batch holds at most BATCH_ROWS rows,
 * PARAMS_PER_BATCH values (the server binds up to 1024) and about BATCH_BYTES of data, so
 * memory stays bounded whatever the file's size. The number of columns is the first record's:
 * no SELECT is needed, so a user with only the INSERT privilege can load a table.
 *
 * TO streams `SELECT * FROM T`, `SELECT COLUMNS FROM T` or QUERY, row by row, into the file.
 *
 * PROGRAM 'COMMAND' runs COMMAND with /bin/sh on the client machine (popen, as psql does): FROM
 * reads its standard output, TO writes to its standard input. Its exit status is checked when
 * it ends: a program that fails makes the \copy fail (FROM: before the commit, so nothing it
 * sent stays in a transaction of the copy's own).
 */
#include "shell_copy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BATCH_ROWS 512
#define PARAMS_PER_BATCH 1024
#define BATCH_BYTES (256 * 1024)

typedef enum { FMT_TEXT, FMT_CSV } Format;

typedef struct {
    char *table;   /* TABLE as typed (an SQL name), or NULL for (QUERY) */
    char *columns; /* "(a, b)" as typed, or NULL */
    char *query;   /* QUERY, or NULL */
    bool from;
    char *file;   /* NULL: stdin / stdout; with `program`, the command */
    bool program; /* file is a command run by the shell (PROGRAM 'COMMAND') */
    bool process_std;
    Format format;
    bool header;
    char delim;
    char *null_text; /* NULL: the format's default (text \N, csv empty) */
} Spec;

/* A growable buffer. */
typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static int buf_put(Buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int buf_putc(Buf *b, char ch)
{
    return buf_put(b, &ch, 1);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return SHCOPY_LOCAL;
}

/* ---- parsing the arguments --------------------------------------------------------------- */

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* A parenthesised group starting at *p ('('): its inner text (quotes and nesting honoured). */
static char *take_group(const char **p)
{
    const char *s = *p + 1;
    int depth = 1;
    char quote = 0;
    const char *q = s;
    for (; *q; q++) {
        if (quote) {
            if (*q == quote)
                quote = 0;
        } else if (*q == '\'' || *q == '"') {
            quote = *q;
        } else if (*q == '(') {
            depth++;
        } else if (*q == ')' && --depth == 0) {
            break;
        }
    }
    if (*q != ')')
        return NULL;
    *p = q + 1;
    return strndup(s, (size_t)(q - s));
}

/* A word: a 'quoted' string ('' for a quote) or bare text up to a blank, ',', '(', ')' or
 * ';' (a final ';' is allowed, as after SQL). */
static char *take_word(const char **p, bool *out_quoted)
{
    const char *s = skip_space(*p);
    Buf b = {0};
    if (out_quoted)
        *out_quoted = *s == '\'';
    if (*s == '\'') {
        for (s++;; s++) {
            if (!*s) {
                free(b.p);
                return NULL;
            }
            if (*s == '\'' && s[1] == '\'') {
                s++;
            } else if (*s == '\'') {
                s++;
                break;
            }
            if (buf_putc(&b, *s) != 0) {
                free(b.p);
                return NULL;
            }
        }
    } else {
        const char *e = s;
        while (*e && !isspace((unsigned char)*e) && !strchr(",();", *e))
            e++;
        if (e == s)
            return NULL;
        if (buf_put(&b, s, (size_t)(e - s)) != 0) {
            free(b.p);
            return NULL;
        }
        s = e;
    }
    if (!b.p && buf_put(&b, "", 0) != 0)
        return NULL;
    *p = s;
    return b.p;
}

/* A table name as typed: up to a blank or '(' outside double quotes. */
static char *take_name(const char **p)
{
    const char *s = skip_space(*p), *e = s;
    bool quoted = false;
    while (*e && (quoted || (!isspace((unsigned char)*e) && *e != '('))) {
        if (*e == '"')
            quoted = !quoted;
        e++;
    }
    if (e == s || quoted)
        return NULL;
    *p = e;
    return strndup(s, (size_t)(e - s));
}

static bool bool_word(const char *w, bool *out)
{
    if (!strcasecmp(w, "true") || !strcasecmp(w, "on") || !strcmp(w, "1")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(w, "false") || !strcasecmp(w, "off") || !strcmp(w, "0")) {
        *out = false;
        return true;
    }
    return false;
}

/* One option NAME [VALUE] at *p; `list` when inside (...). 0, or SHCOPY_LOCAL. */
static int parse_option(Spec *sp, const char **p, bool list, char *err, size_t errlen)
{
    char *name = take_word(p, NULL);
    char *value = NULL;
    int rc = 0;
    if (!name)
        return fail(err, errlen, "expected an option");
    bool has_value = list && **p && *skip_space(*p) != ',' && *skip_space(*p) != '\0';
    if (!strcasecmp(name, "csv")) {
        sp->format = FMT_CSV;
    } else if (!strcasecmp(name, "binary")) {
        rc = fail(err, errlen, "the binary format is not supported (use csv or text)");
    } else if (!strcasecmp(name, "header")) {
        sp->header = true;
        if (has_value) {
            value = take_word(p, NULL);
            if (!value || !bool_word(value, &sp->header))
                rc = fail(err, errlen, "HEADER takes true or false");
        }
    } else if (!strcasecmp(name, "format") || !strcasecmp(name, "delimiter") ||
               !strcasecmp(name, "null") || !strcasecmp(name, "quote") ||
               !strcasecmp(name, "encoding")) {
        value = take_word(p, NULL);
        if (value && !list && !strcasecmp(value, "as")) {
            free(value);
            value = take_word(p, NULL);
        }
        if (!value) {
            rc = fail(err, errlen, "%s needs a value", name);
        } else if (!strcasecmp(name, "format")) {
            if (!strcasecmp(value, "csv"))
                sp->format = FMT_CSV;
            else if (!strcasecmp(value, "text"))
                sp->format = FMT_TEXT;
            else
                rc = fail(err, errlen, "FORMAT %s is not supported (csv or text)", value);
        } else if (!strcasecmp(name, "delimiter")) {
            if (strlen(value) != 1 || value[0] == '\n' || value[0] == '\r' || value[0] == '"' ||
                value[0] == '\\')
                rc = fail(err, errlen,
                          "DELIMITER must be one character (not a quote, backslash "
                          "or newline)");
            else
                sp->delim = value[0];
        } else if (!strcasecmp(name, "null")) {
            free(sp->null_text);
            sp->null_text = value;
            value = NULL;
        } else if (!strcasecmp(name, "quote")) {
            if (strcmp(value, "\""))
                rc = fail(err, errlen, "only QUOTE '\"' is supported");
        } else if (strcasecmp(value, "utf8") && strcasecmp(value, "utf-8")) {
            rc = fail(err, errlen, "only ENCODING 'UTF8' is supported");
        }
    } else {
        rc = fail(err, errlen, "unknown option %s", name);
    }
    free(name);
    free(value);
    return rc;
}

static void spec_free(Spec *sp)
{
    free(sp->table);
    free(sp->columns);
    free(sp->query);
    free(sp->file);
    free(sp->null_text);
}

static int parse_spec(Spec *sp, const char *args, char *err, size_t errlen)
{
    static const char usage[] =
        "usage: \\copy TABLE [(COLUMNS)] FROM 'FILE'|PROGRAM 'COMMAND'|stdin|pstdin "
        "[options] or \\copy TABLE|(QUERY) TO 'FILE'|PROGRAM 'COMMAND'|stdout|pstdout "
        "[options]";
    const char *p = skip_space(args);
    sp->delim = 0;
    if (*p == '(') {
        sp->query = take_group(&p);
        if (!sp->query || !*skip_space(sp->query))
            return fail(err, errlen, "%s", usage);
    } else {
        sp->table = take_name(&p);
        if (!sp->table)
            return fail(err, errlen, "%s", usage);
        p = skip_space(p);
        if (*p == '(') {
            const char *start = p;
            char *inner = take_group(&p);
            if (!inner)
                return fail(err, errlen, "%s", usage);
            free(inner);
            sp->columns = strndup(start, (size_t)(p - start));
        }
    }
    char *dir = take_word(&p, NULL);
    if (dir && !strcasecmp(dir, "from"))
        sp->from = true;
    else if (!dir || strcasecmp(dir, "to")) {
        free(dir);
        return fail(err, errlen, "%s", usage);
    }
    free(dir);
    if (sp->from && sp->query)
        return fail(err, errlen, "\\copy (QUERY) can only go TO a file");
    bool quoted = false;
    char *file = take_word(&p, &quoted);
    if (!file)
        return fail(err, errlen, "%s", usage);
    if (!quoted && !strcasecmp(file, "program")) {
        free(file);
        file = take_word(&p, NULL);
        if (!file)
            return fail(err, errlen, "PROGRAM needs a command: PROGRAM 'COMMAND'");
        sp->file = file;
        sp->program = true;
        if (!*file)
            return fail(err, errlen, "an empty command");
    } else if (!quoted && (!strcasecmp(file, "stdin") || !strcasecmp(file, "stdout") ||
                           !strcasecmp(file, "pstdin") || !strcasecmp(file, "pstdout"))) {
        bool in = !strcasecmp(file, "stdin") || !strcasecmp(file, "pstdin");
        sp->process_std = file[0] == 'p' || file[0] == 'P';
        free(file);
        if (in != sp->from)
            return fail(err, errlen, "%s", usage);
    } else {
        sp->file = file;
        if (!*file)
            return fail(err, errlen, "an empty file name");
    }
    p = skip_space(p);
    const char *save = p;
    char *with = take_word(&p, NULL);
    if (!with || strcasecmp(with, "with"))
        p = save;
    free(with);
    p = skip_space(p);
    if (*p == '(') {
        char *list = take_group(&p);
        if (!list)
            return fail(err, errlen, "%s", usage);
        const char *q = skip_space(list);
        int rc = 0;
        while (rc == 0 && *q) {
            rc = parse_option(sp, &q, true, err, errlen);
            q = skip_space(q);
            if (rc == 0 && *q == ',')
                q = skip_space(q + 1);
            else if (rc == 0 && *q)
                rc = fail(err, errlen, "expected ',' between options");
        }
        free(list);
        if (rc != 0)
            return rc;
        p = skip_space(p);
    } else {
        while (*p && *p != ';') {
            int rc = parse_option(sp, &p, false, err, errlen);
            if (rc != 0)
                return rc;
            p = skip_space(p);
        }
    }
    if (*p == ';')
        p = skip_space(p + 1);
    if (*p)
        return fail(err, errlen, "unexpected text after the options: %s", p);
    if (!sp->delim)
        sp->delim = sp->format == FMT_CSV ? ',' : '\t';
    return 0;
}

/*
 * The end of PROGRAM's COMMAND: `status` is pclose's answer. 0 when it exited with 0, else
 * SHCOPY_LOCAL with psql's reason (its exit code, or the signal that killed it).
 */
static int program_status(const char *cmd, int status, char *err, size_t errlen)
{
    if (status == -1)
        return fail(err, errlen, "program \"%s\": %s", cmd, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        return fail(err, errlen, "program \"%s\" failed: exit code %d", cmd, WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return fail(err, errlen, "program \"%s\" failed: terminated by signal %d (%s)", cmd,
                    WTERMSIG(status), strsignal(WTERMSIG(status)));
    return fail(err, errlen, "program \"%s\" failed: status %d", cmd, status);
}

/* ---- FROM: reading records --------------------------------------------------------------- */

typedef struct {
    size_t off, len;
    bool null;
} Field;

typedef struct {
    FILE *f;
    bool until_dot; /* stdin: a line `\.` ends the data */
    char *line;
    size_t cap;
    long lineno;
    bool done;
} Reader;

/* The next line without its newline (and CR); NULL at the end. */
static char *next_line(Reader *rd, size_t *out_len)
{
    if (rd->done)
        return NULL;
    ssize_t n = getline(&rd->line, &rd->cap, rd->f);
    if (n < 0) {
        rd->done = true;
        return NULL;
    }
    rd->lineno++;
    if (n > 0 && rd->line[n - 1] == '\n')
        rd->line[--n] = '\0';
    if (n > 0 && rd->line[n - 1] == '\r')
        rd->line[--n] = '\0';
    if (rd->until_dot && n == 2 && rd->line[0] == '\\' && rd->line[1] == '.') {
        rd->done = true;
        return NULL;
    }
    *out_len = (size_t)n;
    return rd->line;
}

/*
 * Reads one CSV record, appending its values to data and fields: 1, 0 at the end, or -1 (the
 * message in err). A quoted value may span lines.
 */
static int read_csv(Reader *rd, const Spec *sp, Buf *data, Field **fields, size_t *nf, size_t *fcap,
                    char *err, size_t errlen)
{
    size_t len = 0;
    char *line = next_line(rd, &len);
    if (!line)
        return 0;
    long first_line = rd->lineno;
    const char *null_text = sp->null_text ? sp->null_text : "";
    size_t i = 0;
    for (;;) {
        if (*nf == *fcap) {
            size_t cap = *fcap ? *fcap * 2 : 64;
            Field *g = realloc(*fields, cap * sizeof(Field));
            if (!g)
                return -fail(err, errlen, "out of memory");
            *fields = g;
            *fcap = cap;
        }
        Field *fd = &(*fields)[*nf];
        fd->off = data->len;
        bool quoted = false;
        /* A field: unquoted bytes and quoted runs, up to the delimiter or the line's end. */
        for (;;) {
            if (i < len && line[i] == '"') {
                quoted = true;
                i++;
                for (;;) {
                    if (i == len) {
                        /* The quoted value goes on on the next line. */
                        if (buf_putc(data, '\n') != 0)
                            return -fail(err, errlen, "out of memory");
                        line = next_line(rd, &len);
                        i = 0;
                        if (!line)
                            return -fail(err, errlen, "line %ld: unterminated quoted value",
                                         first_line);
                        continue;
                    }
                    if (line[i] == '"' && i + 1 < len && line[i + 1] == '"') {
                        if (buf_putc(data, '"') != 0)
                            return -fail(err, errlen, "out of memory");
                        i += 2;
                    } else if (line[i] == '"') {
                        i++;
                        break;
                    } else {
                        if (buf_putc(data, line[i]) != 0)
                            return -fail(err, errlen, "out of memory");
                        i++;
                    }
                }
            } else if (i < len && line[i] != sp->delim) {
                size_t s = i;
                while (i < len && line[i] != sp->delim && line[i] != '"')
                    i++;
                if (buf_put(data, line + s, i - s) != 0)
                    return -fail(err, errlen, "out of memory");
            } else {
                break;
            }
        }
        fd->len = data->len - fd->off;
        fd->null = !quoted && fd->len == strlen(null_text) &&
                   memcmp(data->p + fd->off, null_text, fd->len) == 0;
        if (buf_putc(data, '\0') != 0)
            return -fail(err, errlen, "out of memory");
        (*nf)++;
        if (i < len && line[i] == sp->delim) {
            i++;
            continue;
        }
        return 1;
    }
}

static int hex_digit(int ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* Reads one record of PostgreSQL's text format (one line; \N NULL; backslash escapes). */
static int read_text(Reader *rd, const Spec *sp, Buf *data, Field **fields, size_t *nf,
                     size_t *fcap, char *err, size_t errlen)
{
    size_t len = 0;
    char *line = next_line(rd, &len);
    if (!line)
        return 0;
    const char *null_text = sp->null_text ? sp->null_text : "\\N";
    size_t nl = strlen(null_text), i = 0;
    for (;;) {
        if (*nf == *fcap) {
            size_t cap = *fcap ? *fcap * 2 : 64;
            Field *g = realloc(*fields, cap * sizeof(Field));
            if (!g)
                return -fail(err, errlen, "out of memory");
            *fields = g;
            *fcap = cap;
        }
        Field *fd = &(*fields)[*nf];
        size_t end = i;
        while (end < len && line[end] != sp->delim) {
            if (line[end] == '\\' && end + 1 < len)
                end++;
            end++;
        }
        fd->off = data->len;
        fd->null = end - i == nl && memcmp(line + i, null_text, nl) == 0;
        while (!fd->null && i < end) {
            char ch = line[i++];
            if (ch == '\\' && i < end) {
                char e = line[i++];
                switch (e) {
                case 'b':
                    ch = '\b';
                    break;
                case 'f':
                    ch = '\f';
                    break;
                case 'n':
                    ch = '\n';
                    break;
                case 'r':
                    ch = '\r';
                    break;
                case 't':
                    ch = '\t';
                    break;
                case 'v':
                    ch = '\v';
                    break;
                case 'x':
                    if (i < end && hex_digit(line[i]) >= 0) {
                        int v = hex_digit(line[i++]);
                        if (i < end && hex_digit(line[i]) >= 0)
                            v = v * 16 + hex_digit(line[i++]);
                        ch = (char)v;
                    } else {
                        ch = 'x';
                    }
                    break;
                default:
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i < end && line[i] >= '0' && line[i] <= '7'; k++)
                            v = v * 8 + (line[i++] - '0');
                        ch = (char)v;
                    } else {
                        ch = e; /* \\ and any other character stand for themselves */
                    }
                }
            }
            if (buf_putc(data, ch) != 0)
                return -fail(err, errlen, "out of memory");
        }
        i = end;
        fd->len = data->len - fd->off;
        if (buf_putc(data, '\0') != 0)
            return -fail(err, errlen, "out of memory");
        (*nf)++;
        if (i < len) {
            i++; /* the delimiter */
            continue;
        }
        return 1;
    }
}

/* Sends the batch's rows as one INSERT. */
static int send_batch(tdb_conn *conn, const Spec *sp, const Buf *data, const Field *fields,
                      size_t nrows, size_t ncols, Buf *sql, tdb_param *params)
{
    sql->len = 0;
    int bad = buf_put(sql, "INSERT INTO ", 12) | buf_put(sql, sp->table, strlen(sp->table));
    if (sp->columns)
        bad |= buf_putc(sql, ' ') | buf_put(sql, sp->columns, strlen(sp->columns));
    bad |= buf_put(sql, " VALUES ", 8);
    for (size_t r = 0; r < nrows && !bad; r++) {
        bad |= buf_put(sql, r ? ", (" : "(", r ? 3 : 1);
        for (size_t c = 0; c < ncols; c++)
            bad |= buf_put(sql, c ? ", ?" : "?", c ? 3 : 1);
        bad |= buf_putc(sql, ')');
    }
    if (bad)
        return TDB_ENOMEM;
    for (size_t k = 0; k < nrows * ncols; k++)
        params[k] = fields[k].null ? tdb_param_null()
                                   : tdb_param_text_len(data->p + fields[k].off, fields[k].len);
    tdb_result *r = NULL;
    int rc = tdb_query(conn, sql->p, params, nrows * ncols, &r);
    tdb_result_free(r);
    return rc;
}

static int copy_from(tdb_conn *conn, const Spec *sp, FILE *in, long long *rows, char *err,
                     size_t errlen)
{
    Reader rd = {.f = in, .until_dot = !sp->file};
    if (sp->program) {
        fflush(NULL); /* the program may write to the same terminal or file */
        if (!(rd.f = popen(sp->file, "r")))
            return fail(err, errlen, "program \"%s\": %s", sp->file, strerror(errno));
    } else if (sp->file && !(rd.f = fopen(sp->file, "r"))) {
        return fail(err, errlen, "%s: %s", sp->file, strerror(errno));
    }
    if (!sp->file && isatty(fileno(in)))
        fputs("Enter data to be copied followed by a newline.\n"
              "End with a backslash and a period on a line by itself, or an EOF signal.\n",
              stderr);
    Buf data = {0}, sql = {0};
    Field *fields = NULL;
    size_t nf = 0, fcap = 0, ncols = 0, nrows = 0;
    tdb_param *params = NULL;
    bool own_tx = tdb_transaction_status_of(conn) == TDB_TRANS_IDLE;
    int rc = own_tx ? tdb_begin(conn) : 0;
    int (*read_record)(Reader *, const Spec *, Buf *, Field **, size_t *, size_t *, char *,
                       size_t) = sp->format == FMT_CSV ? read_csv : read_text;
    bool header = sp->header;
    while (rc == 0) {
        size_t before = nf;
        long line = rd.lineno + 1;
        int got = read_record(&rd, sp, &data, &fields, &nf, &fcap, err, errlen);
        if (got < 0) {
            rc = SHCOPY_LOCAL;
            break;
        }
        if (got == 1 && header) {
            header = false;
            nf = before; /* the header's values are dropped (their bytes stay until the batch) */
            continue;
        }
        if (got == 1) {
            size_t n = nf - before;
            if (ncols == 0) {
                ncols = n;
                size_t per = PARAMS_PER_BATCH / ncols;
                params = calloc((per ? per : 1) * ncols, sizeof(tdb_param));
                if (!params) {
                    rc = fail(err, errlen, "out of memory");
                    break;
                }
            } else if (n != ncols) {
                rc = fail(err, errlen, "line %ld: %zu values where the first row has %zu", line, n,
                          ncols);
                break;
            }
            nrows++;
        }
        size_t per = ncols ? PARAMS_PER_BATCH / ncols : 1;
        if (nrows && (got == 0 || nrows >= BATCH_ROWS || nrows >= (per ? per : 1) ||
                      data.len >= BATCH_BYTES)) {
            rc = send_batch(conn, sp, &data, fields, nrows, ncols, &sql, params);
            if (rc != 0)
                break;
            *rows += (long long)nrows;
            nrows = nf = data.len = 0;
        }
        if (got == 0)
            break;
    }
    if (sp->program) {
        /* Closing the pipe first ends a program we stopped reading early (SIGPIPE). */
        int status = pclose(rd.f);
        rd.f = NULL;
        if (rc == 0)
            rc = program_status(sp->file, status, err, errlen);
    }
    if (own_tx) {
        if (rc == 0) {
            rc = tdb_commit(conn);
        } else if (tdb_is_connected(conn)) {
            /* Keeps the first failure's message: the rollback's would replace it. */
            char *msg = rc < 0 ? strdup(tdb_error(conn)) : NULL;
            if (tdb_rollback(conn) != 0 && rc > 0) /* the server's reason, after a local one */
                snprintf(err + strlen(err), errlen - strlen(err), "; rollback: %s",
                         tdb_error(conn));
            if (rc < 0)
                snprintf(err, errlen, "%s", msg ? msg : "");
            if (rc < 0)
                rc = SHCOPY_LOCAL;
            free(msg);
        }
        if (rc != 0)
            *rows = 0;
    }
    if (sp->file && rd.f)
        fclose(rd.f);
    free(rd.line);
    free(data.p);
    free(sql.p);
    free(fields);
    free(params);
    return rc;
}

/* ---- TO: writing a result ----------------------------------------------------------------- */

/* A value in PostgreSQL's text format: backslash, the delimiter, CR, LF and tab escaped. */
static void put_text_value(FILE *f, const char *s, size_t len, char delim)
{
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\\' || ch == delim || ch == '\n' || ch == '\r' || ch == '\t') {
            fputc('\\', f);
            ch = ch == '\n' ? 'n' : ch == '\r' ? 'r' : ch == '\t' ? 't' : ch;
        }
        fputc(ch, f);
    }
}

static void put_csv_name(FILE *f, const char *s, char delim)
{
    if (!strchr(s, delim) && !strpbrk(s, "\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_result(tdb_conn *conn, const Spec *sp, FILE *f, long long *rows, char *err,
                        size_t errlen)
{
    Buf sql = {0};
    int bad = 0;
    if (sp->query) {
        bad = buf_put(&sql, sp->query, strlen(sp->query));
    } else {
        bad = buf_put(&sql, "SELECT ", 7);
        if (sp->columns) /* "(a, b)" without its parentheses */
            bad |= buf_put(&sql, sp->columns + 1, strlen(sp->columns) - 2);
        else
            bad |= buf_putc(&sql, '*');
        bad |= buf_put(&sql, " FROM ", 6) | buf_put(&sql, sp->table, strlen(sp->table));
    }
    if (bad) {
        free(sql.p);
        return fail(err, errlen, "out of memory");
    }
    tdb_result *r = NULL;
    int rc = tdb_query_start(conn, sql.p, NULL, 0, &r);
    free(sql.p);
    if (rc != 0)
        return rc;
    if (tdb_result_kind_of(r) != TDB_RESULT_ROWS) {
        (void)tdb_query_end(r);
        return fail(err, errlen, "the statement returns no rows");
    }
    size_t ncols = tdb_result_ncols(r);
    if (sp->header) {
        for (size_t c = 0; c < ncols; c++) {
            if (c)
                fputc(sp->delim, f);
            if (sp->format == FMT_CSV)
                put_csv_name(f, tdb_result_column_name(r, c), sp->delim);
            else
                put_text_value(f, tdb_result_column_name(r, c),
                               strlen(tdb_result_column_name(r, c)), sp->delim);
        }
        fputc('\n', f);
    }
    if (sp->format == FMT_CSV) {
        tdb_csv_options o = {.sep = sp->delim, .quote_empty = true, .null_text = sp->null_text};
        const char *line;
        size_t len;
        while ((rc = tdb_next_row_csv(r, &o, &line, &len)) == 1) {
            fwrite(line, 1, len, f);
            (*rows)++;
        }
    } else {
        const char *null_text = sp->null_text ? sp->null_text : "\\N";
        while ((rc = tdb_next_row(r)) == 1) {
            for (size_t c = 0; c < ncols; c++) {
                if (c)
                    fputc(sp->delim, f);
                size_t len = 0;
                const char *s = tdb_result_text(r, 0, c, &len);
                if (!s)
                    fputs(null_text, f);
                else
                    put_text_value(f, s, len, sp->delim);
            }
            fputc('\n', f);
            (*rows)++;
        }
    }
    int end = tdb_query_end(r);
    if (rc == 0)
        rc = end;
    if (rc == 0 && ferror(f))
        return fail(err, errlen, "%s: %s", sp->file ? sp->file : "stdout", strerror(errno));
    return rc;
}

/*
 * TO PROGRAM: the result written to COMMAND's standard input. SIGPIPE is ignored while it runs
 * (set after popen, so the program keeps the default), so a program that exits early makes the
 * writes fail instead of ending the shell; its exit status then says why.
 */
static int copy_to_program(tdb_conn *conn, const Spec *sp, long long *rows, char *err,
                           size_t errlen)
{
    fflush(NULL);
    FILE *f = popen(sp->file, "w");
    if (!f)
        return fail(err, errlen, "program \"%s\": %s", sp->file, strerror(errno));
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    int rc = write_result(conn, sp, f, rows, err, errlen);
    if (fflush(f) != 0 && rc == 0)
        rc = fail(err, errlen, "program \"%s\": %s", sp->file, strerror(errno));
    int status = pclose(f);
    sigaction(SIGPIPE, &old_pipe, NULL);
    /* A failed program explains a failed write (EPIPE); a server error stays the reason. */
    if (rc >= 0) {
        char why[512];
        if (program_status(sp->file, status, why, sizeof(why)) != 0)
            rc = fail(err, errlen, "%s", why);
    }
    if (rc != 0)
        *rows = 0;
    return rc;
}

static int copy_to(tdb_conn *conn, const Spec *sp, FILE *out, long long *rows, char *err,
                   size_t errlen)
{
    if (!sp->file) {
        FILE *f = sp->process_std ? stdout : out;
        int rc = write_result(conn, sp, f, rows, err, errlen);
        fflush(f);
        return rc;
    }
    if (sp->program)
        return copy_to_program(conn, sp, rows, err, errlen);
    /* A temporary file beside FILE, renamed over it at the end: FILE is never half written. */
    size_t n = strlen(sp->file) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return fail(err, errlen, "out of memory");
    snprintf(tmp, n, "%s.XXXXXX", sp->file);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = fail(err, errlen, "%s: %s", sp->file, strerror(errno));
        free(tmp);
        return rc;
    }
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask); /* as a file the shell creates with fopen */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return fail(err, errlen, "%s: %s", sp->file, strerror(errno));
    }
    int rc = write_result(conn, sp, f, rows, err, errlen);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        if (rc == 0)
            rc = fail(err, errlen, "%s: %s", sp->file, strerror(errno));
    }
    if (fclose(f) != 0 && rc == 0)
        rc = fail(err, errlen, "%s: %s", sp->file, strerror(errno));
    if (rc == 0 && rename(tmp, sp->file) != 0)
        rc = fail(err, errlen, "%s: %s", sp->file, strerror(errno));
    if (rc != 0) {
        unlink(tmp);
        *rows = 0;
    }
    free(tmp);
    return rc;
}

int shcopy_run(tdb_conn *conn, const char *args, FILE *in, FILE *out, long long *out_rows,
               char *err, size_t errlen)
{
    Spec sp = {0};
    *out_rows = 0;
    err[0] = '\0';
    int rc = parse_spec(&sp, args, err, errlen);
    if (rc == 0)
        rc = sp.from ? copy_from(conn, &sp, sp.process_std ? stdin : in, out_rows, err, errlen)
                     : copy_to(conn, &sp, out, out_rows, err, errlen);
    spec_free(&sp);
    return rc;
}
