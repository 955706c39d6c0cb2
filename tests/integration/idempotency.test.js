// Idempotency keys on CreditWallet and DebitWallet (SPEC "Money safety"): the
// first request with a key applies, later ones with the same payload get its
// outcome again byte for byte, marked `idempotent-replayed: true`; another
// payload, or field and metadata disagreeing, is INVALID_ARGUMENT naming
// idempotency_key; concurrent duplicates apply once. Old clients send the key
// as metadata.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { call, rawCall, sql, startPlatform, uniqueEmail, grpc, proto } = require('./lib/harness');

const S = grpc.status;
const CREDIT = proto.wallet.WalletService.service.CreditWallet;
const newKey = () => `key-${crypto.randomUUID()}`;

function balanceOf(userId) {
  return Number(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${userId}'`));
}
function entriesOf(userId) {
  return Number(sql(`SELECT count(*) FROM "WalletEntry" e JOIN "Wallet" w ON w.id = e."walletId" WHERE w."userId" = '${userId}'`));
}
function violationField(err) {
  const bin = err.metadata.get('grpc-status-details-bin')[0];
  return bin && bin.toString('latin1').includes('idempotency_key');
}

test('idempotency keys', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const w = p.walletClient;
  const newUser = async (tag) => (await call(p.userClient, 'CreateUser', { email: uniqueEmail(tag), name: tag })).res;

  await t.test('a retried credit applies once and replays the first answer byte for byte', async () => {
    const user = await newUser('replay');
    const key = newKey();
    const bytes = CREDIT.requestSerialize({ user_id: user.id, amount: 25, idempotency_key: key });
    const first = await rawCall(p.env.WALLET_SERVICE_URL, CREDIT.path, bytes);
    assert.equal(first.err, null);
    await call(w, 'CreditWallet', { user_id: user.id, amount: 5 }); // moves the balance on meanwhile
    const again = await rawCall(p.env.WALLET_SERVICE_URL, CREDIT.path, bytes);
    assert.equal(again.err, null);
    assert.deepEqual(again.res, first.res, 'the replay is the first response, byte for byte');
    const marked = await call(w, 'CreditWallet', { user_id: user.id, amount: 25, idempotency_key: key });
    assert.equal(marked.err, null);
    assert.deepEqual(marked.metadata.get('idempotent-replayed'), ['true']);
    assert.equal(marked.res.balance, 25);
    assert.equal(balanceOf(user.id), 30);
    assert.equal(entriesOf(user.id), 2);
  });

  await t.test('the first answer of a new key is not marked replayed', async () => {
    const user = await newUser('fresh');
    const r = await call(w, 'CreditWallet', { user_id: user.id, amount: 1, idempotency_key: newKey() });
    assert.equal(r.err, null);
    assert.deepEqual(r.metadata.get('idempotent-replayed'), []);
  });

  await t.test('old clients send the key as metadata; the field and the metadata must agree', async () => {
    const user = await newUser('metadata');
    const key = newKey();
    const md = { metadata: { 'idempotency-key': key } };
    assert.equal((await call(w, 'CreditWallet', { user_id: user.id, amount: 7 }, md)).err, null);
    const again = await call(w, 'CreditWallet', { user_id: user.id, amount: 7 }, md);
    assert.deepEqual(again.metadata.get('idempotent-replayed'), ['true']);
    const viaField = await call(w, 'CreditWallet', { user_id: user.id, amount: 7, idempotency_key: key });
    assert.deepEqual(viaField.metadata.get('idempotent-replayed'), ['true'], 'one key, whichever way it came');
    const both = await call(w, 'CreditWallet', { user_id: user.id, amount: 7, idempotency_key: newKey() }, md);
    assert.equal(both.err.code, S.INVALID_ARGUMENT);
    assert.match(both.err.details, /idempotency_key/);
    assert.equal(balanceOf(user.id), 7);
  });

  await t.test('the same key with another payload is INVALID_ARGUMENT with a BadRequest violation', async () => {
    const user = await newUser('mismatch');
    const key = newKey();
    await call(w, 'CreditWallet', { user_id: user.id, amount: 10, idempotency_key: key });
    const other = await call(w, 'CreditWallet', { user_id: user.id, amount: 11, idempotency_key: key });
    assert.equal(other.err.code, S.INVALID_ARGUMENT);
    assert.match(other.err.details, /idempotency_key: was used before with a different request/);
    assert.ok(violationField(other.err));
    assert.equal(balanceOf(user.id), 10);
    // A key belongs to its caller and method (SPEC): on another method it is another operation.
    const otherMethod = await call(w, 'DebitWallet', { user_id: user.id, amount: 10, idempotency_key: key });
    assert.equal(otherMethod.err, null, otherMethod.err && otherMethod.err.details);
    assert.equal(balanceOf(user.id), 0);
  });

  await t.test('a refusal is stored and replayed too, even once it would no longer hold', async () => {
    const user = await newUser('refusal');
    const key = newKey();
    const first = await call(w, 'DebitWallet', { user_id: user.id, amount: 50, idempotency_key: key });
    assert.equal(first.err.code, S.FAILED_PRECONDITION);
    await call(w, 'CreditWallet', { user_id: user.id, amount: 100 });
    const again = await call(w, 'DebitWallet', { user_id: user.id, amount: 50, idempotency_key: key });
    assert.equal(again.err.code, S.FAILED_PRECONDITION);
    assert.equal(again.err.details, first.err.details);
    // A refusal travels trailers-only: the mark arrives with the status.
    const mark = [...(again.metadata ? again.metadata.get('idempotent-replayed') : []),
      ...again.err.metadata.get('idempotent-replayed')];
    assert.deepEqual(mark, ['true']);
    assert.equal(balanceOf(user.id), 100);
  });

  await t.test('keys that are empty-looking, too long or not printable ASCII are refused', async () => {
    const user = await newUser('badkey');
    for (const key of ['x'.repeat(129), 'tab\there', 'caf\u00e9']) {
      const r = await call(w, 'CreditWallet', { user_id: user.id, amount: 1, idempotency_key: key });
      assert.equal(r.err.code, S.INVALID_ARGUMENT, key);
      assert.match(r.err.details, /idempotency_key/);
    }
    assert.equal(balanceOf(user.id), 0);
  });

  await t.test('32 clients sending one key at once: one application, the rest replay', async () => {
    const user = await newUser('herd');
    const key = newKey();
    const clients = Array.from({ length: 32 }, () =>
      new proto.wallet.WalletService(p.env.WALLET_SERVICE_URL, grpc.credentials.createInsecure()));
    const results = await Promise.all(clients.map((c) =>
      call(c, 'CreditWallet', { user_id: user.id, amount: 3, idempotency_key: key })));
    for (const c of clients) c.close();
    const ok = results.filter((r) => r.err === null);
    const aborted = results.filter((r) => r.err && r.err.code === S.ABORTED);
    assert.equal(ok.length + aborted.length, 32, JSON.stringify(results.filter((r) => r.err).map((r) => r.err.details)));
    assert.equal(ok.filter((r) => r.metadata.get('idempotent-replayed').length === 0).length, 1, 'exactly one applied');
    for (const r of ok) assert.equal(r.res.balance, 3);
    assert.equal(balanceOf(user.id), 3);
    assert.equal(entriesOf(user.id), 1);
  });
});
