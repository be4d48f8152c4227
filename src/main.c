/*
 * main: start-up and shutdown of the TCP-DuckDB server. Loads the
 * configuration, prepares the data directory, opens the catalog and the
 * database pool, refuses an unsafe exposure (protected mode), and runs the
 * server until SIGINT/SIGTERM. Unless Supervise=off, the server runs in a
 * child of a supervisor process that restarts it after a crash
 * (supervisor.h). Exit status: 0 after a clean shutdown, 1 when start-up
 * fails (one line on stderr says why); the supervisor exits with its
 * server's status.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "admin.h"
#include "backupsched.h"
#include "catalog.h"
#include "cdc.h"
#include "config.h"
#include "dbmeta.h"
#include "log.h"
#include "memstat.h"
#include "pool.h"
#include "query.h"
#include "quota.h"
#include "reload.h"
#include "rescache.h"
#include "secret.h"
#include "server.h"
#include "supervisor.h"
#include "tls.h"
#include "walarchive.h"
#include "watchdog.h"

/* Creates the data directory and its missing parents (as `mkdir -p`), then
 * checks that it is a writable directory. */
static int prepare_data_dir(const char *dir, char *err, size_t errlen)
{
    char path[CONFIG_STR_MAX];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1;; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create DBdir %s: %s", path, strerror(errno));
            return -1;
        }
        if (last)
            break;
        *p = '/';
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "DBdir %s is not a directory", dir);
        return -1;
    }
    char probe[1100];
    snprintf(probe, sizeof(probe), "%s/.write-test", dir);
    FILE *f = fopen(probe, "w");
    if (!f) {
        snprintf(err, errlen, "DBdir %s is not writable: %s", dir, strerror(errno));
        return -1;
    }
    fclose(f);
    unlink(probe);
    return 0;
}

/* True when every address `addr` resolves to is a loopback address. */
static bool loopback_only(const char *addr)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(addr, NULL, &hints, &res) != 0)
        return false;
    bool all = res != NULL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *sin = (const void *)ai->ai_addr;
            all = all && (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;
            all = all && IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
        } else {
            all = false;
        }
    }
    freeaddrinfo(res);
    return all;
}

/* Allows as many descriptors as the hard limit: each client needs one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The pool's counters, logged once at shutdown (the `stats` command shows
 * them while the server runs). */
/* One line: the memory limits in force and where the server's memory is counted. */
static void log_memory_limits(const Config *cfg)
{
    char server[32] = "none", statement[32] = "none", hard[32] = "none";
    if (cfg->memory_hard_limit_bytes)
        memstat_format_size(hard, sizeof(hard), cfg->memory_hard_limit_bytes);
    if (cfg->memory_limit_bytes)
        memstat_format_size(server, sizeof(server), cfg->memory_limit_bytes);
    if (cfg->statement_memory_limit_bytes)
        memstat_format_size(statement, sizeof(statement), cfg->statement_memory_limit_bytes);
    log_info("memory limits: MemoryLimit %s, StatementMemoryLimit %s, MemoryHardLimit %s, DuckDB "
             "memory_limit per database %s (counted: DuckDB's jemalloc and %s allocator)",
             server, statement, hard,
             cfg->db_memory_limit[0] ? cfg->db_memory_limit : "DuckDB's default",
             memstat_process_allocator());
}

static void log_pool_stats(Pool *pool)
{
    PoolStats st;
    pool_stats(pool, &st);
    log_info("pool: size %d, open %d, pinned %d, hits %llu, misses %llu, evictions %llu, "
             "waits %llu, timeouts %llu, rejected %llu, invalidated %llu",
             st.size, st.open, st.pinned, (unsigned long long)st.hits,
             (unsigned long long)st.misses, (unsigned long long)st.evictions,
             (unsigned long long)st.waits, (unsigned long long)st.timeouts,
             (unsigned long long)st.rejected, (unsigned long long)st.invalidated);
}

/*
 * --check-config: the settings loaded already; checks what start-up would
 * read besides them (the TLS files, LogFile), prints one line and returns
 * the exit status: 0 when the server could start with them, 1 otherwise.
 */
static int check_config(const Config *cfg)
{
    char err[1024] = "";
    TlsServer *tls = NULL;
    int rc = tls_server_new(cfg, &tls, err, sizeof(err));
    tls_server_free(tls);
    if (rc == 0 && cfg->log_file[0]) {
        int fd = open(cfg->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            snprintf(err, sizeof(err), "cannot open LogFile %s: %s", cfg->log_file,
                     strerror(errno));
            rc = -1;
        } else {
            close(fd);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "tcp-duckdb: configuration error: %s\n", err);
        return 1;
    }
    printf("tcp-duckdb: configuration OK\n");
    return 0;
}

/* The pool's on_open: the archive's base is taken before any session can
 * commit, then the server's table identities are read. */
static void *database_opened(duckdb_connection con, int64_t id)
{
    walarchive_opened(id);
    return access_tables_open(con, id);
}

int main(int argc, char **argv)
{
    static Config cfg;
    char err[1024] = "";
    Catalog *catalog = NULL;
    Pool *pool = NULL;
    Quota *quota = NULL;
    TlsServer *tls = NULL;
    Throttle *throttle = NULL;
    Admin *admin = NULL;
    int status = 1;

    switch (config_load(&cfg, argc, argv, ".env", err, sizeof(err))) {
    case CONFIG_OK:
        break;
    case CONFIG_EXIT:
        return 0;
    case CONFIG_ERROR:
        fprintf(stderr, "tcp-duckdb: %s\n", err);
        return 1;
    }
    log_set_level(log_parse_level(cfg.log_level));
    log_set_json(strcmp(cfg.log_format, "json") == 0);
    if (cfg.check_config)
        return check_config(&cfg);
    /* SIGHUP (reload) and SIGUSR1 (reopen the log) are taken by the server's
     * I/O thread from a signalfd (server.c) and forwarded by the supervisor;
     * blocked from here on, so that one arriving during start-up waits
     * instead of ending the process (their default action). The threads
     * started later inherit the mask. */
    sigset_t ops_signals;
    sigemptyset(&ops_signals);
    sigaddset(&ops_signals, SIGHUP);
    sigaddset(&ops_signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &ops_signals, NULL);
    if (cfg.log_file[0] && log_open_file(cfg.log_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "tcp-duckdb: %s\n", err);
        return 1;
    }
    /* Before any thread, file or socket exists. The supervisor starts the
     * server as a process of its own, which passes here with Supervise=off. */
    supervisor_adopt();
    if (strcmp(cfg.supervise, "on") == 0)
        return supervisor_run(argv);
    /* The log is stderr. DuckDB prints query profiles and progress bars to
     * stdout (PRAGMA enable_profiling): nothing a client causes may reach
     * the log, so stdout goes nowhere. */
    if (!freopen("/dev/null", "w", stdout)) {
        fprintf(stderr, "tcp-duckdb: cannot redirect stdout to /dev/null\n");
        return 1;
    }
    if (strlen(cfg.data_dir) > 900) {
        fprintf(stderr, "tcp-duckdb: DBdir is longer than 900 bytes\n");
        return 1;
    }
    if (strcmp(cfg.encryption_key, CONFIG_PLACEHOLDER_KEY) == 0)
        log_warn("ENCRYPTION_KEY is the placeholder from the documentation: anyone who has read "
                 "it can decrypt stored connection strings; set a secret key of your own");
    if (secret_key_weak(cfg.encryption_key))
        log_warn("ENCRYPTION_KEY is shorter than 32 bytes: it is stretched with HKDF-SHA-256, "
                 "but a short key is easy to guess; use 32 random bytes or more");
    raise_fd_limit();
    /* Before anything is created on disk: a TLS setting that cannot work
     * is a configuration error. */
    if (tls_server_new(&cfg, &tls, err, sizeof(err)) != 0)
        goto out;
    if (prepare_data_dir(cfg.data_dir, err, sizeof(err)) != 0)
        goto out;

    char catalog_path[2100];
    if (cfg.db_file[0] == '/')
        snprintf(catalog_path, sizeof(catalog_path), "%s", cfg.db_file);
    else
        snprintf(catalog_path, sizeof(catalog_path), "%s/%s", cfg.data_dir, cfg.db_file);
    catalog = catalog_open(catalog_path, cfg.super_password, err, sizeof(err));
    if (!catalog)
        goto out;

    if (!loopback_only(cfg.addr) && catalog_super_has_default_password(catalog)) {
        snprintf(err, sizeof(err),
                 "refusing to listen on %s: the super user \"%s\" still has the default "
                 "password. Start the server on 127.0.0.1, log in and run `update user password "
                 "%s NEW_PASSWORD` (or set SuperPassword before the first start), then restart "
                 "it with ServerAddr=%s",
                 cfg.addr, CATALOG_SUPER_USER, CATALOG_SUPER_USER, cfg.addr);
        goto out;
    }

    /* A connect waits for a pool slot on a worker thread, and the pins it
     * waits for are released by requests that also need a worker. Waiting
     * workers count as busy with long work, so the server starts others
     * (workers.h) up to MaxWorkers; one is kept out of the wait so that
     * releases can always run. */
    PoolConfig pc = {.data_dir = cfg.data_dir,
                     .size = cfg.pool_size,
                     .wait_ms = cfg.pool_wait_ms,
                     .max_waiters = cfg.max_workers - 1,
                     .threads = cfg.duckdb_threads,
                     .memory_limit = cfg.db_memory_limit,
                     .on_open = database_opened,
                     .on_close = access_tables_close,
                     .archive = !strcmp(cfg.archive_mode, "on"),
                     .before_close = walarchive_closing};
    pool = pool_new(&pc, err, sizeof(err));
    if (!pool || walarchive_start(&cfg, pool, err, sizeof(err)) != 0)
        goto out;

    /* The result cache: its classifier takes DuckDB's own lists of
     * functions, and stays off when they cannot be read (docs/cache.md). */
    RescacheConfig rcfg = {.memory_bytes = cfg.cache_memory_bytes,
                           .max_entry_bytes = cfg.cache_max_entry_bytes,
                           .ttl_sec = cfg.cache_ttl_sec};
    rescache_configure(&rcfg);
    if (cfg.cache_memory_bytes > 0) {
        if (dbmeta_list_functions(rescache_note_function, rescache_note_keyword) == 0)
            rescache_functions_ready();
        else
            log_warn("the result cache is off: DuckDB's function list could not be read");
    }

    quota = quota_new();
    throttle = throttle_new(cfg.login_failure_limit, THROTTLE_CAPACITY);
    SessionEnv env = {.cfg = &cfg,
                      .throttle = throttle,
                      .catalog = catalog,
                      .pool = pool,
                      .sessions_active = server_sessions_active,
                      .sessions_tls = server_sessions_tls,
                      .sessions_pg = server_sessions_pg,
                      .workers = server_workers,
                      .quota = quota,
                      .reload = reload_run};
    reload_init(&env, tls, argc, argv, ".env");
    /* Interrupts statements past StatementTimeout, over a memory limit or whose client is gone. */
    WatchdogMemoryLimits mem = {.server_bytes = cfg.memory_limit_bytes,
                                .statement_bytes = cfg.statement_memory_limit_bytes,
                                .hard_bytes = cfg.memory_hard_limit_bytes};
    watchdog_set_memory_limits(&mem);
    log_memory_limits(&cfg);
    if (watchdog_start() != 0) {
        snprintf(err, sizeof(err), "cannot start the watchdog thread");
        goto out;
    }
    if (backupsched_start(&env) != 0) {
        snprintf(err, sizeof(err), "cannot start the backup schedule thread");
        goto out;
    }
    /* The admin page is a convenience: a port in use does not stop the server. */
    if (admin_start(&env, tls, throttle, &admin, err, sizeof(err)) != 0)
        log_error("admin page not started: %s", err);
    cdc_init(&env); /* resumes the CDC streams (docs/cdc.md) */
    if (server_run(&env, tls, err, sizeof(err)) != 0)
        goto out;
    log_pool_stats(pool);
    WatchdogStats ws;
    watchdog_stats(&ws);
    log_info("statements interrupted: %llu, of which timeouts: %llu, over StatementMemoryLimit: "
             "%llu, over MemoryLimit: %llu",
             (unsigned long long)ws.interrupted, (unsigned long long)ws.timeouts,
             (unsigned long long)ws.statement_memory, (unsigned long long)ws.server_memory);
    status = 0;
out:
    admin_stop(admin);  /* its sessions unpin their databases before the pool goes */
    cdc_shutdown();     /* the streams too */
    backupsched_stop(); /* a backup pins its database */
    watchdog_stop();    /* the workers are gone: nothing is registered */
    reload_free();      /* no thread reads a Config any more */
    pool_free(pool);    /* ends every archive segment */
    walarchive_stop();
    quota_free(quota);
    throttle_free(throttle);
    catalog_close(catalog);
    tls_server_free(tls);
    if (status != 0)
        fprintf(stderr, "tcp-duckdb: %s\n", err);
    else
        log_info("server stopped");
    return status;
}
