/*
 * supervisor: restarts the server after a crash. See supervisor.h.
 *
 * The supervisor blocks the signals it cares about (SIGTERM, SIGINT, SIGHUP,
 * SIGUSR1, SIGCHLD) and takes them with sigwaitinfo() and sigtimedwait(), so it has
 * no signal handler and no state shared with one: one loop, one thread.
 */
#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"

extern char **environ;

/* Exit statuses that mean a crash rather than a decision of the server. */
static const int crash_statuses[] = {70, 134, 139};

static int64_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static bool is_crash_status(int status)
{
    for (size_t i = 0; i < sizeof(crash_statuses) / sizeof(crash_statuses[0]); i++)
        if (status == crash_statuses[i])
            return true;
    return false;
}

/* The signals the supervisor takes synchronously. */
static void supervised_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGCHLD);
}

void supervisor_adopt(void)
{
    const char *v = getenv(SUPERVISOR_ENV);
    if (!v)
        return;
    pid_t supervisor = (pid_t)strtol(v, NULL, 10);
    unsetenv(SUPERVISOR_ENV);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        log_warn("supervisor: cannot tie the server's life to the supervisor's: %s",
                 strerror(errno));
    /* The supervisor may have died before the prctl took effect. */
    if (getppid() != supervisor) {
        log_error("supervisor: the supervisor (pid %d) is gone: not starting", (int)supervisor);
        _exit(1);
    }
}

/*
 * Starts the server: this executable with `args` (argv and `--supervise
 * off`), in a process group of its own, with the signal mask the
 * supervisor was started with. Returns its pid, or -1 with errno set.
 */
static pid_t spawn_server(char **args, const sigset_t *old_mask)
{
    posix_spawnattr_t attr;
    pid_t pid = -1;
    int rc = posix_spawnattr_init(&attr);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&attr, old_mask);
    if (rc == 0)
        rc = posix_spawnattr_setpgroup(&attr, 0);
    if (rc == 0)
        rc = posix_spawn(&pid, "/proc/self/exe", NULL, &attr, args, environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

/* Dies of `sig` as the child did; returns only if `sig` does not end a
 * process by default. */
static void die_of(int sig)
{
    sigset_t set;
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    raise(sig); /* pending while blocked */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/*
 * Waits for child `pid` to end, forwarding SIGTERM, SIGINT, SIGHUP and
 * SIGUSR1 to it (SIGUSR1 also reopens the supervisor's own LogFile). Returns its wait status;
 * *out_forwarded is the last signal forwarded (0: none) and *out_stopping is set once a SIGTERM or
 * SIGINT was.
 */
static int wait_child(pid_t pid, const sigset_t *set, int *out_forwarded, bool *out_stopping)
{
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(set, &si);
        if (sig < 0)
            continue; /* EINTR: a signal outside the set, e.g. SIGSTOP/SIGCONT */
        if (sig != SIGCHLD) {
            if (kill(pid, sig) == 0)
                *out_forwarded = sig;
            if (sig == SIGUSR1)
                log_reopen();
            if (sig != SIGHUP && sig != SIGUSR1)
                *out_stopping = true;
            log_info("supervisor: signal %d forwarded to the server (pid %d)", sig, (int)pid);
            continue;
        }
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
    }
}

/*
 * Sleeps `seconds` before a restart. Returns true when a SIGTERM or SIGINT
 * came meanwhile: there is no server to stop, so the supervisor ends.
 */
static bool stopped_while_waiting(const sigset_t *set, int seconds)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += seconds;
    for (;;) {
        struct timespec now, left;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left.tv_sec = end.tv_sec - now.tv_sec;
        left.tv_nsec = end.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
        if (left.tv_sec < 0)
            return false;
        int sig = sigtimedwait(set, NULL, &left);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("supervisor: signal %d while no server runs: stopping", sig);
            return true;
        }
        if (sig < 0 && errno == EAGAIN)
            return false;
    }
}

/* "killed by signal 11 (Segmentation fault)" or "exit status 70". */
static void describe(int status, char *out, size_t outlen)
{
    if (WIFSIGNALED(status))
        snprintf(out, outlen, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(out, outlen, "exit status %d", WEXITSTATUS(status));
}

/* The loop of supervisor_run(): starts the server, waits, restarts. */
static int supervise(char **args, const sigset_t *set, const sigset_t *old_mask, pid_t self)
{
    /* The times of the last SUPERVISOR_LOOP_CRASHES + 1 crashes, a ring. */
    int64_t crashes[SUPERVISOR_LOOP_CRASHES + 1] = {0};
    int ncrashes = 0;
    int delay = 0; /* seconds before the next restart while in a crash loop */
    bool started = false;

    for (;;) {
        pid_t pid = spawn_server(args, old_mask);
        if (pid < 0) {
            log_error("supervisor: cannot start the server: %s", strerror(errno));
            if (!started)
                return 1;
            if (stopped_while_waiting(set, 1))
                return 0;
            continue;
        }
        /* A start-up error stays one line on stderr, as without a supervisor:
         * the first start is logged at debug level only. */
        if (started)
            log_info("supervisor: server restarted (pid %d)", (int)pid);
        else
            log_debug("supervisor: server started (pid %d, supervisor pid %d)", (int)pid,
                      (int)self);
        started = true;

        int forwarded = 0;
        bool stopping = false;
        int status = wait_child(pid, set, &forwarded, &stopping);
        char what[128];
        describe(status, what, sizeof(what));

        if (WIFSIGNALED(status) && forwarded && WTERMSIG(status) == forwarded) {
            log_info("supervisor: server (pid %d) %s, as forwarded: stopping", (int)pid, what);
            die_of(forwarded);
            return 128 + forwarded;
        }
        bool crashed = WIFSIGNALED(status) || is_crash_status(WEXITSTATUS(status));
        if (!crashed || stopping) {
            /* Status 1: the server has said why (start-up error, second
             * signal, sanitizer report); one more line would only repeat it. */
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                log_info("supervisor: server (pid %d) stopped", (int)pid);
            else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
                log_debug("supervisor: server (pid %d) %s: not restarted", (int)pid, what);
            else
                log_error("supervisor: server (pid %d) %s: not restarted%s", (int)pid, what,
                          stopping ? " (it was being stopped)" : "");
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }

        /* A crash: restart at once, unless crashes come in a loop. */
        int64_t now = now_sec();
        crashes[ncrashes % (SUPERVISOR_LOOP_CRASHES + 1)] = now;
        ncrashes++;
        bool loop =
            ncrashes > SUPERVISOR_LOOP_CRASHES &&
            now - crashes[ncrashes % (SUPERVISOR_LOOP_CRASHES + 1)] < SUPERVISOR_LOOP_SECONDS;
        if (!loop) {
            delay = 0;
            log_error("supervisor: server (pid %d) crashed, %s: restarting it", (int)pid, what);
            continue;
        }
        delay = delay == 0 ? 1 : delay * 2;
        if (delay > SUPERVISOR_MAX_DELAY_SECONDS)
            delay = SUPERVISOR_MAX_DELAY_SECONDS;
        log_error("supervisor: server (pid %d) crashed, %s; more than %d crashes within %d s: "
                  "restarting it in %d s",
                  (int)pid, what, SUPERVISOR_LOOP_CRASHES, SUPERVISOR_LOOP_SECONDS, delay);
        if (stopped_while_waiting(set, delay))
            return 0;
    }
}

int supervisor_run(char **argv)
{
    sigset_t set, old_mask;
    supervised_signals(&set);
    sigprocmask(SIG_BLOCK, &set, &old_mask);
    pid_t self = getpid();
    char self_text[32];
    snprintf(self_text, sizeof(self_text), "%d", (int)self);
    if (setenv(SUPERVISOR_ENV, self_text, 1) != 0) {
        log_error("supervisor: cannot set %s: %s", SUPERVISOR_ENV, strerror(errno));
        return 1;
    }
    /* The server's arguments: ours, and the last word on supervision. */
    int argc = 0;
    while (argv[argc])
        argc++;
    char **args = xcalloc((size_t)argc + 3, sizeof(char *));
    memcpy(args, argv, (size_t)argc * sizeof(char *));
    args[argc] = "--supervise";
    args[argc + 1] = "off";
    int status = supervise(args, &set, &old_mask, self);
    free(args);
    return status;
}
