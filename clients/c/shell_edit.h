/*
 * shell_edit.h: the shell's \e (psql's): a text edited in the user's editor.
 */
#ifndef TCPDUCKDB_SHELL_EDIT_H
#define TCPDUCKDB_SHELL_EDIT_H

#include <stddef.h>

/*
 * Opens an editor on a text and returns what the user saved: $VISUAL, else $EDITOR, else vi,
 * run through /bin/sh with the file's name appended (as psql). With `file` NULL the text (len
 * bytes) is written to a new private temporary file, which is removed afterwards; otherwise
 * `file` itself is edited (created if missing) and kept. Returns 0 with *out_text (malloc'd,
 * NUL-terminated), or -1 with the reason in err (the editor failed or exited non-zero, or the
 * file could not be written or read).
 */
int shedit_edit(const char *text, size_t len, const char *file, char **out_text, char *err,
                size_t errlen);

#endif
