// Issue 19 defect 6: reconnects back off whatever the traffic. Against a
// database that refuses every connection (the proxy in drop mode counts
// each attempt), calls at ~20/s must not bring attempts forward: at most
// one attempt per session per backoff step (capped at 2 s, drawn from its
// upper half, so at most one per second per session once at the cap), plus
// the health probe's one per second. At 36789b1 every waiting call
// hurried its session: 25-41 attempts/s.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { grpc, startWallet, makeWallet, timed, report, DATABASE_URL } = require('./lib/faults');
const { FaultProxy } = require('./lib/proxy');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SESSIONS = 2; // DB_SESSIONS

test('connection attempts against a down database stay at the backoff rate under load', async (t) => {
  const proxy = new FaultProxy(Number(new URL(DATABASE_URL).port));
  const url = new URL(DATABASE_URL);
  url.port = String(await proxy.listen());
  const wallet = await startWallet(url.toString(), { DB_SESSIONS: String(SESSIONS) });
  t.after(async () => { await wallet.stop(); await proxy.close(); });
  const x = makeWallet();
  assert.equal((await timed(wallet.client, 'GetWallet', { user_id: x }, 3000)).err, null);

  proxy.set('drop');
  let running = true;
  const codes = new Map();
  const load = (async () => { // ~20 calls/s, reads and writes, each with a 1 s deadline
    for (let i = 0; running; i++) {
      const method = i % 2 ? 'GetWallet' : 'CreditWallet';
      timed(wallet.client, method, { user_id: x, amount: 1 }, 1000).then((r) => {
        const code = r.err ? grpc.status[r.err.code] : 'OK';
        codes.set(code, (codes.get(code) || 0) + 1);
      });
      await sleep(50);
    }
  })();
  await sleep(3000); // the backoff reaches its cap (100, 200, 400, 800, 1600, 2000 ms)
  const before = proxy.accepted;
  const windowMs = 6000;
  await sleep(windowMs);
  const attempts = proxy.accepted - before;
  running = false;
  await load;
  await sleep(1100);
  const perSecond = attempts / (windowMs / 1000);
  report(t, `down database under ~20 req/s: ${perSecond.toFixed(1)} connection attempts/s ` +
    `(${SESSIONS} sessions + health probe); answers ${JSON.stringify(Object.fromEntries(codes))}`);
  // sessions at <= 1/s each, the probe at <= 1/s, and one step of slack each
  const bound = (SESSIONS + 1) * (windowMs / 1000 + 1);
  assert.ok(attempts <= bound, `${attempts} attempts in ${windowMs} ms (at most ${bound})`);
  assert.ok(!codes.has('OK'), 'nothing succeeds against a down database');

  proxy.set('pass'); // and it comes back within a backoff step
  let back = false;
  for (const started = Date.now(); !back && Date.now() - started < 5000; await sleep(100))
    back = (await timed(wallet.client, 'GetWallet', { user_id: x }, 1000)).err === null;
  assert.ok(back, 'reads succeed again within 5 s of the database returning');
});
