// Mutual TLS for the tls*.test.js files: throwaway CAs and certificates from
// scripts/tls.sh (the ones `make run TLS=1` makes, plus the bad ones), both
// daemons started with TLS_* settings and the shipped example policy, and
// clients nobody here wrote: grpc-js credentials.createSsl and
// `buf curl --cacert --cert --key`.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, Daemon, freePort, DATABASE_URL, grpc, proto } = require('./harness');

const BUF = path.join(__dirname, '..', 'node_modules/.bin/buf');

function tlsScript(...args) {
  execFileSync('bash', [path.join(ROOT, 'scripts/tls.sh'), ...args], { stdio: 'pipe' });
}

// dir/: ca, user-service, wallet-service, client (admin), payments, support,
// expired (admin's SPIFFE ID, expired), selfsigned (admin's ID, no CA) and
// other-ca/intruder (admin's ID from another CA); policy.json, a copy of
// config/authz-policy.json the tests may rewrite.
function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-tls-'));
  tlsScript('init', dir);
  tlsScript('issue', dir, 'payments', 'client/payments');
  tlsScript('issue', dir, 'support', 'client/support');
  tlsScript('issue', dir, 'expired', 'client/admin', '-1');
  tlsScript('self', dir, 'selfsigned', 'client/admin');
  const other = path.join(dir, 'other-ca');
  tlsScript('ca', other);
  tlsScript('issue', other, 'intruder', 'client/admin');
  fs.copyFileSync(path.join(ROOT, 'config/authz-policy.json'), path.join(dir, 'policy.json'));
  return dir;
}

// Writes a file the way an operator should: complete, then renamed into place.
function replaceFile(file, text) {
  fs.writeFileSync(`${file}.new`, text);
  fs.renameSync(`${file}.new`, file);
}

// Both daemons under mutual TLS with the policy; env.user / env.wallet
// override either daemon's settings (e.g. another certificate).
async function startTlsPlatform(dir, env = {}) {
  const userPort = await freePort();
  const walletPort = await freePort();
  const common = {
    DATABASE_URL,
    USER_SERVICE_URL: `127.0.0.1:${userPort}`,
    WALLET_SERVICE_URL: `127.0.0.1:${walletPort}`,
    DB_SESSIONS: '2',
    TLS_CA_FILE: path.join(dir, 'ca.crt'),
    AUTHZ_POLICY_FILE: path.join(dir, 'policy.json'),
    TLS_RELOAD_SECONDS: '1',
    USER_SERVICE_TLS_NAME: 'user-service',
    WALLET_SERVICE_TLS_NAME: 'wallet-service',
  };
  const own = (name) => ({ TLS_CERT_FILE: path.join(dir, `${name}.crt`), TLS_KEY_FILE: path.join(dir, `${name}.key`) });
  const user = new Daemon('user-service', { ...common, ...own('user-service'), ...env.user });
  const wallet = new Daemon('wallet-service', { ...common, ...own('wallet-service'), ...env.wallet });
  await Promise.all([user.start(userPort), wallet.start(walletPort)]);
  const clients = [];
  return {
    user, wallet, userPort, walletPort,
    // A grpc-js client of service ('user' | 'wallet') presenting dir/<cert>.{crt,key}
    // (cert null: none), trusting dir/ca.crt.
    client(service, cert) {
      const port = service === 'user' ? userPort : walletPort;
      const Ctor = service === 'user' ? proto.user.UserService : proto.wallet.WalletService;
      const c = new Ctor(`127.0.0.1:${port}`, credentials(dir, cert));
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      return Promise.all([user.stop(), wallet.stop()]);
    },
  };
}

function credentials(dir, cert) {
  const read = (f) => fs.readFileSync(path.join(dir, f));
  if (!cert) return grpc.credentials.createSsl(read('ca.crt'));
  return grpc.credentials.createSsl(read('ca.crt'), read(`${cert}.key`), read(`${cert}.crt`));
}

// `buf curl` over TLS, with the schema from proto/ or (reflection: true) from
// the daemon's reflection service; { code, stdout, stderr }.
function bufCurlTls(dir, cert, port, method, body, { reflection = false } = {}) {
  const args = ['--cacert', path.join(dir, 'ca.crt')];
  if (cert) args.push('--cert', path.join(dir, `${cert}.crt`), '--key', path.join(dir, `${cert}.key`));
  if (!reflection) args.push('--schema', 'proto');
  const r = spawnSync(BUF, ['curl', '--protocol', 'grpc', ...args, '-d', JSON.stringify(body),
    `https://localhost:${port}/${method}`], { cwd: ROOT, encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The JSON log lines of a daemon.
function logLines(daemon) {
  return daemon.settledLog().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

// Polls fn until it returns truthy or timeoutMs passes; returns the last value.
async function eventually(fn, timeoutMs = 8000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

module.exports = { makeCerts, replaceFile, startTlsPlatform, credentials, bufCurlTls, logLines, eventually, tlsScript };
