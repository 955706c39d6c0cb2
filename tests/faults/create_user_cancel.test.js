// A CreateUser whose caller cancels after its user insert was sent, before
// the insert's answer came back (grpc-js cancels at its own deadline, which
// can reach the server before the server's deadline check): the insert
// commits all the same, so the undo must run and no user may stay without a
// wallet. user-service's database link delays PostgreSQL's answers (the
// server does the work at once); the caller cancels once the user row is
// there. At a6dd02c the database layer answered the sent insert CANCELLED
// "the caller cancelled", as it does a statement never sent, the handler
// returned without its undo, and the user stayed without a wallet until the
// 5-minute sweep (with a key, until a retry 15 s later).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { grpc, psql, until, DATABASE_URL } = require('./lib/faults');
const { startPair } = require('./lib/pair');

// How late PostgreSQL's answers reach user-service: long enough to cancel in
// between, well under the 3 s after which a session silent after a cancel is
// dropped (RT_PIPE_STALL_MS).
const ANSWER_DELAY_MS = 1500;

function call(client, method, request, timeoutMs = 10000) {
  return new Promise((resolve) => {
    client[method](request, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => resolve({ err, res }));
  });
}

const userIds = (email) => psql(DATABASE_URL, `SELECT id FROM "User" WHERE email = '${email}'`).split('\n').filter(Boolean);
const withoutWallet = (email) => Number(psql(DATABASE_URL, `SELECT count(*) FROM "User" u
  LEFT JOIN "Wallet" w ON w."userId" = u.id WHERE u.email = '${email}' AND w.id IS NULL`));

// Sends CreateUser with a 30 s deadline and cancels it once its user row has
// committed, while the insert's answer is still held back; then waits a few
// seconds for the user to be gone or complete.
async function cancelAfterInsert(p, req) {
  p.dbProxy.set('delay-down', ANSWER_DELAY_MS);
  let r;
  try {
    let pending;
    const answered = new Promise((resolve) => {
      pending = p.userClient.CreateUser(req, { deadline: new Date(Date.now() + 30000) },
        (err, res) => resolve({ err, res }));
    });
    await until(() => userIds(req.email).length === 1, ANSWER_DELAY_MS / 2, 'the user insert committed');
    pending.cancel();
    r = await answered;
  } finally {
    p.dbProxy.set('pass'); // answers already held back still come late, in order
  }
  assert.equal(r.err && r.err.code, grpc.status.CANCELLED, 'the client saw its own cancel');
  await until(() => withoutWallet(req.email) === 0, 4000,
    'no user of the cancelled CreateUser left without a wallet');
  const log = p.userLog();
  assert.ok(!/"level":"error"/.test(log), `user-service logged an error: ${log.split('\n').filter((l) => l.includes('"level":"error"')).join('\n')}`);
}

test('CreateUser cancelled by its caller after the user insert was sent', async (t) => {
  const p = await startPair();
  t.after(() => p.stop());
  const warm = await call(p.userClient, 'CreateUser', { email: `warm-${crypto.randomUUID()}@faults.test`, name: 'W' });
  assert.equal(warm.err, null, warm.err && warm.err.message);

  await t.test('without a key: the insert that committed is undone, no user without a wallet', async () => {
    const req = { email: `cancel-${crypto.randomUUID()}@faults.test`, name: 'Cancel' };
    await cancelAfterInsert(p, req);
    const again = await call(p.userClient, 'CreateUser', req);
    assert.equal(again.err, null, again.err && `${grpc.status[again.err.code]}: ${again.err.message}`);
    assert.deepEqual(userIds(req.email), [again.res.id], 'the email is free again: one user, complete');
  });

  await t.test('with a key: undone, and a retry with the key gives one answer', async () => {
    const key = `cancel-${crypto.randomUUID()}`;
    const req = { email: `${key}@faults.test`, name: 'Cancel', idempotency_key: key };
    await cancelAfterInsert(p, req);
    const retry = await call(p.userClient, 'CreateUser', req);
    assert.equal(retry.err, null, retry.err && `${grpc.status[retry.err.code]}: ${retry.err.message}`);
    const again = await call(p.userClient, 'CreateUser', req);
    assert.equal(again.err, null, again.err && `${grpc.status[again.err.code]}: ${again.err.message}`);
    assert.equal(again.res.id, retry.res.id, 'one key, one user');
    assert.deepEqual(userIds(req.email), [retry.res.id]);
    assert.equal(withoutWallet(req.email), 0, 'the retry left the user complete');
  });
});
