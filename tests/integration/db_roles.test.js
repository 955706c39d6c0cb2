// Least privilege in the database (migrations/0004_least_privilege.sql,
// docs/database.md "Roles"): as the daemons' own role (DATABASE_URL), every
// statement outside what the daemons need is refused -- no change or removal
// of a ledger entry, no balance change without its entry, no DDL -- while the
// statements the daemons do need still work; and a stray DELETE FROM "Wallet"
// keeps a user's history, whoever runs it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { call, sql, startPlatform, uniqueEmail, DATABASE_URL } = require('./lib/harness');

// Runs `query` in one transaction as the daemons' role: { ok, out }.
function asDaemon(query) {
  const r = spawnSync('psql', [DATABASE_URL, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-1', '-c', query],
    { encoding: 'utf8', timeout: 20000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

const DRIFTED = `SELECT count(*) FROM "Wallet" w
  WHERE w.balance <> (SELECT coalesce(sum(e.amount), 0) FROM "WalletEntry" e WHERE e."walletId" = w.id)`;

test('database roles', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const user = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('roles'), name: 'Roles' })).res;
  assert.ok(user, 'CreateUser works as the daemons\' role');
  assert.equal((await call(p.walletClient, 'CreditWallet', { user_id: user.id, amount: 70 })).err, null);
  const wallet = sql(`SELECT id FROM "Wallet" WHERE "userId" = '${user.id}'`);
  const entries = () => sql(`SELECT count(*) || ':' || sum(amount) FROM "WalletEntry" WHERE "walletId" = '${wallet}'`);
  const balance = () => sql(`SELECT balance FROM "Wallet" WHERE id = '${wallet}'`);
  assert.equal(entries(), '1:70');

  await t.test('the daemons connect as a role that is neither a superuser nor the owner', () => {
    const r = asDaemon(`SELECT current_user || ':' || rolsuper || ':' || pg_has_role(current_user, 'wallet_owner', 'MEMBER')
      FROM pg_roles WHERE rolname = current_user`);
    assert.equal(r.out, 'wallet_app:false:false');
  });

  // Each refused; where a trigger refused it already (0003), by the role's privileges themselves.
  const PRIVILEGE = /permission denied/;
  const forbidden = {
    'UPDATE of an entry': [`UPDATE "WalletEntry" SET amount = amount + 1000 WHERE "walletId" = '${wallet}'`, PRIVILEGE],
    'DELETE of an entry': [`DELETE FROM "WalletEntry" WHERE "walletId" = '${wallet}'`, PRIVILEGE],
    'TRUNCATE of the ledger': ['TRUNCATE "WalletEntry" CASCADE', PRIVILEGE],
    'DELETE FROM "Wallet"': `DELETE FROM "Wallet" WHERE id = '${wallet}'`,
    'a balance change without its entry': `UPDATE "Wallet" SET balance = balance + 1000000 WHERE id = '${wallet}'`,
    'an entry that does not continue its wallet\'s chain':
      `INSERT INTO "WalletEntry" ("walletId", kind, amount, "balanceAfter") VALUES ('${wallet}', 2, 0, 1000070)`,
    'an entry and a balance that disagree':
      `INSERT INTO "WalletEntry" ("walletId", kind, amount, "balanceAfter") VALUES ('${wallet}', 2, 5, 75);
       UPDATE "Wallet" SET balance = 1000075 WHERE id = '${wallet}'`,
    'a wallet born with a balance and no entry':
      `INSERT INTO "User" (id, email, name) VALUES ('${crypto.randomUUID()}', '${uniqueEmail('rich')}', 'R');
       INSERT INTO "Wallet" (id, "userId", balance) SELECT '${crypto.randomUUID()}', id, 500 FROM "User" WHERE name = 'R'`,
    'moving a wallet to another user': `UPDATE "Wallet" SET "userId" = 'someone-else' WHERE id = '${wallet}'`,
    'UPDATE of a user': `UPDATE "User" SET email = 'taken@example.com' WHERE id = '${user.id}'`,
    'DELETE of a user whose wallet has history': `DELETE FROM "User" WHERE id = '${user.id}'`,
    'TRUNCATE of the users': 'TRUNCATE "User" CASCADE',
    'TRUNCATE of the operations': 'TRUNCATE "Operation"',
    'CREATE TABLE': 'CREATE TABLE "Shadow" (x int)',
    'CREATE TEMP TABLE (a shadow of the ledger)': 'CREATE TEMP TABLE "WalletEntry" (x int)',
    'CREATE FUNCTION': 'CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
    'a trigger of its own': `CREATE TRIGGER t BEFORE DELETE ON "WalletEntry" FOR EACH ROW EXECUTE FUNCTION "WalletEntry_append_only"()`,
    'disabling the ledger\'s triggers': 'ALTER TABLE "WalletEntry" DISABLE TRIGGER ALL',
    'dropping a trigger': 'DROP TRIGGER "WalletEntry_no_truncate" ON "WalletEntry"',
    'ALTER TABLE': 'ALTER TABLE "Wallet" DROP CONSTRAINT "Wallet_userId_fkey"',
    'DROP TABLE': 'DROP TABLE "Operation"',
    'becoming the owner': 'SET ROLE wallet_owner',
  };
  for (const [name, spec] of Object.entries(forbidden)) {
    const [query, why] = Array.isArray(spec) ? spec : [spec, /ERROR: /];
    await t.test(`refused to the daemons' role: ${name}`, () => {
      const r = asDaemon(query);
      assert.equal(r.ok, false, `${query} succeeded: ${r.out}`);
      assert.match(r.out, why);
      assert.equal(entries(), '1:70');
      assert.equal(balance(), '70');
    });
  }

  await t.test('what the daemons need still works as their role', () => {
    // A balance change with its entry, in one transaction (ChangeBalance's shape).
    const r = asDaemon(`INSERT INTO "WalletEntry" ("walletId", kind, amount, "balanceAfter") VALUES ('${wallet}', 2, 5, 75);
      UPDATE "Wallet" SET balance = 75 WHERE id = '${wallet}'`);
    assert.equal(r.ok, true, r.out);
    assert.equal(balance(), '75');
    // CreateUser's compensation and the abandoned-user sweep: a user without a wallet goes.
    const lone = crypto.randomUUID();
    sql(`INSERT INTO "User" (id, email, name) VALUES ('${lone}', '${uniqueEmail('lone')}', 'L')`);
    const d = asDaemon(`DELETE FROM "User" WHERE id = '${lone}'`);
    assert.equal(d.ok, true, d.out);
    assert.equal(sql(`SELECT count(*) FROM "User" WHERE id = '${lone}'`), '0');
  });

  await t.test('a stray DELETE FROM "Wallet" keeps the history, even as a superuser', () => {
    assert.throws(() => sql(`DELETE FROM "Wallet" WHERE id = '${wallet}'`), /has ledger entries/);
    assert.equal(entries(), '2:75');
    assert.equal(sql(DRIFTED), '0');
  });
});
