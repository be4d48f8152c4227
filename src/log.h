/*
 * log: the server's log lines, on stderr or in LogFile, in the seed's text
 * format ("INFO 2026/01/02 15:04:05 message") or as JSON lines
 * ({"time":"2026-01-02T14:04:05.123Z","level":"info","msg":"message"},
 * LogFormat=json). Safe to call from any thread: each line is formatted
 * into a local buffer and written with one write(2) to descriptor 2, so
 * lines from different threads never interleave. The level and the format
 * are atomics that a reload may change at any time. Never pass a password
 * or a connection string with a password in it.
 *
 * LogFile: log_open_file() makes descriptor 2 the file (opened to append),
 * so whatever else writes to stderr (DuckDB, the sanitizers, a last error
 * at exit) lands in it too; log_reopen() opens the path again and puts the
 * new file on descriptor 2 with dup2(), which is atomic for the threads
 * writing meanwhile (each write goes to the old file or the new one). That
 * is how logrotate's rename-then-SIGUSR1 works.
 */
#ifndef TCPDUCKDB_LOG_H
#define TCPDUCKDB_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } LogLevel;

void log_set_level(LogLevel level);
/* "debug", "info", "warn" or "error" (LogLevel's values) as a LogLevel; info otherwise. */
LogLevel log_parse_level(const char *name);
/* true: JSON lines; false: text. */
void log_set_json(bool json);

/*
 * Appends the log to `path` from now on (see the top of this file).
 * Returns 0, or -1 with `err` saying why the file cannot be opened (the
 * log stays where it was).
 */
int log_open_file(const char *path, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Opens the LogFile path again (after logrotate renamed the file) and logs
 * that it did; no-op without a LogFile. When the path cannot be opened the
 * log stays in the old file and says why. Any thread (the I/O thread on
 * SIGUSR1).
 */
void log_reopen(void);

void log_msg(LogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs and aborts; only for programmer errors and out-of-memory. */
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
