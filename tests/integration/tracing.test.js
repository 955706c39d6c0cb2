// W3C Trace Context and OTLP export (issue 22, item 3), with an OTLP/HTTP
// receiver of the test's own: a CreateUser -> CreateWallet -> GetUserById
// chain is one trace across both daemons, each span the child of the one
// that caused it (the caller's traceparent, server call, peer call, server
// call of the peer, statements); every log line of the calls names the
// trace and span; an unsampled caller is not exported, a malformed
// traceparent starts a new trace. (A collector that never answers:
// otlp_blackhole.test.js.)
// runs-under: valgrind
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { randomBytes } = require('node:crypto');
const { call, startPlatform, uniqueEmail, freePort } = require('./lib/harness');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Collects every span POSTed to /v1/traces, with its resource's service.name.
async function otlpReceiver(t) {
  const spans = [];
  const bodies = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      bodies.push(body);
      assert.equal(req.url, '/v1/traces');
      assert.equal(req.headers['content-type'], 'application/json');
      for (const rs of JSON.parse(body).resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name').value.stringValue;
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ service, ...s });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { endpoint: `http://127.0.0.1:${port}`, spans, bodies };
}

async function waitFor(what, fn, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const logLines = (daemon) => daemon.settledLog().split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('one trace through both daemons: ids, parent/child links, statements, log lines', async (t) => {
  const otlp = await otlpReceiver(t);
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = otlp.endpoint;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  let p;
  try {
    p = await startPlatform();
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  }
  t.after(() => p.stop());

  const traceId = randomBytes(16).toString('hex');
  const callerSpan = randomBytes(8).toString('hex');
  const email = uniqueEmail('trace');
  const created = await call(p.userClient, 'CreateUser', { email, name: 'Traced' }, {
    metadata: { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: 'vendor=opaque' },
  });
  assert.equal(created.err, null);

  const inTrace = () => otlp.spans.filter((s) => s.traceId === traceId);
  const find = (service, name, kind) => inTrace().find((s) => s.service === service && s.name === name && s.kind === kind);
  // Each daemon exports on its own schedule, and a server span ends only once
  // its answer is sent: wait for all five.
  await waitFor('the five spans of the chain', () => find('user-service', 'user.UserService/GetUserById', 2) &&
    find('user-service', 'user.UserService/CreateUser', 2) && find('user-service', 'wallet.WalletService/CreateWallet', 3) &&
    find('wallet-service', 'wallet.WalletService/CreateWallet', 2) && find('wallet-service', 'user.UserService/GetUserById', 3));
  const userServer = find('user-service', 'user.UserService/CreateUser', 2);
  const userClient = find('user-service', 'wallet.WalletService/CreateWallet', 3);
  const walletServer = find('wallet-service', 'wallet.WalletService/CreateWallet', 2);
  const walletClient = find('wallet-service', 'user.UserService/GetUserById', 3);
  const userServer2 = find('user-service', 'user.UserService/GetUserById', 2);
  for (const s of [userServer, userClient, walletServer, walletClient, userServer2]) assert.ok(s, 'every span of the chain');
  assert.equal(userServer.parentSpanId, callerSpan, 'the server call is the caller\'s child');
  assert.equal(userClient.parentSpanId, userServer.spanId);
  assert.equal(walletServer.parentSpanId, userClient.spanId, 'the peer\'s server span is the peer call\'s child');
  assert.equal(walletClient.parentSpanId, walletServer.spanId);
  assert.equal(userServer2.parentSpanId, walletClient.spanId);
  const ids = new Set(inTrace().map((s) => s.spanId));
  assert.equal(ids.size, inTrace().length, 'span ids are unique');
  for (const s of inTrace()) {
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
    assert.ok(Math.abs(Number(BigInt(s.startTimeUnixNano) / 1000000n) - Date.now()) < 60000, 'Unix times');
  }
  // Statements: children of their daemon's server span, named, no parameters.
  const statements = inTrace().filter((s) => s.attributes.some((a) => a.key === 'db.system'));
  const servers = new Map([userServer, walletServer, userServer2].map((s) => [s.spanId, s]));
  assert.ok(statements.length >= 3, `statements: ${statements.map((s) => s.name)}`);
  for (const s of statements) {
    assert.ok(servers.has(s.parentSpanId), `${s.name} is a child of a server span`);
    assert.equal(servers.get(s.parentSpanId).service, s.service);
    assert.match(s.name, /^[a-z_]+$/);
  }
  assert.ok(!otlp.bodies.some((b) => b.includes(email)), 'no parameter is exported');
  assert.equal(userServer.status.code, 0);
  assert.deepEqual(userServer.attributes.find((a) => a.key === 'rpc.method').value, { stringValue: 'CreateUser' });

  // Every log line of these calls names the trace and the span that logged it.
  const requestId = created.metadata.get('x-request-id')[0];
  const lines = [...logLines(p.user), ...logLines(p.wallet)].filter((l) => l.request_id === requestId);
  assert.ok(lines.length >= 3, `${lines.length} lines`);
  for (const l of lines) {
    assert.equal(l.trace_id, traceId, JSON.stringify(l));
    const span = l.service === 'user-service' && l.method === 'CreateUser' ? userServer.spanId
      : l.service === 'wallet-service' ? walletServer.spanId : userServer2.spanId;
    assert.equal(l.span_id, span, JSON.stringify(l));
  }

  // No traceparent: the daemon starts a trace, which the peer joins.
  const fresh = await call(p.userClient, 'CreateUser', { email: uniqueEmail('trace'), name: 'Root' });
  assert.equal(fresh.err, null);
  const rid = fresh.metadata.get('x-request-id')[0];
  const root = await waitFor('a root span', () => otlp.spans.find((s) => s.name === 'user.UserService/CreateUser' &&
    s.parentSpanId === '' && logLines(p.user).some((l) => l.request_id === rid && l.trace_id === s.traceId)));
  await waitFor('the peer joins the trace', () => otlp.spans.find((s) => s.traceId === root.traceId &&
    s.service === 'wallet-service' && s.name === 'wallet.WalletService/CreateWallet'));

  // A caller that did not sample: nothing exported, ids still in the logs.
  const unsampled = randomBytes(16).toString('hex');
  const quiet = await call(p.userClient, 'CreateUser', { email: uniqueEmail('trace'), name: 'Quiet' }, {
    metadata: { traceparent: `00-${unsampled}-${randomBytes(8).toString('hex')}-00` },
  });
  assert.equal(quiet.err, null);
  await sleep(500);
  assert.equal(otlp.spans.filter((s) => s.traceId === unsampled).length, 0);
  assert.ok(logLines(p.wallet).some((l) => l.trace_id === unsampled), 'the peer got the trace too');

  // A malformed traceparent is not joined: a new trace instead.
  const bad = await call(p.userClient, 'CreateUser', { email: uniqueEmail('trace'), name: 'Bad' }, {
    metadata: { traceparent: `00-${'0'.repeat(32)}-${callerSpan}-01` },
  });
  assert.equal(bad.err, null);
  const badLine = logLines(p.user).find((l) => l.request_id === bad.metadata.get('x-request-id')[0]);
  assert.match(badLine.trace_id, /^[0-9a-f]{32}$/);
  assert.notEqual(badLine.trace_id, '0'.repeat(32));
});

