// GET /metrics on each daemon's own port: the Prometheus text parses, every
// method x code series exists from the start, and the counters, histograms,
// peer-call counts and database gauges move exactly as the calls made here.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, rawCall, startPlatform, uniqueEmail, grpc } = require('./lib/harness');

const MISSING = '00000000-0000-4000-8000-000000000000';
const CODES = Object.keys(grpc.status).filter((k) => Number.isNaN(Number(k)));
const WALLET_METHODS = ['CreateWallet', 'GetWallet', 'CreditWallet', 'DebitWallet'];
const USER_METHODS = ['CreateUser', 'GetUserById'];

// The text exposition format (0.0.4) -> [{ name, labels, value }], checking
// that every sample belongs to a family declared by a # TYPE line before it.
function parse(text) {
  const samples = [];
  const types = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
    if (type) { types.set(type[1], type[2]); continue; }
    if (line.startsWith('#')) { assert.match(line, /^# HELP \w+ .+$/); continue; }
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `malformed line: ${line}`);
    const labels = {};
    for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1]] = l[2];
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(m[1]) || types.get(family) === 'histogram', `no # TYPE before ${m[1]}`);
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

// Sum of the samples named name whose labels include match (0 when none).
function sum(samples, name, match = {}) {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

// Per method: started = handled = histogram count = +Inf bucket, buckets rising.
function consistent(samples, side, service, methods) {
  return methods.every((grpc_method) => {
    const m = { grpc_service: service, grpc_method };
    const handled = sum(samples, `grpc_${side}_handled_total`, m);
    const buckets = samples.filter((s) => s.name === `grpc_${side}_handling_seconds_bucket` &&
      s.labels.grpc_method === grpc_method && s.labels.grpc_service === service).map((s) => s.value);
    return sum(samples, `grpc_${side}_started_total`, m) === handled &&
      sum(samples, `grpc_${side}_handling_seconds_count`, m) === handled &&
      buckets.every((v, i) => i === 0 || v >= buckets[i - 1]) &&
      (buckets.length === 0 ? handled === 0 : buckets[buckets.length - 1] === handled);
  });
}

// A call is counted as its answer finishes going out, just after the caller
// has it: scrape until the expected counts are there, then judge exactly.
async function settle(port, ready) {
  const end = Date.now() + 5000;
  let samples = await scrape(port);
  while (!ready(samples) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    samples = await scrape(port);
  }
  return samples;
}

test('metrics endpoint', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());

  await t.test('every method x code is there at 0 before any call', async () => {
    for (const [port, service, methods] of [[p.walletMetricsPort, 'wallet.WalletService', WALLET_METHODS],
      [p.userMetricsPort, 'user.UserService', USER_METHODS]]) {
      const s = await scrape(port);
      for (const grpc_method of methods) {
        const m = { grpc_type: 'unary', grpc_service: service, grpc_method };
        assert.equal(s.filter((x) => x.name === 'grpc_server_started_total' && x.labels.grpc_method === grpc_method).length, 1);
        for (const grpc_code of CODES) {
          const series = s.filter((x) => x.name === 'grpc_server_handled_total' &&
            Object.entries({ ...m, grpc_code }).every(([k, v]) => x.labels[k] === v));
          assert.equal(series.length, 1, `${service}/${grpc_method} ${grpc_code}`);
        }
        assert.equal(s.filter((x) => x.name === 'grpc_server_handling_seconds_bucket' && x.labels.grpc_method === grpc_method).length, 15);
      }
      assert.ok(consistent(s, 'server', service, methods));
    }
  });

  await t.test('GetWallet outcomes are counted exactly', async () => {
    const created = await call(p.userClient, 'CreateUser', { email: uniqueEmail('metrics'), name: 'M' });
    assert.equal(created.err, null);
    const ready0 = (s) => sum(s, 'grpc_server_handled_total', { grpc_method: 'CreateWallet' }) >= 1 &&
      consistent(s, 'server', 'wallet.WalletService', WALLET_METHODS);
    const before = await settle(p.walletMetricsPort, ready0);
    assert.ok(ready0(before));

    for (let i = 0; i < 3; i++) assert.equal((await call(p.walletClient, 'GetWallet', { user_id: created.res.id })).err, null);
    assert.equal((await call(p.walletClient, 'GetWallet', { user_id: MISSING })).err.code, grpc.status.NOT_FOUND);
    assert.equal((await call(p.walletClient, 'GetWallet', { user_id: 'abc' })).err.code, grpc.status.INVALID_ARGUMENT);
    const get = { grpc_service: 'wallet.WalletService', grpc_method: 'GetWallet' };
    const delta = (s, name, extra = {}) => sum(s, name, { ...get, ...extra }) - sum(before, name, { ...get, ...extra });
    const after = await settle(p.walletMetricsPort, (s) => delta(s, 'grpc_server_handled_total') >= 5 &&
      consistent(s, 'server', 'wallet.WalletService', WALLET_METHODS));

    for (const grpc_code of CODES) {
      const want = { OK: 3, NOT_FOUND: 1, INVALID_ARGUMENT: 1 }[grpc_code] || 0;
      assert.equal(delta(after, 'grpc_server_handled_total', { grpc_code }), want, grpc_code);
    }
    assert.equal(delta(after, 'grpc_server_started_total'), 5);
    assert.equal(delta(after, 'grpc_server_handling_seconds_count'), 5);
    assert.ok(delta(after, 'grpc_server_handling_seconds_sum') > 0);
    assert.ok(consistent(after, 'server', 'wallet.WalletService', WALLET_METHODS));
    for (const grpc_method of ['CreateWallet', 'CreditWallet', 'DebitWallet']) {
      assert.equal(sum(after, 'grpc_server_handled_total', { grpc_method }), sum(before, 'grpc_server_handled_total', { grpc_method }));
    }
  });

  await t.test('peer calls are counted on the calling side', async () => {
    const cw = { grpc_service: 'wallet.WalletService', grpc_method: 'CreateWallet' };
    const gu = { grpc_service: 'user.UserService', grpc_method: 'GetUserById' };
    const userBefore = await scrape(p.userMetricsPort);
    const walletBefore = await scrape(p.walletMetricsPort);
    assert.equal((await call(p.userClient, 'CreateUser', { email: uniqueEmail('peer'), name: 'P' })).err, null);
    const delta = (s, before, name, m) => sum(s, name, m) - sum(before, name, m);
    const userAfter = await settle(p.userMetricsPort, (s) => delta(s, userBefore, 'grpc_server_handled_total', { grpc_method: 'CreateUser' }) >= 1 &&
      consistent(s, 'server', 'user.UserService', USER_METHODS));
    const walletAfter = await settle(p.walletMetricsPort, (s) => delta(s, walletBefore, 'grpc_server_handled_total', { grpc_method: 'CreateWallet' }) >= 1);

    assert.equal(delta(userAfter, userBefore, 'grpc_client_handled_total', { ...cw, grpc_code: 'OK' }), 1);
    assert.equal(delta(userAfter, userBefore, 'grpc_client_handled_total', cw), 1);
    assert.equal(delta(userAfter, userBefore, 'grpc_client_started_total', cw), 1);
    assert.equal(delta(userAfter, userBefore, 'grpc_client_handling_seconds_count', cw), 1);
    assert.equal(userAfter.filter((s) => s.name === 'grpc_client_handled_total' && s.labels.grpc_method === 'CreateWallet').length, CODES.length);
    assert.ok(consistent(userAfter, 'client', 'wallet.WalletService', ['CreateWallet']));
    // wallet-service checked the user with user-service's GetUserById.
    assert.equal(delta(walletAfter, walletBefore, 'grpc_client_handled_total', { ...gu, grpc_code: 'OK' }), 1);
    // ...which user-service served and counted.
    assert.equal(delta(userAfter, userBefore, 'grpc_server_handled_total', { grpc_method: 'GetUserById', grpc_code: 'OK' }), 1);
  });

  await t.test('unknown methods are not counted', async () => {
    const r = await rawCall(p.env.WALLET_SERVICE_URL, '/wallet.WalletService/NoSuchMethod', Buffer.alloc(0));
    assert.equal(r.err.code, grpc.status.UNIMPLEMENTED);
    const s = await scrape(p.walletMetricsPort);
    assert.equal(s.filter((x) => x.labels.grpc_method === 'NoSuchMethod').length, 0);
  });

  await t.test('database sessions are all up', async () => {
    for (const port of [p.userMetricsPort, p.walletMetricsPort]) {
      const s = await scrape(port);
      assert.ok(sum(s, 'db_pool_connections', { state: 'up' }) >= Number(p.env.DB_SESSIONS));
      assert.equal(sum(s, 'db_pool_connections', { state: 'down' }), 0);
    }
  });

  await t.test('other paths and methods are refused', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${p.userMetricsPort}/`)).status, 404);
    const post = await fetch(`http://127.0.0.1:${p.userMetricsPort}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
  });
});
