// Issue 19, defect 1, at the level where it is decided: CreateWallet's insert
// (InsertUserWallet, spec/queries/wallet.sql) and CreateUser's undo
// (AbandonCreation, spec/queries/user.sql) meet on the user's pending marker.
// Each is run here as written in spec/queries, in real transactions of two
// psql sessions, the second started while the first holds its locks, in both
// orders: whichever commits first wins, and the other changes nothing -- an
// undo never deletes a wallet that committed, and a wallet never appears for
// a user whose undo committed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, DATABASE_URL, sql } = require('./lib/harness');

// The statement `name` of spec/queries/FILE with its @parameters as literals.
function statement(file, name, params) {
  const lines = fs.readFileSync(path.join(ROOT, 'spec/queries', file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`-- name: ${name} `));
  assert.ok(start >= 0, `${name} in ${file}`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('-- name: '));
  return (end < 0 ? rest : rest.slice(0, end)).filter((l) => !l.startsWith('--')).join('\n').trim()
    .replace(/@(\w+)::(\w+)/g, (_, n, type) => {
      assert.ok(n in params, `parameter ${n}`);
      return `'${params[n]}'::${type}`;
    });
}

// A psql session fed one command at a time; run() resolves with what the
// command printed (command tags and errors), once it finished.
function session(app) {
  const psql = spawn('psql', [DATABASE_URL, '-X', '-v', 'ON_ERROR_STOP=0'], {
    stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PGAPPNAME: app },
  });
  let out = '';
  let waiter = null;
  const onData = (d) => {
    out += d;
    const at = out.indexOf('@@done@@');
    if (waiter && at >= 0) {
      const text = out.slice(0, at);
      out = out.slice(at + 8);
      const w = waiter;
      waiter = null;
      w(text);
    }
  };
  psql.stdout.on('data', onData);
  psql.stderr.on('data', onData);
  const exited = new Promise((resolve) => psql.once('exit', resolve));
  return {
    run(command) {
      return new Promise((resolve) => {
        waiter = resolve;
        psql.stdin.write(`${command};\n\\echo @@done@@\n`);
      });
    },
    async close() {
      psql.stdin.end('ROLLBACK;\n\\q\n');
      await exited;
    },
  };
}

async function waitingOnLock(app) {
  const until = Date.now() + 10000;
  while (sql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${app}' AND wait_event_type = 'Lock'`) !== '1') {
    if (Date.now() > until) throw new Error(`${app} never waited on a lock`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A user as CreateUser with a key leaves it before asking for the wallet.
function pendingUser() {
  const p = { id: crypto.randomUUID(), operation_id: `race-${crypto.randomUUID()}`, attempt: crypto.randomUUID() };
  sql(statement('user.sql', 'InsertPendingUserOnce', { ...p, request: 'r', email: `${p.id}@race.test`, name: 'R' }));
  return p;
}

const count = (table, column, id) => sql(`SELECT count(*) FROM "${table}" WHERE "${column}" = '${id}'`);

test('the wallet commits first: the undo that waited deletes nothing', async (t) => {
  const p = pendingUser();
  const wallet = session(`race-wallet-${process.pid}`);
  const undo = session(`race-undo-${process.pid}`);
  t.after(async () => { await wallet.close(); await undo.close(); });
  await wallet.run('BEGIN');
  assert.match(await wallet.run(statement('wallet.sql', 'InsertUserWallet', { user_id: p.id, id: crypto.randomUUID() })),
    /INSERT 0 1/);
  const undone = undo.run(statement('user.sql', 'AbandonCreation', p));
  await waitingOnLock(`race-undo-${process.pid}`);
  assert.match(await wallet.run('COMMIT'), /COMMIT/);
  assert.match(await undone, /DELETE 0/);
  assert.equal(count('User', 'id', p.id), '1');
  assert.equal(count('Wallet', 'userId', p.id), '1', 'the committed wallet stays');
  assert.equal(count('Operation', 'id', p.operation_id), '1', 'its key stays');
  assert.equal(count('PendingUser', 'userId', p.id), '0');
});

test('the undo commits first: the wallet insert that waited fails, nothing is left', async (t) => {
  const p = pendingUser();
  const wallet = session(`race-wallet2-${process.pid}`);
  const undo = session(`race-undo2-${process.pid}`);
  t.after(async () => { await wallet.close(); await undo.close(); });
  await undo.run('BEGIN');
  assert.match(await undo.run(statement('user.sql', 'AbandonCreation', p)), /DELETE 1/);
  const inserted = wallet.run(statement('wallet.sql', 'InsertUserWallet', { user_id: p.id, id: crypto.randomUUID() }));
  await waitingOnLock(`race-wallet2-${process.pid}`);
  assert.match(await undo.run('COMMIT'), /COMMIT/);
  assert.match(await inserted, /violates foreign key constraint/);
  assert.equal(count('User', 'id', p.id), '0');
  assert.equal(count('Wallet', 'userId', p.id), '0', 'no wallet for an undone user');
  assert.equal(count('Operation', 'id', p.operation_id), '0', 'its key is free');
});
