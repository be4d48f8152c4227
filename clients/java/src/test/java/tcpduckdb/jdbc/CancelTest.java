package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransactionRollbackException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Statement.cancel() from another thread and setQueryTimeout, through the server's cancel
 * request on a second connection: the statement fails with 57014 and the connection goes on. */
@ExtendWith(SharedServerExtension.class)
class CancelTest {
    static final String LONG = "SELECT count(*) FROM range(10000000000)";
    static Connection conn;

    @BeforeAll
    static void open() throws Exception {
        conn = Shared.newDatabase("cancel");
    }

    @AfterAll
    static void close() throws SQLException {
        conn.close();
    }

    /** Cancels st from another thread until the call running on this thread has ended: a cancel
     * that reaches the server before the statement has started does nothing. */
    static Thread canceller(Statement st, AtomicBoolean done) {
        Thread t = new Thread(() -> {
            while (!done.get()) {
                try {
                    Thread.sleep(200);
                    if (!done.get())
                        st.cancel();
                } catch (Exception e) {
                    return;
                }
            }
        }, "canceller");
        t.start();
        return t;
    }

    static void stillGood(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 41 + 1")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
        }
        assertFalse(c.unwrap(TdbConnection.class).isBroken());
    }

    @Test
    void cancelFromAnotherThread() throws Exception {
        long before = StreamingTest.interrupted();
        try (Statement st = conn.createStatement()) {
            AtomicBoolean done = new AtomicBoolean();
            Thread t = canceller(st, done);
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery(LONG));
            done.set(true);
            t.join();
            assertEquals("57014", e.getSQLState());
            assertEquals("CANCELED", Errors.code(e));
            assertFalse(e instanceof SQLTimeoutException);
            assertTrue(e.getMessage().contains("canceling statement due to user request"), e.getMessage());
        }
        assertTrue(StreamingTest.interrupted() > before);
        stillGood(conn);
        // A cancel when nothing runs does nothing, and does not reach the next statement.
        try (Statement st = conn.createStatement()) {
            st.cancel();
            conn.unwrap(TcpDuckDBConnection.class).cancelRunning();
        }
        stillGood(conn);
    }

    @Test
    void cancelWhileRowsStream() throws Exception {
        try (Statement st = conn.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT i FROM range(5000000000) r(i)");
            for (int i = 0; i < 100; i++)
                assertTrue(rs.next());
            st.cancel(); // same thread: the statement is running while its rows are read
            SQLException e = assertThrows(SQLException.class, () -> {
                while (rs.next()) {
                    // rows already on their way
                }
            });
            assertEquals("CANCELED", Errors.code(e));
        }
        stillGood(conn);
    }

    @Test
    void queryTimeout() throws Exception {
        try (Statement st = conn.createStatement()) {
            st.setQueryTimeout(1);
            assertEquals(1, st.getQueryTimeout());
            SQLTimeoutException e = assertThrows(SQLTimeoutException.class, () -> st.executeQuery(LONG));
            assertEquals("57014", e.getSQLState());
            assertTrue(e.getMessage().contains("query timeout (1 s)"), e.getMessage());
            // A statement shorter than its timeout is not touched, nor is the next one.
            ResultSet rs = st.executeQuery("SELECT 5");
            assertTrue(rs.next());
            assertEquals(5, rs.getInt(1));
            assertThrows(SQLException.class, () -> st.setQueryTimeout(-1));
        }
        stillGood(conn);
        // The same through a PreparedStatement.
        try (java.sql.PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM range(?)")) {
            ps.setQueryTimeout(1);
            ps.setLong(1, 10_000_000_000L);
            assertThrows(SQLTimeoutException.class, ps::executeQuery);
        }
        stillGood(conn);
    }

    @Test
    void cancelInsideATransaction() throws Exception {
        try (Connection c = Shared.newDatabase("canceltx")) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t (i INTEGER)");
            }
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("INSERT INTO t VALUES (1)");
                AtomicBoolean done = new AtomicBoolean();
                Thread th = canceller(st, done);
                assertThrows(SQLException.class, () -> st.executeQuery(LONG));
                done.set(true);
                th.join();
                // DuckDB aborted the transaction: commit rolls it back and says so.
                SQLException e = assertThrows(SQLTransactionRollbackException.class, c::commit);
                assertEquals("TRANSACTION_ABORTED", Errors.code(e));
                ResultSet rs = st.executeQuery("SELECT count(*) FROM t");
                assertTrue(rs.next());
                assertEquals(0, rs.getInt(1));
            }
            c.rollback();
            c.setAutoCommit(true);
            stillGood(c);
        }
    }
}
