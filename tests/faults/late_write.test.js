// Issue 19, defect 4: a write whose connection was lost (an orphan still
// waiting on the server) must not outlive the fence that stands for it. The
// fence is swept after IDEMPOTENCY_TTL (at least an hour now, 1 s before);
// an orphan that reaches its operation row more than RT_WRITE_APPLY_SECONDS
// (10 s) after the database started it fences itself instead of applying.
// Here the orphan waits 11 s on a row lock, its fence is removed as a sweep
// would remove it, and the lock is let go: the caller was told "not applied",
// and nothing applies.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { grpc, psql, startWallet, makeWallet, balance, timed, report, DATABASE_URL } = require('./lib/faults');
const { FaultProxy } = require('./lib/proxy');
const { holdWalletLock } = require('./lib/lock_holder');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('an orphaned write that outlives its fence never applies', async (t) => {
  const proxy = new FaultProxy(Number(new URL(DATABASE_URL).port));
  const url = new URL(DATABASE_URL);
  url.port = String(await proxy.listen());
  const wallet = await startWallet(url.toString(), { DB_LOCK_TIMEOUT_MS: '0' });
  t.after(async () => { await wallet.stop(); await proxy.close(); });

  const x = makeWallet();
  assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);
  const before = psql(DATABASE_URL, 'SELECT coalesce(max("createdAt"), LOCALTIMESTAMP) FROM "Operation"');
  const holder = await holdWalletLock(DATABASE_URL, x);
  let r;
  try {
    const sent = Date.now();
    const pending = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 500 }, 10000);
    await sleep(500); // the credit now waits for the lock on the server
    proxy.set('drop'); // its connection is cut: the statement stays behind as an orphan
    proxy.set('pass');
    r = await pending;
    await sleep(Math.max(0, 11000 - (Date.now() - sent)));
    // The fence ends as a sweep with a short IDEMPOTENCY_TTL would end it.
    psql(DATABASE_URL, `DELETE FROM "Operation" WHERE code = -1 AND "createdAt" > '${before}'`);
  } finally {
    await holder.release(); // the orphan goes on now, 11 s after it started
  }
  report(t, `orphan past its fence: credit answered ${r.err ? grpc.status[r.err.code] : 'OK'} after ${r.ms.toFixed(0)} ms`);
  assert.ok(r.err, 'answered OK while waiting on the lock');
  assert.equal(r.err.code, grpc.status.UNAVAILABLE, r.err.message);
  await sleep(1000);
  assert.equal(balance(x), 1, 'UNAVAILABLE meant not applied, even after its fence was gone');
  assert.equal(psql(DATABASE_URL, `SELECT count(*) FROM "WalletEntry" e JOIN "Wallet" w ON w.id = e."walletId"
                                   WHERE w."userId" = '${x}'`), '2', 'the opening entry and the first credit only');
});
