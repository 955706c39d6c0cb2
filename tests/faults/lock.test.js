// Issue 11 item 4: one stuck write must not block every write. A psql
// session holds the row lock of wallet X. A credit to X waits at most the
// writer's lock_timeout (DB_LOCK_TIMEOUT_MS) and is answered ABORTED
// (nothing applied, retry), so credits to other wallets, queued behind it
// on the writer session, go through within about that bound.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { grpc, startWallet, makeWallet, balance, timed, report, DATABASE_URL } = require('./lib/faults');
const { holdWalletLock } = require('./lib/lock_holder');

test('a row lock held elsewhere delays writes to other rows by at most lock_timeout', async (t) => {
  const wallet = await startWallet(DATABASE_URL, { DB_LOCK_TIMEOUT_MS: '500' });
  t.after(() => wallet.stop());
  const x = makeWallet();
  const ys = Array.from({ length: 5 }, () => makeWallet());
  const holder = await holdWalletLock(DATABASE_URL, x);
  try {
    const stuck = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 7 }, 3000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the stuck one goes first
    const others = await Promise.all(ys.map((y) => timed(wallet.client, 'CreditWallet', { user_id: y, amount: 5 }, 3000)));
    for (const r of others) assert.equal(r.err, null, `credit to another wallet: ${r.err && r.err.message}`);
    const slowest = Math.max(...others.map((r) => r.ms));
    report(t, `lock: credits to other wallets while one row is locked answered OK within ${slowest.toFixed(0)} ms (lock_timeout 500 ms)`);
    assert.ok(slowest < 2000, `credits to other wallets took ${slowest} ms`);
    const r = await stuck;
    assert.ok(r.err, 'the credit to the locked wallet cannot succeed while the lock is held');
    assert.equal(r.err.code, grpc.status.ABORTED, r.err.message);
    assert.ok(r.ms < 2500, `the credit to the locked wallet was answered after ${r.ms} ms`);
  } finally {
    await holder.release();
  }
  assert.equal(balance(x), 0); // ABORTED: nothing applied
  for (const y of ys) assert.equal(balance(y), 5);
  const after = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 7 }, 3000);
  assert.equal(after.err, null);
  assert.equal(balance(x), 7);
});
