// node-postgres (npm `pg` 8.23.1, pinned in package-lock.json) against the PostgreSQL front end
// of the real ASan server (docs/pgwire.md): parameters of the common types, named prepared
// statements, arrays both ways, int8 and numeric as strings, SQLSTATEs in err.code,
// transactions, a user refused what is not granted, and a 16-client Pool.
// Run: node --test tests/pgwire/node/ (TCPDUCKDB_BIN picks the server binary).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startServer, stopServer, admin } from './server.mjs';

let srv;
let dbCount = 0;

before(async () => {
  srv = await startServer();
  await admin(srv, 'create user alice s3cret');
});

after(async () => {
  await stopServer(srv);
});

async function freshDb(...setup) {
  const name = `pgdb${dbCount++}`;
  await admin(srv, `create database ${name}`, `connect ${name}`, ...setup);
  return name;
}

function config(database, user = 'duck', password = 'duck') {
  return { host: '127.0.0.1', port: srv.pgPort, user, password, database, connectionTimeoutMillis: 60000 };
}

async function client(database, user, password) {
  const c = new pg.Client(config(database, user, password));
  await c.connect();
  return c;
}

test('parameters of the common types come back as pg parses them', async () => {
  const c = await client(await freshDb());
  try {
    const r = await c.query(
      'SELECT $1::int AS i, $2::bigint AS big, $3::double AS f, $4::text AS s, $5::boolean AS b, ' +
      '$6::date AS d, $7::timestamp AS ts, $8::bytea AS raw, $9::uuid AS u, $10::decimal(12,3) AS n, ' +
      '$11::smallint AS small, $12::json AS j, $13::text AS nothing',
      [42, '9007199254740993', 1.5, "it's \"q\" \\ ☃", true, '2024-02-29', '2024-01-02 03:04:05.5',
        Buffer.from([0, 1, 254, 255]), '12345678-1234-5678-1234-567812345678', '-12345.678', -7,
        JSON.stringify({ a: [1, 2] }), null]);
    assert.equal(r.rowCount, 1);
    const row = r.rows[0];
    assert.equal(row.i, 42);
    assert.equal(row.big, '9007199254740993'); // int8: a string, pg's default (no precision lost)
    assert.equal(row.f, 1.5);
    assert.equal(row.s, "it's \"q\" \\ ☃");
    assert.equal(row.b, true);
    assert.ok(row.d instanceof Date);
    assert.equal(row.ts.getFullYear(), 2024);
    assert.equal(row.ts.getMilliseconds(), 500);
    assert.deepEqual(row.raw, Buffer.from([0, 1, 254, 255]));
    assert.equal(row.u, '12345678-1234-5678-1234-567812345678');
    assert.equal(row.n, '-12345.678'); // numeric: a string, exact
    assert.equal(row.small, -7);
    assert.deepEqual(row.j, { a: [1, 2] });
    assert.equal(row.nothing, null);
    const types = Object.fromEntries(r.fields.map((f) => [f.name, f.dataTypeID]));
    assert.deepEqual(types, { i: 23, big: 20, f: 701, s: 25, b: 16, d: 1082, ts: 1114, raw: 17,
      u: 2950, n: 1700, small: 21, j: 114, nothing: 25 });
    // Parameters DuckDB cannot type are text, as PostgreSQL's `unknown`, and the description
    // still has every column (DuckDB alone describes such a statement as one column).
    const u = await c.query('SELECT $1 AS a, 2 AS b, $2 || $3 AS c', ['x', 'y', 'z']);
    assert.deepEqual(u.rows, [{ a: 'x', b: 2, c: 'yz' }]);
    assert.deepEqual(u.fields.map((f) => [f.name, f.dataTypeID]), [['a', 25], ['b', 23], ['c', 25]]);
  } finally {
    await c.end();
  }
});

test('int8 and numeric come back as strings, exactly', async () => {
  const c = await client(await freshDb(
    'create table money(id bigint primary key, amount decimal(38,10), big hugeint)',
    "insert into money values (9223372036854775807, '12345678901234567890.0123456789', " +
      "170141183460469231731687303715884105727)"));
  try {
    const { rows, fields } = await c.query('SELECT id, amount, big, sum(id) OVER () AS total FROM money');
    assert.deepEqual(rows, [{ id: '9223372036854775807', amount: '12345678901234567890.0123456789',
      big: '170141183460469231731687303715884105727', total: '9223372036854775807' }]);
    assert.deepEqual(fields.map((f) => f.dataTypeID), [20, 1700, 1700, 1700]);
    // A parameter given as a string reaches the column without passing through a double.
    await c.query('INSERT INTO money VALUES ($1, $2, $3)', ['-9223372036854775808', '-0.0000000001', '-1']);
    const neg = await c.query('SELECT id, amount FROM money WHERE id < 0');
    assert.deepEqual(neg.rows, [{ id: '-9223372036854775808', amount: '-0.0000000001' }]);
    const count = await c.query('SELECT count(*) AS n FROM money');
    assert.equal(count.rows[0].n, '2');
  } finally {
    await c.end();
  }
});

test('named prepared statements run again with new parameters', async () => {
  const c = await client(await freshDb('create table kv(k int primary key, v varchar)'));
  try {
    for (let i = 0; i < 10; i++) {
      const r = await c.query({ name: 'put', text: 'INSERT INTO kv VALUES ($1, $2)', values: [i, `v${i}`] });
      assert.equal(r.rowCount, 1);
      assert.equal(r.command, 'INSERT');
    }
    for (const k of [0, 5, 9]) {
      const r = await c.query({ name: 'get', text: 'SELECT v FROM kv WHERE k = $1', values: [k] });
      assert.deepEqual(r.rows, [{ v: `v${k}` }]);
    }
    // The statement pg prepared once keeps answering (pg sends only Bind/Execute now).
    const r = await c.query({ name: 'get', text: 'SELECT v FROM kv WHERE k = $1', values: [42] });
    assert.deepEqual(r.rows, []);
    // rowMode array and a row count from UPDATE through a named statement.
    const upd = await c.query({ name: 'upd', text: 'UPDATE kv SET v = v || $1 WHERE k < $2', values: ['!', 3] });
    assert.equal(upd.command, 'UPDATE');
    assert.equal(upd.rowCount, 3);
    const arr = await c.query({ name: 'all', text: 'SELECT k, v FROM kv WHERE k < $1 ORDER BY k', values: [3], rowMode: 'array' });
    assert.deepEqual(arr.rows, [[0, 'v0!'], [1, 'v1!'], [2, 'v2!']]);
  } finally {
    await c.end();
  }
});

test('arrays both ways', async () => {
  const c = await client(await freshDb('create table arr(id int, ints int[], names varchar[], big bigint[])'));
  try {
    await c.query('INSERT INTO arr VALUES ($1, $2, $3, $4)',
      [1, [1, 2, null, 4], ['a b', 'x,y', 'q"z', 'back\\slash', '', 'NULL', null, '{}'], ['9007199254740993']]);
    await c.query('INSERT INTO arr VALUES ($1, $2, $3, $4)', [2, [], [], null]);
    const { rows, fields } = await c.query('SELECT ints, names, big FROM arr ORDER BY id');
    assert.deepEqual(rows[0], { ints: [1, 2, null, 4],
      names: ['a b', 'x,y', 'q"z', 'back\\slash', '', 'NULL', null, '{}'], big: ['9007199254740993'] });
    assert.deepEqual(rows[1], { ints: [], names: [], big: null });
    assert.deepEqual(fields.map((f) => f.dataTypeID), [1007, 1009, 1016]);
    // Parameters used with a cast and with list functions.
    const r = await c.query('SELECT $1::int[] AS a, list_sum($2::int[]) AS s, [1.5, 2.5]::double[] AS d, ' +
      "['2024-01-02'::date] AS dates, [true, false] AS flags", [[7, 8], [1, 2, 3]]);
    assert.deepEqual(r.rows[0].a, [7, 8]);
    assert.equal(String(r.rows[0].s), '6');
    assert.deepEqual(r.rows[0].d, [1.5, 2.5]);
    assert.equal(r.rows[0].dates.length, 1);
    assert.ok(r.rows[0].dates[0] instanceof Date);
    assert.deepEqual(r.rows[0].flags, [true, false]);
    // An array parameter in a WHERE clause.
    const hit = await c.query('SELECT id FROM arr WHERE list_contains($1::varchar[], names[1])', [['a b', 'zzz']]);
    assert.deepEqual(hit.rows, [{ id: 1 }]);
    // A malformed array literal is the server's error, not a crash.
    await assert.rejects(c.query('SELECT $1::int[] AS a', ['{1,{2}}']), (e) => e.code === '22P02');
  } finally {
    await c.end();
  }
});

test('errors carry PostgreSQL SQLSTATEs in err.code and the connection goes on', async () => {
  const db = await freshDb('create table u(id int primary key)', 'insert into u values (1)',
    'create table secret(x int)', 'create table open(x int)', 'insert into open values (5)');
  await admin(srv, `grant database ${db} alice read`, `grant table ${db} open alice select`);
  const c = await client(db);
  try {
    await assert.rejects(c.query('SELECT * FROM nope'), (e) => e.code === '42P01' && e.severity === 'ERROR');
    await assert.rejects(c.query('INSERT INTO u VALUES ($1)', [1]), (e) => e.code === '23505');
    await assert.rejects(c.query('SELEC 1'), (e) => e.code === '42601');
    await assert.rejects(c.query('SELECT $1::int AS x', ['not a number']), (e) => e.code === '22P02');
    await assert.rejects(c.query('SELECT 1 / 0::int AS x, 10::tinyint * 100::tinyint AS y'), (e) => e.code === '22003' || e.code === '22012');
    assert.deepEqual((await c.query('SELECT count(*)::int AS n FROM u')).rows, [{ n: 1 }]);
  } finally {
    await c.end();
  }
  const a = await client(db, 'alice', 's3cret');
  try {
    assert.deepEqual((await a.query('SELECT x FROM open')).rows, [{ x: 5 }]);
    await assert.rejects(a.query('SELECT * FROM secret'), (e) => e.code === '42501');
    await assert.rejects(a.query({ name: 'sneak', text: 'SELECT * FROM secret WHERE x = $1', values: [1] }),
      (e) => e.code === '42501');
    await assert.rejects(a.query('INSERT INTO open VALUES (6)'), (e) => e.code === '42501');
    assert.deepEqual((await a.query('SELECT count(*)::int AS n FROM open')).rows, [{ n: 1 }]);
  } finally {
    await a.end();
  }
  await assert.rejects(client(db, 'alice', 'wrong'), (e) => e.code === '28P01');
  await assert.rejects(client('nosuchdb'), (e) => e.code === '3D000');
  const other = await freshDb();
  await assert.rejects(client(other, 'alice', 's3cret'), (e) => e.code === '42501');
});

test('transactions commit, roll back, and fail as a block', async () => {
  const c = await client(await freshDb('create table acc(id int primary key, bal int)',
    'insert into acc values (1, 10), (2, 20)'));
  try {
    await c.query('BEGIN');
    await c.query('UPDATE acc SET bal = bal + $1 WHERE id = $2', [5, 1]);
    await c.query('COMMIT');
    await c.query('BEGIN');
    await c.query('UPDATE acc SET bal = 0');
    await c.query('ROLLBACK');
    assert.deepEqual((await c.query('SELECT id, bal FROM acc ORDER BY id')).rows, [{ id: 1, bal: 15 }, { id: 2, bal: 20 }]);
    // An error inside the block: later statements get 25P02 and COMMIT rolls back.
    await c.query('BEGIN');
    await c.query('UPDATE acc SET bal = 1000 WHERE id = 2');
    await assert.rejects(c.query('SELECT * FROM nope'), (e) => e.code === '42P01');
    await assert.rejects(c.query('SELECT 1'), (e) => e.code === '25P02');
    const commit = await c.query('COMMIT');
    assert.equal(commit.command, 'ROLLBACK');
    assert.deepEqual((await c.query('SELECT bal FROM acc WHERE id = 2')).rows, [{ bal: 20 }]);
  } finally {
    await c.end();
  }
});

test('a 16-client Pool runs concurrent queries and transactions', async () => {
  const db = await freshDb('create table hits(worker int, n int)', 'create table counter(id int primary key, total bigint)',
    'insert into counter values (1, 0)');
  const pool = new pg.Pool({ ...config(db), max: 16, idleTimeoutMillis: 0 });
  const errors = [];
  pool.on('error', (e) => errors.push(e));
  try {
    const workers = 16;
    const rounds = 5;
    // Hold 16 clients at once so the pool really opens 16 connections.
    const held = await Promise.all(Array.from({ length: workers }, () => pool.connect()));
    assert.equal(pool.totalCount, 16);
    const pids = await Promise.all(held.map((cl) => cl.query('SELECT 1 AS one')));
    assert.ok(pids.every((r) => r.rows[0].one === 1));
    held.forEach((cl) => cl.release());
    await Promise.all(Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < rounds; i++) {
        await pool.query({ name: 'hit', text: 'INSERT INTO hits VALUES ($1, $2)', values: [w, i] });
        const r = await pool.query('SELECT count(*) AS n FROM hits WHERE worker = $1', [w]);
        assert.equal(r.rows[0].n, String(i + 1)); // the worker's own rows, as a string (int8)
      }
    }));
    // Transactions on checked-out clients; a write conflict is 40001 and is retried.
    await Promise.all(Array.from({ length: workers }, async (_, w) => {
      const cl = await pool.connect();
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            await cl.query('BEGIN');
            await cl.query('UPDATE counter SET total = total + $1 WHERE id = 1', [w + 1]);
            await cl.query('COMMIT');
            break;
          } catch (e) {
            await cl.query('ROLLBACK');
            assert.equal(e.code, '40001', e.message);
            assert.ok(attempt < 1000, 'too many conflicts');
          }
        }
      } finally {
        cl.release();
      }
    }));
    const total = await pool.query('SELECT total, (SELECT count(*) FROM hits) AS hits FROM counter');
    assert.deepEqual(total.rows, [{ total: String((workers * (workers + 1)) / 2), hits: String(workers * rounds) }]);
    assert.deepEqual(errors, []);
  } finally {
    await pool.end();
  }
});
