// x-request-id: a caller's id (or a fresh UUID) comes back in the response's
// initial metadata, travels with the service-to-service call, and is on the
// log lines of the call in both daemons.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { call, startPlatform, uniqueEmail } = require('./lib/harness');

// The peer-call lines are debug lines; this file's daemons log them.
process.env.LOG_LEVEL = 'debug';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// The JSON lines of daemon carrying request id, once they include every line
// wanted (a call's line is written as its answer finishes going out).
async function linesOf(daemon, id, wanted) {
  const end = Date.now() + 5000;
  for (;;) {
    const lines = daemon.settledLog().split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .filter((l) => l.request_id === id);
    if (wanted.every((w) => lines.some(w)) || Date.now() > end) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// CreateUser with the given metadata: its id is echoed, and both daemons log
// it on every line of the chain CreateUser -> CreateWallet -> GetUserById.
async function checkChain(p, metadata) {
  const r = await call(p.userClient, 'CreateUser', { email: uniqueEmail('rid'), name: 'R' }, { metadata });
  assert.equal(r.err, null);
  const echoed = r.metadata.get('x-request-id');
  assert.equal(echoed.length, 1);
  const id = echoed[0];

  const served = (method) => (l) => l.method === method && l.code === 'OK' && typeof l.duration_ms === 'number';
  const peer = (path) => (l) => l.method === path && /^peer call/.test(l.msg);
  const userWanted = [served('CreateUser'), peer('/wallet.WalletService/CreateWallet'), served('GetUserById')];
  const walletWanted = [served('CreateWallet'), peer('/user.UserService/GetUserById')];
  const userLines = await linesOf(p.user, id, userWanted);
  const walletLines = await linesOf(p.wallet, id, walletWanted);
  userWanted.forEach((w, i) => assert.ok(userLines.some(w), `user-service line ${i} for ${id}:\n${p.user.log()}`));
  walletWanted.forEach((w, i) => assert.ok(walletLines.some(w), `wallet-service line ${i} for ${id}:\n${p.wallet.log()}`));
  return id;
}

test('request ids', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());

  await t.test("a caller's id is echoed and logged by both daemons", async () => {
    const id = `it-${crypto.randomBytes(8).toString('hex')}`;
    assert.equal(await checkChain(p, { 'x-request-id': id }), id);
  });

  await t.test('without one, a UUID is generated, echoed and passed on', async () => {
    assert.match(await checkChain(p, {}), UUID);
  });

  await t.test('an unusable id is replaced by a UUID', async () => {
    assert.match(await checkChain(p, { 'x-request-id': 'x'.repeat(200) }), UUID);
  });

  await t.test('failed calls echo the id too', async () => {
    const id = `it-${crypto.randomBytes(8).toString('hex')}`;
    const r = await call(p.walletClient, 'GetWallet', { user_id: 'abc' }, { metadata: { 'x-request-id': id } });
    assert.equal(r.err.code, 3);
    assert.deepEqual(r.metadata.get('x-request-id'), [id]);
    const lines = await linesOf(p.wallet, id, [(l) => l.code === 'INVALID_ARGUMENT']);
    assert.ok(lines.some((l) => l.method === 'GetWallet' && l.code === 'INVALID_ARGUMENT'));
  });
});
