/*
 * supervisor: a parent process that runs the server in a child and starts
 * it again at once when it crashes (docs/architecture.md, "Supervisor").
 *
 * main() calls supervisor_run() right after the configuration is loaded,
 * before any thread, file or socket exists, unless `Supervise=off`. The
 * function forks; it returns SUPERVISOR_CHILD in each child, which then
 * starts the server as an unsupervised process would, and it keeps the
 * parent in a loop that waits for the child:
 *
 * - A crash is a death by a signal the supervisor did not forward
 *   (SIGSEGV, SIGABRT from abort() or log_fatal(), SIGBUS, SIGKILL from the
 *   kernel's OOM killer, ...) or an exit status in SUPERVISOR_CRASH_STATUSES
 *   (70, EX_SOFTWARE; 134 and 139, a shell's way of reporting SIGABRT and
 *   SIGSEGV). The server is started again at once; only when more than
 *   SUPERVISOR_LOOP_CRASHES crashes fall within SUPERVISOR_LOOP_SECONDS
 *   (a crash loop) does each restart wait, 1 s doubling up to
 *   SUPERVISOR_MAX_DELAY_SECONDS, logged as such.
 * - Any other exit ends the supervisor with the child's status: 0 after a
 *   clean shutdown, 1 for a start-up error (bad configuration, TLS files,
 *   data directory, port in use: restarting would fail the same way), the
 *   second signal during shutdown, or a sanitizer's report in the test
 *   builds.
 * - SIGTERM, SIGINT and SIGHUP sent to the supervisor are forwarded to the
 *   child, once per signal received (a second SIGTERM still makes the
 *   server exit at once). After a SIGTERM or SIGINT the child is never
 *   restarted; when it dies of the very signal forwarded, the supervisor
 *   dies of it too, so its parent sees what it would have seen without a
 *   supervisor.
 *
 * The child runs in a process group of its own, so that a terminal's ^C
 * reaches the supervisor alone and is forwarded once, and it is killed
 * (PR_SET_PDEATHSIG, SIGKILL) when the supervisor dies, as a `kill -9` of
 * the whole service would. The supervisor itself allocates nothing and
 * runs one thread.
 */
#ifndef TCPDUCKDB_SUPERVISOR_H
#define TCPDUCKDB_SUPERVISOR_H

/* Crashes within SUPERVISOR_LOOP_SECONDS above which restarts are delayed. */
#define SUPERVISOR_LOOP_CRASHES 5
#define SUPERVISOR_LOOP_SECONDS 60
#define SUPERVISOR_MAX_DELAY_SECONDS 60

typedef enum {
    SUPERVISOR_CHILD, /* this is a child: start the server */
    SUPERVISOR_DONE,  /* this is the supervisor and it is done: exit with *out_status */
} SupervisorRole;

/*
 * Runs the supervision loop described above. Returns SUPERVISOR_CHILD in
 * every child, with the signal mask and dispositions as they were at the
 * call. In the supervisor it returns SUPERVISOR_DONE once the server ended
 * for good, with the status to exit with in *out_status (1 when the first
 * fork fails); when the child died of a forwarded signal, the supervisor
 * raises that signal on itself and does not return.
 */
SupervisorRole supervisor_run(int *out_status) __attribute__((warn_unused_result));

#endif
