package tcpduckdb.jdbc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server binary ($TCPDUCKDB_BIN, else build/asan/tcp-duckdb) on an ephemeral loopback
 * port with a temporary data directory, as tests/e2e/conftest.py and the Go tests start it.
 * stop() fails when the server did not exit 0 on SIGTERM or its log holds a sanitizer report.
 */
final class TestServer implements AutoCloseable {
    private static final Pattern LISTEN = Pattern.compile("listening to .*:(\\d+)$");
    /** The server's own settings from the environment: tests start from none of them. */
    private static final List<String> SERVER_ENV = Arrays.asList("ServerPort", "ServerAddr", "DBdir",
            "ServerDbFile", "ENCRYPTION_KEY", "SuperPassword", "MaxConnections", "MaxRequestBytes", "IdleTimeout",
            "QueryWorkers", "PoolSize", "PoolWaitMs", "DuckdbThreads", "DuckdbMemoryLimit", "LogLevel", "TLSMode",
            "TLSCertFile", "TLSKeyFile", "TLSCAFile", "TLSMinVersion", "StatementTimeout", "LoginTimeout",
            "MaxLoginRequestBytes", "SuperuserReservedConnections", "MaxConnectionsPerAddress", "LoginFailureLimit");

    final int port;
    final Path dataDir;
    private final Process proc;
    private final List<String> log = new ArrayList<>();
    private final CompletableFuture<Void> logDone = new CompletableFuture<>();

    static String binary() {
        String b = System.getenv("TCPDUCKDB_BIN");
        return b != null && !b.isEmpty() ? b : Paths.get("../../build/asan/tcp-duckdb").toAbsolutePath().toString();
    }

    TestServer(String... args) throws IOException, InterruptedException {
        dataDir = Files.createTempDirectory("tcpduckdb-java-");
        List<String> cmd = new ArrayList<>(Arrays.asList(binary(), "--port", "0", "--addr", "127.0.0.1",
                                                         "--data-dir", dataDir.toString()));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dataDir.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> SERVER_ENV.contains(k) || k.startsWith("TCPDUCKDB_"));
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        proc = pb.start();
        CompletableFuture<Integer> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                         new InputStreamReader(proc.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (log) {
                        log.add(line);
                    }
                    Matcher m = LISTEN.matcher(line);
                    if (m.find())
                        ready.complete(Integer.parseInt(m.group(1)));
                }
            } catch (IOException e) {
                // the server is gone
            } finally {
                ready.complete(-1);
                logDone.complete(null);
            }
        }, "server-log");
        reader.setDaemon(true);
        reader.start();
        int p;
        try {
            p = ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p = -1;
        }
        if (p <= 0) {
            proc.destroyForcibly();
            throw new IOException("server did not start (" + cmd + "):\n" + logText());
        }
        port = p;
    }

    String logText() {
        synchronized (log) {
            return String.join("\n", log);
        }
    }

    String url(String database, String query) {
        return "jdbc:tcpduckdb://127.0.0.1:" + port + "/" + (database == null ? "" : database)
                + (query == null || query.isEmpty() ? "" : "?" + query);
    }

    /** A connection as the super user (duck/duck), without TLS. */
    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(url(database, "user=duck&password=duck&sslmode=disable"));
    }

    /** Runs a server command as the super user. */
    String command(String line) throws SQLException {
        try (Connection c = connect(null)) {
            return c.unwrap(TcpDuckDBConnection.class).command(line);
        } catch (SQLException e) {
            throw new SQLException(line + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }

    /** SIGTERM, wait, check the exit status and the log; the data directory is removed. */
    @Override
    public void close() throws IOException {
        proc.toHandle().destroy(); // SIGTERM; Process.destroy would also close the log pipe
        try {
            if (!proc.waitFor(60, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                proc.waitFor();
            }
            logDone.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("waiting for the server to stop: " + e, e);
        }
        try (var walk = Files.walk(dataDir)) {
            walk.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
        }
        String text = logText();
        for (String mark : new String[] {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                                         "WARNING: ThreadSanitizer"})
            if (text.contains(mark))
                throw new AssertionError("sanitizer report in the server log:\n" + text);
        if (proc.exitValue() != 0)
            throw new AssertionError("server exit " + proc.exitValue() + "; log:\n" + text);
    }
}
