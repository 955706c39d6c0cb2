// Mutual TLS end to end, with clients nobody here wrote: grpc-js
// (credentials.createSsl) and buf curl (--cacert --cert --key). TLS works
// and the services' own peer calls run over it; a missing, self-signed,
// expired or other-CA client certificate is refused before any handler; a
// rotated server certificate is served without a restart (a key truncated
// in place is refused, not fatal; a rotation refused half-way is installed
// whole once complete; a key that is not the certificate's is refused); a peer showing
// the wrong identity fails closed; plaintext beyond loopback warns once.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { call, sql, uniqueEmail, grpc, Daemon, freePort, DATABASE_URL } = require('./lib/harness');
const { makeCerts, startTlsPlatform, bufCurlTls, logLines, eventually, tlsScript } = require('./lib/tls');

const dir = makeCerts();

test('mutual TLS: grpc-js and buf curl call both daemons, whose peer calls run over mTLS', async (t) => {
  const p = await startTlsPlatform(dir);
  t.after(() => p.stop());
  const admin = p.client('user', 'client');
  const email = uniqueEmail('tls');
  // CreateUser makes user-service call wallet-service's CreateWallet over mTLS.
  const created = await call(admin, 'CreateUser', { email, name: 'Tls Jane' });
  assert.equal(created.err, null);
  const id = created.res.id;
  assert.equal(sql(`SELECT balance FROM "Wallet" WHERE "userId" = '${id}'`), '0');

  const credited = bufCurlTls(dir, 'payments', p.walletPort, 'wallet.WalletService/CreditWallet', { user_id: id, amount: 500 });
  assert.equal(credited.code, 0, credited.stderr);
  assert.equal(Number(JSON.parse(credited.stdout).balance), 500);
  const got = bufCurlTls(dir, 'client', p.walletPort, 'wallet.WalletService/GetWallet', { user_id: id });
  assert.equal(got.code, 0, got.stderr);
  assert.equal(Number(JSON.parse(got.stdout).balance), 500);
  // Reflection (a stream) under mutual TLS and the policy, as grpcurl and buf use it.
  const reflected = bufCurlTls(dir, 'support', p.walletPort, 'wallet.WalletService/GetWallet', { user_id: id },
    { reflection: true });
  assert.equal(reflected.code, 0, reflected.stderr);
  assert.equal(Number(JSON.parse(reflected.stdout).balance), 500);
  const reflection = logLines(p.wallet).find((l) => l.method === 'ServerReflectionInfo');
  assert.equal(reflection.identity, 'spiffe://wallet.local/client/support');

  // Every line of a call names its caller; wallet-service's CreateWallet line names user-service.
  const userLines = logLines(p.user).filter((l) => l.method === 'CreateUser');
  assert.ok(userLines.length > 0);
  for (const l of userLines) assert.equal(l.identity, 'spiffe://wallet.local/client/admin');
  const walletCreate = logLines(p.wallet).find((l) => l.method === 'CreateWallet' && l.code === 'OK');
  assert.equal(walletCreate.identity, 'spiffe://wallet.local/user-service');
  assert.ok(!p.user.log().includes('serving plaintext'), 'no plaintext warning under TLS');
});

test('mutual TLS refuses missing, self-signed, expired and other-CA client certificates', async (t) => {
  const p = await startTlsPlatform(dir);
  t.after(() => p.stop());
  for (const cert of [null, 'selfsigned', 'expired', 'other-ca/intruder']) {
    const r = await call(p.client('wallet', cert), 'GetWallet', { user_id: '00000000-0000-4000-8000-000000000000' },
      { timeoutMs: 5000 });
    assert.ok(r.err, `${cert || 'no certificate'} was let in`);
    assert.equal(r.err.code, grpc.status.UNAVAILABLE, `${cert}: ${r.err.message}`);
  }
  const bare = bufCurlTls(dir, null, p.walletPort, 'wallet.WalletService/GetWallet', { user_id: 'x' });
  assert.notEqual(bare.code, 0);
  const plain = await call(new (require('./lib/harness').proto.wallet.WalletService)(`127.0.0.1:${p.walletPort}`,
    grpc.credentials.createInsecure()), 'GetWallet', { user_id: 'x' }, { timeoutMs: 3000 });
  assert.ok(plain.err, 'plaintext was let in');
  // None of them reached a handler: no call was logged.
  assert.equal(logLines(p.wallet).filter((l) => l.method === 'GetWallet').length, 0);
});

// The served certificate's serial, as a client fetching it with openssl sees it.
function servedSerial(port) {
  const out = execFileSync('bash', ['-c',
    `openssl s_client -connect 127.0.0.1:${port} -CAfile "${dir}/ca.crt" -cert "${dir}/client.crt" ` +
    `-key "${dir}/client.key" -alpn h2 </dev/null 2>/dev/null | openssl x509 -noout -serial`], { encoding: 'utf8', timeout: 10000 });
  return out.trim();
}

test('a rotated server certificate is served without a restart; a truncated key is not taken', async (t) => {
  const rotating = path.join(dir, 'rotating');
  tlsScript('issue', rotating, 'wallet-service', 'wallet-service', '825', dir);
  const p = await startTlsPlatform(dir, {
    wallet: { TLS_CERT_FILE: `${rotating}/wallet-service.crt`, TLS_KEY_FILE: `${rotating}/wallet-service.key` },
  });
  t.after(() => p.stop());
  const before = servedSerial(p.walletPort);
  assert.match(before, /^serial=/);
  tlsScript('issue', rotating, 'wallet-service', 'wallet-service', '825', dir);
  const after = await eventually(() => { const s = servedSerial(p.walletPort); return s !== before && s; });
  assert.ok(after, 'the new certificate was not served');
  const r = await call(p.client('wallet', 'client'), 'GetWallet', { user_id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(r.err.code, grpc.status.NOT_FOUND); // through TLS to the handler

  // A key truncated in place (libgrpc 1.51 would abort on reading it empty) is
  // refused and logged; the daemon keeps serving with the previous one.
  fs.writeFileSync(`${rotating}/wallet-service.key`, '');
  assert.ok(await eventually(() => p.wallet.log().includes('does not hold a PEM private key; not reloaded')));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a reload interval of the core's watcher
  assert.equal(servedSerial(p.walletPort), after);
  const still = await call(p.client('wallet', 'client'), 'GetWallet', { user_id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(still.err.code, grpc.status.NOT_FOUND);
});

test("peer calls fail closed when the peer shows another service's certificate", async (t) => {
  // wallet-service presents user-service's certificate: valid, same CA, wrong name.
  const p = await startTlsPlatform(dir, {
    wallet: { TLS_CERT_FILE: path.join(dir, 'user-service.crt'), TLS_KEY_FILE: path.join(dir, 'user-service.key') },
  });
  t.after(() => p.stop());
  const email = uniqueEmail('tlspeer');
  const r = await call(p.client('user', 'client'), 'CreateUser', { email, name: 'Peer Check' });
  assert.ok(r.err, 'CreateUser went through an impostor');
  assert.equal(r.err.code, grpc.status.UNAVAILABLE);
  assert.equal(sql(`SELECT count(*) FROM "User" WHERE email = '${email}'`), '0');
  assert.equal(logLines(p.wallet).filter((l) => l.method === 'CreateWallet').length, 0);
});

test('without a TLS name the peer certificate must name the dialled host (127.0.0.1)', async (t) => {
  const p = await startTlsPlatform(dir, { user: { WALLET_SERVICE_TLS_NAME: '' }, wallet: { USER_SERVICE_TLS_NAME: '' } });
  t.after(() => p.stop());
  const r = await call(p.client('user', 'client'), 'CreateUser', { email: uniqueEmail('tlshost'), name: 'Host Check' });
  assert.equal(r.err, null);
});

test('plaintext beyond loopback warns once at start-up; on loopback it does not', async (t) => {
  const wide = await freePort();
  const local = await freePort();
  const env = { DATABASE_URL, WALLET_SERVICE_URL: '127.0.0.1:1' };
  const a = new Daemon('user-service', { ...env, USER_SERVICE_URL: `0.0.0.0:${wide}` });
  const b = new Daemon('user-service', { ...env, USER_SERVICE_URL: `127.0.0.1:${local}` });
  b.logFile += '.loopback'; // both would otherwise share one file
  await Promise.all([a.start(wide), b.start(local)]);
  t.after(() => Promise.all([a.stop(), b.stop()]));
  // The port opens before the start-up lines are all written.
  for (const d of [a, b]) assert.ok(await eventually(() => d.log().includes('"msg":"serving ')), d.log());
  const warnings = logLines(a).filter((l) => l.msg.includes('serving plaintext beyond loopback'));
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].level, 'warn');
  assert.equal(logLines(b).filter((l) => l.msg.includes('serving plaintext')).length, 0);
});

test('the metrics endpoint stays plaintext on its own address under mutual TLS', async (t) => {
  const metricsPort = await freePort();
  const p = await startTlsPlatform(dir, { wallet: { METRICS_ADDR: `127.0.0.1:${metricsPort}` } });
  t.after(() => p.stop());
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
});

// The served serial, or null while no handshake succeeds.
function servedSerialOrNull(port) {
  try {
    return servedSerial(port);
  } catch {
    return null;
  }
}

test('a rotation refused half-way is installed whole once complete; a key of another certificate is refused', async (t) => {
  // A certificate directory swapped in one step (a symlink, as Kubernetes mounts secrets):
  // certificate and key change in the same tick.
  const base = path.join(dir, 'swapped');
  for (const v of ['v1', 'v2', 'v3']) tlsScript('issue', path.join(base, v), 'wallet-service', 'wallet-service', '825', dir);
  const swapTo = (v) => {
    fs.symlinkSync(v, path.join(base, 'next'));
    fs.renameSync(path.join(base, 'next'), path.join(base, 'current'));
  };
  swapTo('v1');
  const p = await startTlsPlatform(dir, { wallet: {
    TLS_CERT_FILE: path.join(base, 'current/wallet-service.crt'), TLS_KEY_FILE: path.join(base, 'current/wallet-service.key'),
  } });
  t.after(() => p.stop());
  const serialOf = (v) => execFileSync('openssl', ['x509', '-noout', '-serial', '-in', path.join(base, v, 'wallet-service.crt')],
    { encoding: 'utf8' }).trim();
  assert.equal(servedSerial(p.walletPort), serialOf('v1'));

  // v2 arrives with its key half-written: refused, v1 stays.
  const v2key = path.join(base, 'v2/wallet-service.key');
  const key = fs.readFileSync(v2key);
  fs.writeFileSync(v2key, key.subarray(0, 10));
  swapTo('v2');
  assert.ok(await eventually(() => p.wallet.log().includes('does not hold a PEM private key; not reloaded')));
  assert.equal(servedSerial(p.walletPort), serialOf('v1'));
  // The key completes (renamed into place): the whole pair is installed, not the key alone.
  fs.writeFileSync(`${v2key}.new`, key);
  fs.renameSync(`${v2key}.new`, v2key);
  assert.ok(await eventually(() => servedSerialOrNull(p.walletPort) === serialOf('v2')), 'v2 is not served');
  const r = await call(p.client('wallet', 'client'), 'GetWallet', { user_id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(r.err.code, grpc.status.NOT_FOUND);

  // v3's certificate with v2's key: refused as a pair, v2 keeps serving.
  fs.copyFileSync(v2key, path.join(base, 'v3/wallet-service.key'));
  swapTo('v3');
  assert.ok(await eventually(() => p.wallet.log().includes('is not the one of the certificate')));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a reload interval of the core's watcher
  assert.equal(servedSerialOrNull(p.walletPort), serialOf('v2'));
});

test('a certificate without its key, an unreadable CA or an empty key stops start-up with a clear message', () => {
  const bin = path.join(process.env.BIN_DIR || path.join(__dirname, '../../bin'), 'wallet-service');
  // Bounded: a daemon that wrongly starts must fail the test, not hang it.
  const run = (env) => require('node:child_process').spawnSync(bin, [], { env: { ...process.env, DATABASE_URL, ...env },
    encoding: 'utf8', timeout: 20000 });
  let r = run({ TLS_CERT_FILE: path.join(dir, 'wallet-service.crt') });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /TLS_CERT_FILE and TLS_KEY_FILE go together/);
  r = run({ TLS_CERT_FILE: path.join(dir, 'wallet-service.crt'), TLS_KEY_FILE: path.join(dir, 'wallet-service.key'),
    TLS_CA_FILE: path.join(dir, 'missing.crt') });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /TLS_CA_FILE: cannot read/);
  // An empty key would make the core abort at the first handshake: refused up front.
  r = run({ TLS_CERT_FILE: path.join(dir, 'wallet-service.crt'), TLS_KEY_FILE: '/dev/null', WALLET_SERVICE_URL: '127.0.0.1:1' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /TLS_KEY_FILE: '\/dev\/null' does not hold a PEM private key/);
  // A key that is not the certificate's would fail every handshake: refused up front, naming both files.
  r = run({ TLS_CERT_FILE: path.join(dir, 'wallet-service.crt'), TLS_KEY_FILE: path.join(dir, 'user-service.key'),
    WALLET_SERVICE_URL: '127.0.0.1:1' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /TLS_KEY_FILE: the key in '.*user-service.key' is not the one of the certificate in '.*wallet-service.crt'/);
});
