// tcpduckdb: a Promise-based Node.js driver for TCP-DuckDB, no dependencies.
//
//   import { connect } from './clients/node/index.js';
//   const client = await connect({ port: 4000, user: 'analyst', password: '...', database: 'analytics' });
//   const { rows } = await client.query('SELECT id, name FROM users WHERE id = ?', [1]);
//   for await (const row of client.stream('SELECT * FROM big')) { ... }
//   await client.close();
//
// Statements go as typed requests (`query {"sql": ..., "params": [...]}`, docs/protocol.md):
// parameters are bound by the server to a DuckDB prepared statement, never pasted into SQL.
// Answers are parsed by our own JSON parser, which keeps number text, so BIGINT and DECIMAL
// values are exact, and which parses rows as they arrive (bounded memory for any result).

import fs from 'node:fs';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import tls from 'node:tls';

// ----------------------------------------------------------------------------------------------
// Errors

export class TcpDuckDBError extends Error {
  constructor(message, code, kind) {
    super(message);
    this.name = 'TcpDuckDBError';
    this.code = code; // e.g. 'CATALOG_ERROR', 'CONSTRAINT_ERROR', 'UNAUTHORIZED', 'CONNECTION'
    this.kind = kind; // the server's prefix, e.g. 'Catalog Error'; undefined for client errors
  }
}

function serverError(text) {
  const message = text.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
  const first = message.split('\n', 1)[0];
  let kind = message.includes(':') ? message.slice(0, message.indexOf(':')) : first;
  if (/^(Database|User|Tables) .* (Does Not Exist|Already Exists)$/.test(first)) {
    kind = first.endsWith('Already Exists') ? 'Already Exists' : 'Does Not Exist';
  }
  const code = kind.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
  const err = new TcpDuckDBError(message, code, kind);
  err.class = ERROR_CLASSES.get(kind) ?? 'DatabaseError';
  return err;
}

// The DB-API class of a server error's kind (err.class), as in the C library
// (clients/c/tdb_io.c), the Python and the Go drivers; any other kind is a DatabaseError.
const ERROR_CLASSES = new Map([
  ...['Constraint Error'].map((k) => [k, 'IntegrityError']),
  ...['Conversion Error', 'Out of Range Error', 'Mismatch Type Error', 'Type Error']
    .map((k) => [k, 'DataError']),
  ...['Parser Error', 'Syntax Error', 'Catalog Error', 'Binder Error', 'Invalid Input Error',
    'Invalid Type Error', 'Bad Request', 'Access Denied', 'Dependency Error', 'Permission Error',
    'Sequence Error', 'Does Not Exist', 'Already Exists'].map((k) => [k, 'ProgrammingError']),
  ...['Not implemented Error', 'Not Implemented Error'].map((k) => [k, 'NotSupportedError']),
  ...['Unauthorized', 'TLS required', 'TransactionContext Error', 'Transaction Error',
    'Transaction Aborted', 'Request Too Large', 'Too Many Connections', 'Idle Timeout',
    'Server Shutting Down', 'Server Busy', 'Canceled', 'Statement Timeout', 'Out of Memory Error',
    'IO Error', 'Interrupt Error', 'Connection Error', 'HTTP Error', 'Serialization Error']
    .map((k) => [k, 'OperationalError']),
  ...['Internal Error', 'INTERNAL Error', 'Fatal Error'].map((k) => [k, 'InternalError']),
]);

// ----------------------------------------------------------------------------------------------
// JSON with exact numbers

class Num {
  constructor(text) {
    this.text = text;
  }
}

const INCOMPLETE = Symbol('incomplete'); // the value runs past the end of the buffer
const CUT = Symbol('cut'); // a newline inside a value: the answer line was cut by an error

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const NUMBER_TAIL_RE = /^(?:\.|[eE][+-]?)$/;

// Parses one JSON value at s[i]; returns [value, end]. Numbers become Num (their text).
function parseAt(s, i) {
  const n = s.length;
  const stack = [];
  let cur; // current container
  let key; // pending object key
  let expectKey = false;
  for (;;) {
    // skip blanks
    let c;
    for (;;) {
      if (i >= n) throw INCOMPLETE;
      c = s.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) i++;
      else break;
    }
    if (c === 10) throw CUT;
    let v;
    let have = false;
    if (expectKey) {
      if (c === 125 /* } */) {
        // an empty object
        i++;
        v = cur;
        [cur, key] = stack.pop();
        expectKey = false;
        have = true;
      } else {
        if (c !== 34) throw new SyntaxError('bad JSON key at ' + i);
        const [k, e] = parseString(s, i);
        i = e;
        for (;;) {
          if (i >= n) throw INCOMPLETE;
          c = s.charCodeAt(i);
          if (c === 32) i++;
          else break;
        }
        if (c !== 58 /* : */) throw new SyntaxError('bad JSON object at ' + i);
        i++;
        key = k;
        expectKey = false;
        continue;
      }
    } else if (c === 91 /* [ */) {
      stack.push([cur, key]);
      cur = [];
      key = undefined;
      i++;
      // empty array?
      while (i < n && s.charCodeAt(i) === 32) i++;
      if (i >= n) throw INCOMPLETE;
      if (s.charCodeAt(i) === 93) {
        i++;
        v = cur;
        [cur, key] = stack.pop();
        have = true;
      } else continue;
    } else if (c === 123 /* { */) {
      stack.push([cur, key]);
      cur = Object.create(null);
      key = undefined;
      expectKey = true;
      i++;
      continue;
    } else if (c === 34 /* " */) {
      [v, i] = parseString(s, i);
      have = true;
    } else if (c === 116 /* t */ || c === 102 /* f */ || c === 110 /* n */) {
      const word = c === 116 ? 'true' : c === 102 ? 'false' : 'null';
      if (i + word.length > n) throw INCOMPLETE;
      if (s.startsWith(word, i) === false) throw new SyntaxError('bad JSON literal at ' + i);
      v = c === 116 ? true : c === 102 ? false : null;
      i += word.length;
      have = true;
    } else {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(s);
      if (!m) {
        if (c === 45 /* - */ && i + 1 >= n) throw INCOMPLETE; // a sign at the end of the chunk
        throw new SyntaxError('bad JSON value at ' + i);
      }
      i += m[0].length;
      // The number may go on in the next chunk: the chunk ends with it, or with a '.' or an
      // exponent mark ("12." + "5", "1e" + "-7") that the pattern could not take yet.
      if (i >= n || (n - i <= 2 && NUMBER_TAIL_RE.test(s.slice(i)))) throw INCOMPLETE;
      v = new Num(m[0]);
      have = true;
    }
    // a complete value v: store it and close containers
    while (have) {
      if (cur === undefined) return [v, i];
      if (Array.isArray(cur)) cur.push(v);
      else cur[key] = v;
      for (;;) {
        if (i >= n) throw INCOMPLETE;
        c = s.charCodeAt(i);
        if (c === 32) i++;
        else break;
      }
      if (c === 44 /* , */) {
        i++;
        if (!Array.isArray(cur)) expectKey = true;
        have = false;
      } else if (c === 93 /* ] */ || c === 125 /* } */) {
        i++;
        v = cur;
        [cur, key] = stack.pop();
      } else if (c === 10) {
        throw CUT;
      } else {
        throw new SyntaxError('bad JSON at ' + i);
      }
    }
  }
}

function parseString(s, i) {
  // s[i] is '"'
  let j = i + 1;
  let escaped = false;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) throw INCOMPLETE;
    const b = s.indexOf('\\', j);
    if (b >= 0 && b < q) {
      escaped = true;
      if (b + 1 >= s.length) throw INCOMPLETE;
      j = b + 2;
      continue;
    }
    const nl = s.indexOf('\n', i);
    if (nl >= 0 && nl < q) throw CUT;
    const raw = s.slice(i, q + 1);
    return [escaped ? JSON.parse(raw) : raw.slice(1, -1), q + 1];
  }
}

// ----------------------------------------------------------------------------------------------
// Types

function tokenizeType(text) {
  const re = /\s*(?:("(?:[^"]|"")*")|([A-Za-z_][A-Za-z0-9_]*)|(-?\d+)|(\S))/y;
  const out = [];
  let m;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1] !== undefined) out.push(['name', m[1].slice(1, -1).replace(/""/g, '"')]);
    else if (m[2] !== undefined) out.push(['word', m[2]]);
    else if (m[3] !== undefined) out.push(['num', Number(m[3])]);
    else out.push(['p', m[4]]);
  }
  return out;
}

export function parseType(text) {
  const toks = tokenizeType(text);
  let i = 0;
  const peek = (kind, value) => {
    const t = toks[i];
    if (!t || (kind && t[0] !== kind) || (value !== undefined && t[1] !== value)) return null;
    return t;
  };
  const take = (kind, value) => {
    const t = peek(kind, value);
    if (!t) throw new Error('bad type');
    i++;
    return t;
  };
  const type = () => {
    const words = [take('word')[1]];
    while (peek('word')) words.push(take()[1]);
    let t = { name: words.join(' ').toUpperCase() };
    if (peek('p', '(')) {
      take();
      if (t.name === 'STRUCT' || t.name === 'UNION') {
        t.fields = [];
        for (;;) {
          const f = take();
          t.fields.push([f[1], type()]);
          if (peek('p', ',')) take();
          else break;
        }
        take('p', ')');
      } else if (t.name === 'MAP') {
        t.key = type();
        take('p', ',');
        t.value = type();
        take('p', ')');
      } else {
        let depth = 1;
        const args = [];
        while (depth > 0) {
          const tk = take();
          if (tk[0] === 'p' && tk[1] === '(') depth++;
          else if (tk[0] === 'p' && tk[1] === ')') depth--;
          else if (tk[0] === 'num' && depth === 1) args.push(tk[1]);
        }
        t.args = args;
      }
    }
    while (peek('p', '[')) {
      take();
      let size;
      if (peek('num')) size = take()[1];
      take('p', ']');
      t = { name: size === undefined ? 'LIST' : 'ARRAY', child: t, size };
    }
    return t;
  };
  try {
    const t = type();
    if (i !== toks.length) throw new Error('trailing');
    return t;
  } catch {
    return { name: text.toUpperCase() };
  }
}

const SMALL_INTS = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT', 'UINTEGER']);
const BIG_INTS = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT', 'BIGNUM', 'VARINT']);
const FLOATS = new Set(['FLOAT', 'DOUBLE', 'REAL']);
const TIMESTAMPS = new Set(['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS',
  'TIMESTAMP WITH TIME ZONE']);

const TS_RE = /^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z)?$/;

function toDate(v) {
  // TIMESTAMP (without time zone) is read as UTC, as DuckDB's own clients do; the server's
  // TIMESTAMP WITH TIME ZONE values are in UTC with a Z. Sub-millisecond digits are dropped.
  const m = TS_RE.exec(v);
  if (!m) return v; // 'infinity', '-infinity'
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), Number((m[7] || '0').slice(0, 3).padEnd(3, '0')));
  return Number.isNaN(d.getTime()) ? v : d;
}

function plain(v) {
  // Values of types we do not know (UNION, ...): numbers as Number when exact, else text.
  if (v instanceof Num) {
    const x = Number(v.text);
    if (/^-?\d+$/.test(v.text) && !Number.isSafeInteger(x)) return BigInt(v.text);
    return x;
  }
  if (Array.isArray(v)) return v.map((x) => (x === null ? null : plain(x)));
  if (v !== null && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) setProp(o, k, v[k] === null ? null : plain(v[k]));
    return o;
  }
  return v;
}

function floatOf(v) {
  if (v instanceof Num) return Number(v.text);
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

function setProp(o, k, v) {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

export function converter(t) {
  const name = t.name;
  if (SMALL_INTS.has(name)) return (v) => Number(v.text);
  if (BIG_INTS.has(name)) return (v) => BigInt(v.text);
  if (FLOATS.has(name)) return floatOf;
  if (name === 'DECIMAL' || name === 'NUMERIC') return (v) => v.text;
  if (name === 'BOOLEAN') return (v) => v;
  if (name === 'BLOB') return (v) => (v.startsWith('\\x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v));
  if (TIMESTAMPS.has(name)) return toDate;
  if (name === 'LIST' || name === 'ARRAY') {
    const c = converter(t.child);
    return (v) => v.map((x) => (x === null ? null : c(x)));
  }
  if (name === 'STRUCT' && t.fields) {
    const convs = new Map(t.fields.map(([n, ft]) => [n, converter(ft)]));
    const list = t.fields.map(([, ft]) => converter(ft));
    return (v) => {
      const o = {};
      const keys = Object.keys(v);
      keys.forEach((k, idx) => {
        const x = v[k];
        const c = convs.get(k) || list[idx] || plain;
        setProp(o, k, x === null ? null : c(x));
      });
      return o;
    };
  }
  if (name === 'MAP' && t.key) {
    // Keys arrive as text (JSON object keys) and stay strings, as JavaScript object keys are.
    const vc = converter(t.value);
    return (v) => {
      const o = {};
      for (const k of Object.keys(v)) setProp(o, k, v[k] === null ? null : vc(v[k]));
      return o;
    };
  }
  // VARCHAR, ENUM, UUID, DATE, TIME, TIMETZ, INTERVAL, BIT, JSON: the server's strings.
  return plain;
}

// ----------------------------------------------------------------------------------------------
// Parameters

function checkText(s, what) {
  if (typeof s.isWellFormed === 'function' ? !s.isWellFormed() : /[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) {
    throw new TcpDuckDBError(`${what} holds a lone surrogate (not valid UTF-8)`, 'INVALID_PARAMETER');
  }
  return JSON.stringify(s);
}

function encodeParam(v, idx) {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      if (Number.isFinite(v)) return String(v);
      return JSON.stringify(Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');
    case 'string':
      return checkText(v, `parameter ${idx + 1}`);
    default:
  }
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `{"blob":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}"}`;
  throw new TcpDuckDBError(`parameter ${idx + 1}: values of type ${v?.constructor?.name ?? typeof v} are not supported`, 'INVALID_PARAMETER');
}

function quoteWord(w) {
  return '"' + String(w).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

const TX_FORMS = new Map([
  ['start transaction', 'begin'], ['begin', 'begin'], ['begin transaction', 'begin'],
  ['commit', 'commit'], ['commit transaction', 'commit'], ['end', 'commit'], ['end transaction', 'commit'],
  ['rollback', 'rollback'], ['rollback transaction', 'rollback'], ['abort', 'rollback'], ['abort transaction', 'rollback'],
]);

function transactionStatement(sql) {
  return TX_FORMS.get(sql.trim().replace(/;$/, '').trim().split(/\s+/).join(' ').toLowerCase());
}

// ----------------------------------------------------------------------------------------------
// Connection

const HIGH_WATER = 1 << 20;
// How much of an abandoned stream is read and dropped before the statement is cancelled.
const DRAIN_LIMIT = 4 << 20;

export class Client {
  constructor(socket, timeout) {
    this.socket = socket;
    this.timeout = timeout || 0;
    this.decoder = new StringDecoder('utf8');
    this.buf = '';
    this.pos = 0;
    this.pending = [];
    this.pendingLen = 0;
    this.waiter = null;
    this.failure = null;
    this.closed = false;
    this.inTransaction = false;
    this.streamOpen = false; // a stream() holds the connection (see exclusive())
    this.lock = Promise.resolve();
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      const text = this.decoder.write(chunk);
      this.pending.push(text);
      this.pendingLen += text.length;
      if (this.pendingLen > HIGH_WATER) socket.pause();
      this.wake();
    });
    socket.resume(); // the starttls exchange may have left the socket paused
    socket.on('error', (e) => this.fail(new TcpDuckDBError(`connection error: ${e.message}`, 'CONNECTION')));
    socket.on('close', () => this.fail(new TcpDuckDBError('the server closed the connection', 'CONNECTION')));
  }

  fail(err) {
    if (!this.failure) this.failure = err;
    this.wake();
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  // Moves received text into buf (dropping what was consumed); waits for data if none.
  async more() {
    if (this.pending.length === 0) {
      if (this.failure) throw this.failure;
      let timer;
      await new Promise((resolve, reject) => {
        this.waiter = resolve;
        if (this.socket.isPaused()) this.socket.resume();
        if (this.timeout) {
          timer = setTimeout(() => {
            const e = new TcpDuckDBError('timed out waiting for the server', 'TIMEOUT');
            this.failure = e;
            this.socket.destroy();
            reject(e);
          }, this.timeout);
        }
      }).finally(() => clearTimeout(timer));
      if (this.pending.length === 0 && this.failure) throw this.failure;
    }
    this.buf = this.buf.slice(this.pos) + this.pending.join('');
    this.pos = 0;
    this.pending = [];
    this.pendingLen = 0;
    if (this.socket.isPaused()) this.socket.resume();
  }

  send(text) {
    if (this.failure) throw this.failure;
    if (text.includes('\n') || text.includes('\r')) {
      text = `@${Buffer.byteLength(text)}\n${text}`;
    } else {
      text += '\n';
    }
    this.socket.write(text);
  }

  async readLine() {
    let scanned = 0;
    for (;;) {
      const i = this.buf.indexOf('\n', this.pos + scanned);
      if (i >= 0) {
        const line = this.buf.slice(this.pos, i);
        this.pos = i + 1;
        return line;
      }
      scanned = this.buf.length - this.pos;
      await this.more();
    }
  }

  // Parses a value at pos, reading more as needed (until the unread part doubles, so a long
  // value is rescanned O(log n) times). Returns undefined when the line was cut.
  async parseValue() {
    for (;;) {
      try {
        const [v, end] = parseAt(this.buf, this.pos);
        this.pos = end;
        return v;
      } catch (e) {
        if (e === CUT) return undefined;
        if (e !== INCOMPLETE) throw e;
      }
      const want = 2 * (this.buf.length - this.pos);
      let seen = this.buf.length - this.pos;
      await this.more();
      while (this.buf.length - this.pos < want && this.buf.indexOf('\n', this.pos + seen) < 0) {
        seen = this.buf.length - this.pos;
        await this.more();
      }
    }
  }

  async peekChar() {
    while (this.pos >= this.buf.length) await this.more();
    return this.buf[this.pos];
  }

  async expect(lit) {
    while (this.buf.length - this.pos < lit.length) await this.more();
    if (!this.buf.startsWith(lit, this.pos)) return false;
    this.pos += lit.length;
    return true;
  }

  broken(why) {
    const e = new TcpDuckDBError(why, 'PROTOCOL');
    this.failure = e;
    this.socket.destroy();
    return e;
  }

  // Reads one answer. Rows answers return an object whose next() yields raw rows.
  async answer() {
    const head = '{"columns":';
    while (this.buf.length - this.pos < head.length && this.buf.indexOf('\n', this.pos) < 0) await this.more();
    if (this.buf.startsWith(head, this.pos)) {
      this.pos += head.length;
      const cols = await this.parseValue();
      if (cols === undefined || !(await this.expect(',"rows":['))) throw this.broken('malformed row answer');
      const columns = cols.map((c) => ({ name: c.name, type: c.type }));
      return { kind: 'rows', columns };
    }
    const line = await this.readLine();
    if (line.startsWith('Error: ')) throw serverError(line.slice(7));
    if (line.startsWith('{')) {
      const obj = JSON.parse(line);
      if ('changed' in obj) return { kind: 'changed', changed: obj.changed };
      if (obj.success === true) return { kind: 'success' };
    }
    return { kind: 'text', text: line };
  }

  // The next raw row (array of parsed values), or null at the end.
  async nextRow(state) {
    if (state.done) return null;
    let c = await this.peekChar();
    if (c === ']') {
      if (!(await this.expect(']}\n'))) throw this.broken('malformed row answer');
      state.done = true;
      return null;
    }
    if (c === ',' && !state.first) {
      this.pos++;
      c = await this.peekChar();
    }
    state.first = false;
    let row;
    if (c !== '\n') {
      if (c !== '[') throw this.broken('malformed row answer');
      row = await this.parseValue();
    }
    if (row === undefined) {
      state.done = true;
      await this.readLine();
      const line = await this.readLine();
      if (line.startsWith('Error: ')) throw serverError(line.slice(7));
      throw this.broken('a cut row answer was not followed by an error');
    }
    return row;
  }

  /** 'TLSv1.3', 'TLSv1.2', or null on a plaintext connection. */
  get tlsVersion() {
    return this.socket.encrypted ? this.socket.getProtocol() : null;
  }

  // Reads and drops the rest of a row answer without parsing it: the rest of its line and, when
  // the line was cut by an error, the error line. Resolves to true when the answer ended, or
  // false once more than `limit` characters were dropped (the connection is then mid-answer).
  async skipRest(limit) {
    let skipped = 0;
    let tail = this.pos >= 2 ? this.buf.slice(this.pos - 2, this.pos) : '';
    for (;;) {
      const i = this.buf.indexOf('\n', this.pos);
      const end = i >= 0 ? i : this.buf.length;
      tail = (tail + this.buf.slice(Math.max(this.pos, end - 2), end)).slice(-2);
      skipped += end - this.pos;
      if (i >= 0) {
        this.pos = i + 1;
        // A complete answer ends with ']}'; a cut one is followed by its `Error:` line.
        if (tail !== ']}') await this.readLine();
        return true;
      }
      this.pos = this.buf.length;
      if (skipped > limit) return false;
      await this.more();
    }
  }

  // Runs fn with the connection to itself (requests go one at a time, queued in call order).
  // While a stream() holds the connection, a new request would wait for the end of an
  // iteration that may be waiting for it (a query inside the for-await loop): it is refused at
  // once instead (code 'STREAM_OPEN').
  exclusive(fn) {
    if (this.streamOpen) {
      return Promise.reject(new TcpDuckDBError('a stream() is still open on this client: finish the iteration or break out of it before the next request (or use another client)', 'STREAM_OPEN'));
    }
    const run = this.lock.then(() => {
      if (this.closed) throw new TcpDuckDBError('the client is closed', 'CLOSED');
      return fn();
    });
    this.lock = run.catch(() => {});
    return run;
  }

  async roundtrip(text) {
    this.send(text);
    return this.answer();
  }

  async rawCommand(line) {
    const a = await this.roundtrip(line);
    if (a.kind === 'rows') {
      const st = { first: true, done: false };
      while ((await this.nextRow(st)) !== null);
      return null;
    }
    return a.kind === 'text' && a.text !== 'success' ? a.text : null;
  }

  /** Sends a server command (`create database x`, `grant ...`, `list users`); resolves to null
   * for `success`, else the answer text (JSON for `list`). `commit` and `rollback` end the
   * transaction (inTransaction false) also when they fail: the server has none open then. */
  command(line) {
    return this.exclusive(async () => {
      const tx = transactionStatement(line);
      try {
        const r = await this.rawCommand(line);
        if (tx === 'begin') this.inTransaction = true;
        return r;
      } finally {
        if (tx && tx !== 'begin') this.inTransaction = false;
      }
    });
  }

  /** Opens a transaction; resolves to null. */
  begin() {
    return this.command('start transaction');
  }

  commit() {
    return this.command('commit');
  }

  /** Rolls back the open transaction. Outside one (e.g. after a commit() that failed: the
   * server ended the transaction) it resolves to null as well, as ROLLBACK does in PostgreSQL. */
  async rollback() {
    const open = this.inTransaction;
    try {
      return await this.command('rollback');
    } catch (e) {
      if (!open && e instanceof TcpDuckDBError && e.message === 'Bad Request: no transaction is open') return null;
      throw e;
    }
  }

  /** Runs fn(client) in a transaction: commits when it resolves, rolls back when it throws. */
  async transaction(fn) {
    await this.begin();
    let result;
    try {
      result = await fn(this);
    } catch (e) {
      try {
        await this.rollback();
      } catch {
        // the original error matters more
      }
      throw e;
    }
    await this.commit();
    return result;
  }

  request(sql, params) {
    if (typeof sql !== 'string') throw new TcpDuckDBError('sql must be a string', 'INVALID_PARAMETER');
    let body = `{"sql":${checkText(sql, 'sql')}`;
    if (params !== undefined && params !== null) {
      if (!Array.isArray(params)) throw new TcpDuckDBError('params must be an array', 'INVALID_PARAMETER');
      if (params.length) body += `,"params":[${params.map(encodeParam).join(',')}]`;
    }
    return `query ${body}}`;
  }

  /**
   * Runs one statement (or, without params, several separated by ';'). Resolves to
   * { columns, rows, rowsArray, rowCount }: rows as objects keyed by column name (a later
   * duplicate name wins; rowsArray keeps every column), rowCount the rows returned or changed
   * (null for statements that do neither).
   */
  query(sql, params, options = {}) {
    const tx = params && params.length ? undefined : transactionStatement(String(sql));
    if (tx) {
      return this.command(tx === 'begin' ? 'start transaction' : tx).then(() => ({ columns: [], rows: [], rowsArray: [], rowCount: null }));
    }
    const req = this.request(sql, params);
    return this.exclusive(async () => {
      const a = await this.roundtrip(req);
      if (a.kind === 'changed') return { columns: [], rows: [], rowsArray: [], rowCount: a.changed };
      if (a.kind !== 'rows') return { columns: [], rows: [], rowsArray: [], rowCount: null };
      const convert = rowConverter(a.columns);
      const st = { first: true, done: false };
      const rowsArray = [];
      let raw;
      while ((raw = await this.nextRow(st)) !== null) rowsArray.push(convert(raw));
      const names = a.columns.map((c) => c.name);
      const rows = options.rowMode === 'array' ? rowsArray : rowsArray.map((r) => toObject(names, r));
      return { columns: a.columns, rows, rowsArray, rowCount: rowsArray.length };
    });
  }

  /**
   * An async iterable of the rows of one statement, parsed as they arrive: memory stays
   * bounded whatever the result size. Rows are objects (options.rowMode 'array': arrays).
   * The connection serves nothing else until the iteration ends: another request meanwhile
   * rejects at once (code 'STREAM_OPEN'). Breaking out of the loop drops the rest of the
   * result: up to 4 MiB of it is read and dropped, a longer rest is ended by cancelling the
   * statement (cancel()) and reading the short rest, as the Go driver does. Inside a
   * transaction the rest is read whatever its size, since a cancel would abort the
   * transaction. `stream.columns` is set once the answer began.
   */
  stream(sql, params, options = {}) {
    const req = this.request(sql, params);
    const client = this;
    const it = {
      columns: undefined,
      [Symbol.asyncIterator]() {
        let release;
        let st;
        let convert;
        let names;
        const start = async () => {
          await new Promise((resolveStart, rejectStart) => {
            client.exclusive(() => new Promise((resolveLock) => {
              release = resolveLock;
              client.streamOpen = true;
              client.roundtrip(req).then((a) => {
                if (a.kind !== 'rows') {
                  it.columns = [];
                  st = { done: true };
                } else {
                  it.columns = a.columns;
                  names = a.columns.map((c) => c.name);
                  convert = rowConverter(a.columns);
                  st = { first: true, done: false };
                }
                resolveStart();
              }, (e) => {
                client.streamOpen = false;
                release();
                rejectStart(e);
              });
            })).catch(rejectStart);
          });
        };
        let finished = false;
        const finish = () => {
          if (!finished) {
            finished = true;
            client.streamOpen = false;
            if (release) release();
          }
        };
        return {
          async next() {
            if (finished) return { done: true, value: undefined };
            try {
              if (!st) await start();
              const raw = await client.nextRow(st);
              if (raw === null) {
                finish();
                return { done: true, value: undefined };
              }
              const row = convert(raw);
              return { done: false, value: options.rowMode === 'array' ? row : toObject(names, row) };
            } catch (e) {
              finish();
              throw e;
            }
          },
          async return() {
            if (!finished && st && !st.done) {
              let ended = false;
              try {
                const limit = client.inTransaction || !client.cancelKey ? Infinity : DRAIN_LIMIT;
                ended = await client.skipRest(limit);
                if (!ended) {
                  // A long rest: stop the statement, then the rest is short (the line is cut
                  // and the Canceled error follows, or the result had ended meanwhile).
                  await client.cancel();
                  ended = await client.skipRest(Infinity);
                }
              } catch {
                // the connection failed, or the cancel could not be sent
              }
              st.done = true;
              // Mid-answer, the connection cannot serve another request: close it (the server
              // stops the statement of a client that is gone).
              if (!ended && !client.failure) client.broken('an abandoned stream could not be ended');
            }
            finish();
            return { done: true, value: undefined };
          },
        };
      },
    };
    return it;
  }

  /** Closes the connection; an open transaction is rolled back by the server. */
  /**
   * Cancels the statement this client is running (docs/protocol.md, "Cancel"): a second
   * connection to the same server, with the same TLS options, sends the session's cancel key.
   * Call it while a query() or stream() is pending; that request then rejects with a
   * TcpDuckDBError of kind 'Canceled' ('Canceled: canceling statement due to user request')
   * and the client stays usable. With nothing running it does nothing. Rejects when the client
   * never logged in (code 'NO_CANCEL_KEY') or the cancel cannot be sent.
   */
  async cancel() {
    if (!this.cancelKey || !this.address) {
      throw new TcpDuckDBError('the client has no cancel key (not logged in, or the server has no cancel requests)', 'NO_CANCEL_KEY');
    }
    const address = { ...this.address, timeout: this.address.timeout || 10000 };
    const c = new Client(await openSocket(address), address.timeout);
    try {
      const a = await c.roundtrip(`cancel ${this.cancelKey.session} ${this.cancelKey.key}`);
      if (a.kind !== 'text' || a.text !== 'success') {
        throw new TcpDuckDBError(`unexpected answer to cancel: ${JSON.stringify(a.text ?? a.kind)}`, 'PROTOCOL');
      }
    } finally {
      c.closed = true;
      c.failure = c.failure || new TcpDuckDBError('the client is closed', 'CLOSED');
      c.socket.destroy();
    }
  }

  async close() {
    if (this.closed) return;
    await this.lock;
    this.closed = true;
    if (!this.failure) {
      this.failure = new TcpDuckDBError('the client is closed', 'CLOSED');
      await new Promise((resolve) => {
        this.socket.end('quit\n', resolve);
        this.socket.once('close', resolve);
      });
    }
    this.socket.destroy();
  }
}

function rowConverter(columns) {
  const convs = columns.map((c) => converter(parseType(c.type)));
  return (raw) => {
    const out = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      out[i] = v === null ? null : convs[i](v);
    }
    return out;
  };
}

function toObject(names, row) {
  const o = {};
  for (let i = 0; i < names.length; i++) setProp(o, names[i], row[i]);
  return o;
}

// ----------------------------------------------------------------------------------------------
// TLS: the starttls upgrade of docs/protocol.md
//
// The first request is `starttls`. A server with TLS answers `success` and waits for our
// ClientHello on the same socket; one without TLS answers an `Error: ...` line and the
// connection goes on in plaintext (which only sslmode 'prefer' accepts). The answer is read in
// paused mode ('readable' + read()), so no 'data' event can carry bytes past it into the
// wrong hands; a server that sent anything after its answer line is refused (protocol error)
// rather than having those bytes dropped or fed to TLS.

const SSLMODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];
const MAX_LINE = 4096;

function tlsError(message, code = 'TLS') {
  return new TcpDuckDBError(message, code);
}

// A PEM option: a file name, or the PEM text itself as a Buffer.
function pem(value, what) {
  if (Buffer.isBuffer(value)) return value;
  try {
    return fs.readFileSync(value);
  } catch (e) {
    throw tlsError(`cannot read ${what} ${value}: ${e.message}`);
  }
}

// A CA file must hold at least one certificate: Node would take anything else as "no CA" and
// report every server as signed by an unknown CA.
function caPem(value) {
  const buf = pem(value, 'sslrootcert');
  if (!buf.includes('-----BEGIN CERTIFICATE-----')) {
    throw tlsError(`sslrootcert ${Buffer.isBuffer(value) ? '(Buffer)' : value} holds no PEM certificate`);
  }
  return buf;
}

// The options for tls.connect. The secure context is built here, before connecting, so that
// unusable files are reported as such (not as a failed handshake).
function tlsOptions(o) {
  const { sslmode, sslrootcert, sslcert, sslkey } = o;
  const verify = sslmode === 'verify-ca' || sslmode === 'verify-full';
  const ctx = { minVersion: 'TLSv1.2' };
  if (verify && sslrootcert) ctx.ca = caPem(sslrootcert);
  if (sslkey && !sslcert) throw tlsError('sslkey is given without sslcert');
  if (sslcert) {
    ctx.cert = pem(sslcert, 'sslcert');
    ctx.key = sslkey ? pem(sslkey, 'sslkey') : ctx.cert;
  }
  const opts = { rejectUnauthorized: verify };
  try {
    opts.secureContext = tls.createSecureContext(ctx);
  } catch (e) {
    const name = (v) => (Buffer.isBuffer(v) ? '(Buffer)' : v);
    const what = sslcert ? `the client certificate ${name(sslcert)} / key ${name(sslkey ?? sslcert)}` : `sslrootcert ${name(sslrootcert)}`;
    throw tlsError(`cannot load ${what}: ${e.reason || e.message}`);
  }
  // verify-ca checks the chain only; verify-full keeps Node's host name / IP address check.
  if (sslmode === 'verify-ca') opts.checkServerIdentity = () => undefined;
  return opts;
}

// OpenSSL's verify codes as Node reports them, named the way the protocol contract asks.
const UNKNOWN_CA = new Set(['UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED']);

function verifyReason(e) {
  if (e.code === 'CERT_HAS_EXPIRED') return 'certificate has expired';
  if (e.code === 'CERT_NOT_YET_VALID') return 'certificate is not yet valid';
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `host name mismatch (${e.reason || e.message})`;
  if (UNKNOWN_CA.has(e.code)) return `unknown CA: the chain does not verify against sslrootcert (${e.message})`;
  return null;
}

// Reads the answer line to starttls; resolves to [line, extraBytesWaiting].
function readAnswerLine(socket) {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const done = (err, value) => {
      socket.removeListener('readable', onReadable);
      socket.removeListener('error', onError);
      socket.removeListener('end', onEnd);
      if (err) reject(err);
      else resolve(value);
    };
    const onReadable = () => {
      let chunk;
      while ((chunk = socket.read()) !== null) {
        got = Buffer.concat([got, chunk]);
        const nl = got.indexOf(10);
        if (nl >= 0) {
          done(null, [got.subarray(0, nl).toString('utf8').replace(/\r$/, ''), got.length > nl + 1]);
          return;
        }
        if (got.length > MAX_LINE) {
          done(tlsError("the server's answer to starttls is not a line", 'PROTOCOL'));
          return;
        }
      }
    };
    const onError = (e) => done(tlsError(`connection error during starttls: ${e.message}`, 'CONNECTION'));
    const onEnd = () => done(tlsError('the server closed the connection during starttls', 'CONNECTION'));
    socket.on('readable', onReadable);
    socket.on('error', onError);
    socket.on('end', onEnd);
  });
}

// Runs the upgrade on a connected socket; resolves to the socket to use from now on.
async function negotiate(socket, o, opts) {
  const where = `${o.host}:${o.port}`;
  socket.write('starttls\n');
  const [line, extra] = await readAnswerLine(socket);
  if (line !== 'success') {
    if (line.startsWith('Error: ') && !extra) {
      if (o.sslmode === 'prefer') return socket; // no TLS on this server: plaintext, same socket
      throw tlsError(`the server does not offer TLS (sslmode=${o.sslmode}): ${line.slice(7)}`);
    }
    throw tlsError(`unexpected answer to starttls: ${JSON.stringify(line.slice(0, 200))}`, 'PROTOCOL');
  }
  if (extra) throw tlsError('protocol error: the server sent data after accepting starttls', 'PROTOCOL');
  return new Promise((resolve, reject) => {
    const t = tls.connect({
      ...opts,
      socket,
      host: o.host, // for the identity check (verify-full); the socket is already connected
      servername: net.isIP(o.host) ? undefined : o.host, // SNI takes names, not addresses
    });
    const onError = (e) => {
      t.removeListener('secureConnect', onSecure);
      t.destroy();
      const reason = verifyReason(e);
      if (reason) reject(tlsError(`TLS certificate verification failed for ${where} (sslmode=${o.sslmode}): ${reason}`, 'TLS_VERIFY'));
      else reject(tlsError(`TLS handshake with ${where} failed: ${e.message}`));
    };
    const onSecure = () => {
      t.removeListener('error', onError);
      resolve(t);
    };
    t.once('error', onError);
    t.once('secureConnect', onSecure);
  });
}

// The environment variables every TCP-DuckDB client reads (docs/protocol.md, "Client libraries").
const ENV_OPTIONS = {
  host: 'TCPDUCKDB_HOST', port: 'TCPDUCKDB_PORT', user: 'TCPDUCKDB_USER', password: 'TCPDUCKDB_PASSWORD',
  database: 'TCPDUCKDB_DATABASE', sslmode: 'TCPDUCKDB_SSLMODE', sslrootcert: 'TCPDUCKDB_SSLROOTCERT',
  sslcert: 'TCPDUCKDB_SSLCERT', sslkey: 'TCPDUCKDB_SSLKEY',
};
const URI_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout'];

function badUri(why) {
  return new TcpDuckDBError(`bad URI: ${why}`, 'INVALID_PARAMETER');
}

/**
 * The options of a `tcpduckdb://user:password@host:port/database?sslmode=...` URI (the syntax
 * of every TCP-DuckDB client): user, password, host and database percent-decoded, query values
 * URL-decoded; unknown parameters are refused. Only the parts present are returned.
 */
export function parseUri(uri) {
  let u;
  try {
    u = new URL(uri);
  } catch {
    throw badUri('not a URI'); // the text may hold a password: not quoted
  }
  if (u.protocol !== 'tcpduckdb:') throw badUri(`the scheme must be tcpduckdb://, not ${u.protocol}//`);
  if (u.hash) throw badUri('a fragment (#) has no meaning');
  const dec = (v, what) => {
    try {
      return decodeURIComponent(v);
    } catch {
      throw badUri(`a bad %-escape in the ${what}`);
    }
  };
  const o = {};
  if (u.username) o.user = dec(u.username, 'user');
  const authority = uri.slice('tcpduckdb://'.length).split(/[/?#]/)[0];
  const at = authority.lastIndexOf('@');
  if (at >= 0 && authority.slice(0, at).includes(':')) o.password = dec(u.password, 'password');
  if (u.hostname) o.host = dec(u.hostname.replace(/^\[(.*)\]$/, '$1'), 'host');
  if (u.port) o.port = Number(u.port);
  if (u.pathname.length > 1) o.database = dec(u.pathname.slice(1), 'database');
  for (const [k, v] of u.searchParams) {
    if (!URI_PARAMS.includes(k)) throw badUri(`unknown parameter ${JSON.stringify(k)}`);
    if (k === 'connect_timeout') {
      const secs = Number(v);
      if (!Number.isFinite(secs) || secs < 0) throw badUri(`connect_timeout must be seconds, not ${JSON.stringify(v)}`);
      o.connectTimeout = secs * 1000;
    } else {
      o[k] = v;
    }
  }
  return o;
}

// Options given > the URI (options.connectionString, or a string instead of options) > the
// TCPDUCKDB_* environment > the defaults.
function resolveOptions(options) {
  const given = typeof options === 'string' ? { connectionString: options } : { ...options };
  const fromUri = given.connectionString ? parseUri(given.connectionString) : {};
  const o = { ...fromUri };
  for (const [k, v] of Object.entries(given)) if (v !== undefined && k !== 'connectionString') o[k] = v;
  for (const [k, name] of Object.entries(ENV_OPTIONS)) {
    const v = process.env[name];
    if (!(k in o) && v !== undefined && v !== '') o[k] = k === 'port' ? Number(v) : v;
  }
  if (o.port !== undefined && (!Number.isInteger(Number(o.port)) || Number(o.port) <= 0 || Number(o.port) > 65535)) {
    throw new TcpDuckDBError(`bad port ${JSON.stringify(String(o.port))}`, 'INVALID_PARAMETER');
  }
  return o;
}

/**
 * Opens a connection, negotiates TLS as `sslmode` asks, logs in (user/password, default
 * duck/duck) and connects to `database` when given. `timeout` (milliseconds) bounds the TCP
 * connect with the TLS negotiation, and every wait for the server. `options` may be a
 * `tcpduckdb://` URI instead, or carry one as `connectionString`; options left out come from
 * the URI, then from TCPDUCKDB_HOST, _PORT, _USER, _PASSWORD, _DATABASE, _SSLMODE,
 * _SSLROOTCERT, _SSLCERT, _SSLKEY, then from the defaults.
 */
export async function connect(options = {}) {
  const resolved = resolveOptions(options);
  const { host = '127.0.0.1', port = 4000, user = 'duck', password = 'duck', database, timeout = 0 } = resolved;
  const { sslmode = 'prefer', sslrootcert, sslcert, sslkey, connectTimeout } = resolved;
  if (!SSLMODES.includes(sslmode)) {
    throw new TcpDuckDBError(`sslmode must be one of ${SSLMODES.join(', ')}, not ${JSON.stringify(sslmode)}`, 'INVALID_PARAMETER');
  }
  const opts = sslmode === 'disable' ? null : tlsOptions({ sslmode, sslrootcert, sslcert, sslkey });
  const address = { host, port: Number(port), timeout: timeout || connectTimeout || 0, sslmode, opts };
  const client = new Client(await openSocket(address), timeout);
  // What cancel() needs: the same address and TLS options, and the session's key.
  client.address = address;
  try {
    if (user !== undefined && user !== null) {
      await client.command(`login ${quoteWord(user)} ${quoteWord(password ?? '')}`);
      client.cancelKey = await client.exclusive(() => sessionKey(client));
    }
    if (database !== undefined && database !== null) await client.command(`connect ${quoteWord(database)}`);
  } catch (e) {
    client.socket.destroy();
    throw e;
  }
  return client;
}

// The session's cancel id and key (`session key`), or null from a server without cancel
// requests (it answers an error).
async function sessionKey(client) {
  let text;
  try {
    text = await client.rawCommand('session key');
  } catch (e) {
    if (e instanceof TcpDuckDBError && e.kind !== undefined) return null;
    throw e;
  }
  const m = /^\{"session":([1-9][0-9]*),"key":"([0-9a-f]{32})"\}$/.exec(text ?? '');
  if (!m) throw new TcpDuckDBError(`unexpected answer to session key: ${JSON.stringify(String(text).slice(0, 200))}`, 'PROTOCOL');
  return { session: m[1], key: m[2] };
}

// Connects to address.host:port and negotiates TLS as address.sslmode asks (address.opts from
// tlsOptions), within address.timeout milliseconds (0: no limit); resolves to the socket.
async function openSocket(address) {
  const { host, port, timeout, sslmode, opts } = address;
  let timer;
  let timedOut;
  const raw = net.createConnection({ host, port });
  const connected = new Promise((resolve, reject) => {
    if (timeout) {
      timedOut = new Promise((_, rejectTimeout) => {
        timer = setTimeout(() => {
          raw.destroy();
          rejectTimeout(new TcpDuckDBError(`cannot connect to ${host}:${port}: timed out`, 'CONNECTION'));
        }, timeout);
      });
      timedOut.catch(reject);
    }
    raw.once('connect', () => {
      raw.removeAllListeners('error');
      resolve(raw);
    });
    raw.once('error', (e) => reject(new TcpDuckDBError(`cannot connect to ${host}:${port}: ${e.message}`, 'CONNECTION')));
  });
  let socket;
  try {
    await connected;
    socket = raw;
    if (opts) {
      const upgrade = negotiate(raw, { host, port, sslmode }, opts);
      upgrade.catch(() => {}); // when the timeout wins the race, its failure is not awaited
      socket = await (timedOut ? Promise.race([upgrade, timedOut]) : upgrade);
    }
  } catch (e) {
    raw.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return socket;
}

export default { connect, parseUri, Client, TcpDuckDBError, parseType };
