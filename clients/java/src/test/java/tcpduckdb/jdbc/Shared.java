package tcpduckdb.jdbc;

import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;

/** One server for the test classes that need no settings of their own, stopped (and checked)
 * by the JVM's end through SharedServerExtension. */
final class Shared {
    private static TestServer server;
    private static final AtomicInteger DBS = new AtomicInteger();

    static synchronized TestServer server() throws Exception {
        if (server == null)
            server = new TestServer();
        return server;
    }

    static synchronized void stop() throws Exception {
        if (server != null) {
            TestServer s = server;
            server = null;
            s.close();
        }
    }

    /** A new database on the shared server, and a super-user connection to it. */
    static Connection newDatabase(String prefix) throws Exception {
        String name = prefix + "_" + DBS.incrementAndGet();
        server().command("create database " + name);
        return server().connect(name);
    }
}
