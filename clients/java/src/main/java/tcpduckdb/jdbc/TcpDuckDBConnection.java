package tcpduckdb.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What the driver's connections offer beyond JDBC; reach it with
 * {@code conn.unwrap(TcpDuckDBConnection.class)}.
 */
public interface TcpDuckDBConnection extends Connection {
    /**
     * Sends a server command ({@code create database x}, {@code grant ...}, {@code list users})
     * and returns its answer: null for {@code success}, else the answer's text (JSON for
     * {@code list}). An {@code Error:} answer throws as for SQL. Transaction commands are
     * refused: use commit() and rollback().
     */
    String command(String line) throws SQLException;

    /** "TLSv1.3" or "TLSv1.2" when the connection is encrypted, else null. */
    String getTlsProtocol();

    /**
     * Cancels whatever statement this connection is running, from any thread, through the
     * server's cancel request on a second connection (docs/protocol.md, "Cancel"); nothing
     * happens when none runs. Statement.cancel() does the same for its own statement only.
     */
    void cancelRunning() throws SQLException;
}
