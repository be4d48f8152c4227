package tcpduckdb.jdbc;

import static org.junit.jupiter.api.Assertions.*;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLDataException;
import java.sql.SQLException;
import java.sql.Statement;
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
import java.util.Calendar;
import java.util.TimeZone;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every DuckDB type read with every getter that applies, and parameters of every kind bound
 * by the server and read back (README.md, "Types" and "Parameters"). */
@ExtendWith(SharedServerExtension.class)
class TypesTest {
    static Connection conn;

    @BeforeAll
    static void open() throws Exception {
        conn = Shared.newDatabase("types");
    }

    @AfterAll
    static void close() throws SQLException {
        conn.close();
    }

    private static ResultSet one(String sql) throws SQLException {
        ResultSet rs = conn.createStatement().executeQuery(sql);
        assertTrue(rs.next());
        return rs;
    }

    @Test
    void integers() throws SQLException {
        ResultSet rs = one("SELECT 42::TINYINT, (-32768)::SMALLINT, 2147483647::INTEGER, (-9223372036854775808)::BIGINT, "
                           + "255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 18446744073709551615::UBIGINT, "
                           + "170141183460469231731687303715884105727::HUGEINT, 340282366920938463463374607431768211455::UHUGEINT");
        ResultSetMetaData md = rs.getMetaData();
        assertEquals(10, md.getColumnCount());
        assertEquals(Types.TINYINT, md.getColumnType(1));
        assertEquals("TINYINT", md.getColumnTypeName(1));
        assertEquals(Types.BIGINT, md.getColumnType(4));
        assertEquals(Types.NUMERIC, md.getColumnType(8));
        assertEquals("java.math.BigInteger", md.getColumnClassName(9));
        assertTrue(md.isSigned(4));
        assertFalse(md.isSigned(8));
        assertEquals((byte) 42, rs.getByte(1));
        assertEquals(42, rs.getObject(1));
        assertEquals((short) -32768, rs.getShort(2));
        assertEquals(Integer.MAX_VALUE, rs.getInt(3));
        assertEquals(Long.MIN_VALUE, rs.getLong(4));
        assertEquals(Long.MIN_VALUE, rs.getObject(4));
        assertEquals(255, rs.getInt(5));
        assertEquals(65535, rs.getObject(6));
        assertEquals(4294967295L, rs.getObject(7));
        assertEquals(new BigInteger("18446744073709551615"), rs.getObject(8));
        assertEquals("18446744073709551615", rs.getString(8));
        assertEquals(new BigDecimal("18446744073709551615"), rs.getBigDecimal(8));
        assertEquals(new BigInteger("170141183460469231731687303715884105727"), rs.getObject(9, BigInteger.class));
        assertEquals(new BigInteger("340282366920938463463374607431768211455"), rs.getObject(10));
        // Out of range for the getter: SQLDataException 22003, never a silently wrong value.
        SQLDataException e = assertThrows(SQLDataException.class, () -> rs.getLong(8));
        assertEquals("22003", e.getSQLState());
        assertThrows(SQLDataException.class, () -> rs.getInt(4));
        assertThrows(SQLDataException.class, () -> rs.getByte(3));
        assertEquals(4294967295.0, rs.getDouble(7));
        assertTrue(rs.getBoolean(1));
    }

    @Test
    void decimalsAndFloats() throws SQLException {
        ResultSet rs = one("SELECT 12.50::DECIMAL(18,2), 12345678901234567890.123456789::DECIMAL(38,9), "
                           + "0.1::DOUBLE, 0.1::FLOAT, 'NaN'::DOUBLE, 'Infinity'::DOUBLE, '-Infinity'::FLOAT, -0.0::DOUBLE");
        ResultSetMetaData md = rs.getMetaData();
        assertEquals(Types.DECIMAL, md.getColumnType(1));
        assertEquals(18, md.getPrecision(1));
        assertEquals(2, md.getScale(1));
        assertEquals(38, md.getPrecision(2));
        assertEquals(9, md.getScale(2));
        assertEquals(Types.DOUBLE, md.getColumnType(3));
        assertEquals(Types.REAL, md.getColumnType(4));
        assertEquals(new BigDecimal("12.50"), rs.getBigDecimal(1)); // exact, scale kept
        assertEquals("12.50", rs.getString(1));
        assertEquals(new BigDecimal("12345678901234567890.123456789"), rs.getObject(2));
        assertEquals(12, rs.getInt(1)); // truncated toward zero
        assertEquals(0.1, rs.getDouble(3));
        assertEquals(0.1, rs.getObject(3));
        assertEquals(0.1f, rs.getFloat(4));
        assertEquals(0.1f, rs.getObject(4));
        assertTrue(Double.isNaN(rs.getDouble(5)));
        assertEquals(Double.POSITIVE_INFINITY, rs.getObject(6));
        assertEquals(Float.NEGATIVE_INFINITY, rs.getFloat(7));
        assertThrows(SQLDataException.class, () -> rs.getLong(5));
        assertThrows(SQLDataException.class, () -> rs.getBigDecimal(6));
        assertEquals(-0.0, rs.getDouble(8)); // the sign kept
    }

    @Test
    void textBlobBooleanUuid() throws SQLException {
        ResultSet rs = one("SELECT 'héllo \"wörld\"\n\t名前 😀'::VARCHAR, '\\x00\\xFFab'::BLOB, true, false, "
                           + "'550e8400-e29b-41d4-a716-446655440000'::UUID, '0101'::BIT, INTERVAL 1 DAY, "
                           + "'1'::VARCHAR, 'yes'");
        assertEquals("héllo \"wörld\"\n\t名前 😀", rs.getString(1));
        assertEquals("héllo \"wörld\"\n\t名前 😀", rs.getNString(1));
        assertArrayEquals(new byte[] {0, (byte) 0xff, 'a', 'b'}, rs.getBytes(2));
        assertArrayEquals(new byte[] {0, (byte) 0xff, 'a', 'b'}, (byte[]) rs.getObject(2));
        assertEquals(Types.VARBINARY, rs.getMetaData().getColumnType(2));
        assertEquals("\\x00ff6162", rs.getString(2));
        assertTrue(rs.getBoolean(3));
        assertEquals(Boolean.FALSE, rs.getObject(4));
        assertEquals("false", rs.getString(4));
        assertEquals(1, rs.getInt(3));
        assertEquals(UUID.fromString("550e8400-e29b-41d4-a716-446655440000"), rs.getObject(5));
        assertEquals("0101", rs.getString(6));
        assertEquals("P1D", rs.getString(7));
        assertEquals(1, rs.getInt(8));
        assertTrue(rs.getBoolean(8));
        assertTrue(rs.getBoolean(9));
        assertThrows(SQLDataException.class, () -> rs.getInt(1));
        assertThrows(SQLDataException.class, () -> rs.getBoolean(1));
        assertThrows(SQLDataException.class, () -> rs.getDate(1));
        try (java.io.Reader r = rs.getCharacterStream(1)) {
            char[] buf = new char[5];
            assertEquals(5, r.read(buf));
            assertEquals("héllo", new String(buf));
        } catch (java.io.IOException e) {
            fail(e);
        }
    }

    @Test
    void datesAndTimes() throws SQLException {
        ResultSet rs = one("SELECT DATE '2024-01-31', TIME '13:45:30.25', TIMESTAMP '2024-01-31 13:45:30.123456', "
                           + "TIMESTAMPTZ '2024-01-31 13:45:30+02:00', TIMETZ '13:45:30+02:00', "
                           + "'infinity'::DATE, '-infinity'::TIMESTAMP, DATE '10000-01-01', TIMESTAMP_NS '2024-01-31 01:02:03.123456789'");
        assertEquals(Date.valueOf("2024-01-31"), rs.getDate(1));
        assertEquals(Date.valueOf("2024-01-31"), rs.getObject(1));
        assertEquals(LocalDate.of(2024, 1, 31), rs.getObject(1, LocalDate.class));
        assertEquals(Timestamp.valueOf("2024-01-31 00:00:00"), rs.getTimestamp(1));
        assertEquals(Types.DATE, rs.getMetaData().getColumnType(1));
        assertEquals(Time.valueOf("13:45:30").getTime() + 250, rs.getTime(2).getTime());
        assertEquals(LocalTime.of(13, 45, 30, 250_000_000), rs.getObject(2, LocalTime.class));
        assertEquals("13:45:30.25", rs.getString(2));
        assertEquals(Timestamp.valueOf("2024-01-31 13:45:30.123456"), rs.getTimestamp(3));
        assertEquals(Timestamp.valueOf("2024-01-31 13:45:30.123456"), rs.getObject(3));
        assertEquals(LocalDateTime.of(2024, 1, 31, 13, 45, 30, 123_456_000), rs.getObject(3, LocalDateTime.class));
        assertEquals(Date.valueOf("2024-01-31"), rs.getDate(3));
        // A TIMESTAMP read in another calendar: the same wall time in that zone.
        Calendar utc = Calendar.getInstance(TimeZone.getTimeZone("UTC"));
        assertEquals(Instant.parse("2024-01-31T13:45:30.123456Z"), rs.getTimestamp(3, utc).toInstant());
        assertEquals(Instant.parse("2024-01-31T00:00:00Z"), Instant.ofEpochMilli(rs.getDate(1, utc).getTime()));
        // TIMESTAMPTZ: the instant.
        Instant instant = Instant.parse("2024-01-31T11:45:30Z");
        assertEquals(instant, rs.getTimestamp(4).toInstant());
        assertEquals(instant, rs.getObject(4, Instant.class));
        assertEquals(OffsetDateTime.of(2024, 1, 31, 11, 45, 30, 0, ZoneOffset.UTC), rs.getObject(4, OffsetDateTime.class));
        assertEquals(Types.TIMESTAMP_WITH_TIMEZONE, rs.getMetaData().getColumnType(4));
        assertEquals(OffsetTime.of(13, 45, 30, 0, ZoneOffset.ofHours(2)), rs.getObject(5));
        assertEquals(Instant.parse("1970-01-01T11:45:30Z").toEpochMilli(), rs.getTime(5).getTime());
        // infinity has no Java value: getObject gives the text, getDate refuses.
        assertEquals("infinity", rs.getObject(6));
        assertEquals("-infinity", rs.getString(7));
        assertThrows(SQLDataException.class, () -> rs.getDate(6));
        assertThrows(SQLDataException.class, () -> rs.getTimestamp(7));
        assertEquals(LocalDate.of(10000, 1, 1), rs.getObject(8, LocalDate.class));
        assertEquals(123_456_789, rs.getTimestamp(9).getNanos());
    }

    @Test
    void nestedAndNull() throws SQLException {
        ResultSet rs = one("SELECT [1, 2, NULL], {'a': 1, 'b': 'x\"y'}, MAP {'k': 1}, [[1], []]::INTEGER[][], "
                           + "NULL::INTEGER, NULL::VARCHAR, NULL::DATE, NULL::BLOB, NULL::DECIMAL(4,1), 1 AS a, 2 AS a");
        assertEquals("[1,2,null]", rs.getString(1));
        assertEquals("[1,2,null]", rs.getObject(1));
        assertEquals("INTEGER[]", rs.getMetaData().getColumnTypeName(1));
        assertEquals(Types.OTHER, rs.getMetaData().getColumnType(1));
        assertEquals("{\"a\":1,\"b\":\"x\\\"y\"}", rs.getString(2));
        assertEquals("{\"k\":1}", rs.getString(3));
        assertEquals("[[1],[]]", rs.getString(4));
        assertEquals(0, rs.getInt(5));
        assertTrue(rs.wasNull());
        assertNull(rs.getObject(5));
        assertNull(rs.getObject(5, Integer.class));
        assertNull(rs.getString(6));
        assertTrue(rs.wasNull());
        assertNull(rs.getDate(7));
        assertNull(rs.getBytes(8));
        assertNull(rs.getBigDecimal(9));
        assertFalse(rs.getBoolean(9));
        assertEquals(0.0, rs.getDouble(9));
        assertEquals(1, rs.getInt(10));
        assertFalse(rs.wasNull());
        // Duplicate names are kept; a label finds the first.
        assertEquals("a", rs.getMetaData().getColumnLabel(11));
        assertEquals(1, rs.getInt("a"));
        assertEquals(1, rs.getInt("A"));
        assertEquals(10, rs.findColumn("a"));
        assertThrows(SQLException.class, () -> rs.findColumn("nope"));
        assertThrows(SQLException.class, () -> rs.getInt(12));
        assertThrows(SQLException.class, () -> rs.getInt(0));
    }

    @Test
    void parametersOfEveryKind() throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE p (b BOOLEAN, ti TINYINT, si SMALLINT, i INTEGER, bi BIGINT, hi HUGEINT, "
                       + "f FLOAT, d DOUBLE, dec DECIMAL(20,5), s VARCHAR, bl BLOB, dt DATE, tm TIME, ts TIMESTAMP, "
                       + "tz TIMESTAMPTZ, u UUID, ub UBIGINT)");
        }
        try (PreparedStatement ps = conn.prepareStatement(
                     "INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setBoolean(1, true);
            ps.setByte(2, (byte) -7);
            ps.setShort(3, (short) 300);
            ps.setInt(4, -123456);
            ps.setLong(5, Long.MAX_VALUE);
            ps.setObject(6, new BigInteger("-170141183460469231731687303715884105728"));
            ps.setFloat(7, 1.5f);
            ps.setDouble(8, 0.1);
            ps.setBigDecimal(9, new BigDecimal("123456789012345.12345"));
            ps.setString(10, "it's \"quoted\"; DROP TABLE p; --\nnext line 名前");
            ps.setBytes(11, new byte[] {0, 1, (byte) 0x80, (byte) 0xff});
            ps.setDate(12, Date.valueOf("1999-12-31"));
            ps.setTime(13, Time.valueOf("23:59:58"));
            ps.setTimestamp(14, Timestamp.valueOf("2024-02-29 12:34:56.789012"));
            ps.setObject(15, OffsetDateTime.of(2024, 1, 31, 13, 45, 30, 0, ZoneOffset.ofHours(2)));
            ps.setObject(16, UUID.fromString("550e8400-e29b-41d4-a716-446655440000"));
            ps.setObject(17, new BigInteger("18446744073709551615"));
            assertEquals(1, ps.executeUpdate());
            // NULL for every column, through setNull and setObject(null).
            for (int i = 1; i <= 17; i++) {
                if (i % 2 == 0)
                    ps.setNull(i, Types.OTHER);
                else
                    ps.setObject(i, null);
            }
            assertEquals(1, ps.executeUpdate());
        }
        ResultSet rs = conn.createStatement().executeQuery("SELECT * FROM p ORDER BY b NULLS LAST");
        assertTrue(rs.next());
        assertTrue(rs.getBoolean("b"));
        assertEquals(-7, rs.getByte("ti"));
        assertEquals(300, rs.getShort("si"));
        assertEquals(-123456, rs.getInt("i"));
        assertEquals(Long.MAX_VALUE, rs.getLong("bi"));
        assertEquals(new BigInteger("-170141183460469231731687303715884105728"), rs.getObject("hi"));
        assertEquals(1.5f, rs.getFloat("f"));
        assertEquals(0.1, rs.getDouble("d"));
        assertEquals(new BigDecimal("123456789012345.12345"), rs.getBigDecimal("dec"));
        assertEquals("it's \"quoted\"; DROP TABLE p; --\nnext line 名前", rs.getString("s"));
        assertArrayEquals(new byte[] {0, 1, (byte) 0x80, (byte) 0xff}, rs.getBytes("bl"));
        assertEquals(Date.valueOf("1999-12-31"), rs.getDate("dt"));
        assertEquals(Time.valueOf("23:59:58"), rs.getTime("tm"));
        assertEquals(Timestamp.valueOf("2024-02-29 12:34:56.789012"), rs.getTimestamp("ts"));
        assertEquals(Instant.parse("2024-01-31T11:45:30Z"), rs.getObject("tz", Instant.class));
        assertEquals(UUID.fromString("550e8400-e29b-41d4-a716-446655440000"), rs.getObject("u"));
        assertEquals(new BigInteger("18446744073709551615"), rs.getObject("ub"));
        assertTrue(rs.next());
        for (int i = 1; i <= 17; i++) {
            assertNull(rs.getObject(i), "column " + i);
            assertTrue(rs.wasNull());
        }
        assertFalse(rs.next());
    }

    @Test
    void longValuesAcrossTheReadBuffer() throws SQLException {
        // Values longer than the driver's 64 KiB buffer, with and without escapes.
        ResultSet rs = one("SELECT repeat('é', 100000) AS a, repeat('a\"b' || chr(10) || chr(1), 30000) AS b, "
                           + "repeat('\\xAB'::BLOB, 70000) AS c, [repeat('x', 70000), 'y'] AS d");
        assertEquals("é".repeat(100000), rs.getString("a"));
        assertEquals("a\"b\n\u0001".repeat(30000), rs.getString("b"));
        byte[] blob = rs.getBytes("c");
        assertEquals(70000, blob.length);
        assertEquals((byte) 0xab, blob[69999]);
        assertEquals("[\"" + "x".repeat(70000) + "\",\"y\"]", rs.getString("d"));
        assertFalse(rs.next());
    }

    @Test
    void wholeSecondsAndOffsets() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                     "SELECT ?::TIME, ?::TIMESTAMP, ?::TIME, ?::TIMESTAMPTZ, ?::TIMETZ, ?::TIMESTAMP")) {
            ps.setTime(1, Time.valueOf("10:00:00"));
            ps.setTimestamp(2, Timestamp.valueOf("2024-01-01 00:00:00"));
            ps.setObject(3, LocalTime.of(7, 30));
            ps.setObject(4, Instant.parse("2024-05-06T08:00:00Z"));
            ps.setObject(5, OffsetTime.of(9, 15, 0, 0, ZoneOffset.ofHours(-3)));
            ps.setTimestamp(6, Timestamp.valueOf("2024-01-01 10:00:00"), Calendar.getInstance(TimeZone.getTimeZone("UTC")));
            ResultSet rs = ps.executeQuery();
            assertTrue(rs.next());
            assertEquals("10:00:00", rs.getString(1));
            assertEquals(LocalDateTime.of(2024, 1, 1, 0, 0), rs.getObject(2, LocalDateTime.class));
            assertEquals("07:30:00", rs.getString(3));
            assertEquals(Instant.parse("2024-05-06T08:00:00Z"), rs.getObject(4, Instant.class));
            assertEquals(OffsetTime.of(9, 15, 0, 0, ZoneOffset.ofHours(-3)), rs.getObject(5));
            // The timestamp's instant written as its wall time in UTC.
            assertEquals(LocalDateTime.ofInstant(Timestamp.valueOf("2024-01-01 10:00:00").toInstant(), ZoneOffset.UTC),
                         rs.getObject(6, LocalDateTime.class));
        }
    }

    @Test
    void parametersRoundTripThroughSelect() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                     "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ?::DATE AS e, ?::TIMESTAMP AS f, ? AS g, ?::DECIMAL(10,3) AS h, "
                     + "$9 AS i")) {
            ps.setObject(1, 42);
            ps.setObject(2, 4.25);
            ps.setObject(3, "text");
            ps.setObject(4, false);
            ps.setObject(5, LocalDate.of(2020, 2, 29));
            ps.setObject(6, LocalDateTime.of(2020, 2, 29, 1, 2, 3, 400_000_000));
            ps.setDouble(7, Double.NaN);
            ps.setObject(8, "1.5", Types.DECIMAL);
            ps.setObject(9, 7L);
            ResultSet rs = ps.executeQuery();
            assertTrue(rs.next());
            assertEquals(42L, rs.getObject("a")); // integers are bound as BIGINT
            assertEquals(4.25, rs.getObject("b"));
            assertEquals("text", rs.getObject("c"));
            assertEquals(false, rs.getObject("d"));
            assertEquals(LocalDate.of(2020, 2, 29), rs.getObject("e", LocalDate.class));
            assertEquals(LocalDateTime.of(2020, 2, 29, 1, 2, 3, 400_000_000), rs.getObject("f", LocalDateTime.class));
            assertTrue(Double.isNaN(rs.getDouble("g")));
            assertEquals(new BigDecimal("1.500"), rs.getBigDecimal("h"));
            assertEquals(7, rs.getInt("i"));
            // The same statement again with other values: bound afresh, never pasted into SQL.
            ps.clearParameters();
            assertThrows(SQLException.class, ps::executeQuery); // parameters not set
            for (int i = 1; i <= 9; i++)
                ps.setString(i, i == 5 ? "2021-03-04" : i == 6 ? "2021-03-04 05:06:07" : i == 8 ? "2.25" : "'; --");
            rs = ps.executeQuery();
            assertTrue(rs.next());
            assertEquals("'; --", rs.getString("a"));
            assertEquals(new BigDecimal("2.250"), rs.getBigDecimal("h"));
        }
        // The wrong number of values is the server's error.
        try (PreparedStatement ps = conn.prepareStatement("SELECT ? + ?")) {
            ps.setInt(1, 1);
            SQLException e = assertThrows(SQLException.class, ps::executeQuery);
            assertNotNull(Errors.code(e), e.toString());
            assertThrows(SQLException.class, () -> ps.setInt(0, 1));
            assertThrows(SQLException.class, () -> ps.setObject(1, new Object()));
        }
    }
}
