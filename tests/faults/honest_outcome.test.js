// Issue 12 "honest outcomes": a write whose connection is lost after it was
// sent gets its true outcome, not "maybe". The daemon fences the write's
// operation id on a fresh connection (FenceOperation, spec/queries/wallet.sql):
// either the write's own row is there (it committed: the caller gets its
// answer) or the fence makes sure it never applies (UNAVAILABLE, safe to
// retry), even if the lost transaction goes on later.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { grpc, psql, startWallet, makeWallet, balance, timed, report, DATABASE_URL } = require('./lib/faults');
const { FaultProxy } = require('./lib/proxy');
const { holdWalletLock } = require('./lib/lock_holder');

function viaProxy(port) {
  const url = new URL(DATABASE_URL);
  url.port = String(port);
  return url.toString();
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Cuts every connection through the proxy, then lets new ones through.
function cut(proxy) {
  proxy.set('drop');
  proxy.set('pass');
}

test('honest outcomes when the connection is lost around COMMIT', async (t) => {
  const proxy = new FaultProxy(Number(new URL(DATABASE_URL).port));
  const wallet = await startWallet(viaProxy(await proxy.listen()), { DB_LOCK_TIMEOUT_MS: '0' });
  t.after(async () => { await wallet.stop(); await proxy.close(); });

  await t.test('committed, its answer lost: the caller gets OK and the credit applied once', async () => {
    const x = makeWallet();
    assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);
    proxy.set('mute'); // the credit reaches PostgreSQL and commits; its answer is dropped
    const pending = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1000 }, 10000);
    await sleep(500);
    assert.equal(balance(x), 1001, 'the credit committed while its answer was muted');
    cut(proxy);
    const r = await pending;
    report(t, `cut after COMMIT: credit answered ${r.err ? grpc.status[r.err.code] : 'OK'} after ${r.ms.toFixed(0)} ms`);
    assert.equal(r.err, null, r.err && r.err.message);
    assert.equal(r.res.balance, 1001);
    assert.equal(balance(x), 1001, 'applied once');
  });

  // Issue 19 defect 2: the fence used to be answered UNAVAILABLE, unsent,
  // when the first reconnect attempt failed, and the call ended "outcome
  // unknown" with seconds of its deadline left.
  await t.test('the database unreachable for a moment after the cut: the fence waits for it', async () => {
    const x = makeWallet();
    assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);
    proxy.set('mute');
    const pending = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1000 }, 5000);
    await sleep(500);
    assert.equal(balance(x), 1001, 'the credit committed while its answer was muted');
    proxy.set('drop'); // cut, and every reconnect refused for a while
    await sleep(400);
    proxy.set('pass');
    const r = await pending;
    report(t, `cut after COMMIT, database away 400 ms: credit answered ${r.err ? grpc.status[r.err.code] : 'OK'} ` +
      `after ${r.ms.toFixed(0)} ms`);
    assert.equal(r.err, null, r.err && `${grpc.status[r.err.code]}: ${r.err.message}`);
    assert.equal(r.res.balance, 1001);
    assert.equal(balance(x), 1001, 'applied once');
  });

  await t.test('not committed (waiting on a row lock) when cut: UNAVAILABLE, and it never applies', async () => {
    const x = makeWallet();
    assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);
    const holder = await holdWalletLock(DATABASE_URL, x);
    let r;
    try {
      const pending = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 500 }, 10000);
      await sleep(500); // the credit's transaction now waits for the lock on the server
      cut(proxy);
      r = await pending;
    } finally {
      await holder.release(); // the lost transaction may go on now: it must change nothing
    }
    report(t, `cut before COMMIT: credit answered ${r.err ? grpc.status[r.err.code] : 'OK'} after ${r.ms.toFixed(0)} ms`);
    assert.ok(r.err);
    assert.equal(r.err.code, grpc.status.UNAVAILABLE, r.err.message);
    await sleep(500);
    assert.equal(balance(x), 1, 'UNAVAILABLE meant not applied');
    const retry = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 500 }, 3000);
    assert.equal(retry.err, null);
    assert.equal(balance(x), 501);
  });

  await t.test('with a key: the fenced attempt never applies, the retry with the key does, once', async () => {
    const x = makeWallet();
    const req = { user_id: x, amount: 70, idempotency_key: `fence-${x}` };
    assert.equal((await timed(wallet.client, 'GetWallet', { user_id: x }, 3000)).err, null);
    const holder = await holdWalletLock(DATABASE_URL, x);
    let r;
    try {
      const pending = timed(wallet.client, 'CreditWallet', req, 10000);
      await sleep(500);
      cut(proxy);
      r = await pending;
    } finally {
      await holder.release();
    }
    assert.equal(r.err && r.err.code, grpc.status.UNAVAILABLE);
    await sleep(500);
    assert.equal(balance(x), 0);
    const retry = await timed(wallet.client, 'CreditWallet', req, 3000);
    assert.equal(retry.err, null, retry.err && retry.err.message);
    assert.equal(retry.res.balance, 70);
    const again = await timed(wallet.client, 'CreditWallet', req, 3000);
    assert.equal(again.res.balance, 70);
    assert.equal(balance(x), 70, 'applied once');
    assert.equal(psql(DATABASE_URL, `SELECT code FROM "Operation" WHERE id = '${req.idempotency_key}'`), '0');
  });
});
