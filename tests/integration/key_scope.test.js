// Idempotency keys belong to their caller and method (SPEC, Money safety;
// handlers/shared/operations.h): under mutual TLS another certificate's use
// of the same string is another operation (it cannot take the owner's
// predictable key), the same key on another method is another operation,
// ListTransactions shows an entry's key only to its owner, and a retry that
// only changes a UUID's case is the same request.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { call, grpc, startPlatform, uniqueEmail } = require('./lib/harness');
const { makeCerts, startTlsPlatform } = require('./lib/tls');

const S = grpc.status;

test('mutual TLS: keys are scoped by certificate and method, and shown only to their owner', async (t) => {
  const dir = makeCerts();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Every client may call every method here; the services keep their own rules.
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({
    name: 'key-scope',
    allow_rules: [
      { name: 'clients', source: { principals: ['spiffe://wallet.local/client/*'] } },
      { name: 'user-service-creates-wallets', source: { principals: ['spiffe://wallet.local/user-service'] },
        request: { paths: ['/wallet.WalletService/CreateWallet'] } },
      { name: 'wallet-service-reads-users', source: { principals: ['spiffe://wallet.local/wallet-service'] },
        request: { paths: ['/user.UserService/GetUserById'] } },
    ],
  }));
  const p = await startTlsPlatform(dir);
  t.after(() => p.stop());
  const users = p.client('user', 'client');
  const admin = p.client('wallet', 'client'); // spiffe://wallet.local/client/admin
  const payments = p.client('wallet', 'payments');
  const support = p.client('wallet', 'support');
  const newUser = async (tag) => (await call(users, 'CreateUser', { email: uniqueEmail(tag), name: tag })).res;
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  assert.ok(alice && bob);

  // payments takes the predictable key first; admin's own use of it is its own operation.
  const key = `rent-2026-12-${process.pid}`;
  const taken = await call(payments, 'CreditWallet', { user_id: alice.id, amount: 7, idempotency_key: key });
  assert.equal(taken.err, null);
  const own = await call(admin, 'CreditWallet', { user_id: alice.id, amount: 100, idempotency_key: key });
  assert.equal(own.err, null, own.err && own.err.details);
  assert.equal(own.res.balance, 107);
  // ...and replays for admin alone.
  const again = await call(admin, 'CreditWallet', { user_id: alice.id, amount: 100, idempotency_key: key });
  assert.equal(again.err, null);
  assert.equal(again.res.balance, 107);
  assert.deepEqual(again.metadata.get('idempotent-replayed'), ['true']);

  // The same key on another method is another operation.
  const debit = await call(admin, 'DebitWallet', { user_id: alice.id, amount: 1, idempotency_key: key });
  assert.equal(debit.err, null, debit.err && debit.err.details);
  assert.equal(debit.res.balance, 106);

  // A transfer's key is shown to the caller that made it, on both sides; to no one else.
  const moved = await call(admin, 'TransferFunds', { from_user_id: alice.id, to_user_id: bob.id, amount: 6,
    idempotency_key: `${key}-transfer` });
  assert.equal(moved.err, null, moved.err && moved.err.details);
  const keysSeenBy = async (client, userId) => {
    const r = await call(client, 'ListTransactions', { user_id: userId });
    assert.equal(r.err, null, r.err && r.err.details);
    return r.res.transactions.map((x) => x.idempotency_key);
  };
  assert.deepEqual(await keysSeenBy(admin, alice.id), [`${key}-transfer`, key, key, '']);
  assert.deepEqual(await keysSeenBy(admin, bob.id), [`${key}-transfer`]);
  assert.deepEqual(await keysSeenBy(payments, alice.id), ['', '', '', key]);
  assert.deepEqual(await keysSeenBy(support, alice.id), ['', '', '', '']);
  assert.deepEqual(await keysSeenBy(support, bob.id), ['']);
});

test('plaintext: one scope for every caller; a UUID\'s case does not make another request', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const user = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('case'), name: 'Case' })).res;
  const key = `case-${process.pid}-${Date.now()}`;
  const first = await call(p.walletClient, 'CreditWallet', { user_id: user.id.toUpperCase(), amount: 5, idempotency_key: key });
  assert.equal(first.err, null, first.err && first.err.details);
  const retry = await call(p.walletClient, 'CreditWallet', { user_id: user.id, amount: 5, idempotency_key: key });
  assert.equal(retry.err, null, retry.err && retry.err.details);
  assert.deepEqual(retry.metadata.get('idempotent-replayed'), ['true']);
  assert.equal(retry.res.balance, 5);
  // Another payload under the key is refused: on plaintext every caller shares one scope.
  const other = await call(p.walletClient, 'CreditWallet', { user_id: user.id, amount: 6, idempotency_key: key });
  assert.equal(other.err && other.err.code, S.INVALID_ARGUMENT);
  // The key is shown in the history (its owner is the one plaintext scope).
  const listed = await call(p.walletClient, 'ListTransactions', { user_id: user.id });
  assert.deepEqual(listed.res.transactions.map((x) => x.idempotency_key), [key]);
});
