// The peer service's admission class belongs to the peer (runtime/src/admission.h):
// a client that sends x-call-depth by itself stays in the callers' class, so
// it cannot fill the class the other service's calls need (which would make
// CreateUser -> CreateWallet -> GetUserById fail for everyone). Under mutual
// TLS the peer is the certificate naming it; on plaintext, the peer's address.
// user-service runs with one call per class and no queue; a spoofed
// GetUserById is parked on a locked "User" table while wallet-service's real
// GetUserById (from CreateWallet) must still get in.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { call, sql, grpc, proto, freePort, Daemon, DATABASE_URL } = require('./lib/harness');
const { holdRowLock, waitForLockWaiters } = require('./lib/row_lock');
const { makeCerts, startTlsPlatform } = require('./lib/tls');

const S = grpc.status;
const SMALL = { MAX_CALLS: '1', MAX_QUEUED_CALLS: '0', WORKERS: '4' };

// Parks a spoofed peer call on user-service, then has wallet-service make a
// real one; returns both outcomes.
async function spoofThenRealPeerCall(userClient, walletClient) {
  const lock = await holdRowLock('LOCK TABLE "User" IN ACCESS EXCLUSIVE MODE');
  let spoofed;
  let real;
  try {
    spoofed = call(userClient, 'GetUserById', { id: crypto.randomUUID() },
      { metadata: { 'x-call-depth': '1' }, timeoutMs: 20000 });
    await waitForLockWaiters('user-service', 1);
    let done = false;
    real = call(walletClient, 'CreateWallet', { user_id: crypto.randomUUID() }, { timeoutMs: 20000 })
      .then((r) => { done = true; return r; });
    // Refused at once when the spoofed call holds the peer class; else it waits on the lock too.
    // At most 3 s: the real call's own peer call gives up after 5 s (runtime's peer cap), and
    // on a loaded machine a lock wait may not show in pg_stat_activity before that.
    const until = Date.now() + 3000;
    for (;;) {
      if (done) break;
      const waiting = Number(sql(`SELECT count(*) FROM pg_stat_activity
        WHERE application_name = 'user-service' AND wait_event_type = 'Lock'`));
      if (waiting >= 2 || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await lock.release();
  }
  return { spoofed: await spoofed, real: await real };
}

test('mutual TLS: a client certificate sending x-call-depth gets the callers\' class', async (t) => {
  const dir = makeCerts();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The admin client may also create wallets here, so the test can start the chain.
  const policy = JSON.parse(fs.readFileSync(path.join(dir, 'policy.json'), 'utf8'));
  policy.allow_rules.push({ name: 'test-admin-creates-wallets', source: { principals: ['spiffe://wallet.local/client/admin'] },
    request: { paths: ['/wallet.WalletService/CreateWallet'] } });
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify(policy));
  const p = await startTlsPlatform(dir, { user: SMALL });
  t.after(() => p.stop());
  const { spoofed, real } = await spoofThenRealPeerCall(p.client('user', 'client'), p.client('wallet', 'client'));
  assert.equal(spoofed.err && spoofed.err.code, S.NOT_FOUND, spoofed.err && spoofed.err.details);
  assert.equal(real.err && real.err.code, S.NOT_FOUND, `the peer's call got in: ${real.err && real.err.details}`);
});

test('plaintext: x-call-depth from an address that is not the peer\'s gets the callers\' class', async (t) => {
  // wallet-service is reached (and calls from) ::1; the spoofing client comes from 127.0.0.1.
  const userPort = await freePort();
  const walletPort = await freePort();
  const user = new Daemon('user-service', { DATABASE_URL, ...SMALL, METRICS_ADDR: '0',
    USER_SERVICE_URL: `[::]:${userPort}`, WALLET_SERVICE_URL: `[::1]:${walletPort}` });
  const wallet = new Daemon('wallet-service', { DATABASE_URL, WORKERS: '2', METRICS_ADDR: '0',
    USER_SERVICE_URL: `[::1]:${userPort}`, WALLET_SERVICE_URL: `[::]:${walletPort}` });
  await Promise.all([user.start(userPort), wallet.start(walletPort)]);
  const userClient = new proto.user.UserService(`127.0.0.1:${userPort}`, grpc.credentials.createInsecure());
  const walletClient = new proto.wallet.WalletService(`127.0.0.1:${walletPort}`, grpc.credentials.createInsecure());
  t.after(async () => {
    userClient.close();
    walletClient.close();
    await Promise.all([user.stop(), wallet.stop()]);
  });
  const { spoofed, real } = await spoofThenRealPeerCall(userClient, walletClient);
  assert.equal(spoofed.err && spoofed.err.code, S.NOT_FOUND, spoofed.err && spoofed.err.details);
  assert.equal(real.err && real.err.code, S.NOT_FOUND, `the peer's call got in: ${real.err && real.err.details}`);
});
