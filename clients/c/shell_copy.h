/*
 * shell_copy.h: the shell's \copy (psql's), files read and written by the client.
 *
 *   \copy TABLE [(COLUMNS)] FROM 'FILE' | PROGRAM 'COMMAND' | stdin | pstdin  [[WITH] OPTIONS]
 *   \copy TABLE [(COLUMNS)] | (QUERY)  TO 'FILE' | PROGRAM 'COMMAND' | stdout | pstdout  [...]
 *
 * PROGRAM runs COMMAND with /bin/sh on the client machine (as psql): FROM reads its output, TO
 * writes to its input; a program that exits with a status other than 0 (or is killed) makes
 * the \copy fail with "program "COMMAND" failed: exit code N".
 *
 * OPTIONS as psql: (FORMAT csv|text, HEADER [bool], DELIMITER 'c', NULL 'text') or the older
 * words CSV, HEADER, DELIMITER [AS] 'c', NULL [AS] 'text'. The data goes through ordinary
 * requests of the logged-in user (INSERT ... VALUES with bound parameters, SELECT streamed),
 * so the server's grants apply as to any statement; the server never sees a path.
 *
 * Atomic: FROM runs in one transaction (its own unless one is open: then the open one, which a
 * failure aborts, as any failed statement); TO writes a temporary file beside FILE and renames
 * it over FILE only when the whole result was written, so a failure leaves FILE as it was.
 */
#ifndef TCPDUCKDB_SHELL_COPY_H
#define TCPDUCKDB_SHELL_COPY_H

#include "tcpduckdb.h"

#include <stdio.h>

/* shcopy_run's outcomes besides a negative tdb status (the request failed: tdb_error(conn)). */
enum {
    SHCOPY_OK = 0,
    SHCOPY_LOCAL = 1, /* a usage, file or data error of the client: the message in err */
};

/*
 * Runs `\copy ARGS`. `in` is the shell's input (for FROM stdin: data lines up to one that is
 * `\.`, or the end), `out` where results go (TO stdout). *out_rows is the number of rows copied.
 */
int shcopy_run(tdb_conn *conn, const char *args, FILE *in, FILE *out, long long *out_rows,
               char *err, size_t errlen);

#endif
