"""tcpduckdb: a PEP 249 (DB-API 2.0) driver for TCP-DuckDB, standard library only.

    import tcpduckdb
    con = tcpduckdb.connect(port=4000, user="analyst", password="...", database="analytics")
    cur = con.cursor()
    cur.execute("SELECT id, name FROM users WHERE id = ?", [1])
    print(cur.fetchall())

Statements go to the server as typed requests (``query {"sql": ..., "params": [...]}``,
docs/protocol.md): parameters are bound by the server to a DuckDB prepared statement, never
pasted into the SQL text. See clients/python/README.md for the type mapping and semantics.
"""
import collections
import datetime
import json
import os
import re
import time

from . import _tls, _types
from ._types import Interval
from ._wire import ServerError, Wire, WireError

__all__ = [
    "apilevel", "threadsafety", "paramstyle", "connect", "Connection", "Cursor", "Interval",
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
    "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
    "Date", "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks",
    "Binary", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID",
]

apilevel = "2.0"
threadsafety = 1  # threads may share the module, not connections
paramstyle = "qmark"  # DuckDB also accepts $1 (numeric) placeholders

# ---------------------------------------------------------------------------------------------
# Exceptions (PEP 249)


class Warning(Exception):  # noqa: A001 - the name is PEP 249's
    pass


class Error(Exception):
    """Base of the driver's errors. ``message`` holds the server's text (after ``Error: ``,
    newlines restored), ``kind`` its prefix before the first ':' (e.g. "Catalog Error"; "Does
    Not Exist" / "Already Exists" for ``Database x Does Not Exist`` and its family) and
    ``code`` the kind in upper snake case ("CATALOG_ERROR"), as the Go, Node and C clients
    name them; both are None for errors raised by the driver itself."""

    def __init__(self, message="", kind=None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = (re.sub(r"[^A-Z0-9]+", "_", kind.upper()).strip("_")
                     if kind is not None else None)


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


# Server message prefix -> class. DuckDB's kinds follow DuckDB's own Python client.
_ERROR_KINDS = {
    "Constraint Error": IntegrityError,
    "Conversion Error": DataError,
    "Out of Range Error": DataError,
    "Mismatch Type Error": DataError,
    "Type Error": DataError,
    "Parser Error": ProgrammingError,
    "Syntax Error": ProgrammingError,
    "Catalog Error": ProgrammingError,
    "Binder Error": ProgrammingError,
    "Invalid Input Error": ProgrammingError,
    "Invalid Type Error": ProgrammingError,
    "Bad Request": ProgrammingError,
    "Access Denied": ProgrammingError,
    "Dependency Error": ProgrammingError,
    "Permission Error": ProgrammingError,
    "Sequence Error": ProgrammingError,
    "Not implemented Error": NotSupportedError,
    "Not Implemented Error": NotSupportedError,
    "Unauthorized": OperationalError,
    "TLS required": OperationalError,
    "TransactionContext Error": OperationalError,
    "Transaction Error": OperationalError,
    "Transaction Aborted": OperationalError,
    "Request Too Large": OperationalError,
    "Too Many Connections": OperationalError,
    "Idle Timeout": OperationalError,
    "Server Shutting Down": OperationalError,
    "Server Busy": OperationalError,
    "Canceled": OperationalError,
    "Statement Timeout": OperationalError,
    "Out of Memory Error": OperationalError,
    "IO Error": OperationalError,
    "Interrupt Error": OperationalError,
    "Connection Error": OperationalError,
    "HTTP Error": OperationalError,
    "Serialization Error": OperationalError,
    "Internal Error": InternalError,
    "INTERNAL Error": InternalError,
    "Fatal Error": InternalError,
}
_DOES_NOT_EXIST = re.compile(r"^(Database|User|Tables) .* (Does Not Exist|Already Exists)$")


def _error_from_server(message):
    """Builds the exception for an ``Error: MESSAGE`` answer (MESSAGE without ``Error: ``)."""
    text = message.replace("\\n", "\n").replace("\\r", "\r")
    kind = text.split(":", 1)[0] if ":" in text else text
    cls = _ERROR_KINDS.get(kind)
    if cls is None:
        m = _DOES_NOT_EXIST.match(text.split("\n", 1)[0])
        if m:
            cls, kind = ProgrammingError, m.group(2)
        else:
            cls = DatabaseError
    return cls(text, kind)


# ---------------------------------------------------------------------------------------------
# Type objects and constructors (PEP 249)


class _DBAPIType:
    def __init__(self, *names):
        self.names = frozenset(names)

    def __eq__(self, other):
        if isinstance(other, str):
            base = other.split("(", 1)[0].strip().upper()
            if base.endswith("]"):
                return False
            return base in self.names
        return NotImplemented

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self):
        return hash(self.names)


STRING = _DBAPIType("VARCHAR", "ENUM", "UUID", "JSON", "BIT")
BINARY = _DBAPIType("BLOB")
NUMBER = _DBAPIType("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                    "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "BIGNUM", "FLOAT", "DOUBLE",
                    "DECIMAL", "BOOLEAN")
DATETIME = _DBAPIType("DATE", "TIME", "TIME_NS", "TIME WITH TIME ZONE", "TIMESTAMP",
                      "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE",
                      "INTERVAL")
ROWID = _DBAPIType()

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime


def DateFromTicks(ticks):
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks):
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks):
    return Timestamp(*time.localtime(ticks)[:6])


Binary = bytes

# ---------------------------------------------------------------------------------------------
# Connection


def _quote_word(word):
    """A command argument, double-quoted as the server's word splitter reads it."""
    return '"' + str(word).replace("\\", "\\\\").replace('"', '\\"') + '"'


_TX_FORMS = {
    "start transaction": "begin", "begin": "begin", "begin transaction": "begin",
    "commit": "commit", "commit transaction": "commit", "end": "commit",
    "end transaction": "commit", "rollback": "rollback", "rollback transaction": "rollback",
    "abort": "rollback", "abort transaction": "rollback",
}


# How much of an abandoned result is read and dropped before its statement is cancelled.
_DRAIN_LIMIT = 4 << 20


def _transaction_statement(sql):
    norm = " ".join(sql.strip().rstrip(";").split()).lower()
    return _TX_FORMS.get(norm)


_UNSET = object()

# keyword -> (environment variable, default); the same names in every TCP-DuckDB client.
_ENV_DEFAULTS = {
    "host": ("TCPDUCKDB_HOST", "127.0.0.1"), "port": ("TCPDUCKDB_PORT", 4000),
    "user": ("TCPDUCKDB_USER", "duck"), "password": ("TCPDUCKDB_PASSWORD", "duck"),
    "database": ("TCPDUCKDB_DATABASE", None), "sslmode": ("TCPDUCKDB_SSLMODE", "prefer"),
    "sslrootcert": ("TCPDUCKDB_SSLROOTCERT", None), "sslcert": ("TCPDUCKDB_SSLCERT", None),
    "sslkey": ("TCPDUCKDB_SSLKEY", None),
}
_URI_PARAMS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout")


def parse_uri(uri):
    """The parts of a ``tcpduckdb://user:password@host:port/database?sslmode=...`` URI (the
    syntax of every TCP-DuckDB client) that are present: user, password, host and database
    percent-decoded, query values URL-decoded ('+' is a space). Raises ProgrammingError for
    another scheme, a fragment, a bad port or an unknown parameter; the message never quotes
    the password."""
    import urllib.parse

    try:
        u = urllib.parse.urlsplit(uri)
        port = u.port
    except ValueError:
        raise ProgrammingError("bad URI: a bad host or port") from None
    if u.scheme != "tcpduckdb":
        raise ProgrammingError("bad URI: the scheme must be tcpduckdb://, not %s://" % u.scheme)
    if u.fragment or uri.endswith("#"):
        raise ProgrammingError("bad URI: a fragment (#) has no meaning")
    out = {}
    userinfo = u.netloc.rpartition("@")[0] if "@" in u.netloc else None
    if userinfo is not None:
        name, colon, pw = userinfo.partition(":")
        out["user"] = urllib.parse.unquote(name, errors="strict")
        if colon:
            out["password"] = urllib.parse.unquote(pw, errors="strict")
    if u.hostname:
        out["host"] = urllib.parse.unquote(u.hostname)
    if port is not None:
        out["port"] = port
    if len(u.path) > 1:
        out["database"] = urllib.parse.unquote(u.path[1:], errors="strict")
    for key, value in urllib.parse.parse_qsl(u.query, keep_blank_values=True):
        if key not in _URI_PARAMS:
            raise ProgrammingError("bad URI: unknown parameter %r" % key)
        if key == "connect_timeout":
            try:
                out[key] = float(value)
            except ValueError:
                raise ProgrammingError("bad URI: connect_timeout must be seconds") from None
        else:
            out[key] = value
    return out


def connect(host=_UNSET, port=_UNSET, user=_UNSET, password=_UNSET, database=_UNSET,
            timeout=None, autocommit=False, sslmode=_UNSET, sslrootcert=_UNSET, sslcert=_UNSET,
            sslkey=_UNSET, dsn=None):
    """Opens a connection, logs in, and connects to ``database`` when given.

    ``dsn`` (or ``host`` when it holds ``://``) is a URI
    ``tcpduckdb://user:password@host:port/database?sslmode=...`` (see parse_uri). An argument
    given explicitly wins over the URI, which wins over the environment (TCPDUCKDB_HOST,
    _PORT, _USER, _PASSWORD, _DATABASE, _SSLMODE, _SSLROOTCERT, _SSLCERT, _SSLKEY), which wins
    over the defaults (127.0.0.1, 4000, duck/duck, no database, prefer). ``user=None`` does
    not log in.

    ``timeout`` (seconds) bounds the TCP connect, the TLS negotiation and every wait for the
    server; None waits forever for answers (the connect and TLS negotiation then give up after
    30 s). Failures to connect, to set up TLS or to log in raise OperationalError.

    ``sslmode`` (as libpq's): 'disable' (plaintext), 'prefer' (default: TLS when the server
    offers it, else plaintext; no certificate check), 'require' (TLS or fail; no certificate
    check), 'verify-ca' (the server's chain must verify against ``sslrootcert``, or the
    system's CAs when it is None), 'verify-full' (verify-ca, and ``host`` must match the
    certificate's names or IP addresses). ``sslcert`` / ``sslkey``: a client certificate (PEM
    files; the key may be in ``sslcert``) for servers that ask for one.
    """
    if isinstance(host, str) and "://" in host and dsn is None:
        dsn, host = host, _UNSET
    given = {"host": host, "port": port, "user": user, "password": password,
             "database": database, "sslmode": sslmode, "sslrootcert": sslrootcert,
             "sslcert": sslcert, "sslkey": sslkey}
    from_uri = parse_uri(dsn) if dsn is not None else {}
    opts = {}
    for key, value in given.items():
        if value is not _UNSET:
            opts[key] = value
        elif key in from_uri:
            opts[key] = from_uri[key]
        else:
            env, default = _ENV_DEFAULTS[key]
            opts[key] = os.environ.get(env) or default
    try:
        opts["port"] = int(opts["port"])
    except (TypeError, ValueError):
        raise ProgrammingError("bad port %r" % (opts["port"],)) from None
    if timeout is None and "connect_timeout" in from_uri:
        timeout = from_uri["connect_timeout"] or None
    host, port, user, password = opts["host"], opts["port"], opts["user"], opts["password"]
    database, sslmode = opts["database"], opts["sslmode"]
    sslrootcert, sslcert, sslkey = opts["sslrootcert"], opts["sslcert"], opts["sslkey"]
    if sslmode not in _tls.SSLMODES:
        raise ProgrammingError("sslmode must be one of %s, not %r"
                               % (", ".join(_tls.SSLMODES), sslmode))
    ctx = None
    if sslmode != "disable":
        try:
            ctx = _tls.make_context(sslmode, sslrootcert, sslcert, sslkey)
        except _tls.TLSError as e:
            raise OperationalError(str(e)) from None
    return Connection(host, port, user, password, database, timeout, autocommit, sslmode, ctx)


class Connection:
    Warning, Error, InterfaceError, DatabaseError = Warning, Error, InterfaceError, DatabaseError
    DataError, OperationalError, IntegrityError = DataError, OperationalError, IntegrityError
    InternalError, ProgrammingError, NotSupportedError = \
        InternalError, ProgrammingError, NotSupportedError

    def __init__(self, host, port, user, password, database, timeout, autocommit,
                 sslmode="disable", ssl_context=None):
        self._wire = None
        self._active = None  # the cursor whose rows are still arriving on the socket
        self._in_tx = False
        self._autocommit = bool(autocommit)
        # What cancel() needs, from any thread: set here, never changed.
        self._address = (host, port, timeout, sslmode, ssl_context)
        self._cancel_key = None  # (session id, key) once logged in
        try:
            self._wire = Wire(host, port, timeout, sslmode, ssl_context)
        except WireError as e:
            raise OperationalError(str(e)) from None
        try:
            if user is not None:
                self._command("login %s %s" % (_quote_word(user), _quote_word(password or "")))
                self._cancel_key = self._session_key()
            if database is not None:
                self._command("connect %s" % _quote_word(database))
        except DatabaseError as e:
            self._wire.close()
            if isinstance(e, OperationalError):
                raise
            raise OperationalError(e.message, e.kind) from None
        except BaseException:
            self._wire.close()
            raise

    # -- low level ------------------------------------------------------------------------

    def _check(self):
        if self._wire is None or self._wire.broken:
            raise InterfaceError(self._wire.broken if self._wire else "connection is closed")

    def _settle(self):
        """Makes the socket free for a new request: buffers the rows of a result still
        streaming into its cursor (so that cursor can still fetch them)."""
        cur = self._active
        if cur is not None:
            self._active = None
            cur._buffer_rest()

    def _roundtrip(self, text):
        """Sends one request and reads its answer; maps errors to exceptions."""
        self._check()
        self._settle()
        try:
            self._wire.send(text)
            return self._wire.answer()
        except ServerError as e:
            raise _error_from_server(e.message) from None
        except WireError as e:
            raise OperationalError(str(e)) from None

    def _command(self, line):
        kind, value = self._roundtrip(line)
        if kind == "rows":  # cannot happen for a command, but keep the stream in sync
            while value.next_raw() is not None:
                pass
            return None
        return value

    def _session_key(self):
        """The session's cancel id and key (``session key``), or None from a server that has
        no cancel requests (it answers an error)."""
        try:
            text = self._command("session key")
        except DatabaseError:
            return None
        try:
            obj = json.loads(text)
            return int(obj["session"]), str(obj["key"])
        except (TypeError, ValueError, KeyError):
            raise OperationalError("unexpected answer to session key: %r" % text[:200]) from None

    def _abandon(self, stream):
        """Drops the rest of a result nobody will read (its cursor was closed or executed
        again): up to _DRAIN_LIMIT bytes are read and dropped; a longer rest is ended by
        cancelling the statement (cancel()) and reading the short rest, as the Go driver does.
        Inside a transaction the rest is read whatever its size, since a cancel would abort
        the transaction. A connection left mid-answer is closed."""
        ended = False
        try:
            limit = _DRAIN_LIMIT if not self._in_tx and self._cancel_key else float("inf")
            ended = stream.skip_rest(limit)
            if not ended:
                self.cancel()
                ended = stream.skip_rest(float("inf"))
        except (WireError, Error):
            pass
        if not ended and self._wire is not None and not self._wire.broken:
            self._wire.broken = "an abandoned result could not be ended"
            try:
                self._wire.sock.close()
            except OSError:
                pass

    def _begin_if_needed(self):
        if not self._autocommit and not self._in_tx:
            self._command("start transaction")
            self._in_tx = True

    # -- PEP 249 --------------------------------------------------------------------------

    @property
    def autocommit(self):
        """False (the default): a transaction begins before the first statement and lasts
        until commit() or rollback(). True: each statement commits on its own. Setting it to
        True commits an open transaction (as sqlite3 does)."""
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value):
        value = bool(value)
        if value and not self._autocommit and self._in_tx:
            self.commit()
        self._autocommit = value

    @property
    def in_transaction(self):
        return self._in_tx

    @property
    def tls_version(self):
        """The TLS protocol version of the connection ('TLSv1.3', 'TLSv1.2'), or None when it
        is plaintext (sslmode 'disable', or 'prefer' against a server without TLS)."""
        self._check()
        return self._wire.tls_version()

    @property
    def closed(self):
        return self._wire is None

    def cursor(self):
        self._check()
        return Cursor(self)

    def commit(self):
        self._check()
        if self._in_tx:
            self._in_tx = False  # the server ends the transaction even when COMMIT fails
            self._command("commit")

    def rollback(self):
        self._check()
        if self._in_tx:
            self._in_tx = False
            self._command("rollback")

    def close(self):
        """Closes the connection; an uncommitted transaction is rolled back by the server."""
        if self._wire is not None:
            self._active = None
            self._wire.close()
            self._wire = None

    def execute(self, sql, params=None):
        """Shortcut (as sqlite3): a new cursor, executed."""
        return self.cursor().execute(sql, params)

    def executemany(self, sql, seq_of_params):
        return self.cursor().executemany(sql, seq_of_params)

    def command(self, line):
        """Sends a server command (``create database x``, ``grant ...``, ``list users``) and
        returns its answer: None for ``success``, else the answer text (JSON for ``list``).
        Errors raise as for SQL. Not for SQL, and not for transaction commands (use
        commit/rollback)."""
        value = self._command(line)
        return None if value == "success" else value

    def cancel(self):
        """Cancels the statement this connection is running, from any thread (docs/protocol.md,
        "Cancel"): a second connection to the same server, with the same TLS settings, sends
        the session's cancel key. The running execute() or fetch then raises OperationalError
        ("Canceled: canceling statement due to user request") and the connection stays usable.
        When nothing is running, nothing happens (the next statement is not affected). Raises
        InterfaceError when the connection never logged in (it has no cancel key), and
        OperationalError when the cancel cannot be sent."""
        key = self._cancel_key
        if key is None:
            raise InterfaceError("the connection has no cancel key (not logged in, or the server "
                                 "has no cancel requests)")
        host, port, timeout, sslmode, ctx = self._address
        try:
            wire = Wire(host, port, timeout or 10, sslmode, ctx)
        except WireError as e:
            raise OperationalError(str(e)) from None
        try:
            wire.send("cancel %d %s" % key)
            kind, value = wire.answer()
        except ServerError as e:
            raise _error_from_server(e.message) from None
        except WireError as e:
            raise OperationalError(str(e)) from None
        finally:
            wire.close()
        if (kind, value) != ("text", "success"):
            raise OperationalError("unexpected answer to cancel: %r" % (value,))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        """As sqlite3: commits on success, rolls back on an exception; does NOT close the
        connection (use contextlib.closing, or close())."""
        if self._wire is None or self._wire.broken:
            return False
        if exc_type is None:
            self.commit()
        else:
            try:
                self.rollback()
            except Error:
                pass
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# Cursor


class Cursor:
    def __init__(self, connection):
        self.connection = connection
        self.arraysize = 1
        self.description = None
        self.rowcount = -1
        self._stream = None  # RowStream still on the socket
        self._rows = collections.deque()  # rows already read (after _buffer_rest)
        self._convs = None
        self._fetched = 0
        self._closed = False
        self._has_result = False

    # -- internals ------------------------------------------------------------------------

    def _check(self):
        if self._closed:
            raise InterfaceError("cursor is closed")
        self.connection._check()

    def _reset(self):
        """Drops the previous result (reading the rest of it off the socket)."""
        if self._stream is not None:
            if self.connection._active is self:
                self.connection._active = None
                self.connection._abandon(self._stream)
            self._stream = None
        self._rows.clear()
        self.description = None
        self.rowcount = -1
        self._fetched = 0
        self._has_result = False

    def _convert(self, raw):
        convs = self._convs
        if convs is None:
            return tuple(raw)
        return tuple(v if c is None or v is None else c(v) for v, c in zip(raw, convs))

    def _next_from_stream(self):
        try:
            raw = self._stream.next_raw()
        except ServerError as e:
            self._end_stream()
            raise _error_from_server(e.message) from None
        except WireError as e:
            self._end_stream()
            raise OperationalError(str(e)) from None
        if raw is None:
            self._end_stream()
            return None
        return self._convert(raw)

    def _end_stream(self):
        self._stream = None
        if self.connection._active is self:
            self.connection._active = None
        self.rowcount = self._fetched + len(self._rows)

    def _buffer_rest(self):
        """Another request needs the socket: read the rest of this result into memory."""
        try:
            while self._stream is not None:
                row = self._next_from_stream()
                if row is None:
                    break
                self._rows.append(row)
        except Error as e:
            self._rows.append(e)  # raised when fetching reaches it

    def _next(self):
        if not self._has_result:
            raise ProgrammingError("no result: execute a statement that returns rows first")
        if self._rows:
            row = self._rows.popleft()
            if isinstance(row, Exception):
                raise row
        elif self._stream is not None:
            row = self._next_from_stream()
            if row is None:
                return None
        else:
            return None
        self._fetched += 1
        if self._stream is None and not self._rows:
            self.rowcount = self._fetched
        return row

    # -- PEP 249 --------------------------------------------------------------------------

    def execute(self, operation, parameters=None):
        """Runs one statement (or, without parameters, several separated by ';').

        Parameters are a sequence bound to the ``?`` / ``$1`` placeholders by the server.
        Returns the cursor (as sqlite3 does), so ``cur.execute(...).fetchall()`` works.
        """
        self._check()
        self._reset()
        con = self.connection
        tx = _transaction_statement(operation) if not parameters else None
        if tx is not None:
            # The server takes transactions as commands; keep the connection's state right.
            if tx == "commit":
                con.commit()
            elif tx == "rollback":
                con.rollback()
            elif con._in_tx:
                if con._autocommit:
                    raise ProgrammingError("a transaction is already open")
            else:
                con._command("start transaction")
                con._in_tx = True
            return self
        body = {"sql": operation}
        if parameters is not None:
            if isinstance(parameters, (str, bytes, dict)) or not hasattr(parameters, "__iter__"):
                raise ProgrammingError("parameters must be a sequence (paramstyle is qmark)")
            try:
                params = [_types.encode_param(p) for p in parameters]
            except TypeError as e:
                raise ProgrammingError(str(e)) from None
            if params:
                body["params"] = params
        try:
            request = "query " + json.dumps(body, ensure_ascii=False, allow_nan=False)
            request.encode("utf-8")
        except (UnicodeEncodeError, ValueError) as e:
            raise DataError("cannot encode the request: %s" % e) from None
        con._begin_if_needed()
        kind, value = con._roundtrip(request)
        if kind == "rows":
            types = [_types.parse_type(t) for _, t in value.columns]
            if any(_types.needs_decimal(t) for t in types):
                value.use_exact_fractions()
            convs = [_types.converter(t) for t in types]
            self._convs = convs if any(c is not None for c in convs) else None
            self.description = tuple(_description(n, t, pt)
                                     for (n, t), pt in zip(value.columns, types))
            self._stream = value
            self._has_result = True
            con._active = self
        elif kind == "changed":
            self.rowcount = value
        return self

    def executemany(self, operation, seq_of_parameters):
        """Runs the statement once per parameter sequence; rowcount is the sum of the changed
        rows. Statements that return rows keep no result."""
        self._check()
        total = 0
        counted = False
        for params in seq_of_parameters:
            self.execute(operation, params)
            if self.rowcount >= 0 and not self._has_result:
                total += self.rowcount
                counted = True
        self._reset()
        self.rowcount = total if counted else -1
        return self

    def fetchone(self):
        self._check()
        return self._next()

    def fetchmany(self, size=None):
        self._check()
        n = self.arraysize if size is None else size
        out = []
        while len(out) < n:
            row = self._next()
            if row is None:
                break
            out.append(row)
        return out

    def fetchall(self):
        self._check()
        out = []
        while True:
            row = self._next()
            if row is None:
                return out
            out.append(row)

    def cancel(self):
        """Cancels the statement running on this cursor's connection (Connection.cancel);
        callable from any thread."""
        self.connection.cancel()

    def __iter__(self):
        return self

    def __next__(self):
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def close(self):
        if not self._closed:
            if self.connection._wire is not None and not self.connection._wire.broken:
                self._reset()
            self._closed = True

    def setinputsizes(self, sizes):
        pass

    def setoutputsize(self, size, column=None):
        pass

    @property
    def rownumber(self):
        return self._fetched if self._has_result else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _description(name, type_name, t):
    precision = scale = None
    if t.name in ("DECIMAL", "NUMERIC") and t.args:
        precision, scale = t.args
    return (name, type_name, None, None, precision, scale, None)
