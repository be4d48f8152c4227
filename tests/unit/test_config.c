/*
 * Unit tests of config.c through config_load(): defaults, the .env file (godotenv's dialect:
 * export, quotes, escapes, comments), the environment, flags, their precedence, bounds, bad
 * values, and --help/--version/--config-markdown.
 *
 * Every test starts from an environment without any setting (clear_env) and writes its .env
 * file into a temporary directory; what config_load() prints goes to a temporary file
 * (capture_stdout) so the test can read it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static const char *const setting_env[] = {"ServerPort",
                                          "ServerAddr",
                                          "DBdir",
                                          "ServerDbFile",
                                          "ENCRYPTION_KEY",
                                          "SuperPassword",
                                          "MaxConnections",
                                          "MaxRequestBytes",
                                          "IdleTimeout",
                                          "QueryWorkers",
                                          "PoolSize",
                                          "PoolWaitMs",
                                          "DuckdbThreads",
                                          "DuckdbMemoryLimit",
                                          "LogLevel",
                                          "TLSMode",
                                          "TLSCertFile",
                                          "TLSKeyFile",
                                          "TLSCAFile",
                                          "TLSMinVersion",
                                          "StatementTimeout",
                                          "LoginTimeout",
                                          "MaxLoginRequestBytes",
                                          "SuperuserReservedConnections",
                                          "MaxConnectionsPerAddress",
                                          "LoginFailureLimit",
                                          "MaxWorkers",
                                          "MaxUserStatements",
                                          "IdleInTransactionTimeout",
                                          "MemoryLimit",
                                          "StatementMemoryLimit",
                                          "MemoryHardLimit",
                                          "Supervise",
                                          "LogFormat",
                                          "LogFile",
                                          "CacheMemory",
                                          "CacheMaxEntry",
                                          "CacheTTL"};

static char tmp_dir[] = "/tmp/tdb-test-config-XXXXXX";
static char env_path[sizeof(tmp_dir) + 16];

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof(setting_env) / sizeof(setting_env[0]); i++)
        unsetenv(setting_env[i]);
}

/* Writes the .env file of the next config_load(). */
static void write_env(const char *text)
{
    FILE *f = fopen(env_path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* config_load() with argv = {"tcp-duckdb", args..., NULL} and the test's .env file. */
static ConfigResult load(Config *cfg, char *err, size_t errlen, int nargs, const char **args)
{
    char *argv[16] = {"tcp-duckdb"};
    for (int i = 0; i < nargs && i < 14; i++)
        argv[i + 1] = (char *)args[i];
    err[0] = '\0';
    return config_load(cfg, nargs + 1, argv, env_path, err, errlen);
}

#define LOAD(cfg, err, ...)                                                                        \
    load(cfg, err, sizeof(err), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)),     \
         (const char *[]){__VA_ARGS__})
#define LOAD_NOARGS(cfg, err) load(cfg, err, sizeof(err), 0, NULL)

static void test_defaults(void)
{
    Config cfg;
    char err[256];
    clear_env();
    unlink(env_path); /* a missing .env file is fine */
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK(cfg.port == 4000);
    CHECK_STR(cfg.addr, "127.0.0.1");
    CHECK_STR(cfg.data_dir, "./storage");
    CHECK_STR(cfg.db_file, "db.sqlite3");
    CHECK_STR(cfg.encryption_key, "");
    CHECK_STR(cfg.super_password, "duck");
    CHECK(cfg.max_connections == 1024);
    CHECK(cfg.max_request_bytes == 1048576);
    CHECK(cfg.idle_timeout_sec == 3600);
    CHECK(cfg.statement_timeout_sec == 300);
    CHECK(cfg.query_workers == 4);
    CHECK(cfg.pool_size == 16);
    CHECK(cfg.pool_wait_ms == 5000);
    CHECK(cfg.duckdb_threads == 0);
    CHECK_STR(cfg.duckdb_memory_limit, "");
    CHECK_STR(cfg.log_level, "info");
    CHECK_STR(cfg.tls_mode, "off");
    CHECK_STR(cfg.tls_cert_file, "");
    CHECK_STR(cfg.tls_key_file, "");
    CHECK_STR(cfg.tls_min_version, "1.2");
    /* No .env file at all (NULL) is the same. */
    char *argv[] = {"tcp-duckdb", NULL};
    CHECK(config_load(&cfg, 1, argv, NULL, err, sizeof(err)) == CONFIG_OK);
    CHECK(cfg.port == 4000);
}

static void test_env_and_precedence(void)
{
    Config cfg;
    char err[256];
    clear_env();
    write_env("ServerPort=4100\nServerAddr=10.0.0.1\nQueryWorkers=3\n");
    setenv("ServerPort", "4200", 1);
    setenv("MaxRequestBytes", "1073741824", 1);
    CHECK(LOAD(&cfg, err, "--port", "4300", "--query-workers=7") == CONFIG_OK);
    CHECK(cfg.port == 4300);                      /* flag over environment over .env */
    CHECK(cfg.query_workers == 7);                /* --flag=VALUE form */
    CHECK_STR(cfg.addr, "10.0.0.1");              /* .env over default */
    CHECK(cfg.max_request_bytes == 1073741824LL); /* the one 64-bit setting */
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK(cfg.port == 4200); /* environment over .env */
    CHECK(cfg.query_workers == 3);
    /* An empty environment variable is a value, not an absence. */
    setenv("DuckdbMemoryLimit", "", 1);
    write_env("DuckdbMemoryLimit=1GB\n");
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK_STR(cfg.duckdb_memory_limit, "");
    /* Secrets have no flag: only the environment or .env. */
    clear_env();
    write_env("ENCRYPTION_KEY=from-dotenv\n");
    setenv("SuperPassword", "s3cret", 1);
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK_STR(cfg.encryption_key, "from-dotenv");
    CHECK_STR(cfg.super_password, "s3cret");
    CHECK(LOAD(&cfg, err, "--super-password", "x") == CONFIG_ERROR);
    CHECK(strstr(err, "unknown argument \"--super-password\"") != NULL);
    clear_env();
}

static void test_dotenv_dialect(void)
{
    Config cfg;
    char err[256];
    clear_env();
    write_env("# a comment\n"
              "\n"
              "   \t\n"
              "export ServerAddr=0.0.0.0\n"
              "  DBdir = /srv/data   # a trailing comment\n"
              "ServerDbFile=cat#alog.db\n"
              "SuperPassword=\"two words \\\"quoted\\\" back\\\\slash\\nline\"\n"
              "ENCRYPTION_KEY='single $quoted \\n # not a comment'\n"
              "DuckdbMemoryLimit=\"\"\n"
              "UnknownKey=ignored\n"
              "LogLevel=debug\r\n");
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK_STR(err, "");
    CHECK_STR(cfg.addr, "0.0.0.0");
    CHECK_STR(cfg.data_dir, "/srv/data");
    CHECK_STR(cfg.db_file, "cat#alog.db"); /* '#' starts a comment only after a blank */
    CHECK_STR(cfg.super_password, "two words \"quoted\" back\\slash\nline");
    CHECK_STR(cfg.encryption_key, "single $quoted \\n # not a comment");
    CHECK_STR(cfg.duckdb_memory_limit, "");
    CHECK_STR(cfg.log_level, "debug"); /* a CRLF line ending is not part of the value */

    write_env("ServerPort=4000\nno equals sign here\n");
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "line 2: expected KEY=VALUE") != NULL);
    write_env("=value\n");
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "line 1: expected KEY=VALUE") != NULL);
    write_env("SuperPassword=\"never closed\n");
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "unterminated \" quote") != NULL);
    write_env("SuperPassword='never closed\n");
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "unterminated ' quote") != NULL);

    /* Values and lines over the bounds are errors that say so. */
    char big[CONFIG_STR_MAX + 32];
    snprintf(big, sizeof(big), "ServerAddr=%0*d\n", CONFIG_STR_MAX, 0);
    write_env(big);
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "value longer than 1023 bytes") != NULL);
    static char line[5000];
    memset(line, 'x', sizeof(line) - 2);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    write_env(line);
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "line 1: longer than") != NULL);
    /* A .env that is not a readable file (a directory) is an error, not "missing". */
    char *argv[] = {"tcp-duckdb", NULL};
    CHECK(config_load(&cfg, 1, argv, tmp_dir, err, sizeof(err)) == CONFIG_ERROR);
    CHECK(strstr(err, "cannot read") != NULL);
    write_env("");
}

static void test_bounds_and_bad_values(void)
{
    Config cfg;
    char err[256];
    clear_env();
    write_env("");
    CHECK(LOAD(&cfg, err, "--port", "0") == CONFIG_OK); /* any free port */
    CHECK(cfg.port == 0);
    CHECK(LOAD(&cfg, err, "--port", "65535") == CONFIG_OK);
    CHECK(cfg.port == 65535);
    CHECK(LOAD(&cfg, err, "--port", "65536") == CONFIG_ERROR);
    CHECK_STR(err, "ServerPort (from command line) must be an integer from 0 to 65535, "
                   "not \"65536\"");
    CHECK(LOAD(&cfg, err, "--port", "-1") == CONFIG_ERROR);
    CHECK(LOAD(&cfg, err, "--port", "12ab") == CONFIG_ERROR);
    CHECK(LOAD(&cfg, err, "--port", "") == CONFIG_ERROR);
    CHECK(LOAD(&cfg, err, "--port", "99999999999999999999999") == CONFIG_ERROR);
    CHECK(LOAD(&cfg, err, "--max-connections", "0") == CONFIG_ERROR);
    CHECK(strstr(err, "MaxConnections (from command line) must be an integer from 1") != NULL);
    CHECK(LOAD(&cfg, err, "--max-request-bytes", "63") == CONFIG_ERROR);
    CHECK(LOAD(&cfg, err, "--max-request-bytes", "64") == CONFIG_OK);
    CHECK(cfg.max_request_bytes == 64);
    CHECK(LOAD(&cfg, err, "--idle-timeout", "0") == CONFIG_OK); /* never */
    CHECK(cfg.idle_timeout_sec == 0);
    CHECK(LOAD(&cfg, err, "--max-connections", "3") == CONFIG_ERROR); /* 3 reserved by default */
    CHECK_STR(err, "SuperuserReservedConnections (3) must be less than MaxConnections (3), or no "
                   "other user could log in");
    CHECK(LOAD(&cfg, err, "--max-connections", "3", "--superuser-reserved-connections", "0") ==
          CONFIG_OK);
    CHECK(cfg.login_timeout_sec == 10 && cfg.max_login_request_bytes == 4096);
    CHECK(cfg.max_connections_per_address == 256 && cfg.login_failure_limit == 5);

    /* The error names where the bad value came from. */
    setenv("QueryWorkers", "0", 1);
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "QueryWorkers (from environment)") != NULL);
    clear_env();
    write_env("PoolSize=lots\n");
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK(strstr(err, "PoolSize (from .env) must be an integer") != NULL);
    CHECK(strstr(err, "not \"lots\"") != NULL);
    write_env("");

    /* Choices list the allowed words. */
    CHECK(LOAD(&cfg, err, "--log-level", "verbose") == CONFIG_ERROR);
    CHECK_STR(err, "LogLevel (from command line) must be debug, info, warn or error, "
                   "not \"verbose\"");
    CHECK(LOAD(&cfg, err, "--tls-min-version", "1.1") == CONFIG_ERROR);
    CHECK(strstr(err, "must be 1.2 or 1.3") != NULL);
    CHECK(LOAD(&cfg, err, "--tls-mode", "on") == CONFIG_ERROR);
    CHECK(strstr(err, "must be off, optional or required") != NULL);

    /* Strings: bounded by their field, and some must not be empty. */
    char longlimit[80];
    memset(longlimit, '9', sizeof(longlimit) - 1);
    longlimit[sizeof(longlimit) - 1] = '\0';
    CHECK(LOAD(&cfg, err, "--duckdb-memory-limit", longlimit) == CONFIG_ERROR);
    CHECK(strstr(err, "DuckdbMemoryLimit (from command line) is longer than 63 bytes") != NULL);
    static char huge[CONFIG_STR_MAX + 1];
    memset(huge, 'a', CONFIG_STR_MAX);
    CHECK(LOAD(&cfg, err, "--addr", huge) == CONFIG_ERROR);
    CHECK(strstr(err, "ServerAddr (from command line) is longer than 1023 bytes") != NULL);
    CHECK(LOAD(&cfg, err, "--data-dir", "") == CONFIG_ERROR);
    CHECK_STR(err, "DBdir must not be empty");
    setenv("SuperPassword", "", 1);
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_ERROR);
    CHECK_STR(err, "SuperPassword must not be empty");
    clear_env();
}

static void test_flags(void)
{
    Config cfg;
    char err[256];
    clear_env();
    write_env("");
    CHECK(LOAD(&cfg, err, "--bogus") == CONFIG_ERROR);
    CHECK_STR(err, "unknown argument \"--bogus\" (see --help)");
    CHECK(LOAD(&cfg, err, "--port") == CONFIG_ERROR);
    CHECK_STR(err, "--port needs a value (see --help)");
    CHECK(LOAD(&cfg, err, "--port4000") == CONFIG_ERROR); /* a prefix is not the flag */
    CHECK(LOAD(&cfg, err, "--port", "1", "--port", "2") == CONFIG_OK);
    CHECK(cfg.port == 2);                                 /* the last one wins */
    CHECK(LOAD(&cfg, err, "--db-file=a=b") == CONFIG_OK); /* only the first '=' splits */
    CHECK_STR(cfg.db_file, "a=b");

    /* TLS: a mode other than off needs a certificate; the key defaults to the same file. */
    CHECK(LOAD(&cfg, err, "--tls-mode", "required") == CONFIG_ERROR);
    CHECK(strstr(err, "TLSMode=required needs a certificate") != NULL);
    CHECK(LOAD(&cfg, err, "--tls-mode", "optional", "--tls-cert-file", "/c.pem") == CONFIG_OK);
    CHECK_STR(cfg.tls_mode, "optional");
    CHECK_STR(cfg.tls_key_file, "/c.pem");
    CHECK(LOAD(&cfg, err, "--tls-mode", "optional", "--tls-cert-file", "/c.pem", "--tls-key-file",
               "/k.pem", "--tls-ca-file", "/ca.pem", "--tls-min-version", "1.3") == CONFIG_OK);
    CHECK_STR(cfg.tls_key_file, "/k.pem");
    CHECK_STR(cfg.tls_ca_file, "/ca.pem");
    CHECK_STR(cfg.tls_min_version, "1.3");
}

/* Runs config_load() with stdout in a file; returns what it printed (caller frees). */
static char *capture_stdout(ConfigResult *out_result, int nargs, const char **args)
{
    char path[sizeof(tmp_dir) + 16];
    snprintf(path, sizeof(path), "%s/stdout", tmp_dir);
    Config cfg;
    char err[256];
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *f = fopen(path, "w+");
    if (saved < 0 || !f)
        return NULL;
    dup2(fileno(f), STDOUT_FILENO);
    *out_result = load(&cfg, err, sizeof(err), nargs, args);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *text = len >= 0 ? calloc(1, (size_t)len + 1) : NULL;
    rewind(f);
    if (text && fread(text, 1, (size_t)len, f) != (size_t)len)
        text[0] = '\0';
    fclose(f);
    return text;
}

/* MemoryLimit and StatementMemoryLimit in bytes, and each database's memory_limit from them. */
static void test_memory_limits(void)
{
    Config cfg;
    char err[256];
    clear_env();
    unlink(env_path);
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK_STR(cfg.memory_limit, "50%");
    CHECK(cfg.memory_limit_bytes > 0);
    CHECK(cfg.statement_memory_limit_bytes == cfg.memory_limit_bytes / 4);
    CHECK(cfg.db_memory_limit[0] != '\0'); /* derived, not DuckDB's 80% per database */
    CHECK(LOAD(&cfg, err, "--memory-limit", "1GB", "--pool-size", "4") == CONFIG_OK);
    CHECK(cfg.memory_limit_bytes == 1LL << 30);
    CHECK(cfg.statement_memory_limit_bytes == 1LL << 28);
    CHECK_STR(cfg.db_memory_limit, "128MiB");
    CHECK(LOAD(&cfg, err, "--memory-limit", "600MB", "--statement-memory-limit", "200MB") ==
          CONFIG_OK);
    CHECK(cfg.statement_memory_limit_bytes == 200LL << 20);
    CHECK_STR(cfg.db_memory_limit, "64MiB"); /* the floor */
    CHECK(LOAD(&cfg, err, "--memory-limit", "1GB", "--duckdb-memory-limit", "3GB") == CONFIG_OK);
    CHECK_STR(cfg.db_memory_limit, "3GB");
    CHECK(LOAD(&cfg, err, "--memory-limit", "0", "--statement-memory-limit", "0") == CONFIG_OK);
    CHECK(cfg.memory_limit_bytes == 0 && cfg.statement_memory_limit_bytes == 0);
    CHECK_STR(cfg.db_memory_limit, ""); /* no budget: DuckDB's default */
    CHECK(LOAD(&cfg, err, "--memory-limit", "lots") == CONFIG_ERROR);
    CHECK(strstr(err, "MemoryLimit must be a size such as 4GB or 512MB") != NULL);
    CHECK(LOAD(&cfg, err, "--statement-memory-limit", "120%") == CONFIG_ERROR);
    CHECK(strstr(err, "StatementMemoryLimit must be a size") != NULL);
    /* MemoryHardLimit: 80% of RAM by default, above MemoryLimit, 0 off. */
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK(cfg.memory_hard_limit_bytes > cfg.memory_limit_bytes);
    CHECK(LOAD(&cfg, err, "--memory-limit", "1GB", "--memory-hard-limit", "2GB") == CONFIG_OK);
    CHECK(cfg.memory_hard_limit_bytes == 2LL << 30);
    CHECK(LOAD(&cfg, err, "--memory-limit", "1GB", "--memory-hard-limit", "1GB") == CONFIG_ERROR);
    CHECK(strstr(err, "MemoryHardLimit (1GB) must be above MemoryLimit (1GB)") != NULL);
    CHECK(LOAD(&cfg, err, "--memory-limit", "1GB", "--memory-hard-limit", "0") == CONFIG_OK);
    CHECK(cfg.memory_hard_limit_bytes == 0);
    CHECK(LOAD(&cfg, err, "--memory-hard-limit", "much") == CONFIG_ERROR);
    CHECK(strstr(err, "MemoryHardLimit must be a size") != NULL);
}

static void test_help_and_version(void)
{
    ConfigResult r = CONFIG_ERROR;
    clear_env();
    /* --help wins over a bad flag, as it is looked for first. */
    char *help = capture_stdout(&r, 2, (const char *[]){"--bogus", "--help"});
    CHECK(r == CONFIG_EXIT);
    CHECK(help != NULL);
    if (help) {
        CHECK(strstr(help, "Usage: tcp-duckdb [FLAGS]") != NULL);
        /* Every setting, by its variable, and its flag where it has one. */
        for (size_t i = 0; i < sizeof(setting_env) / sizeof(setting_env[0]); i++)
            CHECK(strstr(help, setting_env[i]) != NULL);
        CHECK(strstr(help, "--port, ServerPort") != NULL);
        CHECK(strstr(help, "(default: \"4000\")") != NULL);
        CHECK(strstr(help, "--super-password") == NULL); /* secrets have no flag */
        CHECK(strstr(help, "--version") != NULL);
    }
    free(help);
    char *h = capture_stdout(&r, 1, (const char *[]){"-h"});
    CHECK(r == CONFIG_EXIT);
    CHECK(h && strstr(h, "Usage:") != NULL);
    free(h);
    char *version = capture_stdout(&r, 1, (const char *[]){"--version"});
    CHECK(r == CONFIG_EXIT);
    CHECK(version && strncmp(version, "tcp-duckdb ", 11) == 0);
    free(version);
    char *md = capture_stdout(&r, 1, (const char *[]){"--config-markdown"});
    CHECK(r == CONFIG_EXIT);
    CHECK(md && strncmp(md, "| environment | flag | default | meaning |", 42) == 0);
    CHECK(md && strstr(md, "| `ServerPort` | `--port` | `4000` |") != NULL);
    CHECK(md && strstr(md, "| `ENCRYPTION_KEY` | (none) | `\"\"` |") != NULL);
    CHECK(md && strstr(md, "| `StatementTimeout` | `--statement-timeout` | `300` |") != NULL);
    free(md);
}

/* config_merge_live(): live settings come from the new load, the others stay and are listed. */
static void test_merge_live(void)
{
    clear_env();
    static Config running, loaded, merged;
    char err[512] = "", changed[512], restart[512];
    write_env("MaxRequestBytes=100000\nPoolSize=4\nLogLevel=info\n");
    CHECK(config_load(&running, 1, (char *[]){"tdb", NULL}, env_path, err, sizeof(err)) ==
          CONFIG_OK);
    write_env("MaxRequestBytes=4096\nPoolSize=8\nLogLevel=debug\nENCRYPTION_KEY=k2\n");
    CHECK(config_load(&loaded, 1, (char *[]){"tdb", NULL}, env_path, err, sizeof(err)) ==
          CONFIG_OK);
    config_merge_live(&running, &loaded, &merged, changed, sizeof(changed), restart,
                      sizeof(restart));
    CHECK_STR(changed, "[\"MaxRequestBytes\",\"LogLevel\"]");
    CHECK_STR(restart, "[\"ENCRYPTION_KEY\",\"PoolSize\"]");
    CHECK(merged.max_request_bytes == 4096 && merged.pool_size == 4);
    CHECK_STR(merged.log_level, "debug");
    CHECK_STR(merged.encryption_key, "");
    config_merge_live(&merged, &merged, &loaded, changed, sizeof(changed), restart,
                      sizeof(restart));
    CHECK_STR(changed, "[]");
    CHECK_STR(restart, "[]");
    CHECK(config_setting_live("TLSCertFile") && !config_setting_live("TLSMode"));
    /* --check-config is a flag of its own, not a setting. */
    CHECK(config_load(&loaded, 2, (char *[]){"tdb", "--check-config", NULL}, env_path, err,
                      sizeof(err)) == CONFIG_OK);
    CHECK(loaded.check_config && !running.check_config);
}

/* The CDC settings: defaults, a byte count above 2^31 (an int64 field), bounds, all live. */
static void test_cdc_settings(void)
{
    Config cfg;
    char err[512];
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK(cfg.cdc_batch_changes == 100000 && cfg.cdc_batch_bytes == 64 << 20);
    CHECK(cfg.cdc_batch_ms == 200 && cfg.cdc_status_interval_ms == 1000);
    CHECK(cfg.cdc_max_streams == 16 && cfg.cdc_retained_wal_warn == INT64_C(1) << 30);
    CHECK(LOAD(&cfg, err, "--cdc-retained-wal-warn", "10000000000") == CONFIG_OK);
    CHECK(cfg.cdc_retained_wal_warn == INT64_C(10000000000));
    CHECK(LOAD(&cfg, err, "--cdc-max-streams", "0") == CONFIG_ERROR);
    CHECK(strstr(err, "CdcMaxStreams") != NULL);
    CHECK(LOAD(&cfg, err, "--cdc-status-interval", "99") == CONFIG_ERROR);
    CHECK(config_setting_live("CdcBatchMs") && config_setting_live("CdcMaxStreams") &&
          config_setting_live("CdcRetainedWalWarn"));
}

/* The result cache's sizes: bytes only (no share of RAM), 0 turns it off. */
static void test_cache_settings(void)
{
    Config cfg;
    char err[512];
    CHECK(LOAD_NOARGS(&cfg, err) == CONFIG_OK);
    CHECK(cfg.cache_memory_bytes == 64 << 20 && cfg.cache_max_entry_bytes == 1 << 20);
    CHECK(cfg.cache_ttl_sec == 0);
    CHECK(LOAD(&cfg, err, "--cache-memory", "256KB") == CONFIG_OK);
    CHECK(cfg.cache_memory_bytes == 256 << 10);
    CHECK(LOAD(&cfg, err, "--cache-memory", "0") == CONFIG_OK);
    CHECK(cfg.cache_memory_bytes == 0);
    CHECK(LOAD(&cfg, err, "--cache-memory", "10%") == CONFIG_ERROR);
    CHECK(strstr(err, "CacheMemory must be a size") != NULL);
    CHECK(LOAD(&cfg, err, "--cache-max-entry", "lots") == CONFIG_ERROR);
    CHECK(strstr(err, "CacheMaxEntry must be a size") != NULL);
    CHECK(LOAD(&cfg, err, "--cache-ttl", "-1") == CONFIG_ERROR);
}

int main(void)
{
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(env_path, sizeof(env_path), "%s/.env", tmp_dir);
    UNIT_RUN(test_defaults);
    UNIT_RUN(test_env_and_precedence);
    UNIT_RUN(test_dotenv_dialect);
    UNIT_RUN(test_bounds_and_bad_values);
    UNIT_RUN(test_flags);
    UNIT_RUN(test_memory_limits);
    UNIT_RUN(test_cache_settings);
    UNIT_RUN(test_cdc_settings);
    UNIT_RUN(test_help_and_version);
    UNIT_RUN(test_merge_live);
    char path[sizeof(tmp_dir) + 16];
    snprintf(path, sizeof(path), "%s/stdout", tmp_dir);
    unlink(path);
    unlink(env_path);
    rmdir(tmp_dir);
    return unit_summary("config");
}
