// The end-to-end flow of the old system's integration test, on the new daemons:
// create user -> wallet provisioned with balance 0 -> credit 500 -> debit 200 -> 300.
// runs-under: valgrind
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, sql, startPlatform, uniqueEmail, grpc } = require('./lib/harness');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test('full flow', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());

  const email = uniqueEmail('flow');
  const created = await call(p.userClient, 'CreateUser', { email, name: 'Jane Doe' });
  assert.equal(created.err, null);
  const user = created.res;
  assert.match(user.id, UUID);
  assert.equal(user.email, email);
  assert.equal(user.name, 'Jane Doe');
  assert.match(user.created_at, ISO_MS_Z);
  assert.ok(Math.abs(Date.parse(user.created_at) - Date.now()) < 60000, 'created_at is UTC now');

  const fetched = await call(p.userClient, 'GetUserById', { id: user.id });
  assert.equal(fetched.err, null);
  assert.deepEqual(fetched.res, user);

  const wallet = await call(p.walletClient, 'GetWallet', { user_id: user.id });
  assert.equal(wallet.err, null);
  assert.equal(wallet.res.user_id, user.id);
  assert.equal(wallet.res.balance, 0);
  assert.match(wallet.res.id, UUID);
  assert.match(wallet.res.created_at, ISO_MS_Z);

  const credited = await call(p.walletClient, 'CreditWallet', { user_id: user.id, amount: 500 });
  assert.equal(credited.err, null);
  assert.equal(credited.res.balance, 500);
  assert.equal(credited.res.id, wallet.res.id);

  const debited = await call(p.walletClient, 'DebitWallet', { user_id: user.id, amount: 200 });
  assert.equal(debited.err, null);
  assert.equal(debited.res.balance, 300);

  const final = await call(p.walletClient, 'GetWallet', { user_id: user.id });
  assert.equal(final.res.balance, 300);
  assert.equal(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${user.id}'`), '300');

  // Stored as the old system stored it: TIMESTAMP(3) in UTC, same instant.
  const stored = sql(`SELECT to_char("createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM "User" WHERE id = '${user.id}'`);
  assert.equal(stored, user.created_at);

  // Upper-case ids name the same user.
  const upper = await call(p.userClient, 'GetUserById', { id: user.id.toUpperCase() });
  assert.equal(upper.err, null);
  assert.equal(upper.res.id, user.id);
});

test('daemons drain and exit 0 on SIGTERM', async () => {
  const p = await startPlatform();
  const results = await p.stop();
  for (const r of results) assert.deepEqual(r, { code: 0, signal: null });
  assert.equal(grpc.status.OK, 0);
});
