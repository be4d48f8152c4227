// The real server (build/asan/tcp-duckdb, or $TCPDUCKDB_BIN) for the node-postgres and
// postgres.js suites: a temp data dir, the line protocol on an ephemeral port and PgPort on
// any free port (--pg-port -1, logged at start-up). Databases, users and grants are made over
// the line protocol (clients/node), as tests/e2e/test_pgwire.py does, so what a user may do
// through PgPort is checked against grants the front end did not make.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../../../clients/node/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = process.env.TCPDUCKDB_BIN || path.join(ROOT, 'build', 'asan', 'tcp-duckdb');

// The server's configuration comes from its flags only (conftest.py's clean_env does the same).
const SERVER_ENV = /^(Server|DB|Pg|Admin|Max|Idle|Query|Pool|Duckdb|Log|TLS|Super|ENCRYPTION|Backup|Archive|Memory|Login)/;

export async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpduckdb-pgnode-'));
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!SERVER_ENV.test(k)) env[k] = v;
  env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1:halt_on_error=1';
  const proc = spawn(BIN, ['--port', '0', '--addr', '127.0.0.1', '--data-dir', dir, '--supervise', 'off',
    '--admin-port', '0', '--pg-port', '-1'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const srv = { proc, dir, log: '', port: 0, pgPort: 0 };
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${srv.log}`)), 60000);
    proc.stderr.on('data', (d) => {
      srv.log += d.toString();
      const line = /listening to .*:(\d+)\s*$/m.exec(srv.log);
      const pg = /:(\d+) \(PostgreSQL protocol\)\s*$/m.exec(srv.log);
      if (line) srv.port = Number(line[1]);
      if (pg) srv.pgPort = Number(pg[1]);
      if (srv.port && srv.pgPort) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}:\n${srv.log}`));
    });
  });
  return srv;
}

// Stops the server with SIGTERM and fails on a sanitizer report or an unclean exit.
export async function stopServer(srv) {
  const code = await new Promise((resolve) => {
    srv.proc.removeAllListeners('exit');
    srv.proc.on('exit', (c, sig) => resolve(c ?? sig));
    srv.proc.kill('SIGTERM');
  });
  fs.rmSync(srv.dir, { recursive: true, force: true });
  for (const mark of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:']) {
    assert.ok(!srv.log.includes(mark), srv.log.slice(-20000));
  }
  assert.equal(code, 0, srv.log.slice(-5000));
}

// Runs line-protocol commands as the super user (duck/duck), each expected to succeed.
export async function admin(srv, ...commands) {
  const c = await connect({ port: srv.port });
  try {
    for (const cmd of commands) await c.command(cmd);
  } finally {
    await c.close();
  }
}
