// `make run TLS=1` as the README tells a newcomer to use it: throwaway
// certificates appear in var/tls, both daemons serve mutual TLS with the
// example policy, the client certificate made for them works (the
// CreateUser -> CreateWallet -> GetUserById chain included) and may call
// every method of the contract but CreateWallet, a caller without one is
// refused, and Ctrl-C stops everything. Its own VAR_DIR, never var/. The
// methods are read from proto/, whatever it holds: every one must be in the
// example policy. A failure kills all it started (lib/owned.js), so it
// always ends.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { ROOT, DATABASE_URL, proto, call, freePort, uniqueEmail, grpc } = require('./lib/harness');
const { credentials } = require('./lib/tls');
const { spawnOwned } = require('./lib/owned');
const protoLoader = require('@grpc/proto-loader');

// Every rpc of the contract: { service: 'pkg.Service', path: '/pkg.Service/Method' }.
function contractMethods() {
  const files = fs.readdirSync(path.join(ROOT, 'proto')).filter((f) => f.endsWith('.proto'));
  const def = protoLoader.loadSync(files, { includeDirs: [path.join(ROOT, 'proto'), '/usr/include'] });
  const methods = [];
  for (const [name, entry] of Object.entries(def)) {
    for (const m of Object.values(entry)) {
      if (m && typeof m.path === 'string' && m.path.startsWith(`/${name}/`)) methods.push({ service: name, path: m.path });
    }
  }
  return methods;
}

// The environment variable a service's address is read from: user.UserService -> USER_SERVICE_URL.
function addressEnv(service) {
  return `${service.split('.').pop().replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_URL`;
}

const POLICY = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/authz-policy.json'), 'utf8'));

test('every method of the contract is in the example policy', () => {
  const paths = POLICY.allow_rules.flatMap((r) => (r.request && r.request.paths) || []);
  const covered = (p) => paths.some((q) => q === p || q === '*' || (q.endsWith('/*') && p.startsWith(q.slice(0, -1))));
  const methods = contractMethods();
  assert.ok(methods.length > 0);
  const missing = methods.map((m) => m.path).filter((p) => !covered(p));
  assert.deepEqual(missing, [], `methods no rule of config/authz-policy.json allows (PERMISSION_DENIED for everyone under make run TLS=1): ${missing.join(', ')}`);
});

// Calls path with an empty request; resolves to the status code.
function rawCall(address, creds, p) {
  const client = new grpc.Client(address, creds);
  return new Promise((resolve) => {
    client.makeUnaryRequest(p, (b) => b, (b) => b, Buffer.alloc(0), { deadline: Date.now() + 10000 }, (err) => {
      client.close();
      resolve(err ? err.code : grpc.status.OK);
    });
  });
}

const BIN = process.env.BIN_DIR || path.join(ROOT, 'bin');

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

async function waitFor(predicate, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('make run TLS=1 serves mutual TLS with the example policy', { timeout: 180000 }, async () => {
  const varDir = fs.mkdtempSync('/tmp/wallet-run-tls-');
  const userPort = await freePort();
  const walletPort = await freePort();
  const env = {
    VAR_DIR: varDir, DATABASE_URL, WORKERS: '2', METRICS_ADDR: '0',
    USER_SERVICE_URL: `127.0.0.1:${userPort}`, WALLET_SERVICE_URL: `127.0.0.1:${walletPort}`,
  };
  const run = spawnOwned('make', ['--no-print-directory', '-s', 'run', 'TLS=1', `BIN=${BIN}`], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  run.child.stdout.on('data', (d) => { output += d; });
  run.child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => run.child.once('exit', resolve));
  try {
    assert.ok(await waitFor(() => /Ctrl-C stops both/.test(output), 60000), output);
    assert.ok(await waitFor(async () => await listening(userPort) && listening(walletPort), 20000), output);
    const tls = path.join(varDir, 'tls');
    for (const f of ['ca.crt', 'user-service.crt', 'wallet-service.key', 'client.crt', 'client.key'])
      assert.ok(fs.existsSync(path.join(tls, f)), f);
    assert.match(output, /mutual TLS with the certificates in/);

    const user = new proto.user.UserService(env.USER_SERVICE_URL, credentials(tls, 'client'));
    const created = await call(user, 'CreateUser', { email: uniqueEmail('runtls'), name: 'Run Tls' }, { timeoutMs: 20000 });
    assert.equal(created.err, null, created.err && created.err.details);
    const fetched = await call(user, 'GetUserById', { id: created.res.id });
    assert.equal(fetched.err, null);
    user.close();

    // The admin may call every method but CreateWallet: an empty request
    // passes the policy and is answered by the method (INVALID_ARGUMENT,
    // NOT_FOUND...), or is refused by it.
    for (const m of contractMethods()) {
      const code = await rawCall(env[addressEnv(m.service)], credentials(tls, 'client'), m.path);
      if (m.path === '/wallet.WalletService/CreateWallet') assert.equal(code, grpc.status.PERMISSION_DENIED, m.path);
      else assert.notEqual(code, grpc.status.PERMISSION_DENIED, `admin is refused ${m.path}`);
    }

    const anonymous = new proto.wallet.WalletService(env.WALLET_SERVICE_URL, credentials(tls, null));
    const refused = await call(anonymous, 'GetWallet', { user_id: created.res.id }, { timeoutMs: 5000 });
    anonymous.close();
    assert.equal(refused.err && refused.err.code, grpc.status.UNAVAILABLE);
    assert.match(output, /"identity":"spiffe:\/\/wallet.local\/client\/admin"/);

    run.signalGroup('SIGINT');
    await exited;
    assert.match(output, /"msg":"stopped"/);
  } finally {
    run.stop();
    fs.rmSync(varDir, { recursive: true, force: true });
  }
});
