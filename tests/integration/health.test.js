// grpc.health.v1.Health with plain @grpc/grpc-js and Debian's health.proto:
// Check for the daemon and its service, NOT_FOUND for other names, Watch
// streams; NOT_SERVING while the database cannot be reached (the daemons
// reach it through a TCP relay these tests cut and restore) and at drain.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { grpc, startPlatform, freePort, Daemon, DATABASE_URL, loadGrpcProto } = require('./lib/harness');

const health = loadGrpcProto('grpc/health/v1/health.proto').grpc.health.v1;

function check(client, service) {
  return new Promise((resolve) => {
    client.Check({ service }, { deadline: new Date(Date.now() + 5000) }, (err, res) => resolve({ err, res }));
  });
}

// A Watch stream whose statuses are collected; next(status) resolves when
// that status arrives after the one the previous next() matched.
function watch(client, service) {
  const call = client.Watch({ service });
  const seen = [];
  let cursor = 0;
  let waiter = null;
  const take = () => {
    if (!waiter) return;
    const i = seen.indexOf(waiter.status, cursor);
    if (i >= 0) { cursor = i + 1; const w = waiter; waiter = null; w.resolve(); }
  };
  call.on('data', (res) => { seen.push(res.status); take(); });
  const ended = new Promise((resolve) => { call.on('error', resolve); call.on('end', () => resolve(null)); });
  return {
    call, seen, ended,
    next(status, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${status} within ${timeoutMs} ms; saw ${seen}`)), timeoutMs);
        waiter = { status, resolve: () => { clearTimeout(t); resolve(); } };
        take();
      });
    },
  };
}

test('Check answers SERVING for "" and the service, NOT_FOUND for other names', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  for (const [port, name] of [[p.userPort, 'user.UserService'], [p.walletPort, 'wallet.WalletService']]) {
    const client = new health.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    for (const service of ['', name]) {
      const { err, res } = await check(client, service);
      assert.equal(err, null);
      assert.equal(res.status, 'SERVING');
    }
    const { err } = await check(client, 'nope');
    assert.equal(err.code, grpc.status.NOT_FOUND);
    client.close();
  }
});

test('Watch sends SERVING, then NOT_SERVING and ends when the daemon drains', async () => {
  const p = await startPlatform();
  const client = new health.Health(`127.0.0.1:${p.userPort}`, grpc.credentials.createInsecure());
  const w = watch(client, '');
  await w.next('SERVING');
  const unknown = watch(client, 'nope');
  await unknown.next('SERVICE_UNKNOWN');
  unknown.call.cancel(); // a client going away ends its stream on the server
  await unknown.ended;
  const [user] = await p.stop();
  assert.equal(user.code, 0, 'the drain did not wait for the Watch stream');
  const err = await w.ended;
  assert.deepEqual(w.seen, ['SERVING', 'NOT_SERVING']);
  assert.equal(err.code, grpc.status.UNAVAILABLE);
  client.close();
  // Each stream leaves one line when it ends, like a unary call.
  const lines = p.user.settledLog().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((l) => l.method === 'Health/Watch' && typeof l.duration_ms === 'number');
  assert.equal(lines.length, 2, p.user.log());
  assert.ok(lines.every((l) => /^[0-9a-f-]{36}$/.test(l.request_id)), JSON.stringify(lines));
  assert.deepEqual(lines.map((l) => l.code).sort(), ['CANCELLED', 'UNAVAILABLE'].sort(), JSON.stringify(lines));
});

// Forwards connections to the real database until cut().
async function relay(target) {
  const port = await freePort();
  const sockets = new Set();
  let server;
  const open = () => new Promise((resolve) => {
    server = net.createServer((inbound) => {
      const outbound = net.connect(target.port, target.hostname);
      for (const s of [inbound, outbound]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); }
      inbound.pipe(outbound).pipe(inbound);
    });
    server.listen(port, '127.0.0.1', resolve);
  });
  await open();
  return {
    port,
    restore: open,
    cut() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

test('NOT_SERVING while the database is unreachable, SERVING when it is back', async (t) => {
  const url = new URL(DATABASE_URL);
  const r = await relay({ hostname: url.hostname, port: Number(url.port) });
  url.hostname = '127.0.0.1';
  url.port = String(r.port);
  const port = await freePort();
  const env = { DATABASE_URL: url.toString(), USER_SERVICE_URL: `127.0.0.1:${port}`,
    WALLET_SERVICE_URL: `127.0.0.1:${await freePort()}`, DB_SESSIONS: '2' };
  const daemon = new Daemon('user-service', env);
  await daemon.start(port);
  const client = new health.Health(env.USER_SERVICE_URL, grpc.credentials.createInsecure());
  t.after(async () => { client.close(); await daemon.stop(); await r.cut(); });
  const w = watch(client, 'user.UserService');
  await w.next('SERVING');
  await r.cut();
  await w.next('NOT_SERVING');
  assert.equal((await check(client, '')).res.status, 'NOT_SERVING');
  await r.restore();
  await w.next('SERVING');
  assert.deepEqual(w.seen, ['SERVING', 'NOT_SERVING', 'SERVING']);
  assert.equal((await check(client, '')).res.status, 'SERVING');
  w.call.cancel();
});
