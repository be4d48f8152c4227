package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each sslmode against each server TLSMode (docs/protocol.md, "TLS"), with the throw-away
 * certificates of tests/tls/make-certs.sh; then a whole session in TLS: a streamed result, a
 * cancel (whose second connection uses the same TLS settings) and a query timeout. */
class TlsTest {
    static Path dir;
    static TestServer off, optional, required, wronghost;

    static String[] tls(String mode, String cert) {
        return new String[] {"--tls-mode", mode, "--tls-cert-file", dir.resolve(cert + ".crt").toString(),
                             "--tls-key-file", dir.resolve(cert + ".key").toString()};
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("tcpduckdb-java-tls-");
        Process p = new ProcessBuilder(Paths.get("../../tests/tls/make-certs.sh").toAbsolutePath().toString(),
                                       dir.toString())
                            .redirectErrorStream(true)
                            .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "make-certs.sh: " + out);
        off = new TestServer();
        optional = new TestServer(tls("optional", "server"));
        required = new TestServer(tls("required", "server"));
        wronghost = new TestServer(tls("optional", "wronghost"));
    }

    @AfterAll
    static void stop() throws Exception {
        for (TestServer s : new TestServer[] {off, optional, required, wronghost})
            if (s != null)
                s.close();
        try (var walk = Files.walk(dir)) {
            walk.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
        }
    }

    /** Opens a connection; returns its TLS protocol ("" when plain text). */
    static String open(TestServer s, String host, String query) throws SQLException {
        String url = s.url(null, "user=duck&password=duck" + (query.isEmpty() ? "" : "&" + query))
                             .replace("127.0.0.1", host);
        try (Connection c = DriverManager.getConnection(url)) {
            assertTrue(c.isValid(10));
            String p = c.unwrap(TcpDuckDBConnection.class).getTlsProtocol();
            return p == null ? "" : p;
        }
    }

    @Test
    void sslModes() {
        String ca = "sslrootcert=" + dir.resolve("ca.crt");
        String otherCA = "sslrootcert=" + dir.resolve("other-ca.crt");
        Object[][] cases = {
            // server, host, query, encrypted, error (substring) or null
            {off, "127.0.0.1", "sslmode=disable", false, null},
            {off, "127.0.0.1", "sslmode=prefer", false, null},
            {off, "127.0.0.1", "", false, null}, // prefer is the default
            {off, "127.0.0.1", "sslmode=require", false, "does not offer TLS"},
            {off, "127.0.0.1", "sslmode=verify-full&" + ca, false, "does not offer TLS"},
            {optional, "127.0.0.1", "sslmode=disable", false, null},
            {optional, "127.0.0.1", "sslmode=prefer", true, null},
            {optional, "127.0.0.1", "sslmode=require", true, null},
            {optional, "127.0.0.1", "sslmode=verify-ca&" + ca, true, null},
            {optional, "127.0.0.1", "sslmode=verify-full&" + ca, true, null},
            {optional, "localhost", "sslmode=verify-full&" + ca, true, null},
            {optional, "127.0.0.1", "sslmode=verify-ca&" + otherCA, false, "PKIX path"},
            {optional, "127.0.0.1", "sslmode=verify-full&" + otherCA, false, "PKIX path"},
            {optional, "127.0.0.1", "sslmode=verify-full", false, "PKIX path"}, // the JVM's CAs
            {optional, "127.0.0.1", "sslmode=verify-ca&sslrootcert=" + dir.resolve("bad.pem"), false,
             "cannot load sslrootcert"},
            {optional, "127.0.0.1", "sslmode=verify-ca&sslrootcert=" + dir.resolve("missing.pem"), false,
             "cannot load sslrootcert"},
            {required, "127.0.0.1", "sslmode=disable", false, "TLS required"},
            {required, "127.0.0.1", "sslmode=prefer", true, null},
            {required, "127.0.0.1", "sslmode=verify-full&" + ca, true, null},
            {wronghost, "127.0.0.1", "sslmode=require", true, null},
            {wronghost, "127.0.0.1", "sslmode=verify-ca&" + ca, true, null},
            {wronghost, "localhost", "sslmode=verify-full&" + ca, false, "localhost"},
            // A client certificate is sent when asked for (the server does not ask: accepted).
            {optional, "127.0.0.1", "sslmode=verify-full&" + ca + "&sslcert=" + dir.resolve("client.crt")
                                        + "&sslkey=" + dir.resolve("client.key"), true, null},
            {optional, "127.0.0.1", "sslmode=require&sslcert=" + dir.resolve("client.crt")
                                        + "&sslkey=" + dir.resolve("ca.crt"), false, "no unencrypted PKCS#8 key"},
        };
        for (Object[] c : cases) {
            TestServer s = (TestServer) c[0];
            String name = c[1] + "?" + c[2] + " on " + (s == off ? "off" : s == optional ? "optional"
                                                        : s == required ? "required" : "wronghost");
            String want = (String) c[4];
            try {
                String proto = open(s, (String) c[1], (String) c[2]);
                assertNull(want, name + ": connected, wanted an error with " + want);
                assertEquals(c[3], !proto.isEmpty(), name + ": encrypted");
                if (!proto.isEmpty())
                    assertTrue(proto.equals("TLSv1.3") || proto.equals("TLSv1.2"), proto);
            } catch (SQLException e) {
                assertNotNull(want, name + ": " + e);
                assertTrue(e.getMessage().contains(want), name + ": " + e.getMessage());
                if (!want.equals("TLS required"))
                    assertEquals("08001", e.getSQLState(), name);
                else
                    assertEquals("TLS_REQUIRED", Errors.code(e), name);
            }
        }
    }

    @Test
    void sessionInTls() throws Exception {
        try (Connection su = DriverManager.getConnection(required.url(null, "user=duck&password=duck&sslmode=require"))) {
            su.unwrap(TcpDuckDBConnection.class).command("create database tlsdb");
        }
        String url = required.url("tlsdb", "user=duck&password=duck&sslmode=verify-full&sslrootcert="
                                                   + dir.resolve("ca.crt"));
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            assertNotNull(c.unwrap(TcpDuckDBConnection.class).getTlsProtocol());
            ResultSet rs = st.executeQuery("SELECT i, 'x' || i FROM range(300000) r(i)");
            long n = 0;
            while (rs.next()) {
                assertEquals("x" + n, rs.getString(2));
                n++;
            }
            assertEquals(300000, n);
            // Cancel: the second connection must use TLS too (TLSMode=required).
            AtomicBoolean done = new AtomicBoolean();
            Thread t = CancelTest.canceller(st, done);
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery(CancelTest.LONG));
            done.set(true);
            t.join();
            assertEquals("CANCELED", Errors.code(e));
            st.setQueryTimeout(1);
            assertThrows(java.sql.SQLTimeoutException.class, () -> st.executeQuery(CancelTest.LONG));
            CancelTest.stillGood(c);
        }
    }
}
