// Per-method authorization by certificate identity with the shipped example
// policy (config/authz-policy.json, gRFC A43 format), called with grpc-js:
// each identity gets exactly its methods, denials are PERMISSION_DENIED (or
// UNAUTHENTICATED without a certificate) and logged with the caller, and a
// changed policy file applies without a restart while a broken one is
// ignored.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { call, uniqueEmail, grpc, DATABASE_URL } = require('./lib/harness');
const { makeCerts, replaceFile, startTlsPlatform, bufCurlTls, logLines, eventually } = require('./lib/tls');

const dir = makeCerts();
const POLICY = path.join(dir, 'policy.json');
const ORIGINAL = fs.readFileSync(POLICY, 'utf8');
const MISSING = '00000000-0000-4000-8000-000000000000';
const { OK, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED } = grpc.status;

const code = (r) => (r.err ? r.err.code : OK);

test('the example policy gives each identity exactly its methods', async (t) => {
  replaceFile(POLICY, ORIGINAL);
  const p = await startTlsPlatform(dir);
  t.after(() => p.stop());
  const wallet = (cert) => p.client('wallet', cert);
  const user = (cert) => p.client('user', cert);

  // CreateUser -> wallet CreateWallet (user-service's identity) -> user GetUserById
  // (wallet-service's identity): the chain the policy names works.
  const created = await call(user('support'), 'CreateUser', { email: uniqueEmail('authz'), name: 'Authz Jane' });
  assert.equal(created.err, null);
  const id = created.res.id;

  assert.equal(code(await call(wallet('support'), 'GetWallet', { user_id: id })), OK);
  assert.equal(code(await call(wallet('support'), 'CreditWallet', { user_id: id, amount: 5 })), PERMISSION_DENIED);
  assert.equal(code(await call(wallet('payments'), 'CreditWallet', { user_id: id, amount: 5 })), OK);
  assert.equal(code(await call(wallet('client'), 'DebitWallet', { user_id: id, amount: 2 })), OK);
  assert.equal(code(await call(wallet('client'), 'CreateWallet', { user_id: MISSING })), PERMISSION_DENIED);
  assert.equal(code(await call(wallet('wallet-service'), 'CreateWallet', { user_id: MISSING })), PERMISSION_DENIED);
  assert.notEqual(code(await call(wallet('user-service'), 'CreateWallet', { user_id: MISSING })), PERMISSION_DENIED);

  assert.equal(code(await call(user('client'), 'GetUserById', { id })), OK);
  assert.equal(code(await call(user('wallet-service'), 'GetUserById', { id })), OK);
  assert.equal(code(await call(user('user-service'), 'GetUserById', { id })), PERMISSION_DENIED);
  assert.equal(code(await call(user('support'), 'GetUserById', { id })), PERMISSION_DENIED);
  assert.equal(code(await call(user('payments'), 'GetUserById', { id })), PERMISSION_DENIED);

  // The denial names the caller, the policy and why; so does the call's own line.
  const lines = logLines(p.wallet).filter((l) => l.method === 'CreditWallet' && l.identity === 'spiffe://wallet.local/client/support');
  const denial = lines.find((l) => l.msg.includes('denied by authorization policy'));
  assert.ok(denial, 'the denial is logged');
  assert.equal(denial.level, 'warn');
  assert.match(denial.msg, /'wallet-platform': no allow rule matches/);
  assert.ok(lines.find((l) => l.code === 'PERMISSION_DENIED'));
  assert.ok(!p.wallet.log().includes('BEGIN CERTIFICATE'), 'no certificate material in the log');
});

test('a changed policy applies without a restart; a broken one is ignored', async (t) => {
  replaceFile(POLICY, ORIGINAL);
  const p = await startTlsPlatform(dir);
  t.after(() => { replaceFile(POLICY, ORIGINAL); return p.stop(); });
  const support = p.client('wallet', 'support');
  const credit = () => call(support, 'CreditWallet', { user_id: MISSING, amount: 1 });
  assert.equal(code(await credit()), PERMISSION_DENIED);

  const widened = JSON.parse(ORIGINAL);
  widened.allow_rules.find((r) => r.name === 'named-clients-move-money').source.principals.push('spiffe://wallet.local/client/support');
  replaceFile(POLICY, JSON.stringify(widened));
  assert.ok(await eventually(async () => code(await credit()) === NOT_FOUND), 'the widened policy was not applied');
  assert.ok(p.wallet.log().includes("authorization policy 'wallet-platform' reloaded"));

  replaceFile(POLICY, '{"name": "broken", "allow_rules": [');
  assert.ok(await eventually(() => p.wallet.log().includes('not reloaded, the previous one stays in force')));
  assert.equal(code(await credit()), NOT_FOUND, 'the last valid policy stays in force');

  replaceFile(POLICY, ORIGINAL);
  assert.ok(await eventually(async () => code(await credit()) === PERMISSION_DENIED), 'the original policy was not restored');
});

test('a caller without a certificate is UNAUTHENTICATED under a policy (TLS without client verification)', async (t) => {
  replaceFile(POLICY, ORIGINAL);
  // Server-side TLS only: no TLS_CA_FILE, so the handshake asks for no certificate.
  const p = await startTlsPlatform(dir, { wallet: { TLS_CA_FILE: '' } });
  t.after(() => p.stop());
  const r = await call(p.client('wallet', null), 'GetWallet', { user_id: MISSING });
  assert.equal(code(r), UNAUTHENTICATED);
  const line = logLines(p.wallet).find((l) => l.msg.includes('denied by authorization policy'));
  assert.match(line.msg, /deny rule 'no-caller-without-certificate' matches; caller without a certificate/);
});

test('streams (reflection) are authorized too', async (t) => {
  const closed = path.join(dir, 'no-reflection.json');
  fs.writeFileSync(closed, JSON.stringify({
    name: 'no-reflection',
    allow_rules: [{ name: 'read', source: { principals: ['spiffe://wallet.local/client/*'] }, request: { paths: ['/wallet.WalletService/GetWallet'] } }],
  }));
  const p = await startTlsPlatform(dir, { wallet: { AUTHZ_POLICY_FILE: closed } });
  t.after(() => p.stop());
  const viaSchema = bufCurlTls(dir, 'support', p.walletPort, 'wallet.WalletService/GetWallet', { user_id: MISSING });
  assert.match(viaSchema.stderr, /not_found/i);
  const viaReflection = bufCurlTls(dir, 'support', p.walletPort, 'wallet.WalletService/GetWallet', { user_id: MISSING },
    { reflection: true });
  assert.notEqual(viaReflection.code, 0);
  assert.match(viaReflection.stderr, /permission_denied|failed to find service/i); // buf's wording varies
  const denial = logLines(p.wallet).find((l) => l.method === 'ServerReflectionInfo' && l.msg.includes('denied'));
  assert.equal(denial.identity, 'spiffe://wallet.local/client/support');
});

test('an invalid policy file stops start-up', () => {
  const bad = path.join(dir, 'bad-policy.json');
  fs.writeFileSync(bad, JSON.stringify({ name: 'x', allow_rules: [{ name: 'r', source: { principal: ['typo'] } }] }));
  const bin = path.join(process.env.BIN_DIR || path.join(__dirname, '../../bin'), 'wallet-service');
  const r = spawnSync(bin, [], { env: { ...process.env, DATABASE_URL, AUTHZ_POLICY_FILE: bad, WALLET_SERVICE_URL: '127.0.0.1:1' }, encoding: 'utf8', timeout: 10000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown field "principal"/);
});

test('a policy header key with capitals (which could never match) stops start-up, naming the rule', () => {
  const bad = path.join(dir, 'capitals-policy.json');
  fs.writeFileSync(bad, JSON.stringify({ name: 'x', deny_rules: [{ name: 'no-test-tenant',
    request: { headers: [{ key: 'X-Tenant', values: ['test'] }] } }], allow_rules: [{ name: 'all' }] }));
  const bin = path.join(process.env.BIN_DIR || path.join(__dirname, '../../bin'), 'wallet-service');
  const r = spawnSync(bin, [], { env: { ...process.env, DATABASE_URL, AUTHZ_POLICY_FILE: bad, WALLET_SERVICE_URL: '127.0.0.1:1' }, encoding: 'utf8', timeout: 10000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /deny_rules 0 \("no-test-tenant"\): headers 0: "key" X-Tenant has capitals, which never match/);
});
