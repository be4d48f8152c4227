package tcpduckdb.jdbc;

import java.sql.*;

/** A body for every method of {@code Connection}, each throwing
 * SQLFeatureNotSupportedException: the driver's class overrides every method it implements. */
abstract class ConnectionStubs implements Connection {
    @Override
    public Statement createStatement() throws SQLException {
        throw Unsupported.method("Connection.createStatement");
    }

    @Override
    public PreparedStatement prepareStatement(String a0) throws SQLException {
        throw Unsupported.method("Connection.prepareStatement");
    }

    @Override
    public CallableStatement prepareCall(String a0) throws SQLException {
        throw Unsupported.method("Connection.prepareCall");
    }

    @Override
    public String nativeSQL(String a0) throws SQLException {
        throw Unsupported.method("Connection.nativeSQL");
    }

    @Override
    public void setAutoCommit(boolean a0) throws SQLException {
        throw Unsupported.method("Connection.setAutoCommit");
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        throw Unsupported.method("Connection.getAutoCommit");
    }

    @Override
    public void commit() throws SQLException {
        throw Unsupported.method("Connection.commit");
    }

    @Override
    public void rollback() throws SQLException {
        throw Unsupported.method("Connection.rollback");
    }

    @Override
    public void close() throws SQLException {
        throw Unsupported.method("Connection.close");
    }

    @Override
    public boolean isClosed() throws SQLException {
        throw Unsupported.method("Connection.isClosed");
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        throw Unsupported.method("Connection.getMetaData");
    }

    @Override
    public void setReadOnly(boolean a0) throws SQLException {
        throw Unsupported.method("Connection.setReadOnly");
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        throw Unsupported.method("Connection.isReadOnly");
    }

    @Override
    public void setCatalog(String a0) throws SQLException {
        throw Unsupported.method("Connection.setCatalog");
    }

    @Override
    public String getCatalog() throws SQLException {
        throw Unsupported.method("Connection.getCatalog");
    }

    @Override
    public void setTransactionIsolation(int a0) throws SQLException {
        throw Unsupported.method("Connection.setTransactionIsolation");
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        throw Unsupported.method("Connection.getTransactionIsolation");
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        throw Unsupported.method("Connection.getWarnings");
    }

    @Override
    public void clearWarnings() throws SQLException {
        throw Unsupported.method("Connection.clearWarnings");
    }

    @Override
    public Statement createStatement(int a0, int a1) throws SQLException {
        throw Unsupported.method("Connection.createStatement");
    }

    @Override
    public PreparedStatement prepareStatement(String a0, int a1, int a2) throws SQLException {
        throw Unsupported.method("Connection.prepareStatement");
    }

    @Override
    public CallableStatement prepareCall(String a0, int a1, int a2) throws SQLException {
        throw Unsupported.method("Connection.prepareCall");
    }

    @Override
    public java.util.Map<String, Class<?>> getTypeMap() throws SQLException {
        throw Unsupported.method("Connection.getTypeMap");
    }

    @Override
    public void setTypeMap(java.util.Map<String, Class<?>> a0) throws SQLException {
        throw Unsupported.method("Connection.setTypeMap");
    }

    @Override
    public void setHoldability(int a0) throws SQLException {
        throw Unsupported.method("Connection.setHoldability");
    }

    @Override
    public int getHoldability() throws SQLException {
        throw Unsupported.method("Connection.getHoldability");
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        throw Unsupported.method("Connection.setSavepoint");
    }

    @Override
    public Savepoint setSavepoint(String a0) throws SQLException {
        throw Unsupported.method("Connection.setSavepoint");
    }

    @Override
    public void rollback(Savepoint a0) throws SQLException {
        throw Unsupported.method("Connection.rollback");
    }

    @Override
    public void releaseSavepoint(Savepoint a0) throws SQLException {
        throw Unsupported.method("Connection.releaseSavepoint");
    }

    @Override
    public Statement createStatement(int a0, int a1, int a2) throws SQLException {
        throw Unsupported.method("Connection.createStatement");
    }

    @Override
    public PreparedStatement prepareStatement(String a0, int a1, int a2, int a3) throws SQLException {
        throw Unsupported.method("Connection.prepareStatement");
    }

    @Override
    public CallableStatement prepareCall(String a0, int a1, int a2, int a3) throws SQLException {
        throw Unsupported.method("Connection.prepareCall");
    }

    @Override
    public PreparedStatement prepareStatement(String a0, int a1) throws SQLException {
        throw Unsupported.method("Connection.prepareStatement");
    }

    @Override
    public PreparedStatement prepareStatement(String a0, int[] a1) throws SQLException {
        throw Unsupported.method("Connection.prepareStatement");
    }

    @Override
    public PreparedStatement prepareStatement(String a0, String[] a1) throws SQLException {
        throw Unsupported.method("Connection.prepareStatement");
    }

    @Override
    public Clob createClob() throws SQLException {
        throw Unsupported.method("Connection.createClob");
    }

    @Override
    public Blob createBlob() throws SQLException {
        throw Unsupported.method("Connection.createBlob");
    }

    @Override
    public NClob createNClob() throws SQLException {
        throw Unsupported.method("Connection.createNClob");
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        throw Unsupported.method("Connection.createSQLXML");
    }

    @Override
    public boolean isValid(int a0) throws SQLException {
        throw Unsupported.method("Connection.isValid");
    }

    @Override
    public String getClientInfo(String a0) throws SQLException {
        throw Unsupported.method("Connection.getClientInfo");
    }

    @Override
    public java.util.Properties getClientInfo() throws SQLException {
        throw Unsupported.method("Connection.getClientInfo");
    }

    @Override
    public Array createArrayOf(String a0, Object[] a1) throws SQLException {
        throw Unsupported.method("Connection.createArrayOf");
    }

    @Override
    public Struct createStruct(String a0, Object[] a1) throws SQLException {
        throw Unsupported.method("Connection.createStruct");
    }

    @Override
    public void setSchema(String a0) throws SQLException {
        throw Unsupported.method("Connection.setSchema");
    }

    @Override
    public String getSchema() throws SQLException {
        throw Unsupported.method("Connection.getSchema");
    }

    @Override
    public void abort(java.util.concurrent.Executor a0) throws SQLException {
        throw Unsupported.method("Connection.abort");
    }

    @Override
    public void setNetworkTimeout(java.util.concurrent.Executor a0, int a1) throws SQLException {
        throw Unsupported.method("Connection.setNetworkTimeout");
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        throw Unsupported.method("Connection.getNetworkTimeout");
    }
}
