/*
 * supervisor: a parent process that runs the server in a child and starts
 * it again at once when it crashes (docs/architecture.md, "Supervisor").
 *
 * main() calls supervisor_run() right after the configuration is loaded,
 * before any thread, file or socket exists, unless `Supervise=off`. The
 * supervisor starts the server as a new process with posix_spawn() of its
 * own executable, with the same arguments and `--supervise off` added, and
 * waits for it in a loop:
 *
 * - A crash is a death by a signal the supervisor did not forward
 *   (SIGSEGV, SIGABRT from abort() or log_fatal(), SIGBUS, SIGKILL from the
 *   kernel's OOM killer, ...) or exit status 70 (EX_SOFTWARE), 134 or 139
 *   (a shell's way of reporting SIGABRT and SIGSEGV). The server is started again at once; only
 * when more than SUPERVISOR_LOOP_CRASHES crashes fall within SUPERVISOR_LOOP_SECONDS (a crash loop)
 * does each restart wait, 1 s doubling up to SUPERVISOR_MAX_DELAY_SECONDS, logged as such.
 * - Any other exit ends the supervisor with the child's status: 0 after a
 *   clean shutdown, 1 for a start-up error (bad configuration, TLS files,
 *   data directory, port in use: restarting would fail the same way), the
 *   second signal during shutdown, or a sanitizer's report in the test
 *   builds. The first start and an exit with status 1 are logged at debug
 *   level only, so a start-up error stays the server's one line on stderr.
 * - SIGTERM, SIGINT and SIGHUP sent to the supervisor are forwarded to the
 *   child, once per signal received (a second SIGTERM still makes the
 *   server exit at once). After a SIGTERM or SIGINT the child is never
 *   restarted; when it dies of the very signal forwarded, the supervisor
 *   dies of it too, so its parent sees what it would have seen without a
 *   supervisor.
 *
 * The child runs in a process group of its own, so that a terminal's ^C
 * reaches the supervisor alone and is forwarded once, and it is killed
 * (PR_SET_PDEATHSIG, SIGKILL, set by supervisor_adopt() in the child) when
 * the supervisor dies, as a `kill -9` of the whole service would. The
 * supervisor runs one thread and takes its signals with sigwaitinfo().
 *
 * Why spawn and exec rather than fork(): each server starts as a fresh
 * process, and nothing runs the fork handlers of the libraries already
 * loaded (libduckdb's bundled allocator has some; under ThreadSanitizer
 * they report "unlock of an unlocked mutex" in the forked child).
 */
#ifndef TCPDUCKDB_SUPERVISOR_H
#define TCPDUCKDB_SUPERVISOR_H

/* Crashes within SUPERVISOR_LOOP_SECONDS above which restarts are delayed. */
#define SUPERVISOR_LOOP_CRASHES 5
#define SUPERVISOR_LOOP_SECONDS 60
#define SUPERVISOR_MAX_DELAY_SECONDS 60

/* The environment variable that tells a server its supervisor's pid. */
#define SUPERVISOR_ENV "TCPDUCKDB_SUPERVISOR_PID"

/*
 * Runs the supervision loop described above with the process's `argv`
 * (NULL-terminated, as main() got it). Returns once the server ended for
 * good: the status to exit with (1 when the first start fails). When the
 * server died of a forwarded signal, the supervisor raises that signal on
 * itself and does not return.
 */
int supervisor_run(char **argv) __attribute__((warn_unused_result));

/*
 * In a server started by a supervisor (SUPERVISOR_ENV set): removes the
 * variable and makes the kernel kill this process when the supervisor dies;
 * exits with status 1 if it has died already. Otherwise does nothing.
 * Called by main() before anything is started.
 */
void supervisor_adopt(void);

#endif
