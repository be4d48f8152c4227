package tcpduckdb.jdbc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.sql.Date;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.sql.Time;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A forward-only, read-only result. A server result is read row by row straight off the
 * connection as the server streams it ({@code {"columns":[...],"rows":[[...],...]}} on one
 * line, docs/protocol.md): memory holds the wire's 64 KiB buffer and one row whatever the
 * result size. When the connection is needed for another request while this result is still
 * open, its rest is read into memory first (bufferRest). An error in the middle of the result
 * (the line ends without {@code ]}} and an {@code Error:} line follows) is thrown by next()
 * after the rows before it. Metadata results are built in memory (local).
 */
final class TdbResultSet extends ResultSetStubs {
    /** How much of an abandoned result close() reads and drops before it cancels the statement. */
    static final long DRAIN_LIMIT = 4 << 20;

    private final TdbConnection conn; // null for a local result
    private final TdbConnection.Request request;
    private final TdbStatement owner;
    final List<Column> columns;
    private final Deque<Object[]> buffered = new ArrayDeque<>();
    private SQLException pending; // thrown once the buffered rows are read
    private boolean streaming; // rows still on the wire
    private boolean first = true; // no row read off the wire yet
    private boolean closed;
    private Object[] row;
    private long rowNumber;
    private long limit;
    private int fetchSize;
    private boolean wasNull;

    private TdbResultSet(TdbConnection conn, TdbConnection.Request request, TdbStatement owner,
                         List<Column> columns) {
        this.conn = conn;
        this.request = request;
        this.owner = owner;
        this.columns = columns;
    }

    /** Reads the head of a typed row answer (the wire is at {@code {"columns":}). */
    static TdbResultSet stream(TdbConnection conn, TdbConnection.Request request, TdbStatement owner)
            throws SQLException, IOException {
        Wire w = conn.wire;
        List<Column> cols = new ArrayList<>();
        try {
            w.expect('{');
            if (!"columns".equals(w.value()))
                throw Errors.protocol("expected columns");
            w.expect(':');
            Object list = w.value();
            if (!(list instanceof List))
                throw Errors.protocol("expected a list of columns");
            for (Object o : (List<?>) list) {
                if (!(o instanceof Map))
                    throw Errors.protocol("bad column");
                Map<?, ?> m = (Map<?, ?>) o;
                Object name = m.get("name"), type = m.get("type");
                if (!(name instanceof String) || !(type instanceof String))
                    throw Errors.protocol("bad column");
                cols.add(new Column((String) name, (String) type));
            }
            w.expect(',');
            if (!"rows".equals(w.value()))
                throw Errors.protocol("expected rows");
            w.expect(':');
            w.expect('[');
        } catch (Wire.Cut e) {
            throw Errors.protocol("an answer ended inside its column list");
        } catch (SQLException e) {
            conn.markBroken();
            throw e;
        }
        TdbResultSet r = new TdbResultSet(conn, request, owner, cols);
        r.streaming = true;
        return r;
    }

    /** A result built in memory (metadata). */
    static TdbResultSet local(TdbStatement owner, List<Column> columns, List<Object[]> rows) {
        TdbResultSet r = new TdbResultSet(null, null, owner, columns);
        r.buffered.addAll(rows);
        return r;
    }

    void limit(long maxRows) {
        limit = maxRows;
    }

    // ---- reading rows

    /** The next row off the wire, or null at the end of the answer. */
    private Object[] readRow() throws SQLException {
        Wire w = conn.wire;
        try {
            try {
                int c = w.look();
                if (c == ']') {
                    w.skip();
                    w.expect('}');
                    if (w.skipLine(16) < 0)
                        throw Errors.protocol("trailing data after the rows");
                    endStream();
                    return null;
                }
                if (!first) {
                    if (c != ',')
                        throw Errors.protocol("bad row separator");
                    w.skip();
                }
                first = false;
                w.expect('[');
                Object[] out = new Object[columns.size()];
                for (int i = 0; i < out.length; i++) {
                    if (i > 0)
                        w.expect(',');
                    out[i] = w.value();
                }
                w.expect(']');
                return out;
            } catch (Wire.Cut e) {
                // The line ended without `]}`: the query failed after these rows.
                w.skipLine(-1);
                String line = w.readLine();
                endStream();
                if (line.startsWith("Error: "))
                    throw conn.failure(request, Errors.server(line.substring(7)));
                conn.markBroken();
                throw Errors.protocol("a cut row answer was not followed by an error");
            }
        } catch (IOException e) {
            streaming = false;
            if (conn.active == this)
                conn.active = null;
            throw conn.lost(request, e);
        } catch (SQLException e) {
            if (streaming) { // a malformed answer: the connection is out of step
                streaming = false;
                if (conn.active == this)
                    conn.active = null;
                conn.finish(request);
                conn.markBroken();
            }
            throw e;
        }
    }

    private void endStream() {
        streaming = false;
        if (conn.active == this)
            conn.active = null;
        conn.finish(request);
    }

    /** Reads the rest of the rows into memory, so the connection can take another request. */
    void bufferRest() {
        try {
            while (streaming) {
                Object[] r = readRow();
                if (r != null)
                    buffered.add(r);
            }
        } catch (SQLException e) {
            pending = e;
        }
    }

    @Override
    public boolean next() throws SQLException {
        checkOpen();
        if (limit > 0 && rowNumber >= limit) {
            row = null;
            drain();
            return false;
        }
        row = buffered.poll();
        if (row == null && pending != null) {
            SQLException e = pending;
            pending = null;
            throw e;
        }
        if (row == null && streaming)
            row = readRow();
        if (row == null)
            return false;
        rowNumber++;
        return true;
    }

    /** Whether a row follows the current one; reads it ahead off the wire if need be (an error
     * there is kept for next()). */
    private boolean hasMore() throws SQLException {
        checkOpen();
        if (limit > 0 && rowNumber >= limit)
            return false;
        if (!buffered.isEmpty() || pending != null)
            return true;
        if (!streaming)
            return false;
        try {
            Object[] r = readRow();
            if (r == null)
                return false;
            buffered.add(r);
        } catch (SQLException e) {
            pending = e;
        }
        return true;
    }

    @Override
    public boolean isBeforeFirst() throws SQLException {
        return rowNumber == 0 && hasMore();
    }

    @Override
    public boolean isFirst() throws SQLException {
        checkOpen();
        return rowNumber == 1 && row != null;
    }

    @Override
    public boolean isLast() throws SQLException {
        return row != null && !hasMore();
    }

    @Override
    public boolean isAfterLast() throws SQLException {
        return row == null && rowNumber > 0 && !hasMore();
    }

    /** Drops the rest of a streaming answer: up to DRAIN_LIMIT bytes are read and discarded
     * without decoding; a longer rest is ended by cancelling the statement and reading the
     * short rest within the cancel grace. Inside a transaction the whole rest is read: a
     * cancel would abort the transaction (as the C, Go, Node and Python clients do). When
     * that cannot be done the connection is closed (the server stops the statement of a
     * client that is gone within about 0.1 s). */
    private void drain() {
        if (!streaming)
            return;
        Wire w = conn.wire;
        try {
            int ended = w.skipLine(conn.inTx ? -1 : DRAIN_LIMIT);
            if (ended < 0) {
                conn.sendCancel();
                w.timeout(TdbConnection.CANCEL_GRACE_MS);
                ended = w.skipLine(-1);
                w.timeout(0);
            }
            if (ended == 0)
                w.readLine(); // the error line after a cut answer
            endStream();
        } catch (IOException | SQLException e) {
            streaming = false;
            if (conn.active == this)
                conn.active = null;
            conn.finish(request);
            conn.markBroken();
        }
    }

    @Override
    public void close() throws SQLException {
        if (closed)
            return;
        closed = true;
        row = null;
        buffered.clear();
        if (streaming)
            drain();
        if (owner != null)
            owner.resultClosed(this);
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() throws SQLException {
        if (closed)
            throw Errors.closed("the result set");
    }

    private Object raw(int col) throws SQLException {
        checkOpen();
        if (row == null)
            throw Errors.usage("no current row (call next() first)");
        if (col < 1 || col > columns.size())
            throw Errors.usage("column index " + col + " out of range 1.." + columns.size());
        Object v = row[col - 1];
        wasNull = v == null;
        return v;
    }

    @Override
    public boolean wasNull() throws SQLException {
        checkOpen();
        return wasNull;
    }

    @Override
    public int findColumn(String label) throws SQLException {
        checkOpen();
        for (int i = 0; i < columns.size(); i++)
            if (columns.get(i).name.equalsIgnoreCase(label))
                return i + 1;
        throw Errors.usage("no column named " + label);
    }

    // ---- conversions (README.md, "Types")

    private Column column(int col) {
        return columns.get(col - 1);
    }

    @Override
    public String getString(int col) throws SQLException {
        Object v = raw(col);
        if (v == null || v instanceof String)
            return (String) v;
        if (v instanceof Wire.Num || v instanceof Boolean)
            return v.toString();
        return Json.write(v);
    }

    private BigDecimal decimal(int col, Object v) throws SQLException {
        try {
            if (v instanceof Wire.Num)
                return new BigDecimal(((Wire.Num) v).text);
            if (v instanceof Boolean)
                return (Boolean) v ? BigDecimal.ONE : BigDecimal.ZERO;
            if (v instanceof String)
                return new BigDecimal(((String) v).trim());
        } catch (NumberFormatException e) {
            // below
        }
        throw Errors.data("cannot read the " + column(col).type + " value " + shortText(v)
                          + " of column " + col + " as a number");
    }

    private static String shortText(Object v) {
        String s = v instanceof String ? (String) v : Json.write(v);
        return Wire.shorten("\"" + s + "\"");
    }

    /** An integer, truncated toward zero; out of range is an error (22003). */
    private long integer(int col, long min, long max, String what) throws SQLException {
        Object v = raw(col);
        if (v == null)
            return 0;
        long n;
        if (v instanceof Wire.Num) {
            try {
                n = Long.parseLong(((Wire.Num) v).text);
                if (n >= min && n <= max)
                    return n;
            } catch (NumberFormatException e) {
                // not a long: below
            }
        }
        if ("NaN".equals(v) || "Infinity".equals(v) || "-Infinity".equals(v))
            throw Errors.range("column " + col + ": " + v + " is not " + what);
        BigDecimal bd = decimal(col, v).setScale(0, RoundingMode.DOWN);
        if (bd.compareTo(BigDecimal.valueOf(min)) < 0 || bd.compareTo(BigDecimal.valueOf(max)) > 0)
            throw Errors.range("column " + col + ": " + bd + " does not fit " + what);
        return bd.longValue();
    }

    @Override
    public byte getByte(int col) throws SQLException {
        return (byte) integer(col, Byte.MIN_VALUE, Byte.MAX_VALUE, "a byte");
    }

    @Override
    public short getShort(int col) throws SQLException {
        return (short) integer(col, Short.MIN_VALUE, Short.MAX_VALUE, "a short");
    }

    @Override
    public int getInt(int col) throws SQLException {
        return (int) integer(col, Integer.MIN_VALUE, Integer.MAX_VALUE, "an int");
    }

    @Override
    public long getLong(int col) throws SQLException {
        return integer(col, Long.MIN_VALUE, Long.MAX_VALUE, "a long");
    }

    @Override
    public double getDouble(int col) throws SQLException {
        Object v = raw(col);
        if (v == null)
            return 0;
        if (v instanceof Wire.Num)
            return Double.parseDouble(((Wire.Num) v).text);
        if (v instanceof String) {
            switch ((String) v) {
            case "NaN":
                return Double.NaN;
            case "Infinity":
                return Double.POSITIVE_INFINITY;
            case "-Infinity":
                return Double.NEGATIVE_INFINITY;
            default:
                break;
            }
        }
        return decimal(col, v).doubleValue();
    }

    @Override
    public float getFloat(int col) throws SQLException {
        Object v = raw(col);
        if (v instanceof Wire.Num)
            return Float.parseFloat(((Wire.Num) v).text);
        return (float) getDouble(col);
    }

    @Override
    public BigDecimal getBigDecimal(int col) throws SQLException {
        Object v = raw(col);
        return v == null ? null : decimal(col, v);
    }

    @Override
    @Deprecated
    public BigDecimal getBigDecimal(int col, int scale) throws SQLException {
        BigDecimal d = getBigDecimal(col);
        return d == null ? null : d.setScale(scale, RoundingMode.HALF_UP);
    }

    private BigInteger bigInteger(int col) throws SQLException {
        Object v = raw(col);
        if (v == null)
            return null;
        BigDecimal d = decimal(col, v);
        try {
            return d.toBigIntegerExact();
        } catch (ArithmeticException e) {
            return d.setScale(0, RoundingMode.DOWN).toBigInteger();
        }
    }

    @Override
    public boolean getBoolean(int col) throws SQLException {
        Object v = raw(col);
        if (v == null)
            return false;
        if (v instanceof Boolean)
            return (Boolean) v;
        if (v instanceof Wire.Num)
            return decimal(col, v).signum() != 0;
        if (v instanceof String) {
            switch (((String) v).trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true":
            case "t":
            case "1":
            case "yes":
            case "y":
                return true;
            case "false":
            case "f":
            case "0":
            case "no":
            case "n":
                return false;
            default:
                break;
            }
        }
        throw Errors.data("column " + col + ": " + shortText(v) + " is not a boolean");
    }

    /** A BLOB's bytes (its text is \x and two hex digits per byte); other text as UTF-8. */
    @Override
    public byte[] getBytes(int col) throws SQLException {
        Object v = raw(col);
        if (v == null)
            return null;
        if (column(col).kind == Column.Kind.BLOB && v instanceof String) {
            String s = (String) v;
            if (!s.startsWith("\\x") || s.length() % 2 != 0)
                throw Errors.protocol("bad BLOB text");
            byte[] out = new byte[(s.length() - 2) / 2];
            for (int i = 0; i < out.length; i++) {
                int hi = Character.digit(s.charAt(2 + 2 * i), 16);
                int lo = Character.digit(s.charAt(3 + 2 * i), 16);
                if (hi < 0 || lo < 0)
                    throw Errors.protocol("bad BLOB text");
                out[i] = (byte) (hi * 16 + lo);
            }
            return out;
        }
        return getString(col).getBytes(StandardCharsets.UTF_8);
    }

    // ---- dates and times: DuckDB's ISO 8601 text (docs/protocol.md)

    /** Java's ISO parsers want a sign before a year of more than four digits. */
    private static String isoYear(String s) {
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i)))
            i++;
        return i > 4 ? "+" + s : s;
    }

    private String temporalText(int col, Object v) throws SQLException {
        if (!(v instanceof String))
            throw Errors.data("column " + col + ": " + shortText(v) + " is not a date or time");
        String s = (String) v;
        if (s.equals("infinity") || s.equals("-infinity"))
            throw Errors.range("column " + col + ": " + s + " has no Java date or time (use getString)");
        return isoYear(s);
    }

    /** The value as an instant-less local date-time, or an instant for TIMESTAMPTZ. */
    private Object temporal(int col) throws SQLException {
        Object v = raw(col);
        if (v == null)
            return null;
        String s = temporalText(col, v);
        try {
            switch (column(col).kind) {
            case DATE:
                return LocalDate.parse(s);
            case TIME:
                return LocalTime.parse(s);
            case TIMETZ:
                return OffsetTime.parse(s);
            case TIMESTAMP:
                return LocalDateTime.parse(s);
            case TIMESTAMPTZ:
                return OffsetDateTime.parse(s);
            default:
                // Text columns: whichever form the text has.
                if (s.length() <= 10 || s.charAt(2) == ':')
                    return s.charAt(2) == ':' ? (Object) LocalTime.parse(s) : LocalDate.parse(s);
                String t = s.replace(' ', 'T');
                try {
                    return OffsetDateTime.parse(t);
                } catch (DateTimeParseException e) {
                    return LocalDateTime.parse(t);
                }
            }
        } catch (DateTimeParseException e) {
            throw Errors.data("column " + col + ": cannot read " + shortText(v) + " as a date or time");
        }
    }

    private static ZoneId zone(Calendar cal) {
        return cal == null ? ZoneId.systemDefault() : cal.getTimeZone().toZoneId();
    }

    /** As a LocalDateTime in the zone (a TIMESTAMPTZ's instant seen in that zone). */
    private LocalDateTime localDateTime(int col, ZoneId zone) throws SQLException {
        Object t = temporal(col);
        if (t == null)
            return null;
        if (t instanceof LocalDateTime)
            return (LocalDateTime) t;
        if (t instanceof LocalDate)
            return ((LocalDate) t).atStartOfDay();
        if (t instanceof OffsetDateTime)
            return LocalDateTime.ofInstant(((OffsetDateTime) t).toInstant(), zone);
        if (t instanceof LocalTime)
            return LocalDate.of(1970, 1, 1).atTime((LocalTime) t);
        return LocalDate.of(1970, 1, 1).atTime(((OffsetTime) t).toLocalTime());
    }

    @Override
    public Date getDate(int col) throws SQLException {
        return getDate(col, null);
    }

    @Override
    public Date getDate(int col, Calendar cal) throws SQLException {
        LocalDateTime t = localDateTime(col, zone(cal));
        if (t == null)
            return null;
        if (cal == null)
            return Date.valueOf(t.toLocalDate());
        return new Date(t.toLocalDate().atStartOfDay(zone(cal)).toInstant().toEpochMilli());
    }

    @Override
    public Time getTime(int col) throws SQLException {
        return getTime(col, null);
    }

    @Override
    public Time getTime(int col, Calendar cal) throws SQLException {
        Object t = temporal(col);
        if (t == null)
            return null;
        if (t instanceof OffsetTime)
            return new Time(((OffsetTime) t).atDate(LocalDate.of(1970, 1, 1)).toInstant().toEpochMilli());
        LocalTime lt = localDateTime(col, zone(cal)).toLocalTime();
        long millis = LocalDate.of(1970, 1, 1).atTime(lt).atZone(zone(cal)).toInstant().toEpochMilli();
        return new Time(millis);
    }

    @Override
    public Timestamp getTimestamp(int col) throws SQLException {
        return getTimestamp(col, null);
    }

    @Override
    public Timestamp getTimestamp(int col, Calendar cal) throws SQLException {
        Object t = temporal(col);
        if (t == null)
            return null;
        if (t instanceof OffsetDateTime)
            return Timestamp.from(((OffsetDateTime) t).toInstant());
        LocalDateTime ldt = localDateTime(col, zone(cal));
        if (cal == null)
            return Timestamp.valueOf(ldt);
        Instant i = ldt.atZone(zone(cal)).toInstant();
        return Timestamp.from(i);
    }

    @Override
    public Object getObject(int col) throws SQLException {
        Object v = raw(col);
        if (v == null)
            return null;
        Column c = column(col);
        switch (c.kind) {
        case BOOLEAN:
            return getBoolean(col);
        case INT:
            return getInt(col);
        case LONG:
            return getLong(col);
        case BIG:
            return bigInteger(col);
        case DECIMAL:
            return getBigDecimal(col);
        case FLOAT:
            return getFloat(col);
        case DOUBLE:
            return getDouble(col);
        case BLOB:
            return getBytes(col);
        case DATE:
        case TIMESTAMP:
        case TIMESTAMPTZ:
            if (v.equals("infinity") || v.equals("-infinity"))
                return v; // no Java value: the text
            return c.kind == Column.Kind.DATE ? getDate(col) : getTimestamp(col);
        case TIME:
            return getTime(col);
        case TIMETZ:
            return temporal(col);
        case UUID:
            return UUID.fromString((String) v);
        default:
            return getString(col);
        }
    }

    @Override
    public <T> T getObject(int col, Class<T> type) throws SQLException {
        if (type == null)
            throw Errors.usage("getObject: type is null");
        Object v = raw(col);
        if (v == null)
            return null;
        Object out;
        if (type == String.class)
            out = getString(col);
        else if (type == Integer.class)
            out = getInt(col);
        else if (type == Long.class)
            out = getLong(col);
        else if (type == Short.class)
            out = getShort(col);
        else if (type == Byte.class)
            out = getByte(col);
        else if (type == Boolean.class)
            out = getBoolean(col);
        else if (type == Double.class)
            out = getDouble(col);
        else if (type == Float.class)
            out = getFloat(col);
        else if (type == BigDecimal.class)
            out = getBigDecimal(col);
        else if (type == BigInteger.class)
            out = bigInteger(col);
        else if (type == byte[].class)
            out = getBytes(col);
        else if (type == Date.class)
            out = getDate(col);
        else if (type == Time.class)
            out = getTime(col);
        else if (type == Timestamp.class)
            out = getTimestamp(col);
        else if (type == LocalDate.class)
            out = localDateTime(col, ZoneId.systemDefault()).toLocalDate();
        else if (type == LocalDateTime.class)
            out = localDateTime(col, ZoneId.systemDefault());
        else if (type == LocalTime.class) {
            Object t = temporal(col);
            out = t instanceof OffsetTime ? ((OffsetTime) t).toLocalTime()
                                          : localDateTime(col, ZoneId.systemDefault()).toLocalTime();
        } else if (type == OffsetTime.class) {
            Object t = temporal(col);
            if (!(t instanceof OffsetTime))
                throw Errors.data("column " + col + " is not a TIME WITH TIME ZONE");
            out = t;
        } else if (type == OffsetDateTime.class || type == Instant.class) {
            Object t = temporal(col);
            OffsetDateTime odt = t instanceof OffsetDateTime ? (OffsetDateTime) t
                    : localDateTime(col, ZoneOffset.UTC).atOffset(ZoneOffset.UTC);
            if (!(t instanceof OffsetDateTime) && column(col).kind != Column.Kind.TIMESTAMP)
                throw Errors.data("column " + col + " (" + column(col).type + ") is not a timestamp");
            out = type == Instant.class ? odt.toInstant() : odt;
        } else if (type == UUID.class) {
            try {
                out = UUID.fromString(getString(col));
            } catch (IllegalArgumentException e) {
                throw Errors.data("column " + col + ": " + shortText(v) + " is not a UUID");
            }
        } else if (type == Object.class)
            out = getObject(col);
        else
            throw Errors.usage("getObject: cannot convert to " + type.getName());
        return type.cast(out);
    }

    @Override
    public Object getObject(int col, Map<String, Class<?>> map) throws SQLException {
        if (map != null && !map.isEmpty())
            throw Unsupported.method("ResultSet.getObject with a type map");
        return getObject(col);
    }

    @Override
    public String getNString(int col) throws SQLException {
        return getString(col);
    }

    @Override
    public Reader getCharacterStream(int col) throws SQLException {
        String s = getString(col);
        return s == null ? null : new StringReader(s);
    }

    @Override
    public Reader getNCharacterStream(int col) throws SQLException {
        return getCharacterStream(col);
    }

    @Override
    public InputStream getBinaryStream(int col) throws SQLException {
        byte[] b = getBytes(col);
        return b == null ? null : new ByteArrayInputStream(b);
    }

    // ---- by label

    @Override
    public String getString(String l) throws SQLException {
        return getString(findColumn(l));
    }

    @Override
    public boolean getBoolean(String l) throws SQLException {
        return getBoolean(findColumn(l));
    }

    @Override
    public byte getByte(String l) throws SQLException {
        return getByte(findColumn(l));
    }

    @Override
    public short getShort(String l) throws SQLException {
        return getShort(findColumn(l));
    }

    @Override
    public int getInt(String l) throws SQLException {
        return getInt(findColumn(l));
    }

    @Override
    public long getLong(String l) throws SQLException {
        return getLong(findColumn(l));
    }

    @Override
    public float getFloat(String l) throws SQLException {
        return getFloat(findColumn(l));
    }

    @Override
    public double getDouble(String l) throws SQLException {
        return getDouble(findColumn(l));
    }

    @Override
    @Deprecated
    public BigDecimal getBigDecimal(String l, int scale) throws SQLException {
        return getBigDecimal(findColumn(l), scale);
    }

    @Override
    public BigDecimal getBigDecimal(String l) throws SQLException {
        return getBigDecimal(findColumn(l));
    }

    @Override
    public byte[] getBytes(String l) throws SQLException {
        return getBytes(findColumn(l));
    }

    @Override
    public Date getDate(String l) throws SQLException {
        return getDate(findColumn(l));
    }

    @Override
    public Date getDate(String l, Calendar cal) throws SQLException {
        return getDate(findColumn(l), cal);
    }

    @Override
    public Time getTime(String l) throws SQLException {
        return getTime(findColumn(l));
    }

    @Override
    public Time getTime(String l, Calendar cal) throws SQLException {
        return getTime(findColumn(l), cal);
    }

    @Override
    public Timestamp getTimestamp(String l) throws SQLException {
        return getTimestamp(findColumn(l));
    }

    @Override
    public Timestamp getTimestamp(String l, Calendar cal) throws SQLException {
        return getTimestamp(findColumn(l), cal);
    }

    @Override
    public Object getObject(String l) throws SQLException {
        return getObject(findColumn(l));
    }

    @Override
    public <T> T getObject(String l, Class<T> type) throws SQLException {
        return getObject(findColumn(l), type);
    }

    @Override
    public Object getObject(String l, Map<String, Class<?>> map) throws SQLException {
        return getObject(findColumn(l), map);
    }

    @Override
    public String getNString(String l) throws SQLException {
        return getNString(findColumn(l));
    }

    @Override
    public Reader getCharacterStream(String l) throws SQLException {
        return getCharacterStream(findColumn(l));
    }

    @Override
    public Reader getNCharacterStream(String l) throws SQLException {
        return getNCharacterStream(findColumn(l));
    }

    @Override
    public InputStream getBinaryStream(String l) throws SQLException {
        return getBinaryStream(findColumn(l));
    }

    // ---- the result itself

    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        checkOpen();
        return new TdbResultSetMetaData(columns);
    }

    @Override
    public Statement getStatement() throws SQLException {
        checkOpen();
        return owner;
    }

    @Override
    public int getRow() throws SQLException {
        checkOpen();
        return row == null ? 0 : (int) Math.min(Integer.MAX_VALUE, rowNumber);
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

    /** A hint only: rows are read one at a time off the wire whatever the size. */
    @Override
    public void setFetchSize(int rows) throws SQLException {
        checkOpen();
        if (rows < 0)
            throw Errors.usage("setFetchSize: negative size");
        fetchSize = rows;
    }

    @Override
    public int getFetchSize() throws SQLException {
        checkOpen();
        return fetchSize;
    }

    @Override
    public void setFetchDirection(int direction) throws SQLException {
        checkOpen();
        if (direction != ResultSet.FETCH_FORWARD)
            throw Unsupported.method("fetch directions other than FETCH_FORWARD");
    }

    @Override
    public int getFetchDirection() throws SQLException {
        checkOpen();
        return ResultSet.FETCH_FORWARD;
    }

    @Override
    public int getType() throws SQLException {
        checkOpen();
        return ResultSet.TYPE_FORWARD_ONLY;
    }

    @Override
    public int getConcurrency() throws SQLException {
        checkOpen();
        return ResultSet.CONCUR_READ_ONLY;
    }

    @Override
    public int getHoldability() throws SQLException {
        checkOpen();
        return ResultSet.HOLD_CURSORS_OVER_COMMIT;
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
