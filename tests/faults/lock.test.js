// Issue 11 item 4 and issue 24 item 3: a row lock held elsewhere holds up
// only the writes to that row. A psql session holds the row lock of wallet
// X in an open transaction. A credit to X waits for it up to the writer's
// lock_timeout (DB_LOCK_TIMEOUT_MS) in all: a short wait in its group, then
// alone on the lock waiter session; it succeeds when the lock is released
// in time and is answered ABORTED (nothing applied, retry) when not.
// Credits to other wallets meanwhile are never held up by it for long: a
// bound far below the lock timeout (before the lock waiter, they waited in
// the group of the credit to X, up to the whole lock timeout). Every credit
// is applied exactly once: balances and ledger entries checked.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { grpc, psql, startWallet, makeWallet, balance, timed, report, DATABASE_URL } = require('./lib/faults');
const { holdWalletLock } = require('./lib/lock_holder');

const LOCK_TIMEOUT_MS = 3000;
// A third of the lock timeout (at 0bb17a4 they took all of it, ~2,980 ms),
// far above a credit on a loaded 2-core machine (~50-70 ms here).
const OTHERS_BOUND_MS = 1000;

// The ledger of a wallet: its entries' count and sum (sum = balance).
function ledger(userId) {
  const [n, sum] = psql(DATABASE_URL, `SELECT count(*), coalesce(sum(e.amount), 0) FROM "WalletEntry" e
    JOIN "Wallet" w ON w.id = e."walletId" WHERE w."userId" = '${userId}'`).split('|').map(Number);
  return { n, sum };
}

// Rounds of concurrent credits of 5 to each of ys while X stays locked:
// every answer OK, and the slowest.
async function creditOthers(client, ys, rounds) {
  let slowest = 0;
  for (let round = 0; round < rounds; round++) {
    const answers = await Promise.all(ys.map((y) =>
      timed(client, 'CreditWallet', { user_id: y, amount: 5, idempotency_key: crypto.randomUUID() }, 10000)));
    for (const r of answers) assert.equal(r.err, null, `credit to another wallet: ${r.err && r.err.message}`);
    slowest = Math.max(slowest, ...answers.map((r) => r.ms));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return slowest;
}

function assertApplied(userId, credits, amount) {
  assert.equal(balance(userId), credits * amount);
  assert.deepEqual(ledger(userId), { n: 1 + credits, sum: credits * amount }); // the opening entry, then one per credit
}

test('a row lock held elsewhere: the credit to it waits and succeeds once released, other credits are not held up', async (t) => {
  const wallet = await startWallet(DATABASE_URL, { DB_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) });
  t.after(() => wallet.stop());
  const x = makeWallet();
  const ys = Array.from({ length: 5 }, () => makeWallet());
  const key = crypto.randomUUID();
  const holder = await holdWalletLock(DATABASE_URL, x);
  let stuck;
  try {
    stuck = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 7, idempotency_key: key }, 10000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the stuck one goes first
    const slowest = await creditOthers(wallet.client, ys, 3);
    report(t, `lock: credits to other wallets while one row is locked answered OK within ${slowest.toFixed(0)} ms (lock_timeout ${LOCK_TIMEOUT_MS} ms)`);
    assert.ok(slowest < OTHERS_BOUND_MS, `credits to other wallets took ${slowest.toFixed(0)} ms`);
  } finally {
    await holder.release(); // ~0.5 s after the stuck credit started: well within its lock wait
  }
  const r = await stuck;
  assert.equal(r.err, null, `the credit to the locked wallet: ${r.err && r.err.message}`);
  assert.equal(r.res.balance, 7);
  assert.ok(r.ms < LOCK_TIMEOUT_MS, `the credit to the locked wallet was answered after ${r.ms} ms`);
  const again = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 7, idempotency_key: key }, 3000);
  assert.equal(again.err, null); // the stored outcome, replayed
  assert.equal(again.res.balance, 7);
  assertApplied(x, 1, 7);
  for (const y of ys) assertApplied(y, 3, 5);
});

test('a row lock held past DB_LOCK_TIMEOUT_MS: the credit to it waits that long and is answered ABORTED, other credits are not held up', async (t) => {
  const wallet = await startWallet(DATABASE_URL, { DB_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) });
  t.after(() => wallet.stop());
  const x = makeWallet();
  const ys = Array.from({ length: 5 }, () => makeWallet());
  const holder = await holdWalletLock(DATABASE_URL, x);
  try {
    const stuck = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 7 }, 10000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const slowest = await creditOthers(wallet.client, ys, 3);
    assert.ok(slowest < OTHERS_BOUND_MS, `credits to other wallets took ${slowest.toFixed(0)} ms`);
    const r = await stuck;
    assert.ok(r.err, 'the credit to the locked wallet cannot succeed while the lock is held');
    assert.equal(r.err.code, grpc.status.ABORTED, r.err.message);
    // It kept its whole lock wait (lock_timeout only ever fires late), and no more.
    assert.ok(r.ms >= LOCK_TIMEOUT_MS - 50, `the credit to the locked wallet gave up after ${r.ms} ms`);
    assert.ok(r.ms < LOCK_TIMEOUT_MS + 2000, `the credit to the locked wallet was answered after ${r.ms} ms`);
    report(t, `lock: the credit to the locked wallet answered ABORTED after ${r.ms.toFixed(0)} ms (lock_timeout ${LOCK_TIMEOUT_MS} ms)`);
  } finally {
    await holder.release();
  }
  assertApplied(x, 0, 7); // ABORTED: nothing applied
  for (const y of ys) assertApplied(y, 3, 5);
  const after = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 7 }, 3000);
  assert.equal(after.err, null);
  assertApplied(x, 1, 7);
});
