// tcpduckdb (Node) sslmode against the real server in each TLSMode (docs/protocol.md, "TLS").
// Certificates come from tests/tls/make-certs.sh, run once into a temporary directory.
// Run: node --test clients/node/test/tls.test.js
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, TcpDuckDBError } from '../index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = process.env.TCPDUCKDB_BIN || path.join(ROOT, 'build', 'asan', 'tcp-duckdb');
const SERVER_ENV = ['ServerPort', 'ServerAddr', 'DBdir', 'ServerDbFile', 'ENCRYPTION_KEY', 'SuperPassword',
  'MaxConnections', 'MaxRequestBytes', 'IdleTimeout', 'QueryWorkers', 'PoolSize', 'PoolWaitMs',
  'DuckdbThreads', 'DuckdbMemoryLimit', 'LogLevel', 'TLSMode', 'TLSCertFile', 'TLSKeyFile', 'TLSCAFile',
  'TLSMinVersion'];

let certs;
const started = [];

// Starts the server with extra command-line settings; resolves to { port, log(), stop() }.
async function startServer(args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpduckdb-node-tls-'));
  const env = { ...process.env };
  for (const k of SERVER_ENV) delete env[k];
  env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1:halt_on_error=1';
  const proc = spawn(BIN, ['--port', '0', '--addr', '127.0.0.1', '--data-dir', dir, ...args],
    { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (c, sig) => resolve(c ?? sig)));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = /listening to .*:(\d+)\s*$/m.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then((code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
  let stopped;
  const srv = {
    port,
    log: () => log,
    stop() {
      stopped ??= (async () => {
        proc.kill('SIGTERM');
        const code = await exited;
        fs.rmSync(dir, { recursive: true, force: true });
        for (const mark of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:']) {
          assert.ok(!log.includes(mark), log.slice(-20000));
        }
        assert.equal(code, 0, log.slice(-5000));
      })();
      return stopped;
    },
  };
  started.push(srv);
  return srv;
}

const cert = (name) => path.join(certs, name);
const tlsServer = (mode, name = 'server', extra = []) => startServer(['--tls-mode', mode,
  '--tls-cert-file', cert(`${name}.crt`), '--tls-key-file', cert(`${name}.key`), ...extra]);

let off;
let optional;
let required;
let wronghost;
let expired;

before(async () => {
  certs = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpduckdb-node-certs-'));
  execFileSync(path.join(ROOT, 'tests', 'tls', 'make-certs.sh'), [certs]);
  [off, optional, required, wronghost, expired] = await Promise.all([startServer(), tlsServer('optional'),
    tlsServer('required'), tlsServer('optional', 'wronghost'), tlsServer('optional', 'expired')]);
});

after(async () => {
  for (const srv of started) await srv.stop();
  fs.rmSync(certs, { recursive: true, force: true });
});

// The connection answers a command after login (in TLS or not).
async function works(client) {
  const users = JSON.parse(await client.command('list users'));
  assert.ok(users.some((u) => u.name === 'duck'));
}

const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'];

test('disable and prefer are plain against TLSMode=off', async () => {
  for (const sslmode of ['disable', 'prefer', undefined]) {
    const c = await connect({ port: off.port, sslmode });
    await works(c);
    assert.equal(c.tlsVersion, null);
    assert.ok(!c.socket.encrypted);
    await c.close();
  }
});

test('every TLS mode is TLS against TLSMode=optional', async () => {
  const cases = [['prefer', '127.0.0.1'], ['require', '127.0.0.1'], ['verify-ca', '127.0.0.1'],
    ['verify-full', '127.0.0.1'], ['verify-full', 'localhost'], [undefined, '127.0.0.1']];
  for (const [sslmode, host] of cases) {
    const c = await connect({ host, port: optional.port, sslmode, sslrootcert: cert('ca.crt') });
    assert.equal(c.socket.encrypted, true, `${sslmode} ${host}`);
    assert.ok(TLS_VERSIONS.includes(c.tlsVersion), c.tlsVersion);
    await works(c);
    await c.close();
  }
  const plain = await connect({ port: optional.port, sslmode: 'disable' });
  assert.equal(plain.tlsVersion, null);
  await works(plain);
  await plain.close();
});

test('TLS modes fail clearly against TLSMode=off', async () => {
  for (const sslmode of ['require', 'verify-ca', 'verify-full']) {
    await assert.rejects(connect({ port: off.port, sslmode, sslrootcert: cert('ca.crt') }), (e) => {
      assert.ok(e instanceof TcpDuckDBError);
      assert.equal(e.code, 'TLS');
      assert.match(e.message, new RegExp(`does not offer TLS \\(sslmode=${sslmode}\\): TLS is not enabled on this server`));
      return true;
    });
  }
});

test('a plain client against TLSMode=required gets the server\'s line', async () => {
  await assert.rejects(connect({ port: required.port, sslmode: 'disable' }), (e) => {
    assert.equal(e.code, 'TLS_REQUIRED');
    assert.equal(e.kind, 'TLS required');
    assert.match(e.message, /accepts only encrypted connections/);
    return true;
  });
  const c = await connect({ port: required.port }); // prefer upgrades and is let in
  assert.ok(c.socket.encrypted);
  await works(c);
  await c.close();
});

test('verify-full refuses a certificate for another host', async () => {
  for (const host of ['127.0.0.1', 'localhost']) {
    await assert.rejects(connect({ host, port: wronghost.port, sslmode: 'verify-full', sslrootcert: cert('ca.crt') }), (e) => {
      assert.equal(e.code, 'TLS_VERIFY');
      assert.match(e.message, /TLS certificate verification failed .*: host name mismatch/);
      return true;
    });
  }
});

test('verify-ca does not check the host name', async () => {
  const c = await connect({ port: wronghost.port, sslmode: 'verify-ca', sslrootcert: cert('ca.crt') });
  assert.ok(c.socket.encrypted);
  await works(c);
  await c.close();
});

test('verify modes refuse an expired certificate and an unknown CA', async () => {
  for (const sslmode of ['verify-ca', 'verify-full']) {
    await assert.rejects(connect({ port: expired.port, sslmode, sslrootcert: cert('ca.crt') }), (e) => {
      assert.equal(e.code, 'TLS_VERIFY');
      assert.match(e.message, /certificate has expired/);
      return true;
    });
    await assert.rejects(connect({ port: optional.port, sslmode, sslrootcert: cert('other-ca.crt') }), (e) => {
      assert.equal(e.code, 'TLS_VERIFY');
      assert.match(e.message, /unknown CA/);
      return true;
    });
  }
});

test('require checks no certificate', async () => {
  for (const srv of [expired, wronghost]) {
    const c = await connect({ port: srv.port, sslmode: 'require', sslrootcert: cert('other-ca.crt') });
    assert.ok(c.socket.encrypted);
    await works(c);
    await c.close();
  }
});

test('a client certificate is presented to a server that asks for one', async () => {
  const srv = await tlsServer('required', 'server', ['--tls-ca-file', cert('ca.crt'), '--log-level', 'debug']);
  const c = await connect({ port: srv.port, sslmode: 'verify-full', sslrootcert: cert('ca.crt'),
    sslcert: cert('client.crt'), sslkey: cert('client.key') });
  await works(c);
  await c.close();
  await srv.stop();
  assert.match(srv.log(), /client certificate CN=alice/);
  // PEM contents in Buffers work as well as file names.
  const other = await tlsServer('required', 'server', ['--tls-ca-file', cert('other-ca.crt')]);
  await assert.rejects(async () => {
    const refused = await connect({ port: other.port, sslmode: 'require',
      sslcert: fs.readFileSync(cert('client.crt')), sslkey: fs.readFileSync(cert('client.key')) });
    await works(refused); // TLS 1.3 reports the refusal on the first read at the latest
  }, (e) => e instanceof TcpDuckDBError);
  await other.stop();
});

test('a large result over TLS equals the plaintext one', async () => {
  const admin = await connect({ port: optional.port, sslmode: 'disable' });
  await admin.command('create database big');
  await admin.close();
  const sql = "SELECT i, 'row ' || i || repeat('é', i % 40) AS s, i * 0.5 AS d FROM range(100000) t(i) ORDER BY i";
  const plain = await connect({ port: optional.port, sslmode: 'disable', database: 'big' });
  const enc = await connect({ port: optional.port, sslmode: 'require', database: 'big' });
  assert.ok(!plain.socket.encrypted && enc.socket.encrypted);
  const a = await plain.query(sql, [], { rowMode: 'array' });
  const b = await enc.query(sql, [], { rowMode: 'array' });
  assert.equal(b.rowCount, 100000);
  assert.deepEqual(b.rows, a.rows);
  let n = 0;
  for await (const row of enc.stream(sql, [], { rowMode: 'array' })) {
    assert.deepEqual(row, a.rows[n]);
    n++;
  }
  assert.equal(n, 100000);
  await plain.close();
  await enc.close();
});

test('bad options are clear errors', async () => {
  const port = optional.port;
  await assert.rejects(connect({ port, sslmode: 'verify' }), (e) => e.code === 'INVALID_PARAMETER' && /sslmode must be one of/.test(e.message));
  await assert.rejects(connect({ port, sslmode: 'verify-full', sslrootcert: cert('nope.crt') }), (e) => e.code === 'TLS' && /cannot read sslrootcert/.test(e.message));
  await assert.rejects(connect({ port, sslmode: 'verify-full', sslrootcert: cert('bad.pem') }), (e) => e.code === 'TLS' && /bad.pem holds no PEM certificate/.test(e.message));
  await assert.rejects(connect({ port, sslmode: 'require', sslkey: cert('client.key') }), (e) => e.code === 'TLS' && /sslkey is given without sslcert/.test(e.message));
  await assert.rejects(connect({ port, sslmode: 'require', sslcert: cert('client.crt'), sslkey: cert('server.key') }), (e) => e.code === 'TLS' && /cannot load the client certificate .*key values mismatch/.test(e.message));
});

// A one-shot listener that reads the starttls line, writes `answer`, and records what the
// client sends next.
function fakeServer(answer) {
  return new Promise((resolve) => {
    const seen = [];
    let done;
    const finished = new Promise((r) => {
      done = r;
    });
    const lsock = net.createServer((s) => {
      s.once('data', (d) => {
        seen.push(d.toString());
        s.write(answer);
        s.on('data', (more) => seen.push(more.toString()));
      });
      s.on('error', () => {});
      s.on('close', () => {
        lsock.close();
        done();
      });
    });
    lsock.listen(0, '127.0.0.1', () => resolve({ port: lsock.address().port, seen, finished }));
  });
}

test('bytes after success are a protocol error, never fed to TLS or to plaintext', async () => {
  for (const sslmode of ['prefer', 'require']) {
    const fake = await fakeServer('success\nHELLO\n');
    await assert.rejects(connect({ port: fake.port, sslmode }), (e) => e.code === 'PROTOCOL' && /sent data after accepting starttls/.test(e.message));
    await fake.finished;
    assert.deepEqual(fake.seen, ['starttls\n']); // no ClientHello, no plaintext login
  }
  const odd = await fakeServer('{"columns":[]}\n');
  await assert.rejects(connect({ port: odd.port, sslmode: 'prefer' }), (e) => e.code === 'PROTOCOL' && /unexpected answer to starttls/.test(e.message));
  await odd.finished;
});

test('a server that never answers starttls is a timeout, not a hang', async () => {
  const mute = await fakeServer('');
  await assert.rejects(connect({ port: mute.port, sslmode: 'require', timeout: 500 }), (e) => e.code === 'CONNECTION' && /timed out/.test(e.message));
  await mute.finished;
});

test('cancel() goes over TLS, to optional and required servers', async () => {
  for (const srv of [optional, required]) {
    const c = await connect({ port: srv.port, sslmode: 'verify-full', sslrootcert: cert('ca.crt'), host: 'localhost' });
    await c.command('create database cancel_tls');
    await c.command('connect cancel_tls');
    assert.ok(TLS_VERSIONS.includes(c.tlsVersion));
    const running = c.query('SELECT count(*) FROM range(10000000000)');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await c.cancel();
    await assert.rejects(running, (e) => e instanceof TcpDuckDBError && e.kind === 'Canceled');
    await works(c);
    await c.close();
  }
});
