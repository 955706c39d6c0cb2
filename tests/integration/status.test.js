// Every row of SPEC.md's validation and status-code tables, against the daemons.
// runs-under: valgrind
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, rawCall, sql, startPlatform, uniqueEmail, grpc } = require('./lib/harness');

const S = grpc.status;
const MISSING = '00000000-0000-4000-8000-000000000000';

function expectCode(result, code, messagePart) {
  assert.ok(result.err, `expected ${code}, got a response`);
  assert.equal(result.err.code, code, `code ${result.err.code} (${result.err.details})`);
  if (messagePart) assert.match(result.err.details, messagePart);
}

test('status codes', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const u = p.userClient;
  const w = p.walletClient;

  await t.test('email rule', async () => {
    for (const email of ['', 'plain', 'a@b', 'two@@example.com', 'sp ace@example.com', '@example.com',
      'a@.example.com', 'a@example.com.', `${'x'.repeat(243)}@example.com`]) {
      expectCode(await call(u, 'CreateUser', { email, name: 'N' }), S.INVALID_ARGUMENT, /email/);
    }
    // 254 bytes is the limit, and it passes.
    const local = 'y'.repeat(254 - '@example.com'.length - 13);
    const ok = await call(u, 'CreateUser', { email: `${local}${Date.now()}@example.com`, name: 'N' });
    assert.equal(ok.err, null);
  });

  await t.test('name rule', async () => {
    expectCode(await call(u, 'CreateUser', { email: uniqueEmail(), name: '' }), S.INVALID_ARGUMENT, /name: must not be empty/);
    expectCode(await call(u, 'CreateUser', { email: uniqueEmail(), name: 'x'.repeat(201) }), S.INVALID_ARGUMENT, /name/);
    const ok = await call(u, 'CreateUser', { email: uniqueEmail(), name: 'Zoë Ångström 李' });
    assert.equal(ok.err, null);
    assert.equal(ok.res.name, 'Zoë Ångström 李');
  });

  await t.test('invalid UTF-8 name is refused', async () => {
    // grpc-js cannot send invalid UTF-8 in a string, so build the bytes by hand:
    // field 1 (email) then field 2 (name) = 0xC3 0x28.
    const email = Buffer.from(uniqueEmail());
    const bytes = Buffer.concat([Buffer.from([0x0a, email.length]), email, Buffer.from([0x12, 2, 0xc3, 0x28])]);
    const r = await rawCall(p.env.USER_SERVICE_URL, '/user.UserService/CreateUser', bytes);
    assert.equal(r.err.code, S.INVALID_ARGUMENT);
  });

  await t.test('several violations reported together', async () => {
    const r = await call(u, 'CreateUser', { email: 'nope', name: '' });
    expectCode(r, S.INVALID_ARGUMENT, /email: .*name: /);
  });

  await t.test('uuid rule', async () => {
    for (const id of ['', 'abc', '123e4567-e89b-12d3-a456-42661417400', '123e4567e89b12d3a456426614174000',
      'g23e4567-e89b-12d3-a456-426614174000']) {
      expectCode(await call(u, 'GetUserById', { id }), S.INVALID_ARGUMENT, /id: must be a UUID/);
      expectCode(await call(w, 'GetWallet', { user_id: id }), S.INVALID_ARGUMENT, /user_id: must be a UUID/);
      expectCode(await call(w, 'CreateWallet', { user_id: id }), S.INVALID_ARGUMENT, /user_id/);
    }
  });

  await t.test('amount rule', async () => {
    for (const amount of [0, -1, -2147483648]) {
      expectCode(await call(w, 'CreditWallet', { user_id: MISSING, amount }), S.INVALID_ARGUMENT, /amount: must be greater than or equal to 1/);
      expectCode(await call(w, 'DebitWallet', { user_id: MISSING, amount }), S.INVALID_ARGUMENT, /amount/);
    }
  });

  await t.test('not found', async () => {
    expectCode(await call(u, 'GetUserById', { id: MISSING }), S.NOT_FOUND);
    expectCode(await call(w, 'GetWallet', { user_id: MISSING }), S.NOT_FOUND);
    expectCode(await call(w, 'CreditWallet', { user_id: MISSING, amount: 1 }), S.NOT_FOUND);
    expectCode(await call(w, 'DebitWallet', { user_id: MISSING, amount: 1 }), S.NOT_FOUND);
    expectCode(await call(w, 'CreateWallet', { user_id: MISSING }), S.NOT_FOUND);
  });

  await t.test('already exists', async () => {
    const email = uniqueEmail('dup');
    const first = await call(u, 'CreateUser', { email, name: 'A' });
    assert.equal(first.err, null);
    expectCode(await call(u, 'CreateUser', { email, name: 'B' }), S.ALREADY_EXISTS, /email/);
    expectCode(await call(w, 'CreateWallet', { user_id: first.res.id }), S.ALREADY_EXISTS);
    assert.equal(sql(`SELECT count(*) FROM "User" WHERE email = '${email}'`), '1');
  });

  await t.test('insufficient balance and overflow change nothing', async () => {
    const { res: user } = await call(u, 'CreateUser', { email: uniqueEmail('bal'), name: 'B' });
    expectCode(await call(w, 'DebitWallet', { user_id: user.id, amount: 1 }), S.FAILED_PRECONDITION, /insufficient balance/);
    assert.equal((await call(w, 'CreditWallet', { user_id: user.id, amount: 2147483600 })).res.balance, 2147483600);
    expectCode(await call(w, 'CreditWallet', { user_id: user.id, amount: 48 }), S.OUT_OF_RANGE);
    assert.equal((await call(w, 'CreditWallet', { user_id: user.id, amount: 47 })).res.balance, 2147483647);
    expectCode(await call(w, 'CreditWallet', { user_id: user.id, amount: 2147483647 }), S.OUT_OF_RANGE);
    expectCode(await call(w, 'DebitWallet', { user_id: user.id, amount: 2147483647 }).then(async (r) => {
      assert.equal(r.res.balance, 0);
      return call(w, 'DebitWallet', { user_id: user.id, amount: 1 });
    }), S.FAILED_PRECONDITION);
    assert.equal(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${user.id}'`), '0');
  });

  await t.test('unknown method', async () => {
    const r = await rawCall(p.env.USER_SERVICE_URL, '/user.UserService/DeleteUser', Buffer.alloc(0));
    assert.equal(r.err.code, S.UNIMPLEMENTED);
    const r2 = await rawCall(p.env.WALLET_SERVICE_URL, '/no.Such/Method', Buffer.alloc(0));
    assert.equal(r2.err.code, S.UNIMPLEMENTED);
  });

  await t.test('deadline exceeded', async () => {
    const r = await call(u, 'CreateUser', { email: uniqueEmail('late'), name: 'L' }, { deadline: new Date(Date.now() + 1) });
    expectCode(r, S.DEADLINE_EXCEEDED);
  });

  await t.test('undecodable bytes and oversized requests are refused, serving goes on', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const bad = await rawCall(p.env.USER_SERVICE_URL, '/user.UserService/CreateUser', garbage);
    assert.equal(bad.err.code, S.INVALID_ARGUMENT);
    const truncated = await rawCall(p.env.WALLET_SERVICE_URL, '/wallet.WalletService/GetWallet', Buffer.from([0x0a, 0x24, 0x31]));
    assert.equal(truncated.err.code, S.INVALID_ARGUMENT);
    const huge = await call(u, 'CreateUser', { email: uniqueEmail('huge'), name: 'x'.repeat(3 * 1024 * 1024) });
    assert.ok(huge.err);
    assert.equal(huge.err.code, S.RESOURCE_EXHAUSTED, huge.err.details);
    const ok = await call(u, 'CreateUser', { email: uniqueEmail('after'), name: 'Still here' });
    assert.equal(ok.err, null);
  });
});
