// The clients and the history they record. Every call is one history entry
// (invocation time, completion time, the deadline it had, status, answer);
// calls that send the same idempotency key, or retry a keyless request, form
// one logical operation. Amounts are unique per operation (credits
// 1,000,000 + n, debits and transfers n), so the checker can tell every
// ledger entry's operation even without a key.
'use strict';
const { grpc, proto } = require('../../integration/lib/harness.js');

const C = grpc.status;
// Business refusals: the request was decided, nothing applied.
const REFUSED = new Set([C.INVALID_ARGUMENT, C.NOT_FOUND, C.ALREADY_EXISTS, C.FAILED_PRECONDITION, C.OUT_OF_RANGE]);
// UNAVAILABLE that grpc-js makes up itself before the request left: not applied either.
const NOT_SENT = /No connection established|ECONNREFUSED|Failed to connect|connection refused/i;
// UNAVAILABLE that grpc-js makes up when a connection broke mid-call: the server may have applied it.
const TRANSPORT = /Connection dropped|ECONNRESET|RST_STREAM|GOAWAY|EPIPE|Stream refused|protocol error|socket hang up|closed|ended/i;

// What one call's answer says about whether it applied.
function classify(code, details) {
  if (code === C.OK) return 'ok';
  if (REFUSED.has(code)) return 'refused';
  if (code === C.RESOURCE_EXHAUSTED || code === C.ABORTED) return 'not-applied';
  if (code === C.UNAVAILABLE) {
    if (NOT_SENT.test(details)) return 'not-applied';
    if (TRANSPORT.test(details)) return 'unknown';
    return 'unavailable'; // the daemon's own: "not applied, safe to retry"
  }
  return 'unknown'; // DEADLINE_EXCEEDED, CANCELLED, INTERNAL, UNKNOWN
}

class Workload {
  constructor(cluster, prng, options) {
    this.cluster = cluster;
    this.prng = prng;
    this.o = options;
    this.t0 = Date.now();
    this.history = [];
    this.ops = [];
    this.users = []; // acknowledged users: { id, email, ackAt }
    this.running = true;
    this.inflight = new Set();
    this.clients = {};
    for (const r of cluster.replicas) {
      const Service = r.name === 'user-service' ? proto.user.UserService : proto.wallet.WalletService;
      this.clients[r.label] = new Service(`127.0.0.1:${r.port}`, grpc.credentials.createInsecure());
    }
  }

  now() { return Date.now() - this.t0; }

  replicaOf(service, prng) {
    return prng.pick(this.cluster.replicas.filter((r) => r.name === service)).label;
  }

  // One call; resolves { code, details, res, replayed } and records it.
  call(op, replica, method, request, { deadlineMs, cancelAfterMs, keyInMetadata, phase = 'run' }) {
    const client = this.clients[replica];
    const metadata = new grpc.Metadata();
    const req = { ...request };
    if (op && op.key) {
      if (keyInMetadata) metadata.set('idempotency-key', op.key);
      else req.idempotency_key = op.key;
    }
    const entry = { n: this.history.length, op: op ? op.id : null, method, replica,
      key: op ? op.key : null, req, t0: this.now(), deadlineMs, cancelAfterMs, phase };
    this.history.push(entry);
    return new Promise((resolve) => {
      let replayed = false;
      let timer = null;
      const done = (err, res) => {
        if (timer) clearTimeout(timer);
        entry.t1 = this.now();
        entry.code = err ? err.code : 0;
        entry.details = err ? String(err.details || '') : '';
        entry.res = res || null;
        entry.replayed = replayed;
        entry.outcome = classify(entry.code, entry.details);
        this.inflight.delete(p);
        resolve(entry);
      };
      const c = client[method](req, metadata, { deadline: new Date(Date.now() + deadlineMs) }, done);
      c.on('metadata', (md) => { if (md.get('idempotent-replayed').length) replayed = true; });
      if (cancelAfterMs != null) timer = setTimeout(() => { entry.cancelled = true; c.cancel(); }, cancelAfterMs);
      const p = c;
      this.inflight.add(p);
    });
  }

  newOp(kind, fields, prng) {
    const n = this.ops.length + 1;
    const keyed = prng.chance(this.o.keyedShare);
    const op = { id: n, kind, key: keyed ? `x${this.o.seed}-${n}` : null, ...fields };
    this.ops.push(op);
    return op;
  }

  // A deadline as clients choose them: mostly generous (past the peer cap),
  // some short, some cancelled while running.
  callOptions(prng) {
    const style = prng.weighted([['normal', 78], ['short', 14], ['cancel', 8]]);
    const deadlineMs = style === 'short' ? prng.int(30, 700) : prng.int(7000, 12000);
    return { deadlineMs, cancelAfterMs: style === 'cancel' ? prng.int(5, 900) : undefined, keyInMetadata: prng.chance(0.25) };
  }

  // Runs a write: the first attempt, maybe a hedge with the same key while it
  // runs (another replica, as hedging clients do), maybe an impatient retry
  // with the key after an unknown or UNAVAILABLE answer. The attempts are
  // the history entries naming the op.
  async write(op, service, method, request, prng) {
    let firstDone = false;
    const first = this.call(op, this.replicaOf(service, prng), method, request, this.callOptions(prng))
      .then((e) => { firstDone = true; return e; });
    let hedge = null;
    // CreateUser, the call that waits on a peer, is the one hedging clients resend most
    if (op.key && prng.chance(method === 'CreateUser' ? 2 * this.o.hedgeShare : this.o.hedgeShare)) {
      const wait = prng.int(100, 5000);
      const replica = this.replicaOf(service, prng);
      const opts = this.callOptions(prng);
      hedge = new Promise((r) => setTimeout(r, wait))
        .then(() => (!firstDone && this.running ? this.call(op, replica, method, request, opts) : null));
    }
    let results = (await Promise.all([first, hedge])).filter(Boolean);
    for (let retry = 0; retry < 2 && op.key && this.running; retry++) {
      if (results.some((e) => e.outcome === 'ok' || e.outcome === 'refused')) break;
      if (!prng.chance(0.5)) break;
      await new Promise((r) => setTimeout(r, prng.int(50, 1500)));
      results = [await this.call(op, this.replicaOf(service, prng), method, request, this.callOptions(prng))];
    }
    return results;
  }

  pickUser(prng, except) {
    const pool = except ? this.users.filter((u) => u.id !== except) : this.users;
    if (!pool.length) return null;
    // newer users more often: that is where creations and their credits race
    return prng.chance(0.5) ? pool[pool.length - 1 - Math.min(pool.length - 1, prng.int(0, 3))] : prng.pick(pool);
  }

  async createUser(prng) {
    const op = this.newOp('create', {}, prng);
    op.email = `x${this.o.seed}.${op.id}@explore.test`;
    const results = await this.write(op, 'user-service', 'CreateUser', { email: op.email, name: `Explorer ${op.id}` }, prng);
    const ok = results.find((e) => e.outcome === 'ok');
    if (ok) {
      const user = { id: ok.res.id, email: op.email, ackAt: ok.t1 };
      this.users.push(user);
      if (prng.chance(0.6)) await this.balanceChange(prng, 'credit', user);
    }
  }

  async balanceChange(prng, kind, user) {
    user = user || this.pickUser(prng);
    if (!user) return this.createUser(prng);
    const op = this.newOp(kind, { userId: user.id }, prng);
    op.amount = kind === 'credit' ? 1000000 + op.id : op.id;
    await this.write(op, 'wallet-service', kind === 'credit' ? 'CreditWallet' : 'DebitWallet',
      { user_id: user.id, amount: op.amount }, prng);
  }

  async transfer(prng) {
    const from = this.pickUser(prng);
    const to = from && this.pickUser(prng, from.id);
    if (!to) return this.createUser(prng);
    const op = this.newOp('transfer', { from: from.id, to: to.id }, prng);
    op.amount = op.id;
    await this.write(op, 'wallet-service', 'TransferFunds', { from_user_id: from.id, to_user_id: to.id, amount: op.amount }, prng);
  }

  async read(prng, method) {
    const user = this.pickUser(prng);
    if (!user) return this.createUser(prng);
    const request = method === 'GetWallet' ? { user_id: user.id } : { user_id: user.id, page_size: prng.int(0, 30) };
    await this.call(null, this.replicaOf('wallet-service', prng), method, request, this.callOptions(prng));
  }

  async client(index) {
    const prng = this.prng.fork(`client:${index}`);
    while (this.running) {
      const what = this.users.length < 2 ? 'create' : prng.weighted([
        ['create', 18], ['credit', 22], ['debit', 18], ['transfer', 18], ['GetWallet', 14], ['ListTransactions', 10]]);
      if (what === 'create') await this.createUser(prng);
      else if (what === 'credit' || what === 'debit') await this.balanceChange(prng, what);
      else if (what === 'transfer') await this.transfer(prng);
      else await this.read(prng, what);
      await new Promise((r) => setTimeout(r, prng.int(0, 40)));
    }
  }

  run(clients) {
    this.loops = [];
    for (let i = 0; i < clients; i++) this.loops.push(this.client(i));
    return this.loops;
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops);
  }

  close() { for (const c of Object.values(this.clients)) c.close(); }
}

module.exports = { Workload };
