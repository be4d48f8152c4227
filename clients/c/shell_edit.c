/*
 * shell_edit.c: \e, the editor of the shell's query buffer (shell_edit.h).
 *
 * The temporary file is made with mkstemp in $TMPDIR (else /tmp), mode 0600, so another user
 * cannot read the query or swap the file. The editor runs in the foreground with the terminal;
 * the shell waits for it (system(), which ignores SIGINT and SIGQUIT in the shell meanwhile,
 * so Ctrl-C reaches only the editor).
 */
#include "shell_edit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The file's name quoted for /bin/sh: '...' with each ' as '\''. */
static char *sh_quote(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *q = malloc(n), *w = q;
    if (!q)
        return NULL;
    *w++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(w, "'\\''", 4);
            w += 4;
        } else {
            *w++ = *p;
        }
    }
    *w++ = '\'';
    *w = '\0';
    return q;
}

static int read_all(const char *path, char **out_text, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *g = realloc(text, cap);
            if (!g) {
                free(text);
                fclose(f);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            text = g;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(text);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    if (!text && !(text = calloc(1, 1))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    text[len] = '\0';
    *out_text = text;
    return 0;
}

int shedit_edit(const char *text, size_t len, const char *file, char **out_text, char *err,
                size_t errlen)
{
    char tmp[4096];
    const char *path = file;
    int rc = -1;
    char *quoted = NULL, *cmd = NULL;
    *out_text = NULL;
    if (!file) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp, sizeof(tmp), "%s/tcpduckdb-edit-XXXXXX.sql", dir && *dir ? dir : "/tmp");
        int fd = mkstemps(tmp, 4);
        if (fd < 0) {
            snprintf(err, errlen, "cannot create a temporary file in %s: %s",
                     dir && *dir ? dir : "/tmp", strerror(errno));
            return -1;
        }
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(fd, text + done, len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
                close(fd);
                goto cleanup;
            }
            done += (size_t)w;
        }
        if (close(fd) != 0) {
            snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
            goto cleanup;
        }
        path = tmp;
    }
    const char *editor = getenv("VISUAL");
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    quoted = sh_quote(path);
    if (!quoted || asprintf(&cmd, "%s %s", editor, quoted) < 0) {
        cmd = NULL;
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    fflush(stdout);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) == 127) {
        snprintf(err, errlen, "could not run the editor \"%s\"", editor);
        goto cleanup;
    }
    if (WEXITSTATUS(st) != 0) {
        snprintf(err, errlen, "the editor \"%s\" exited with status %d", editor, WEXITSTATUS(st));
        goto cleanup;
    }
    rc = read_all(path, out_text, err, errlen);
cleanup:
    if (!file)
        unlink(tmp);
    free(quoted);
    free(cmd);
    return rc;
}
