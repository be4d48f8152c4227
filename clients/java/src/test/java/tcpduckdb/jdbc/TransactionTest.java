package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** setAutoCommit / commit / rollback, seen from a second connection, and the aborted
 * transaction DuckDB leaves after a failed statement. */
@ExtendWith(SharedServerExtension.class)
class TransactionTest {
    static int count(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM t")) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    @Test
    void commitAndRollback() throws Exception {
        try (Connection a = Shared.newDatabase("tx"); Connection b = Shared.server().connect(a.getCatalog())) {
            try (Statement st = a.createStatement()) {
                st.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)");
            }
            assertTrue(a.getAutoCommit());
            assertThrows(SQLException.class, a::commit); // autocommit on
            assertThrows(SQLException.class, a::rollback);
            a.setAutoCommit(false);
            assertFalse(a.getAutoCommit());
            try (Statement st = a.createStatement()) {
                st.execute("INSERT INTO t VALUES (1)");
                assertEquals(1, count(a));
                assertEquals(0, count(b)); // not committed yet
                a.commit();
                assertEquals(1, count(b));
                st.execute("INSERT INTO t VALUES (2)");
                a.rollback();
                assertEquals(1, count(a));
                assertEquals(1, count(b));
                // commit / rollback with nothing done: nothing sent, no error.
                a.commit();
                a.rollback();
                // A failed statement aborts the transaction: later statements fail, commit
                // rolls back and reports it.
                st.execute("INSERT INTO t VALUES (3)");
                SQLException dup = assertThrows(SQLException.class, () -> st.execute("INSERT INTO t VALUES (1)"));
                assertEquals("23000", dup.getSQLState());
                SQLException later = assertThrows(SQLException.class, () -> st.execute("SELECT 1"));
                assertEquals("TRANSACTIONCONTEXT_ERROR", Errors.code(later));
                SQLException e = assertThrows(SQLTransactionRollbackException.class, a::commit);
                assertEquals("40000", e.getSQLState());
                assertEquals(1, count(b));
                // The next statement starts a new transaction.
                st.execute("INSERT INTO t VALUES (4)");
                // Turning autocommit on commits the open transaction (JDBC's rule).
                a.setAutoCommit(true);
                assertEquals(2, count(b));
                // In autocommit mode SQL transaction statements go through.
                st.execute("BEGIN TRANSACTION");
                st.execute("INSERT INTO t VALUES (5)");
                st.execute("ROLLBACK");
                assertEquals(2, count(b));
                // With autocommit off, COMMIT as SQL ends the connection's transaction; BEGIN
                // is refused (one is already managed).
                a.setAutoCommit(false);
                st.execute("INSERT INTO t VALUES (6)");
                st.execute("commit;");
                assertEquals(3, count(b));
                assertThrows(SQLException.class, () -> st.execute("begin"));
                a.rollback();
            }
            assertEquals(Connection.TRANSACTION_SERIALIZABLE, a.getTransactionIsolation());
            a.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            assertThrows(SQLException.class, () -> a.setTransactionIsolation(12345));
        }
    }

    @Test
    void catalogSwitchAndClose() throws Exception {
        Connection a = Shared.newDatabase("sw1");
        try (Connection other = Shared.newDatabase("sw2")) {
            String first = a.getCatalog();
            String second = other.getCatalog();
            try (Statement st = other.createStatement()) {
                st.execute("CREATE TABLE only_here (i INTEGER)");
            }
            a.setCatalog(second);
            assertEquals(second, a.getCatalog());
            ResultSet rs = a.createStatement().executeQuery("SELECT count(*) FROM only_here");
            assertTrue(rs.next());
            assertEquals(0, rs.getInt(1));
            a.setAutoCommit(false);
            a.createStatement().execute("SELECT 1"); // opens the transaction
            assertThrows(SQLException.class, () -> a.setCatalog(first));
            a.rollback();
            a.setCatalog(first);
            assertEquals("main", a.getSchema());
            // A connection closed with an open transaction: the server rolls it back.
            try (Statement st = a.createStatement()) {
                st.execute("CREATE TABLE t (i INTEGER)");
            }
            a.commit();
            a.createStatement().execute("INSERT INTO t VALUES (1)");
            a.close();
            assertTrue(a.isClosed());
            assertFalse(a.isValid(1));
            SQLException e = assertThrows(SQLException.class, a::createStatement);
            assertEquals("08003", e.getSQLState());
            try (Connection c = Shared.server().connect(first)) {
                assertEquals(0, count(c));
            }
        } finally {
            a.close();
        }
    }
}
