package tcpduckdb.jdbc;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Stops the shared server once every test class has run, and fails the run when the server
 * did not exit cleanly (a sanitizer report, a non-zero status). */
final class SharedServerExtension implements BeforeAllCallback, ExtensionContext.Store.CloseableResource {
    private static boolean registered;

    @Override
    public void beforeAll(ExtensionContext context) {
        synchronized (SharedServerExtension.class) {
            if (!registered) {
                registered = true;
                context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL).put("tcpduckdb-shared-server", this);
            }
        }
    }

    @Override
    public void close() throws Throwable {
        Shared.stop();
    }
}
