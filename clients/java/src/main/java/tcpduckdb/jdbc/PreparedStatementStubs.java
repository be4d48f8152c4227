package tcpduckdb.jdbc;

import java.sql.*;

/** The methods of {@code PreparedStatement} the driver does not implement, each throwing
 * SQLFeatureNotSupportedException (optional JDBC features: nothing answers silently wrong). */
abstract class PreparedStatementStubs extends TdbStatement implements PreparedStatement {
    PreparedStatementStubs(TdbConnection conn) {
        super(conn);
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
    public void setURL(int a0, java.net.URL a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setURL");
    }

    @Override
    public void setRowId(int a0, RowId a1) throws SQLException {
        throw Unsupported.method("PreparedStatement.setRowId");
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
