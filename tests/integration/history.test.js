// ListTransactions (SPEC "Money safety"): a wallet's entries newest first, in
// pages of page_size (0 -> 20, at most 100), with opaque tokens that resume
// exactly where the last page ended even while entries are appended, and
// that are refused when tampered with or used for another wallet.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { call, startPlatform, uniqueEmail, grpc } = require('./lib/harness');

const S = grpc.status;

test('history', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const w = p.walletClient;
  const user = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('history'), name: 'History' })).res;
  for (let i = 1; i <= 45; i++) await call(w, 'CreditWallet', { user_id: user.id, amount: i });

  await t.test('newest first, 20 by default, every field of an entry', async () => {
    const r = await call(w, 'ListTransactions', { user_id: user.id });
    assert.equal(r.err, null);
    assert.equal(r.res.transactions.length, 20);
    const first = r.res.transactions[0];
    assert.equal(first.amount, 45);
    assert.equal(first.balance_after, (45 * 46) / 2);
    assert.equal(first.kind, 2); // TRANSACTION_KIND_CREDIT (the harness loads enums as numbers)
    assert.match(first.id, /^[0-9a-f-]{36}$/);
    assert.match(first.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(r.res.next_page_token);
  });

  await t.test('pages never skip or repeat an entry while new ones are appended', async () => {
    const seen = [];
    let token = '';
    let appended = 0;
    do {
      const r = await call(w, 'ListTransactions', { user_id: user.id, page_size: 7, page_token: token });
      assert.equal(r.err, null);
      seen.push(...r.res.transactions.map((x) => x.amount));
      token = r.res.next_page_token;
      if (appended < 3) { appended += 1; await call(w, 'DebitWallet', { user_id: user.id, amount: 1 }); }
    } while (token);
    assert.deepEqual(seen, Array.from({ length: 45 }, (_, i) => 45 - i), 'the 45 credits, each once, newest first');
  });

  await t.test('page_size above 100 is 100; negative is refused', async () => {
    const big = await call(w, 'ListTransactions', { user_id: user.id, page_size: 1000 });
    assert.equal(big.res.transactions.length, 48);
    const neg = await call(w, 'ListTransactions', { user_id: user.id, page_size: -1 });
    assert.equal(neg.err.code, S.INVALID_ARGUMENT);
  });

  await t.test('tampered tokens and tokens of another wallet are INVALID_ARGUMENT', async () => {
    const other = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('other'), name: 'Other' })).res;
    const { res } = await call(w, 'ListTransactions', { user_id: user.id, page_size: 5 });
    const token = res.next_page_token;
    const flipped = token.slice(0, 3) + (token[3] === 'A' ? 'B' : 'A') + token.slice(4);
    for (const bad of [flipped, token.slice(1), `${token}A`, 'not a token', token.replace(/./, '*')]) {
      const r = await call(w, 'ListTransactions', { user_id: user.id, page_token: bad });
      assert.equal(r.err && r.err.code, S.INVALID_ARGUMENT, bad);
      assert.match(r.err.details, /page_token/);
    }
    const elsewhere = await call(w, 'ListTransactions', { user_id: other.id, page_token: token });
    assert.equal(elsewhere.err.code, S.INVALID_ARGUMENT);
  });

  await t.test('a wallet with no entries has an empty page; no wallet is NOT_FOUND', async () => {
    const fresh = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('empty'), name: 'Empty' })).res;
    const empty = await call(w, 'ListTransactions', { user_id: fresh.id });
    assert.equal(empty.err, null);
    assert.deepEqual(empty.res.transactions, []);
    assert.equal(empty.res.next_page_token, '');
    const none = await call(w, 'ListTransactions', { user_id: crypto.randomUUID() });
    assert.equal(none.err.code, S.NOT_FOUND);
  });
});
