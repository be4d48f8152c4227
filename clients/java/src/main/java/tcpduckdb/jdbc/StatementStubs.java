package tcpduckdb.jdbc;

import java.sql.*;

/** The methods of {@code Statement} the driver does not implement, each throwing
 * SQLFeatureNotSupportedException (optional JDBC features: nothing answers silently wrong). */
abstract class StatementStubs implements Statement {
    @Override
    public void setCursorName(String a0) throws SQLException {
        throw Unsupported.method("Statement.setCursorName");
    }

    @Override
    public int executeUpdate(String a0, int[] a1) throws SQLException {
        throw Unsupported.method("Statement.executeUpdate");
    }

    @Override
    public int executeUpdate(String a0, String[] a1) throws SQLException {
        throw Unsupported.method("Statement.executeUpdate");
    }

    @Override
    public boolean execute(String a0, int[] a1) throws SQLException {
        throw Unsupported.method("Statement.execute");
    }

    @Override
    public boolean execute(String a0, String[] a1) throws SQLException {
        throw Unsupported.method("Statement.execute");
    }
}
