// What the fault tests share: the suite's own throwaway PostgreSQL (run.sh
// starts it: PG_DIR, PG_PORT), freezing, thawing and restarting it, a
// wallet-service started against any URL, wallets made directly in SQL,
// and Health/Check sampled while a fault lasts.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFile, execFileSync } = require('node:child_process');
const { grpc, proto, Daemon, freePort, loadGrpcProto, ROOT, DATABASE_URL, ADMIN_DATABASE_URL } =
  require('../../integration/lib/harness');

const health = loadGrpcProto('grpc/health/v1/health.proto').grpc.health.v1;
const PG_DIR = process.env.PG_DIR;
const PG_PORT = process.env.PG_PORT;

function psql(url, query) {
  return execFileSync('psql', [url, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', query],
    { encoding: 'utf8' }).trim();
}

// The postmaster and its children (backends, background workers), from
// /proc (no procps needed).
function pgPids() {
  const postmaster = Number(fs.readFileSync(path.join(PG_DIR, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
  const children = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    // "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmaster) children.push(Number(entry));
  }
  return [postmaster, ...children];
}

function freezePg() {
  const pids = pgPids();
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  return () => { for (const pid of pids) { try { process.kill(pid, 'SIGCONT'); } catch { /* exited */ } } };
}

// Asynchronous, so the test's own clients keep running meanwhile.
function pgCtl(...args) {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(ROOT, 'scripts/pg.sh'), ...args], (err) => (err ? reject(err) : resolve()));
  });
}

function stopPg() {
  return pgCtl('stop', PG_DIR);
}

function startPg() {
  return pgCtl('start', PG_DIR, PG_PORT);
}

// A wallet-service on a fresh port against url; its user-service peer is
// never called by the tests here.
async function startWallet(url, env = {}) {
  const port = await freePort();
  const peer = await freePort();
  const daemon = new Daemon('wallet-service', {
    DATABASE_URL: url, WALLET_SERVICE_URL: `127.0.0.1:${port}`, USER_SERVICE_URL: `127.0.0.1:${peer}`,
    METRICS_ADDR: '0', DRAIN_SECONDS: '2', ...env,
  });
  await daemon.start(port);
  const address = `127.0.0.1:${port}`;
  const client = new proto.wallet.WalletService(address, grpc.credentials.createInsecure());
  const healthClient = new health.Health(address, grpc.credentials.createInsecure());
  return {
    daemon, client, healthClient,
    // A daemon that does not exit after SIGTERM (drain is bounded, so that
    // is a bug) is killed, so one failure does not hang the suite.
    async stop() {
      client.close();
      healthClient.close();
      const guard = setTimeout(() => daemon.child.kill('SIGKILL'), 15000);
      await daemon.stop();
      clearTimeout(guard);
    },
  };
}

// A user with a wallet holding balance, straight into the tables (with the
// opening ledger entry that keeps balance = sum(entries)).
function makeWallet(url = DATABASE_URL, balance = 0) {
  const userId = crypto.randomUUID();
  const walletId = crypto.randomUUID();
  psql(url, `INSERT INTO "User" (id, email, name) VALUES ('${userId}', '${userId}@faults.test', 'F');
             INSERT INTO "Wallet" (id, "userId", balance) VALUES ('${walletId}', '${userId}', ${balance});
             INSERT INTO "WalletEntry" ("walletId", kind, amount, "balanceAfter") VALUES ('${walletId}', 1, ${balance}, ${balance})`);
  return userId;
}

function balance(userId, url = DATABASE_URL) {
  return Number(psql(url, `SELECT balance FROM "Wallet" WHERE "userId" = '${userId}'`));
}

// A unary call: { err, res, ms }.
function timed(client, method, request, timeoutMs) {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    client[method](request, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
      resolve({ err, res, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

// Health/Check back to back until stop() is called: latencies and the
// statuses seen. stop() resolves { p99, max, n, statuses }.
function sampleHealth(healthClient) {
  const latencies = [];
  const statuses = new Set();
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await timed(healthClient, 'Check', { service: '' }, 2000);
      latencies.push(r.ms);
      statuses.add(r.err ? `error ${r.err.code}` : r.res.status);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return async () => {
    running = false;
    await loop;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
    return { p99, max: sorted[sorted.length - 1], n: sorted.length, statuses };
  };
}

// Calls fn every 50 ms until it returns true; the ms that took.
async function until(fn, timeoutMs, what) {
  const started = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The health status a Check answers now (or the error code).
async function healthStatus(healthClient) {
  const r = await timed(healthClient, 'Check', { service: '' }, 2000);
  return r.err ? `error ${r.err.code}` : r.res.status;
}

// Figures for the report: printed as node test diagnostics and appended to
// FAULTS_REPORT when set.
function report(t, text) {
  t.diagnostic(text);
  if (process.env.FAULTS_REPORT) fs.appendFileSync(process.env.FAULTS_REPORT, `${text}\n`);
}

module.exports = {
  grpc, psql, freezePg, stopPg, startPg, startWallet, makeWallet, balance, timed, sampleHealth, until,
  healthStatus, report, DATABASE_URL, ADMIN_DATABASE_URL, ROOT,
};
