// tcpduckdb (Node) against the real server: build/asan/tcp-duckdb, or $TCPDUCKDB_BIN.
// Run: node --test clients/node/test/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { connect, parseUri, TcpDuckDBError, parseType } from '../index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = process.env.TCPDUCKDB_BIN || path.join(ROOT, 'build', 'asan', 'tcp-duckdb');
const SERVER_ENV = ['ServerPort', 'ServerAddr', 'DBdir', 'ServerDbFile', 'ENCRYPTION_KEY', 'SuperPassword',
  'MaxConnections', 'MaxRequestBytes', 'IdleTimeout', 'QueryWorkers', 'PoolSize', 'PoolWaitMs',
  'DuckdbThreads', 'DuckdbMemoryLimit', 'LogLevel'];

let proc;
let port;
let dir;
let log = '';
let dbCount = 0;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpduckdb-node-'));
  const env = { ...process.env };
  for (const k of SERVER_ENV) delete env[k];
  env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1:halt_on_error=1';
  proc = spawn(BIN, ['--port', '0', '--addr', '127.0.0.1', '--data-dir', dir], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = /listening to .*:(\d+)\s*$/m.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
});

after(async () => {
  const code = await new Promise((resolve) => {
    proc.on('exit', (c, sig) => resolve(c ?? sig));
    proc.kill('SIGTERM');
  });
  fs.rmSync(dir, { recursive: true, force: true });
  for (const mark of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:']) {
    assert.ok(!log.includes(mark), log.slice(-20000));
  }
  assert.equal(code, 0, log.slice(-5000));
});

async function freshDb() {
  const name = `db${dbCount++}`;
  const admin = await connect({ port });
  await admin.command(`create database ${name}`);
  await admin.close();
  return name;
}

async function client() {
  return connect({ port, database: await freshDb() });
}

test('connect and login errors', async () => {
  await assert.rejects(connect({ port, user: 'duck', password: 'wrong' }), (e) => e instanceof TcpDuckDBError && e.code === 'UNAUTHORIZED');
  await assert.rejects(connect({ port, database: 'nosuchdb' }), (e) => e.code === 'DOES_NOT_EXIST');
  await assert.rejects(connect({ port: 1 }), (e) => e.code === 'CONNECTION');
  const db = await freshDb();
  const admin = await connect({ port });
  await admin.command('create user "nodeuser" "p a\\"ss\\\\w"');
  await admin.command(`grant database ${db} nodeuser read`);
  const u = await connect({ port, user: 'nodeuser', password: 'p a"ss\\w', database: db });
  assert.deepEqual((await u.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  await u.close();
  await admin.command('create user nogrant pw');
  await assert.rejects(connect({ port, user: 'nogrant', password: 'pw', database: db }), (e) => e.code === 'ACCESS_DENIED');
  const list = JSON.parse(await admin.command('list users'));
  assert.ok(list.some((x) => x.name === 'nodeuser'));
  await admin.close();
  await assert.rejects(admin.query('SELECT 1'), (e) => e.code === 'CLOSED');
});

test('numbers: exact integers as BigInt, DECIMAL as string, floats', async () => {
  const c = await client();
  const { rowsArray, columns, rowCount } = await c.query(
    `SELECT 1::TINYINT, 2::SMALLINT, 2147483647::INTEGER, 4294967295::UINTEGER, 9007199254740993::BIGINT,
     18446744073709551615::UBIGINT, 170141183460469231731687303715884105727::HUGEINT, 12.50::DECIMAL(10,2),
     1.123456789012345678901234567890::DECIMAL(38,30), 0.1::DOUBLE, 100::DOUBLE, 1.5::FLOAT,
     'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE, true, false`);
  assert.equal(rowCount, 1);
  assert.equal(columns[4].type, 'BIGINT');
  const r = rowsArray[0];
  assert.deepEqual(r.slice(0, 4), [1, 2, 2147483647, 4294967295]);
  assert.equal(r[4], 9007199254740993n);
  assert.equal(r[5], 18446744073709551615n);
  assert.equal(r[6], 170141183460469231731687303715884105727n);
  assert.equal(r[7], '12.50');
  assert.equal(r[8], '1.123456789012345678901234567890');
  assert.deepEqual(r.slice(9, 12), [0.1, 100, 1.5]);
  assert.ok(Number.isNaN(r[12]));
  assert.deepEqual(r.slice(13), [Infinity, -Infinity, true, false]);
  await c.close();
});

test('strings, blobs, dates, timestamps, nested types', async () => {
  const c = await client();
  const { rows } = await c.query(
    `SELECT 'héllo ☃ 😀' AS s, '\\x00\\xff'::BLOB AS b, '550e8400-e29b-41d4-a716-446655440000'::UUID AS u,
     DATE '2024-01-31' AS d, 'infinity'::DATE AS dinf, TIME '13:45:30.25' AS t,
     TIMESTAMP '2024-01-31 13:45:30.5' AS ts, TIMESTAMPTZ '2024-01-31 13:45:30+02' AS tz,
     TIMESTAMP_NS '2024-01-01 00:00:00.123456789' AS tns, 'infinity'::TIMESTAMP AS tsinf,
     INTERVAL '1 year 2 months 3 days 4 hours' AS i, [1, 2, NULL] AS l, [1,2]::INTEGER[2] AS a,
     {'a': 1, 'b': [9007199254740993::BIGINT], 'c': 1.5::DECIMAL(3,1)} AS st, MAP {'k': [1]} AS m,
     [{'x': '\\xAA'::BLOB}] AS lb, NULL::INTEGER AS n, 'a'::ENUM('a','b') AS e, TIMESTAMP '0001-01-01 00:00:00' AS early`);
  const r = rows[0];
  assert.equal(r.s, 'héllo ☃ 😀');
  assert.deepEqual(r.b, Buffer.from([0, 255]));
  assert.equal(r.u, '550e8400-e29b-41d4-a716-446655440000');
  assert.equal(r.d, '2024-01-31');
  assert.equal(r.dinf, 'infinity');
  assert.equal(r.t, '13:45:30.25');
  assert.ok(r.ts instanceof Date);
  assert.equal(r.ts.toISOString(), '2024-01-31T13:45:30.500Z');
  assert.equal(r.tz.toISOString(), '2024-01-31T11:45:30.000Z');
  assert.equal(r.tns.toISOString(), '2024-01-01T00:00:00.123Z');
  assert.equal(r.tsinf, 'infinity');
  assert.equal(r.i, 'P1Y2M3DT4H');
  assert.deepEqual(r.l, [1, 2, null]);
  assert.deepEqual(r.a, [1, 2]);
  assert.deepEqual(r.st, { a: 1, b: [9007199254740993n], c: '1.5' });
  assert.deepEqual(r.m, { k: [1] });
  assert.deepEqual(r.lb, [{ x: Buffer.from([0xaa]) }]);
  assert.equal(r.n, null);
  assert.equal(r.e, 'a');
  assert.equal(r.early.toISOString(), '0001-01-01T00:00:00.000Z');
  await c.close();
});

test('parameters are bound, never pasted', async () => {
  const c = await client();
  await c.query('CREATE TABLE t (i BIGINT, s VARCHAR, b BLOB, ts TIMESTAMPTZ, d DECIMAL(38,10), f DOUBLE, ok BOOLEAN)');
  const evil = "x'); DROP TABLE t; --";
  const r = await c.query('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)',
    [9007199254740993n, evil, Buffer.from('00ff', 'hex'), new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), '12345678901234567890.0123456789', 0.25, true]);
  assert.equal(r.rowCount, 1);
  await c.query('INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7)', [-1, 'it\'s "q" \\ \n ☃ 😀', new Uint8Array([1]), null, null, NaN, false]);
  const { rows } = await c.query('SELECT * FROM t WHERE s = ? OR i = ? ORDER BY i DESC', [evil, -1]);
  assert.deepEqual(rows[0], { i: 9007199254740993n, s: evil, b: Buffer.from([0, 255]), ts: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), d: '12345678901234567890.0123456789', f: 0.25, ok: true });
  assert.equal(rows[1].s, 'it\'s "q" \\ \n ☃ 😀');
  assert.ok(Number.isNaN(rows[1].f));
  assert.deepEqual((await c.query('SELECT count(*) AS n FROM t WHERE s = ?', ["' OR '1'='1"])).rows, [{ n: 0n }]);
  assert.throws(() => c.query('SELECT ?', [{ a: 1 }]), (e) => e.code === 'INVALID_PARAMETER');
  assert.throws(() => c.query('SELECT ?', ['\ud800']), (e) => e.code === 'INVALID_PARAMETER');
  await assert.rejects(c.query('SELECT ?, ?', [1]), (e) => e.code === 'BAD_REQUEST');
  await assert.rejects(c.query('SELECT ?::INTEGER', ['abc']), (e) => e.code === 'CONVERSION_ERROR');
  await c.close();
});

test('rowCount, columns, rowMode, duplicate names, multiple statements', async () => {
  const c = await client();
  assert.equal((await c.query('CREATE TABLE t (i INTEGER)')).rowCount, null);
  assert.equal((await c.query('INSERT INTO t VALUES (1), (2), (3)')).rowCount, 3);
  assert.equal((await c.query('UPDATE t SET i = i + 10 WHERE i > ?', [1])).rowCount, 2);
  const r = await c.query('SELECT 1 AS a, 2 AS a');
  assert.deepEqual(r.columns, [{ name: 'a', type: 'INTEGER' }, { name: 'a', type: 'INTEGER' }]);
  assert.deepEqual(r.rowsArray, [[1, 2]]);
  assert.deepEqual(r.rows, [{ a: 2 }]);
  assert.deepEqual((await c.query('SELECT i FROM t ORDER BY i', [], { rowMode: 'array' })).rows, [[1], [12], [13]]);
  assert.deepEqual((await c.query('INSERT INTO t VALUES (5); SELECT count(*) AS n FROM t')).rows, [{ n: 4n }]);
  assert.deepEqual((await c.query('SELECT * FROM t WHERE i < 0')).rows, []);
  await c.close();
});

test('errors carry the server message and a code', async () => {
  const c = await client();
  const cases = [
    ['SELEC 1', 'PARSER_ERROR'],
    ['SELECT * FROM nope', 'CATALOG_ERROR'],
    ['SELECT nope FROM range(1)', 'BINDER_ERROR'],
    ["SELECT 'abc'::INTEGER", 'CONVERSION_ERROR'],
    ['SELECT 100::TINYINT * 100::TINYINT', 'OUT_OF_RANGE_ERROR'],
  ];
  for (const [sql, code] of cases) {
    await assert.rejects(c.query(sql), (e) => e instanceof TcpDuckDBError && e.code === code && e.message.includes('Error'));
  }
  // The DB-API class, as in the C, Python and Go clients.
  await assert.rejects(c.query('SELEC 1'), (e) => e.class === 'ProgrammingError');
  await assert.rejects(c.query("SELECT 'abc'::INTEGER"), (e) => e.class === 'DataError');
  await assert.rejects(c.query("SELECT error('x')"), (e) => e.class === 'ProgrammingError');
  await assert.rejects(c.query('SELECT * FROM nope'), (e) => e.message.includes('\nLINE 1:'));
  await c.query('CREATE TABLE t (i INTEGER PRIMARY KEY)');
  await c.query('INSERT INTO t VALUES (1)');
  await assert.rejects(c.query('INSERT INTO t VALUES (?)', [1]), (e) => e.code === 'CONSTRAINT_ERROR' && e.kind === 'Constraint Error' && e.class === 'IntegrityError');
  assert.deepEqual((await c.query('SELECT 42 AS x')).rows, [{ x: 42 }]);
  await c.close();
});

test('transactions: begin/commit/rollback, transaction() helper, aborted commit', async () => {
  const db = await freshDb();
  const c = await connect({ port, database: db });
  const other = await connect({ port, database: db });
  await c.query('CREATE TABLE t (i INTEGER PRIMARY KEY)');
  await c.begin();
  assert.equal(c.inTransaction, true);
  await c.query('INSERT INTO t VALUES (1)');
  assert.deepEqual((await other.query('SELECT count(*) AS n FROM t')).rows, [{ n: 0n }]);
  await c.rollback();
  assert.equal(c.inTransaction, false);
  await c.transaction(async (tx) => {
    await tx.query('INSERT INTO t VALUES (2)');
  });
  await assert.rejects(c.transaction(async (tx) => {
    await tx.query('INSERT INTO t VALUES (3)');
    throw new Error('oops');
  }), /oops/);
  assert.equal(await c.transaction(async () => 'value'), 'value');
  await c.query('BEGIN');
  await c.query('INSERT INTO t VALUES (4)');
  await c.query('COMMIT;');
  assert.deepEqual((await other.query('SELECT list(i ORDER BY i) AS l FROM t')).rows, [{ l: [2, 4] }]);
  await c.begin();
  await assert.rejects(c.query('INSERT INTO t VALUES (2)'), (e) => e.code === 'CONSTRAINT_ERROR');
  await assert.rejects(c.commit(), (e) => e.code === 'TRANSACTION_ABORTED');
  // The server ended the aborted transaction: the client says so, and rollback() is harmless.
  assert.equal(c.inTransaction, false);
  assert.equal(await c.rollback(), null);
  assert.equal(c.inTransaction, false);
  await assert.rejects(c.commit(), (e) => e.code === 'BAD_REQUEST');
  // The same through the transaction() helper: the failed commit is reported, nothing hangs.
  await assert.rejects(c.transaction(async (tx) => {
    await assert.rejects(tx.query('INSERT INTO t VALUES (2)'), (e) => e.code === 'CONSTRAINT_ERROR');
  }), (e) => e.code === 'TRANSACTION_ABORTED');
  assert.equal(c.inTransaction, false);
  // begin, commit, rollback and command resolve to null for `success`, as documented.
  assert.equal(await c.begin(), null);
  assert.equal(await c.rollback(), null);
  assert.equal(await c.begin(), null);
  assert.equal(await c.commit(), null);
  assert.equal(await c.command('create user txnull pw'), null);
  assert.equal(typeof (await c.command('list users')), 'string');
  await c.close();
  await other.close();
});

// The heap is measured after a full collection: without one, V8 leaves
// garbage rows around for a while and the figure says nothing about what
// the stream holds.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

test('stream: 1M rows in bounded memory', async () => {
  const c = await client();
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = 0;
  let n = 0;
  let sum = 0n;
  const s = c.stream("SELECT i, 'row ' || i AS s FROM range(1000000) r(i)");
  for await (const row of s) {
    n++;
    sum += row.i;
    if ((n & 0xffff) === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
  }
  assert.equal(n, 1000000);
  assert.equal(sum, 999999n * 1000000n / 2n);
  assert.deepEqual(s.columns, [{ name: 'i', type: 'BIGINT' }, { name: 's', type: 'VARCHAR' }]);
  // The answer is ~23 MB of text and ~150 MB as objects; the stream holds about 1 MB.
  assert.ok(peak < 64 * 1024 * 1024, `heap grew by ${peak}`);
  assert.deepEqual((await c.query('SELECT 1 AS x')).rows, [{ x: 1 }]);
  await c.close();
});

test('stream: break early, mid-result error, array mode, awkward strings', async () => {
  const c = await client();
  let n = 0;
  for await (const row of c.stream('SELECT i FROM range(100000) r(i)', [], { rowMode: 'array' })) {
    assert.deepEqual(row, [BigInt(n)]);
    if (++n === 10) break;
  }
  assert.deepEqual((await c.query('SELECT 7 AS x')).rows, [{ x: 7 }]);
  n = 0;
  await assert.rejects(async () => {
    for await (const row of c.stream("SELECT i, CASE WHEN i = 300000 THEN error('mid') ELSE i END AS v FROM range(400000) r(i)")) {
      assert.equal(row.v, row.i);
      n++;
    }
  }, (e) => e.code === 'INVALID_INPUT_ERROR');
  assert.ok(n > 0 && n <= 300000);
  const big = await c.query(`SELECT repeat('],["\\', 1000000) AS s, '],[' || i AS t, {'k': '}]\n'} AS st FROM range(3) r(i)`);
  assert.deepEqual(big.rows.map((r) => [r.s.length, r.t, r.st.k]), [[5000000, '],[0', '}]\n'], [5000000, '],[1', '}]\n'], [5000000, '],[2', '}]\n']]);
  const rows = [];
  for await (const row of c.stream('SELECT 1 AS x')) rows.push(row);
  assert.deepEqual(rows, [{ x: 1 }]);
  for await (const row of c.stream('CREATE TABLE z (i INTEGER)')) assert.fail(row);
  await c.close();
});

test('stream: break out of a huge result ends it by a cancel, not by reading it all', async () => {
  const c = await client();
  let n = 0;
  // 10^10 rows: read to the end, this would take hours.
  for await (const row of c.stream('SELECT range AS i, repeat(\'x\', 20) AS pad FROM range(10000000000)')) {
    assert.equal(row.i, BigInt(n));
    if (++n === 1000) break;
  }
  assert.equal(c.inTransaction, false);
  assert.deepEqual((await c.query('SELECT 7 AS x')).rows, [{ x: 7 }]);
  // Inside a transaction the rest is read instead (a cancel would abort the transaction).
  await c.query('CREATE TABLE t (i INTEGER)');
  await c.begin();
  await c.query('INSERT INTO t VALUES (1)');
  n = 0;
  for await (const row of c.stream('SELECT range AS i FROM range(300000)')) {
    if (++n === 5) break;
    assert.ok(row);
  }
  await c.commit();
  assert.deepEqual((await c.query('SELECT count(*) AS n FROM t')).rows, [{ n: 1n }]);
  await c.close();
});

test('a request while a stream is open rejects at once', async () => {
  const c = await client();
  let n = 0;
  for await (const row of c.stream('SELECT range AS i FROM range(100000)')) {
    if (n++ === 0) {
      await assert.rejects(c.query('SELECT 1'), (e) => e.code === 'STREAM_OPEN' && /stream/.test(e.message));
      await assert.rejects(c.command('list databases'), (e) => e.code === 'STREAM_OPEN');
      const inner = c.stream('SELECT 2 AS y');
      await assert.rejects(async () => {
        for await (const r of inner) assert.fail(r);
      }, (e) => e.code === 'STREAM_OPEN');
    }
    assert.ok(row);
  }
  assert.equal(n, 100000);
  // After the stream, requests go through again; queries still queue behind one another.
  const [a, b] = await Promise.all([c.query('SELECT 1 AS a'), c.query('SELECT 2 AS b')]);
  assert.deepEqual([a.rows, b.rows], [[{ a: 1 }], [{ b: 2 }]]);
  await c.close();
});

test('URI and TCPDUCKDB_* environment, as the other clients', async () => {
  const db = await freshDb();
  const admin = await connect({ port });
  await admin.command('create user "uriuser" "p@ss w:rd"');
  await admin.command(`grant database ${db} uriuser read`);
  await admin.close();
  const u = await connect(`tcpduckdb://uriuser:p%40ss%20w%3Ard@127.0.0.1:${port}/${db}?sslmode=disable&connect_timeout=10`);
  assert.equal(u.tlsVersion, null);
  assert.deepEqual((await u.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  await u.close();
  assert.deepEqual(parseUri('tcpduckdb://a:b@[::1]:5/d?sslrootcert=/x+y.pem'), { user: 'a', password: 'b', host: '::1', port: 5, database: 'd', sslrootcert: '/x y.pem' });
  assert.deepEqual(parseUri('tcpduckdb://h:7'), { host: 'h', port: 7 });
  for (const bad of ['postgres://u:secretpw@h/d', 'tcpduckdb://u:secretpw@h/d?user=x', 'tcpduckdb://u:secretpw@h/d#f', 'tcpduckdb://u%zz:secretpw@h']) {
    assert.throws(() => parseUri(bad), (e) => e.code === 'INVALID_PARAMETER' && !e.message.includes('secretpw'));
  }
  const saved = { ...process.env };
  try {
    Object.assign(process.env, { TCPDUCKDB_HOST: '127.0.0.1', TCPDUCKDB_PORT: String(port), TCPDUCKDB_USER: 'uriuser', TCPDUCKDB_PASSWORD: 'p@ss w:rd', TCPDUCKDB_DATABASE: db, TCPDUCKDB_SSLMODE: 'disable' });
    const e = await connect();
    assert.deepEqual((await e.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
    await e.close();
    // What is given wins over the environment.
    await assert.rejects(connect({ password: 'wrong' }), (err) => err.code === 'UNAUTHORIZED');
    await assert.rejects(connect('tcpduckdb://uriuser:wrong@127.0.0.1'), (err) => err.code === 'UNAUTHORIZED');
    process.env.TCPDUCKDB_SSLMODE = 'maybe';
    await assert.rejects(connect(), (err) => err.code === 'INVALID_PARAMETER');
  } finally {
    for (const k of Object.keys(process.env)) if (k.startsWith('TCPDUCKDB_') && !(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

test('parseType', () => {
  assert.deepEqual(parseType('DECIMAL(18,3)'), { name: 'DECIMAL', args: [18, 3] });
  assert.equal(parseType('VARCHAR[]').name, 'LIST');
  assert.equal(parseType('INTEGER[3]').size, 3);
  assert.deepEqual(parseType('STRUCT("a b" INTEGER, "c""d" VARCHAR[])').fields.map((f) => f[0]), ['a b', 'c"d']);
  assert.equal(parseType('MAP(VARCHAR, INTEGER[])').value.name, 'LIST');
  assert.equal(parseType('TIMESTAMP WITH TIME ZONE').name, 'TIMESTAMP WITH TIME ZONE');
});

test('a number cut between two reads is parsed whole', async () => {
  // A stand-in server sends the answer in pieces that end inside numbers ("12." | "5",
  // "1e" | "-7", "-" | "3"): the parser must wait for the rest rather than fail.
  const pieces = ['{"columns":[{"name":"d","type":"DOUBLE"}],"rows":[[12.', '5],[1e', '-7],[-', '3],[2E+',
    '2]]}\n'];
  const srv = net.createServer((s) => {
    let buf = '';
    s.on('data', async (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('login')) s.write('success\n');
        else if (line === 'session key') s.write('Error: Bad Request: as a server without cancel\n');
        else if (line.startsWith('query')) {
          for (const p of pieces) {
            s.write(p);
            await new Promise((r) => setTimeout(r, 20)); // separate 'data' events
          }
        }
      }
    });
    s.on('error', () => {});
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const c = await connect({ port: srv.address().port, sslmode: 'disable' });
  const { rows } = await c.query('SELECT d', [], { rowMode: 'array' });
  assert.deepEqual(rows, [[12.5], [1e-7], [-3], [200]]);
  await c.close();
  srv.close();
});

// ---- cancel() (docs/protocol.md, "Cancel") ---------------------------------------------------

const LONG = 'SELECT count(*) FROM range(10000000000)';
const CANCELED = 'Canceled: canceling statement due to user request';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('cancel() ends the running query; the client goes on', async () => {
  const c = await client();
  for (let i = 0; i < 2; i++) {
    const running = c.query(LONG);
    await sleep(1000);
    await c.cancel();
    await assert.rejects(running, (e) => e instanceof TcpDuckDBError && e.kind === 'Canceled' && e.message === CANCELED);
    const r = await c.query('SELECT 42 AS x');
    assert.equal(r.rows[0].x, 42);
  }
  await c.close();
});

test('cancel() with nothing running does nothing', async () => {
  const c = await client();
  await c.cancel();
  await sleep(300);
  const r = await c.query('SELECT 7 AS x, sleep_ms(300) IS NULL AS s');
  assert.equal(r.rows[0].x, 7);
  await c.close();
});

test('cancel() ends a stream', async () => {
  const c = await client();
  let n = 0;
  await assert.rejects((async () => {
    for await (const row of c.stream('SELECT range AS i FROM range(10000000000)')) {
      if (n++ === 10) await c.cancel();
      assert.ok(row);
    }
  })(), (e) => e.kind === 'Canceled');
  assert.ok(n > 10);
  assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
  await c.close();
});

test('cancel() needs a login', async () => {
  const c = await connect({ port, user: null });
  await assert.rejects(c.cancel(), (e) => e.code === 'NO_CANCEL_KEY');
  await c.close();
});
