// `make run` as a newcomer uses it: both daemons up and answering, a second
// `make run` refused with a clear message, Ctrl-C (SIGINT) leaving no process
// behind. Uses its own VAR_DIR so the developer's var/ is never touched, and
// looks only at processes it started (lib/owned.js): another checkout's
// daemons on this machine are none of its business. A failure kills all it
// started, daemons in their own sessions included, so it always ends.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const grpc = require('@grpc/grpc-js');
const { ROOT, DATABASE_URL, proto, call, freePort, uniqueEmail } = require('./lib/harness');
const { spawnOwned, alive } = require('./lib/owned');

const BIN = process.env.BIN_DIR || path.join(ROOT, 'bin');

// In a process group of its own, so a Ctrl-C can be sent the way a terminal
// sends it: SIGINT to the whole foreground group.
function makeRun(env) {
  return spawnOwned('make', ['--no-print-directory', '-s', 'run', `BIN=${BIN}`], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// The daemons among the processes `make run` started.
function daemonsOf(run) {
  return run.descendants().filter((pid) => {
    try { return /^(user|wallet)-service$/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()); } catch { return false; }
  });
}

async function waitFor(predicate, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

for (const mode of ['with DATABASE_URL', 'with its own local PostgreSQL']) {
  test(`make run ${mode}`, { timeout: 180000 }, async () => {
    const varDir = fs.mkdtempSync('/tmp/wallet-run-');
    fs.chmodSync(varDir, 0o711);
    const userPort = await freePort();
    const walletPort = await freePort();
    const env = {
      VAR_DIR: varDir,
      USER_SERVICE_URL: `127.0.0.1:${userPort}`,
      WALLET_SERVICE_URL: `127.0.0.1:${walletPort}`,
      DATABASE_URL: mode === 'with DATABASE_URL' ? DATABASE_URL : '',
      PG_PORT: String(await freePort()),
      WORKERS: '2',
      METRICS_ADDR: '0',
    };
    const run = makeRun(env);
    let output = '';
    run.child.stdout.on('data', (d) => { output += d; });
    run.child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise((resolve) => run.child.once('exit', (code) => resolve(code)));
    try {
      assert.ok(await waitFor(() => /Ctrl-C stops both/.test(output), 60000), output);
      assert.ok(await waitFor(async () => await listening(userPort) && listening(walletPort), 20000), output);
      const client = new proto.user.UserService(env.USER_SERVICE_URL, grpc.credentials.createInsecure());
      const created = await call(client, 'CreateUser', { email: uniqueEmail('run'), name: 'Run' }, { timeoutMs: 20000 });
      client.close();
      assert.equal(created.err, null, created.err && created.err.details);
      assert.match(output, /\[user-service\] \{"time"/, 'logs are labelled JSON lines');

      const second = spawnSync('bash', ['scripts/run.sh'], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(second.status, 1);
      assert.match(second.stderr, /already running/);

      const daemonPids = daemonsOf(run);
      assert.equal(daemonPids.length, 2, `daemons started by make run: ${daemonPids}`);

      run.signalGroup('SIGINT');
      const code = await exited;
      assert.ok(await waitFor(() => daemonPids.every((pid) => !alive(pid)), 15000), 'daemons gone');
      assert.notEqual(code, 0, 'make reports the interrupt');
      assert.match(output, /"msg":"stopped"/);
      if (mode !== 'with DATABASE_URL') {
        assert.ok(await waitFor(() => !fs.existsSync(path.join(varDir, 'pg/data/postmaster.pid')), 15000), 'local PostgreSQL stopped');
        assert.match(output, /local PostgreSQL stopped/);
      }
    } finally {
      run.stop();
      spawnSync('bash', [path.join(ROOT, 'scripts/pg.sh'), 'stop', path.join(varDir, 'pg')]);
      fs.rmSync(varDir, { recursive: true, force: true });
    }
  });
}
