/*
 * pgjdbc (Debian's libpostgresql-jdbc-java) against the PostgreSQL front end, compiled and
 * run by tests/e2e/test_pgwire.py: a Statement, a PreparedStatement run 10 times (from its
 * 5th execution pgjdbc uses a named server-side statement and binary results), setFetchSize
 * inside a transaction (Execute with a row limit, PortalSuspended), SQLSTATEs and rollback.
 * Usage: java PgJdbcTest PORT DATABASE USER PASSWORD; prints "ok" or throws.
 */
import java.sql.*;

public class PgJdbcTest {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/" + args[1];
        try (Connection c = DriverManager.getConnection(url, args[2], args[3])) {
            try (Statement st = c.createStatement()) {
                st.execute("drop table if exists j");
                st.execute("create table j(id int, name varchar, v double, d date)");
                try (ResultSet rs = st.executeQuery("select 1 as one, 'x' as s")) {
                    check(rs.next() && rs.getInt(1) == 1 && rs.getString("s").equals("x"), "select");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into j values (?, ?, ?, ?)")) {
                for (int i = 0; i < 10; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "n" + i);
                    ps.setDouble(3, i * 1.5);
                    ps.setDate(4, Date.valueOf("2024-01-0" + (1 + i % 9)));
                    check(ps.executeUpdate() == 1, "insert " + i);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("select id, name, v, d from j where id = ?")) {
                for (int i = 0; i < 10; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        check(rs.next(), "row " + i);
                        check(rs.getInt(1) == i && rs.getString(2).equals("n" + i)
                              && rs.getDouble(3) == i * 1.5, "values " + i);
                        check(rs.getDate(4).toString().equals("2024-01-0" + (1 + i % 9)), "date " + i + " " + rs.getDate(4));
                        check(!rs.next(), "one row " + i);
                    }
                }
            }
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(3);
                int n = 0;
                try (ResultSet rs = st.executeQuery("select id from j order by id")) {
                    while (rs.next()) {
                        check(rs.getInt(1) == n, "fetch " + n);
                        n++;
                    }
                }
                check(n == 10, "fetched " + n);
                try {
                    st.executeQuery("select * from nope");
                    check(false, "no error");
                } catch (SQLException e) {
                    check(e.getSQLState().equals("42P01"), "state " + e.getSQLState());
                }
                c.rollback();
                try (ResultSet rs = st.executeQuery("select count(*) from j")) {
                    check(rs.next() && rs.getLong(1) == 10, "count");
                }
                c.commit();
            }
            try (Statement st = c.createStatement()) {
                st.executeUpdate("update j set v = 0 where id < 5");
                c.commit();
                check(c.getMetaData().getDatabaseProductVersion().startsWith("15"), "version");
            }
        }
        System.out.println("ok");
    }
}
