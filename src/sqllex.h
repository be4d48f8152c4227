/*
 * sqllex: splits SQL text into tokens by the lexical rules of DuckDB's
 * scanner (PostgreSQL's, as DuckDB 1.5 has it), so that whoever looks at
 * the tokens never sees code where DuckDB sees a string, a comment or a
 * quoted name, or the reverse:
 *   - 'strings' with '' for a quote and no backslash escapes; E'strings'
 *     with backslash escapes; B'..', X'..', N'..' and U&'..' prefixes;
 *     $$dollar quotes$$ and $tag$dollar quotes$tag$;
 *   - "quoted identifiers" with "" for a quote, and U&"..";
 *   - -- comments to the end of the line, and block comments that nest
 *     (slash-star opens one inside another, star-slash closes the
 *     innermost), as DuckDB's scanner reads them;
 *   - numbers (digits with _ separators, fractions, exponents only when
 *     digits follow the E, 0x, 0b and 0o), which end where a letter starts:
 *     1e'x' is the number 1 and then the string E'x';
 *   - operators as runs of the characters ~!@#^&|`+-*%<>= and slash, cut
 *     where a comment starts,
 *     and a trailing + or - split off unless the run has one of
 *     ~!@#^&|`?% (so a=-1 is a, =, -, 1); and ::, :=, :;
 *   - parameters ?, ?N, $N and $name.
 *
 * It allocates nothing and needs no other module but buf (for
 * sqllex_identifier). Every function runs in time linear in the text it
 * looks at; a whole text is lexed in time linear in its length, whatever
 * it holds (DuckDB's own scanner is quadratic in the length of a run of
 * operator characters, such as repeated comment markers or +++). A lexer belongs to one thread;
 * any number of lexers may read the same text at once.
 */
#ifndef TCPDUCKDB_SQLLEX_H
#define TCPDUCKDB_SQLLEX_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef enum SqlTokenKind {
    SQLLEX_WORD,    /* an identifier or keyword, unquoted */
    SQLLEX_QUOTED,  /* a "quoted identifier" (or U&"...") */
    SQLLEX_STRING,  /* any string literal, dollar-quoted ones included */
    SQLLEX_NUMBER,  /* a numeric literal */
    SQLLEX_PARAM,   /* ?, ?1, $1, $name */
    SQLLEX_OP,      /* an operator, :: := or : */
    SQLLEX_OPEN,    /* ( [ { */
    SQLLEX_CLOSE,   /* ) ] } */
    SQLLEX_COMMA,   /* , */
    SQLLEX_SEMI,    /* ; */
    SQLLEX_DOT,     /* . */
    SQLLEX_COMMENT, /* a comment; only with SQLLEX_KEEP_COMMENTS */
    SQLLEX_OTHER,   /* any other single byte: a lone $, a backslash, a NUL, ... */
} SqlTokenKind;

/* One token: the bytes [offset, offset + length) of the text; length >= 1. */
typedef struct SqlToken {
    size_t offset, length;
    SqlTokenKind kind;
} SqlToken;

/* Why sqllex_next() stopped early: a construct that does not end in the text. */
typedef enum SqlLexError {
    SQLLEX_OK,
    SQLLEX_UNTERMINATED_STRING,  /* '..., E'..., B'..., X'..., N'..., U&'... */
    SQLLEX_UNTERMINATED_QUOTED,  /* "... or U&"... */
    SQLLEX_UNTERMINATED_DOLLAR,  /* $$... or $tag$... */
    SQLLEX_UNTERMINATED_COMMENT, /* a block comment, nested or not */
} SqlLexError;

/* Flags of sqllex_init(). */
#define SQLLEX_KEEP_COMMENTS 1u /* return comments as SQLLEX_COMMENT tokens */

/* A lexer over one text. Its fields are private but for error and error_offset. */
typedef struct SqlLexer {
    const char *text;
    size_t len;
    size_t pos;
    unsigned flags;
    size_t split_end;    /* operator bytes before this offset are tokens of one byte each */
    SqlLexError error;   /* after sqllex_next() returned -1 */
    size_t error_offset; /* ... where the unterminated construct starts */
} SqlLexer;

/*
 * Starts lexing `text`, `len` bytes, borrowed until the last sqllex_next().
 * The text need not be NUL-terminated; a NUL byte in it is an
 * SQLLEX_OTHER token (DuckDB's C API ends a text at its first NUL, so pass
 * strlen() of what goes to DuckDB). `flags`: 0 or SQLLEX_KEEP_COMMENTS.
 */
void sqllex_init(SqlLexer *lx, const char *text, size_t len, unsigned flags);

/*
 * The next token in *out. Returns 1 with a token, 0 at the end of the text,
 * or -1 when a string, quoted identifier, dollar quote or block comment is
 * not terminated (lx->error and lx->error_offset say which and where;
 * DuckDB's parser rejects such a text). After 0 or -1, every further call
 * returns the same. Whitespace is never a token; comments are skipped
 * unless SQLLEX_KEEP_COMMENTS was given.
 */
int sqllex_next(SqlLexer *lx, SqlToken *out) __attribute__((warn_unused_result));

/* A short English description of `error`, e.g. "unterminated quoted string". */
const char *sqllex_error_name(SqlLexError error);

/* The name of `kind`, e.g. "word", for messages and tests. */
const char *sqllex_kind_name(SqlTokenKind kind);

/*
 * The name an SQLLEX_WORD or SQLLEX_QUOTED token `tok` of `text` stands
 * for, without quotes ("a""b" is a"b; U&"x" is x, its escapes left as
 * written), in `out`, which is reset first and NUL-terminated. Case is kept
 * as written: DuckDB compares names case-insensitively. Returns the length.
 */
size_t sqllex_identifier(const char *text, const SqlToken *tok, Buf *out);

/*
 * Whether token `tok` of `text` is the unquoted word `lower` (lower case
 * ASCII), compared case-insensitively as DuckDB compares keywords.
 */
bool sqllex_is_word(const char *text, const SqlToken *tok, const char *lower);

/*
 * Bounds on what DuckDB's scanner must read, for sqllex_check_bounds().
 * DuckDB 1.5.6's scanner (PostgreSQL's flex rules) matches a whole run of
 * operator characters and then gives back all but a part of it, again and
 * again: a run of + or - becomes one token per byte, and each comment
 * opener in a run rescans the rest of the run, so its time grows with the
 * square of the run's length (2.5 KB of + after SELECT 1 took 22 s; 20 KB
 * of slash-star 5 s). Spaced out, the same characters cost nothing. No SQL
 * a person or a program writes needs more than a few operator characters
 * in a row (the longest operators are 3 bytes, such as ->> and !~~*);
 * 64 leaves room for anything odd but legal, while a 64-byte run costs
 * DuckDB microseconds. Runs inside a block comment are free unless the run
 * holds a second comment opener (a banner of stars has one), and line
 * comments are free (the scanner reads one in a single match). Nesting of
 * block comments costs DuckDB nothing itself, but no text needs more than
 * a few levels, so deeper nesting is refused too.
 */
#define SQLLEX_MAX_OPERATOR_RUN 64
#define SQLLEX_MAX_COMMENT_DEPTH 64

/*
 * Checks that DuckDB can split `text` (`len` bytes) into tokens in time
 * linear in its length: no run of operator characters longer than
 * SQLLEX_MAX_OPERATOR_RUN in code (strings, quoted names and line comments
 * do not count; a run that starts in code counts on into a block comment
 * next to it), none that long inside a block comment holding two comment
 * openers, and block comments nested at most SQLLEX_MAX_COMMENT_DEPTH deep.
 * Returns NULL when the text is within bounds, or a static reason for
 * the user, e.g. "a run of more than 64 operator characters" (meant for
 * "Error: Bad Request: REASON"). Pure, linear in `len`, allocates nothing;
 * an unterminated construct is checked as far as it goes (DuckDB scans it
 * all before it rejects it). Call it before any DuckDB parse of the text.
 */
const char *sqllex_check_bounds(const char *text, size_t len) __attribute__((warn_unused_result));

#endif
