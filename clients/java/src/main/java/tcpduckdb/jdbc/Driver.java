package tcpduckdb.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The JDBC driver for TCP-DuckDB, registered with DriverManager (META-INF/services and this
 * class's static block): {@code jdbc:tcpduckdb://HOST:PORT/DATABASE?user=..&password=..&sslmode=..}.
 * See clients/java/README.md for the URL, the environment defaults, types and errors.
 */
public final class Driver implements java.sql.Driver {
    /** The driver's version, also the DatabaseMetaData's. */
    static final int MAJOR = 1, MINOR = 0;

    static {
        try {
            DriverManager.registerDriver(new Driver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Opens a connection, or returns null for a URL of another driver (JDBC's contract). */
    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url))
            return null;
        Config cfg;
        try {
            cfg = Config.parse(url, info, System.getenv());
        } catch (IllegalArgumentException e) { // a bad %-escape
            throw Errors.usage("bad URL: " + e.getMessage());
        }
        return TdbConnection.open(cfg);
    }

    @Override
    public boolean acceptsURL(String url) {
        return Config.accepts(url);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        String[][] props = {
            {"user", "user name (TCPDUCKDB_USER); none: do not log in"},
            {"password", "password (TCPDUCKDB_PASSWORD)"},
            {"sslmode", "disable, prefer (default), require, verify-ca, verify-full (TCPDUCKDB_SSLMODE)"},
            {"sslrootcert", "PEM CA file for verify-ca / verify-full (TCPDUCKDB_SSLROOTCERT)"},
            {"sslcert", "PEM client certificate (TCPDUCKDB_SSLCERT)"},
            {"sslkey", "PKCS#8 PEM key of sslcert (TCPDUCKDB_SSLKEY)"},
            {"connect_timeout", "seconds to open a connection (default 30)"},
        };
        DriverPropertyInfo[] out = new DriverPropertyInfo[props.length];
        for (int i = 0; i < props.length; i++) {
            out[i] = new DriverPropertyInfo(props[i][0], info == null ? null : info.getProperty(props[i][0]));
            out[i].description = props[i][1];
            out[i].required = false;
        }
        out[2].choices = Config.SSL_MODES.toArray(new String[0]);
        return out;
    }

    @Override
    public int getMajorVersion() {
        return MAJOR;
    }

    @Override
    public int getMinorVersion() {
        return MINOR;
    }

    /** No: DatabaseMetaData and the escape syntax are partial (README.md). */
    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw Unsupported.method("Driver.getParentLogger");
    }
}
