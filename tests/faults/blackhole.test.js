// Issue 11 items 1 and 2 through a fault-injecting proxy (lib/proxy.js).
// Mute: the credit reaches PostgreSQL and commits, its answer never comes
// back: the caller gets DEADLINE_EXCEEDED by its deadline, never
// UNAVAILABLE (which says "not applied, retry" and would double-credit).
// Black-hole: nothing moves either way; Health answers fast and says
// NOT_SERVING, calls meet their deadlines, and calls succeed soon after the
// path heals. Delay, then every connection cut (DB_SESSIONS=4): slow answers,
// then prompt UNAVAILABLE ones with a few log lines, and OK once let through.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { grpc, startWallet, makeWallet, balance, timed, sampleHealth, until, healthStatus, report, DATABASE_URL } =
  require('./lib/faults');
const { FaultProxy } = require('./lib/proxy');

function viaProxy(port) {
  const url = new URL(DATABASE_URL);
  url.port = String(port);
  return url.toString();
}

test('through a proxy that mutes, then black-holes the database', async (t) => {
  const proxy = new FaultProxy(Number(new URL(DATABASE_URL).port));
  const wallet = await startWallet(viaProxy(await proxy.listen()));
  try {
    const x = makeWallet();
    assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);

    proxy.set('mute');
    const lost = await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1000 }, 2000);
    report(t, `mute: credit answered ${lost.err ? grpc.status[lost.err.code] : 'OK'} after ${lost.ms.toFixed(0)} ms; balance ${balance(x)}`);
    assert.ok(lost.err, 'no answer came back');
    assert.equal(lost.err.code, grpc.status.DEADLINE_EXCEEDED, lost.err.message);
    assert.ok(lost.ms < 2600, `answered after ${lost.ms} ms (deadline 2000)`);
    assert.equal(balance(x), 1001, 'the credit did commit: UNAVAILABLE would have been a lie');
    // The client gives up at its deadline whatever the server does: what the
    // daemon answered, and when, is in its log line for the call.
    const answered = await until(() => wallet.daemon.log().split('\n')
      .some((l) => /"method":"CreditWallet","code":"(?!OK)/.test(l)), 10000, 'the daemon answers the muted credit');
    const line = JSON.parse(wallet.daemon.log().split('\n').find((l) => /"method":"CreditWallet","code":"(?!OK)/.test(l)));
    report(t, `mute: the daemon answered ${line.code} after ${line.duration_ms} ms (seen ${answered} ms after the client gave up)`);
    assert.equal(line.code, 'DEADLINE_EXCEEDED');
    assert.ok(line.duration_ms < 2600, `the daemon answered after ${line.duration_ms} ms (deadline 2000)`);

    proxy.set('blackhole');
    const stopSampling = sampleHealth(wallet.healthClient);
    const read = await timed(wallet.client, 'GetWallet', { user_id: x }, 1000);
    assert.ok(read.err);
    report(t, `black-hole: GetWallet answered ${grpc.status[read.err.code]} after ${read.ms.toFixed(0)} ms (deadline 1000 ms)`);
    assert.ok(read.ms < 1600, `GetWallet answered after ${read.ms} ms (deadline 1000)`);
    await until(async () => (await healthStatus(wallet.healthClient)) === 'NOT_SERVING', 6000, 'NOT_SERVING');
    // long enough for the sessions to be given up on and attempts to time out
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const h = await stopSampling();
    report(t, `black-hole: Health p99 ${h.p99.toFixed(1)} ms, max ${h.max.toFixed(1)} ms over ${h.n} checks; saw ${[...h.statuses]}`);
    assert.ok(h.p99 < 150, `Health p99 ${h.p99} ms during the black-hole`);

    proxy.set('pass');
    const healed = Date.now();
    await until(async () => (await timed(wallet.client, 'GetWallet', { user_id: x }, 1000)).err === null, 15000, 'first OK');
    report(t, `black-hole: first OK GetWallet ${Date.now() - healed} ms after the path healed`);
    await until(async () => (await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 1000)).err === null,
      15000, 'first OK write');
    report(t, `black-hole: first OK CreditWallet ${Date.now() - healed} ms after the path healed`);
  } finally {
    await wallet.stop();
    await proxy.close();
  }
});

test('through a proxy that delays, then cuts every connection: slow OKs, then prompt answers, few log lines, then OK', async (t) => {
  const proxy = new FaultProxy(Number(new URL(DATABASE_URL).port));
  const wallet = await startWallet(viaProxy(await proxy.listen()), { DB_SESSIONS: '4' });
  try {
    const x = makeWallet();
    assert.equal((await timed(wallet.client, 'GetWallet', { user_id: x }, 3000)).err, null);
    proxy.set('delay', 200); // each way: a slow network, not a broken one
    const [slowRead, slowWrite] = await Promise.all([
      timed(wallet.client, 'GetWallet', { user_id: x }, 3000),
      timed(wallet.client, 'CreditWallet', { user_id: x, amount: 2 }, 3000),
    ]);
    report(t, `delay 200 ms each way: GetWallet OK in ${slowRead.ms.toFixed(0)} ms, CreditWallet in ${slowWrite.ms.toFixed(0)} ms`);
    assert.equal(slowRead.err, null, slowRead.err && slowRead.err.message);
    assert.equal(slowWrite.err, null, slowWrite.err && slowWrite.err.message);
    assert.ok(slowRead.ms >= 380, `${slowRead.ms} ms: the delay did not apply`);
    proxy.set('drop');
    const answers = [];
    const until2s = Date.now() + 2000;
    while (Date.now() < until2s) {
      answers.push(await timed(wallet.client, 'GetWallet', { user_id: x }, 1000));
    }
    const slowest = Math.max(...answers.map((r) => r.ms));
    report(t, `cut: ${answers.length} GetWallet calls while every connection was cut, slowest ${slowest.toFixed(0)} ms`);
    for (const r of answers) assert.ok(r.err && r.err.code === grpc.status.UNAVAILABLE, r.err ? r.err.message : 'OK?');
    assert.ok(slowest < 1500, `a call took ${slowest} ms`);
    proxy.set('pass');
    const healed = Date.now();
    await until(async () => (await timed(wallet.client, 'GetWallet', { user_id: x }, 1000)).err === null, 10000, 'first OK');
    report(t, `cut: first OK GetWallet ${Date.now() - healed} ms after connections were let through`);
    const db = wallet.daemon.log().split('\n').filter((l) => /"msg":"database (?!statement|unavailable")/.test(l));
    assert.ok(db.length <= 15, `${db.length} database log lines:\n${db.slice(0, 30).join('\n')}`);
  } finally {
    await wallet.stop();
    await proxy.close();
  }
});
