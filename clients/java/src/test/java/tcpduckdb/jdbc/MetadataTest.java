package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** DatabaseMetaData as a database browser walks it: catalogs, schemas, tables, columns,
 * primary keys, for the super user (DuckDB's catalog) and for a normal user (their grants). */
@ExtendWith(SharedServerExtension.class)
class MetadataTest {
    static List<String> column(ResultSet rs, String name) throws SQLException {
        List<String> out = new ArrayList<>();
        while (rs.next())
            out.add(rs.getString(name));
        rs.close();
        return out;
    }

    @Test
    void browseAsSuperUser() throws Exception {
        try (Connection c = Shared.newDatabase("meta"); Statement st = c.createStatement()) {
            String db = c.getCatalog();
            st.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, score DECIMAL(10,2) "
                       + "DEFAULT 0, born DATE, tags VARCHAR[])");
            st.execute("CREATE TABLE pairs (a INTEGER, b INTEGER, PRIMARY KEY (b, a))");
            st.execute("CREATE VIEW v_users AS SELECT id, name FROM users");
            st.execute("CREATE SCHEMA other");
            st.execute("CREATE TABLE other.elsewhere (x INTEGER)");
            DatabaseMetaData md = c.getMetaData();
            assertSame(c, md.getConnection());
            assertEquals("TCP-DuckDB", md.getDatabaseProductName());
            assertTrue(md.getDatabaseProductVersion().matches("v?\\d+\\.\\d+.*"), md.getDatabaseProductVersion());
            assertTrue(md.getDatabaseMajorVersion() >= 1);
            assertEquals("1.0", md.getDriverVersion());
            assertEquals(4, md.getJDBCMajorVersion());
            assertEquals(2, md.getJDBCMinorVersion());
            assertEquals("duck", md.getUserName());
            assertTrue(md.getURL().startsWith("jdbc:tcpduckdb://127.0.0.1:"), md.getURL());
            assertEquals("\"", md.getIdentifierQuoteString());
            assertTrue(md.supportsTransactions());
            assertTrue(md.supportsResultSetType(ResultSet.TYPE_FORWARD_ONLY));
            assertFalse(md.supportsResultSetType(ResultSet.TYPE_SCROLL_INSENSITIVE));
            assertEquals(List.of(db), column(md.getCatalogs(), "TABLE_CAT"));
            List<String> schemas = column(md.getSchemas(), "TABLE_SCHEM");
            assertTrue(schemas.contains("main") && schemas.contains("other"), schemas.toString());
            assertEquals(List.of("other"), column(md.getSchemas(db, "oth%"), "TABLE_SCHEM"));
            assertEquals(List.of("LOCAL TEMPORARY", "TABLE", "VIEW"), column(md.getTableTypes(), "TABLE_TYPE"));

            ResultSet t = md.getTables(null, "main", "%", null);
            List<String> seen = new ArrayList<>();
            while (t.next()) {
                assertEquals(db, t.getString("TABLE_CAT"));
                seen.add(t.getString("TABLE_NAME") + ":" + t.getString("TABLE_TYPE"));
            }
            assertEquals(List.of("pairs:TABLE", "users:TABLE", "v_users:VIEW"), seen);
            assertEquals(List.of("users"), column(md.getTables(db, null, "user_", new String[] {"TABLE"}), "TABLE_NAME"));
            assertEquals(List.of("v_users"), column(md.getTables(null, null, "%", new String[] {"VIEW"}), "TABLE_NAME"));
            assertEquals(List.of("elsewhere"), column(md.getTables(null, "other", null, null), "TABLE_NAME"));
            assertEquals(List.of(), column(md.getTables("no_such_db", null, "%", null), "TABLE_NAME"));
            // Escaped pattern characters match themselves.
            assertEquals(List.of("v_users"), column(md.getTables(null, null, "v\\_users", null), "TABLE_NAME"));
            assertEquals(List.of(), column(md.getTables(null, null, "vXusers\\_", null), "TABLE_NAME"));

            ResultSet cols = md.getColumns(null, "main", "users", "%");
            assertEquals(24, cols.getMetaData().getColumnCount());
            assertTrue(cols.next());
            assertEquals("id", cols.getString("COLUMN_NAME"));
            assertEquals(Types.INTEGER, cols.getInt("DATA_TYPE"));
            assertEquals("INTEGER", cols.getString("TYPE_NAME"));
            assertEquals(1, cols.getInt("ORDINAL_POSITION"));
            assertEquals(DatabaseMetaData.columnNoNulls, cols.getInt("NULLABLE"));
            assertEquals("NO", cols.getString("IS_NULLABLE"));
            assertTrue(cols.next());
            assertEquals("name", cols.getString("COLUMN_NAME"));
            assertEquals(Types.VARCHAR, cols.getInt("DATA_TYPE"));
            assertEquals("NO", cols.getString("IS_NULLABLE"));
            assertTrue(cols.next());
            assertEquals("score", cols.getString("COLUMN_NAME"));
            assertEquals(Types.DECIMAL, cols.getInt("DATA_TYPE"));
            assertEquals(10, cols.getInt("COLUMN_SIZE"));
            assertEquals(2, cols.getInt("DECIMAL_DIGITS"));
            assertEquals("YES", cols.getString("IS_NULLABLE"));
            assertNotNull(cols.getString("COLUMN_DEF"));
            assertTrue(cols.next());
            assertEquals(Types.DATE, cols.getInt("DATA_TYPE"));
            assertTrue(cols.next());
            assertEquals("VARCHAR[]", cols.getString("TYPE_NAME"));
            assertEquals(5, cols.getInt("ORDINAL_POSITION"));
            assertFalse(cols.next());
            assertEquals(List.of("id", "name"), column(md.getColumns(null, null, "v_users", null), "COLUMN_NAME"));
            assertEquals(List.of("name", "name"), column(md.getColumns(null, null, "%", "na%"), "COLUMN_NAME"));

            ResultSet pk = md.getPrimaryKeys(null, null, "pairs");
            assertTrue(pk.next());
            assertEquals("b", pk.getString("COLUMN_NAME"));
            assertEquals(1, pk.getShort("KEY_SEQ"));
            assertTrue(pk.next());
            assertEquals("a", pk.getString("COLUMN_NAME"));
            assertEquals(2, pk.getInt("KEY_SEQ"));
            assertFalse(pk.next());
            assertEquals(List.of("id"), column(md.getPrimaryKeys(db, "main", "users"), "COLUMN_NAME"));
            // Lists with no content here still have JDBC's columns.
            ResultSet fk = md.getImportedKeys(null, null, "users");
            assertEquals("PKTABLE_CAT", fk.getMetaData().getColumnName(1));
            assertFalse(fk.next());
            assertFalse(md.getExportedKeys(null, null, "users").next());
            assertFalse(md.getIndexInfo(null, null, "users", false, true).next());
            assertFalse(md.getProcedures(null, null, "%").next());
            assertFalse(md.getFunctions(null, null, "%").next());
            assertFalse(md.getUDTs(null, null, "%", null).next());
            assertFalse(md.getTablePrivileges(null, null, "%").next());
            assertFalse(md.getBestRowIdentifier(null, null, "users", 0, true).next());
            List<String> types = column(md.getTypeInfo(), "TYPE_NAME");
            assertTrue(types.contains("INTEGER") && types.contains("DECIMAL") && types.contains("VARCHAR"), types.toString());
            // A metadata result is an ordinary result: its statement, its metadata.
            ResultSet again = md.getTables(null, null, "users", null);
            assertEquals("TABLE_NAME", again.getMetaData().getColumnName(3));
            Statement owner = again.getStatement();
            assertNotNull(owner);
            again.close();
            assertTrue(owner.isClosed()); // closed with its result
        }
    }

    @Test
    void browseAsNormalUser() throws Exception {
        TestServer s = Shared.server();
        String db;
        try (Connection c = Shared.newDatabase("metauser"); Statement st = c.createStatement()) {
            db = c.getCatalog();
            st.execute("CREATE TABLE seen (id INTEGER, label VARCHAR)");
            st.execute("CREATE TABLE hidden (id INTEGER)");
        }
        s.command("create user browser_j pw1");
        s.command("grant database " + db + " browser_j read");
        s.command("grant table " + db + " seen browser_j select");
        try (Connection u = DriverManager.getConnection(s.url(db, "user=browser_j&password=pw1&sslmode=disable"))) {
            DatabaseMetaData md = u.getMetaData();
            assertEquals(List.of("seen"), column(md.getTables(null, null, "%", null), "TABLE_NAME"));
            assertEquals(List.of("main"), column(md.getSchemas(), "TABLE_SCHEM"));
            ResultSet cols = md.getColumns(null, null, "seen", null);
            assertTrue(cols.next());
            assertEquals("id", cols.getString("COLUMN_NAME"));
            assertEquals(Types.INTEGER, cols.getInt("DATA_TYPE"));
            assertEquals(DatabaseMetaData.columnNullableUnknown, cols.getInt("NULLABLE"));
            assertTrue(cols.next());
            assertEquals("label", cols.getString("COLUMN_NAME"));
            assertFalse(cols.next());
            assertEquals(List.of(), column(md.getColumns(null, null, "hidden", null), "COLUMN_NAME"));
            assertFalse(md.getPrimaryKeys(null, null, "seen").next());
            assertEquals("browser_j", md.getUserName());
        }
    }
}
