"""DuckDB type names -> Python converters, and Python parameters -> typed-request JSON.

The server sends each column's type as DuckDB's SQL spelling (``INTEGER``, ``DECIMAL(18,3)``,
``VARCHAR[]``, ``STRUCT("a" INTEGER, "b" VARCHAR)``, ``MAP(VARCHAR, INTEGER)``, ...) and each
value in the JSON form described in docs/protocol.md. This module parses the type names into a
small tree and builds, per column, a function that turns the JSON value into a Python value.
"""
import datetime
import math
import re
import uuid
from decimal import Decimal

__all__ = ["Interval", "parse_type", "converter", "needs_decimal", "encode_param"]


class Interval(tuple):
    """A DuckDB INTERVAL that has months (or years), which a timedelta cannot hold exactly.

    Intervals without months are returned as datetime.timedelta. ``to_timedelta()`` converts
    with 30-day months (DuckDB's own convention for ``epoch()`` of an interval).
    """

    __slots__ = ()

    def __new__(cls, months=0, days=0, microseconds=0):
        return tuple.__new__(cls, (int(months), int(days), int(microseconds)))

    months = property(lambda self: self[0])
    days = property(lambda self: self[1])
    microseconds = property(lambda self: self[2])

    def to_timedelta(self, days_per_month=30):
        return datetime.timedelta(days=self[0] * days_per_month + self[1], microseconds=self[2])

    def __repr__(self):
        return "Interval(months=%d, days=%d, microseconds=%d)" % self


# ---------------------------------------------------------------------------------------------
# Type names


class Type:
    """A parsed DuckDB type: name (upper case), args (DECIMAL's precision and scale), child
    (LIST/ARRAY element), fields (STRUCT/UNION: list of (name, Type)), key/value (MAP)."""

    __slots__ = ("name", "args", "child", "size", "fields", "key", "value")

    def __init__(self, name, args=(), child=None, size=None, fields=None, key=None, value=None):
        self.name, self.args, self.child, self.size = name, args, child, size
        self.fields, self.key, self.value = fields, key, value

    def __repr__(self):
        return "Type(%r)" % self.name


_TOKEN = re.compile(r'\s*(?:("(?:[^"]|"")*")|([A-Za-z_][A-Za-z0-9_]*)|(-?\d+)|(.))')


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        quoted, word, num, punct = m.groups()
        if quoted is not None:
            out.append(("name", quoted[1:-1].replace('""', '"')))
        elif word is not None:
            out.append(("word", word))
        elif num is not None:
            out.append(("num", int(num)))
        elif punct is not None and not punct.isspace():
            out.append(("p", punct))
    return out


class _Parser:
    def __init__(self, text):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, kind=None, value=None):
        if self.i >= len(self.toks):
            return None
        t = self.toks[self.i]
        if kind is not None and t[0] != kind:
            return None
        if value is not None and t[1] != value:
            return None
        return t

    def take(self, kind=None, value=None):
        t = self.peek(kind, value)
        if t is None:
            raise ValueError("bad type name")
        self.i += 1
        return t

    def skip_balanced(self):
        depth = 0
        while True:
            t = self.take()
            if t == ("p", "("):
                depth += 1
            elif t == ("p", ")"):
                depth -= 1
                if depth == 0:
                    return

    def type(self):
        words = [self.take("word")[1]]
        # Multi-word names: TIMESTAMP WITH TIME ZONE, TIME WITH TIME ZONE, DOUBLE PRECISION ...
        while self.peek("word"):
            words.append(self.take()[1])
        name = " ".join(words).upper()
        t = Type(name)
        if self.peek("p", "("):
            if name in ("STRUCT", "UNION"):
                self.take()
                fields = []
                while True:
                    tok = self.take()
                    if tok[0] not in ("name", "word"):
                        raise ValueError("bad field")
                    fields.append((tok[1], self.type()))
                    if self.peek("p", ","):
                        self.take()
                        continue
                    self.take("p", ")")
                    break
                t.fields = fields
            elif name == "MAP":
                self.take()
                t.key = self.type()
                self.take("p", ",")
                t.value = self.type()
                self.take("p", ")")
            elif name in ("DECIMAL", "NUMERIC"):
                self.take()
                p = self.take("num")[1]
                s = 0
                if self.peek("p", ","):
                    self.take()
                    s = self.take("num")[1]
                self.take("p", ")")
                t.args = (p, s)
            else:
                self.skip_balanced()
        while self.peek("p", "["):
            self.take()
            size = None
            if self.peek("num"):
                size = self.take()[1]
            self.take("p", "]")
            t = Type("ARRAY" if size is not None else "LIST", child=t, size=size)
        return t


def parse_type(text):
    """Parses a DuckDB type name; an unparsable name becomes an opaque Type (values unchanged)."""
    try:
        p = _Parser(text)
        t = p.type()
        if p.i != len(p.toks):
            raise ValueError("trailing text")
        return t
    except ValueError:
        return Type(text.upper())


def needs_decimal(t):
    """True when the type holds a DECIMAL somewhere (JSON fractions must then be read exactly)."""
    if t.name in ("DECIMAL", "NUMERIC"):
        return True
    if t.child is not None:
        return needs_decimal(t.child)
    if t.fields:
        return any(needs_decimal(ft) for _, ft in t.fields)
    if t.key is not None:
        return needs_decimal(t.key) or needs_decimal(t.value)
    return False


# ---------------------------------------------------------------------------------------------
# Values

_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
         "UINTEGER", "UBIGINT", "UHUGEINT", "BIGNUM", "VARINT", "INT", "INT1", "INT2", "INT4",
         "INT8", "INT16", "LONG", "SHORT"}
_FLOATS = {"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8", "DOUBLE PRECISION"}

_DATE = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d)$")
_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$")
_TS = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
                 r"(Z|([+-])(\d\d)(?::?(\d\d))?)?$")
_IVL = re.compile(r"^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?"
                  r"(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$")


def _micros(frac):
    # Sub-microsecond digits (TIME_NS, TIMESTAMP_NS) are truncated: Python keeps microseconds.
    return int((frac or "0")[:6].ljust(6, "0"))


def _date(v):
    m = _DATE.match(v)
    if not m:
        return v  # 'infinity', '-infinity'
    try:
        return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return v  # a year outside 1..9999


def _time(v):
    m = _TIME.match(v)
    if not m:
        return v
    h, mi, s, frac, sign, oh, om, os_ = m.groups()
    tz = None
    if sign:
        off = datetime.timedelta(hours=int(oh), minutes=int(om or 0), seconds=int(os_ or 0))
        tz = datetime.timezone(-off if sign == "-" else off)
    try:
        return datetime.time(int(h), int(mi), int(s), _micros(frac), tzinfo=tz)
    except ValueError:
        return v  # 24:00:00


def _timestamp(v):
    m = _TS.match(v)
    if not m:
        return v  # 'infinity', '-infinity'
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    tz = None
    if z == "Z":
        tz = datetime.timezone.utc
    elif z:
        off = datetime.timedelta(hours=int(oh), minutes=int(om or 0))
        tz = datetime.timezone(-off if sign == "-" else off)
    try:
        return datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), _micros(frac),
                                 tzinfo=tz)
    except ValueError:
        return v


def _interval(v):
    m = _IVL.match(v)
    if not m:
        return v
    y, mo, d, h, mi, s = m.groups()
    months = int(y or 0) * 12 + int(mo or 0)
    micros = (int(h or 0) * 3600 + int(mi or 0) * 60) * 1000000
    if s:
        micros += int(Decimal(s) * 1000000)
    days = int(d or 0)
    if months:
        return Interval(months, days, micros)
    return datetime.timedelta(days=days, microseconds=micros)


def _blob(v):
    if v.startswith("\\x"):
        return bytes.fromhex(v[2:])
    return v.encode("utf-8")


def _decimal(v):
    if type(v) is Decimal:
        return v
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)


def _float(v):
    return float(v)  # int, Decimal, float, or "NaN" / "Infinity" / "-Infinity"


def _tz_ts(v):
    return _timestamp(v)


_SCALARS = {
    "DECIMAL": _decimal, "NUMERIC": _decimal,
    "BLOB": _blob, "BYTEA": _blob, "VARBINARY": _blob,
    "UUID": uuid.UUID,
    "DATE": _date,
    "TIME": _time, "TIME_NS": _time, "TIME WITH TIME ZONE": _time, "TIMETZ": _time,
    "TIMESTAMP": _timestamp, "TIMESTAMP_S": _timestamp, "TIMESTAMP_MS": _timestamp,
    "TIMESTAMP_NS": _timestamp, "DATETIME": _timestamp,
    "TIMESTAMP WITH TIME ZONE": _tz_ts, "TIMESTAMPTZ": _tz_ts,
    "INTERVAL": _interval,
}
for _n in _FLOATS:
    _SCALARS[_n] = _float


def _safe(fn):
    def conv(v):
        try:
            return fn(v)
        except (ValueError, TypeError, ArithmeticError):
            return v
    return conv


def _key_converter(t):
    """MAP keys arrive as text (JSON object keys); convert them back by the key type."""
    if t.name in _INTS:
        return _safe(int)
    if t.name in _FLOATS:
        return _safe(float)
    if t.name in ("DECIMAL", "NUMERIC"):
        return _safe(Decimal)
    if t.name == "BOOLEAN":
        return lambda k: {"true": True, "false": False}.get(k, k)
    if t.name in _SCALARS:
        return _safe(_SCALARS[t.name])
    return None


def converter(t):
    """A function JSON value -> Python value for type t (never called with None), or None for
    values that are already right (integers, strings, booleans, unknown types)."""
    name = t.name
    if name in ("LIST", "ARRAY"):
        c = converter(t.child)
        if c is None:
            return None
        return lambda v: [None if x is None else c(x) for x in v]
    if name == "STRUCT" and t.fields is not None:
        convs = [converter(ft) for _, ft in t.fields]
        if all(c is None for c in convs):
            return None

        def struct(v):
            if len(v) != len(convs):
                return v
            return {k: (x if c is None or x is None else c(x))
                    for (k, x), c in zip(v.items(), convs)}
        return struct
    if name == "MAP" and t.key is not None:
        kc, vc = _key_converter(t.key), converter(t.value)
        if kc is None and vc is None:
            return None
        kc = kc or (lambda k: k)
        vc = vc or (lambda x: x)
        return lambda v: {kc(k): (None if x is None else vc(x)) for k, x in v.items()}
    fn = _SCALARS.get(name)
    return _safe(fn) if fn is not None else None


# ---------------------------------------------------------------------------------------------
# Parameters


def _interval_text(months, days, micros):
    return "%d months %d days %d microseconds" % (months, days, micros)


def encode_param(v):
    """A Python parameter -> its JSON value in a typed request (see docs/protocol.md)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"blob": bytes(v).hex()}
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime.timedelta):
        sign = -1 if v < datetime.timedelta(0) else 1
        a = abs(v)
        return _interval_text(0, sign * a.days, sign * (a.seconds * 1000000 + a.microseconds))
    if isinstance(v, Interval):
        return _interval_text(*v)
    raise TypeError("parameters of type %s are not supported" % type(v).__name__)
