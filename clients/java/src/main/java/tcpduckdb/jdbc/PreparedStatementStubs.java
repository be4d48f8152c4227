package tcpduckdb.jdbc;

import java.sql.*;

/** A body for every method of {@code PreparedStatement}, each throwing
 * SQLFeatureNotSupportedException: the driver's class overrides every method it implements. */
abstract class PreparedStatementStubs extends TdbStatement implements PreparedStatement {
    PreparedStatementStubs(TdbConnection conn) {
        super(conn);
    }

    @Override
    public ResultSet executeQuery() throws SQLException {
        throw Unsupported.method("PreparedStatement.executeQuery");
    }

    @Override
    public int executeUpdate() throws SQLException {
        throw Unsupported.method("PreparedStatement.executeUpdate");
    }

    @Override
    public void setNull(int a0, int a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNull");
    }

    @Override
    public void setBoolean(int a0, boolean a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBoolean");
    }

    @Override
    public void setByte(int a0, byte a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setByte");
    }

    @Override
    public void setShort(int a0, short a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setShort");
    }

    @Override
    public void setInt(int a0, int a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setInt");
    }

    @Override
    public void setLong(int a0, long a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setLong");
    }

    @Override
    public void setFloat(int a0, float a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setFloat");
    }

    @Override
    public void setDouble(int a0, double a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setDouble");
    }

    @Override
    public void setBigDecimal(int a0, java.math.BigDecimal a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBigDecimal");
    }

    @Override
    public void setString(int a0, String a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setString");
    }

    @Override
    public void setBytes(int a0, byte[] a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBytes");
    }

    @Override
    public void setDate(int a0, Date a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setDate");
    }

    @Override
    public void setTime(int a0, Time a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setTime");
    }

    @Override
    public void setTimestamp(int a0, Timestamp a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setTimestamp");
    }

    @Override
    public void setAsciiStream(int a0, java.io.InputStream a1, int a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setAsciiStream");
    }

    @Override
    @Deprecated
    public void setUnicodeStream(int a0, java.io.InputStream a1, int a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setUnicodeStream");
    }

    @Override
    public void setBinaryStream(int a0, java.io.InputStream a1, int a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBinaryStream");
    }

    @Override
    public void clearParameters() throws SQLException {
        throw Unsupported.method("PreparedStatement.clearParameters");
    }

    @Override
    public void setObject(int a0, Object a1, int a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setObject");
    }

    @Override
    public void setObject(int a0, Object a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setObject");
    }

    @Override
    public boolean execute() throws SQLException {
        throw Unsupported.method("PreparedStatement.execute");
    }

    @Override
    public void addBatch() throws SQLException {
        throw Unsupported.method("PreparedStatement.addBatch");
    }

    @Override
    public void setCharacterStream(int a0, java.io.Reader a1, int a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setCharacterStream");
    }

    @Override
    public void setRef(int a0, Ref a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setRef");
    }

    @Override
    public void setBlob(int a0, Blob a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBlob");
    }

    @Override
    public void setClob(int a0, Clob a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setClob");
    }

    @Override
    public void setArray(int a0, Array a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setArray");
    }

    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        throw Unsupported.method("PreparedStatement.getMetaData");
    }

    @Override
    public void setDate(int a0, Date a1, java.util.Calendar a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setDate");
    }

    @Override
    public void setTime(int a0, Time a1, java.util.Calendar a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setTime");
    }

    @Override
    public void setTimestamp(int a0, Timestamp a1, java.util.Calendar a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setTimestamp");
    }

    @Override
    public void setNull(int a0, int a1, String a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNull");
    }

    @Override
    public void setURL(int a0, java.net.URL a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setURL");
    }

    @Override
    public ParameterMetaData getParameterMetaData() throws SQLException {
        throw Unsupported.method("PreparedStatement.getParameterMetaData");
    }

    @Override
    public void setRowId(int a0, RowId a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setRowId");
    }

    @Override
    public void setNString(int a0, String a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNString");
    }

    @Override
    public void setNCharacterStream(int a0, java.io.Reader a1, long a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNCharacterStream");
    }

    @Override
    public void setNClob(int a0, NClob a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNClob");
    }

    @Override
    public void setClob(int a0, java.io.Reader a1, long a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setClob");
    }

    @Override
    public void setBlob(int a0, java.io.InputStream a1, long a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBlob");
    }

    @Override
    public void setNClob(int a0, java.io.Reader a1, long a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNClob");
    }

    @Override
    public void setSQLXML(int a0, SQLXML a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setSQLXML");
    }

    @Override
    public void setObject(int a0, Object a1, int a2, int a3) throws SQLException {
        throw Unsupported.method("PreparedStatement.setObject");
    }

    @Override
    public void setAsciiStream(int a0, java.io.InputStream a1, long a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setAsciiStream");
    }

    @Override
    public void setBinaryStream(int a0, java.io.InputStream a1, long a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBinaryStream");
    }

    @Override
    public void setCharacterStream(int a0, java.io.Reader a1, long a2) throws SQLException {
        throw Unsupported.method("PreparedStatement.setCharacterStream");
    }

    @Override
    public void setAsciiStream(int a0, java.io.InputStream a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setAsciiStream");
    }

    @Override
    public void setBinaryStream(int a0, java.io.InputStream a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBinaryStream");
    }

    @Override
    public void setCharacterStream(int a0, java.io.Reader a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setCharacterStream");
    }

    @Override
    public void setNCharacterStream(int a0, java.io.Reader a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNCharacterStream");
    }

    @Override
    public void setClob(int a0, java.io.Reader a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setClob");
    }

    @Override
    public void setBlob(int a0, java.io.InputStream a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setBlob");
    }

    @Override
    public void setNClob(int a0, java.io.Reader a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setNClob");
    }
}
