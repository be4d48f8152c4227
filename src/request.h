/*
 * request: framing of the byte stream a client sends into requests, and
 * splitting of command requests into words. Pure functions over buffers, no
 * I/O, no global state; the session module owns one RequestReader per client.
 *
 * Framing (docs/protocol.md):
 *   - a plain request is a line ended by "\n"; a "\r" before it is dropped;
 *   - a length-prefixed request is the line "@<N>" (decimal, no sign) followed by
 *     exactly N bytes of payload, which may contain newlines. No newline
 *     follows the payload. N must not exceed the request size limit;
 *   - a request of more than `max` bytes is answered REQUEST_TOO_LONG and its
 *     bytes are skipped up to its end (the end of the line, or N payload
 *     bytes), so the next request is read in sync;
 *   - a request containing a NUL byte is REQUEST_BAD (NUL would silently
 *     truncate SQL text handed to DuckDB).
 *
 * Details the protocol leaves open:
 *   - an empty line ("\n" or "\r\n") is a REQUEST_OK request with text "";
 *     the session decides what that means;
 *   - a line that starts with "@" is always a length line. It must be "@"
 *     followed by 1 to 20 decimal digits whose value fits in size_t (leading
 *     zeros allowed), optionally followed by "\r"; anything else ("@", "@abc",
 *     "@-1", "@ 5", "@5 ", an overflowing number) is REQUEST_BAD and only that
 *     line is consumed. Length lines do not count against `max`: a length
 *     line longer than 22 bytes is known to be bad before its "\n" arrives,
 *     is answered REQUEST_BAD at once and skipped to its end;
 *   - "@0\n" is a REQUEST_OK request with text "";
 *   - an oversized request is answered REQUEST_TOO_LONG even if it also
 *     contains a NUL byte.
 *
 * Memory: the buffer holds at most one partial request (at most `max` bytes
 * plus its length line) and what the reads since the last request_next()
 * added; consumed bytes are compacted away when room is needed, bytes of a
 * request being skipped are dropped as they arrive, and a large buffer that
 * has become mostly empty is given back. A zero-initialised RequestReader is
 * ready to use. All operations are linear in the bytes received: the search
 * for a line end resumes where the previous one stopped.
 *
 * Silence framing (the original project's clients, docs/protocol.md "Drop-in
 * framing"): a connection starts with its framing unknown. The first "\n"
 * that arrives makes it line-framed for good. When the caller (the server,
 * on a timer) sees the client fall silent with bytes buffered and no "\n"
 * among them, it calls request_silence(), which makes the connection
 * silence-framed for good and returns those bytes as one request. From
 * then on "\n" means nothing: every request ends at a silence (one trailing
 * "\n" or "\r\n" is dropped), request_next() returns REQUEST_NONE (the bytes
 * of a request over `max` are dropped as they arrive, and request_silence()
 * answers it TOO_LONG), and "@N" has no meaning.
 *
 * Word splitting: words are separated by runs of spaces or tabs; a word may
 * be double-quoted, and inside quotes \" is a quote and \\ a backslash.
 */
#ifndef TCPDUCKDB_REQUEST_H
#define TCPDUCKDB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef enum {
    REQUEST_NONE,     /* no complete request buffered yet: read more */
    REQUEST_OK,       /* out and out_len hold one request */
    REQUEST_TOO_LONG, /* a request over the limit was (or is being) skipped */
    REQUEST_BAD,      /* malformed: NUL byte, or a bad "@N" length line */
} RequestStatus;

typedef enum {
    REQUEST_FRAMING_UNKNOWN, /* nothing framed yet: lines or silence */
    REQUEST_FRAMING_LINES,   /* a "\n" came first: lines and "@N", for good */
    REQUEST_FRAMING_SILENCE, /* request_silence() was called: silences end requests */
} RequestFraming;

typedef struct RequestReader {
    Buf in;            /* bytes received and not yet consumed, from `pos` on */
    size_t pos;        /* start of unconsumed data in `in` */
    size_t scan;       /* bytes from `pos` on already searched for "\n" and found without one */
    size_t skip;       /* payload bytes of an oversized "@N" request still to drop */
    bool skip_line;    /* dropping the rest of an oversized line or an overlong "@" line */
    bool reported;     /* the answer (TOO_LONG or BAD) was returned for the request being skipped */
    bool skip_silence; /* SILENCE: dropping an oversized request until the next silence */
    RequestFraming framing; /* see "Silence framing" above */
} RequestReader;

/*
 * Returns room for at least `n` more received bytes at the end of the
 * reader's buffer; after reading k bytes into it (k <= n), call
 * request_commit(r, k). May move the buffered bytes, so it invalidates a
 * text returned by request_next().
 */
char *request_space(RequestReader *r, size_t n);
void request_commit(RequestReader *r, size_t n);

/* Bytes buffered and not yet consumed (a client idle with a half request).
 * Bytes of an oversized request being skipped are not counted: they are
 * dropped on arrival. */
size_t request_pending(const RequestReader *r);

/*
 * Extracts the next request. On REQUEST_OK, *out points to the request text
 * (NUL-terminated, without the line end) inside the reader's buffer, valid
 * until the next call of any request_* function on `r`; the text may be
 * modified in place (request_split does). `max` limits the request text:
 * the line without its "\r\n" or "\n", or the N payload bytes of "@N".
 * REQUEST_TOO_LONG is returned once per oversized request, by the first call
 * after enough of it has arrived to know (before its end has arrived), and
 * REQUEST_BAD once per malformed request; with these and REQUEST_NONE, *out
 * is NULL and *out_len 0. Call it until it returns REQUEST_NONE.
 */
RequestStatus request_next(RequestReader *r, size_t max, char **out, size_t *out_len);

/*
 * Whether a silence would end a request now: the framing is not LINES and
 * bytes are buffered, or a SILENCE-framed request over the limit is being
 * dropped (not a line: UNKNOWN framing drops an overlong line to its "\n"). The server then waits
 * for the silence (DropInSilenceMs) and calls request_silence().
 */
bool request_awaits_silence(const RequestReader *r);

/*
 * The client has been silent with bytes buffered: makes the framing
 * SILENCE (unless it is LINES, when it returns REQUEST_NONE and changes
 * nothing) and returns every buffered byte as one request, like
 * request_next() (same `out` contract; TOO_LONG over `max`, BAD with a NUL
 * byte), without one trailing "\n" or "\r\n". A request over `max`
 * whose bytes were being dropped is answered here: REQUEST_TOO_LONG.
 */
RequestStatus request_silence(RequestReader *r, size_t max, char **out, size_t *out_len);

/* Frees the buffer; the reader is then empty and reusable. Accepts NULL. */
void request_reader_free(RequestReader *r);

#define REQUEST_MAX_WORDS 16

typedef struct RequestWords {
    int n;
    char *word[REQUEST_MAX_WORDS];
} RequestWords;

/*
 * Splits `line` in place into words (quotes removed, escapes resolved); the
 * words point into `line`. A double quote opens a quoted word only at the
 * start of a word (elsewhere it is an ordinary character), and the closing
 * quote must end the word ("a"b is malformed). Inside quotes, a backslash
 * not followed by " or \ is kept as it is; outside quotes backslashes are
 * ordinary characters. "" is an empty word. Only spaces and tabs separate
 * words; an empty or blank line gives 0 words. Returns 0, or -1 (with
 * out->n set to 0) when a quote is not closed, a closing quote is followed
 * by something other than a separator, or there are more than
 * REQUEST_MAX_WORDS words.
 */
int request_split(char *line, RequestWords *out) __attribute__((warn_unused_result));

/* ASCII case-insensitive equality, for command words (no locale). */
bool request_word_is(const char *word, const char *keyword);

#endif
