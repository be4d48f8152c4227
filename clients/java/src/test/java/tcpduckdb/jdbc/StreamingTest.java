package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Results streamed off the connection (the suite's JVM has a 64 MB heap: a result read into
 * memory fails it), results left early, an error in the middle of a result, and the Statement
 * methods around results. */
@ExtendWith(SharedServerExtension.class)
class StreamingTest {
    static Connection conn;

    @BeforeAll
    static void open() throws Exception {
        conn = Shared.newDatabase("stream");
    }

    @AfterAll
    static void close() throws SQLException {
        conn.close();
    }

    static long interrupted() throws Exception {
        String stats = Shared.server().command("stats");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"interrupted\":(\\d+)").matcher(stats);
        assertTrue(m.find(), stats);
        return Long.parseLong(m.group(1));
    }

    @Test
    void largeResultInSmallMemory() throws SQLException {
        long rows = 2_000_000; // about 130 MB of JSON, far more as Java objects
        try (Statement st = conn.createStatement()) {
            st.setFetchSize(1000);
            assertEquals(1000, st.getFetchSize());
            ResultSet rs = st.executeQuery("SELECT i, 'row number ' || i AS s, i * 0.5 AS d, [i, i + 1] AS l "
                                           + "FROM range(" + rows + ") r(i)");
            assertEquals(1000, rs.getFetchSize());
            long n = 0, sum = 0;
            long maxUsed = 0;
            Runtime rt = Runtime.getRuntime();
            while (rs.next()) {
                assertEquals(n, rs.getLong(1));
                if (n % 250_000 == 0) {
                    assertEquals("row number " + n, rs.getString("s"));
                    assertEquals("[" + n + "," + (n + 1) + "]", rs.getString("l"));
                    maxUsed = Math.max(maxUsed, rt.totalMemory() - rt.freeMemory());
                }
                sum += rs.getLong(1);
                n++;
            }
            assertEquals(rows, n);
            assertEquals(rows * (rows - 1) / 2, sum);
            assertEquals(rows, rs.getRow() == 0 ? n : -1);
            assertTrue(maxUsed < 64L << 20, "heap used " + maxUsed);
            rs.close();
            assertTrue(rs.isClosed());
        }
    }

    @Test
    void errorInTheMiddleOfAResult() throws SQLException {
        try (Statement st = conn.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT CASE WHEN i < 200000 THEN i ELSE error('boom at ' || i) END AS v "
                                           + "FROM range(400000) r(i)");
            long n = 0;
            SQLException e = null;
            try {
                while (rs.next())
                    n++;
            } catch (SQLException ex) {
                e = ex;
            }
            assertNotNull(e, "the error after the rows");
            assertTrue(e.getMessage().contains("boom at"), e.getMessage());
            assertTrue(n > 0 && n <= 200000, "rows before the error: " + n);
            // The connection is in step: the next statement answers.
            ResultSet ok = st.executeQuery("SELECT 7");
            assertTrue(ok.next());
            assertEquals(7, ok.getInt(1));
        }
    }

    @Test
    void resultLeftEarly() throws Exception {
        try (Statement st = conn.createStatement()) {
            // A short rest is read and dropped.
            ResultSet rs = st.executeQuery("SELECT i FROM range(1000) r(i)");
            assertTrue(rs.next());
            rs.close();
            assertThrows(SQLException.class, rs::next);
            // A long rest (past 4 MiB) is ended by the server's cancel request.
            long before = interrupted();
            rs = st.executeQuery("SELECT i, repeat('x', 200) AS pad FROM range(50000000) r(i)");
            for (int i = 0; i < 10; i++)
                assertTrue(rs.next());
            rs.close();
            assertTrue(interrupted() > before, "the abandoned statement was interrupted");
            assertFalse(conn.unwrap(TdbConnection.class).isBroken());
            // Re-executing a statement closes its previous result first.
            ResultSet a = st.executeQuery("SELECT i FROM range(100000) r(i)");
            assertTrue(a.next());
            ResultSet b = st.executeQuery("SELECT 'b'");
            assertTrue(a.isClosed());
            assertTrue(b.next());
            assertEquals("b", b.getString(1));
            // setMaxRows: the rest is dropped.
            st.setMaxRows(5);
            assertEquals(5, st.getMaxRows());
            rs = st.executeQuery("SELECT i FROM range(100000) r(i)");
            int n = 0;
            while (rs.next())
                n++;
            assertEquals(5, n);
            st.setLargeMaxRows(0);
            assertEquals(0, st.getLargeMaxRows());
        }
    }

    /** Inside a transaction a long rest is read, not cancelled: the cancel would abort the
     * transaction and its commit would fail. */
    @Test
    void resultLeftEarlyInATransactionIsRead() throws Exception {
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE kept (i INTEGER)");
            conn.setAutoCommit(false);
            try {
                st.execute("INSERT INTO kept VALUES (1)");
                long before = interrupted();
                // About 40 MB of rows, ten times the 4 MiB read before a cancel.
                ResultSet rs = st.executeQuery("SELECT i, 'row ' || i AS s FROM range(2000000) r(i)");
                assertTrue(rs.next());
                rs.close();
                st.execute("INSERT INTO kept VALUES (2)");
                conn.commit();
                assertEquals(before, interrupted(), "no statement was interrupted");
            } finally {
                conn.setAutoCommit(true);
            }
            ResultSet n = st.executeQuery("SELECT count(*) FROM kept");
            assertTrue(n.next());
            assertEquals(2, n.getInt(1));
        }
    }

    @Test
    void connectionClosedWithAResultOpen() throws Exception {
        Connection c = Shared.server().connect(conn.getCatalog());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT i, repeat('x', 200) FROM range(50000000) r(i)");
        assertTrue(rs.next());
        c.close(); // the rest is not read: the socket is closed, the server stops the statement
        assertTrue(rs.isClosed());
        assertTrue(st.isClosed());
        assertThrows(SQLException.class, rs::next);
        try (Connection again = Shared.server().connect(conn.getCatalog())) {
            CancelTest.stillGood(again);
        }
    }

    @Test
    void twoOpenResultsOnOneConnection() throws SQLException {
        try (Statement s1 = conn.createStatement(); Statement s2 = conn.createStatement()) {
            ResultSet r1 = s1.executeQuery("SELECT i FROM range(5000) r(i)");
            for (int i = 0; i < 10; i++)
                assertTrue(r1.next());
            // The connection is needed: the rest of r1 is read into memory first.
            ResultSet r2 = s2.executeQuery("SELECT 'second'");
            assertTrue(r2.next());
            assertEquals("second", r2.getString(1));
            long n = 10;
            while (r1.next()) {
                assertEquals(n, r1.getLong(1));
                n++;
            }
            assertEquals(5000, n);
        }
    }

    @Test
    void statementMethods() throws SQLException {
        try (Statement st = conn.createStatement()) {
            assertFalse(st.execute("CREATE TABLE sm (i INTEGER, s VARCHAR)"));
            assertEquals(0, st.getUpdateCount());
            assertNull(st.getResultSet());
            assertFalse(st.execute("INSERT INTO sm VALUES (1, 'a'), (2, 'b')"));
            assertEquals(2, st.getUpdateCount());
            assertEquals(2L, st.getLargeUpdateCount());
            assertTrue(st.execute("SELECT * FROM sm ORDER BY i"));
            ResultSet rs = st.getResultSet();
            assertEquals(-1, st.getUpdateCount());
            assertSame(st, rs.getStatement());
            assertFalse(st.getMoreResults());
            assertTrue(rs.isClosed());
            assertEquals(-1, st.getUpdateCount());
            // Several statements in one request: the last one's answer.
            assertEquals(1, st.executeUpdate("INSERT INTO sm VALUES (3, 'c'); UPDATE sm SET s = 'z' WHERE i = 3"));
            assertEquals(3L, st.executeLargeUpdate("UPDATE sm SET s = upper(s)"));
            // The wrong execute for the statement's answer.
            assertThrows(SQLException.class, () -> st.executeUpdate("SELECT 1"));
            assertThrows(SQLException.class, () -> st.executeQuery("UPDATE sm SET i = i"));
            // Batches.
            st.addBatch("INSERT INTO sm VALUES (10, 'x')");
            st.addBatch("INSERT INTO sm VALUES (11, 'y'), (12, 'z')");
            assertArrayEquals(new int[] {1, 2}, st.executeBatch());
            st.addBatch("INSERT INTO sm VALUES (13, 'x')");
            st.addBatch("INSERT INTO no_such_table VALUES (1)");
            st.addBatch("INSERT INTO sm VALUES (14, 'x')");
            java.sql.BatchUpdateException be = assertThrows(java.sql.BatchUpdateException.class, st::executeBatch);
            assertArrayEquals(new int[] {1}, be.getUpdateCounts());
            st.clearBatch();
            assertArrayEquals(new int[0], st.executeBatch());
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO sm VALUES (?, ?)")) {
                for (int i = 20; i < 25; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "p" + i);
                    ps.addBatch();
                }
                assertArrayEquals(new long[] {1, 1, 1, 1, 1}, ps.executeLargeBatch());
                assertThrows(SQLException.class, () -> ps.executeQuery("SELECT 1"));
                assertNull(ps.getMetaData());
                ps.setInt(1, 30);
                ps.setString(2, "q");
                assertFalse(ps.execute());
                assertEquals(1, ps.getUpdateCount());
            }
            ResultSet count = st.executeQuery("SELECT count(*) FROM sm");
            assertTrue(count.next());
            assertEquals(13, count.getInt(1));
            // closeOnCompletion: closing the result closes the statement.
            Statement st2 = conn.createStatement();
            st2.closeOnCompletion();
            assertTrue(st2.isCloseOnCompletion());
            ResultSet r2 = st2.executeQuery("SELECT 1");
            r2.close();
            assertTrue(st2.isClosed());
            assertThrows(SQLException.class, () -> st2.executeQuery("SELECT 1"));
            // Other settings.
            assertEquals(ResultSet.TYPE_FORWARD_ONLY, st.getResultSetType());
            assertEquals(ResultSet.CONCUR_READ_ONLY, st.getResultSetConcurrency());
            assertEquals(ResultSet.FETCH_FORWARD, st.getFetchDirection());
            assertSame(conn, st.getConnection());
            assertNull(st.getWarnings());
            assertEquals(0, st.getMaxFieldSize());
            assertThrows(SQLException.class, () -> st.setFetchSize(-1));
            assertThrows(java.sql.SQLFeatureNotSupportedException.class,
                         () -> st.setFetchDirection(ResultSet.FETCH_REVERSE));
            assertThrows(java.sql.SQLFeatureNotSupportedException.class,
                         () -> st.executeUpdate("INSERT INTO sm VALUES (1, 'x')", Statement.RETURN_GENERATED_KEYS));
            assertTrue(st.isWrapperFor(Statement.class));
        }
    }
}
