package tcpduckdb.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One session on the server: login, the connected database, the transaction. JDBC callers use
 * a connection from one thread at a time; only cancel (Statement.cancel, cancelRunning, the
 * query-timeout timer) and close may come from another thread, and they touch the session only
 * through the cancel request on a second connection and {@link Wire#abort}.
 *
 * <p>Cancel, as PostgreSQL's drivers do it: {@code session key} is asked once after login; a
 * cancel opens a second connection with the same host, port and TLS settings and sends
 * {@code cancel ID KEY}. Each request has a {@link Request} whose lock the cancel holds while
 * it sends: the request's end waits for it, so a cancel can never reach the next request.
 */
final class TdbConnection extends ConnectionStubs implements TcpDuckDBConnection {
    /** Timers of query timeouts: one daemon thread for the whole driver. */
    static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "tcpduckdb-timeout");
        t.setDaemon(true);
        return t;
    });

    static {
        TIMER.setRemoveOnCancelPolicy(true);
    }

    /** How long a cancel's own connection may take, and how long a timed-out request then has
     * to answer before the socket is closed (a cancel that reaches the server before the
     * statement starts does nothing, as in PostgreSQL). */
    static final int CANCEL_TIMEOUT_MS = 5000;
    static final int CANCEL_GRACE_MS = 2000;
    static final int CANCEL_TRIES = 3;

    /** A request in flight, from its send to the end of its answer (rows included). */
    static final class Request {
        final TdbStatement owner;
        final int timeoutSeconds;
        boolean finished; // under this
        boolean answered; // the answer's head has arrived (under this)
        boolean timedOut; // the query timeout fired and sent the cancel (under this)
        int cancels; // how many grace periods have passed since the timeout's cancel (under this)
        ScheduledFuture<?> timer;
        ScheduledFuture<?> grace;

        Request(TdbStatement owner, int timeoutSeconds) {
            this.owner = owner;
            this.timeoutSeconds = timeoutSeconds;
        }
    }

    /** The start of an answer. */
    static final class Answer {
        static final int ROWS = 0, CHANGED = 1, SUCCESS = 2, TEXT = 3;
        int kind;
        long changed;
        String text;
        TdbResultSet rows;
    }

    final Config cfg;
    final Wire wire;
    private final String cancelKey; // "ID KEY", or null: not logged in / no cancel requests
    private String database;
    private boolean autoCommit = true;
    boolean inTx;
    private volatile boolean closed;
    private volatile boolean broken;
    private volatile Request current;
    /** The result whose rows are still on the wire, if any. */
    TdbResultSet active;
    private final Set<TdbStatement> statements = Collections.newSetFromMap(new WeakHashMap<>());
    private int holdability = ResultSet.CLOSE_CURSORS_AT_COMMIT;

    private TdbConnection(Config cfg, Wire wire, String cancelKey) {
        this.cfg = cfg;
        this.wire = wire;
        this.cancelKey = cancelKey;
        this.database = cfg.database;
    }

    /** Opens a session: TCP, starttls as sslmode asks, login, session key, connect DATABASE,
     * all within connect_timeout. */
    static TdbConnection open(Config cfg) throws SQLException {
        Wire w = Wire.open(cfg);
        TdbConnection c = null;
        try {
            String key = null;
            if (cfg.user != null) {
                simple(w, "login " + quoteWord(cfg.user) + " " + quoteWord(cfg.password));
                key = sessionKey(w);
            }
            if (cfg.database != null)
                simple(w, "connect " + quoteWord(cfg.database));
            w.timeout(0);
            c = new TdbConnection(cfg, w, key);
            return c;
        } catch (IOException e) {
            throw Errors.connect("connection to " + cfg.address() + " lost while opening it: "
                                 + e.getMessage(), e);
        } finally {
            if (c == null)
                w.abort();
        }
    }

    /** A command during set-up: its answer text (null for success), or its error. */
    private static String simple(Wire w, String line) throws IOException, SQLException {
        w.send(line);
        String ans = w.readLine();
        if (ans.startsWith("Error: "))
            throw Errors.server(ans.substring(7));
        return ans.equals("success") ? null : ans;
    }

    private static final Pattern SESSION_KEY =
            Pattern.compile("^\\{\"session\":([1-9][0-9]*),\"key\":\"([0-9a-fA-F]{32})\"\\}$");

    /** "ID KEY" for `cancel`, or null from a server that answers `session key` with an error. */
    private static String sessionKey(Wire w) throws IOException, SQLException {
        String ans;
        try {
            ans = simple(w, "session key");
        } catch (SQLException e) {
            if (Errors.code(e) != null)
                return null;
            throw e;
        }
        Matcher m = SESSION_KEY.matcher(ans == null ? "" : ans);
        if (!m.matches())
            throw Errors.protocol("unexpected answer to session key: " + Wire.shorten(String.valueOf(ans)));
        return m.group(1) + " " + m.group(2);
    }

    /** A command argument, double-quoted as the server's word splitter reads it. */
    static String quoteWord(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    // ---- requests

    void checkOpen() throws SQLException {
        if (closed)
            throw Errors.closed("the connection");
        if (broken)
            throw Errors.lost("the connection was lost or closed after a failure; open another", null);
    }

    boolean isBroken() {
        return broken;
    }

    void markBroken() {
        broken = true;
        wire.abort();
    }

    /** Makes the wire free for a new request: a result still streaming is read into memory. */
    void settle() throws SQLException {
        if (active != null) {
            TdbResultSet r = active;
            active = null;
            r.bufferRest();
        }
    }

    void register(TdbStatement s) {
        statements.add(s);
    }

    /** Runs one SQL request (a typed `query {...}`) for owner, in the transaction that
     * autocommit off asks for. */
    Answer sql(TdbStatement owner, String request, int timeoutSeconds) throws SQLException {
        checkOpen();
        settle();
        if (!autoCommit && !inTx) {
            roundtrip(null, "begin", 0);
            inTx = true;
        }
        return roundtrip(owner, request, timeoutSeconds);
    }

    private static final Pattern CHANGED = Pattern.compile("^\\{\"changed\":(\\d+)\\}$");

    /** Sends one request and reads the start of its answer. */
    Answer roundtrip(TdbStatement owner, String text, int timeoutSeconds) throws SQLException {
        checkOpen();
        settle();
        Request r = new Request(owner, timeoutSeconds);
        current = r;
        if (timeoutSeconds > 0)
            r.timer = TIMER.schedule(() -> timeoutFired(r), timeoutSeconds, TimeUnit.SECONDS);
        Answer a = new Answer();
        try {
            wire.send(text);
            if (wire.startsWith("{\"columns\":")) {
                answered(r);
                a.kind = Answer.ROWS;
                a.rows = TdbResultSet.stream(this, r, owner);
                active = a.rows;
                return a;
            }
            String line = wire.readLine();
            finish(r);
            if (line.startsWith("Error: "))
                throw failure(r, Errors.server(line.substring(7)));
            if (line.equals("success") || line.equals("{\"success\":true}")) {
                a.kind = Answer.SUCCESS;
                return a;
            }
            Matcher m = CHANGED.matcher(line);
            if (m.matches()) {
                a.kind = Answer.CHANGED;
                a.changed = Long.parseLong(m.group(1));
                return a;
            }
            a.kind = Answer.TEXT;
            a.text = line;
            return a;
        } catch (IOException e) {
            throw lost(r, e);
        } catch (SQLException e) {
            finish(r);
            throw e;
        }
    }

    /** The exception for a failed request: a Canceled answer to a request whose query timeout
     * fired is a SQLTimeoutException. */
    SQLException failure(Request r, SQLException e) {
        boolean timedOut;
        synchronized (r) {
            timedOut = r.timedOut;
        }
        if (timedOut && "CANCELED".equals(Errors.code(e)))
            return Errors.timeout(e, r.timeoutSeconds);
        return e;
    }

    /** The connection failed during r: it is dropped. */
    SQLException lost(Request r, IOException e) {
        boolean timedOut;
        synchronized (r) {
            timedOut = r.timedOut;
        }
        finish(r);
        boolean wasClosed = closed;
        markBroken();
        if (timedOut)
            return Errors.timeout(Errors.lost("the statement did not stop after its cancel; the "
                                              + "connection was closed", e), r.timeoutSeconds);
        if (wasClosed)
            return Errors.closed("the connection");
        return Errors.lost("connection to " + cfg.address() + " lost: " + e.getMessage(), e);
    }

    /** The head of r's answer has arrived: the query timeout no longer applies. */
    void answered(Request r) {
        if (r.timer != null)
            r.timer.cancel(false);
        synchronized (r) { // waits for a cancel being sent
            r.answered = true;
            if (r.grace != null)
                r.grace.cancel(false);
        }
    }

    /** r's answer is over. Waits for a cancel of r being sent, so it never hits the next one. */
    void finish(Request r) {
        if (r.timer != null)
            r.timer.cancel(false);
        synchronized (r) {
            r.finished = true;
            if (r.grace != null)
                r.grace.cancel(false);
        }
        if (current == r)
            current = null;
    }

    private void timeoutFired(Request r) {
        synchronized (r) {
            if (r.finished || r.answered)
                return;
            r.timedOut = true;
            try {
                sendCancel();
            } catch (SQLException e) {
                markBroken(); // no cancel: closing the socket makes the server stop the statement
                return;
            }
            r.grace = TIMER.schedule(() -> graceOver(r), CANCEL_GRACE_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** The timed-out request has not answered CANCEL_GRACE_MS after its cancel: the cancel may
     * have come before the statement started (then it does nothing), so it is sent again, up to
     * CANCEL_TRIES times in all; then the socket is closed. */
    private void graceOver(Request r) {
        synchronized (r) {
            if (r.finished || r.answered)
                return;
            if (++r.cancels < CANCEL_TRIES) {
                try {
                    sendCancel();
                    r.grace = TIMER.schedule(() -> graceOver(r), CANCEL_GRACE_MS, TimeUnit.MILLISECONDS);
                    return;
                } catch (SQLException e) {
                    // closing the socket below stops the statement
                }
            }
            markBroken();
        }
    }

    /** Cancels the request of owner (any owner when null) if it is still running. */
    void cancel(TdbStatement owner) throws SQLException {
        Request r = current;
        if (r == null || (owner != null && r.owner != owner))
            return;
        synchronized (r) {
            if (r.finished)
                return;
            sendCancel();
        }
    }

    /** Sends `cancel ID KEY` on a second connection with this one's host, port and TLS
     * settings; the server answers `success` whatever happened and closes it. */
    void sendCancel() throws SQLException {
        if (cancelKey == null)
            throw Errors.usage("the connection has no cancel key (not logged in, or the server has "
                               + "no cancel requests)");
        Config cc = new Config();
        cc.host = cfg.host;
        cc.port = cfg.port;
        cc.sslMode = cfg.sslMode;
        cc.sslRootCert = cfg.sslRootCert;
        cc.sslCert = cfg.sslCert;
        cc.sslKey = cfg.sslKey;
        cc.connectTimeoutMillis = Math.min(CANCEL_TIMEOUT_MS, cfg.connectTimeoutMillis);
        Wire w = Wire.open(cc);
        try {
            w.send("cancel " + cancelKey);
            String line = w.readLine();
            if (!line.equals("success"))
                throw Errors.protocol("unexpected answer to cancel: " + Wire.shorten(line));
        } catch (IOException e) {
            throw Errors.lost("the cancel request failed: " + e.getMessage(), e);
        } finally {
            w.abort();
        }
    }

    private static final Map<String, String> TX_FORMS = new HashMap<>();

    static {
        for (String s : new String[] {"start transaction", "begin", "begin transaction"})
            TX_FORMS.put(s, "begin");
        for (String s : new String[] {"commit", "commit transaction", "end", "end transaction"})
            TX_FORMS.put(s, "commit");
        for (String s : new String[] {"rollback", "rollback transaction", "abort", "abort transaction"})
            TX_FORMS.put(s, "rollback");
    }

    /** "begin", "commit", "rollback" for a transaction statement, else null. */
    static String transactionStatement(String sql) {
        String s = sql.trim();
        while (s.endsWith(";"))
            s = s.substring(0, s.length() - 1).trim();
        if (s.length() > 40)
            return null;
        return TX_FORMS.get(String.join(" ", s.toLowerCase(java.util.Locale.ROOT).split("\\s+")));
    }

    // ---- TcpDuckDBConnection

    @Override
    public String command(String line) throws SQLException {
        checkOpen();
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0)
            throw Errors.usage("a command is one line");
        if (transactionStatement(line) != null)
            throw Errors.usage("use commit() and rollback() (and setAutoCommit) for transactions");
        String[] words = line.trim().split("\\s+", 2);
        if (words[0].equalsIgnoreCase("connect") || words[0].equalsIgnoreCase("disconnect"))
            throw Errors.usage("use setCatalog(name) to connect to another database");
        Answer a = roundtrip(null, line, 0);
        if (a.kind == Answer.ROWS) {
            a.rows.close();
            return null;
        }
        return a.kind == Answer.TEXT ? a.text : null;
    }

    @Override
    public String getTlsProtocol() {
        return wire.tlsProtocol();
    }

    @Override
    public void cancelRunning() throws SQLException {
        cancel(null);
    }

    String databaseName() {
        return database;
    }

    // ---- Connection

    @Override
    public Statement createStatement() throws SQLException {
        return createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
    }

    @Override
    public Statement createStatement(int type, int concurrency) throws SQLException {
        return createStatement(type, concurrency, holdability);
    }

    @Override
    public Statement createStatement(int type, int concurrency, int holdability) throws SQLException {
        checkOpen();
        checkResultSetKind(type, concurrency);
        TdbStatement s = new TdbStatement(this);
        register(s);
        return s;
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        checkOpen();
        TdbPreparedStatement s = new TdbPreparedStatement(this, sql);
        register(s);
        return s;
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency) throws SQLException {
        checkResultSetKind(type, concurrency);
        return prepareStatement(sql);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency, int holdability)
            throws SQLException {
        checkResultSetKind(type, concurrency);
        return prepareStatement(sql);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        if (autoGeneratedKeys != Statement.NO_GENERATED_KEYS)
            throw Unsupported.method("generated keys (use INSERT ... RETURNING)");
        return prepareStatement(sql);
    }

    private static void checkResultSetKind(int type, int concurrency) throws SQLException {
        if (type != ResultSet.TYPE_FORWARD_ONLY)
            throw Unsupported.method("scrollable result sets (only TYPE_FORWARD_ONLY)");
        if (concurrency != ResultSet.CONCUR_READ_ONLY)
            throw Unsupported.method("updatable result sets (only CONCUR_READ_ONLY)");
    }

    @Override
    public String nativeSQL(String sql) throws SQLException {
        checkOpen();
        return sql;
    }

    @Override
    public void setAutoCommit(boolean on) throws SQLException {
        checkOpen();
        if (on == autoCommit)
            return;
        if (on && inTx)
            commit();
        autoCommit = on;
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        checkOpen();
        return autoCommit;
    }

    @Override
    public void commit() throws SQLException {
        checkOpen();
        if (autoCommit)
            throw Errors.usage("commit() with autocommit on");
        endTransaction("commit");
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        if (autoCommit)
            throw Errors.usage("rollback() with autocommit on");
        endTransaction("rollback");
    }

    /** Sends commit or rollback when a transaction is open; it is over either way (a commit
     * of a transaction DuckDB aborted answers TRANSACTION_ABORTED: it was rolled back). */
    void endTransaction(String word) throws SQLException {
        if (!inTx)
            return;
        inTx = false;
        roundtrip(null, word, 0);
    }

    @Override
    public void close() throws SQLException {
        if (closed)
            return;
        closed = true;
        // A request still in flight (a result not read to its end, or a call on another
        // thread): the socket is closed first, so its rest is not read; the server stops the
        // statement of a client that is gone within about 0.1 s and rolls back its transaction.
        if (current != null)
            markBroken();
        for (TdbStatement s : statements.toArray(new TdbStatement[0]))
            s.closeQuietly();
        if (!broken && active == null && current == null) {
            try {
                wire.send("quit"); // the server rolls back an open transaction
            } catch (IOException e) {
                // closing anyway
            }
        }
        broken = true;
        wire.abort();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        checkOpen();
        return new TdbDatabaseMetaData(this);
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        checkOpen();
        if (readOnly)
            throw Unsupported.method("read-only connections");
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        checkOpen();
        return false;
    }

    /** Connects the session to another database (the server's `connect`); refused in a
     * transaction, as the server refuses it. */
    @Override
    public void setCatalog(String catalog) throws SQLException {
        checkOpen();
        if (catalog == null || catalog.equals(database))
            return;
        if (inTx)
            throw Errors.usage("cannot change the database inside a transaction");
        roundtrip(null, "connect " + quoteWord(catalog), 0);
        database = catalog;
    }

    @Override
    public String getCatalog() throws SQLException {
        checkOpen();
        return database;
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        checkOpen();
        if (schema != null && !schema.equals("main"))
            throw Unsupported.method("setSchema (the schema is main)");
    }

    @Override
    public String getSchema() throws SQLException {
        checkOpen();
        return database == null ? null : "main";
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        checkOpen();
        // DuckDB's transactions are snapshot isolated and abort on a write conflict: as strong
        // as SERIALIZABLE for what JDBC asks of it; the weaker levels are given that.
        if (level != TRANSACTION_SERIALIZABLE && level != TRANSACTION_REPEATABLE_READ
            && level != TRANSACTION_READ_COMMITTED && level != TRANSACTION_READ_UNCOMMITTED)
            throw Errors.usage("unknown transaction isolation level " + level);
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        checkOpen();
        return TRANSACTION_SERIALIZABLE;
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        return null;
    }

    @Override
    public void clearWarnings() throws SQLException {
        checkOpen();
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        checkOpen();
        return new HashMap<>();
    }

    @Override
    public void setHoldability(int h) throws SQLException {
        checkOpen();
        if (h != ResultSet.CLOSE_CURSORS_AT_COMMIT && h != ResultSet.HOLD_CURSORS_OVER_COMMIT)
            throw Errors.usage("unknown holdability " + h);
        holdability = h;
    }

    @Override
    public int getHoldability() throws SQLException {
        checkOpen();
        return holdability;
    }

    /** Whether the session answers within timeout seconds (0: no limit). */
    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (timeout < 0)
            throw Errors.usage("isValid: negative timeout");
        if (closed || broken)
            return false;
        if (active != null || current != null)
            return true; // busy with a result: alive, and a ping would disturb it
        try {
            wire.timeout(timeout * 1000);
            String probe = database != null ? "query {\"sql\":\"SELECT 1\"}" : cfg.user != null ? "list limits" : "help";
            wire.send(probe);
            if (wire.startsWith("{\"columns\":")) {
                wire.skipLine(-1);
            } else {
                String line = wire.readLine();
                // An answer the server sent before closing (Idle Timeout, Server Shutting Down).
                if (line.startsWith("Error: ") && Errors.server(line.substring(7)).getSQLState().startsWith("08")) {
                    markBroken();
                    return false;
                }
            }
            wire.timeout(0);
            return true;
        } catch (IOException e) {
            markBroken();
            return false;
        }
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        Map<String, java.sql.ClientInfoStatus> failed = new HashMap<>();
        failed.put(name, java.sql.ClientInfoStatus.REASON_UNKNOWN_PROPERTY);
        throw new SQLClientInfoException("tcpduckdb: no client info properties", failed);
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        if (properties.isEmpty())
            return;
        Map<String, java.sql.ClientInfoStatus> failed = new HashMap<>();
        for (String n : properties.stringPropertyNames())
            failed.put(n, java.sql.ClientInfoStatus.REASON_UNKNOWN_PROPERTY);
        throw new SQLClientInfoException("tcpduckdb: no client info properties", failed);
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        checkOpen();
        return null;
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        checkOpen();
        return new Properties();
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (executor == null)
            throw Errors.usage("abort: executor is null");
        closed = true;
        markBroken();
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        checkOpen();
        return 0;
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
