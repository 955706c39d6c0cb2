// CreateUser with an idempotency key: a retry gets the same user, a taken
// email stays the key's answer, a creation undone because wallet-service was
// down frees the key for the retry, and concurrent duplicates create one user.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { call, sql, startPlatform, uniqueEmail, grpc, proto, operationId } = require('./lib/harness');

const S = grpc.status;
const newKey = () => `user-${crypto.randomUUID()}`;
const usersWith = (email) => Number(sql(`SELECT count(*) FROM "User" WHERE email = '${email}'`));

test('CreateUser with an idempotency key', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const u = p.userClient;

  await t.test('a retry answers the same user, marked replayed; one user exists', async () => {
    const req = { email: uniqueEmail('keyed'), name: 'Keyed', idempotency_key: newKey() };
    const first = await call(u, 'CreateUser', req);
    assert.equal(first.err, null);
    const again = await call(u, 'CreateUser', req);
    assert.equal(again.err, null);
    assert.deepEqual(again.res, first.res);
    assert.deepEqual(again.metadata.get('idempotent-replayed'), ['true']);
    assert.equal(usersWith(req.email), 1);
    const other = await call(u, 'CreateUser', { ...req, name: 'Someone else' });
    assert.equal(other.err.code, S.INVALID_ARGUMENT);
    assert.match(other.err.details, /idempotency_key/);
  });

  await t.test('a taken email is the key\'s stored answer', async () => {
    const email = uniqueEmail('taken');
    await call(u, 'CreateUser', { email, name: 'First' });
    const req = { email, name: 'Second', idempotency_key: newKey() };
    const first = await call(u, 'CreateUser', req);
    assert.equal(first.err.code, S.ALREADY_EXISTS);
    sql(`DELETE FROM "User" WHERE email = '${email}'`); // the email is free now, but the key answered already
    const again = await call(u, 'CreateUser', req);
    assert.equal(again.err && again.err.code, S.ALREADY_EXISTS);
    assert.equal(usersWith(email), 0);
  });

  await t.test('a creation undone (wallet-service down) frees the key for the retry', async () => {
    const req = { email: uniqueEmail('undone'), name: 'Undone', idempotency_key: newKey() };
    await p.wallet.stop();
    const down = await call(u, 'CreateUser', req);
    assert.equal(down.err.code, S.UNAVAILABLE);
    assert.equal(sql(`SELECT count(*) FROM "Operation" WHERE id = '${operationId(req.idempotency_key, '/user.UserService/CreateUser')}'`), '0');
    await p.wallet.start(p.walletPort);
    const retry = await call(u, 'CreateUser', req);
    assert.equal(retry.err, null);
    assert.deepEqual(retry.metadata.get('idempotent-replayed'), []);
    assert.equal(usersWith(req.email), 1);
  });

  await t.test('16 clients creating one user under one key at once: one user, with its wallet', async () => {
    const req = { email: uniqueEmail('herd'), name: 'Herd', idempotency_key: newKey() };
    const clients = Array.from({ length: 16 }, () =>
      new proto.user.UserService(p.env.USER_SERVICE_URL, grpc.credentials.createInsecure()));
    const results = await Promise.all(clients.map((c) => call(c, 'CreateUser', req)));
    for (const c of clients) c.close();
    const ok = results.filter((r) => r.err === null);
    const aborted = results.filter((r) => r.err && r.err.code === S.ABORTED);
    assert.equal(ok.length + aborted.length, 16, JSON.stringify(results.filter((r) => r.err).map((r) => r.err.details)));
    assert.ok(ok.length >= 1);
    assert.equal(new Set(ok.map((r) => r.res.id)).size, 1);
    assert.equal(sql(`SELECT count(*) FROM "User" u JOIN "Wallet" w ON w."userId" = u.id WHERE u.email = '${req.email}'`), '1');
  });
});
