// Page tokens keyed with the deployment's secret (SPEC "Security", issue 20):
// a token a client computes (36789b1's public checksum) is refused, a token
// holds no ledger number, replicas sharing PAGE_TOKEN_SECRET_FILE accept each
// other's tokens, and a rotation (new secret added, made current, the old one
// dropped) keeps tokens working until the old secret is removed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { call, sql, startPlatform, freePort, Daemon, uniqueEmail, grpc, proto } = require('./lib/harness');

const S = grpc.status;
const OLD = crypto.randomBytes(32).toString('base64');
const NEW = crypto.randomBytes(32).toString('base64');

// The token 36789b1 gave for position in scope: anyone can compute it.
function checksumToken(scope, position) {
  const pos = Buffer.alloc(8);
  pos.writeBigInt64BE(BigInt(position));
  const check = crypto.createHash('sha256').update('page-token/v1\n').update(scope).update(Buffer.from([0]))
    .update(pos).digest().subarray(0, 12);
  return Buffer.concat([pos, check]).toString('base64url');
}

// The seq of a wallet's entries, newest first (what tokens must not reveal).
function seqs(userId) {
  return sql(`SELECT e."seq" FROM "WalletEntry" e JOIN "Wallet" w ON w."id" = e."walletId"
               WHERE w."userId" = '${userId}' ORDER BY e."seq" DESC`).split('\n').map(Number);
}

async function waitForLog(daemon, pattern, count) {
  const until = Date.now() + 15000;
  while ((daemon.log().match(pattern) || []).length < count) {
    assert.ok(Date.now() < until, `no ${pattern} in ${daemon.name}'s log`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('page tokens', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'page-tokens-'));
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, `${OLD}\n`, { mode: 0o600 });
  const p = await startPlatform({ PAGE_TOKEN_SECRET_FILE: secretFile, TLS_RELOAD_SECONDS: '1' });
  const walletPort = await freePort();
  const replica = new Daemon('wallet-service', { ...p.env, WALLET_SERVICE_URL: `127.0.0.1:${walletPort}`, METRICS_ADDR: '0' });
  const replicaClient = new proto.wallet.WalletService(`127.0.0.1:${walletPort}`, grpc.credentials.createInsecure());
  t.after(async () => { // registered before anything can fail: a failing test stops what it started
    replicaClient.close();
    await replica.stop();
    await p.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await replica.start(walletPort);
  const w = p.walletClient;
  const user = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('tokens'), name: 'Tokens' })).res;
  for (let i = 1; i <= 12; i++) await call(w, 'CreditWallet', { user_id: user.id, amount: i });
  const page = (size, token = '', client = w) => call(client, 'ListTransactions', { user_id: user.id, page_size: size, page_token: token });

  await t.test('a token computed by the client (the checksum of 36789b1) is INVALID_ARGUMENT', async () => {
    const all = seqs(user.id);
    const first = await page(2);
    assert.equal(first.err, null);
    // Skip ahead to after the 8th newest entry, which the server never handed out a token for.
    const forged = checksumToken(`ListTransactions:${user.id}`, all[7]);
    const r = await page(2, forged);
    assert.equal(r.err && r.err.code, S.INVALID_ARGUMENT, 'a forged token is refused');
    assert.match(r.err.details, /page_token/);
  });

  await t.test('a token reveals nothing: not the entry number, and differs for the same page', async () => {
    const all = seqs(user.id);
    const a = (await page(3)).res.next_page_token;
    const b = (await page(3)).res.next_page_token;
    assert.notEqual(a, b);
    const raw = Buffer.from(a, 'base64url');
    const seq = Buffer.alloc(8);
    seq.writeBigInt64BE(BigInt(all[2]));
    assert.equal(raw.indexOf(seq), -1, 'the sequence number is not in the token');
    assert.equal(raw.indexOf(seq.subarray(4)), -1, 'nor its low half');
  });

  await t.test('replicas with the same secret accept each other\'s tokens', async () => {
    const token = (await page(5)).res.next_page_token;
    const r = await page(5, token, replicaClient);
    assert.equal(r.err, null);
    assert.deepEqual(r.res.transactions.map((x) => x.amount), [7, 6, 5, 4, 3]);
  });

  await t.test('rotation: tokens of the old secret work until it is dropped', async () => {
    const oldToken = (await page(4)).res.next_page_token;
    fs.writeFileSync(secretFile, `${OLD}\n${NEW}\n`); // step 1: every replica learns the new secret
    await Promise.all([waitForLog(p.wallet, /page token secrets reloaded/g, 1), waitForLog(replica, /page token secrets reloaded/g, 1)]);
    fs.writeFileSync(secretFile, `${NEW}\n${OLD}\n`); // step 2: the new one makes tokens
    await Promise.all([waitForLog(p.wallet, /page token secrets reloaded/g, 2), waitForLog(replica, /page token secrets reloaded/g, 2)]);
    const newToken = (await page(4)).res.next_page_token;
    for (const client of [w, replicaClient]) {
      assert.equal((await page(4, oldToken, client)).err, null, 'the old token still works');
      assert.equal((await page(4, newToken, client)).err, null, 'the new token works');
    }
    fs.writeFileSync(secretFile, `${NEW}\n`); // step 3, a TTL later: the old secret goes
    await waitForLog(p.wallet, /page token secrets reloaded/g, 3);
    assert.equal((await page(4, oldToken)).err.code, S.INVALID_ARGUMENT);
    const r = await page(4, newToken);
    assert.equal(r.err, null);
    assert.deepEqual(r.res.transactions.map((x) => x.amount), [8, 7, 6, 5]);
  });

  await t.test('an invalid secret file keeps the secrets in force and says so', async () => {
    const token = (await page(4)).res.next_page_token;
    fs.writeFileSync(secretFile, 'short\n');
    await waitForLog(p.wallet, /page token secrets .* not reloaded/g, 1);
    assert.equal((await page(4, token)).err, null);
  });
});

test('a secret file that is not one stops the daemon at start with a clear message', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'page-tokens-'));
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, 'too short\n');
  const port = await freePort();
  const d = new Daemon('wallet-service', {
    DATABASE_URL: process.env.DATABASE_URL, WALLET_SERVICE_URL: `127.0.0.1:${port}`, METRICS_ADDR: '0', PAGE_TOKEN_SECRET_FILE: secretFile,
  });
  t.after(async () => { // a daemon that did start (the test failing) is stopped
    await d.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await assert.rejects(d.start(port));
  const { code } = await d.exited;
  assert.equal(code, 2);
  assert.match(d.log(), /PAGE_TOKEN_SECRET_FILE .*secret/);
});
