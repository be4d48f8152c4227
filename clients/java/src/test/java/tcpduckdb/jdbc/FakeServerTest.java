package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The fall-backs that no real server shows on demand, against a fake one: a statement that a
 * cancel does not stop (the query timeout sends it three times, then closes the socket), a
 * server without cancel requests, answers the driver cannot understand.
 */
class FakeServerTest {
    /** Answers login, session key (keyAnswer) and cancel; a typed query gets queryAnswer, or
     * nothing when it is null. Records every request. */
    static final class Fake implements AutoCloseable {
        final ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<String> requests = new CopyOnWriteArrayList<>();
        final List<Socket> sockets = new CopyOnWriteArrayList<>();

        Fake(String keyAnswer, String queryAnswer) throws IOException {
            Thread t = new Thread(() -> {
                try {
                    for (;;) {
                        Socket s = ss.accept();
                        sockets.add(s);
                        Thread c = new Thread(() -> serve(s, keyAnswer, queryAnswer), "fake-conn");
                        c.setDaemon(true);
                        c.start();
                    }
                } catch (IOException e) {
                    // closed
                }
            }, "fake-accept");
            t.setDaemon(true);
            t.start();
        }

        void serve(Socket s, String keyAnswer, String queryAnswer) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                OutputStream out = s.getOutputStream();
                String line;
                while ((line = in.readLine()) != null) {
                    requests.add(line);
                    String ans;
                    if (line.startsWith("login ") || line.startsWith("cancel "))
                        ans = "success";
                    else if (line.equals("session key"))
                        ans = keyAnswer;
                    else if (line.startsWith("query ") && queryAnswer != null)
                        ans = queryAnswer;
                    else if (line.startsWith("query "))
                        continue; // a statement that never ends
                    else
                        ans = "success";
                    out.write((ans + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (line.startsWith("cancel "))
                        return;
                }
            } catch (IOException e) {
                // the client left
            }
        }

        String url() {
            return "jdbc:tcpduckdb://127.0.0.1:" + ss.getLocalPort() + "/?user=u&password=p&sslmode=disable";
        }

        long count(String prefix) {
            return requests.stream().filter(r -> r.startsWith(prefix)).count();
        }

        /** Closes the listening socket and every connection. */
        void shutdown() throws IOException {
            ss.close();
            for (Socket s : sockets)
                s.close();
        }

        @Override
        public void close() throws IOException {
            shutdown();
        }
    }

    static final String KEY = "{\"session\":7,\"key\":\"0123456789abcdef0123456789ABCDEF\"}";

    @Test
    void cancelWithoutEffectClosesTheConnection() throws Exception {
        try (Fake f = new Fake(KEY, null); Connection c = DriverManager.getConnection(f.url());
             Statement st = c.createStatement()) {
            st.setQueryTimeout(1);
            SQLTimeoutException e = assertThrows(SQLTimeoutException.class, () -> st.executeQuery("SELECT 1"));
            assertTrue(e.getMessage().contains("query timeout"), e.getMessage());
            assertEquals(3, f.count("cancel 7 0123456789abcdef0123456789ABCDEF"), f.requests.toString());
            // The connection was closed: it is out of step with the server.
            SQLException later = assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1"));
            assertEquals("08006", later.getSQLState());
            assertFalse(c.isValid(1));
        }
    }

    @Test
    void serverWithoutCancelRequests() throws Exception {
        try (Fake f = new Fake("Error: Bad Request: unknown command", null);
             Connection c = DriverManager.getConnection(f.url()); Statement st = c.createStatement()) {
            // No key: cancel cannot be sent; a query timeout closes the socket at once.
            assertThrows(SQLException.class, () -> c.unwrap(TdbConnection.class).sendCancel());
            st.setQueryTimeout(1);
            assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1"));
            assertEquals(0, f.count("cancel"));
            assertTrue(c.unwrap(TdbConnection.class).isBroken());
        }
    }

    @Test
    void answersTheDriverCannotUnderstand() throws Exception {
        try (Fake f = new Fake("{\"session\":0,\"key\":\"zz\"}", null)) {
            SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(f.url()));
            assertEquals("08P01", e.getSQLState());
        }
        try (Fake f = new Fake(KEY, "{\"columns\":[{\"name\":\"a\",\"type\":\"INTEGER\"}],\"rows\":[[1],[2,3]]}");
             Connection c = DriverManager.getConnection(f.url()); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT a");
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
            SQLException e = assertThrows(SQLException.class, rs::next);
            assertEquals("08P01", e.getSQLState());
            assertTrue(c.unwrap(TdbConnection.class).isBroken());
        }
        try (Fake f = new Fake(KEY, "{\"columns\":[{\"name\":\"a\",\"type\":\"INTEGER\"}],\"rows\":[[1]");
             Connection c = DriverManager.getConnection(f.url()); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT a");
            assertTrue(rs.next());
            // A cut answer must be followed by an error line; here it is followed by silence,
            // then the end of the connection.
            f.shutdown();
            SQLException e = assertThrows(SQLException.class, rs::next);
            assertTrue(e.getSQLState().startsWith("08"), e.getSQLState());
        }
    }
}
