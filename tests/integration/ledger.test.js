// The ledger (migrations/0003_ledger.sql): every balance change appends one
// immutable entry in its own transaction, so balance = sum(entries) for every
// wallet after any mix of concurrent credits and debits, refusals append
// nothing, and the database itself refuses to change or remove an entry.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, sql, startPlatform, uniqueEmail, grpc } = require('./lib/harness');

const S = grpc.status;
const KIND = { OPENING: 1, CREDIT: 2, DEBIT: 3 };

// Wallets whose balance is not the sum of their entries (the invariant's check).
const DRIFTED = `SELECT count(*) FROM "Wallet" w
  WHERE w.balance <> (SELECT coalesce(sum(e.amount), 0) FROM "WalletEntry" e WHERE e."walletId" = w.id)`;

function psqlFails(query) {
  try {
    sql(query);
  } catch (e) {
    return String(e.stderr || e.message);
  }
  return null;
}

test('ledger', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const u = p.userClient;
  const w = p.walletClient;
  const newUser = async (tag) => (await call(u, 'CreateUser', { email: uniqueEmail(tag), name: tag })).res;

  await t.test('each change appends one entry with its kind, signed amount and balance after', async () => {
    const user = await newUser('entries');
    assert.equal((await call(w, 'CreditWallet', { user_id: user.id, amount: 30 })).err, null);
    assert.equal((await call(w, 'DebitWallet', { user_id: user.id, amount: 12 })).err, null);
    const rows = sql(`SELECT e.kind || ':' || e.amount || ':' || e."balanceAfter" FROM "WalletEntry" e
      JOIN "Wallet" w ON w.id = e."walletId" WHERE w."userId" = '${user.id}' ORDER BY e.seq`).split('\n');
    assert.deepEqual(rows, [`${KIND.CREDIT}:30:30`, `${KIND.DEBIT}:-12:18`]);
  });

  await t.test('refused changes append nothing', async () => {
    const user = await newUser('refused');
    await call(w, 'CreditWallet', { user_id: user.id, amount: 5 });
    assert.equal((await call(w, 'DebitWallet', { user_id: user.id, amount: 6 })).err.code, S.FAILED_PRECONDITION);
    assert.equal((await call(w, 'CreditWallet', { user_id: user.id, amount: 2147483647 })).err.code, S.OUT_OF_RANGE);
    assert.equal(sql(`SELECT count(*) FROM "WalletEntry" e JOIN "Wallet" w ON w.id = e."walletId"
      WHERE w."userId" = '${user.id}'`), '1');
  });

  await t.test('balance = sum(entries) for every wallet after a mixed concurrent run', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, (_, i) => newUser(`mix${i}`)));
    const calls = [];
    for (let i = 0; i < 200; i++) {
      const user = users[i % users.length];
      const method = i % 3 === 2 ? 'DebitWallet' : 'CreditWallet';
      calls.push(call(w, method, { user_id: user.id, amount: 1 + (i % 7) }));
    }
    const results = await Promise.all(calls);
    const ok = results.filter((r) => r.err === null).length;
    for (const r of results.filter((x) => x.err)) assert.equal(r.err.code, S.FAILED_PRECONDITION);
    const ids = users.map((x) => `'${x.id}'`).join(',');
    assert.equal(sql(`SELECT count(*) FROM "WalletEntry" e JOIN "Wallet" w ON w.id = e."walletId"
      WHERE w."userId" IN (${ids})`), String(ok));
    assert.equal(sql(DRIFTED), '0');
    // The entries of each wallet, in sequence order, chain: each balanceAfter is the previous plus its amount.
    assert.equal(sql(`SELECT count(*) FROM (SELECT "balanceAfter", amount,
        lag("balanceAfter", 1, 0) OVER (PARTITION BY "walletId" ORDER BY seq) AS before FROM "WalletEntry") x
      WHERE "balanceAfter" <> before + amount`), '0');
  });

  await t.test('the database refuses to change or remove an entry', async () => {
    const user = await newUser('immutable');
    await call(w, 'CreditWallet', { user_id: user.id, amount: 9 });
    const entry = `(SELECT e.seq FROM "WalletEntry" e JOIN "Wallet" w ON w.id = e."walletId" WHERE w."userId" = '${user.id}')`;
    assert.match(psqlFails(`UPDATE "WalletEntry" SET amount = 1000 WHERE seq = ${entry}`) || '', /append-only: UPDATE refused/);
    assert.match(psqlFails(`DELETE FROM "WalletEntry" WHERE seq = ${entry}`) || '', /append-only: DELETE refused/);
    assert.match(psqlFails('TRUNCATE "WalletEntry" CASCADE') || '', /append-only: TRUNCATE refused/);
    assert.equal(sql(`SELECT amount FROM "WalletEntry" WHERE seq = ${entry}`), '9');
  });

  await t.test('deleting a user still deletes its wallet, history included', async () => {
    const user = await newUser('gone');
    await call(w, 'CreditWallet', { user_id: user.id, amount: 3 });
    sql(`DELETE FROM "User" WHERE id = '${user.id}'`);
    assert.equal(sql(`SELECT count(*) FROM "Wallet" WHERE "userId" = '${user.id}'`), '0');
    assert.equal(sql(DRIFTED), '0');
  });
});
