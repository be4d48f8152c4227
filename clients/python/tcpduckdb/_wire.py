"""The wire: one request out, one answer back; typed row answers are parsed as they arrive.

A typed answer with rows is one (possibly very long) line:

    {"columns":[{"name":..,"type":..},...],"rows":[[..],[..],...]}\n

RowStream reads it from the socket in chunks and finds each row's end with a small scanner
(string and escape state, bracket depth), then hands the row's bytes to json.loads: memory
stays bounded by the chunk size plus one row, whatever the result size. If the query fails
after rows were sent, the line ends without its closing ``]}`` and an ``Error: ...`` line
follows (docs/protocol.md, "Errors in the middle of a result").
"""
import collections
import json
import re
import socket
from decimal import Decimal

from . import _tls

CHUNK = 65536

# A complete JSON string, or one of the characters the scanner cares about. A lone '"' means
# the string is not complete in the buffer yet.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}\n"]', re.S)
_COLUMNS = b'{"columns":'
_ROWS = b',"rows":['


class WireError(Exception):
    """The connection failed or the answer could not be understood (the connection is lost)."""


class ServerError(Exception):
    """An ``Error: ...`` answer; the connection stays usable."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _decode_floats_exactly(raw):
    return json.loads(raw, parse_float=Decimal)


class Wire:
    def __init__(self, host, port, timeout, sslmode="disable", ssl_context=None):
        """Connects; unless sslmode is 'disable', runs the starttls upgrade (_tls.negotiate)
        within the connect timeout. Raises WireError (a TLSError's text for TLS failures)."""
        try:
            sock = socket.create_connection((host, port), timeout=timeout if timeout else 30)
        except OSError as e:
            raise WireError("cannot connect to %s:%s: %s" % (host, port, e)) from e
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if sslmode != "disable":
                sock = _tls.negotiate(sock, host, port, sslmode, ssl_context)
            sock.settimeout(timeout)
        except _tls.TLSError as e:
            sock.close()
            raise WireError(str(e)) from None
        except OSError as e:
            sock.close()
            raise WireError("cannot connect to %s:%s: %s" % (host, port, e)) from e
        self.sock = sock
        self.buf = b""
        self.pos = 0
        self.fills = 0
        self.broken = None

    # -- low level ------------------------------------------------------------------------

    def _fail(self, why, exc=None):
        self.broken = why
        try:
            self.sock.close()
        except OSError:
            pass
        raise WireError(why) from exc

    def _fill(self):
        """Appends one chunk to the buffer (dropping what was consumed)."""
        if self.broken:
            raise WireError(self.broken)
        try:
            data = self.sock.recv(CHUNK)
        except socket.timeout as e:
            self._fail("timed out waiting for the server", e)
        except OSError as e:
            self._fail("connection lost: %s" % e, e)
        except BaseException as e:  # KeyboardInterrupt mid-answer: the stream is out of sync
            self._fail("interrupted while reading an answer", e)
        if not data:
            self._fail("the server closed the connection")
        self.fills += 1
        if self.pos:
            self.buf = self.buf[self.pos:] + data
            self.pos = 0
        else:
            self.buf += data

    def send(self, text):
        """Sends one request; text holding a newline goes as an @N length-prefixed request."""
        if self.broken:
            raise WireError(self.broken)
        data = text.encode("utf-8")
        if b"\n" in data or b"\r" in data:
            data = b"@%d\n" % len(data) + data
        else:
            data += b"\n"
        try:
            self.sock.sendall(data)
        except OSError as e:
            self._fail("connection lost: %s" % e, e)

    def readline(self):
        """The next answer line as text, without its newline."""
        scanned = 0  # bytes after pos already searched
        while True:
            i = self.buf.find(b"\n", self.pos + scanned)
            if i >= 0:
                line = self.buf[self.pos:i]
                self.pos = i + 1
                return line.decode("utf-8", "replace")
            scanned = len(self.buf) - self.pos
            self._fill()

    def peek(self, n):
        """At least n bytes (or up to a newline) of the next answer, not consumed."""
        while len(self.buf) - self.pos < n and self.buf.find(b"\n", self.pos) < 0:
            self._fill()
        return self.buf[self.pos:self.pos + n]

    def tls_version(self):
        """'TLSv1.3', 'TLSv1.2', or None on a plaintext connection."""
        version = getattr(self.sock, "version", None)
        return version() if version else None

    def close(self):
        if not self.broken:
            self.broken = "the connection is closed"
            try:
                self.sock.sendall(b"quit\n")
            except OSError:
                pass
        try:
            self.sock.close()
        except OSError:
            pass

    # -- answers --------------------------------------------------------------------------

    def answer(self):
        """Reads the next answer: ('rows', RowStream) | ('changed', n) | ('success', None) |
        ('text', line). Raises ServerError for an ``Error: ...`` line."""
        head = self.peek(len(_COLUMNS))
        if head == _COLUMNS:
            return "rows", RowStream(self)
        line = self.readline()
        if line.startswith("Error: "):
            raise ServerError(line[7:])
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                self._fail("unexpected answer: %r" % line[:200])
            if "changed" in obj:
                return "changed", obj["changed"]
            if obj.get("success") is True:
                return "success", None
        return "text", line

    # -- scanning -------------------------------------------------------------------------

    def scan_value(self):
        """Consumes one JSON array or object starting at the read position; returns its bytes.

        Returns None if a newline comes first (the answer line was cut by a mid-result error).
        """
        depth = 0
        scan = self.pos
        while True:
            buf = self.buf
            resume = len(buf)
            for m in _TOKEN.finditer(buf, scan):
                ch = m.group()
                if len(ch) != 1:
                    continue  # a whole string
                if ch == b"[" or ch == b"{":
                    depth += 1
                elif ch == b"]" or ch == b"}":
                    depth -= 1
                    if depth == 0:
                        end = m.end()
                        raw = buf[self.pos:end]
                        self.pos = end
                        return raw
                elif ch == b"\n":
                    self.pos = m.start()
                    return None
                else:  # '"': a string not complete yet; read more and rescan from it
                    resume = m.start()
                    break
            rel = resume - self.pos
            # Read until the unconsumed part doubles, so rescanning a long unfinished string
            # costs O(total) rather than O(total^2).
            # (Stop at a newline: the answer line ends there.)
            want = 2 * (len(self.buf) - self.pos)
            seen = len(self.buf) - self.pos
            self._fill()
            while (len(self.buf) - self.pos < want
                   and self.buf.find(b"\n", self.pos + seen) < 0):
                seen = len(self.buf) - self.pos
                self._fill()
            scan = self.pos + rel

    def expect(self, literal):
        while len(self.buf) - self.pos < len(literal):
            self._fill()
        if self.buf[self.pos:self.pos + len(literal)] != literal:
            return False
        self.pos += len(literal)
        return True

    def next_byte(self):
        while self.pos >= len(self.buf):
            self._fill()
        return self.buf[self.pos:self.pos + 1]


class RowStream:
    """The rows of one answer, read from the socket as they are consumed.

    Fast path: the rows complete in the buffer are parsed with one json.loads call, cut after
    the last ``],[`` (or at the ``]}`` that ends the line). Parsing ``[`` + that text + ``]``
    only succeeds when the cut is outside any string and at row depth, so a successful parse
    is exactly the complete rows. When it fails (``],[`` inside a string, a cut line) the rows
    of that buffer go through the exact scanner one by one.
    """

    def __init__(self, wire):
        self.wire = wire
        self.done = False
        wire.expect(_COLUMNS)
        raw = wire.scan_value()
        if raw is None or not wire.expect(_ROWS):
            wire._fail("malformed row answer")
        self.columns = [(c["name"], c["type"]) for c in json.loads(raw)]
        self.loads = json.loads
        self.ready = collections.deque()
        self.slow_fill = -1  # the buffer fill on which the fast path failed
        self.searched = 0  # bytes after pos known to hold neither "],[" nor a newline

    def use_exact_fractions(self):
        self.loads = _decode_floats_exactly

    def next_raw(self):
        """The next row as a list of JSON values, or None at the end. Raises ServerError for
        an error in the middle of the result."""
        if self.ready:
            return self.ready.popleft()
        if self.done:
            return None
        w = self.wire
        while True:
            ch = w.next_byte()
            if ch == b"]":
                if not w.expect(b"]}\n"):
                    w._fail("malformed row answer")
                self.done = True
                return None
            if ch == b",":
                w.pos += 1
                self.searched = 0
                continue
            if ch == b"\n":
                return self._cut()
            if ch != b"[":
                w._fail("malformed row answer")
            if self._fast():
                return self.ready.popleft()
            if w.fills == self.slow_fill:
                # The fast path failed on this buffer: the exact scanner, one row.
                raw = w.scan_value()
                self.searched = 0
                if raw is None:
                    return self._cut()
                return self.loads(raw)
            # No complete row boundary in the buffer yet: read more and try again.
            self.searched = len(w.buf) - w.pos
            w._fill()

    def _fast(self):
        w = self.wire
        buf, pos = w.buf, w.pos
        if w.fills == self.slow_fill:
            return False
        start = pos + max(0, self.searched - 2)
        nl = buf.find(b"\n", start)
        if nl >= 0:
            if buf[nl - 2:nl] == b"]}":
                try:
                    rows = self.loads(b"[" + buf[pos:nl - 1])
                except ValueError:
                    rows = None
                if rows is not None:
                    w.pos = nl - 2  # at the closing "]}"
                    self.searched = 0
                    self.ready.extend(rows)
                    return bool(rows)
            self.slow_fill = w.fills
            return False
        k = buf.rfind(b"],[", start)
        if k < 0:
            return False
        try:
            rows = self.loads(b"[" + buf[pos:k + 1] + b"]")
        except ValueError:
            self.slow_fill = w.fills
            return False
        w.pos = k + 2  # at the next row's "["
        self.searched = 0
        self.ready.extend(rows)
        return True

    def skip_rest(self, limit):
        """Drops the rest of the answer without parsing it: the rest of its line and, when the
        line was cut by an error, the error line. True when the answer ended; False once more
        than ``limit`` bytes were dropped (the connection is then in the middle of it)."""
        self.ready.clear()
        if self.done:
            return True
        w = self.wire
        dropped = 0
        tail = w.buf[max(0, w.pos - 2):w.pos]
        while True:
            i = w.buf.find(b"\n", w.pos)
            end = i if i >= 0 else len(w.buf)
            tail = (tail + w.buf[max(w.pos, end - 2):end])[-2:]
            dropped += end - w.pos
            if i >= 0:
                w.pos = i + 1
                self.done = True
                if tail != b"]}":  # a cut line: its error line follows
                    w.readline()
                return True
            w.pos = end
            if dropped > limit:
                return False
            w._fill()

    def _cut(self):
        self.done = True
        w = self.wire
        w.readline()  # the rest of the cut line (nothing, or part of a row)
        line = w.readline()
        if line.startswith("Error: "):
            raise ServerError(line[7:])
        w._fail("a cut row answer was not followed by an error")
