// Test harness: starts the real daemons against the real PostgreSQL that
// run.sh prepared (DATABASE_URL, the daemons' role wallet_app), and calls them
// with @grpc/grpc-js, a client nobody here wrote. Each test file gets its own
// pair of daemons on free ports. sql() is the test's own hand on the database,
// as a superuser (ADMIN_DATABASE_URL): it sets up and inspects what the
// daemons' role may not.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const ROOT = path.resolve(__dirname, '../../..');
const BIN = process.env.BIN_DIR || path.join(ROOT, 'bin');
const LOG_DIR = process.env.LOG_DIR || fs.mkdtempSync('/tmp/wallet-it-');
const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) throw new Error('DATABASE_URL is not set: run tests through tests/integration/run.sh');
const ADMIN_DATABASE_URL = process.env.ADMIN_DATABASE_URL || DATABASE_URL;

const packageDefinition = protoLoader.loadSync(['user.proto', 'wallet.proto'], {
  includeDirs: [path.join(ROOT, 'proto'), '/usr/include'],
  keepCase: true, longs: Number, defaults: true,
});
const proto = grpc.loadPackageDefinition(packageDefinition);

// A port nobody listens on, below the kernel's ephemeral range (32768 and up):
// a port the kernel picked could be handed to an outgoing connection (a
// daemon's database sessions) before the daemon meant to listen binds it.
// Never the same one twice in a process.
const handedOut = new Set();
function tryPort(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (!handedOut.has(port) && await tryPort(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function waitForPort(port, child, timeoutMs) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`daemon exited with ${child.exitCode}`));
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() - started > timeoutMs) reject(new Error(`port ${port} not open after ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

// One daemon process; stderr (its JSON log) goes to a file the tests can read.
class Daemon {
  constructor(name, env) {
    this.name = name;
    this.env = env;
    this.logFile = path.join(LOG_DIR, `${name}-${process.pid}-${Date.now()}.log`);
  }

  async start(port) {
    const wrapper = process.env.DAEMON_WRAPPER ? process.env.DAEMON_WRAPPER.split(' ') : [];
    const argv = [...wrapper, path.join(BIN, this.name)];
    const log = fs.openSync(this.logFile, 'a');
    this.child = spawn(argv[0], argv.slice(1), {
      env: { ...process.env, ...this.env }, stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    await waitForPort(port, this.child, wrapper.length ? 60000 : 10000);
  }

  async stop(signal = 'SIGTERM') {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill(signal);
    return this.exited;
  }

  log() {
    return fs.readFileSync(this.logFile, 'utf8');
  }

  // The log once the lines of calls already answered are out: a call's info
  // line is written after its answer, in batches (runtime/src/log.c flushes
  // within RT_LOG_FLUSH_MS, 10 ms), so a test that reads it right after the
  // answer first waits, synchronously, for the file to stop growing.
  settledLog(quietMs = 60) {
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let size = -1;
    for (let i = 0; i < 50 && fs.statSync(this.logFile).size !== size; i++) {
      size = fs.statSync(this.logFile).size;
      Atomics.wait(pause, 0, 0, quietMs);
    }
    return this.log();
  }
}

// Both daemons on fresh ports, each knowing where the other is; each serves
// /metrics on a fresh port of its own (userMetricsPort, walletMetricsPort);
// extraEnv is added to both daemons' environment.
async function startPlatform(extraEnv = {}) {
  const userPort = await freePort();
  const walletPort = await freePort();
  const userMetricsPort = await freePort();
  const walletMetricsPort = await freePort();
  const env = {
    DATABASE_URL,
    USER_SERVICE_URL: `127.0.0.1:${userPort}`,
    WALLET_SERVICE_URL: `127.0.0.1:${walletPort}`,
    DB_SESSIONS: process.env.DB_SESSIONS || '4',
    ...extraEnv,
  };
  const user = new Daemon('user-service', { ...env, METRICS_ADDR: `127.0.0.1:${userMetricsPort}` });
  const wallet = new Daemon('wallet-service', { ...env, METRICS_ADDR: `127.0.0.1:${walletMetricsPort}` });
  await Promise.all([user.start(userPort), wallet.start(walletPort)]);
  const userClient = new proto.user.UserService(env.USER_SERVICE_URL, grpc.credentials.createInsecure());
  const walletClient = new proto.wallet.WalletService(env.WALLET_SERVICE_URL, grpc.credentials.createInsecure());
  return {
    env, user, wallet, userPort, walletPort, userMetricsPort, walletMetricsPort, userClient, walletClient,
    async stop() {
      userClient.close();
      walletClient.close();
      const results = await Promise.all([user.stop(), wallet.stop()]);
      return results;
    },
  };
}

// Unary call as a promise resolving to { err, res, metadata } (never rejects),
// so tests assert on codes directly.
function call(client, method, request, options = {}) {
  const deadline = options.deadline || new Date(Date.now() + (options.timeoutMs || 10000));
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata || {})) metadata.set(k, v);
  return new Promise((resolve) => {
    let initial = null;
    const c = client[method](request, metadata, { deadline }, (err, res) => resolve({ err, res, metadata: initial }));
    c.on('metadata', (md) => { initial = md; });
  });
}

// Raw bytes to any method path, bypassing the client's own serializer.
function rawCall(address, methodPath, bytes, timeoutMs = 5000) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
  return new Promise((resolve) => {
    client.makeUnaryRequest(methodPath, (b) => b, (b) => b, bytes, new grpc.Metadata(),
      { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => { client.close(); resolve({ err, res }); });
  });
}

function sql(query) {
  return execFileSync('psql', [ADMIN_DATABASE_URL, '-X', '-q', '-t', '-A', '-c', query], { encoding: 'utf8' }).trim();
}

// The id the operation of an idempotency key is stored under
// (rt_idempotency_scoped_id, runtime/src/serve/idempotency.c): the key scoped to its
// caller (a certificate identity; null, the default, for the one plaintext
// scope) and its method's path.
function operationId(key, method, caller = null) {
  const h = require('node:crypto').createHash('sha256');
  h.update('operation/v1\n');
  h.update(caller === null ? 'a' : `c${caller}`);
  h.update('\0');
  h.update(`${method}\0`);
  h.update(key);
  return `op1-${h.digest('hex')}`;
}

let counter = 0;
function uniqueEmail(tag = 'user') {
  counter += 1;
  return `${tag}.${process.pid}.${Date.now()}.${counter}@example.com`;
}

module.exports = { ROOT, grpc, proto, call, rawCall, sql, startPlatform, freePort, Daemon, uniqueEmail, DATABASE_URL,
  ADMIN_DATABASE_URL, operationId };

// --- Built-in services (reflection, health, error details) ---

const BUF = path.join(__dirname, '..', 'node_modules/.bin/buf');

// `buf curl` over plain HTTP/2 with the gRPC protocol; { code, stdout, stderr }.
function bufCurl(args) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args],
    { encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// A client of the standard health / reflection contracts Debian's grpc-proto ships.
function loadGrpcProto(file) {
  const def = protoLoader.loadSync(file, {
    includeDirs: ['/usr/share/grpc-proto'], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
  });
  return grpc.loadPackageDefinition(def);
}

module.exports.bufCurl = bufCurl;
module.exports.loadGrpcProto = loadGrpcProto;
