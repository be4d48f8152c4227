package tcpduckdb.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Date;
import java.sql.ParameterMetaData;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Time;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.List;
import java.util.UUID;

/**
 * A statement with parameters bound by the server: each execute sends
 * {@code query {"sql": ..., "params": [...]}} and DuckDB binds the values to a prepared
 * statement, so no value ever becomes SQL text. Nothing is sent at prepare: the server
 * prepares each SQL text once per session and keeps it in its statement cache. Values are
 * kept as their JSON text (README.md, "Parameters").
 */
final class TdbPreparedStatement extends PreparedStatementStubs {
    private static final String UNSET = new String("unset");

    private final String sql;
    private final List<String> params = new ArrayList<>();
    private final List<List<String>> batch = new ArrayList<>();

    TdbPreparedStatement(TdbConnection conn, String sql) {
        super(conn);
        this.sql = sql;
    }

    private List<String> bound() throws SQLException {
        for (int i = 0; i < params.size(); i++)
            if (params.get(i) == UNSET)
                throw Errors.usage("parameter " + (i + 1) + " is not set");
        return new ArrayList<>(params);
    }

    private void set(int index, String json) throws SQLException {
        checkOpen();
        if (index < 1)
            throw Errors.usage("parameter index " + index + " (they start at 1)");
        while (params.size() < index)
            params.add(UNSET);
        params.set(index - 1, json);
    }

    // ---- executing

    @Override
    public ResultSet executeQuery() throws SQLException {
        if (!run(sql, bound()))
            throw Errors.usage("the statement returned no result set (use executeUpdate)");
        return result;
    }

    @Override
    public int executeUpdate() throws SQLException {
        return toInt(update(sql, bound()));
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return update(sql, bound());
    }

    @Override
    public boolean execute() throws SQLException {
        return run(sql, bound());
    }

    @Override
    public void addBatch() throws SQLException {
        checkOpen();
        batch.add(bound());
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        batch.clear();
    }

    @Override
    public int[] executeBatch() throws SQLException {
        long[] n = executeLargeBatch();
        int[] out = new int[n.length];
        for (int i = 0; i < n.length; i++)
            out[i] = toInt(n[i]);
        return out;
    }

    /** Runs the statement once per set of parameters added, one request each. */
    @Override
    public long[] executeLargeBatch() throws SQLException {
        checkOpen();
        List<List<String>> todo = new ArrayList<>(batch);
        batch.clear();
        long[] counts = new long[todo.size()];
        for (int i = 0; i < todo.size(); i++) {
            try {
                counts[i] = update(sql, todo.get(i));
            } catch (SQLException e) {
                throw batchFailure(counts, i, e);
            }
        }
        return counts;
    }

    @Override
    public void clearParameters() throws SQLException {
        checkOpen();
        params.clear();
    }

    /** Not known before the statement runs (nothing is sent at prepare): null, as JDBC allows. */
    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        checkOpen();
        return null;
    }

    @Override
    public ParameterMetaData getParameterMetaData() throws SQLException {
        throw Unsupported.method("PreparedStatement.getParameterMetaData");
    }

    // A PreparedStatement runs its own SQL: the Statement forms with a text are refused.
    @Override
    public ResultSet executeQuery(String s) throws SQLException {
        throw Errors.usage("executeQuery(String) on a PreparedStatement");
    }

    @Override
    public int executeUpdate(String s) throws SQLException {
        throw Errors.usage("executeUpdate(String) on a PreparedStatement");
    }

    @Override
    public boolean execute(String s) throws SQLException {
        throw Errors.usage("execute(String) on a PreparedStatement");
    }

    @Override
    public void addBatch(String s) throws SQLException {
        throw Errors.usage("addBatch(String) on a PreparedStatement");
    }

    // ---- values

    @Override
    public void setNull(int i, int sqlType) throws SQLException {
        set(i, "null");
    }

    @Override
    public void setNull(int i, int sqlType, String typeName) throws SQLException {
        set(i, "null");
    }

    @Override
    public void setBoolean(int i, boolean x) throws SQLException {
        set(i, x ? "true" : "false");
    }

    @Override
    public void setByte(int i, byte x) throws SQLException {
        set(i, Long.toString(x));
    }

    @Override
    public void setShort(int i, short x) throws SQLException {
        set(i, Long.toString(x));
    }

    @Override
    public void setInt(int i, int x) throws SQLException {
        set(i, Long.toString(x));
    }

    @Override
    public void setLong(int i, long x) throws SQLException {
        set(i, Long.toString(x));
    }

    /** A number with a fraction or exponent, so DuckDB binds a DOUBLE; NaN and the infinities
     * as the strings DuckDB casts. */
    @Override
    public void setFloat(int i, float x) throws SQLException {
        set(i, Float.isFinite(x) ? Float.toString(x) : nonFinite(x));
    }

    @Override
    public void setDouble(int i, double x) throws SQLException {
        set(i, Double.isFinite(x) ? Double.toString(x) : nonFinite(x));
    }

    private static String nonFinite(double x) {
        return Double.isNaN(x) ? "\"NaN\"" : x > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    }

    /** As a string: exact, and DuckDB casts it to the DECIMAL the placeholder needs. */
    @Override
    public void setBigDecimal(int i, BigDecimal x) throws SQLException {
        set(i, x == null ? "null" : Json.quote(x.toPlainString()));
    }

    @Override
    public void setString(int i, String x) throws SQLException {
        set(i, x == null ? "null" : Json.quote(x));
    }

    @Override
    public void setNString(int i, String x) throws SQLException {
        setString(i, x);
    }

    @Override
    public void setBytes(int i, byte[] x) throws SQLException {
        if (x == null) {
            set(i, "null");
            return;
        }
        StringBuilder sb = new StringBuilder(x.length * 2 + 12);
        sb.append("{\"blob\":\"");
        for (byte b : x) {
            sb.append(Character.forDigit((b >> 4) & 15, 16));
            sb.append(Character.forDigit(b & 15, 16));
        }
        sb.append("\"}");
        set(i, sb.toString());
    }

    @Override
    public void setDate(int i, Date x) throws SQLException {
        set(i, x == null ? "null" : Json.quote(x.toLocalDate().toString()));
    }

    @Override
    public void setDate(int i, Date x, Calendar cal) throws SQLException {
        if (x == null || cal == null) {
            setDate(i, x);
            return;
        }
        set(i, Json.quote(Instant.ofEpochMilli(x.getTime()).atZone(cal.getTimeZone().toZoneId())
                                  .toLocalDate().toString()));
    }

    @Override
    public void setTime(int i, Time x) throws SQLException {
        set(i, x == null ? "null" : Json.quote(time(x.toLocalTime())));
    }

    @Override
    public void setTime(int i, Time x, Calendar cal) throws SQLException {
        if (x == null || cal == null) {
            setTime(i, x);
            return;
        }
        set(i, Json.quote(time(Instant.ofEpochMilli(x.getTime()).atZone(cal.getTimeZone().toZoneId())
                                       .toLocalTime())));
    }

    /** The timestamp's local date and time (JDBC's reading of a Timestamp), nanoseconds kept. */
    @Override
    public void setTimestamp(int i, Timestamp x) throws SQLException {
        set(i, x == null ? "null" : Json.quote(localDateTime(x.toLocalDateTime())));
    }

    @Override
    public void setTimestamp(int i, Timestamp x, Calendar cal) throws SQLException {
        if (x == null || cal == null) {
            setTimestamp(i, x);
            return;
        }
        set(i, Json.quote(localDateTime(
                       LocalDateTime.ofInstant(x.toInstant(), cal.getTimeZone().toZoneId()))));
    }

    private static String localDateTime(LocalDateTime t) {
        return t.toLocalDate() + " " + time(t.toLocalTime());
    }

    /** HH:MM:SS with the fraction when there is one (LocalTime.toString drops zero seconds). */
    static String time(LocalTime t) {
        String s = String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond());
        if (t.getNano() == 0)
            return s;
        String frac = String.format("%09d", t.getNano()).replaceFirst("0+$", "");
        return s + "." + frac;
    }

    private static String offset(ZoneOffset o) {
        return o.getTotalSeconds() == 0 ? "+00:00" : o.getId();
    }

    /** An instant as text with its offset: a TIMESTAMPTZ gets the instant. */
    private static String offsetDateTime(OffsetDateTime t) {
        return t.toLocalDate() + " " + time(t.toLocalTime()) + offset(t.getOffset());
    }

    @Override
    public void setObject(int i, Object x) throws SQLException {
        if (x == null)
            set(i, "null");
        else if (x instanceof String)
            setString(i, (String) x);
        else if (x instanceof Boolean)
            setBoolean(i, (Boolean) x);
        else if (x instanceof Integer || x instanceof Long || x instanceof Short || x instanceof Byte)
            set(i, x.toString());
        else if (x instanceof Double)
            setDouble(i, (Double) x);
        else if (x instanceof Float)
            setFloat(i, (Float) x);
        else if (x instanceof BigDecimal)
            setBigDecimal(i, (BigDecimal) x);
        else if (x instanceof BigInteger)
            // A JSON integer up to 128 bits (DuckDB binds BIGINT or HUGEINT); beyond, text.
            set(i, ((BigInteger) x).bitLength() <= 127 ? x.toString() : Json.quote(x.toString()));
        else if (x instanceof byte[])
            setBytes(i, (byte[]) x);
        else if (x instanceof Timestamp)
            setTimestamp(i, (Timestamp) x);
        else if (x instanceof Date)
            setDate(i, (Date) x);
        else if (x instanceof Time)
            setTime(i, (Time) x);
        else if (x instanceof LocalDate || x instanceof UUID)
            set(i, Json.quote(x.toString()));
        else if (x instanceof LocalTime)
            set(i, Json.quote(time((LocalTime) x)));
        else if (x instanceof LocalDateTime)
            set(i, Json.quote(localDateTime((LocalDateTime) x)));
        else if (x instanceof OffsetDateTime)
            set(i, Json.quote(offsetDateTime((OffsetDateTime) x)));
        else if (x instanceof ZonedDateTime)
            set(i, Json.quote(offsetDateTime(((ZonedDateTime) x).toOffsetDateTime())));
        else if (x instanceof Instant)
            set(i, Json.quote(offsetDateTime(((Instant) x).atOffset(ZoneOffset.UTC))));
        else if (x instanceof OffsetTime)
            set(i, Json.quote(time(((OffsetTime) x).toLocalTime()) + offset(((OffsetTime) x).getOffset())));
        else if (x instanceof Character)
            setString(i, x.toString());
        else
            throw Errors.usage("cannot send a parameter of class " + x.getClass().getName()
                               + " (README.md, \"Parameters\")");
    }

    @Override
    public void setObject(int i, Object x, int targetSqlType) throws SQLException {
        if (x == null) {
            set(i, "null");
            return;
        }
        switch (targetSqlType) {
        case Types.DECIMAL:
        case Types.NUMERIC:
            if (x instanceof Number || x instanceof String) {
                set(i, Json.quote(x instanceof BigDecimal ? ((BigDecimal) x).toPlainString() : x.toString()));
                return;
            }
            break;
        case Types.VARCHAR:
        case Types.CHAR:
        case Types.LONGVARCHAR:
        case Types.NVARCHAR:
        case Types.NCHAR:
            if (!(x instanceof byte[])) {
                setString(i, x.toString());
                return;
            }
            break;
        default:
            break;
        }
        setObject(i, x);
    }

    @Override
    public void setObject(int i, Object x, int targetSqlType, int scaleOrLength) throws SQLException {
        setObject(i, x, targetSqlType);
    }

    @Override
    public String toString() {
        return sql + " " + Arrays.toString(params.toArray());
    }
}
