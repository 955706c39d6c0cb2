// Issue 19, defects 1 and 8b: CreateUser's undo never removes anything
// acknowledged, one key has one answer, "not applied" is said only when
// nothing stays, and a creation whose user-service died half-way is finished
// by a retry with its key long before the 5-minute sweep. Real daemons; the
// peer link (user-service -> wallet-service) and user-service's database
// link go through fault proxies (lib/pair.js).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { grpc, psql, until, DATABASE_URL } = require('./lib/faults');
const { startPair } = require('./lib/pair');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function call(client, method, request, timeoutMs = 10000) {
  return new Promise((resolve) => {
    client[method](request, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => resolve({ err, res }));
  });
}

const userIds = (email) => psql(DATABASE_URL, `SELECT id FROM "User" WHERE email = '${email}'`).split('\n').filter(Boolean);
const walletOf = (userId) => psql(DATABASE_URL, `SELECT balance FROM "Wallet" WHERE "userId" = '${userId}'`);

test('CreateUser under a faulty peer link and a dying user-service', async (t) => {
  const p = await startPair();
  t.after(() => p.stop());
  const warm = await call(p.userClient, 'CreateUser', { email: `warm-${crypto.randomUUID()}@faults.test`, name: 'W' });
  assert.equal(warm.err, null, warm.err && warm.err.message);

  await t.test('a wallet whose answer comes after the peer deadline is kept, with its credit and its key', async () => {
    const key = `late-${crypto.randomUUID()}`;
    const req = { email: `${key}@faults.test`, name: 'Late', idempotency_key: key };
    p.peerProxy.set('delay-down', 7000); // wallet-service works at once; user-service hears after its 5 s cap
    let first;
    try {
      first = call(p.userClient, 'CreateUser', req, 30000);
      await until(() => userIds(req.email).length === 1 && walletOf(userIds(req.email)[0]) !== '', 4000,
        'the wallet committed');
      const retry = await call(p.userClient, 'CreateUser', req);
      assert.equal(retry.err, null, retry.err && retry.err.message);
      const credit = { user_id: retry.res.id, amount: 5000, idempotency_key: `${key}-credit` };
      assert.equal((await call(p.walletClient, 'CreditWallet', credit)).err, null);
      first = await first;
      assert.equal(first.err, null, first.err && `${grpc.status[first.err.code]}: ${first.err.message}`);
      assert.equal(first.res.id, retry.res.id, 'one key, one user');
      const again = await call(p.userClient, 'CreateUser', req);
      assert.equal(again.err, null, again.err && again.err.message);
      assert.equal(again.res.id, retry.res.id, 'one key, one user');
      assert.deepEqual(userIds(req.email), [retry.res.id]);
      assert.equal(walletOf(retry.res.id), '5000', 'the acknowledged credit stays');
      const creditAgain = await call(p.walletClient, 'CreditWallet', credit);
      assert.equal(creditAgain.err, null, creditAgain.err && creditAgain.err.message);
      assert.equal(creditAgain.res.balance, 5000);
    } finally {
      p.peerProxy.set('pass');
    }
  });

  await t.test('a failed wallet whose undo cannot run is not answered UNAVAILABLE', async (t) => {
    const key = `undo-${crypto.randomUUID()}`;
    const req = { email: `${key}@faults.test`, name: 'Undo', idempotency_key: key };
    p.peerProxy.set('blackhole'); // CreateWallet hangs
    let r;
    try {
      const pending = call(p.userClient, 'CreateUser', req, 30000);
      await until(() => userIds(req.email).length === 1, 4000, 'the user committed');
      p.dbProxy.set('drop'); // user-service loses its database: the undo cannot run
      p.peerProxy.set('drop'); // then CreateWallet fails at once: UNAVAILABLE from the peer
      r = await pending;
    } finally {
      p.peerProxy.set('pass');
      p.dbProxy.set('pass');
    }
    t.diagnostic(`undo impossible: answered ${r.err ? grpc.status[r.err.code] + ' ' + r.err.message : 'OK'}`);
    assert.ok(r.err, 'answered OK without a wallet');
    assert.equal(userIds(req.email).length, 1, 'the user stays (the undo could not run)');
    assert.notEqual(r.err.code, grpc.status.UNAVAILABLE, `"not applied" while the user stays: ${r.err.message}`);
    // A retry with the key settles it: the creation is finished (or undone and made anew), one user.
    let settled;
    await until(async () => {
      settled = await call(p.userClient, 'CreateUser', req);
      return !settled.err || settled.err.code !== grpc.status.ABORTED;
    }, 40000, 'a retry settles the creation');
    assert.equal(settled.err, null, settled.err && settled.err.message);
    assert.deepEqual(userIds(req.email), [settled.res.id]);
    assert.equal(walletOf(settled.res.id), '0');
  });

  await t.test('a creation whose user-service was killed is finished by a retry with its key, well before the sweep', async () => {
    const key = `crash-${crypto.randomUUID()}`;
    const req = { email: `${key}@faults.test`, name: 'Crash', idempotency_key: key };
    p.peerProxy.set('blackhole'); // CreateWallet hangs: the user waits with its marker
    try {
      call(p.userClient, 'CreateUser', req, 30000); // its answer never comes: the daemon dies
      await until(() => userIds(req.email).length === 1, 4000, 'the user committed');
      await p.restartUser();
      p.peerProxy.set('drop'); // what the dead daemon had sent never reaches wallet-service
    } finally {
      p.peerProxy.set('pass');
    }
    assert.equal(walletOf(userIds(req.email)[0]), '', 'no wallet yet');
    const started = Date.now();
    let r;
    await until(async () => {
      r = await call(p.userClient, 'CreateUser', req);
      return !r.err || r.err.code !== grpc.status.ABORTED;
    }, 40000, 'a retry ends the ABORTED answers');
    t.diagnostic(`a crashed creation settled by a retry after ${Date.now() - started} ms`);
    assert.equal(r.err, null, r.err && r.err.message);
    assert.deepEqual(userIds(req.email), [r.res.id]);
    assert.equal(walletOf(r.res.id), '0', 'finished: the user has its wallet');
    const again = await call(p.userClient, 'CreateUser', req);
    assert.equal(again.err, null);
    assert.equal(again.res.id, r.res.id);
  });
});
