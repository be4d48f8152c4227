/*
 * Unit tests of request.c: framing and word splitting.
 *
 * Every framing case is fed in every way a socket could deliver it: in
 * pieces of each size from 1 byte to the whole stream, and cut in two at
 * each position. The sequence of answers must not depend on the split.
 * The memory tests stream large requests through and watch the buffer's
 * capacity.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

/* Appends one answer to `log`: "OK:text|" (newline shown as \n), "TOO_LONG|" or "BAD|". */
static void log_answer(Buf *log, RequestStatus st, char *text, size_t len)
{
    switch (st) {
    case REQUEST_OK:
        CHECK(text != NULL && text[len] == '\0' && strlen(text) == len);
        buf_append_str(log, "OK:");
        for (size_t i = 0; i < len; i++) {
            if (text[i] == '\n')
                buf_append_str(log, "\\n");
            else if (text[i] == '\r')
                buf_append_str(log, "\\r");
            else
                buf_putc(log, text[i]);
        }
        buf_putc(log, '|');
        memset(text, '#', len); /* the text may be modified in place */
        break;
    case REQUEST_TOO_LONG:
        CHECK(text == NULL && len == 0);
        buf_append_str(log, "TOO_LONG|");
        break;
    case REQUEST_BAD:
        CHECK(text == NULL && len == 0);
        buf_append_str(log, "BAD|");
        break;
    case REQUEST_NONE:
        break;
    }
}

/* Takes requests until REQUEST_NONE, logging each. */
static void drain(RequestReader *r, size_t max, Buf *log)
{
    for (;;) {
        char *text = (char *)"sentinel";
        size_t len = 99;
        RequestStatus st = request_next(r, max, &text, &len);
        if (st == REQUEST_NONE) {
            CHECK(text == NULL && len == 0);
            return;
        }
        log_answer(log, st, text, len);
    }
}

/* Copies n bytes into the reader as one read. */
static void receive(RequestReader *r, const char *data, size_t n)
{
    char *p = request_space(r, n);
    memcpy(p, data, n);
    request_commit(r, n);
}

/*
 * Feeds `data` as a first read of `first` bytes (none if 0), then reads of
 * `piece` bytes, taking requests after each read; returns the log
 * (NUL-terminated, owned by `log`).
 */
static const char *feed(const char *data, size_t len, size_t max, size_t first, size_t piece,
                        Buf *log)
{
    RequestReader r = {0};
    buf_reset(log, 0);
    size_t off = 0;
    while (off < len) {
        size_t n = off == 0 && first > 0 ? first : piece;
        if (n > len - off)
            n = len - off;
        receive(&r, data + off, n);
        off += n;
        drain(&r, max, log);
    }
    request_reader_free(&r);
    return buf_cstr(log);
}

/* Checks that every split of `data` gives the answers `want`. */
static void expect_stream(const char *data, size_t len, size_t max, const char *want)
{
    Buf log = BUF_INIT;
    bool ok = true;
    for (size_t piece = 1; piece <= len && ok; piece++) {
        const char *got = feed(data, len, max, 0, piece, &log);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "in pieces of %zu bytes:\n", piece);
            CHECK_STR(got, want);
            ok = false;
        }
    }
    for (size_t cut = 1; cut < len && ok; cut++) {
        const char *got = feed(data, len, max, cut, len, &log);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "cut after byte %zu:\n", cut);
            CHECK_STR(got, want);
            ok = false;
        }
    }
    unit_checks++;
    buf_free(&log);
}

static void test_plain_lines(void)
{
    expect_stream(S("select 1\nselect 2\n"), 64, "OK:select 1|OK:select 2|");
    expect_stream(S("a\r\nb\r\nc\n"), 64, "OK:a|OK:b|OK:c|");
    /* Only a \r right before the \n is dropped. */
    expect_stream(S("a\rb\n\r\r\n"), 64, "OK:a\\rb|OK:\\r|");
    /* An unfinished line is not a request. */
    expect_stream(S("one\ntw"), 64, "OK:one|");
    /* Empty lines are requests with empty text; the session decides. */
    expect_stream(S("\n\r\nz\n"), 64, "OK:|OK:|OK:z|");
    /* Several pipelined requests of both kinds. */
    expect_stream(S("login duck duck\n@3\nx\nyquit\n"), 64, "OK:login duck duck|OK:x\\ny|OK:quit|");
}

static void test_length_prefixed(void)
{
    expect_stream(S("@17\nSELECT\n  42 AS x;next\n"), 64, "OK:SELECT\\n  42 AS x;|OK:next|");
    expect_stream(S("@0\nq\n"), 64, "OK:|OK:q|");
    expect_stream(S("@5\r\nhello@1\n\n"), 64, "OK:hello|OK:\\n|");
    /* Leading zeros are fine, up to 20 digits. */
    expect_stream(S("@00000000000000000003\nabc"), 64, "OK:abc|");
    /* The payload may look like a length line or contain \r\n. */
    expect_stream(S("@4\n@2\r\n@2\nab"), 64, "OK:@2\\r\\n|OK:ab|");
    /* Back to back, without newlines between them. */
    expect_stream(S("@1\na@1\nb@0\n@1\nc"), 64, "OK:a|OK:b|OK:|OK:c|");
}

static void test_limit(void)
{
    /* The limit is on the text, without its line end. */
    expect_stream(S("abcd\nabcd\r\nabcde\nok\n"), 4, "OK:abcd|OK:abcd|TOO_LONG|OK:ok|");
    expect_stream(S("abcde\r\nok\n"), 4, "TOO_LONG|OK:ok|");
    expect_stream(S("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nok\n"), 16, "TOO_LONG|OK:ok|");
    /* Oversized "@N": the payload (newlines and all) is skipped. */
    expect_stream(S("@20\n0123\n5678\n0123\n5678\nok\n"), 16, "TOO_LONG|OK:ok|");
    expect_stream(S("@5\nabcde@4\nabcdok\n"), 4, "TOO_LONG|OK:abcd|OK:ok|");
    /* A length line is not limited by max: it is 3 bytes here, max 2. */
    expect_stream(S("@2\nab@3\nabcok\n"), 2, "OK:ab|TOO_LONG|OK:ok|");
    /* SIZE_MAX is a valid length, and the rest of the stream is its payload. */
    expect_stream(S("@18446744073709551615\nabc\n"), 16, "TOO_LONG|");
    /* Too long wins over a NUL byte. */
    expect_stream(S("ab\0cdef\nok\n"), 4, "TOO_LONG|OK:ok|");
}

static void test_bad(void)
{
    expect_stream(S("a\0b\nok\n"), 64, "BAD|OK:ok|");
    expect_stream(S("\0\nok\n"), 64, "BAD|OK:ok|");
    expect_stream(S("@3\na\0bok\n"), 64, "BAD|OK:ok|");
    static const char *const bad_lines[] = {
        "@abc\n",
        "@-1\n",
        "@+1\n",
        "@\n",
        "@\r\n",
        "@ 5\n",
        "@5 \n",
        "@5\r\r\n",
        "@0x10\n",
        "@18446744073709551616\n",  /* SIZE_MAX + 1 */
        "@99999999999999999999\n",  /* 20 digits, overflows */
        "@000000000000000000001\n", /* 21 digits */
        "@1111111111111111111111111111111111111111\n",
    };
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        char stream[128];
        int n = snprintf(stream, sizeof(stream), "%sok\n", bad_lines[i]);
        expect_stream(stream, (size_t)n, 64, "BAD|OK:ok|");
    }
}

/* The answer comes as soon as the request is known to be oversized. */
static void test_too_long_early(void)
{
    RequestReader r = {0};
    Buf log = BUF_INIT;
    char junk[100];
    memset(junk, 'x', sizeof(junk));
    receive(&r, junk, sizeof(junk));
    drain(&r, 16, &log);
    CHECK_STR(buf_cstr(&log), "TOO_LONG|");
    CHECK(request_pending(&r) == 0);
    for (int i = 0; i < 5; i++)
        receive(&r, junk, sizeof(junk));
    CHECK(request_pending(&r) == 0); /* dropped on arrival */
    drain(&r, 16, &log);
    receive(&r, S("x\nok\n"));
    drain(&r, 16, &log);
    CHECK_STR(buf_cstr(&log), "TOO_LONG|OK:ok|");

    /* "@N": answered when the length line is complete, before the payload. */
    buf_reset(&log, 0);
    receive(&r, S("@100\n"));
    drain(&r, 16, &log);
    CHECK_STR(buf_cstr(&log), "TOO_LONG|");
    receive(&r, junk, 60);
    drain(&r, 16, &log);
    receive(&r, junk, 40);
    CHECK(request_pending(&r) == 0);
    receive(&r, S("ok\n"));
    drain(&r, 16, &log);
    CHECK_STR(buf_cstr(&log), "TOO_LONG|OK:ok|");

    /* An overlong length line is bad before its end arrives. */
    buf_reset(&log, 0);
    receive(&r, S("@111111111111111111111111"));
    drain(&r, 16, &log);
    CHECK_STR(buf_cstr(&log), "BAD|");
    receive(&r, S("1111\nok\n"));
    drain(&r, 16, &log);
    CHECK_STR(buf_cstr(&log), "BAD|OK:ok|");
    request_reader_free(&r);
    buf_free(&log);
}

static void test_pending(void)
{
    RequestReader r = {0};
    Buf log = BUF_INIT;
    CHECK(request_pending(&r) == 0);
    receive(&r, S("a\nsel"));
    CHECK(request_pending(&r) == 5);
    drain(&r, 64, &log);
    CHECK(request_pending(&r) == 3);
    receive(&r, S("ect 1\n@4\nab"));
    drain(&r, 64, &log);
    CHECK(request_pending(&r) == 5); /* "@4\nab" */
    receive(&r, S("cd"));
    drain(&r, 64, &log);
    CHECK(request_pending(&r) == 0);
    CHECK_STR(buf_cstr(&log), "OK:a|OK:select 1|OK:abcd|");
    request_reader_free(&r);
    request_reader_free(&r); /* freeing twice is fine; so is NULL */
    request_reader_free(NULL);
    buf_free(&log);
}

#define CHUNK 16384

/* Streams `total` bytes of `fill` in CHUNK reads, taking requests after
 * every `reads_per_take` reads; returns the largest buffer capacity seen. */
static size_t stream_fill(RequestReader *r, size_t max, char fill, size_t total, int reads_per_take,
                          Buf *log)
{
    size_t peak = 0;
    int reads = 0;
    for (size_t off = 0; off < total; off += CHUNK) {
        size_t n = total - off < CHUNK ? total - off : CHUNK;
        char *p = request_space(r, CHUNK);
        memset(p, fill, n);
        request_commit(r, n);
        if (r->in.cap > peak)
            peak = r->in.cap;
        if (++reads % reads_per_take == 0)
            drain(r, max, log);
    }
    drain(r, max, log);
    return peak;
}

/* A 10 MB line is never buffered in full, and the reader recovers. */
static void test_huge_line_bounded(void)
{
    const size_t max = 1024 * 1024;
    const size_t total = 10 * 1024 * 1024;
    RequestReader r = {0};
    Buf log = BUF_INIT;

    size_t peak = stream_fill(&r, max, 'x', total, 1, &log);
    CHECK(peak <= 2 * (max + 2 * CHUNK));
    CHECK_STR(buf_cstr(&log), "TOO_LONG|");
    receive(&r, S("\nafter\n"));
    drain(&r, max, &log);
    CHECK_STR(buf_cstr(&log), "TOO_LONG|OK:after|");
    /* Once idle, the reader keeps a buffer sized for one read. */
    request_space(&r, CHUNK);
    CHECK(r.in.cap <= 2 * CHUNK);

    /* As the server reads: up to 16 reads between calls of request_next. */
    buf_reset(&log, 0);
    peak = stream_fill(&r, max, 'y', total, 16, &log);
    CHECK(peak <= 2 * (max + 17 * CHUNK));
    CHECK_STR(buf_cstr(&log), "TOO_LONG|");
    /* Skipping: further reads do not grow the buffer even without request_next. */
    size_t cap = r.in.cap;
    for (int i = 0; i < 64; i++) {
        char *p = request_space(&r, CHUNK);
        memset(p, 'y', CHUNK);
        request_commit(&r, CHUNK);
    }
    CHECK(r.in.cap <= cap);
    receive(&r, S("\r\nafter\n"));
    drain(&r, max, &log);
    CHECK_STR(buf_cstr(&log), "TOO_LONG|OK:after|");

    /* An oversized "@N" of 10 MB. */
    buf_reset(&log, 0);
    char head[32];
    int n = snprintf(head, sizeof(head), "@%zu\n", total);
    receive(&r, head, (size_t)n);
    peak = stream_fill(&r, max, '\n', total, 1, &log);
    CHECK(peak <= 2 * CHUNK);
    receive(&r, S("after\n"));
    drain(&r, max, &log);
    CHECK_STR(buf_cstr(&log), "TOO_LONG|OK:after|");
    request_reader_free(&r);
    buf_free(&log);
}

/* A long line in 1-byte reads: the line-end search resumes where it stopped. */
static void test_long_line_in_small_reads(void)
{
    const size_t len = 1024 * 1024;
    RequestReader r = {0};
    Buf log = BUF_INIT;
    bool resumed = true;
    for (size_t i = 0; i < len; i++) {
        receive(&r, "z", 1);
        char *text;
        size_t tlen;
        if (request_next(&r, len, &text, &tlen) != REQUEST_NONE)
            resumed = false;
        if (r.scan != request_pending(&r))
            resumed = false;
    }
    CHECK(resumed);
    receive(&r, "\n", 1);
    char *text = NULL;
    size_t tlen = 0;
    CHECK(request_next(&r, len, &text, &tlen) == REQUEST_OK);
    CHECK(tlen == len && text && text[0] == 'z' && text[len - 1] == 'z' && text[len] == '\0');
    request_reader_free(&r);
    buf_free(&log);
}

/* Many requests through one reader: consumed bytes do not accumulate. */
static void test_many_requests_compacted(void)
{
    RequestReader r = {0};
    Buf stream = BUF_INIT;
    const int count = 200000;
    for (int i = 0; i < count; i++) {
        if (i % 3 == 0)
            buf_printf(&stream, "select %d\n", i);
        else
            buf_printf(&stream, "@%d\nselect %d", (int)snprintf(NULL, 0, "select %d", i), i);
    }
    size_t peak = 0;
    int next = 0;
    bool in_order = true;
    for (size_t off = 0; off < stream.len; off += 1000) {
        size_t n = stream.len - off < 1000 ? stream.len - off : 1000;
        receive(&r, stream.data + off, n);
        if (r.in.cap > peak)
            peak = r.in.cap;
        char *text;
        size_t len;
        RequestStatus st;
        while ((st = request_next(&r, 64, &text, &len)) != REQUEST_NONE) {
            char want[32];
            snprintf(want, sizeof(want), "select %d", next++);
            if (st != REQUEST_OK || strcmp(text, want) != 0)
                in_order = false;
        }
    }
    CHECK(in_order);
    CHECK(next == count);
    CHECK(peak <= 4096);
    CHECK(request_pending(&r) == 0);
    request_reader_free(&r);
    buf_free(&stream);
}

/*
 * Splits a copy of `line` and checks the result: `n` words given after it,
 * or failure if n is -1.
 */
static void expect_split(const char *line, int n, ...)
{
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", line);
    RequestWords w;
    memset(&w, 0x55, sizeof(w));
    int rc = request_split(copy, &w);
    if (n < 0) {
        CHECK(rc == -1);
        CHECK(w.n == 0);
        return;
    }
    CHECK(rc == 0);
    CHECK(w.n == n);
    if (rc != 0 || w.n != n) {
        fprintf(stderr, "  splitting: %s\n", line);
        return;
    }
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        CHECK(w.word[i] >= copy && w.word[i] < copy + sizeof(copy));
        CHECK_STR(w.word[i], va_arg(ap, const char *));
    }
    va_end(ap);
}

static void test_split(void)
{
    expect_split("login duck secret", 3, "login", "duck", "secret");
    expect_split("  \t login \t\t duck   secret \t ", 3, "login", "duck", "secret");
    expect_split("", 0);
    expect_split(" \t ", 0);
    expect_split("quit", 1, "quit");
    expect_split("login \"my user\" \"pa ss\"", 3, "login", "my user", "pa ss");
    expect_split("\"a\\\"b\" \"c\\\\d\"", 2, "a\"b", "c\\d");
    /* Other backslashes inside quotes, and all outside quotes, are kept. */
    expect_split("\"e\\nf\" g\\h i\\\"", 3, "e\\nf", "g\\h", "i\\\"");
    /* A quote inside a word is an ordinary character. */
    expect_split("pa\"ss wo\"rd", 2, "pa\"ss", "wo\"rd");
    expect_split("\"\"", 1, "");
    expect_split("a \"\" b", 3, "a", "", "b");
    expect_split("\"a\"\t\"b\"", 2, "a", "b");
    expect_split("\"\\\\\"", 1, "\\");
    /* Only spaces and tabs separate. */
    expect_split("a\rb\nc", 1, "a\rb\nc");
    expect_split("a b c d e f g h i j k l m n o p", 16, "a", "b", "c", "d", "e", "f", "g", "h", "i",
                 "j", "k", "l", "m", "n", "o", "p");
    expect_split("a b c d e f g h i j k l m n o p  ", 16, "a", "b", "c", "d", "e", "f", "g", "h",
                 "i", "j", "k", "l", "m", "n", "o", "p");
    expect_split("a b c d e f g h i j k l m n o p q", -1);
    expect_split("\"abc", -1);
    expect_split("login duck \"secret", -1);
    expect_split("\"abc\\\"", -1);
    expect_split("\"", -1);
    expect_split("\"a\"b", -1);
}

static void test_word_is(void)
{
    CHECK(request_word_is("login", "login"));
    CHECK(request_word_is("LOGIN", "login"));
    CHECK(request_word_is("LoGiN", "LOGin"));
    CHECK(request_word_is("", ""));
    CHECK(!request_word_is("logi", "login"));
    CHECK(!request_word_is("login", "log"));
    CHECK(!request_word_is("login ", "login"));
    CHECK(!request_word_is("", "login"));
    CHECK(!request_word_is(NULL, "login"));
    /* ASCII only: no locale folding, and bytes that differ by 0x20 outside A-Z differ. */
    CHECK(!request_word_is("\xc3\x89", "\xc3\xa9"));
    CHECK(!request_word_is("[", "{"));
    CHECK(!request_word_is("@", "`"));
}

/* Feeds `chunks` (NUL-separated pieces, ending with an empty one); after each piece
 * the client falls silent when `silent` says so. Logs answers as log_answer(). */
static void silence_stream(const char *const *pieces, const bool *silent, size_t max,
                           const char *want)
{
    RequestReader r = {0};
    Buf log = BUF_INIT;
    for (size_t i = 0; pieces[i]; i++) {
        size_t n = strlen(pieces[i]);
        memcpy(request_space(&r, n), pieces[i], n);
        request_commit(&r, n);
        char *text;
        size_t len;
        RequestStatus st;
        while ((st = request_next(&r, max, &text, &len)) != REQUEST_NONE)
            log_answer(&log, st, text, len);
        if (silent[i] && request_awaits_silence(&r) &&
            (st = request_silence(&r, max, &text, &len)) != REQUEST_NONE)
            log_answer(&log, st, text, len);
    }
    buf_putc(&log, '\0');
    CHECK_STR(log.data, want);
    buf_free(&log);
    request_reader_free(&r);
}

static void test_silence_framing(void)
{
    /* The original's client: each request without a newline, then silence. */
    const char *orig[] = {"login duck", " duck", "connect db", "SELECT\n1;\n", NULL};
    const bool orig_silent[] = {false, true, true, true};
    silence_stream(orig, orig_silent, 64, "OK:login duck duck|OK:connect db|OK:SELECT\\n1;|");
    /* A newline first: lines for good, and a silence cuts nothing. */
    const char *lines[] = {"login duck duck\nSELECT", " 42\n", NULL};
    const bool lines_silent[] = {true, true};
    silence_stream(lines, lines_silent, 64, "OK:login duck duck|OK:SELECT 42|");
    /* A request over the limit is dropped as it comes and answered at the silence;
     * the next one is read normally. */
    const char *big[] = {"a", "0123456789", "0123456789", "ok", NULL};
    const bool big_silent[] = {true, false, true, true};
    silence_stream(big, big_silent, 8, "OK:a|TOO_LONG|OK:ok|");
    /* A NUL byte is BAD; "\r\n" at the end is dropped, elsewhere kept. */
    const char *odd[] = {"x", "a\r\nb\r\n", NULL};
    const bool odd_silent[] = {true, true};
    silence_stream(odd, odd_silent, 64, "OK:x|OK:a\\r\\nb|");
    RequestReader r = {0};
    char *text;
    size_t len;
    CHECK(!request_awaits_silence(&r));
    memcpy(request_space(&r, 3), "a\0b", 3);
    request_commit(&r, 3);
    CHECK(request_awaits_silence(&r));
    CHECK(request_silence(&r, 64, &text, &len) == REQUEST_BAD && text == NULL);
    CHECK(!request_awaits_silence(&r));
    request_reader_free(&r);
}

int main(void)
{
    UNIT_RUN(test_plain_lines);
    UNIT_RUN(test_length_prefixed);
    UNIT_RUN(test_limit);
    UNIT_RUN(test_bad);
    UNIT_RUN(test_too_long_early);
    UNIT_RUN(test_pending);
    UNIT_RUN(test_huge_line_bounded);
    UNIT_RUN(test_long_line_in_small_reads);
    UNIT_RUN(test_many_requests_compacted);
    UNIT_RUN(test_silence_framing);
    UNIT_RUN(test_split);
    UNIT_RUN(test_word_is);
    return unit_summary("test_request");
}
