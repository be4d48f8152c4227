package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Connection, ResultSet and ResultSetMetaData methods not exercised elsewhere, each with
 * what a JDBC user would check. */
@ExtendWith(SharedServerExtension.class)
class ConformanceTest {
    @Test
    void connectionMethods() throws Exception {
        Connection c = Shared.newDatabase("conf");
        try {
            assertTrue(c.isWrapperFor(TcpDuckDBConnection.class));
            assertThrows(SQLException.class, () -> c.unwrap(String.class));
            assertEquals(ResultSet.CLOSE_CURSORS_AT_COMMIT, c.getHoldability());
            c.setHoldability(ResultSet.HOLD_CURSORS_OVER_COMMIT);
            assertEquals(ResultSet.HOLD_CURSORS_OVER_COMMIT, c.getHoldability());
            assertThrows(SQLException.class, () -> c.setHoldability(99));
            try (Statement st = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY,
                                                  ResultSet.HOLD_CURSORS_OVER_COMMIT)) {
                assertEquals(ResultSet.HOLD_CURSORS_OVER_COMMIT, st.getResultSetHoldability());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ?", ResultSet.TYPE_FORWARD_ONLY,
                                                           ResultSet.CONCUR_READ_ONLY)) {
                ps.setString(1, "x");
                ResultSet rs = ps.executeQuery();
                assertTrue(rs.next());
                assertEquals("x", rs.getString(1));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT 1", Statement.NO_GENERATED_KEYS)) {
                assertTrue(ps.execute());
            }
            assertThrows(java.sql.SQLFeatureNotSupportedException.class,
                         () -> c.prepareStatement("SELECT 1", ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_UPDATABLE));
            assertNull(c.getClientInfo("ApplicationName"));
            assertTrue(c.getClientInfo().isEmpty());
            c.setClientInfo(new java.util.Properties()); // nothing to set: no error
            assertEquals(0, c.getNetworkTimeout());
            c.clearWarnings();
            c.setReadOnly(false);
            c.setSchema("main");
            assertThrows(java.sql.SQLFeatureNotSupportedException.class, () -> c.setSchema("other"));
            assertThrows(SQLException.class, () -> c.isValid(-1));
            // A second connection's statement is cancelled only by its own cancel.
            try (Statement st = c.createStatement()) {
                st.cancel(); // nothing runs
            }
            c.abort(Executors.newSingleThreadExecutor());
            assertTrue(c.isClosed());
            assertThrows(SQLException.class, () -> c.createStatement());
        } finally {
            c.close();
        }
    }

    @Test
    void resultSetAndMetaData() throws Exception {
        try (Connection c = Shared.newDatabase("confrs"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT 1::INTEGER AS i, 'text' AS s, 1.5::DECIMAL(5,1) AS d, "
                                           + "TIMESTAMP '2024-01-01 00:00:00' AS ts, true AS b, [1] AS l");
            ResultSetMetaData md = rs.getMetaData();
            assertEquals(6, md.getColumnCount());
            assertEquals("i", md.getColumnName(1));
            assertEquals("s", md.getColumnLabel(2));
            assertEquals(Types.INTEGER, md.getColumnType(1));
            assertEquals("java.lang.Integer", md.getColumnClassName(1));
            assertEquals("java.lang.String", md.getColumnClassName(2));
            assertEquals("java.math.BigDecimal", md.getColumnClassName(3));
            assertEquals("java.sql.Timestamp", md.getColumnClassName(4));
            assertEquals(Types.BOOLEAN, md.getColumnType(5));
            assertEquals(10, md.getPrecision(1));
            assertEquals(5, md.getPrecision(3));
            assertEquals(1, md.getScale(3));
            assertEquals(11, md.getColumnDisplaySize(1));
            assertEquals(Integer.MAX_VALUE, md.getColumnDisplaySize(2));
            assertTrue(md.isCaseSensitive(2));
            assertFalse(md.isCaseSensitive(1));
            assertTrue(md.isSearchable(1));
            assertFalse(md.isCurrency(3));
            assertFalse(md.isAutoIncrement(1));
            assertEquals(ResultSetMetaData.columnNullableUnknown, md.isNullable(1));
            assertTrue(md.isSigned(1));
            assertTrue(md.isReadOnly(1));
            assertFalse(md.isWritable(1));
            assertFalse(md.isDefinitelyWritable(1));
            assertEquals("", md.getTableName(1));
            assertEquals("", md.getSchemaName(1));
            assertEquals("", md.getCatalogName(1));
            assertEquals("INTEGER[]", md.getColumnTypeName(6));
            assertThrows(SQLException.class, () -> md.getColumnName(7));
            assertTrue(md.isWrapperFor(ResultSetMetaData.class));
            assertEquals(ResultSet.TYPE_FORWARD_ONLY, rs.getType());
            assertEquals(ResultSet.CONCUR_READ_ONLY, rs.getConcurrency());
            assertEquals(ResultSet.FETCH_FORWARD, rs.getFetchDirection());
            rs.setFetchSize(10);
            assertEquals(10, rs.getFetchSize());
            rs.setFetchDirection(ResultSet.FETCH_FORWARD);
            assertNull(rs.getWarnings());
            rs.clearWarnings();
            assertTrue(rs.next());
            assertEquals("text", rs.getObject("s", String.class));
            assertEquals(1L, rs.getObject("i", Long.class));
            assertEquals(1.5, rs.getObject("d", Double.class));
            assertEquals(Boolean.TRUE, rs.getObject("b", Boolean.class));
            assertEquals(java.sql.Timestamp.valueOf("2024-01-01 00:00:00"), rs.getObject("ts", java.sql.Timestamp.class));
            assertThrows(SQLException.class, () -> rs.getObject("i", java.util.List.class));
            assertArrayEquals("text".getBytes(java.nio.charset.StandardCharsets.UTF_8), rs.getBinaryStream("s").readAllBytes());
            assertEquals(1, rs.getObject(1, java.util.Collections.emptyMap()));
            assertThrows(java.sql.SQLFeatureNotSupportedException.class,
                         () -> rs.getObject(1, java.util.Map.of("x", String.class)));
            assertTrue(rs.isFirst());
            assertTrue(rs.isLast());
            assertFalse(rs.isBeforeFirst());
            assertFalse(rs.next());
            assertFalse(rs.next()); // stays at the end
            assertTrue(rs.isAfterLast());
            assertFalse(st.getGeneratedKeys().next());
            // Position checks on a streamed result read one row ahead, no more.
            ResultSet big = st.executeQuery("SELECT i FROM range(3) r(i)");
            assertTrue(big.isBeforeFirst());
            assertFalse(big.isAfterLast());
            assertTrue(big.next());
            assertTrue(big.isFirst());
            assertFalse(big.isLast());
            assertTrue(big.next());
            assertEquals(1, big.getInt(1));
            assertTrue(big.next());
            assertTrue(big.isLast());
            assertFalse(big.next());
            assertTrue(big.isAfterLast());
            ResultSet none = st.executeQuery("SELECT 1 WHERE false");
            assertFalse(none.isBeforeFirst());
            assertFalse(none.next());
            assertFalse(none.isAfterLast()); // JDBC: false for an empty result
        }
    }
}
