// Issue 11 item 8. A database missing a migration: the daemon refuses to
// start, exit 1, naming what is missing. A migration undone while it runs
// (its sessions reconnect and a statement no longer prepares): NOT_SERVING
// and UNAVAILABLE, not SERVING with INTERNAL per call; SERVING again once
// the table is back.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const { freePort } = require('../integration/lib/harness');
const { grpc, psql, startWallet, makeWallet, timed, until, healthStatus, report, ADMIN_DATABASE_URL, ROOT } =
  require('./lib/faults');

// A fresh database next to the suite's, migrated up to `upTo` (inclusive).
function database(name, upTo) {
  psql(ADMIN_DATABASE_URL, `DROP DATABASE IF EXISTS ${name}`);
  psql(ADMIN_DATABASE_URL, `CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  for (const f of fs.readdirSync(path.join(ROOT, 'migrations')))
    if (f.slice(0, 4) <= upTo) fs.copyFileSync(path.join(ROOT, 'migrations', f), path.join(dir, f));
  execFileSync('bash', [path.join(ROOT, 'scripts/migrate.sh')],
    { env: { ...process.env, DATABASE_URL: url.toString(), MIGRATIONS_DIR: dir }, stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true });
  return url.toString();
}

// The migrations after the first, as text: what a database migrated only up
// to 0001 lacks (whatever the contract is).
const LATER = fs.readdirSync(path.join(ROOT, 'migrations')).filter((f) => /^\d{4}_.*\.sql$/.test(f) && f.slice(0, 4) > '0001')
  .map((f) => fs.readFileSync(path.join(ROOT, 'migrations', f), 'utf8')).join('\n');

for (const name of ['user-service', 'wallet-service']) {
  test(`${name} on a database missing a migration exits 1 naming what is missing`, async () => {
    const url = database('faults_partial', '0001');
    const r = spawnSync(path.join(process.env.BIN_DIR, name), ['--listen', `127.0.0.1:${await freePort()}`],
      { env: { ...process.env, DATABASE_URL: url, METRICS_ADDR: '0' }, encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 1, r.stderr);
    const missing = r.stderr.match(new RegExp(`${name}: cannot prepare statement \\w+: (?:relation|column) "([^"]+)" does not exist`));
    assert.ok(missing, r.stderr);
    // What is missing is something a later migration makes.
    assert.ok(LATER.includes(`"${missing[1].split('.').pop()}"`), `${missing[1]} is not made by a migration after 0001`);
    assert.match(r.stderr, /migrat/);
  });
}

// The tables the migrations made in url's database.
function tables(url) {
  return psql(url, `SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables
                    WHERE schemaname = 'public' AND tablename <> '_wallet_migrations'`).split(',');
}

test('a statement that no longer prepares after a reconnect: NOT_SERVING and UNAVAILABLE, then back', async (t) => {
  const url = database('faults_reprepare', '9999');
  const wallet = await startWallet(url);
  try {
    const x = makeWallet(url);
    assert.equal((await timed(wallet.client, 'GetWallet', { user_id: x }, 3000)).err, null);
    // Every table moves away, so whichever statement re-prepares first fails.
    const names = tables(url);
    for (const n of names) psql(url, `ALTER TABLE "${n}" RENAME TO "${n}Gone"`);
    psql(url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = 'faults_reprepare' AND application_name = 'wallet-service'`);
    const ms = await until(async () => (await healthStatus(wallet.healthClient)) === 'NOT_SERVING', 10000, 'NOT_SERVING');
    report(t, `re-prepare failure: NOT_SERVING after ${ms} ms`);
    const r = await timed(wallet.client, 'GetWallet', { user_id: x }, 3000);
    assert.ok(r.err);
    assert.equal(r.err.code, grpc.status.UNAVAILABLE, r.err.message);
    const failed = wallet.daemon.log().match(/cannot prepare statement \w+: relation \\"(\w+)\\" does not exist/);
    assert.ok(failed && names.includes(failed[1]), wallet.daemon.log().slice(-2000));
    for (const n of names) psql(url, `ALTER TABLE "${n}Gone" RENAME TO "${n}"`);
    await until(async () => (await healthStatus(wallet.healthClient)) === 'SERVING', 10000, 'SERVING again');
    await until(async () => (await timed(wallet.client, 'GetWallet', { user_id: x }, 1000)).err === null, 10000, 'OK again');
  } finally {
    await wallet.stop();
  }
});
