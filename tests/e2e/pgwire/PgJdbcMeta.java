import java.sql.*;

/*
 * pgjdbc's DatabaseMetaData against the front end (docs/pgwire.md#catalog):
 * prints each result as "== call" then one line of column labels and one
 * line per row, values joined by '|', for the test to compare.
 * Arguments: port database user password.
 */
public class PgJdbcMeta {
    static void dump(String call, ResultSet rs) throws SQLException {
        System.out.println("== " + call);
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        StringBuilder h = new StringBuilder();
        for (int i = 1; i <= n; i++)
            h.append(i > 1 ? "|" : "").append(md.getColumnLabel(i).toUpperCase());
        System.out.println(h);
        while (rs.next()) {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= n; i++)
                b.append(i > 1 ? "|" : "").append(rs.getString(i));
            System.out.println(b);
        }
        rs.close();
    }

    public static void main(String[] a) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + a[0] + "/" + a[1];
        try (Connection c = DriverManager.getConnection(url, a[2], a[3])) {
            DatabaseMetaData m = c.getMetaData();
            dump("getTables", m.getTables(null, null, "%", new String[] {"TABLE", "VIEW"}));
            dump("getTables public k%", m.getTables(null, "public", "k%", null));
            dump("getTables views", m.getTables(null, null, null, new String[] {"VIEW"}));
            dump("getColumns k", m.getColumns(null, null, "k", null));
            dump("getColumns t% a", m.getColumns(null, "public", "t%", "a"));
            dump("getPrimaryKeys k", m.getPrimaryKeys(null, "public", "k"));
            dump("getPrimaryKeys t1", m.getPrimaryKeys(null, null, "t1"));
            dump("getSchemas", m.getSchemas());
            dump("getSchemas x%", m.getSchemas(null, "x%"));
            dump("getCatalogs", m.getCatalogs());
            dump("getIndexInfo k", m.getIndexInfo(null, "public", "k", false, false));
            dump("getBestRowIdentifier k",
                 m.getBestRowIdentifier(null, "public", "k", DatabaseMetaData.bestRowSession,
                                        true));
            dump("getImportedKeys k", m.getImportedKeys(null, "public", "k"));
            dump("getTypeInfo", m.getTypeInfo());
            System.out.println("== product " + m.getDatabaseProductName() + " "
                               + m.getDatabaseMajorVersion());
        }
    }
}
