/*
 * config: the server's settings, from one declarative table.
 *
 * Each setting has a name as an environment variable (the seed's names:
 * ServerPort, ServerAddr, DBdir, ServerDbFile, ENCRYPTION_KEY, and the same
 * CamelCase style for ours), a command-line flag, a type, a default, bounds
 * and a help line. The same table drives the environment, the `.env` file,
 * the flags, `--help` and the Markdown table in the README, so they cannot
 * disagree. Precedence: flag > environment > .env > default (as godotenv:
 * a variable already in the environment is not overridden by .env).
 *
 * Loaded by main() before any thread starts. A Config is never changed
 * once threads can see it: `reload` (reload.h) builds a new one and
 * publishes it through an atomic pointer (SessionEnv.cfg), and the old one
 * stays valid until the process exits, so any thread may read the one it
 * has loaded without a lock.
 */
#ifndef TCPDUCKDB_CONFIG_H
#define TCPDUCKDB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_STR_MAX 1024

typedef struct Config {
    int port;                        /* ServerPort, --port; 0 = any free port */
    int pg_port;                     /* PgPort, --pg-port: PostgreSQL protocol; 0 = off, -1 = any */
    char addr[CONFIG_STR_MAX];       /* ServerAddr, --addr */
    char data_dir[CONFIG_STR_MAX];   /* DBdir, --data-dir */
    char db_file[CONFIG_STR_MAX];    /* ServerDbFile, --db-file; relative to data_dir */
    char backup_dir[CONFIG_STR_MAX]; /* BackupDir, --backup-dir; "" = data_dir/backups */
    char archive_mode[8];            /* ArchiveMode: on | off (walarchive.h) */
    int archive_sync_ms;             /* ArchiveSync: ms between archive syncs; 0 = each commit */
    int backup_schedule_sec;         /* BackupSchedule: s between automatic backups; 0 = off */
    int backup_retention_sec;        /* BackupRetention: s of restore points kept; 0 = all */
    char encryption_key[CONFIG_STR_MAX]; /* ENCRYPTION_KEY (environment or .env only) */
    char super_password[CONFIG_STR_MAX]; /* SuperPassword: initial password of "duck" */
    int max_connections;                 /* MaxConnections, --max-connections */
    int64_t max_request_bytes;           /* MaxRequestBytes, --max-request-bytes */
    int idle_timeout_sec;                /* IdleTimeout, --idle-timeout; 0 = never */
    int statement_timeout_sec;           /* StatementTimeout, --statement-timeout; 0 = none */
    int login_timeout_sec;               /* LoginTimeout, --login-timeout */
    int max_login_request_bytes;         /* MaxLoginRequestBytes: request limit before login */
    int drop_in_silence_ms;              /* DropInSilenceMs: drop-in framing (0 = off) */
    int superuser_reserved;              /* SuperuserReservedConnections */
    int max_connections_per_address;     /* MaxConnectionsPerAddress; 0 = no limit */
    int login_failure_limit;         /* LoginFailureLimit: failures before throttling; 0 = off */
    int query_workers;               /* QueryWorkers, --query-workers: base worker threads */
    int max_workers;                 /* MaxWorkers; resolved by config_load (never 0) */
    int max_user_statements;         /* MaxUserStatements; resolved (never 0) */
    int idle_in_tx_timeout_sec;      /* IdleInTransactionTimeout; 0 = never */
    int pool_size;                   /* PoolSize, --pool-size: DuckDB databases open at once */
    int pool_wait_ms;                /* PoolWaitMs, --pool-wait-ms */
    int duckdb_threads;              /* DuckdbThreads, --duckdb-threads; 0 = DuckDB's default */
    char duckdb_memory_limit[64];    /* DuckdbMemoryLimit, --duckdb-memory-limit; "" = derived */
    char memory_limit[64];           /* MemoryLimit, --memory-limit: a size or % of RAM */
    char statement_memory_limit[64]; /* StatementMemoryLimit: a size or % of MemoryLimit */
    char memory_hard_limit[64];      /* MemoryHardLimit: a size or % of RAM */
    /* Resolved by config_load from the three above. */
    int64_t memory_limit_bytes;           /* 0 = no limit */
    int64_t statement_memory_limit_bytes; /* 0 = no limit */
    int64_t memory_hard_limit_bytes;      /* 0 = none */
    char cache_memory[64];                /* CacheMemory: result cache size, e.g. 64MB; 0 = off */
    char cache_max_entry[64];   /* CacheMaxEntry: largest answer the result cache stores */
    int cache_ttl_sec;          /* CacheTTL: seconds a cached answer may be served; 0 = no limit */
    int64_t cache_memory_bytes; /* resolved from cache_memory */
    int64_t cache_max_entry_bytes; /* resolved from cache_max_entry */
    char db_memory_limit[64];      /* each database's memory_limit: DuckdbMemoryLimit or derived */
    char log_level[16];            /* LogLevel, --log-level: debug|info|warn|error */
    char log_format[8];            /* LogFormat, --log-format: text|json */
    char log_file[CONFIG_STR_MAX]; /* LogFile, --log-file: "" = stderr */
    char tls_mode[16];             /* TLSMode, --tls-mode: off|optional|required */
    char tls_cert_file[CONFIG_STR_MAX]; /* TLSCertFile, --tls-cert-file: PEM chain, leaf first */
    char tls_key_file[CONFIG_STR_MAX];  /* TLSKeyFile: PEM key; "" = in the cert file */
    char tls_ca_file[CONFIG_STR_MAX];   /* TLSCAFile, --tls-ca-file: verifies client certificates */
    char tls_min_version[8];            /* TLSMinVersion, --tls-min-version: 1.2|1.3 */
    char supervise[8];                  /* Supervise, --supervise: on|off (supervisor.h) */
    bool check_config;                  /* --check-config: validate and exit (not a setting) */
    int admin_port;                     /* AdminPort, --admin-port: admin page; 0 = off */
    char admin_addr[CONFIG_STR_MAX];    /* AdminAddr, --admin-addr */
    char metrics_token[CONFIG_STR_MAX]; /* MetricsToken: bearer token for /metrics off loopback */
    int admin_session_timeout_sec;      /* AdminSessionTimeout: idle admin page sessions end */
    /* Native CDC (docs/cdc.md); all live: each stream reads them from SessionEnv.cfg. */
    int cdc_batch_changes;         /* CdcBatchChanges: changes that close a batch */
    int64_t cdc_batch_bytes;       /* CdcBatchBytes: received bytes that close a batch */
    int cdc_batch_ms;              /* CdcBatchMs: ms after which a batch closes */
    int cdc_status_interval_ms;    /* CdcStatusInterval: ms between standby status updates */
    int cdc_max_streams;           /* CdcMaxStreams: streams running at once */
    int64_t cdc_retained_wal_warn; /* CdcRetainedWalWarn: bytes of slot WAL; 0 = no warning */
} Config;

typedef enum {
    CONFIG_OK,    /* settings loaded and valid: start the server */
    CONFIG_EXIT,  /* --help or --version was printed: exit 0 */
    CONFIG_ERROR, /* `err` holds one line saying what is wrong and how to fix it */
} ConfigResult;

/*
 * Fills `cfg` from defaults, the .env file (`env_file`, usually ".env"; a
 * missing file is fine, an unreadable one is an error), the environment and
 * argv. Prints --help/--version output to stdout itself.
 */
ConfigResult config_load(Config *cfg, int argc, char **argv, const char *env_file, char *err,
                         size_t errlen) __attribute__((warn_unused_result));

/*
 * For a reload (reload.h): fills `out` with `running`, except the settings
 * that can change while the server runs (the README's configuration table
 * says which), which are taken from `loaded` (both as config_load() left
 * them). Appends to `changed` the names of the live settings whose value
 * differs, and to `restart` those of the other settings that differ (which
 * keep their running value until a restart), each as a JSON array of
 * strings ("[]" when none).
 */
void config_merge_live(const Config *running, const Config *loaded, Config *out, char *changed,
                       size_t changed_len, char *restart, size_t restart_len);

/* True when setting `env` (its environment name) can change with a reload. */
bool config_setting_live(const char *env);

/* Writes the settings table as Markdown (for the README) to stdout. */
void config_print_markdown(void);

/* The seed's placeholder key; start-up warns when it is in use. */
#define CONFIG_PLACEHOLDER_KEY "A15pG0m3hwf0tfpVW6m92eZ6vRmAQA3C"

#endif
