// Guarantees that only show under concurrency and faults: no overdraft, one
// user per email, no user left without a wallet when wallet-service is down.
// runs-under: valgrind
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, sql, startPlatform, uniqueEmail, grpc } = require('./lib/harness');
const { waitFor } = require('./lib/row_lock');

const S = grpc.status;

test('concurrency and faults', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const u = p.userClient;
  const w = p.walletClient;

  await t.test('50 concurrent debits of 1 on a balance of 20: exactly 20 succeed', async () => {
    const { res: user } = await call(u, 'CreateUser', { email: uniqueEmail('race'), name: 'Race' });
    await call(w, 'CreditWallet', { user_id: user.id, amount: 20 });
    const results = await Promise.all(Array.from({ length: 50 }, () =>
      call(w, 'DebitWallet', { user_id: user.id, amount: 1 })));
    const ok = results.filter((r) => r.err === null);
    const refused = results.filter((r) => r.err && r.err.code === S.FAILED_PRECONDITION);
    assert.equal(ok.length, 20);
    assert.equal(refused.length, 30);
    const balances = ok.map((r) => r.res.balance).sort((a, b) => a - b);
    assert.deepEqual(balances, Array.from({ length: 20 }, (_, i) => i), 'each success saw its own balance');
    assert.equal(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${user.id}'`), '0');
  });

  await t.test('concurrent credits are all applied', async () => {
    const { res: user } = await call(u, 'CreateUser', { email: uniqueEmail('credit'), name: 'Credit' });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      call(w, 'CreditWallet', { user_id: user.id, amount: i + 1 })));
    assert.ok(results.every((r) => r.err === null));
    assert.equal(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${user.id}'`), String((40 * 41) / 2));
  });

  await t.test('concurrent CreateUser with one email: exactly one succeeds', async () => {
    const email = uniqueEmail('same');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      call(u, 'CreateUser', { email, name: `N${i}` })));
    const ok = results.filter((r) => r.err === null);
    assert.equal(ok.length, 1);
    for (const r of results.filter((x) => x.err)) assert.equal(r.err.code, S.ALREADY_EXISTS);
    assert.equal(sql(`SELECT count(*) FROM "User" u JOIN "Wallet" w ON w."userId" = u.id WHERE u.email = '${email}'`), '1');
  });

  await t.test('a CreateUser cut short by its deadline leaves no user without a wallet', async () => {
    const email = uniqueEmail('deadline');
    await call(u, 'CreateUser', { email, name: 'Late' }, { timeoutMs: 3 });
    // The daemon goes on after the client gave up (grpc-js cancels at its
    // deadline): the wallet request or the undo finishes the creation within
    // their budgets (5 s each), so wait for that, no longer.
    await waitFor('no user of the cut-short CreateUser without a wallet', () =>
      sql(`SELECT count(*) FROM "User" u LEFT JOIN "Wallet" w ON w."userId" = u.id
           WHERE u.email = '${email}' AND w.id IS NULL`) === '0', 11000);
  });

  await t.test('wallet-service down: CreateUser is UNAVAILABLE and leaves no user', async () => {
    await p.wallet.stop();
    const email = uniqueEmail('down');
    const r = await call(u, 'CreateUser', { email, name: 'Down' });
    assert.ok(r.err);
    assert.equal(r.err.code, S.UNAVAILABLE, r.err.details);
    assert.equal(sql(`SELECT count(*) FROM "User" WHERE email = '${email}'`), '0');
    // user-service itself keeps serving.
    const again = await call(u, 'GetUserById', { id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(again.err.code, S.NOT_FOUND);
    await p.wallet.start(p.walletPort);
    const back = await call(u, 'CreateUser', { email, name: 'Back' });
    assert.equal(back.err, null, back.err && back.err.details);
  });

  await t.test('user-service down: CreateWallet is UNAVAILABLE', async () => {
    await p.user.stop();
    const r = await call(w, 'CreateWallet', { user_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(r.err.code, S.UNAVAILABLE);
    await p.user.start(p.userPort);
  });
});
