// postgres.js (npm `postgres` 3.4.9, pinned in package-lock.json) against the PostgreSQL front
// end of the real ASan server (docs/pgwire.md): its array-type query at connect (answered by
// src/pgwire_catnode.c), tagged templates with parameters of the common types, arrays both
// ways, int8 and numeric as strings, SQLSTATEs in err.code, sql.begin, a user refused what is
// not granted, and a pool of 16 connections.
// Run: node --test tests/pgwire/node/ (TCPDUCKDB_BIN picks the server binary).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { startServer, stopServer, admin } from './server.mjs';

let srv;
let dbCount = 0;

before(async () => {
  srv = await startServer();
  await admin(srv, 'create user bob "b0b pw"');
});

after(async () => {
  await stopServer(srv);
});

async function freshDb(...setup) {
  const name = `pjdb${dbCount++}`;
  await admin(srv, `create database ${name}`, `connect ${name}`, ...setup);
  return name;
}

function connect(database, opts = {}) {
  return postgres({ host: '127.0.0.1', port: srv.pgPort, user: 'duck', password: 'duck', database,
    connect_timeout: 60, onnotice: () => {}, ...opts });
}

test('connects with its array-type query and reads the array types it learnt', async () => {
  const sql = connect(await freshDb(), { max: 1 });
  try {
    // The first query makes postgres.js fetch the array types (fetch_types defaults to true);
    // had the server refused that query, this would fail.
    // (postgres.js's array parser has no NULL element, against PostgreSQL too: none here.)
    const [row] = await sql`SELECT [1, 2, 3]::int[] AS ints, ['a b', 'c,d', '"q"']::varchar[] AS strs,
      [1.5, 2.5]::double[] AS dbl, [true, false] AS flags`;
    assert.deepEqual(row, { ints: [1, 2, 3], strs: ['a b', 'c,d', '"q"'], dbl: [1.5, 2.5], flags: [true, false] });
    // What it learnt: the array OID of each base type, as PostgreSQL's pg_type has them.
    const map = sql.options.shared.typeArrayMap;
    assert.equal(map[23], 1007);
    assert.equal(map[25], 1009);
    assert.equal(map[20], 1016);
    assert.equal(map[16], 1000);
    assert.equal(map[1700], 1231);
    assert.equal(map[2950], 2951);
    // The same query by hand: oid columns, ordered by the element type.
    const types = await sql`
      select b.oid, b.typarray
      from pg_catalog.pg_type a
      left join pg_catalog.pg_type b on b.oid = a.typelem
      where a.typcategory = 'A'
      group by b.oid, b.typarray
      order by b.oid
    `;
    assert.ok(types.length >= 16);
    assert.deepEqual(types[0], { oid: 16, typarray: 1000 });
    assert.deepEqual(types.map((t) => t.oid), [...types.map((t) => t.oid)].sort((x, y) => x - y));
    assert.deepEqual(types.columns.map((c) => c.type), [26, 26]);
  } finally {
    await sql.end();
  }
});

test('tagged templates bind the common types', async () => {
  const sql = connect(await freshDb(), { max: 1 });
  try {
    const when = new Date('2024-01-02T03:04:05.678Z');
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const text = "it's \"q\" \\ ☃ 😀";
    const [row] = await sql`SELECT ${42}::int AS i, ${1.25}::double AS f, ${text}::text AS s,
      ${true}::boolean AS b, ${when}::timestamptz AS ts, ${bytes}::bytea AS raw,
      ${'12345678-1234-5678-1234-567812345678'}::uuid AS u, ${null}::int AS nothing,
      ${'2024-02-29'}::date AS d, ${'1 day 02:00:00'}::interval AS iv`;
    assert.equal(row.i, 42);
    assert.equal(row.f, 1.25);
    assert.equal(row.s, text);
    assert.equal(row.b, true);
    assert.equal(row.ts.getTime(), when.getTime());
    assert.deepEqual(Buffer.from(row.raw), bytes);
    assert.equal(row.u, '12345678-1234-5678-1234-567812345678');
    assert.equal(row.nothing, null);
    assert.ok(row.d instanceof Date);
    assert.equal(typeof row.iv, 'string');
    // Parameters DuckDB cannot type are text, as PostgreSQL's `unknown`; postgres.js reads the
    // prepared statement's description, which has every column (DuckDB alone describes such a
    // statement as one column).
    const untyped = await sql`SELECT ${'x'} AS a, 2 AS b, ${'y'} || ${'z'} AS c`;
    assert.deepEqual([...untyped], [{ a: 'x', b: 2, c: 'yz' }]);
    assert.deepEqual(untyped.columns.map((col) => [col.name, col.type]), [['a', 25], ['b', 23], ['c', 25]]);
    // Values never become SQL: an injection attempt is just a string.
    const evil = "x'); DROP TABLE t; --";
    const [echo] = await sql`SELECT ${evil}::text AS v`;
    assert.equal(echo.v, evil);
    // sql(identifier) and sql(object) helpers.
    await sql`CREATE TABLE ${sql('people')} (id int, name varchar, age int)`;
    const people = [{ id: 1, name: 'Ann', age: 30 }, { id: 2, name: 'Bo', age: 41 }];
    const ins = await sql`INSERT INTO people ${sql(people, 'id', 'name', 'age')}`;
    assert.equal(ins.count, 2);
    assert.equal(ins.command, 'INSERT');
    const older = await sql`SELECT name FROM people WHERE age > ${35} ORDER BY id`;
    assert.deepEqual([...older], [{ name: 'Bo' }]);
    const some = await sql`SELECT name FROM people WHERE id IN ${sql([1, 2])} ORDER BY name`;
    assert.deepEqual(some.map((r) => r.name), ['Ann', 'Bo']);
    const upd = await sql`UPDATE people SET ${sql({ age: 31 }, 'age')} WHERE id = ${1}`;
    assert.equal(upd.count, 1);
    const [ann] = await sql`SELECT age FROM people WHERE id = 1`;
    assert.equal(ann.age, 31);
  } finally {
    await sql.end();
  }
});

test('int8 and numeric come back as strings, exactly', async () => {
  const sql = connect(await freshDb(
    'create table money(id bigint, amount decimal(38,10))',
    "insert into money values (9223372036854775807, '12345678901234567890.0123456789')"));
  try {
    const rows = await sql`SELECT id, amount, count(*) OVER () AS n FROM money`;
    assert.deepEqual([...rows], [{ id: '9223372036854775807', amount: '12345678901234567890.0123456789', n: '1' }]);
    assert.deepEqual(rows.columns.map((c) => c.type), [20, 1700, 20]);
    await sql`INSERT INTO money VALUES (${'-9223372036854775808'}, ${'-0.0000000001'})`;
    const [neg] = await sql`SELECT id, amount FROM money WHERE id < ${0}`;
    assert.deepEqual(neg, { id: '-9223372036854775808', amount: '-0.0000000001' });
    // A JavaScript BigInt goes out as int8.
    const [big] = await sql`SELECT ${9007199254740993n}::bigint + 1 AS v`;
    assert.equal(big.v, '9007199254740994');
  } finally {
    await sql.end();
  }
});

test('arrays both ways', async () => {
  const sql = connect(await freshDb('create table arr(id int, ints int[], names varchar[])'), { max: 1 });
  try {
    // sql.array() takes the array type postgres.js learnt at connect; a query built before
    // that (the first one of a connection) would send text, against PostgreSQL too.
    await sql`SELECT 1`;
    // (postgres.js's array parser reads no NULL element, against PostgreSQL too: none here.)
    const names = ['a b', 'x,y', 'q"z', 'back\\slash', '', '{}', ' pad '];
    await sql`INSERT INTO arr VALUES (${1}, ${sql.array([1, 2, -3, 4])}, ${sql.array(names)})`;
    await sql`INSERT INTO arr VALUES (${2}, ${[5, 6]}, ${['one']})`;
    const rows = await sql`SELECT id, ints, names FROM arr ORDER BY id`;
    assert.deepEqual([...rows], [{ id: 1, ints: [1, 2, -3, 4], names }, { id: 2, ints: [5, 6], names: ['one'] }]);
    assert.deepEqual(rows.columns.map((c) => c.type), [23, 1007, 1009]);
    const [r] = await sql`SELECT ${[7, 8, 9]}::int[] AS a, list_sum(${sql.array([1, 2, 3])}::int[]) AS s`;
    assert.deepEqual(r.a, [7, 8, 9]);
    assert.equal(String(r.s), '6');
    const hit = await sql`SELECT id FROM arr WHERE list_contains(${sql.array(['one', 'zzz'])}::varchar[], names[1])`;
    assert.deepEqual([...hit], [{ id: 2 }]);
  } finally {
    await sql.end();
  }
});

test('errors carry SQLSTATEs and a user is refused what is not granted', async () => {
  const db = await freshDb('create table u(id int primary key)', 'insert into u values (1)',
    'create table secret(x int)', 'create table open(x int)', 'insert into open values (5)');
  await admin(srv, `grant database ${db} bob read`, `grant table ${db} open bob select`);
  const sql = connect(db, { max: 1 });
  try {
    await assert.rejects(sql`SELECT * FROM nope`, (e) => e instanceof postgres.PostgresError && e.code === '42P01');
    await assert.rejects(sql`INSERT INTO u VALUES (${1})`, (e) => e.code === '23505');
    await assert.rejects(sql`SELEC 1`, (e) => e.code === '42601');
    await assert.rejects(sql`SELECT ${'abc'}::int AS x`, (e) => e.code === '22P02');
    assert.deepEqual([...await sql`SELECT count(*)::int AS n FROM u`], [{ n: 1 }]);
  } finally {
    await sql.end();
  }
  const bob = connect(db, { user: 'bob', password: 'b0b pw', max: 1 });
  try {
    assert.deepEqual([...await bob`SELECT x FROM open`], [{ x: 5 }]);
    await assert.rejects(bob`SELECT * FROM secret`, (e) => e.code === '42501');
    await assert.rejects(bob`SELECT * FROM secret WHERE x = ${1}`, (e) => e.code === '42501');
    await assert.rejects(bob`DELETE FROM open`, (e) => e.code === '42501');
    assert.deepEqual([...await bob`SELECT count(*)::int AS n FROM open`], [{ n: 1 }]);
  } finally {
    await bob.end();
  }
  const wrong = connect(db, { user: 'bob', password: 'nope', max: 1 });
  await assert.rejects(wrong`SELECT 1`, (e) => e.code === '28P01');
  await wrong.end();
  const other = connect(await freshDb(), { user: 'bob', password: 'b0b pw', max: 1 });
  await assert.rejects(other`SELECT 1`, (e) => e.code === '42501');
  await other.end();
});

test('sql.begin commits, and rolls back when the callback throws', async () => {
  const sql = connect(await freshDb('create table acc(id int primary key, bal int)',
    'insert into acc values (1, 10), (2, 20)'), { max: 2 });
  try {
    const result = await sql.begin(async (tx) => {
      await tx`UPDATE acc SET bal = bal - ${5} WHERE id = ${1}`;
      await tx`UPDATE acc SET bal = bal + ${5} WHERE id = ${2}`;
      return tx`SELECT sum(bal)::int AS total FROM acc`;
    });
    assert.deepEqual([...result], [{ total: 30 }]);
    await assert.rejects(sql.begin(async (tx) => {
      await tx`UPDATE acc SET bal = 0`;
      throw new Error('changed my mind');
    }), /changed my mind/);
    // A server error inside the block rolls it back too.
    await assert.rejects(sql.begin(async (tx) => {
      await tx`UPDATE acc SET bal = 1000 WHERE id = 1`;
      await tx`SELECT * FROM nope`;
    }), (e) => e.code === '42P01');
    assert.deepEqual([...await sql`SELECT id, bal FROM acc ORDER BY id`], [{ id: 1, bal: 5 }, { id: 2, bal: 25 }]);
  } finally {
    await sql.end();
  }
});

test('16 connections run concurrent queries', async () => {
  const sql = connect(await freshDb('create table hits(worker int, n int)'), { max: 16 });
  try {
    const workers = 16;
    const rounds = 5;
    await Promise.all(Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < rounds; i++) {
        await sql`INSERT INTO hits VALUES (${w}, ${i})`;
        const [r] = await sql`SELECT count(*) AS n FROM hits WHERE worker = ${w}`;
        assert.equal(r.n, String(i + 1));
      }
    }));
    const [all] = await sql`SELECT count(*) AS n, count(DISTINCT worker) AS w FROM hits`;
    assert.deepEqual(all, { n: String(workers * rounds), w: String(workers) });
  } finally {
    await sql.end();
  }
});
