"""TLS for the wire: the ``starttls`` upgrade of docs/protocol.md, with the standard ssl module.

The client's first request is ``starttls``. A server with TLS answers ``success`` and then
waits for the ClientHello on the same socket; a server without TLS answers an ``Error: ...``
line and the connection goes on in plaintext (which only ``sslmode=prefer`` accepts).

The answer line is read without reading past its newline (``recv`` with ``MSG_PEEK``, then
exactly the line): whatever follows ``success`` belongs to the TLS session, and a server that
sent anything before our ClientHello is broken, so bytes already waiting after ``success``
are refused as a protocol error rather than handed to either side.
"""
import socket
import ssl

SSLMODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
MAX_LINE = 4096


class TLSError(Exception):
    """TLS could not be set up as ``sslmode`` demands (the socket is then closed)."""


# OpenSSL verify codes (X509_V_ERR_*) named the way the contract asks for.
_EXPIRED = {10: "certificate has expired", 9: "certificate is not yet valid"}
_UNKNOWN_CA = {2, 18, 19, 20, 21, 27}
_HOST_MISMATCH = {62, 63, 64}


def make_context(sslmode, sslrootcert=None, sslcert=None, sslkey=None):
    """The client SSLContext for ``sslmode`` (not 'disable'). Raises TLSError when a file
    cannot be loaded."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if sslmode in ("prefer", "require"):
        # Encryption without authentication, as libpq's prefer/require: no chain, no name.
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.check_hostname = sslmode == "verify-full"  # also matches IP address SANs
        try:
            if sslrootcert:
                ctx.load_verify_locations(cafile=sslrootcert)
            else:
                ctx.load_default_certs()
        except (OSError, ssl.SSLError) as e:
            raise TLSError("cannot load sslrootcert %s: %s" % (sslrootcert, _why(e))) from None
    if sslkey and not sslcert:
        raise TLSError("sslkey is given without sslcert")
    if sslcert:
        try:
            ctx.load_cert_chain(sslcert, sslkey or None)
        except (OSError, ssl.SSLError) as e:
            raise TLSError("cannot load the client certificate %s / key %s: %s"
                           % (sslcert, sslkey or sslcert, _why(e))) from None
    return ctx


def _why(e):
    if isinstance(e, ssl.SSLError) and e.reason:
        return e.reason.lower().replace("_", " ")
    return e.strerror or str(e)


def _read_line_exactly(sock):
    """Reads one answer line from a plain socket without consuming a byte after its newline.
    Returns (line, extra) where extra tells whether more bytes were already waiting."""
    got = b""
    while True:
        try:
            peek = sock.recv(MAX_LINE, socket.MSG_PEEK)
        except socket.timeout:
            raise TLSError("timed out waiting for the server's answer to starttls") from None
        except OSError as e:
            raise TLSError("connection lost during starttls: %s" % e) from None
        if not peek:
            raise TLSError("the server closed the connection during starttls")
        i = peek.find(b"\n")
        take = len(peek) if i < 0 else i + 1
        if len(got) + take > MAX_LINE:
            raise TLSError("the server's answer to starttls is not a line")
        left = take
        while left:  # the bytes are already there: recv returns them without waiting
            chunk = sock.recv(left)
            if not chunk:
                raise TLSError("the server closed the connection during starttls")
            got += chunk
            left -= len(chunk)
        if i >= 0:
            return got[:-1].rstrip(b"\r").decode("utf-8", "replace"), len(peek) > take


def verify_reason(e):
    """The reason a certificate check failed, in the contract's words."""
    code = getattr(e, "verify_code", None)
    message = getattr(e, "verify_message", None) or str(e)
    if code in _EXPIRED:
        return _EXPIRED[code]
    if code in _HOST_MISMATCH:
        return "host name mismatch (%s)" % message
    if code in _UNKNOWN_CA:
        return "unknown CA: the chain does not verify against sslrootcert (%s)" % message
    return message


def negotiate(sock, host, port, sslmode, ctx):
    """Runs the starttls upgrade on a freshly connected plain socket.

    Returns the socket to use from now on: an SSLSocket, or ``sock`` itself when the server
    has no TLS and sslmode is 'prefer'. Raises TLSError otherwise; the caller closes ``sock``.
    """
    try:
        sock.sendall(b"starttls\n")
    except OSError as e:
        raise TLSError("connection lost during starttls: %s" % e) from None
    line, extra = _read_line_exactly(sock)
    if line != "success":
        if line.startswith("Error: ") and not extra:
            if sslmode == "prefer":
                return sock  # no TLS on this server: go on in plaintext, same connection
            raise TLSError("the server does not offer TLS (sslmode=%s): %s" % (sslmode, line[7:]))
        raise TLSError("unexpected answer to starttls: %r" % line[:200])
    if extra:
        raise TLSError("protocol error: the server sent data after accepting starttls")
    where = "%s:%s" % (host, port)
    try:
        return ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as e:
        raise TLSError("TLS certificate verification failed for %s (sslmode=%s): %s"
                       % (where, sslmode, verify_reason(e))) from None
    except socket.timeout:
        raise TLSError("timed out in the TLS handshake with %s" % where) from None
    except ssl.SSLError as e:
        raise TLSError("TLS handshake with %s failed: %s" % (where, _why(e))) from None
    except OSError as e:
        raise TLSError("TLS handshake with %s failed: %s" % (where, e.strerror or e)) from None
