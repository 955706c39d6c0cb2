// Issue 11 item 12, the database parts, with PostgreSQL restarted (fast
// shutdown, then start). Idle: the daemon notices its sessions closed by the
// server and reopens them, so the first write once the server is back
// succeeds (it used to be sent on a dead connection: UNAVAILABLE). Under
// load: Health answers fast, every line the daemon writes is JSON (libpq's
// notices too, not raw text), and the outage costs a few log lines, one per
// state change, not one per call or attempt.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { stopPg, startPg, startWallet, makeWallet, timed, sampleHealth, until, report, DATABASE_URL } =
  require('./lib/faults');

test('PostgreSQL restarted while the daemon is idle: the first write after is OK', async (t) => {
  const wallet = await startWallet(DATABASE_URL);
  t.after(() => wallet.stop());
  const x = makeWallet();
  assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);
  await stopPg();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await startPg();
  const write = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 4 }, 5000);
  report(t, `restart (idle): first CreditWallet after the server was back: ${write.err ? write.err.message : 'OK'} in ${write.ms.toFixed(0)} ms`);
  assert.equal(write.err, null, write.err && write.err.message);
});

test('PostgreSQL restarted under load: health answers, few JSON log lines', async (t) => {
  const wallet = await startWallet(DATABASE_URL);
  t.after(() => wallet.stop());
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
  assert.equal(write.err, null, write.err && write.err.message);
  report(t, `restart (load): first OK CreditWallet ${Date.now() - back} ms after the server was back`);
  await until(async () => (await timed(wallet.client, 'GetWallet', { user_id: x }, 1000)).err === null, 10000, 'read');
  report(t, `restart (load): first OK GetWallet ${Date.now() - back} ms after the server was back`);
  const h = await stopSampling();
  report(t, `restart: Health p99 ${h.p99.toFixed(1)} ms, max ${h.max.toFixed(1)} ms over ${h.n} checks; saw ${[...h.statuses]}`);
  assert.ok(h.p99 < 150, `Health p99 ${h.p99} ms during the restart`);
  const lines = wallet.daemon.settledLog().split('\n').filter((l) => l.length);
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  // the database's state (losses, reconnects, notices), not per-statement
  // failures or each call's own answer line
  const db = lines.filter((l) => /"msg":"database (?!statement|unavailable")/.test(l));
  report(t, `restart: ${calls} calls during the outage, ${db.length} database log lines`);
  assert.ok(calls > 50, `only ${calls} calls were made during the outage`);
  assert.ok(db.length <= 15, `${db.length} database log lines:\n${db.slice(0, 30).join('\n')}`);
});
