package tcpduckdb.jdbc;

import java.sql.SQLDataException;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLNonTransientException;
import java.sql.SQLSyntaxErrorException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
import java.sql.SQLTransientException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every SQLException the driver throws is built here: the server's error answers, classified
 * as the other clients classify them (clients/go/errors.go), with an SQLSTATE after
 * PostgreSQL's codes and the JDBC subclass of that SQLSTATE's class; and the driver's own
 * connection and protocol failures (class 08).
 */
final class Errors {
    private Errors() {}

    private static final Pattern EXISTS =
            Pattern.compile("^(Database|User|Tables) .* (Does Not Exist|Already Exists)$");

    /** The exception for an answer line's text after "Error: ". */
    static SQLException server(String text) {
        String msg = text.replace("\\n", "\n").replace("\\r", "\r");
        int nl = msg.indexOf('\n');
        String first = nl >= 0 ? msg.substring(0, nl) : msg;
        int colon = msg.indexOf(':');
        String kind = colon >= 0 ? msg.substring(0, colon) : first;
        Matcher m = EXISTS.matcher(first);
        if (m.matches()) {
            kind = m.group(2);
        }
        String code = kind.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_");
        code = code.replaceAll("^_+|_+$", "");
        ServerError cause = new ServerError(msg, kind, code);
        return build(msg, state(code), cause);
    }

    /** The server error's code, or null when e is not a server error. */
    static String code(SQLException e) {
        return e.getCause() instanceof ServerError ? ((ServerError) e.getCause()).getCode() : null;
    }

    /** PostgreSQL's SQLSTATE for each class of server error (README.md, "Errors"). */
    static String state(String code) {
        switch (code) {
        case "PARSER_ERROR":
        case "SYNTAX_ERROR":
            return "42601";
        case "CATALOG_ERROR":
        case "DOES_NOT_EXIST":
            return "42704";
        case "ALREADY_EXISTS":
            return "42710";
        case "BINDER_ERROR":
        case "BAD_REQUEST":
        case "DEPENDENCY_ERROR":
            return "42000";
        case "ACCESS_DENIED":
        case "PERMISSION_ERROR":
            return "42501";
        case "CONVERSION_ERROR":
            return "22018";
        case "OUT_OF_RANGE_ERROR":
            return "22003";
        case "INVALID_INPUT_ERROR":
            return "22023";
        case "MISMATCH_TYPE_ERROR":
        case "TYPE_ERROR":
        case "INVALID_TYPE_ERROR":
            return "22000";
        case "CONSTRAINT_ERROR":
            return "23000";
        case "TRANSACTIONCONTEXT_ERROR":
            return "25000";
        case "TRANSACTION_ABORTED":
            return "40000";
        case "TRANSACTION_ERROR":
        case "SERIALIZATION_ERROR":
            return "40001";
        case "UNAUTHORIZED":
        case "TOO_MANY_FAILED_LOGINS":
            return "28000";
        case "CANCELED":
            return "57014";
        case "STATEMENT_TIMEOUT":
            return "57014";
        case "REQUEST_TOO_LARGE":
            return "54000";
        case "TOO_MANY_CONNECTIONS":
            return "53300";
        case "TOO_MANY_STATEMENTS":
        case "SERVER_BUSY":
            return "53000";
        case "STATEMENT_MEMORY_LIMIT":
        case "SERVER_MEMORY_LIMIT":
        case "OUT_OF_MEMORY_ERROR":
            return "53200";
        case "TLS_REQUIRED":
        case "TLS_IS_NOT_ENABLED_ON_THIS_SERVER":
            return "08004";
        case "IDLE_TIMEOUT":
        case "IDLE_IN_TRANSACTION_TIMEOUT":
        case "LOGIN_TIMEOUT":
        case "SERVER_SHUTTING_DOWN":
            return "08006";
        case "NOT_IMPLEMENTED_ERROR":
            return "0A000";
        case "INTERNAL_ERROR":
        case "FATAL_ERROR":
            return "XX000";
        default:
            return "HY000";
        }
    }

    /** The JDBC subclass for state's class (JDBC 4.2, section 8.5.1). */
    static SQLException build(String msg, String state, Throwable cause) {
        switch (state) {
        case "57014":
            return "STATEMENT_TIMEOUT".equals(codeOf(cause)) ? new SQLTimeoutException(msg, state, cause)
                                                             : new SQLException(msg, state, cause);
        case "0A000":
            return new SQLFeatureNotSupportedException(msg, state, cause);
        case "53000":
        case "53200":
            return new SQLTransientException(msg, state, cause);
        case "53300":
            return new SQLTransientConnectionException(msg, state, cause);
        case "54000":
            return new SQLNonTransientException(msg, state, cause);
        default:
            break;
        }
        switch (state.substring(0, 2)) {
        case "08":
            return new SQLNonTransientConnectionException(msg, state, cause);
        case "22":
            return new SQLDataException(msg, state, cause);
        case "23":
            return new SQLIntegrityConstraintViolationException(msg, state, cause);
        case "28":
            return new SQLInvalidAuthorizationSpecException(msg, state, cause);
        case "40":
            return new SQLTransactionRollbackException(msg, state, cause);
        case "42":
            return new SQLSyntaxErrorException(msg, state, cause);
        default:
            return new SQLException(msg, state, cause);
        }
    }

    private static String codeOf(Throwable cause) {
        return cause instanceof ServerError ? ((ServerError) cause).getCode() : null;
    }

    /** A statement stopped by setQueryTimeout: the server's Canceled answer, as a timeout. */
    static SQLTimeoutException timeout(SQLException canceled, int seconds) {
        return new SQLTimeoutException("tcpduckdb: the statement ran longer than its query timeout ("
                + seconds + " s) and was cancelled", "57014", canceled);
    }

    /** The connection could not be opened (08001), e.g. TCP or TLS failed. */
    static SQLNonTransientConnectionException connect(String msg, Throwable cause) {
        return new SQLNonTransientConnectionException("tcpduckdb: " + msg, "08001", cause);
    }

    /** The connection was lost, or is closed (08006 / 08003). */
    static SQLNonTransientConnectionException lost(String msg, Throwable cause) {
        return new SQLNonTransientConnectionException("tcpduckdb: " + msg, "08006", cause);
    }

    /** A closed connection (08003), or a closed statement or result (HY010, as ODBC's
     * "function sequence error"). */
    static SQLException closed(String what) {
        if (what.equals("the connection"))
            return new SQLNonTransientConnectionException("tcpduckdb: the connection is closed", "08003");
        return new SQLException("tcpduckdb: " + what + " is closed", "HY010");
    }

    /** An answer the driver could not understand; the connection is dropped (08P01). */
    static SQLNonTransientConnectionException protocol(String msg) {
        return new SQLNonTransientConnectionException("tcpduckdb: protocol error: " + msg, "08P01");
    }

    /** A value that cannot be converted as asked (22018), or is out of range (22003). */
    static SQLDataException data(String msg) {
        return new SQLDataException("tcpduckdb: " + msg, "22018");
    }

    static SQLDataException range(String msg) {
        return new SQLDataException("tcpduckdb: " + msg, "22003");
    }

    /** A misuse of the API (a bad argument or state): 07000/HY000-like, no server involved. */
    static SQLException usage(String msg) {
        return new SQLException("tcpduckdb: " + msg, "HY000");
    }
}
