/*
 * log: see log.h.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2048

static atomic_int min_level = LOG_INFO;
static atomic_bool json_format;

/* The LogFile path; set once by log_open_file() before the threads start, "" = stderr. */
static char file_path[1024];
/* Serialises log_reopen() (a signal and a reload could ask at once). */
static pthread_mutex_t reopen_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const level_json[] = {"debug", "info", "warn", "error"};

void log_set_level(LogLevel level)
{
    atomic_store(&min_level, (int)level);
}

LogLevel log_parse_level(const char *s)
{
    if (strcmp(s, "debug") == 0)
        return LOG_DEBUG;
    if (strcmp(s, "warn") == 0)
        return LOG_WARN;
    if (strcmp(s, "error") == 0)
        return LOG_ERROR;
    return LOG_INFO;
}

void log_set_json(bool json)
{
    atomic_store(&json_format, json);
}

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int log_open_file(const char *path, char *err, size_t errlen)
{
    int fd = open_append(path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open LogFile %s: %s", path, strerror(errno));
        return -1;
    }
    if (dup2(fd, STDERR_FILENO) < 0) {
        snprintf(err, errlen, "cannot use LogFile %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    snprintf(file_path, sizeof(file_path), "%s", path);
    return 0;
}

void log_reopen(void)
{
    if (!file_path[0])
        return;
    pthread_mutex_lock(&reopen_lock);
    int fd = open_append(file_path);
    int saved = errno;
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    pthread_mutex_unlock(&reopen_lock);
    if (fd < 0)
        log_error("cannot reopen LogFile %s: %s; still logging to the old file", file_path,
                  strerror(saved));
    else
        log_info("log file %s reopened", file_path);
}

/* Appends `s` to line[*n] as the inside of a JSON string, within `cap` (room kept for the end). */
static void json_escape(char *line, size_t *n, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s && *n + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            line[(*n)++] = '\\';
            line[(*n)++] = (char)ch;
        } else if (ch == '\n') {
            line[(*n)++] = '\\';
            line[(*n)++] = 'n';
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(line + *n, "\\u00", 4);
            line[*n + 4] = hex[ch >> 4];
            line[*n + 5] = hex[ch & 15];
            *n += 6;
        } else {
            line[(*n)++] = (char)ch; /* UTF-8 bytes pass as they are */
        }
    }
}

static void log_vwrite(LogLevel level, const char *fmt, va_list ap)
{
    char line[LINE_MAX_BYTES];
    size_t len = 0;
    if (atomic_load(&json_format)) {
        char msg[LINE_MAX_BYTES];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        int n = snprintf(line, sizeof(line),
                         "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\","
                         "\"msg\":\"",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, ts.tv_nsec / 1000000, level_json[level]);
        len = n > 0 ? (size_t)n : 0;
        json_escape(line, &len, sizeof(line) - 4, msg);
        memcpy(line + len, "\"}\n", 3);
        len += 3;
    } else {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        int n = snprintf(line, sizeof(line), "%s %04d/%02d/%02d %02d:%02d:%02d ",
                         level_names[level], tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof(line) - 2)
            len = sizeof(line) - 2;
        line[len++] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void log_msg(LogLevel level, const char *fmt, ...)
{
    if ((int)level < atomic_load_explicit(&min_level, memory_order_relaxed))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_ERROR, fmt, ap);
    va_end(ap);
    abort();
}
