/*
 * request: framing of a client's byte stream into requests, and word
 * splitting. See request.h for the contract.
 *
 * Buffer layout: in.data[0, pos) is consumed, in.data[pos, in.len) is
 * pending. Requests are returned in place, and the NUL that ends a returned
 * text is written over bytes of the same request (the line end of a plain
 * request; for "@N" the payload is first moved over its length line), never
 * over the first byte of the next request, which may already be buffered.
 * request_space() compacts consumed bytes away only when it needs room at the
 * end, so each byte is moved a bounded number of times.
 *
 * Called by one thread at a time per reader (the session's owner).
 */
#include "request.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

/* A buffer larger than this is given back when it is at most a quarter used. */
#define KEEP_BYTES (64 * 1024)
/* A length line is "@", at most 20 digits (SIZE_MAX has 20) and maybe "\r". */
#define LENGTH_DIGITS_MAX 20
#define LENGTH_LINE_MAX (1 + LENGTH_DIGITS_MAX + 1)

static size_t pending(const RequestReader *r)
{
    return r->in.len - r->pos;
}

/* Marks the first n pending bytes consumed; the line-end search restarts. */
static void consume(RequestReader *r, size_t n)
{
    assert(n <= pending(r));
    r->pos += n;
    r->scan = 0;
    if (r->pos == r->in.len)
        r->pos = r->in.len = 0;
}

/*
 * Drops the buffered bytes of a request being skipped. Returns true while
 * its end has not arrived yet.
 */
static bool drop_skipped(RequestReader *r)
{
    size_t avail = pending(r);
    if (r->skip_silence) {
        consume(r, avail);
        return true;
    }
    if (r->skip > 0) {
        size_t n = r->skip < avail ? r->skip : avail;
        r->skip -= n;
        consume(r, n);
    } else if (r->skip_line && avail > 0) {
        const char *start = r->in.data + r->pos;
        const char *nl = memchr(start, '\n', avail);
        if (nl) {
            consume(r, (size_t)(nl - start) + 1);
            r->skip_line = false;
        } else {
            consume(r, avail);
        }
    }
    bool skipping = r->skip > 0 || r->skip_line;
    if (!skipping)
        r->reported = false;
    return skipping;
}

/* Starts skipping the rest of the current line, whose answer is being returned. */
static void skip_rest_of_line(RequestReader *r)
{
    consume(r, pending(r));
    r->skip_line = true;
    r->reported = true;
}

char *request_space(RequestReader *r, size_t n)
{
    if (n == 0)
        n = 1;
    drop_skipped(r);
    Buf *b = &r->in;
    size_t avail = pending(r);
    if (b->cap > KEEP_BYTES && avail + n <= b->cap / 4) {
        /* A burst is over: keep a buffer sized for what is left. */
        Buf smaller = BUF_INIT;
        buf_reserve(&smaller, avail + n);
        buf_append(&smaller, b->data + r->pos, avail);
        buf_free(b);
        *b = smaller;
        r->pos = 0;
    } else if (b->cap - b->len < n && r->pos > 0) {
        memmove(b->data, b->data + r->pos, avail);
        b->len = avail;
        r->pos = 0;
    }
    return buf_reserve(b, n);
}

void request_commit(RequestReader *r, size_t n)
{
    assert(n <= r->in.cap - r->in.len);
    r->in.len += n;
    /* Bytes of a request being skipped are dropped on arrival. */
    drop_skipped(r);
}

size_t request_pending(const RequestReader *r)
{
    return pending(r);
}

/*
 * Parses the digits of a length line ("@" already checked, `len` bytes
 * without line end). Returns false when they are not 1 to 20 decimal
 * digits whose value fits in size_t.
 */
static bool parse_length(const char *text, size_t len, size_t *out_n)
{
    if (len < 2 || len - 1 > LENGTH_DIGITS_MAX)
        return false;
    size_t n = 0;
    for (size_t i = 1; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        size_t digit = (size_t)(text[i] - '0');
        if (n > (SIZE_MAX - digit) / 10)
            return false;
        n = n * 10 + digit;
    }
    *out_n = n;
    return true;
}

/*
 * Handles a complete length line of `line_len` bytes (text_len without
 * "\r") at the start of the pending bytes.
 */
static RequestStatus next_prefixed(RequestReader *r, size_t max, size_t line_len, size_t text_len,
                                   char **out, size_t *out_len)
{
    char *start = r->in.data + r->pos;
    size_t n = 0;
    if (!parse_length(start, text_len, &n)) {
        consume(r, line_len + 1);
        return REQUEST_BAD;
    }
    if (n > max) {
        consume(r, line_len + 1);
        r->skip = n;
        r->reported = true;
        drop_skipped(r);
        return REQUEST_TOO_LONG;
    }
    size_t head = line_len + 1;
    if (pending(r) - head < n) {
        /* Wait for the payload; the next search finds this line end at once. */
        r->scan = line_len;
        return REQUEST_NONE;
    }
    char *payload = start + head;
    bool has_nul = n > 0 && memchr(payload, '\0', n) != NULL;
    consume(r, head + n);
    if (has_nul)
        return REQUEST_BAD;
    /* Move the payload over its length line so that its NUL terminator does
     * not overwrite the next request's first byte. */
    memmove(start, payload, n);
    start[n] = '\0';
    *out = start;
    *out_len = n;
    return REQUEST_OK;
}

RequestStatus request_next(RequestReader *r, size_t max, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (drop_skipped(r))
        return REQUEST_NONE;
    size_t avail = pending(r);
    if (avail == 0)
        return REQUEST_NONE;
    if (r->framing == REQUEST_FRAMING_SILENCE) {
        /* Only the silence ends a request. One over the limit is dropped as it
         * arrives and answered at the silence (request_silence()): answered
         * earlier, the client's next request could come before the silence and
         * be dropped with it. */
        if (avail > max + 2) {
            consume(r, avail);
            r->skip_silence = true;
        }
        return REQUEST_NONE;
    }
    char *start = r->in.data + r->pos;
    bool length_line = start[0] == '@';
    assert(r->scan <= avail);
    char *nl = memchr(start + r->scan, '\n', avail - r->scan);
    if (!nl) {
        r->scan = avail;
        if (length_line) {
            if (avail <= LENGTH_LINE_MAX)
                return REQUEST_NONE;
            skip_rest_of_line(r);
            return REQUEST_BAD;
        }
        /* The text is at least this long, whatever arrives next. */
        size_t least = avail - (start[avail - 1] == '\r');
        if (least <= max)
            return REQUEST_NONE;
        skip_rest_of_line(r);
        return REQUEST_TOO_LONG;
    }
    r->framing = REQUEST_FRAMING_LINES;
    size_t line_len = (size_t)(nl - start);
    size_t text_len = line_len - (line_len > 0 && start[line_len - 1] == '\r');
    if (length_line)
        return next_prefixed(r, max, line_len, text_len, out, out_len);
    consume(r, line_len + 1);
    if (text_len > max)
        return REQUEST_TOO_LONG;
    if (memchr(start, '\0', text_len))
        return REQUEST_BAD;
    start[text_len] = '\0';
    *out = start;
    *out_len = text_len;
    return REQUEST_OK;
}

bool request_awaits_silence(const RequestReader *r)
{
    return r->framing != REQUEST_FRAMING_LINES && (pending(r) > 0 || r->skip_silence) &&
           r->skip == 0 && !r->skip_line;
}

RequestStatus request_silence(RequestReader *r, size_t max, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (r->framing == REQUEST_FRAMING_LINES)
        return REQUEST_NONE;
    r->framing = REQUEST_FRAMING_SILENCE;
    if (r->skip_silence) {
        r->skip_silence = false;
        return REQUEST_TOO_LONG;
    }
    if (r->skip > 0 || r->skip_line)
        return REQUEST_NONE; /* an UNKNOWN-framing line being dropped; see request_next() */
    size_t avail = pending(r);
    if (avail == 0)
        return REQUEST_NONE;
    char *start = r->in.data + r->pos;
    size_t len = avail;
    if (len > 0 && start[len - 1] == '\n') {
        len--;
        if (len > 0 && start[len - 1] == '\r')
            len--;
    }
    if (len > max || memchr(start, '\0', len)) {
        consume(r, avail);
        return len > max ? REQUEST_TOO_LONG : REQUEST_BAD;
    }
    /* The NUL goes over the dropped line end, or one byte past the data. */
    if (len == avail) {
        size_t at = r->pos;
        buf_reserve(&r->in, 1);
        start = r->in.data + at;
    }
    consume(r, avail);
    start[len] = '\0';
    *out = start;
    *out_len = len;
    return REQUEST_OK;
}

void request_reader_free(RequestReader *r)
{
    if (!r)
        return;
    buf_free(&r->in);
    memset(r, 0, sizeof(*r));
}

static bool is_separator(char ch)
{
    return ch == ' ' || ch == '\t';
}

int request_split(char *line, RequestWords *out)
{
    out->n = 0;
    char *p = line; /* next byte to read; words are written at or before it */
    for (;;) {
        while (is_separator(*p))
            p++;
        if (*p == '\0')
            return 0;
        if (out->n == REQUEST_MAX_WORDS)
            goto malformed;
        char *w = p;
        out->word[out->n++] = w;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\0')
                    goto malformed;
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                    p++;
                *w++ = *p;
            }
            p++;
            if (*p != '\0' && !is_separator(*p))
                goto malformed;
        } else {
            while (*p != '\0' && !is_separator(*p))
                *w++ = *p++;
        }
        /* Step over the separator before the terminator may overwrite it. */
        if (*p != '\0')
            p++;
        *w = '\0';
    }
malformed:
    out->n = 0;
    return -1;
}

static unsigned char ascii_lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch - 'A' + 'a') : ch;
}

bool request_word_is(const char *word, const char *keyword)
{
    if (!word || !keyword)
        return false;
    for (size_t i = 0;; i++) {
        unsigned char a = ascii_lower((unsigned char)word[i]);
        unsigned char b = ascii_lower((unsigned char)keyword[i]);
        if (a != b)
            return false;
        if (a == '\0')
            return true;
    }
}
