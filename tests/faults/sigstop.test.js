// Issue 11 item 1 (and the Health figures): PostgreSQL frozen with SIGSTOP.
// Health keeps answering within milliseconds and turns NOT_SERVING; a read
// and a write are answered by their deadlines (the write DEADLINE_EXCEEDED,
// never UNAVAILABLE: it may still commit); after SIGCONT calls succeed again.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { grpc, freezePg, startWallet, makeWallet, timed, sampleHealth, until, healthStatus, report, DATABASE_URL } =
  require('./lib/faults');

test('PostgreSQL stopped with SIGSTOP: health answers, calls meet their deadlines, recovery after SIGCONT', async (t) => {
  const wallet = await startWallet(DATABASE_URL);
  const x = makeWallet();
  assert.equal((await timed(wallet.client, 'GetWallet', { user_id: x }, 3000)).err, null);
  const stopSampling = sampleHealth(wallet.healthClient);
  const thaw = freezePg();
  let thawed = false;
  try {
    const [read, write] = await Promise.all([
      timed(wallet.client, 'GetWallet', { user_id: x }, 1000),
      timed(wallet.client, 'CreditWallet', { user_id: x, amount: 3 }, 1000),
    ]);
    assert.ok(read.err && write.err, 'nothing can succeed while the server is stopped');
    assert.equal(write.err.code, grpc.status.DEADLINE_EXCEEDED, write.err.message);
    report(t, `SIGSTOP: GetWallet answered ${grpc.status[read.err.code]} after ${read.ms.toFixed(0)} ms, CreditWallet ${grpc.status[write.err.code]} after ${write.ms.toFixed(0)} ms (deadline 1000 ms)`);
    assert.ok(read.ms < 1600 && write.ms < 1600, `answered after ${read.ms} / ${write.ms} ms (deadline 1000)`);
    await until(async () => (await healthStatus(wallet.healthClient)) === 'NOT_SERVING', 5000, 'NOT_SERVING');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // 5 s frozen in all
    const h = await stopSampling();
    report(t, `SIGSTOP: Health p99 ${h.p99.toFixed(1)} ms, max ${h.max.toFixed(1)} ms over ${h.n} checks; saw ${[...h.statuses]}`);
    assert.ok(h.p99 < 150, `Health p99 ${h.p99} ms while PostgreSQL is stopped`);
    thaw();
    thawed = true;
    const started = Date.now();
    await until(async () => (await timed(wallet.client, 'GetWallet', { user_id: x }, 1000)).err === null, 15000, 'first OK');
    report(t, `SIGSTOP: first OK GetWallet ${Date.now() - started} ms after SIGCONT`);
    await until(async () => (await healthStatus(wallet.healthClient)) === 'SERVING', 5000, 'SERVING');
    const credit = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000);
    assert.equal(credit.err, null, credit.err && credit.err.message);
  } finally {
    if (!thawed) thaw();
    await wallet.stop();
  }
});
