// TransferFunds (SPEC "Money safety"): one transaction moving money between
// two wallets, two entries sharing a transfer_id, every refusal changing
// nothing, retries under one idempotency key applying once, and a storm of
// concurrent A->B and B->A transfers neither deadlocking nor creating or
// losing money.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { call, sql, startPlatform, uniqueEmail, grpc, proto } = require('./lib/harness');

const S = grpc.status;
const DRIFTED = `SELECT count(*) FROM "Wallet" w
  WHERE w.balance <> (SELECT coalesce(sum(e.amount), 0) FROM "WalletEntry" e WHERE e."walletId" = w.id)`;
const balanceOf = (userId) => Number(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${userId}'`));

test('transfers', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const w = p.walletClient;
  const newUser = async (tag, balance = 0) => {
    const user = (await call(p.userClient, 'CreateUser', { email: uniqueEmail(tag), name: tag })).res;
    if (balance) await call(w, 'CreditWallet', { user_id: user.id, amount: balance });
    return user;
  };

  await t.test('moves the amount, answers both wallets, writes two entries sharing the transfer id', async () => {
    const a = await newUser('from', 100);
    const b = await newUser('to', 5);
    const r = await call(w, 'TransferFunds', { from_user_id: a.id, to_user_id: b.id, amount: 30 });
    assert.equal(r.err, null);
    assert.match(r.res.transfer_id, /^[0-9a-f-]{36}$/);
    assert.equal(r.res.from.user_id, a.id); assert.equal(r.res.from.balance, 70);
    assert.equal(r.res.to.user_id, b.id); assert.equal(r.res.to.balance, 35);
    const entries = sql(`SELECT e.kind || ':' || e.amount || ':' || e."balanceAfter" FROM "WalletEntry" e
      WHERE e."transferId" = '${r.res.transfer_id}' ORDER BY e.kind`).split('\n');
    assert.deepEqual(entries, ['4:30:35', '5:-30:70']);
  });

  await t.test('refusals name their reason and change nothing', async () => {
    const a = await newUser('poor', 10);
    const b = await newUser('rich', 2147483640);
    const ghost = crypto.randomUUID();
    const cases = [
      [{ from_user_id: a.id, to_user_id: b.id, amount: 11 }, S.FAILED_PRECONDITION, /insufficient balance/],
      [{ from_user_id: a.id, to_user_id: b.id, amount: 8 }, S.OUT_OF_RANGE, /receiver/],
      [{ from_user_id: ghost, to_user_id: b.id, amount: 1 }, S.NOT_FOUND, new RegExp(ghost)],
      [{ from_user_id: a.id, to_user_id: ghost, amount: 1 }, S.NOT_FOUND, new RegExp(ghost)],
      [{ from_user_id: a.id, to_user_id: a.id.toUpperCase(), amount: 1 }, S.INVALID_ARGUMENT, /to_user_id/],
    ];
    for (const [req, code, message] of cases) {
      const r = await call(w, 'TransferFunds', req);
      assert.equal(r.err && r.err.code, code, JSON.stringify(req));
      assert.match(r.err.details, message);
    }
    assert.equal(balanceOf(a.id), 10);
    assert.equal(balanceOf(b.id), 2147483640);
  });

  await t.test('a retried transfer with its key applies once and answers the same', async () => {
    const a = await newUser('retry-from', 50);
    const b = await newUser('retry-to');
    const req = { from_user_id: a.id, to_user_id: b.id, amount: 20, idempotency_key: `t-${crypto.randomUUID()}` };
    const first = await call(w, 'TransferFunds', req);
    const again = await call(w, 'TransferFunds', req);
    assert.equal(again.err, null);
    assert.deepEqual(again.res, first.res);
    assert.deepEqual(again.metadata.get('idempotent-replayed'), ['true']);
    assert.equal(balanceOf(a.id), 30);
    assert.equal(balanceOf(b.id), 20);
  });

  await t.test('32 clients transferring both ways at random: no deadlock, money is conserved', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, (_, i) => newUser(`storm${i}`, 1000)));
    const ids = users.map((u) => `'${u.id}'`).join(',');
    const total = () => Number(sql(`SELECT sum(balance) FROM "Wallet" WHERE "userId" IN (${ids})`));
    const before = total();
    const clients = Array.from({ length: 32 }, () =>
      new proto.wallet.WalletService(p.env.WALLET_SERVICE_URL, grpc.credentials.createInsecure()));
    const results = await Promise.all(clients.map(async (c, i) => {
      const out = [];
      for (let k = 0; k < 10; k++) {
        const from = users[(i + k) % 4];
        const to = users[(i + k + 1 + (k % 3)) % 4];
        out.push(await call(c, 'TransferFunds', { from_user_id: from.id, to_user_id: to.id, amount: 1 + ((i * k) % 50) }));
      }
      return out;
    }));
    for (const c of clients) c.close();
    const flat = results.flat();
    const unexpected = flat.filter((r) => r.err && r.err.code !== S.FAILED_PRECONDITION);
    assert.deepEqual(unexpected.map((r) => `${r.err.code} ${r.err.details}`), []);
    assert.ok(flat.filter((r) => r.err === null).length > 200, 'most transfers went through');
    assert.equal(total(), before, 'the sum of all balances is constant');
    assert.equal(sql(DRIFTED), '0');
  });
});
