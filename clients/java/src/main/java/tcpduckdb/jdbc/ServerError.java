package tcpduckdb.jdbc;

/**
 * The server's {@code Error: MESSAGE} answer, attached as the cause of the SQLException the
 * driver throws for it: {@code e.getCause() instanceof ServerError se ? se.getCode() : null}.
 * Kind and code are the ones the Go, Python and Node clients give (clients/java/README.md).
 */
public final class ServerError extends Exception {
    private static final long serialVersionUID = 1L;

    private final String kind;
    private final String code;

    ServerError(String message, String kind, String code) {
        super(message, null, false, false);
        this.kind = kind;
        this.code = code;
    }

    /** The prefix of the message before its first ':' ("Catalog Error", "Access Denied"). */
    public String getKind() {
        return kind;
    }

    /** The kind in upper snake case: CATALOG_ERROR, ACCESS_DENIED, TRANSACTION_ABORTED, ... */
    public String getCode() {
        return code;
    }
}
