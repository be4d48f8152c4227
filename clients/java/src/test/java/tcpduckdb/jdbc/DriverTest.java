package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The URL, Properties and environment (the same names and defaults as the other clients), and
 * DriverManager registration through META-INF/services. */
@ExtendWith(SharedServerExtension.class)
class DriverTest {
    private static Config parse(String url, Properties p, Map<String, String> env) throws SQLException {
        return Config.parse(url, p, env);
    }

    @Test
    void defaults() throws SQLException {
        Config c = parse("jdbc:tcpduckdb:", null, new HashMap<>());
        assertEquals("127.0.0.1", c.host);
        assertEquals(4000, c.port);
        assertNull(c.user);
        assertEquals("", c.password);
        assertNull(c.database);
        assertEquals("prefer", c.sslMode);
        assertEquals(30_000, c.connectTimeoutMillis);
    }

    @Test
    void urlParts() throws SQLException {
        Config c = parse("jdbc:tcpduckdb://db.example:4100/analytics?user=ann&password=p%40ss+w&sslmode=verify-full"
                         + "&sslrootcert=/tmp/ca.crt&connect_timeout=2.5", null, new HashMap<>());
        assertEquals("db.example", c.host);
        assertEquals(4100, c.port);
        assertEquals("analytics", c.database);
        assertEquals("ann", c.user);
        assertEquals("p@ss w", c.password); // query strings are form-encoded, as Go reads them
        assertEquals("verify-full", c.sslMode);
        assertEquals("/tmp/ca.crt", c.sslRootCert);
        assertEquals(2500, c.connectTimeoutMillis);
        // The Go driver's form: user and password in the authority, percent-encoded.
        c = parse("jdbc:tcpduckdb://bob:p%40ss+x@[::1]:4001/db", null, new HashMap<>());
        assertEquals("bob", c.user);
        assertEquals("p@ss+x", c.password);
        assertEquals("::1", c.host);
        assertEquals("[::1]:4001", c.address());
    }

    @Test
    void precedence() throws SQLException {
        Map<String, String> env = new HashMap<>();
        env.put("TCPDUCKDB_HOST", "envhost");
        env.put("TCPDUCKDB_PORT", "4200");
        env.put("TCPDUCKDB_USER", "envuser");
        env.put("TCPDUCKDB_PASSWORD", "envpass");
        env.put("TCPDUCKDB_DATABASE", "envdb");
        env.put("TCPDUCKDB_SSLMODE", "require");
        env.put("TCPDUCKDB_SSLROOTCERT", "/env/ca.crt");
        Config c = parse("jdbc:tcpduckdb:", null, env);
        assertEquals("envhost", c.host);
        assertEquals(4200, c.port);
        assertEquals("envuser", c.user);
        assertEquals("envpass", c.password);
        assertEquals("envdb", c.database);
        assertEquals("require", c.sslMode);
        assertEquals("/env/ca.crt", c.sslRootCert);
        Properties p = new Properties();
        p.setProperty("user", "propuser");
        p.setProperty("password", "proppass");
        p.setProperty("sslmode", "disable");
        p.setProperty("someToolSetting", "ignored");
        c = parse("jdbc:tcpduckdb://urlhost/urldb", p, env);
        assertEquals("urlhost", c.host);
        assertEquals(4200, c.port);
        assertEquals("urldb", c.database);
        assertEquals("propuser", c.user);
        assertEquals("proppass", c.password);
        assertEquals("disable", c.sslMode);
        c = parse("jdbc:tcpduckdb://urlhost/urldb?user=urluser&sslmode=verify-ca", p, env);
        assertEquals("urluser", c.user);
        assertEquals("verify-ca", c.sslMode);
    }

    @Test
    void badUrls() {
        for (String url : new String[] {"jdbc:tcpduckdb://h:0/", "jdbc:tcpduckdb://h:70000/",
                                        "jdbc:tcpduckdb://h/db?sslmode=sometimes", "jdbc:tcpduckdb://h/db?color=red",
                                        "jdbc:tcpduckdb://h/db?connect_timeout=soon",
                                        "jdbc:tcpduckdb://h/db?sslkey=/k.pem", "jdbc:tcpduckdb:h/db"}) {
            SQLException e = assertThrows(SQLException.class, () -> parse(url, null, new HashMap<>()), url);
            assertTrue(e.getMessage().startsWith("tcpduckdb: "), e.getMessage());
        }
        // A bad URL's message never repeats the password.
        SQLException e = assertThrows(SQLException.class,
                                      () -> DriverManager.getConnection("jdbc:tcpduckdb://u:secret99@h/db?x=%zz"));
        assertFalse(e.getMessage().contains("secret99"), e.getMessage());
    }

    @Test
    void registeredWithDriverManager() throws Exception {
        java.sql.Driver d = DriverManager.getDriver("jdbc:tcpduckdb://127.0.0.1:1/");
        assertTrue(d instanceof Driver);
        assertTrue(d.acceptsURL("jdbc:tcpduckdb://x/y"));
        assertFalse(d.acceptsURL("jdbc:postgresql://x/y"));
        assertNull(d.connect("jdbc:postgresql://x/y", new Properties()));
        assertEquals(1, d.getMajorVersion());
        assertEquals(0, d.getMinorVersion());
        assertFalse(d.jdbcCompliant());
        DriverPropertyInfo[] info = d.getPropertyInfo("jdbc:tcpduckdb://x/", new Properties());
        assertEquals("user", info[0].name);
        assertArrayEquals(new String[] {"disable", "prefer", "require", "verify-ca", "verify-full"}, info[2].choices);
        assertThrows(java.sql.SQLFeatureNotSupportedException.class, d::getParentLogger);
    }

    @Test
    void connectsWithPropertiesAndFailsClearly() throws Exception {
        TestServer s = Shared.server();
        Properties p = new Properties();
        p.setProperty("user", "duck");
        p.setProperty("password", "duck");
        try (Connection c = DriverManager.getConnection(s.url(null, "sslmode=disable"), p)) {
            assertFalse(c.isClosed());
            assertTrue(c.isValid(5));
            assertNull(c.getCatalog());
        }
        p.setProperty("password", "wrong");
        SQLException e = assertThrows(SQLException.class,
                                      () -> DriverManager.getConnection(s.url(null, "sslmode=disable"), p));
        assertEquals("28000", e.getSQLState());
        assertEquals("UNAUTHORIZED", ((ServerError) e.getCause()).getCode());
        e = assertThrows(SQLException.class, () -> s.connect("no_such_db"));
        assertEquals("DOES_NOT_EXIST", ((ServerError) e.getCause()).getCode());
        assertEquals("42704", e.getSQLState());
        // Nothing listens on the port of a stopped server.
        int freePort;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
            freePort = ss.getLocalPort();
        }
        e = assertThrows(SQLNonTransientConnectionException.class,
                         () -> DriverManager.getConnection("jdbc:tcpduckdb://127.0.0.1:" + freePort + "/?sslmode=disable"));
        assertEquals("08001", e.getSQLState());
        assertTrue(e.getMessage().contains("cannot connect to 127.0.0.1:" + freePort), e.getMessage());
    }

    @Test
    void connectionWithoutLoginOrDatabase() throws Exception {
        TestServer s = Shared.server();
        try (Connection c = DriverManager.getConnection(s.url(null, "sslmode=disable"))) {
            assertTrue(c.isValid(5));
            TcpDuckDBConnection t = c.unwrap(TcpDuckDBConnection.class);
            assertTrue(t.command("help").startsWith("[{"));
            SQLException e = assertThrows(SQLException.class, () -> t.command("list databases"));
            assertEquals("UNAUTHORIZED", Errors.code(e));
        }
    }
}
