package tcpduckdb.jdbc;

import java.sql.*;

/** The methods of {@code Connection} the driver does not implement, each throwing
 * SQLFeatureNotSupportedException (optional JDBC features: nothing answers silently wrong). */
abstract class ConnectionStubs implements Connection {
    @Override
    public CallableStatement prepareCall(String a0) throws SQLException {
        throw Unsupported.method("Connection.prepareCall");
    }

    @Override
    public CallableStatement prepareCall(String a0, int a1, int a2) throws SQLException {
        throw Unsupported.method("Connection.prepareCall");
    }

    @Override
    public void setTypeMap(java.util.Map<String, Class<?>> a0) throws SQLException {
        throw Unsupported.method("Connection.setTypeMap");
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
    public CallableStatement prepareCall(String a0, int a1, int a2, int a3) throws SQLException {
        throw Unsupported.method("Connection.prepareCall");
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
    public Array createArrayOf(String a0, Object[] a1) throws SQLException {
        throw Unsupported.method("Connection.createArrayOf");
    }

    @Override
    public Struct createStruct(String a0, Object[] a1) throws SQLException {
        throw Unsupported.method("Connection.createStruct");
    }

    @Override
    public void setNetworkTimeout(java.util.concurrent.Executor a0, int a1) throws SQLException {
        throw Unsupported.method("Connection.setNetworkTimeout");
    }
}
