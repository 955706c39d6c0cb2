// Issue 11 item 12, the database parts. PostgreSQL restarted (fast
// shutdown, start) while calls keep coming: Health answers fast, every
// line the daemon writes is JSON (libpq's notices too, not raw text), the
// outage costs a few log lines (one per state change, not one per call or
// attempt), and the first write once the server is back succeeds.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { stopPg, startPg, startWallet, makeWallet, timed, sampleHealth, until, report, DATABASE_URL } =
  require('./lib/faults');

test('PostgreSQL restarted: health answers, few JSON log lines, the first write after is OK', async (t) => {
  const wallet = await startWallet(DATABASE_URL);
  try {
    const x = makeWallet();
    assert.equal((await timed(wallet.client, 'GetWallet', { user_id: x }, 3000)).err, null);
    const stopSampling = sampleHealth(wallet.healthClient);
    let calling = true;
    let calls = 0;
    // ten clients calling all through the outage
    const load = Promise.all(Array.from({ length: 10 }, async () => {
      while (calling) {
        await timed(wallet.client, 'GetWallet', { user_id: x }, 500);
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }));
    await stopPg();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    calling = false;
    await load;
    await startPg();
    const back = Date.now();
    const write = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 4 }, 5000);
    report(t, `restart: first CreditWallet after the server was back: ${write.err ? write.err.message : 'OK'} in ${write.ms.toFixed(0)} ms`);
    assert.equal(write.err, null, write.err && write.err.message);
    await until(async () => (await timed(wallet.client, 'GetWallet', { user_id: x }, 1000)).err === null, 10000, 'read');
    report(t, `restart: first OK GetWallet ${Date.now() - back} ms after the server was back`);
    const h = await stopSampling();
    report(t, `restart: Health p99 ${h.p99.toFixed(1)} ms, max ${h.max.toFixed(1)} ms over ${h.n} checks; saw ${[...h.statuses]}`);
    assert.ok(h.p99 < 150, `Health p99 ${h.p99} ms during the restart`);
    const lines = wallet.daemon.log().split('\n').filter((l) => l.length);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    const db = lines.filter((l) => /"msg":"database (unreachable|reachable|session)/.test(l));
    report(t, `restart: ${calls} calls during the outage, ${db.length} database state log lines`);
    assert.ok(calls > 50, `only ${calls} calls were made during the outage`);
    assert.ok(db.length <= 12, `database log lines:\n${db.join('\n')}`);
  } finally {
    await wallet.stop();
  }
});
