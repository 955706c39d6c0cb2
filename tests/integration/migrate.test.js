// `make migrate` (scripts/migrate.sh) on fresh databases, re-runs, concurrent
// runners and a database made by the old NestJS + Prisma system.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { execFile, execFileSync } = require('node:child_process');
const { ROOT, ADMIN_DATABASE_URL, sql, operationId } = require('./lib/harness');

const MIGRATE = path.join(ROOT, 'scripts/migrate.sh');
const VERSIONS = fs.readdirSync(path.join(ROOT, 'migrations')).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort().map((f) => f.slice(0, 4));

function freshDatabase(name) {
  sql(`DROP DATABASE IF EXISTS ${name}`);
  sql(`CREATE DATABASE ${name}`);
  return ADMIN_DATABASE_URL.replace(/\/[^/]+$/, `/${name}`);
}

function psql(url, query) {
  return execFileSync('psql', [url, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();
}

function migrate(url) {
  return new Promise((resolve) => {
    execFile('bash', [MIGRATE], { env: { ...process.env, DATABASE_URL: url } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }));
  });
}

test('fresh database: applied once, re-running is a no-op', async () => {
  const url = freshDatabase('it_migrate_fresh');
  const first = await migrate(url);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /applied 0001_init\.sql/);
  const second = await migrate(url);
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /applied/);
  assert.equal(psql(url, 'SELECT string_agg(version, \',\' ORDER BY version) FROM "_wallet_migrations"'), VERSIONS.join(','));
  assert.equal(psql(url, `SELECT count(*) FROM pg_indexes WHERE tablename IN ('User', 'Wallet')`), '5');
});

test('concurrent runners apply each migration exactly once', async () => {
  const url = freshDatabase('it_migrate_race');
  const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(results.filter((r) => /applied 0001/.test(r.stderr)).length, 1);
  assert.equal(psql(url, 'SELECT count(*) FROM "_wallet_migrations"'), String(VERSIONS.length));
});

test('a database made by the old system is adopted, its data kept', async () => {
  const url = freshDatabase('it_migrate_old');
  // What Prisma left behind: its own bookkeeping table and the same schema.
  psql(url, 'CREATE TABLE "_prisma_migrations" (id VARCHAR(36) PRIMARY KEY, migration_name VARCHAR(255) NOT NULL)');
  execFileSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', path.join(ROOT, 'migrations/0001_init.sql')]);
  psql(url, `INSERT INTO "User" (id, email, name) VALUES ('6f1c2d1e-1111-4aaa-8bbb-123456789abc', 'old@example.com', 'Old')`);
  psql(url, `INSERT INTO "Wallet" (id, "userId", balance) VALUES ('7f1c2d1e-1111-4aaa-8bbb-123456789abc', '6f1c2d1e-1111-4aaa-8bbb-123456789abc', 42)`);
  const r = await migrate(url);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /applied 0001/);
  assert.equal(psql(url, 'SELECT string_agg(version, \',\' ORDER BY version) FROM "_wallet_migrations"'), VERSIONS.join(','));
  assert.equal(psql(url, 'SELECT balance FROM "Wallet"'), '42');
  // The ledger opens with the balance the old system left: balance = sum(entries) from the start.
  assert.equal(psql(url, 'SELECT kind || \':\' || amount || \':\' || "balanceAfter" FROM "WalletEntry"'), '1:42:42');
  // The old tables now belong to the owner role; the daemons' role reads and writes them, nothing more.
  assert.equal(psql(url, `SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'`), 'wallet_owner');
  const app = url.replace(/\/\/[^@/]*@/, '//wallet_app@');
  assert.equal(psql(app, 'SELECT balance FROM "Wallet"'), '42');
  assert.throws(() => psql(app, 'DROP TABLE "_prisma_migrations"'), /must be owner/);
});

test('a role that is neither a superuser nor the owner cannot migrate, and is told the step', async () => {
  const url = freshDatabase('it_migrate_app');
  assert.equal((await migrate(url)).code, 0);
  const r = await migrate(url.replace(/\/\/[^@/]*@/, '//wallet_app@'));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not the owner role wallet_owner.*superuser's DATABASE_URL/);
});

test('a broken migration is rolled back whole and not recorded', async () => {
  const url = freshDatabase('it_migrate_broken');
  const dir = fs.mkdtempSync('/tmp/wallet-mig-');
  fs.copyFileSync(path.join(ROOT, 'migrations/0001_init.sql'), path.join(dir, '0001_init.sql'));
  fs.writeFileSync(path.join(dir, '0002_broken.sql'), 'CREATE TABLE "Half" (id TEXT);\nSELECT no_such_function();\n');
  const r = await new Promise((resolve) => execFile('bash', [MIGRATE],
    { env: { ...process.env, DATABASE_URL: url, MIGRATIONS_DIR: dir } },
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr })));
  fs.rmSync(dir, { recursive: true });
  assert.notEqual(r.code, 0);
  assert.equal(psql(url, 'SELECT string_agg(version, \',\') FROM "_wallet_migrations"'), '0001');
  assert.equal(psql(url, `SELECT to_regclass('"Half"') IS NULL`), 't');
});

// Keys recorded before they were scoped to caller and method (migration 0004) move to
// their anonymous-scope ids, so a plaintext retry spanning the upgrade finds its outcome.
test('operations recorded under bare keys move to their scoped ids', async () => {
  const url = freshDatabase('it_migrate_keys');
  const dir = fs.mkdtempSync('/tmp/wallet-mig-');
  for (const f of fs.readdirSync(path.join(ROOT, 'migrations')).filter((n) => /^000[123]_/.test(n)))
    fs.copyFileSync(path.join(ROOT, 'migrations', f), path.join(dir, f));
  const before = await new Promise((resolve) => execFile('bash', [MIGRATE],
    { env: { ...process.env, DATABASE_URL: url, MIGRATIONS_DIR: dir } }, (err) => resolve(err)));
  fs.rmSync(dir, { recursive: true });
  assert.equal(before, null);
  psql(url, `INSERT INTO "Operation" (id, request, attempt, code) VALUES
    ('rent-2026-12', 'CreditWallet:0a01', 'a1', 0), ('order 7', 'CreateUser:0a02', 'a2', 0),
    ('9b2f0c1e-0000-4000-8000-000000000001', '', '9b2f0c1e-0000-4000-8000-000000000001', 0)`);
  assert.equal((await migrate(url)).code, 0);
  assert.equal(psql(url, 'SELECT string_agg(id, \',\' ORDER BY attempt) FROM "Operation"'), [
    '9b2f0c1e-0000-4000-8000-000000000001', // keyless: its own id
    operationId('rent-2026-12', '/wallet.WalletService/CreditWallet'),
    operationId('order 7', '/user.UserService/CreateUser')].join(','));
});

// A migrations dir holding 0001 and one more migration with the given text.
function dirWith(name, text) {
  const dir = fs.mkdtempSync('/tmp/wallet-mig-');
  fs.copyFileSync(path.join(ROOT, 'migrations/0001_init.sql'), path.join(dir, '0001_init.sql'));
  fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function migrateDir(url, dir, extraEnv = {}) {
  return new Promise((resolve) => execFile('bash', [MIGRATE],
    { env: { ...process.env, DATABASE_URL: url, MIGRATIONS_DIR: dir, ...extraEnv }, timeout: 60000 },
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr })));
}

test('a migration that waits behind live traffic for a lock fails fast (lock_timeout) and is not recorded', async (t) => {
  const url = freshDatabase('it_migrate_lock');
  const dir = dirWith('0001_init.sql', fs.readFileSync(path.join(ROOT, 'migrations/0001_init.sql')));
  t.after(() => fs.rmSync(dir, { recursive: true }));
  const first = await migrateDir(url, dir);
  assert.equal(first.code, 0, first.stderr);
  fs.writeFileSync(path.join(dir, '0002_add.sql'), 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n');
  // A reader that keeps its transaction open: ACCESS SHARE on "User".
  const { spawn } = require('node:child_process');
  const holder = spawn('psql', [url, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => holder.kill());
  await new Promise((resolve, reject) => {
    holder.stdout.on('data', (d) => { if (String(d).includes('locked')) resolve(); });
    holder.on('exit', () => reject(new Error('lock holder exited')));
    holder.stdin.write('BEGIN; SELECT count(*) FROM "User"; SELECT \'locked\';\n');
  });
  const blocked = await migrateDir(url, dir, { MIGRATE_LOCK_TIMEOUT: '300ms' });
  assert.notEqual(blocked.code, 0, 'the migration gives up instead of queueing every query behind it');
  assert.match(blocked.stderr, /lock timeout/);
  assert.equal(psql(url, 'SELECT string_agg(version, \',\') FROM "_wallet_migrations"'), '0001');
  holder.stdin.end('COMMIT;\n');
  await new Promise((resolve) => holder.on('close', resolve));
  const again = await migrateDir(url, dir, { MIGRATE_LOCK_TIMEOUT: '300ms' });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(psql(url, 'SELECT string_agg(version, \',\' ORDER BY version) FROM "_wallet_migrations"'), '0001,0002');
});

test('a -- migrate: no-transaction migration runs CREATE INDEX CONCURRENTLY and is recorded', async (t) => {
  const url = freshDatabase('it_migrate_notx');
  const dir = dirWith('0002_index.sql', '-- migrate: no-transaction\n'
    + 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "User_name_idx" ON "User" ("name");\n');
  t.after(() => fs.rmSync(dir, { recursive: true }));
  const r = await migrateDir(url, dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(psql(url, 'SELECT string_agg(version, \',\' ORDER BY version) FROM "_wallet_migrations"'), '0001,0002');
  assert.equal(psql(url, `SELECT indisvalid FROM pg_index WHERE indexrelid = '"User_name_idx"'::regclass`), 't');
});
