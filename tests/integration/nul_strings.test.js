// Strings with an embedded NUL byte are INVALID_ARGUMENT naming the field
// (issue 11, item 11). C validators see a string only up to its first NUL,
// so "<uuid>\0junk" used to pass the UUID rule and credit the real wallet,
// and "Ann\0dropped" was stored as "Ann".
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, sql, startPlatform, uniqueEmail, grpc } = require('./lib/harness');

let p;
test.before(async () => { p = await startPlatform(); });
test.after(() => p.stop());

test('a NUL in a uuid field is refused and nothing changes', async () => {
  const created = await call(p.userClient, 'CreateUser', { email: uniqueEmail('nul'), name: 'Nul' });
  assert.equal(created.err, null);
  const id = created.res.id;
  for (const method of ['CreditWallet', 'DebitWallet']) {
    const { err } = await call(p.walletClient, method, { user_id: `${id}\0junk`, amount: 5 });
    assert.equal(err && err.code, grpc.status.INVALID_ARGUMENT, method);
    assert.match(err.details, /user_id: must not contain a NUL character/);
  }
  const got = await call(p.userClient, 'GetUserById', { id: `${id}\0` });
  assert.equal(got.err && got.err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(got.err.details, /^invalid GetUserByIdRequest: id: must not contain a NUL character$/);
  assert.equal(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${id}'`), '0');
});

test('a NUL in a name or email is refused and no user is stored', async () => {
  const email = uniqueEmail('nulname');
  const named = await call(p.userClient, 'CreateUser', { email, name: 'Ann\0dropped' });
  assert.equal(named.err && named.err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(named.err.details, /name: must not contain a NUL character/);
  const mailed = await call(p.userClient, 'CreateUser', { email: `${email}\0x`, name: 'Ann' });
  assert.equal(mailed.err && mailed.err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(mailed.err.details, /email: must not contain a NUL character/);
  assert.equal(sql(`SELECT count(*) FROM "User" WHERE email = '${email}'`), '0');
});
