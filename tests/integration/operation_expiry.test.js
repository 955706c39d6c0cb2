// Operations (idempotency keys and their outcomes) older than IDEMPOTENCY_TTL
// are swept in the background, in bounded batches, with no call made; newer
// ones stay. A swept key whose write left no entry may be used afresh; one
// whose entries remain is "key expired".
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, grpc, sql, startPlatform, uniqueEmail, operationId } = require('./lib/harness');

async function until(predicate, timeoutMs) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

test('expired operations are swept in the background', async (t) => {
  const tag = `expiry-${process.pid}-${Date.now()}`;
  sql(`INSERT INTO "Operation" (id, request, attempt, code, "createdAt")
       SELECT '${tag}-old-' || g, '', 'a', 0, LOCALTIMESTAMP - INTERVAL '2 days' FROM generate_series(1, 2500) g`);
  sql(`INSERT INTO "Operation" (id, request, attempt, code) VALUES ('${tag}-new', '', 'a', 0)`);
  const p = await startPlatform();
  t.after(() => p.stop());
  const left = () => Number(sql(`SELECT count(*) FROM "Operation" WHERE id LIKE '${tag}-old-%'`));
  assert.ok(await until(() => left() === 0, 20000), `${left()} expired operations left`);
  assert.equal(sql(`SELECT count(*) FROM "Operation" WHERE id = '${tag}-new'`), '1', 'a fresh one stays');
});

// Issue 19, defect 3: a key whose operation row was swept while the entries
// it wrote remain (their unique ("operationId", "kind") stays, the last guard
// against a second apply) is answered INVALID_ARGUMENT "key expired" by every
// write that brings it back -- never ALREADY_EXISTS, never applied again.
test('a key seen again after its TTL is "key expired", never applied twice', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const make = async () => {
    const r = await call(p.userClient, 'CreateUser', { email: uniqueEmail('expired'), name: 'E' });
    assert.equal(r.err, null, r.err && r.err.message);
    return r.res.id;
  };
  const a = await make();
  const b = await make();
  const tag = `expired-${process.pid}-${Date.now()}`;
  const CREDIT = '/wallet.WalletService/CreditWallet';
  const TRANSFER = '/wallet.WalletService/TransferFunds';
  const sweep = (key, method) => sql(`DELETE FROM "Operation" WHERE id = '${operationId(key, method)}'`); // as the TTL sweep does
  const balanceOf = (id) => Number(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${id}'`));
  const expired = (r, what) => {
    assert.ok(r.err, `${what}: answered OK`);
    assert.equal(r.err.code, grpc.status.INVALID_ARGUMENT, `${what}: ${grpc.status[r.err.code]} ${r.err.message}`);
    assert.match(r.err.message, /key expired/);
  };

  const credit = { user_id: a, amount: 100, idempotency_key: `${tag}-credit` };
  assert.equal((await call(p.walletClient, 'CreditWallet', credit)).err, null);
  sweep(credit.idempotency_key, CREDIT);
  expired(await call(p.walletClient, 'CreditWallet', credit), 'the same credit again');
  expired(await call(p.walletClient, 'CreditWallet', { ...credit, amount: 1 }), 'another credit with the key');
  assert.equal(balanceOf(a), 100, 'applied once');
  // (The same key on another method is another operation: key_scope.test.js.)

  // A fence left for the key after its row was swept (an attempt whose
  // connection was lost) does not turn it into "not applied, retry" forever.
  const fenced = { user_id: b, amount: 7, idempotency_key: `${tag}-fenced` };
  assert.equal((await call(p.walletClient, 'CreditWallet', fenced)).err, null);
  const fencedId = operationId(fenced.idempotency_key, CREDIT);
  const request = sql(`SELECT request FROM "Operation" WHERE id = '${fencedId}'`);
  sweep(fenced.idempotency_key, CREDIT);
  sql(`INSERT INTO "Operation" (id, request, attempt, code) VALUES ('${fencedId}', '${request}', 'lost', -1)`);
  expired(await call(p.walletClient, 'CreditWallet', fenced), 'a credit whose key was fenced after it expired');
  assert.equal(balanceOf(b), 7);

  const transfer = { from_user_id: a, to_user_id: b, amount: 30, idempotency_key: `${tag}-transfer` };
  assert.equal((await call(p.walletClient, 'TransferFunds', transfer)).err, null);
  sweep(transfer.idempotency_key, TRANSFER);
  expired(await call(p.walletClient, 'TransferFunds', transfer), 'the same transfer again');
  expired(await call(p.walletClient, 'TransferFunds', { ...transfer, amount: 5 }), 'another transfer with the key');
  assert.deepEqual([balanceOf(a), balanceOf(b)], [70, 37], 'moved once');
  const ids = [operationId(credit.idempotency_key, CREDIT), fencedId, operationId(transfer.idempotency_key, TRANSFER)];
  assert.equal(sql(`SELECT string_agg(DISTINCT code::text, ',') FROM "Operation"
    WHERE id IN (${ids.map((id) => `'${id}'`).join(',')})`), '-2',
    'the expired keys recorded as such');
});
