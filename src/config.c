/*
 * config: the settings table and its four sources. See config.h.
 *
 * Each source writes the setting's text into a per-setting slot with the
 * source's rank; a source of lower rank never overwrites a higher one. Only
 * when every source has been read is each winning text parsed and checked
 * against the setting's type and bounds, so an error names the setting and
 * where its value came from.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memstat.h"

/* TYPE_CHOICE: text that must be one of the words in `choices`. */
typedef enum { TYPE_INT, TYPE_STR, TYPE_CHOICE } SettingType;

typedef struct Setting {
    const char *env;  /* environment variable and .env key */
    const char *flag; /* command-line flag, or NULL for secrets (argv is visible in ps) */
    SettingType type;
    size_t offset; /* field in Config */
    size_t size;   /* for TYPE_STR: the field's capacity */
    const char *def;
    long long min, max; /* for TYPE_INT */
    const char *help;
    const char *const *choices; /* for TYPE_CHOICE: the allowed values, NULL-terminated */
    bool wide;                  /* TYPE_INT stored as int64_t (else int) */
} Setting;

#define INT(env, flag, field, def, min, max, help)                                                 \
    {                                                                                              \
        env, flag, TYPE_INT, offsetof(Config, field), 0, def, min, max, help, NULL, false          \
    }
/* An integer setting whose field is int64_t (byte counts above 2 GB). */
#define INT64(env, flag, field, def, min, max, help)                                               \
    {                                                                                              \
        env, flag, TYPE_INT, offsetof(Config, field), 0, def, min, max, help, NULL, true           \
    }
#define STR(env, flag, field, def, help)                                                           \
    {                                                                                              \
        env, flag, TYPE_STR, offsetof(Config, field), sizeof(((Config *)0)->field), def, 0, 0,     \
            help, NULL, false                                                                      \
    }
#define CHOICE(env, flag, field, def, choices, help)                                               \
    {                                                                                              \
        env, flag, TYPE_CHOICE, offsetof(Config, field), sizeof(((Config *)0)->field), def, 0, 0,  \
            help, choices, false                                                                   \
    }

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const tls_modes[] = {"off", "optional", "required", NULL};
static const char *const tls_versions[] = {"1.2", "1.3", NULL};
static const char *const on_off[] = {"on", "off", NULL};
static const char *const log_formats[] = {"text", "json", NULL};

static const Setting settings[] = {
    INT("ServerPort", "--port", port, "4000", 0, 65535,
        "TCP port to listen on (0: any free port, logged at start-up)"),
    STR("ServerAddr", "--addr", addr, "127.0.0.1",
        "address to bind; a non-loopback address needs a changed super user password"),
    INT("PgPort", "--pg-port", pg_port, "5433", -1, 65535,
        "TCP port of the PostgreSQL wire protocol front end on ServerAddr (docs/pgwire.md; "
        "0: off; -1: any free port, logged at start-up; in use: logged, the server goes on)"),
    STR("DBdir", "--data-dir", data_dir, "./storage",
        "data directory: the catalog and databases/<id>.duckdb"),
    STR("BackupDir", "--backup-dir", backup_dir, "",
        "directory of base backups (`backup`, `restore`); \"\" = DBdir/backups; may be another "
        "disk"),
    CHOICE("ArchiveMode", "--archive-mode", archive_mode, "on", on_off,
           "continuous archiving of every database's write-ahead log into BackupDir/archive, for "
           "`restore ... AT 'time'` (docs/backup.md)"),
    INT("ArchiveSync", "--archive-sync", archive_sync_ms, "200", 0, 60000,
        "milliseconds between syncs of the archive: a crash loses from the archive at most the "
        "commits of this window (0: each commit is archived before it is answered)"),
    INT("BackupSchedule", "--backup-schedule", backup_schedule_sec, "0", 0, 31536000,
        "seconds between automatic base backups of the databases changed since their last one "
        "(0: off; 86400: daily)"),
    INT("BackupRetention", "--backup-retention", backup_retention_sec, "0", 0, 315360000,
        "seconds back that every point stays restorable: older base backups and archive "
        "segments no such restore needs are removed (0: keep everything; 604800: 7 days)"),
    STR("ServerDbFile", "--db-file", db_file, "db.sqlite3",
        "catalog file (SQLite), relative to DBdir unless absolute"),
    STR("ENCRYPTION_KEY", NULL, encryption_key, "",
        "key that encrypts stored PostgreSQL connection strings (environment or .env only)"),
    STR("SuperPassword", NULL, super_password, "duck",
        "password given to the super user duck when the catalog is first created "
        "(environment or .env only)"),
    INT("MaxConnections", "--max-connections", max_connections, "1024", 1, 1000000,
        "clients connected at once; more are answered `Error: Too Many Connections`"),
    INT64("MaxRequestBytes", "--max-request-bytes", max_request_bytes, "1048576", 64, 1073741824,
          "largest request accepted, in bytes"),
    INT("IdleTimeout", "--idle-timeout", idle_timeout_sec, "3600", 0, 31536000,
        "seconds without a request before a client is disconnected (0: never)"),
    INT("StatementTimeout", "--statement-timeout", statement_timeout_sec, "300", 0, 31536000,
        "seconds a statement may run before it is interrupted and answered "
        "`Error: Statement Timeout` (0: no limit)"),
    INT("LoginTimeout", "--login-timeout", login_timeout_sec, "10", 1, 3600,
        "seconds a client has to log in; then `Error: Login Timeout` and the connection closes"),
    INT("MaxLoginRequestBytes", "--max-login-request-bytes", max_login_request_bytes, "4096", 2200,
        1048576, "largest request before login, in bytes; a larger one closes the connection"),
    INT("DropInSilenceMs", "--drop-in-silence-ms", drop_in_silence_ms, "30", 0, 10000,
        "serve the original TCP-DuckDB's clients: a connection whose first request has no "
        "newline takes each silence of this many ms as the end of a request (0: off; 30 suits "
        "a LAN)"),
    INT("SuperuserReservedConnections", "--superuser-reserved-connections", superuser_reserved, "3",
        0, 1000000,
        "of MaxConnections, logged-in slots only the super user may take; must be less than "
        "MaxConnections"),
    INT("MaxConnectionsPerAddress", "--max-connections-per-address", max_connections_per_address,
        "256", 0, 1000000, "clients connected at once from one address (an IPv6 /64); 0: no limit"),
    INT("LoginFailureLimit", "--login-failure-limit", login_failure_limit, "5", 0, 1000000,
        "failed logins from one address (4x that for one user) within 60 s before further "
        "attempts are refused for 1 s, doubling up to 60 s (0: never)"),
    INT("QueryWorkers", "--query-workers", query_workers, "4", 1, 1024,
        "worker threads that run requests; more are started while all of them are busy with "
        "long work (MaxWorkers)"),
    INT("MaxWorkers", "--max-workers", max_workers, "0", 0, 4096,
        "worker threads at most, counting those started because every worker was busy with "
        "long statements or waiting connects (0: 4 x QueryWorkers, at least 64)"),
    INT("MaxUserStatements", "--max-user-statements", max_user_statements, "0", 0, 1000000,
        "requests one user other than the super user may run at once over all their "
        "connections; more are answered `Error: Too Many Statements` (0: half of MaxWorkers)"),
    INT("IdleInTransactionTimeout", "--idle-in-transaction-timeout", idle_in_tx_timeout_sec, "600",
        0, 31536000,
        "seconds a client may leave a transaction open without sending a request before it "
        "is rolled back and the connection closed (0: never)"),
    INT("PoolSize", "--pool-size", pool_size, "16", 1, 100000,
        "DuckDB databases open at once (least recently used unpinned ones are closed)"),
    INT("PoolWaitMs", "--pool-wait-ms", pool_wait_ms, "5000", 0, 3600000,
        "how long `connect` waits for a pool slot when every open database is in use"),
    INT("DuckdbThreads", "--duckdb-threads", duckdb_threads, "0", 0, 1024,
        "threads one statement may use (0: one per core the server may run on); a statement "
        "runs on its worker alone and is joined by the others after 2 ms, so small ones pay "
        "nothing for them (docs/performance.md)"),
    STR("MemoryLimit", "--memory-limit", memory_limit, "50%",
        "memory the whole server may allocate, e.g. 4GB, or a share of RAM (50%); above it the "
        "statement using the most is interrupted with `Error: Server Memory Limit` (0: none)"),
    STR("MemoryHardLimit", "--memory-hard-limit", memory_hard_limit, "80%",
        "the last line, e.g. 8GB or a share of RAM (80%): when the server's memory reaches it "
        "anyway (one DuckDB call that cannot be interrupted), the server exits and its "
        "supervisor restarts it within a second, as PostgreSQL resets after an out-of-memory "
        "kill; committed transactions are kept (0: none)"),
    STR("StatementMemoryLimit", "--statement-memory-limit", statement_memory_limit, "25%",
        "memory one statement may allocate, e.g. 1GB, or a share of MemoryLimit (25%); above it "
        "the statement is interrupted with `Error: Statement Memory Limit` (0: none)"),
    STR("DuckdbMemoryLimit", "--duckdb-memory-limit", duckdb_memory_limit, "",
        "DuckDB memory_limit (its buffer manager) per open database, e.g. 1GB (empty: "
        "MemoryLimit / (2 x PoolSize), at least 64MB, so that all open databases together "
        "cache at most half of MemoryLimit)"),
    STR("CacheMemory", "--cache-memory", cache_memory, "64MB",
        "memory of the query result cache, e.g. 256MB (0: no result cache; docs/cache.md)"),
    STR("CacheMaxEntry", "--cache-max-entry", cache_max_entry, "1MB",
        "largest answer the result cache keeps; larger ones stream as always and are not kept"),
    INT("CacheTTL", "--cache-ttl", cache_ttl_sec, "0", 0, 31536000,
        "seconds a cached answer may be served (0: until a write or eviction drops it)"),
    CHOICE("LogLevel", "--log-level", log_level, "info", log_levels, "debug, info, warn or error"),
    CHOICE("LogFormat", "--log-format", log_format, "text", log_formats,
           "text (one line per event) or json (one JSON object per line)"),
    STR("LogFile", "--log-file", log_file, "",
        "file the log is appended to (reopened on SIGUSR1, for logrotate); empty: stderr"),
    CHOICE("TLSMode", "--tls-mode", tls_mode, "off", tls_modes,
           "off, optional (a client may send `starttls`) or required (plain clients are refused)"),
    STR("TLSCertFile", "--tls-cert-file", tls_cert_file, "",
        "server certificate chain (PEM, leaf first), needed unless TLSMode is off"),
    STR("TLSKeyFile", "--tls-key-file", tls_key_file, "",
        "private key of TLSCertFile (PEM, unencrypted); empty: it is in TLSCertFile"),
    STR("TLSCAFile", "--tls-ca-file", tls_ca_file, "",
        "CA certificates (PEM) that client certificates are verified against; empty: none asked"),
    CHOICE("TLSMinVersion", "--tls-min-version", tls_min_version, "1.2", tls_versions,
           "oldest TLS version accepted: 1.2 or 1.3"),
    CHOICE("Supervise", "--supervise", supervise, "on", on_off,
           "on: a supervisor process restarts the server at once after a crash; off: no "
           "supervisor (for systemd's Restart=, or to debug)"),
    INT("AdminPort", "--admin-port", admin_port, "4080", 0, 65535,
        "port of the web admin page and /metrics (HTTPS when TLSMode is not off; 0: off)"),
    STR("AdminAddr", "--admin-addr", admin_addr, "127.0.0.1",
        "address the admin page binds; /metrics needs MetricsToken from other addresses"),
    INT("AdminSessionTimeout", "--admin-session-timeout", admin_session_timeout_sec, "900", 1,
        86400, "seconds a session of the admin page may stay unused before it ends"),
    STR("MetricsToken", NULL, metrics_token, "",
        "bearer token /metrics asks of clients not on loopback (environment or .env only; "
        "empty: loopback only)"),
    INT("CdcBatchChanges", "--cdc-batch-changes", cdc_batch_changes, "100000", 1, 100000000,
        "CDC: a batch (one DuckDB commit of whole PostgreSQL transactions) closes at the next "
        "transaction boundary once it holds this many changes (docs/cdc.md)"),
    INT64("CdcBatchBytes", "--cdc-batch-bytes", cdc_batch_bytes, "67108864", 1024,
          INT64_C(1099511627776),
          "CDC: a batch closes at the next transaction boundary once this many bytes of changes "
          "were received for it"),
    INT("CdcBatchMs", "--cdc-batch-ms", cdc_batch_ms, "200", 1, 3600000,
        "CDC: a batch closes at the next transaction boundary once it is this many ms old (the "
        "usual lag of a stream)"),
    INT("CdcStatusInterval", "--cdc-status-interval", cdc_status_interval_ms, "1000", 100, 30000,
        "CDC: ms between standby status updates to PostgreSQL, also while a batch commits; "
        "keep it well below PostgreSQL's wal_sender_timeout (60 s)"),
    INT("CdcMaxStreams", "--cdc-max-streams", cdc_max_streams, "16", 1, 1024,
        "CDC streams running at once (each a thread, a pool pin, two PostgreSQL connections and "
        "a WAL sender); `cdc start` beyond it is refused"),
    INT64("CdcRetainedWalWarn", "--cdc-retained-wal-warn", cdc_retained_wal_warn, "1073741824", 0,
          INT64_C(4611686018427387904),
          "CDC: bytes of WAL a slot may retain in PostgreSQL (current WAL position minus the "
          "slot's restart_lsn) before a warning is logged and shown in `cdc status` (0: never)"),
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

typedef enum { FROM_DEFAULT, FROM_DOTENV, FROM_ENV, FROM_FLAG } Source;

static const char *const source_names[] = {"default", ".env", "environment", "command line"};

typedef struct Pending {
    char value[CONFIG_STR_MAX];
    Source source;
} Pending;

static const Setting *find_env(const char *key, size_t len)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strlen(settings[i].env) == len && strncmp(settings[i].env, key, len) == 0)
            return &settings[i];
    return NULL;
}

static int set_pending(Pending *p, const Setting *s, const char *value, size_t len, Source src,
                       char *err, size_t errlen)
{
    Pending *slot = &p[s - settings];
    if (slot->source > src)
        return 0;
    if (len >= sizeof(slot->value)) {
        snprintf(err, errlen, "%s (from %s) is longer than %d bytes", s->env, source_names[src],
                 CONFIG_STR_MAX - 1);
        return -1;
    }
    memcpy(slot->value, value, len);
    slot->value[len] = '\0';
    slot->source = src;
    return 0;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/*
 * Parses one .env line in godotenv's dialect: `[export ]KEY=VALUE`, blank
 * lines and `#` comments ignored; VALUE may be "double quoted" (\n, \" and
 * \\ escapes), 'single quoted' (literal), or bare (trailing ` # comment`
 * and surrounding blanks dropped). Keys that are not settings are ignored,
 * as godotenv would only put them in the environment.
 */
static int parse_env_line(Pending *p, char *line, const char *file, int lineno, char *err,
                          size_t errlen)
{
    char *s = line;
    while (is_space(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    if (strncmp(s, "export ", 7) == 0)
        s += 7;
    while (is_space(*s))
        s++;
    char *eq = strchr(s, '=');
    if (!eq || eq == s) {
        snprintf(err, errlen, "%s line %d: expected KEY=VALUE", file, lineno);
        return -1;
    }
    char *key_end = eq;
    while (key_end > s && is_space(key_end[-1]))
        key_end--;
    char *v = eq + 1;
    while (is_space(*v))
        v++;
    char value[CONFIG_STR_MAX];
    size_t n = 0;
    if (*v == '"' || *v == '\'') {
        char quote = *v++;
        for (; *v && *v != quote; v++) {
            char ch = *v;
            if (quote == '"' && ch == '\\' && v[1]) {
                ch = *++v;
                ch = ch == 'n' ? '\n' : ch;
            }
            if (n + 1 >= sizeof(value))
                goto too_long;
            value[n++] = ch;
        }
        if (*v != quote) {
            snprintf(err, errlen, "%s line %d: unterminated %c quote", file, lineno, quote);
            return -1;
        }
    } else {
        char *end = v;
        while (*end && !(*end == '#' && end > v && is_space(end[-1])))
            end++;
        while (end > v && is_space(end[-1]))
            end--;
        n = (size_t)(end - v);
        if (n >= sizeof(value))
            goto too_long;
        memcpy(value, v, n);
    }
    const Setting *st = find_env(s, (size_t)(key_end - s));
    if (!st)
        return 0;
    return set_pending(p, st, value, n, FROM_DOTENV, err, errlen);
too_long:
    snprintf(err, errlen, "%s line %d: value longer than %d bytes", file, lineno,
             CONFIG_STR_MAX - 1);
    return -1;
}

static int read_env_file(Pending *p, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s line %d: longer than %zu bytes", path, lineno,
                     sizeof(line) - 2);
            rc = -1;
            break;
        }
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = '\0';
        rc = parse_env_line(p, line, path, lineno, err, errlen);
    }
    if (rc == 0 && ferror(f)) {
        /* fopen succeeds on a directory; the read is what fails. */
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}

static void print_help(const char *prog)
{
    printf("Usage: %s [FLAGS]\n\n"
           "TCP-DuckDB %s: networked, multi-user access to DuckDB databases.\n\n"
           "Settings come from flags, then environment variables, then a .env file in the\n"
           "working directory, then the defaults below.\n\n",
           prog, TCPDUCKDB_VERSION);
    for (size_t i = 0; i < NSETTINGS; i++) {
        const Setting *s = &settings[i];
        char name[64];
        snprintf(name, sizeof(name), "%s%s%s", s->flag ? s->flag : "", s->flag ? ", " : "", s->env);
        printf("  %-40s %s\n  %-40s (default: \"%s\")\n", name, s->help, "", s->def);
    }
    printf("  %-40s %s\n  %-40s %s\n", "--help", "print this help and exit", "--version",
           "print the version and exit");
    printf("  %-40s %s\n", "--check-config",
           "check the settings (and the TLS files) and exit: 0 when usable, else 1 and why");
}

void config_print_markdown(void)
{
    printf("| environment | flag | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const Setting *s = &settings[i];
        printf("| `%s` | %s%s%s | `%s` | %s |\n", s->env, s->flag ? "`" : "",
               s->flag ? s->flag : "(none)", s->flag ? "`" : "", s->def[0] ? s->def : "\"\"",
               s->help);
    }
}

/* Finds the flag in argv[*i] ("--flag VALUE" or "--flag=VALUE"). */
static int parse_flag(Pending *p, int argc, char **argv, int *i, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t k = 0; k < NSETTINGS; k++) {
        const Setting *s = &settings[k];
        if (!s->flag || strlen(s->flag) != len || strncmp(s->flag, arg, len) != 0)
            continue;
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (*i + 1 >= argc) {
                snprintf(err, errlen, "%s needs a value (see --help)", s->flag);
                return -1;
            }
            value = argv[++*i];
        }
        return set_pending(p, s, value, strlen(value), FROM_FLAG, err, errlen);
    }
    snprintf(err, errlen, "unknown argument \"%.100s\" (see --help)", arg);
    return -1;
}

static int apply(Config *cfg, const Setting *s, const Pending *pv, char *err, size_t errlen)
{
    char *field = (char *)cfg + s->offset;
    const char *v = pv->value;
    switch (s->type) {
    case TYPE_INT: {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno == ERANGE || n < s->min || n > s->max) {
            snprintf(err, errlen,
                     "%s (from %s) must be an integer from %lld to %lld, not \"%.64s\"", s->env,
                     source_names[pv->source], s->min, s->max, v);
            return -1;
        }
        if (s->wide)
            *(int64_t *)field = n;
        else
            *(int *)field = (int)n;
        return 0;
    }
    case TYPE_CHOICE: {
        bool known = false;
        char list[128] = "";
        size_t used = 0;
        for (size_t i = 0; s->choices[i]; i++) {
            known = known || strcmp(v, s->choices[i]) == 0;
            const char *sep = i == 0 ? "" : s->choices[i + 1] ? ", " : " or ";
            int n = snprintf(list + used, sizeof(list) - used, "%s%s", sep, s->choices[i]);
            used += n > 0 && (size_t)n < sizeof(list) - used ? (size_t)n : 0;
        }
        if (!known) {
            snprintf(err, errlen, "%s (from %s) must be %s, not \"%.64s\"", s->env,
                     source_names[pv->source], list, v);
            return -1;
        }
        __attribute__((fallthrough)); /* stored as text */
    }
    case TYPE_STR:
        if (strlen(v) >= s->size) {
            snprintf(err, errlen, "%s (from %s) is longer than %zu bytes", s->env,
                     source_names[pv->source], s->size - 1);
            return -1;
        }
        memcpy(field, v, strlen(v) + 1);
        return 0;
    }
    return -1;
}

/*
 * Turns MemoryLimit and StatementMemoryLimit into bytes (a percentage is
 * of the RAM, or of MemoryLimit), and derives each database's DuckDB
 * memory_limit from MemoryLimit unless DuckdbMemoryLimit sets it: the
 * buffer managers of PoolSize open databases then hold at most half of the
 * server's budget together, leaving the other half to what DuckDB
 * allocates outside them (docs/security.md, "Memory").
 */
static int resolve_memory_limits(Config *cfg, char *err, size_t errlen)
{
    if (!memstat_parse_size(cfg->memory_limit, memstat_ram_bytes(), &cfg->memory_limit_bytes)) {
        snprintf(err, errlen,
                 "MemoryLimit must be a size such as 4GB or 512MB, or a share of RAM such as "
                 "50%%, not \"%.64s\"",
                 cfg->memory_limit);
        return -1;
    }
    if (!memstat_parse_size(cfg->memory_hard_limit, memstat_ram_bytes(),
                            &cfg->memory_hard_limit_bytes)) {
        snprintf(err, errlen,
                 "MemoryHardLimit must be a size such as 8GB, or a share of RAM such as 80%%, "
                 "not \"%.64s\"",
                 cfg->memory_hard_limit);
        return -1;
    }
    if (cfg->memory_hard_limit_bytes && cfg->memory_limit_bytes &&
        cfg->memory_hard_limit_bytes <= cfg->memory_limit_bytes) {
        snprintf(err, errlen,
                 "MemoryHardLimit (%s) must be above MemoryLimit (%s), or 0: it is the last line "
                 "behind it",
                 cfg->memory_hard_limit, cfg->memory_limit);
        return -1;
    }
    int64_t whole = cfg->memory_limit_bytes ? cfg->memory_limit_bytes : memstat_ram_bytes();
    if (!memstat_parse_size(cfg->statement_memory_limit, whole,
                            &cfg->statement_memory_limit_bytes)) {
        snprintf(err, errlen,
                 "StatementMemoryLimit must be a size such as 1GB or 256MB, or a share of "
                 "MemoryLimit such as 25%%, not \"%.64s\"",
                 cfg->statement_memory_limit);
        return -1;
    }
    /* The result cache takes sizes only: a share of RAM would make it grow with the machine. */
    if (strchr(cfg->cache_memory, '%') ||
        !memstat_parse_size(cfg->cache_memory, 0, &cfg->cache_memory_bytes)) {
        snprintf(err, errlen, "CacheMemory must be a size such as 64MB, or 0, not \"%.64s\"",
                 cfg->cache_memory);
        return -1;
    }
    if (strchr(cfg->cache_max_entry, '%') ||
        !memstat_parse_size(cfg->cache_max_entry, 0, &cfg->cache_max_entry_bytes)) {
        snprintf(err, errlen, "CacheMaxEntry must be a size such as 1MB, not \"%.64s\"",
                 cfg->cache_max_entry);
        return -1;
    }
    memcpy(cfg->db_memory_limit, cfg->duckdb_memory_limit, sizeof(cfg->db_memory_limit));
    if (cfg->db_memory_limit[0] == '\0' && cfg->memory_limit_bytes > 0) {
        const int64_t mib = 1024 * 1024;
        int64_t share = cfg->memory_limit_bytes / (2 * (int64_t)cfg->pool_size);
        snprintf(cfg->db_memory_limit, sizeof(cfg->db_memory_limit), "%lldMiB",
                 (long long)(share < 64 * mib ? 64 : share / mib));
    }
    return 0;
}

ConfigResult config_load(Config *cfg, int argc, char **argv, const char *env_file, char *err,
                         size_t errlen)
{
    Pending pending[NSETTINGS] = {0};
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NSETTINGS; i++)
        snprintf(pending[i].value, sizeof(pending[i].value), "%s", settings[i].def);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(argv[0]);
            return CONFIG_EXIT;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("tcp-duckdb %s\n", TCPDUCKDB_VERSION);
            return CONFIG_EXIT;
        }
        if (strcmp(argv[i], "--check-config") == 0) {
            cfg->check_config = true;
            continue;
        }
        /* Undocumented: prints the README's configuration table. */
        if (strcmp(argv[i], "--config-markdown") == 0) {
            config_print_markdown();
            return CONFIG_EXIT;
        }
    }
    if (env_file && read_env_file(pending, env_file, err, errlen) != 0)
        return CONFIG_ERROR;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].env);
        if (v && set_pending(pending, &settings[i], v, strlen(v), FROM_ENV, err, errlen) != 0)
            return CONFIG_ERROR;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--check-config") != 0 &&
            parse_flag(pending, argc, argv, &i, err, errlen) != 0)
            return CONFIG_ERROR;
    for (size_t i = 0; i < NSETTINGS; i++)
        if (apply(cfg, &settings[i], &pending[i], err, errlen) != 0)
            return CONFIG_ERROR;
    if (cfg->data_dir[0] == '\0') {
        snprintf(err, errlen, "DBdir must not be empty");
        return CONFIG_ERROR;
    }
    if (cfg->super_password[0] == '\0') {
        snprintf(err, errlen, "SuperPassword must not be empty");
        return CONFIG_ERROR;
    }
    if (cfg->superuser_reserved >= cfg->max_connections) {
        snprintf(err, errlen,
                 "SuperuserReservedConnections (%d) must be less than MaxConnections (%d), or no "
                 "other user could log in",
                 cfg->superuser_reserved, cfg->max_connections);
        return CONFIG_ERROR;
    }
    /* Idle threads cost little and only long work adds them; the default leaves room for
     * applications with tens of connections per user (MaxUserStatements is half of it). */
    if (cfg->max_workers == 0)
        cfg->max_workers = cfg->query_workers * 4 > 64 ? cfg->query_workers * 4 : 64;
    if (cfg->max_workers < cfg->query_workers) {
        snprintf(err, errlen, "MaxWorkers (%d) must be at least QueryWorkers (%d)",
                 cfg->max_workers, cfg->query_workers);
        return CONFIG_ERROR;
    }
    if (cfg->max_user_statements == 0)
        cfg->max_user_statements = cfg->max_workers / 2 > 0 ? cfg->max_workers / 2 : 1;
    if (strcmp(cfg->tls_mode, "off") != 0 && !cfg->tls_cert_file[0]) {
        snprintf(err, errlen,
                 "TLSMode=%s needs a certificate and its key: set TLSCertFile (and TLSKeyFile "
                 "unless the key is in the same PEM file), or TLSMode=off",
                 cfg->tls_mode);
        return CONFIG_ERROR;
    }
    if (resolve_memory_limits(cfg, err, errlen) != 0)
        return CONFIG_ERROR;
    /* One PEM file may hold both the certificate chain and the key. */
    if (!cfg->tls_key_file[0])
        memcpy(cfg->tls_key_file, cfg->tls_cert_file, sizeof(cfg->tls_key_file));
    return CONFIG_OK;
}

/*
 * The settings a reload changes in the running server (docs/operations.md,
 * "Reload"): each is read where it is used, through SessionEnv.cfg, or
 * applied by reload.c (log level and format, the TLS context). The others
 * were used once at start-up (sockets, threads, the pool, the memory
 * limits, the throttle) and need a restart. A list apart from the table,
 * so that rows added to the table stay one line each.
 */
static const char *const live_settings[] = {
    "MaxConnections",
    "MaxRequestBytes",
    "IdleTimeout",
    "StatementTimeout",
    "LoginTimeout",
    "MaxLoginRequestBytes",
    "SuperuserReservedConnections",
    "MaxUserStatements",
    "IdleInTransactionTimeout",
    "LogLevel",
    "LogFormat",
    "TLSCertFile",
    "TLSKeyFile",
    "TLSCAFile",
    "TLSMinVersion",
    "BackupSchedule",  /* read by backupsched.c at each round */
    "BackupRetention", /* idem */
    /* Read by each CDC stream at every batch and status update, and by `cdc start`. */
    "CdcBatchChanges",
    "CdcBatchBytes",
    "CdcBatchMs",
    "CdcStatusInterval",
    "CdcMaxStreams",
    "CdcRetainedWalWarn",
    NULL,
};

bool config_setting_live(const char *env)
{
    for (size_t i = 0; live_settings[i]; i++)
        if (strcmp(live_settings[i], env) == 0)
            return true;
    return false;
}

static size_t field_size(const Setting *s)
{
    if (s->type != TYPE_INT)
        return s->size;
    return s->wide ? sizeof(int64_t) : sizeof(int);
}

/* Appends "NAME" to the JSON array of names in `list` (which starts as ""). */
static void add_name(char *list, size_t len, const char *name)
{
    size_t used = strlen(list);
    snprintf(list + used, len - used, "%s\"%s\"", used ? "," : "[", name);
}

void config_merge_live(const Config *running, const Config *loaded, Config *out, char *changed,
                       size_t changed_len, char *restart, size_t restart_len)
{
    *out = *running;
    changed[0] = restart[0] = '\0';
    for (size_t i = 0; i < NSETTINGS; i++) {
        const Setting *s = &settings[i];
        const char *a = (const char *)running + s->offset, *b = (const char *)loaded + s->offset;
        bool same = s->type == TYPE_INT ? memcmp(a, b, field_size(s)) == 0 : strcmp(a, b) == 0;
        if (same)
            continue;
        if (config_setting_live(s->env)) {
            memcpy((char *)out + s->offset, b, field_size(s));
            add_name(changed, changed_len, s->env);
        } else {
            add_name(restart, restart_len, s->env);
        }
    }
    /* Close the arrays (an empty one is "[]"). */
    size_t n = strlen(changed);
    snprintf(changed + n, changed_len - n, "%s", n ? "]" : "[]");
    n = strlen(restart);
    snprintf(restart + n, restart_len - n, "%s", n ? "]" : "[]");
}
