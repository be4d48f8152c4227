package tcpduckdb.jdbc;

import java.sql.SQLFeatureNotSupportedException;

/** The one place that builds the exception for an optional JDBC method the driver lacks. */
final class Unsupported {
    private Unsupported() {}

    static SQLFeatureNotSupportedException method(String name) {
        return new SQLFeatureNotSupportedException(
                "tcpduckdb: " + name + " is not supported by this driver", "0A000");
    }
}
