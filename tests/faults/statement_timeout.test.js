// Issue 11 item 5: a cancel the daemon did not send (the role's
// statement_timeout) is logged and answered, never retried silently. The
// role gets statement_timeout 300ms, a psql session holds the wallet's row
// lock, and one debit is answered once, promptly, with a log line naming
// the foreign cancel.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { grpc, psql, startWallet, makeWallet, balance, timed, report, DATABASE_URL } = require('./lib/faults');
const { holdWalletLock } = require('./lib/lock_holder');

test('a statement_timeout cancel is logged and answered, not retried', async (t) => {
  const x = makeWallet(DATABASE_URL, 100);
  psql(DATABASE_URL, `ALTER ROLE CURRENT_USER IN DATABASE ${new URL(DATABASE_URL).pathname.slice(1)} SET statement_timeout = '300ms'`);
  let wallet;
  let holder;
  try {
    // lock_timeout above statement_timeout: the server's cancel comes first
    wallet = await startWallet(DATABASE_URL, { DB_LOCK_TIMEOUT_MS: '10000' });
    holder = await holdWalletLock(DATABASE_URL, x);
    const r = await timed(wallet.client, 'DebitWallet', { user_id: x, amount: 10 }, 8000);
    report(t, `statement_timeout: debit answered ${r.err ? grpc.status[r.err.code] : 'OK'} after ${r.ms.toFixed(0)} ms`);
    assert.ok(r.err, 'the debit cannot succeed while the lock is held');
    assert.equal(r.err.code, grpc.status.DEADLINE_EXCEEDED, r.err.message);
    assert.match(r.err.message, /cancelled by the database/);
    assert.ok(r.ms < 2000, `answered after ${r.ms} ms: retried?`);
    const lines = wallet.daemon.log().split('\n').filter((l) => /not by this daemon/.test(l));
    assert.equal(lines.length, 1, `one log line for the one foreign cancel:\n${lines.join('\n')}`);
    assert.equal(JSON.parse(lines[0]).level, 'warn');
  } finally {
    if (holder) await holder.release();
    psql(DATABASE_URL, `ALTER ROLE CURRENT_USER IN DATABASE ${new URL(DATABASE_URL).pathname.slice(1)} RESET statement_timeout`);
    if (wallet) await wallet.stop();
  }
  assert.equal(balance(x), 100);
});
