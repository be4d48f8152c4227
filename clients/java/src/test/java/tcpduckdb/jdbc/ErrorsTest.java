package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLDataException;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLSyntaxErrorException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Server errors as SQLExceptions (class, SQLState, the other clients' code), grants seen from
 * a normal user, and optional JDBC methods the driver lacks. */
@ExtendWith(SharedServerExtension.class)
class ErrorsTest {
    static void assertServerError(SQLException e, Class<?> cls, String state, String code) {
        assertTrue(cls.isInstance(e), e.getClass() + ": " + e);
        assertEquals(state, e.getSQLState(), e.toString());
        assertEquals(code, ((ServerError) e.getCause()).getCode(), e.toString());
    }

    @Test
    void sqlErrors() throws Exception {
        try (Connection c = Shared.newDatabase("errors"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, d DATE)");
            assertServerError(assertThrows(SQLException.class, () -> st.execute("SELEC 1")),
                              SQLSyntaxErrorException.class, "42601", "PARSER_ERROR");
            SQLException e = assertThrows(SQLException.class, () -> st.execute("SELECT * FROM missing"));
            assertServerError(e, SQLSyntaxErrorException.class, "42704", "CATALOG_ERROR");
            assertEquals("Catalog Error", ((ServerError) e.getCause()).getKind());
            assertTrue(e.getMessage().startsWith("Catalog Error: Table with name missing does not exist"), e.getMessage());
            assertTrue(e.getMessage().contains("\n"), "the server's \\n escapes are newlines again");
            assertServerError(assertThrows(SQLException.class, () -> st.execute("SELECT nope FROM t")),
                              SQLSyntaxErrorException.class, "42000", "BINDER_ERROR");
            st.execute("INSERT INTO t VALUES (1, '2024-01-01')");
            assertServerError(assertThrows(SQLException.class, () -> st.execute("INSERT INTO t VALUES (1, NULL)")),
                              SQLIntegrityConstraintViolationException.class, "23000", "CONSTRAINT_ERROR");
            assertServerError(assertThrows(SQLException.class, () -> st.execute("SELECT 'x'::INTEGER")),
                              SQLDataException.class, "22018", "CONVERSION_ERROR");
            assertServerError(assertThrows(SQLException.class, () -> st.execute("SELECT 300::TINYINT")),
                              SQLDataException.class, "22018", "CONVERSION_ERROR");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?, ?)")) {
                ps.setInt(1, 2);
                ps.setString(2, "not a date");
                assertServerError(assertThrows(SQLException.class, ps::executeUpdate), SQLDataException.class,
                                  "22018", "CONVERSION_ERROR");
            }
            // The connection stays usable after each.
            ResultSet rs = st.executeQuery("SELECT count(*) FROM t");
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
        }
    }

    @Test
    void classification() {
        String[][] cases = {
            {"Parser Error: syntax error at end of input", "42601", "PARSER_ERROR"},
            {"Access Denied: User \"u\" does not have access over Tables \"t\"", "42501", "ACCESS_DENIED"},
            {"Database foo Does Not Exist", "42704", "DOES_NOT_EXIST"},
            {"User bob Already Exists", "42710", "ALREADY_EXISTS"},
            {"Bad Request: usage: connect NAME", "42000", "BAD_REQUEST"},
            {"Unauthorized", "28000", "UNAUTHORIZED"},
            {"Transaction Aborted: a statement in the transaction failed, so it was rolled back", "40000",
             "TRANSACTION_ABORTED"},
            {"Statement Timeout: the statement ran longer than 1 s (StatementTimeout)", "57014", "STATEMENT_TIMEOUT"},
            {"Canceled: canceling statement due to user request", "57014", "CANCELED"},
            {"Request Too Large: the limit is 1048576 bytes", "54000", "REQUEST_TOO_LARGE"},
            {"Too Many Connections", "53300", "TOO_MANY_CONNECTIONS"},
            {"Server Busy: no slot", "53000", "SERVER_BUSY"},
            {"Statement Memory Limit: the statement allocated more than 1GB", "53200", "STATEMENT_MEMORY_LIMIT"},
            {"TLS required: this server accepts only encrypted connections", "08004", "TLS_REQUIRED"},
            {"Idle Timeout", "08006", "IDLE_TIMEOUT"},
            {"Internal Error", "XX000", "INTERNAL_ERROR"},
            {"Not implemented Error: x", "0A000", "NOT_IMPLEMENTED_ERROR"},
            {"Something New: x", "HY000", "SOMETHING_NEW"},
        };
        for (String[] c : cases) {
            SQLException e = Errors.server(c[0]);
            assertEquals(c[1], e.getSQLState(), c[0]);
            assertEquals(c[2], Errors.code(e), c[0]);
        }
        assertTrue(Errors.server("Statement Timeout: x") instanceof java.sql.SQLTimeoutException);
        assertTrue(Errors.server("Too Many Connections") instanceof java.sql.SQLTransientConnectionException);
        assertTrue(Errors.server("Unauthorized") instanceof java.sql.SQLInvalidAuthorizationSpecException);
        assertEquals("Does Not Exist", ((ServerError) Errors.server("Tables a,b Does Not Exist").getCause()).getKind());
    }

    @Test
    void normalUserAndGrants() throws Exception {
        TestServer s = Shared.server();
        String db;
        try (Connection c = Shared.newDatabase("grants"); Statement st = c.createStatement()) {
            db = c.getCatalog();
            st.execute("CREATE TABLE open_t (i INTEGER, s VARCHAR)");
            st.execute("CREATE TABLE secret_t (i INTEGER)");
            st.execute("INSERT INTO open_t VALUES (1, 'one')");
        }
        s.command("create user analyst_j s3cret");
        s.command("grant database " + db + " analyst_j read");
        s.command("grant table " + db + " open_t analyst_j select");
        String url = s.url(db, "user=analyst_j&password=s3cret&sslmode=disable");
        try (Connection u = DriverManager.getConnection(url); Statement st = u.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT s FROM open_t");
            assertTrue(rs.next());
            assertEquals("one", rs.getString(1));
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM secret_t"));
            assertServerError(e, SQLSyntaxErrorException.class, "42501", "ACCESS_DENIED");
            assertTrue(e.getMessage().contains("secret_t"), e.getMessage());
            assertServerError(assertThrows(SQLException.class, () -> st.execute("INSERT INTO open_t VALUES (2, 'x')")),
                              SQLSyntaxErrorException.class, "42501", "ACCESS_DENIED");
            TcpDuckDBConnection t = u.unwrap(TcpDuckDBConnection.class);
            assertServerError(assertThrows(SQLException.class, () -> t.command("create database nope")),
                              java.sql.SQLInvalidAuthorizationSpecException.class, "28000", "UNAUTHORIZED");
            assertTrue(t.command("list grants").contains("open_t"));
            assertThrows(SQLException.class, () -> t.command("commit"));
            assertThrows(SQLException.class, () -> t.command("connect other"));
        }
    }

    @Test
    void closedObjectsAndUnsupportedMethods() throws Exception {
        try (Connection c = Shared.newDatabase("unsup")) {
            Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT 1 AS x");
            assertTrue(rs.next());
            // Optional JDBC features the driver lacks: SQLFeatureNotSupportedException (0A000).
            SQLFeatureNotSupportedException e = assertThrows(SQLFeatureNotSupportedException.class, () -> rs.updateInt(1, 2));
            assertEquals("0A000", e.getSQLState());
            assertThrows(SQLFeatureNotSupportedException.class, () -> rs.absolute(1));
            assertThrows(SQLFeatureNotSupportedException.class, rs::previous);
            assertThrows(SQLFeatureNotSupportedException.class, () -> rs.getArray(1));
            assertThrows(SQLFeatureNotSupportedException.class, () -> rs.getBlob(1));
            assertThrows(SQLFeatureNotSupportedException.class, c::setSavepoint);
            assertThrows(SQLFeatureNotSupportedException.class, c::createBlob);
            assertThrows(SQLFeatureNotSupportedException.class, () -> c.prepareCall("CALL x()"));
            assertThrows(SQLFeatureNotSupportedException.class,
                         () -> c.createStatement(ResultSet.TYPE_SCROLL_INSENSITIVE, ResultSet.CONCUR_READ_ONLY));
            assertThrows(SQLFeatureNotSupportedException.class,
                         () -> c.prepareStatement("SELECT 1", Statement.RETURN_GENERATED_KEYS));
            assertThrows(SQLFeatureNotSupportedException.class, () -> c.setReadOnly(true));
            assertThrows(SQLFeatureNotSupportedException.class, () -> st.setEscapeProcessing(true));
            try (PreparedStatement ps = c.prepareStatement("SELECT ?")) {
                assertThrows(SQLFeatureNotSupportedException.class, () -> ps.setArray(1, null));
                assertThrows(SQLFeatureNotSupportedException.class, ps::getParameterMetaData);
            }
            assertThrows(java.sql.SQLClientInfoException.class, () -> c.setClientInfo("ApplicationName", "x"));
            // Closed objects.
            rs.close();
            assertThrows(SQLException.class, () -> rs.getInt(1));
            st.close();
            assertTrue(st.isClosed());
            assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1"));
            // No current row.
            ResultSet r2 = c.createStatement().executeQuery("SELECT 1");
            assertThrows(SQLException.class, () -> r2.getInt(1));
            assertTrue(r2.next());
            assertEquals(1, r2.getRow());
            assertFalse(r2.next());
            assertEquals(0, r2.getRow());
            assertThrows(SQLException.class, () -> r2.getInt(1));
            assertEquals(c.nativeSQL("SELECT 1"), "SELECT 1");
            assertNull(c.getWarnings());
            assertTrue(c.getTypeMap().isEmpty());
            assertFalse(c.isReadOnly());
        }
    }
}
