package tcpduckdb.jdbc;

import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.List;

/** The columns of a result: names and DuckDB's types as the server sent them. The server
 * does not say which table a column comes from nor whether it may be NULL. */
final class TdbResultSetMetaData implements ResultSetMetaData {
    private final List<Column> columns;

    TdbResultSetMetaData(List<Column> columns) {
        this.columns = columns;
    }

    private Column col(int i) throws SQLException {
        if (i < 1 || i > columns.size())
            throw Errors.usage("column index " + i + " out of range 1.." + columns.size());
        return columns.get(i - 1);
    }

    @Override
    public int getColumnCount() {
        return columns.size();
    }

    @Override
    public boolean isAutoIncrement(int i) throws SQLException {
        col(i);
        return false;
    }

    @Override
    public boolean isCaseSensitive(int i) throws SQLException {
        Column.Kind k = col(i).kind;
        return k == Column.Kind.STRING || k == Column.Kind.NESTED;
    }

    @Override
    public boolean isSearchable(int i) throws SQLException {
        col(i);
        return true;
    }

    @Override
    public boolean isCurrency(int i) throws SQLException {
        col(i);
        return false;
    }

    @Override
    public int isNullable(int i) throws SQLException {
        col(i);
        return columnNullableUnknown;
    }

    @Override
    public boolean isSigned(int i) throws SQLException {
        return col(i).signed();
    }

    @Override
    public int getColumnDisplaySize(int i) throws SQLException {
        return col(i).displaySize();
    }

    @Override
    public String getColumnLabel(int i) throws SQLException {
        return col(i).name;
    }

    @Override
    public String getColumnName(int i) throws SQLException {
        return col(i).name;
    }

    @Override
    public String getSchemaName(int i) throws SQLException {
        col(i);
        return "";
    }

    @Override
    public int getPrecision(int i) throws SQLException {
        return col(i).precision;
    }

    @Override
    public int getScale(int i) throws SQLException {
        return col(i).scale;
    }

    @Override
    public String getTableName(int i) throws SQLException {
        col(i);
        return "";
    }

    @Override
    public String getCatalogName(int i) throws SQLException {
        col(i);
        return "";
    }

    @Override
    public int getColumnType(int i) throws SQLException {
        return col(i).sqlType;
    }

    /** DuckDB's spelling: "INTEGER", "DECIMAL(18,3)", "VARCHAR[]", "STRUCT(...)". */
    @Override
    public String getColumnTypeName(int i) throws SQLException {
        return col(i).type;
    }

    @Override
    public boolean isReadOnly(int i) throws SQLException {
        col(i);
        return true;
    }

    @Override
    public boolean isWritable(int i) throws SQLException {
        col(i);
        return false;
    }

    @Override
    public boolean isDefinitelyWritable(int i) throws SQLException {
        col(i);
        return false;
    }

    @Override
    public String getColumnClassName(int i) throws SQLException {
        return col(i).className();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this))
            return iface.cast(this);
        throw Errors.usage("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
