/*
 * log: the server's log lines on stderr, in the seed's format
 * ("INFO 2026/01/02 15:04:05 message"). Safe to call from any thread: each
 * line is formatted into a local buffer and written with one write(2), so
 * lines from different threads never interleave. Never pass a password or a
 * connection string with a password in it.
 */
#ifndef TCPDUCKDB_LOG_H
#define TCPDUCKDB_LOG_H

#include <stdbool.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } LogLevel;

void log_set_level(LogLevel level);
void log_msg(LogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs and aborts; only for programmer errors and out-of-memory. */
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
