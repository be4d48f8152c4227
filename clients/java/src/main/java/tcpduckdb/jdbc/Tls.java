package tcpduckdb.jdbc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.sql.SQLException;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS for {@code sslmode} with libpq's names (docs/protocol.md, "TLS"): prefer and require
 * encrypt without checking the certificate; verify-ca checks the chain against sslrootcert (or
 * the JVM's trusted CAs); verify-full also checks that the host name or IP address the client
 * connected to is in the certificate. A failure is an SQLException naming the reason, never a
 * fall-back to plain text.
 */
final class Tls {
    private Tls() {}

    /** Runs the handshake over the connected socket s (after the server's `success`). */
    static SSLSocket wrap(Socket s, Config cfg) throws SQLException {
        SSLContext ctx;
        try {
            ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers(cfg), trustManagers(cfg), null);
        } catch (GeneralSecurityException e) {
            throw Errors.connect("cannot set up TLS: " + e.getMessage(), e);
        }
        SSLSocket ssl;
        try {
            ssl = (SSLSocket) ctx.getSocketFactory().createSocket(s, cfg.host, cfg.port, true);
            SSLParameters p = ssl.getSSLParameters();
            p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            if (cfg.sslMode.equals("verify-full"))
                p.setEndpointIdentificationAlgorithm("HTTPS"); // host name or IP address SAN
            ssl.setSSLParameters(p);
            ssl.startHandshake();
        } catch (IOException e) {
            throw Errors.connect("TLS handshake with " + cfg.address() + " failed (sslmode="
                                 + cfg.sslMode + "): " + rootMessage(e), e);
        }
        return ssl;
    }

    private static String rootMessage(Throwable e) {
        String msg = e.getMessage();
        for (Throwable t = e.getCause(); t != null; t = t.getCause())
            if (t.getMessage() != null)
                msg = msg + ": " + t.getMessage();
        return msg;
    }

    private static TrustManager[] trustManagers(Config cfg) throws SQLException, GeneralSecurityException {
        if (cfg.sslMode.equals("prefer") || cfg.sslMode.equals("require")) {
            // Encryption without authentication, as libpq's prefer/require.
            return new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }};
        }
        KeyStore roots = null;
        if (cfg.sslRootCert != null) {
            Collection<? extends Certificate> certs = readCertificates(cfg.sslRootCert, "sslrootcert");
            roots = KeyStore.getInstance(KeyStore.getDefaultType());
            try {
                roots.load(null, null);
            } catch (IOException e) {
                throw new GeneralSecurityException(e);
            }
            int i = 0;
            for (Certificate c : certs)
                roots.setCertificateEntry("root" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(roots); // null: the JVM's trusted CAs
        return tmf.getTrustManagers();
    }

    private static Collection<? extends Certificate> readCertificates(String file, String what)
            throws SQLException {
        Collection<? extends Certificate> certs;
        try {
            byte[] pem = Files.readAllBytes(Paths.get(file));
            certs = CertificateFactory.getInstance("X.509")
                            .generateCertificates(new ByteArrayInputStream(pem));
        } catch (IOException | GeneralSecurityException e) {
            throw Errors.connect("cannot load " + what + " " + file + ": " + e.getMessage(), e);
        }
        if (certs.isEmpty())
            throw Errors.connect("cannot load " + what + " " + file + ": no PEM certificate in it", null);
        return certs;
    }

    private static final Pattern PKCS8 =
            Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    /** The client certificate sslcert with its key sslkey (or the key inside sslcert): a PEM
     * certificate chain and an unencrypted PKCS#8 key ("BEGIN PRIVATE KEY"), RSA or EC. */
    private static KeyManager[] keyManagers(Config cfg) throws SQLException, GeneralSecurityException {
        if (cfg.sslCert == null)
            return null;
        Collection<? extends Certificate> chain = readCertificates(cfg.sslCert, "sslcert");
        String keyFile = cfg.sslKey != null ? cfg.sslKey : cfg.sslCert;
        String text;
        try {
            text = new String(Files.readAllBytes(Paths.get(keyFile)), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw Errors.connect("cannot load sslkey " + keyFile + ": " + e.getMessage(), e);
        }
        Matcher m = PKCS8.matcher(text);
        if (!m.find())
            throw Errors.connect("cannot load sslkey " + keyFile
                                 + ": no unencrypted PKCS#8 key (BEGIN PRIVATE KEY) in it", null);
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        PrivateKey key = null;
        for (String alg : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                key = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
                break;
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        if (key == null)
            throw Errors.connect("cannot load sslkey " + keyFile + ": not an RSA, EC or Ed25519 key", null);
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            ks.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        char[] none = new char[0];
        ks.setKeyEntry("client", key, none, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, none);
        return kmf.getKeyManagers();
    }
}
