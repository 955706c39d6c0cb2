// Issue 19, 8: a caller that cancels is noticed at once, not at its
// deadline. A credit waits on a row lock held elsewhere; its caller cancels
// after 300 ms of a 20 s deadline. The daemon must give up the write then:
// cancelled on the server (it never applies when the lock is released) and
// the call finished (its log line) within a second. At 36789b1 the write
// waited on, and committed as soon as the lock was released.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { startWallet, makeWallet, balance, timed, report, DATABASE_URL } = require('./lib/faults');
const { holdWalletLock } = require('./lib/lock_holder');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('a caller that cancels a write waiting on a lock: the write is given up at once', async (t) => {
  const wallet = await startWallet(DATABASE_URL, { DB_LOCK_TIMEOUT_MS: '0' });
  t.after(() => wallet.stop());
  const x = makeWallet();
  assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);
  const holder = await holdWalletLock(DATABASE_URL, x);
  let released = false;
  try {
    const answered = new Promise((resolve) => {
      const call = wallet.client.CreditWallet({ user_id: x, amount: 500 }, { deadline: new Date(Date.now() + 20000) },
        (err) => resolve(err));
      setTimeout(() => call.cancel(), 300);
    });
    const err = await answered;
    assert.ok(err, 'the client saw its cancel');
    await sleep(1500); // the daemon's side of it
    await holder.release();
    released = true;
    await sleep(500);
    const line = wallet.daemon.settledLog().split('\n').filter((l) => l.includes('"method":"CreditWallet"')).at(-1) || '';
    const ms = Number((line.match(/"duration_ms":([\d.]+)/) || [])[1]);
    report(t, `cancel: the daemon finished the cancelled credit after ${ms.toFixed(0)} ms (cancelled at 300 ms)`);
    assert.ok(ms < 1500, `the daemon finished the call only after ${ms} ms: ${line}`);
    assert.equal(balance(x), 1, 'the cancelled write never applied');
  } finally {
    if (!released) await holder.release();
  }
});
