package tcpduckdb.jdbc;

import java.sql.*;

/** A body for every method of {@code Statement}, each throwing
 * SQLFeatureNotSupportedException: the driver's class overrides every method it implements. */
abstract class StatementStubs implements Statement {
    @Override
    public ResultSet executeQuery(String a0) throws SQLException {
        throw Unsupported.method("Statement.executeQuery");
    }

    @Override
    public int executeUpdate(String a0) throws SQLException {
        throw Unsupported.method("Statement.executeUpdate");
    }

    @Override
    public void close() throws SQLException {
        throw Unsupported.method("Statement.close");
    }

    @Override
    public int getMaxFieldSize() throws SQLException {
        throw Unsupported.method("Statement.getMaxFieldSize");
    }

    @Override
    public void setMaxFieldSize(int a0) throws SQLException {
        throw Unsupported.method("Statement.setMaxFieldSize");
    }

    @Override
    public int getMaxRows() throws SQLException {
        throw Unsupported.method("Statement.getMaxRows");
    }

    @Override
    public void setMaxRows(int a0) throws SQLException {
        throw Unsupported.method("Statement.setMaxRows");
    }

    @Override
    public void setEscapeProcessing(boolean a0) throws SQLException {
        throw Unsupported.method("Statement.setEscapeProcessing");
    }

    @Override
    public int getQueryTimeout() throws SQLException {
        throw Unsupported.method("Statement.getQueryTimeout");
    }

    @Override
    public void setQueryTimeout(int a0) throws SQLException {
        throw Unsupported.method("Statement.setQueryTimeout");
    }

    @Override
    public void cancel() throws SQLException {
        throw Unsupported.method("Statement.cancel");
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        throw Unsupported.method("Statement.getWarnings");
    }

    @Override
    public void clearWarnings() throws SQLException {
        throw Unsupported.method("Statement.clearWarnings");
    }

    @Override
    public void setCursorName(String a0) throws SQLException {
        throw Unsupported.method("Statement.setCursorName");
    }

    @Override
    public boolean execute(String a0) throws SQLException {
        throw Unsupported.method("Statement.execute");
    }

    @Override
    public ResultSet getResultSet() throws SQLException {
        throw Unsupported.method("Statement.getResultSet");
    }

    @Override
    public int getUpdateCount() throws SQLException {
        throw Unsupported.method("Statement.getUpdateCount");
    }

    @Override
    public boolean getMoreResults() throws SQLException {
        throw Unsupported.method("Statement.getMoreResults");
    }

    @Override
    public void setFetchDirection(int a0) throws SQLException {
        throw Unsupported.method("Statement.setFetchDirection");
    }

    @Override
    public int getFetchDirection() throws SQLException {
        throw Unsupported.method("Statement.getFetchDirection");
    }

    @Override
    public void setFetchSize(int a0) throws SQLException {
        throw Unsupported.method("Statement.setFetchSize");
    }

    @Override
    public int getFetchSize() throws SQLException {
        throw Unsupported.method("Statement.getFetchSize");
    }

    @Override
    public int getResultSetConcurrency() throws SQLException {
        throw Unsupported.method("Statement.getResultSetConcurrency");
    }

    @Override
    public int getResultSetType() throws SQLException {
        throw Unsupported.method("Statement.getResultSetType");
    }

    @Override
    public void addBatch(String a0) throws SQLException {
        throw Unsupported.method("Statement.addBatch");
    }

    @Override
    public void clearBatch() throws SQLException {
        throw Unsupported.method("Statement.clearBatch");
    }

    @Override
    public int[] executeBatch() throws SQLException {
        throw Unsupported.method("Statement.executeBatch");
    }

    @Override
    public Connection getConnection() throws SQLException {
        throw Unsupported.method("Statement.getConnection");
    }

    @Override
    public boolean getMoreResults(int a0) throws SQLException {
        throw Unsupported.method("Statement.getMoreResults");
    }

    @Override
    public ResultSet getGeneratedKeys() throws SQLException {
        throw Unsupported.method("Statement.getGeneratedKeys");
    }

    @Override
    public int executeUpdate(String a0, int a1) throws SQLException {
        throw Unsupported.method("Statement.executeUpdate");
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
    public boolean execute(String a0, int a1) throws SQLException {
        throw Unsupported.method("Statement.execute");
    }

    @Override
    public boolean execute(String a0, int[] a1) throws SQLException {
        throw Unsupported.method("Statement.execute");
    }

    @Override
    public boolean execute(String a0, String[] a1) throws SQLException {
        throw Unsupported.method("Statement.execute");
    }

    @Override
    public int getResultSetHoldability() throws SQLException {
        throw Unsupported.method("Statement.getResultSetHoldability");
    }

    @Override
    public boolean isClosed() throws SQLException {
        throw Unsupported.method("Statement.isClosed");
    }

    @Override
    public void setPoolable(boolean a0) throws SQLException {
        throw Unsupported.method("Statement.setPoolable");
    }

    @Override
    public boolean isPoolable() throws SQLException {
        throw Unsupported.method("Statement.isPoolable");
    }

    @Override
    public void closeOnCompletion() throws SQLException {
        throw Unsupported.method("Statement.closeOnCompletion");
    }

    @Override
    public boolean isCloseOnCompletion() throws SQLException {
        throw Unsupported.method("Statement.isCloseOnCompletion");
    }
}
