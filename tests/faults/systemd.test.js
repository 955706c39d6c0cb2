// systemd integration (issue 22, item 2), with a notification socket of the
// test's own since systemd is not PID 1 here: READY=1 only once the daemon
// listens with its statements prepared (never for one that cannot start),
// STATUS lines that follow the database, watchdog pings from the loop that
// serves calls -- which a slow (black-holed) database does not stop and a
// debugger-like stall of that thread does -- and STOPPING=1 when the drain
// begins.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { grpc, startWallet, makeWallet, timed, until, report, DATABASE_URL } = require('./lib/faults');
const { FaultProxy } = require('./lib/proxy');
const { NotifySocket, threadId, stallThread } = require('./lib/notify');
const { Daemon, freePort, proto } = require('../integration/lib/harness');

const PING_US = 300000; // WATCHDOG_USEC: pings every 150 ms
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function viaProxy(port) {
  const url = new URL(DATABASE_URL);
  url.port = String(port);
  return url.toString();
}

function connects(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

test('READY once listening and prepared; STATUS follows the database; pings survive a black-holed database, stop while the serving thread is stalled; STOPPING on drain', async (t) => {
  const notify = await NotifySocket.open();
  t.after(() => notify.close());
  const proxy = new FaultProxy(Number(new URL(DATABASE_URL).port));
  const url = viaProxy(await proxy.listen());
  t.after(() => { proxy.set('pass'); return proxy.close(); });

  // The moment READY arrives the port must accept connections.
  let listeningAtReady = null;
  const port = await freePort();
  const watchReady = setInterval(async () => {
    if (listeningAtReady === null && notify.having('READY=1').length) {
      listeningAtReady = false;
      listeningAtReady = await connects(port);
    }
  }, 2);
  t.after(() => clearInterval(watchReady));
  const daemon = new Daemon('wallet-service', {
    DATABASE_URL: url, WALLET_SERVICE_URL: `127.0.0.1:${port}`, USER_SERVICE_URL: `127.0.0.1:${await freePort()}`,
    METRICS_ADDR: '0', DRAIN_SECONDS: '2', NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(PING_US),
  });
  await daemon.start(port);
  t.after(() => daemon.stop('SIGKILL'));
  const client = new proto.wallet.WalletService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  const wallet = { daemon, client };
  await until(() => notify.having('READY=1').length === 1, 5000, 'READY=1');
  const ready = notify.having('READY=1')[0];
  assert.match(ready.text, /STATUS=serving/);
  assert.equal(notify.messages.filter((m) => m.at < ready.at && !/^WATCHDOG=1$/.test(m.text)).length, 0,
    'nothing but pings before READY');

  const x = makeWallet();
  assert.equal((await timed(wallet.client, 'CreditWallet', { user_id: x, amount: 1 }, 3000)).err, null);

  // Pings at the rate WATCHDOG_USEC asks (half of it), from the serving loop.
  const w0 = Date.now();
  await sleep(1500);
  const steady = notify.pings(w0, Date.now()).length;
  report(t, `watchdog: ${steady} pings in 1.5 s with WATCHDOG_USEC=${PING_US}`);
  assert.ok(steady >= 6 && steady <= 12, `${steady} pings in 1.5 s (expected ~10)`);

  // A database that does not answer: calls wait on it, the loop does not.
  proxy.set('blackhole');
  const b0 = Date.now();
  const stuck = Promise.all([1, 2, 3].map(() => timed(wallet.client, 'GetWallet', { user_id: x }, 2500)));
  await until(() => notify.having('STATUS=database unreachable').length > 0, 6000, 'STATUS=database unreachable');
  const answers = await stuck;
  assert.ok(answers.every((r) => r.err), 'calls fail while the database is black-holed');
  const b1 = Date.now();
  const during = notify.pings(b0, b1).length;
  const expected = (b1 - b0) / (PING_US / 2000);
  report(t, `black-holed database: ${during} pings in ${b1 - b0} ms (~${expected.toFixed(0)} expected)`);
  assert.ok(during >= expected * 0.6, `a slow database is not a frozen daemon: ${during} pings in ${b1 - b0} ms`);
  proxy.set('pass');
  await until(() => notify.having('STATUS=serving').length >= 2, 10000, 'STATUS=serving again');

  // A debugger stops the serving thread: the pings stop with it, and come back.
  const tid = threadId(wallet.daemon.child.pid, 'grpc-poller');
  const { stoppedAt, resumedAt } = await stallThread(tid, 1500);
  const stalled = notify.pings(stoppedAt + 50, resumedAt).length;
  report(t, `stalled serving thread: ${stalled} pings in ${resumedAt - stoppedAt} ms`);
  assert.equal(stalled, 0, 'no pings while the serving thread is stopped');
  await until(() => notify.pings(resumedAt).length >= 2, 3000, 'pings again after the stall');
  assert.equal((await timed(wallet.client, 'GetWallet', { user_id: x }, 3000)).err, null);

  wallet.daemon.child.kill('SIGTERM');
  await until(() => notify.having('STOPPING=1').length === 1, 5000, 'STOPPING=1');
  assert.match(notify.having('STOPPING=1')[0].text, /STATUS=draining/);
  assert.equal((await wallet.daemon.exited).code, 0);
  assert.equal(listeningAtReady, true, 'the port accepted connections when READY arrived');
});

test('never READY when the database cannot be reached; no pings meant for another process', async (t) => {
  const notify = await NotifySocket.open();
  t.after(() => notify.close());
  const dead = viaProxy(await freePort()); // nobody listens there
  const port = await freePort();
  const d = new Daemon('wallet-service', {
    DATABASE_URL: dead, WALLET_SERVICE_URL: `127.0.0.1:${port}`, USER_SERVICE_URL: `127.0.0.1:${await freePort()}`,
    METRICS_ADDR: '0', NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(PING_US),
  });
  await assert.rejects(d.start(port), /exited with 1/);
  await sleep(100);
  assert.deepEqual(notify.having('READY=1'), [], 'no READY from a daemon that did not start');

  // WATCHDOG_PID names another process (the environment was inherited): no pings.
  const wallet = await startWallet(DATABASE_URL, { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(PING_US), WATCHDOG_PID: '1' });
  t.after(() => wallet.daemon.stop('SIGKILL'));
  await until(() => notify.having('READY=1').length === 1, 5000, 'READY=1');
  await sleep(600);
  assert.equal(notify.pings().length, 0, 'pings only for the process WATCHDOG_PID names');
  await wallet.stop();
});
