package tcpduckdb.jdbc;

import java.sql.Types;

/**
 * A result column: its name and DuckDB's spelling of its type ("DECIMAL(18,3)", "VARCHAR[]"),
 * and what JDBC makes of that type (clients/java/README.md, "Types").
 */
final class Column {
    enum Kind {
        BOOLEAN, INT, LONG, BIG, DECIMAL, FLOAT, DOUBLE, STRING, BLOB, DATE, TIME, TIMETZ,
        TIMESTAMP, TIMESTAMPTZ, UUID, NESTED
    }

    final String name;
    final String type;
    final Kind kind;
    final int sqlType;
    final int precision;
    final int scale;

    Column(String name, String type) {
        this.name = name;
        this.type = type;
        String base = type;
        int p = 0, s = 0;
        boolean nested = type.endsWith("]");
        int paren = type.indexOf('(');
        if (!nested && paren >= 0) {
            base = type.substring(0, paren).trim();
            if (base.equals("DECIMAL") && type.endsWith(")")) {
                String[] ps = type.substring(paren + 1, type.length() - 1).split(",");
                try {
                    p = Integer.parseInt(ps[0].trim());
                    s = ps.length > 1 ? Integer.parseInt(ps[1].trim()) : 0;
                } catch (NumberFormatException e) {
                    p = 38;
                }
            } else {
                nested = true; // STRUCT(...), MAP(...), UNION(...), ENUM(...) is text below
                if (base.equals("ENUM"))
                    nested = false;
            }
        }
        Kind k;
        int t;
        switch (nested ? "" : base) {
        case "BOOLEAN":
            k = Kind.BOOLEAN;
            t = Types.BOOLEAN;
            p = 1;
            break;
        case "TINYINT":
            k = Kind.INT;
            t = Types.TINYINT;
            p = 3;
            break;
        case "SMALLINT":
        case "UTINYINT":
            k = Kind.INT;
            t = Types.SMALLINT;
            p = 5;
            break;
        case "INTEGER":
        case "USMALLINT":
            k = Kind.INT;
            t = Types.INTEGER;
            p = 10;
            break;
        case "BIGINT":
        case "UINTEGER":
            k = Kind.LONG;
            t = Types.BIGINT;
            p = 19;
            break;
        case "UBIGINT":
            k = Kind.BIG;
            t = Types.NUMERIC;
            p = 20;
            break;
        case "HUGEINT":
        case "UHUGEINT":
            k = Kind.BIG;
            t = Types.NUMERIC;
            p = 39;
            break;
        case "BIGNUM":
        case "VARINT":
            k = Kind.BIG;
            t = Types.NUMERIC;
            p = 0;
            break;
        case "DECIMAL":
            k = Kind.DECIMAL;
            t = Types.DECIMAL;
            break;
        case "FLOAT":
            k = Kind.FLOAT;
            t = Types.REAL;
            p = 7;
            break;
        case "DOUBLE":
            k = Kind.DOUBLE;
            t = Types.DOUBLE;
            p = 15;
            break;
        case "BLOB":
            k = Kind.BLOB;
            t = Types.VARBINARY;
            break;
        case "DATE":
            k = Kind.DATE;
            t = Types.DATE;
            p = 10;
            break;
        case "TIME":
        case "TIME_NS":
            k = Kind.TIME;
            t = Types.TIME;
            p = 15;
            break;
        case "TIME WITH TIME ZONE":
            k = Kind.TIMETZ;
            t = Types.TIME_WITH_TIMEZONE;
            p = 21;
            break;
        case "TIMESTAMP":
        case "TIMESTAMP_S":
        case "TIMESTAMP_MS":
        case "TIMESTAMP_NS":
            k = Kind.TIMESTAMP;
            t = Types.TIMESTAMP;
            p = 29;
            break;
        case "TIMESTAMP WITH TIME ZONE":
            k = Kind.TIMESTAMPTZ;
            t = Types.TIMESTAMP_WITH_TIMEZONE;
            p = 35;
            break;
        case "UUID":
            k = Kind.UUID;
            t = Types.OTHER;
            p = 36;
            break;
        case "VARCHAR":
        case "ENUM":
        case "BIT":
        case "JSON":
            k = Kind.STRING;
            t = Types.VARCHAR;
            break;
        case "":
            k = Kind.NESTED;
            t = Types.OTHER;
            break;
        default: // INTERVAL and types this driver does not know: text
            k = Kind.STRING;
            t = Types.OTHER;
            break;
        }
        this.kind = k;
        this.sqlType = t;
        this.precision = p;
        this.scale = s;
    }

    /** The class getObject returns for a non-NULL value. */
    String className() {
        switch (kind) {
        case BOOLEAN:
            return "java.lang.Boolean";
        case INT:
            return "java.lang.Integer";
        case LONG:
            return "java.lang.Long";
        case BIG:
            return "java.math.BigInteger";
        case DECIMAL:
            return "java.math.BigDecimal";
        case FLOAT:
            return "java.lang.Float";
        case DOUBLE:
            return "java.lang.Double";
        case BLOB:
            return "[B";
        case DATE:
            return "java.sql.Date";
        case TIME:
            return "java.sql.Time";
        case TIMETZ:
            return "java.time.OffsetTime";
        case TIMESTAMP:
        case TIMESTAMPTZ:
            return "java.sql.Timestamp";
        case UUID:
            return "java.util.UUID";
        default:
            return "java.lang.String";
        }
    }

    boolean signed() {
        switch (kind) {
        case INT:
        case LONG:
        case BIG:
        case DECIMAL:
        case FLOAT:
        case DOUBLE:
            return !type.startsWith("U");
        default:
            return false;
        }
    }

    int displaySize() {
        switch (kind) {
        case BOOLEAN:
            return 5;
        case INT:
        case LONG:
        case BIG:
            return precision > 0 ? precision + 1 : 40;
        case DECIMAL:
            return precision + 2;
        case FLOAT:
            return 15;
        case DOUBLE:
            return 25;
        case STRING:
        case BLOB:
        case NESTED:
            return Integer.MAX_VALUE;
        default:
            return precision;
        }
    }
}
