package tcpduckdb.jdbc;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;

/**
 * The wire (docs/protocol.md): one request out, one answer back, over plain TCP or, after
 * {@code starttls}, TLS on the same socket. Answers are read through one 64 KiB buffer; a
 * typed answer with rows is one long line that is parsed value by value straight off the
 * buffer ({@link #value}), so memory stays bounded by the buffer and one row whatever the
 * result size. Used by one thread at a time; {@link #abort} may be called from any thread.
 */
final class Wire {
    static final int BUFFER = 64 << 10;

    /** The line ended inside a row answer: an {@code Error:} line follows. */
    static final class Cut extends Exception {
        private static final long serialVersionUID = 1L;

        Cut() {
            super(null, null, false, false);
        }
    }

    /** A JSON number, kept as its text so that no digit is lost. */
    static final class Num {
        final String text;

        Num(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    private final Socket raw;
    private Socket sock;
    private InputStream in;
    private OutputStream out;
    private final byte[] buf = new byte[BUFFER];
    private int pos, lim;
    private final StringBuilder sb = new StringBuilder();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private Wire(Socket raw) throws IOException {
        this.raw = raw;
        this.sock = raw;
        this.in = raw.getInputStream();
        this.out = raw.getOutputStream();
    }

    private Wire(InputStream in) {
        this.raw = null;
        this.in = in;
    }

    /** Parses one JSON text (a command's answer, e.g. `list grants`). */
    static Object parse(String json) throws SQLException {
        Wire w = new Wire(new java.io.ByteArrayInputStream((json + "\n").getBytes(StandardCharsets.UTF_8)));
        try {
            return w.value();
        } catch (IOException | Cut e) {
            throw Errors.protocol("malformed JSON answer: " + shorten(json));
        }
    }

    /** Connects to cfg's address and runs the starttls upgrade its sslmode asks for. The whole
     * set-up is bounded by the connect timeout; afterwards reads have no timeout. */
    static Wire open(Config cfg) throws SQLException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(cfg.host, cfg.port), cfg.connectTimeoutMillis);
            s.setSoTimeout(cfg.connectTimeoutMillis);
        } catch (IOException e) {
            closeQuietly(s);
            throw Errors.connect("cannot connect to " + cfg.address() + ": " + e.getMessage(), e);
        }
        Wire w;
        try {
            w = new Wire(s);
        } catch (IOException e) {
            closeQuietly(s);
            throw Errors.connect("cannot connect to " + cfg.address() + ": " + e.getMessage(), e);
        }
        if (!cfg.sslMode.equals("disable")) {
            try {
                w.starttls(cfg);
            } catch (SQLException e) {
                w.abort();
                throw e;
            }
        }
        return w;
    }

    private void starttls(Config cfg) throws SQLException {
        String line;
        try {
            send("starttls");
            line = readLine();
        } catch (IOException e) {
            throw Errors.connect("no answer to starttls from " + cfg.address() + ": " + e.getMessage(), e);
        }
        if (!line.equals("success")) {
            if (line.startsWith("Error: ") && pos == lim) {
                if (cfg.sslMode.equals("prefer"))
                    return; // no TLS on this server: plain text on the same connection
                throw Errors.connect("the server does not offer TLS (sslmode=" + cfg.sslMode + "): "
                                     + line.substring(7), null);
            }
            throw Errors.connect("unexpected answer to starttls: " + shorten(line), null);
        }
        // Nothing may follow `success` before our ClientHello: bytes already read belong to no
        // one, and taking them into the TLS session would be the STARTTLS injection flaw.
        if (pos != lim)
            throw Errors.connect("protocol error: the server sent data after accepting starttls", null);
        SSLSocket ssl = Tls.wrap(raw, cfg);
        sock = ssl;
        try {
            in = ssl.getInputStream();
            out = ssl.getOutputStream();
        } catch (IOException e) {
            throw Errors.connect("TLS failed: " + e.getMessage(), e);
        }
    }

    String tlsProtocol() {
        return sock instanceof SSLSocket ? ((SSLSocket) sock).getSession().getProtocol() : null;
    }

    /** Sets the read timeout (0: none). */
    void timeout(int millis) throws IOException {
        sock.setSoTimeout(millis);
    }

    /** Closes the TCP socket (not the TLS layer, whose close_notify would wait for the write
     * lock a blocked send may hold); any thread. A blocked read then fails. */
    void abort() {
        if (raw != null)
            closeQuietly(raw);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }

    static String shorten(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    // ---- requests

    /** Sends one request; text holding a newline goes as an @N length-prefixed request. */
    void send(String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
            byte[] head = ("@" + b.length + "\n").getBytes(StandardCharsets.US_ASCII);
            byte[] all = new byte[head.length + b.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(b, 0, all, head.length, b.length);
            out.write(all);
        } else {
            byte[] all = new byte[b.length + 1];
            System.arraycopy(b, 0, all, 0, b.length);
            all[b.length] = '\n';
            out.write(all);
        }
        out.flush();
    }

    // ---- reading

    private void fill() throws IOException {
        if (pos == lim) {
            pos = lim = 0;
        } else if (lim == buf.length) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        int n = in.read(buf, lim, buf.length - lim);
        if (n < 0)
            throw new EOFException("the server closed the connection");
        lim += n;
    }

    /** The next byte, not consumed. */
    int peek() throws IOException {
        if (pos == lim)
            fill();
        return buf[pos] & 0xff;
    }

    private int next() throws IOException {
        if (pos == lim)
            fill();
        return buf[pos++] & 0xff;
    }

    /** Whether the next answer starts with prefix (ASCII); consumes nothing. Stops looking at
     * a newline, so a short answer ({@code success}) never waits for more bytes. */
    boolean startsWith(String prefix) throws IOException {
        int n = prefix.length();
        while (lim - pos < n) {
            for (int i = pos; i < lim; i++)
                if (buf[i] == '\n')
                    return false;
            if (pos > 0 && lim == buf.length) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            fill();
        }
        for (int i = 0; i < n; i++)
            if (buf[pos + i] != prefix.charAt(i))
                return false;
        return true;
    }

    /** The next line, without its "\n" (and "\r"). */
    String readLine() throws IOException {
        bytes.reset();
        for (;;) {
            if (pos == lim)
                fill();
            int i = pos;
            while (i < lim && buf[i] != '\n')
                i++;
            if (i < lim) {
                int end = i;
                if (bytes.size() == 0) {
                    if (end > pos && buf[end - 1] == '\r')
                        end--;
                    String s = new String(buf, pos, end - pos, StandardCharsets.UTF_8);
                    pos = i + 1;
                    return s;
                }
                bytes.write(buf, pos, end - pos);
                pos = i + 1;
                String s = bytes.toString(StandardCharsets.UTF_8);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            bytes.write(buf, pos, lim - pos);
            pos = lim;
        }
    }

    /**
     * Reads and drops the rest of the current line, at most limit bytes (negative: no limit).
     * Returns -1 when the limit was reached first, else whether the line ended with "]}" (a
     * complete typed answer rather than one cut by an error).
     */
    int skipLine(long limit) throws IOException {
        int last1 = -1, last2 = -1;
        for (;;) {
            if (pos == lim)
                fill();
            int i = pos;
            while (i < lim && buf[i] != '\n')
                i++;
            int n = i - pos;
            if (n >= 2) {
                last2 = buf[i - 2];
                last1 = buf[i - 1];
            } else if (n == 1) {
                last2 = last1;
                last1 = buf[i - 1];
            }
            if (i < lim) {
                pos = i + 1;
                return last2 == ']' && last1 == '}' ? 1 : 0;
            }
            pos = lim;
            if (limit >= 0 && (limit -= n) <= 0)
                return -1;
        }
    }

    // ---- JSON, read off the buffer

    private int skipSpace() throws IOException, Cut {
        for (;;) {
            int c = peek();
            if (c == '\n')
                throw new Cut();
            if (c != ' ' && c != '\t' && c != '\r')
                return c;
            pos++;
        }
    }

    /** Consumes the next non-blank byte, which must be c. */
    void expect(char c) throws IOException, Cut, SQLException {
        int got = skipSpace();
        if (got != c)
            throw Errors.protocol("expected '" + c + "' in an answer, got '" + (char) got + "'");
        pos++;
    }

    /** The next non-blank byte, not consumed ('\n' throws Cut). */
    int look() throws IOException, Cut {
        return skipSpace();
    }

    void skip() {
        pos++;
    }

    /**
     * The next JSON value: null, Boolean, String, {@link Num}, List (array) or Map (object, keys
     * in order). A raw newline cannot occur inside a JSON value, so one here means the line
     * ended: Cut.
     */
    Object value() throws IOException, Cut, SQLException {
        int c = skipSpace();
        switch (c) {
        case '"':
            pos++;
            return string();
        case '[': {
            pos++;
            List<Object> list = new ArrayList<>();
            if (skipSpace() == ']') {
                pos++;
                return list;
            }
            for (;;) {
                list.add(value());
                int d = skipSpace();
                pos++;
                if (d == ']')
                    return list;
                if (d != ',')
                    throw Errors.protocol("bad JSON array in an answer");
            }
        }
        case '{': {
            pos++;
            Map<String, Object> map = new LinkedHashMap<>();
            if (skipSpace() == '}') {
                pos++;
                return map;
            }
            for (;;) {
                if (skipSpace() != '"')
                    throw Errors.protocol("bad JSON object in an answer");
                pos++;
                String key = string();
                expect(':');
                map.put(key, value());
                int d = skipSpace();
                pos++;
                if (d == '}')
                    return map;
                if (d != ',')
                    throw Errors.protocol("bad JSON object in an answer");
            }
        }
        case 't':
            literal("true");
            return Boolean.TRUE;
        case 'f':
            literal("false");
            return Boolean.FALSE;
        case 'n':
            literal("null");
            return null;
        default:
            if (c == '-' || (c >= '0' && c <= '9'))
                return number();
            throw Errors.protocol("unexpected '" + (char) c + "' in an answer");
        }
    }

    private void literal(String word) throws IOException, Cut, SQLException {
        for (int i = 0; i < word.length(); i++) {
            int c = peek();
            if (c == '\n')
                throw new Cut();
            if (c != word.charAt(i))
                throw Errors.protocol("bad JSON literal in an answer");
            pos++;
        }
    }

    private Num number() throws IOException, Cut {
        sb.setLength(0);
        for (;;) {
            int c = peek();
            if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
                sb.append((char) c);
                pos++;
            } else {
                return new Num(sb.toString());
            }
        }
    }

    /** A JSON string's text; the opening quote is consumed. */
    private String string() throws IOException, Cut, SQLException {
        // Fast path: the whole string is in the buffer, without escapes.
        for (int i = pos; i < lim; i++) {
            byte b = buf[i];
            if (b == '"') {
                String s = new String(buf, pos, i - pos, StandardCharsets.UTF_8);
                pos = i + 1;
                return s;
            }
            if (b == '\\' || b == '\n')
                break;
        }
        sb.setLength(0);
        bytes.reset();
        for (;;) {
            int c = next();
            if (c == '"') {
                flushBytes();
                return sb.toString();
            }
            if (c == '\n') {
                pos--;
                throw new Cut();
            }
            if (c != '\\') {
                bytes.write(c);
                continue;
            }
            flushBytes();
            int e = next();
            switch (e) {
            case '"':
            case '\\':
            case '/':
                sb.append((char) e);
                break;
            case 'b':
                sb.append('\b');
                break;
            case 'f':
                sb.append('\f');
                break;
            case 'n':
                sb.append('\n');
                break;
            case 'r':
                sb.append('\r');
                break;
            case 't':
                sb.append('\t');
                break;
            case 'u': {
                int v = 0;
                for (int k = 0; k < 4; k++) {
                    int h = Character.digit(next(), 16);
                    if (h < 0)
                        throw Errors.protocol("bad \\u escape in an answer");
                    v = v * 16 + h;
                }
                sb.append((char) v);
                break;
            }
            default:
                throw Errors.protocol("bad escape in an answer");
            }
        }
    }

    private void flushBytes() {
        if (bytes.size() > 0) {
            sb.append(bytes.toString(StandardCharsets.UTF_8));
            bytes.reset();
        }
    }
}
