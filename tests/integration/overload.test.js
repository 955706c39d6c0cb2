// Admission control (issue 11, item 3): 5,000 concurrent CreateUser calls,
// each with a 10 s deadline, over several connections. Each is answered OK
// or RESOURCE_EXHAUSTED, well inside its deadline; every OK user has its
// wallet and no refused one left a user behind. Before, fibers were capped
// at 512 with an unbounded FIFO behind them, and the GetUserById calls that
// CreateWallet makes back into user-service queued behind the CreateUsers
// waiting on them: above 512 concurrent calls every one timed out.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { call, sql, startPlatform, grpc, proto, loadGrpcProto } = require('./lib/harness');

const health = loadGrpcProto('grpc/health/v1/health.proto').grpc.health.v1;

const CALLS = Number(process.env.OVERLOAD_CALLS || 5000);
const CONNECTIONS = 5;
const DEADLINE_MS = 10000;

test(`${CALLS} concurrent CreateUser: OK or RESOURCE_EXHAUSTED, in time, no user without a wallet`, async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  // Distinct options make grpc-js open a connection per client.
  const clients = Array.from({ length: CONNECTIONS }, (_, i) => new proto.user.UserService(
    p.env.USER_SERVICE_URL, grpc.credentials.createInsecure(), { 'grpc.primary_user_agent': `overload-${i}` }));
  t.after(() => clients.forEach((c) => c.close()));
  const tag = `overload${process.pid}x${Date.now()}`;
  const started = Date.now();
  const storm = Promise.all(Array.from({ length: CALLS }, async (_, i) => {
    const r = await call(clients[i % CONNECTIONS], 'CreateUser', { email: `${tag}.${i}@example.com`, name: 'Load' },
      { timeoutMs: DEADLINE_MS });
    return { ...r, ms: Date.now() - started };
  }));
  // Health checks have fibers of their own: answered during the storm.
  const probe = new health.Health(p.env.USER_SERVICE_URL, grpc.credentials.createInsecure());
  t.after(() => probe.close());
  const checks = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const r = await new Promise((resolve) => probe.Check({ service: '' }, { deadline: new Date(Date.now() + 5000) },
      (err, res) => resolve({ err, res })));
    checks.push({ ...r, ms: Date.now() - t0 });
  }
  const results = await storm;
  t.diagnostic(`health checks during the storm (timed by this client, busy with the storm): ${checks.map((c) => `${c.err ? c.err.code : c.res.status} ${c.ms} ms`).join(', ')}`);
  assert.deepEqual(checks.map((c) => (c.err ? c.err.message : c.res.status)), Array(5).fill('SERVING'));
  const codes = {};
  for (const r of results) {
    const code = r.err ? grpc.status[r.err.code] : 'OK';
    codes[code] = (codes[code] || 0) + 1;
  }
  const slowest = Math.max(...results.map((r) => r.ms));
  t.diagnostic(`codes ${JSON.stringify(codes)}; slowest answer ${slowest} ms after the first call went out`);
  // Under AddressSanitizer the daemons run several times slower: a database
  // session can stall past the 3 s after a cancel at which it is dropped, and
  // the writes queued on it answer UNAVAILABLE (not applied; the count of
  // users below checks that). The plain build must refuse only by admission.
  const sanitized = fs.readFileSync(`/proc/${p.user.child.pid}/maps`, 'utf8').includes('libasan');
  const allowed = sanitized ? ['OK', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE'] : ['OK', 'RESOURCE_EXHAUSTED'];
  const odd = [...new Set(results.filter((r) => r.err && r.err.code !== grpc.status.RESOURCE_EXHAUSTED)
    .map((r) => `${grpc.status[r.err.code]}: ${r.err.details}`))];
  if (odd.length) t.diagnostic(`other answers: ${odd.join('; ')}`);
  assert.deepEqual(Object.keys(codes).filter((c) => !allowed.includes(c)), [], `${JSON.stringify(codes)} ${odd.join('; ')}`);
  assert.ok((codes.OK || 0) >= 100, `at least some calls served: ${JSON.stringify(codes)}`);
  // Well inside the deadline: refusals come at once, queued calls give up
  // after at most QUEUE_WAIT_MS (1 s), the calls served finish.
  assert.ok(slowest < DEADLINE_MS * 0.8, `slowest answer ${slowest} ms`);
  const ok = results.filter((r) => !r.err).map((r) => r.res.id);
  assert.equal(sql(`SELECT count(*) FROM "User" WHERE email LIKE '${tag}.%'`), String(ok.length));
  assert.equal(sql(`SELECT count(*) FROM "User" u JOIN "Wallet" w ON w."userId" = u.id WHERE u.email LIKE '${tag}.%'`),
    String(ok.length));
  // And the daemons still serve.
  const after = await call(p.userClient, 'CreateUser', { email: `${tag}.after@example.com`, name: 'After' });
  assert.equal(after.err, null);
});
