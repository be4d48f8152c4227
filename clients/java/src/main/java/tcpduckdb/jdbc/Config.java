package tcpduckdb.jdbc;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * What a connection needs, from {@code jdbc:tcpduckdb://[USER[:PASSWORD]@]HOST:PORT/DATABASE?...},
 * the Properties given to DriverManager, the environment (TCPDUCKDB_HOST, ...) and the defaults,
 * in that order: the same names and defaults as the Go, Python and C clients.
 */
final class Config {
    static final String PREFIX = "jdbc:tcpduckdb:";
    static final List<String> SSL_MODES =
            Arrays.asList("disable", "prefer", "require", "verify-ca", "verify-full");
    /** The URI's query parameters and the Properties the driver reads; others are refused in
     * the URI and ignored in Properties (tools pass their own). */
    static final List<String> KEYS = Arrays.asList("user", "password", "sslmode", "sslrootcert",
            "sslcert", "sslkey", "connect_timeout");

    String host = "127.0.0.1";
    int port = 4000;
    String user; // null: do not log in
    String password = "";
    String database; // null: log in only, no connect
    String sslMode = "prefer";
    String sslRootCert; // null: the JVM's trusted CAs
    String sslCert;
    String sslKey;
    int connectTimeoutMillis = 30_000;

    static boolean accepts(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    static Config parse(String url, Properties info, Map<String, String> env) throws SQLException {
        Config c = new Config();
        String v;
        if ((v = env.get("TCPDUCKDB_HOST")) != null && !v.isEmpty())
            c.host = v;
        String port = env.getOrDefault("TCPDUCKDB_PORT", "");
        c.user = nonEmpty(env.get("TCPDUCKDB_USER"));
        if ((v = env.get("TCPDUCKDB_PASSWORD")) != null)
            c.password = v;
        c.database = nonEmpty(env.get("TCPDUCKDB_DATABASE"));
        if ((v = env.get("TCPDUCKDB_SSLMODE")) != null && !v.isEmpty())
            c.sslMode = v;
        c.sslRootCert = nonEmpty(env.get("TCPDUCKDB_SSLROOTCERT"));
        c.sslCert = nonEmpty(env.get("TCPDUCKDB_SSLCERT"));
        c.sslKey = nonEmpty(env.get("TCPDUCKDB_SSLKEY"));
        if (info != null) {
            for (String key : KEYS) {
                String p = info.getProperty(key);
                if (p != null)
                    c.set(key, p);
            }
        }
        String rest = url.substring(PREFIX.length());
        if (!rest.isEmpty()) {
            URI u;
            try {
                u = new URI(rest);
            } catch (URISyntaxException e) {
                // Not e's text: it quotes the whole URI, password included.
                throw Errors.usage("bad URL: " + e.getReason());
            }
            if (!"//".equals(rest.substring(0, Math.min(2, rest.length()))))
                throw Errors.usage("bad URL: it must start with jdbc:tcpduckdb://");
            String userInfo = u.getRawUserInfo();
            if (userInfo != null) {
                int colon = userInfo.indexOf(':');
                c.user = decode(colon >= 0 ? userInfo.substring(0, colon) : userInfo);
                if (colon >= 0)
                    c.password = decode(userInfo.substring(colon + 1));
            }
            if (u.getHost() != null && !u.getHost().isEmpty()) {
                String h = u.getHost();
                c.host = h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
            } else if (u.getRawAuthority() != null && u.getRawAuthority().contains(":")
                       && u.getPort() < 0) {
                throw Errors.usage("bad URL: bad host or port");
            }
            if (u.getPort() >= 0)
                port = Integer.toString(u.getPort());
            String path = u.getRawPath();
            if (path != null && path.length() > 1)
                c.database = decode(path.substring(1));
            String query = u.getRawQuery();
            if (query != null && !query.isEmpty()) {
                for (String pair : query.split("&")) {
                    if (pair.isEmpty())
                        continue;
                    int eq = pair.indexOf('=');
                    // Form encoding, as Go's url.Query reads it: '+' is a space here.
                    String key = URLDecoder.decode(eq >= 0 ? pair.substring(0, eq) : pair,
                                                   StandardCharsets.UTF_8);
                    String val = eq >= 0 ? URLDecoder.decode(pair.substring(eq + 1),
                                                             StandardCharsets.UTF_8)
                                         : "";
                    if (!KEYS.contains(key))
                        throw Errors.usage("bad URL: unknown parameter \"" + key + "\"");
                    c.set(key, val);
                }
            }
        }
        if (!port.isEmpty()) {
            try {
                c.port = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                c.port = -1;
            }
            if (c.port <= 0 || c.port > 65535)
                throw Errors.usage("bad port \"" + port + "\"");
        }
        if (!SSL_MODES.contains(c.sslMode))
            throw Errors.usage("sslmode must be one of " + String.join(", ", SSL_MODES) + ", not \""
                               + c.sslMode + "\"");
        if (c.sslKey != null && c.sslCert == null)
            throw Errors.usage("sslkey is given without sslcert");
        return c;
    }

    private void set(String key, String val) throws SQLException {
        switch (key) {
        case "user":
            user = nonEmpty(val);
            break;
        case "password":
            password = val;
            break;
        case "sslmode":
            sslMode = val;
            break;
        case "sslrootcert":
            sslRootCert = nonEmpty(val);
            break;
        case "sslcert":
            sslCert = nonEmpty(val);
            break;
        case "sslkey":
            sslKey = nonEmpty(val);
            break;
        case "connect_timeout":
            double secs;
            try {
                secs = Double.parseDouble(val);
            } catch (NumberFormatException e) {
                secs = -1;
            }
            if (!(secs >= 0) || secs > 86400)
                throw Errors.usage("connect_timeout must be seconds, not \"" + val + "\"");
            connectTimeoutMillis = secs == 0 ? 30_000 : (int) Math.max(1, secs * 1000);
            break;
        default:
            throw new AssertionError(key);
        }
    }

    private static String nonEmpty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String decode(String s) {
        // URLDecoder also turns '+' into a space, which a URI's path and user info do not.
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
