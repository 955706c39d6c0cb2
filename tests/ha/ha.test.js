// Issue 16: the bank load (credits, debits, transfers, CreateUser) through
// two replicas of each daemon, balanced round robin, while (1) the
// PostgreSQL primary crashes, (2) it rejoins as a standby, (3) a planned
// switchover runs, (4) one replica of each daemon is killed -9 and
// restarted. Every write carries an idempotency key. After each fault, every
// write whose outcome the client could not know (DEADLINE_EXCEEDED, a lost
// connection, ABORTED, UNAVAILABLE) is retried with its key until it answers
// for good, which replays the stored outcome or applies it once; then every
// balance must equal the sum of the OK operations the client saw, and the
// sum of its ledger entries, no key may have more entries than one
// operation writes, and every CreateUser answered OK has its wallet. Writes
// answered UNAVAILABLE by a live daemon (faults 1-3) must not have been
// applied. (5) The primary hangs without dying (its PostgreSQL stopped with
// SIGSTOP, its keeper running, issue 19 defect 5): writes must resume soon
// after the standby's promotion, and health must not say SERVING while they
// fail. Prints the write pause of each fault and the time to the first OK.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { grpc, proto, call, sql, freePort, Daemon, loadGrpcProto, DATABASE_URL } = require('../integration/lib/harness');

const HA = path.resolve(__dirname, '../../scripts/ha.sh');
const HA_DIR = process.env.HA_DIR;
const run = promisify(execFile);
const ha = async (...args) => (await run('bash', [HA, args[0], HA_DIR, ...args.slice(1)])).stdout.trim();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const health = loadGrpcProto('grpc/health/v1/health.proto').grpc.health.v1;

// Health of one replica every 50 ms until the returned stop(): the statuses
// seen and the slowest answer.
function sampleHealth(port) {
  const c = new health.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const seen = new Set();
  let slowest = 0;
  let going = true;
  const loop = (async () => {
    while (going) {
      const t = Date.now();
      const { err, res } = await call(c, 'Check', { service: '' }, { timeoutMs: 2000 });
      slowest = Math.max(slowest, Date.now() - t);
      seen.add(err ? `error ${err.code}` : res.status);
      await sleep(50);
    }
  })();
  return async () => { going = false; await loop; c.close(); return { seen: [...seen], slowest }; };
}

// A node's PostgreSQL: the postmaster and its children (from /proc), to
// freeze with SIGSTOP; returns the thaw.
function freezeNode(name) {
  const postmaster = Number(fs.readFileSync(path.join(HA_DIR, name, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) pids.push(Number(entry));
  }
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  return () => { for (const pid of pids) { try { process.kill(pid, 'SIGCONT'); } catch { /* exited */ } } };
}

// Asks a node's PostgreSQL directly (false when it does not answer in 1 s):
// promoted (out of recovery), or takes writes: a session libpq accepts as
// read-write (pg_auto_failover keeps a promoted node read-only until its
// keeper reaches wait_primary) whose commit goes through.
async function nodeSays(name, query, attrs = 'any') {
  const port = Number(fs.readFileSync(path.join(HA_DIR, 'base'), 'utf8')) + Number(name.slice(1));
  try {
    const { stdout } = await run('psql', ['-X', '-q', '-t', '-A', '-c', query,
      `host=127.0.0.1 port=${port} user=postgres dbname=postgres connect_timeout=1 target_session_attrs=${attrs}`],
    { timeout: 1000 });
    return stdout.trim() === 't';
  } catch { return false; }
}
const promoted = (name) => nodeSays(name, 'SELECT NOT pg_is_in_recovery()');
const takesWrites = (name) => nodeSays(name, 'SELECT txid_current() > 0', 'read-write');

// Health of one replica every 50 ms, with the time of each answer.
function recordHealth(port) {
  const c = new health.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const samples = [];
  let going = true;
  const loop = (async () => {
    while (going) {
      const { err, res } = await call(c, 'Check', { service: '' }, { timeoutMs: 2000 });
      samples.push({ at: Date.now(), status: err ? `error ${err.code}` : res.status });
      await sleep(50);
    }
  })();
  return async () => { going = false; await loop; c.close(); return samples; };
}

// Answers that are the operation's outcome; anything else is unknown.
const FINAL = new Set([grpc.status.OK, grpc.status.FAILED_PRECONDITION, grpc.status.NOT_FOUND,
  grpc.status.OUT_OF_RANGE, grpc.status.ALREADY_EXISTS]);
const USERS = 6;
const CLIENTS = 4;
const CALL_MS = 2000;
// HA_FAULTS=5 (a comma list) runs only those faults, e.g. to repeat one for
// its figures; (2) needs (1).
const only = process.env.HA_FAULTS ? new Set(process.env.HA_FAULTS.split(',')) : null;
const want = (n) => !only || only.has(String(n)) || (n === 1 && only.has('2'));

let seq = 0;
const key = (kind) => `ha-${process.pid}-${kind}-${++seq}`;
const pick = (list) => list[Math.floor(Math.random() * list.length)];

// One client per service over both replicas, round robin like the daemons' peers.
function client(Service, ports) {
  return new Service(`ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, grpc.credentials.createInsecure(),
    { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 });
}

async function replicas() {
  const userPorts = [await freePort(), await freePort()];
  const walletPorts = [await freePort(), await freePort()];
  const list = (ports) => ports.map((p) => `127.0.0.1:${p}`).join(',');
  const env = { DATABASE_URL, METRICS_ADDR: '0', DB_SESSIONS: '2' };
  const users = userPorts.map((p) => new Daemon('user-service',
    { ...env, USER_SERVICE_URL: `127.0.0.1:${p}`, WALLET_SERVICE_URL: list(walletPorts) }));
  const wallets = walletPorts.map((p) => new Daemon('wallet-service',
    { ...env, WALLET_SERVICE_URL: `127.0.0.1:${p}`, USER_SERVICE_URL: list(userPorts) }));
  await Promise.all([...users.map((d, i) => d.start(userPorts[i])), ...wallets.map((d, i) => d.start(walletPorts[i]))]);
  return { users, wallets, userPorts, walletPorts,
    userClient: client(proto.user.UserService, userPorts), walletClient: client(proto.wallet.WalletService, walletPorts) };
}

// The load: every operation is recorded with its key, request and answer.
class Bank {
  constructor(r, ids) {
    this.r = r;
    this.ids = ids;
    this.ops = [];
  }

  async one() {
    const { userClient, walletClient } = this.r;
    const roll = Math.random();
    let op;
    if (roll < 0.3) op = { method: 'CreditWallet', client: walletClient, req: { user_id: pick(this.ids), amount: 1 + Math.floor(Math.random() * 100) } };
    else if (roll < 0.55) op = { method: 'DebitWallet', client: walletClient, req: { user_id: pick(this.ids), amount: 1 + Math.floor(Math.random() * 50) } };
    else if (roll < 0.85) {
      const from = pick(this.ids);
      const to = pick(this.ids.filter((id) => id !== from));
      op = { method: 'TransferFunds', client: walletClient, req: { from_user_id: from, to_user_id: to, amount: 1 + Math.floor(Math.random() * 50) } };
    } else {
      op = { method: 'CreateUser', client: userClient, req: { email: `${key('mail')}@example.com`, name: 'HA' } };
    }
    op.req.idempotency_key = key(op.method);
    op.started = Date.now();
    const { err, res } = await call(op.client, op.method, op.req, { timeoutMs: CALL_MS });
    op.ended = Date.now();
    op.code = err ? err.code : grpc.status.OK;
    op.answered = op.code; // what the client was told first; code may be settled later
    op.res = res;
    this.ops.push(op);
  }

  // Runs CLIENTS clients until stop() resolves.
  async during(fault) {
    let going = true;
    const load = Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (going) await this.one();
    }));
    const t0 = Date.now();
    await fault();
    going = false;
    await load;
    return t0;
  }
}

// The write pause of a fault injected at t0: the longest gap between OK
// writes from t0 on, and the time from t0 to the OK that ended it (the first
// OK once writes are back).
function figures(ops, t0) {
  const oks = ops.filter((o) => o.answered === grpc.status.OK && o.ended >= t0).map((o) => o.ended).sort((a, b) => a - b);
  let pause = -1;
  let back = Infinity;
  let prev = t0;
  for (const t of oks) {
    if (t - prev > pause) { pause = t - prev; back = t - t0; }
    prev = t;
  }
  return { pause: Math.max(pause, 0), firstOk: back };
}

// When the books do not add up: what tells a lost acknowledged write from a
// check that read the wrong node (issue: one failed run of the switchover
// with a balance below its acknowledged operations). The node the check
// read (its port, whether in recovery, its timeline), every acknowledged
// operation with fewer entries than it writes (when it was answered, after
// how long, its first answer and whether it was settled later), and the
// monitor's last events (a primary in wait_primary acknowledges commits
// its standby does not have).
async function booksReport(bank, entries, seen, name) {
  const node = sql(`SELECT inet_server_port(), pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint())`);
  const byKey = new Map(bank.ops.map((o) => [o.req.idempotency_key, o]));
  const missing = [...entries].filter(([k, n]) => (seen.get(k) || 0) < n).map(([k]) => byKey.get(k)).filter(Boolean)
    .sort((a, b) => a.ended - b.ended);
  const at = (t) => `${t - bank.faultAt} ms`;
  const lines = missing.slice(0, 40).map((o) => `  ${o.method} ${o.req.idempotency_key} answered ${at(o.ended)} after the fault ` +
    `(took ${o.ended - o.started} ms), first ${o.answered}${o.settled ? ', settled later' : ''}`);
  let events = '';
  try { events = await ha('events', '40'); } catch (e) { events = `(no events: ${e.message})`; }
  return `test-ha: ${name}: the books do not add up; read from node ${node} (port|in recovery|timeline); ` +
    `${missing.length} acknowledged operations lack their entries` +
    `${missing.length ? `, answered from ${at(missing[0].ended)} to ${at(missing.at(-1).ended)} after the fault` : ''}:\n` +
    `${lines.join('\n')}\nthe monitor's events:\n${events}`;
}

// Settles every unknown outcome through its key, then checks the books.
async function settleAndCheck(t, bank, name, t0, daemonsAlive) {
  const unknown = bank.ops.filter((o) => !FINAL.has(o.code) && !o.settled);
  if (daemonsAlive) {
    // UNAVAILABLE from a live daemon promises the write was not applied.
    for (const o of unknown.filter((u) => u.code === grpc.status.UNAVAILABLE && u.method !== 'CreateUser')) {
      assert.equal(sql(`SELECT count(*) FROM "WalletEntry" WHERE "idempotencyKey" = '${o.req.idempotency_key}'`), '0',
        `${name}: ${o.method} ${o.req.idempotency_key} answered UNAVAILABLE but was applied`);
    }
  }
  for (const o of unknown) {
    const until = Date.now() + 40000;
    for (;;) {
      const { err, res } = await call(o.client, o.method, o.req, { timeoutMs: 5000 });
      const code = err ? err.code : grpc.status.OK;
      if (FINAL.has(code)) { o.code = code; o.res = res; o.settled = true; break; }
      // A CreateUser whose wallet request and undo both met the outage keeps
      // its user without a wallet, and its key answers ABORTED ("still in
      // progress"), until the sweep removes the user (PendingUser, 5 min):
      // never OK without a wallet, which is what is checked.
      if (o.method === 'CreateUser' && code === grpc.status.ABORTED && Date.now() > until - 32000) {
        o.settled = true;
        o.pending = true;
        break;
      }
      assert.ok(Date.now() < until, `${name}: ${o.method} ${o.req.idempotency_key} still ${err && err.message} after 40 s of retries`);
      await sleep(200);
    }
  }
  for (const o of bank.ops) {
    assert.ok(o.code !== grpc.status.INVALID_ARGUMENT, `${name}: ${o.method} refused as invalid`);
  }

  // Balances: what the client saw applied, the wallets, and the ledger.
  const expected = new Map(bank.ids.map((id) => [id, bank.opening]));
  const entries = new Map(bank.openingKeys.map((k) => [k, 1])); // key -> entries its operation writes
  for (const o of bank.ops.filter((x) => x.code === grpc.status.OK)) {
    if (o.method === 'CreditWallet') { expected.set(o.req.user_id, expected.get(o.req.user_id) + o.req.amount); entries.set(o.req.idempotency_key, 1); }
    if (o.method === 'DebitWallet') { expected.set(o.req.user_id, expected.get(o.req.user_id) - o.req.amount); entries.set(o.req.idempotency_key, 1); }
    if (o.method === 'TransferFunds') {
      expected.set(o.req.from_user_id, expected.get(o.req.from_user_id) - o.req.amount);
      expected.set(o.req.to_user_id, expected.get(o.req.to_user_id) + o.req.amount);
      entries.set(o.req.idempotency_key, 2);
    }
  }
  const rows = sql(`SELECT w."userId", w."balance", coalesce(sum(e."amount"), 0) FROM "Wallet" w
    LEFT JOIN "WalletEntry" e ON e."walletId" = w."id" WHERE w."userId" IN (${bank.ids.map((id) => `'${id}'`).join(',')})
    GROUP BY w."userId", w."balance"`).split('\n').map((l) => l.split('|'));
  const keyed = sql(`SELECT "idempotencyKey", count(*) FROM "WalletEntry" WHERE "idempotencyKey" LIKE 'ha-${process.pid}-%' GROUP BY 1`);
  let lost = 0;
  let twice = 0;
  const seen = new Map(keyed ? keyed.split('\n').map((l) => l.split('|')).map(([k, n]) => [k, Number(n)]) : []);
  for (const [k, n] of entries) if ((seen.get(k) || 0) < n) lost += 1;
  for (const [k, n] of seen) if (n > (entries.get(k) || 0)) twice += 1;
  const books = rows.every(([userId, balance, ledger]) => Number(balance) === Number(ledger) && Number(balance) === expected.get(userId));
  if (!books || lost || twice) console.log(await booksReport(bank, entries, seen, name));
  for (const [userId, balance, ledger] of rows) {
    assert.equal(Number(balance), Number(ledger), `${name}: wallet of ${userId}: balance ${balance} but ledger sum ${ledger}`);
    assert.equal(Number(balance), expected.get(userId), `${name}: wallet of ${userId}: balance ${balance}, acknowledged operations make ${expected.get(userId)}`);
  }
  const created = bank.ops.filter((o) => o.method === 'CreateUser' && o.code === grpc.status.OK);
  const walletless = created.length === 0 ? 0 : Number(sql(`SELECT count(*) FROM unnest(ARRAY[${created.map((o) => `'${o.res.id}'`).join(',')}]) u(id)
    WHERE NOT EXISTS (SELECT 1 FROM "Wallet" w WHERE w."userId" = u.id)`));
  const { pause, firstOk } = figures(bank.ops, t0);
  const window = bank.ops.filter((o) => o.started >= t0);
  const pending = unknown.filter((o) => o.pending).length;
  console.log(`test-ha: ${name}: write pause ${pause} ms, first OK ${firstOk} ms after the fault; ${window.length} writes, ` +
    `${unknown.length} unknown settled through their key (${pending} CreateUser left to the sweep); ` +
    `lost ${lost}, applied twice ${twice}, users answered OK without a wallet ${walletless}`);
  assert.equal(lost, 0, `${name}: acknowledged operations lost`);
  assert.equal(twice, 0, `${name}: operations applied twice`);
  assert.equal(walletless, 0, `${name}: users created OK without a wallet`);
  assert.ok(Number.isFinite(firstOk), `${name}: no write succeeded after the fault`);
}

test('bank load through a PostgreSQL failover, a rejoin, a switchover and killed replicas', async (t) => {
  const r = await replicas();
  t.after(async () => {
    r.userClient.close();
    r.walletClient.close();
    await Promise.all([...r.users, ...r.wallets].map((d) => d.stop()));
  });
  // The accounts: created and funded before any fault.
  const ids = [];
  for (let i = 0; i < USERS; i++) {
    const { err, res } = await call(r.userClient, 'CreateUser', { email: `${key('setup')}@example.com`, name: 'HA' });
    assert.equal(err, null, err && err.message);
    ids.push(res.id);
  }
  const opening = 100000;
  const bank = new Bank(r, ids);
  bank.opening = opening;
  bank.openingKeys = [];
  for (const id of ids) {
    bank.openingKeys.push(key('open'));
    const { err } = await call(r.walletClient, 'CreditWallet', { user_id: id, amount: opening, idempotency_key: bank.openingKeys.at(-1) });
    assert.equal(err, null, err && err.message);
  }

  let t0;
  let crashed;
  if (want(1)) {
    // (1) The primary crashes: the standby is promoted (~6 s with ha.sh's timeouts).
    // Meanwhile the replicas' health says NOT_SERVING, and answers at once.
    crashed = await ha('primary');
    const stopHealth = sampleHealth(r.walletPorts[1]);
    t0 = await bank.during(async () => {
      await sleep(1000);
      const at = Date.now();
      await ha('crash', crashed);
      bank.faultAt = at;
      for (;;) {
        await sleep(500);
        const p = await ha('primary');
        if (p && p !== crashed) break;
        assert.ok(Date.now() - at < 60000, 'no new primary 60 s after the crash');
      }
      await sleep(2000);
    });
    const h = await stopHealth();
    console.log(`test-ha: (1) health of a wallet-service replica during the failover: saw ${h.seen.join(',')}, slowest answer ${h.slowest} ms`);
    assert.ok(h.seen.includes('NOT_SERVING'), `health never said NOT_SERVING while there was no primary: ${h.seen}`);
    assert.ok(h.slowest < 1000, `a health check took ${h.slowest} ms`);
    await settleAndCheck(t, bank, '(1) primary crashed', bank.faultAt || t0, true);
  }

  if (want(2)) {
    // (2) The old primary comes back and rejoins as a standby.
    t0 = await bank.during(async () => {
      await sleep(500);
      bank.faultAt = Date.now();
      await ha('start', crashed);
      await ha('wait', '60');
      await sleep(1500);
    });
    await settleAndCheck(t, bank, '(2) old primary rejoined as standby', bank.faultAt, true);
  }

  if (want(3)) {
    // (3) A planned switchover.
    t0 = await bank.during(async () => {
      await sleep(500);
      bank.faultAt = Date.now();
      await ha('switchover');
      await sleep(1500);
    });
    await settleAndCheck(t, bank, '(3) planned switchover', bank.faultAt, true);
  }

  if (want(4)) {
    // (4) One replica of each daemon killed -9, then restarted on its port.
    t0 = await bank.during(async () => {
      await sleep(500);
      bank.faultAt = Date.now();
      await Promise.all([r.users[0].stop('SIGKILL'), r.wallets[0].stop('SIGKILL')]);
      await sleep(1000);
      await Promise.all([r.users[0].start(r.userPorts[0]), r.wallets[0].start(r.walletPorts[0])]);
      await sleep(1500);
    });
    await settleAndCheck(t, bank, '(4) one replica of each daemon killed -9 and restarted', bank.faultAt, false);
  }

  if (want(5)) {
    // (5) The primary hangs without dying: its PostgreSQL stopped (SIGSTOP),
    // its keeper running, so it still accepts TCP connections and answers
    // nothing. pg_auto_failover promotes the standby; the daemons must leave
    // the hung node behind within SPEC.md's 3 s of the promotion (asserted
    // with slack for a loaded 2-core machine; the figures are printed), and
    // health must not say SERVING while writes fail.
    const frozen = await ha('primary');
    const standby = frozen === 'n1' ? 'n2' : 'n1';
    const stopRecording = recordHealth(r.walletPorts[1]);
    let thaw = () => {};
    let promotedAt = 0;
    let writableAt = 0;
    try {
      t0 = await bank.during(async () => {
        await sleep(1000);
        bank.faultAt = Date.now();
        thaw = freezeNode(frozen);
        while (!promotedAt) {
          if (await promoted(standby)) promotedAt = Date.now();
          else await sleep(100);
          assert.ok(Date.now() - bank.faultAt < 60000, 'the standby was not promoted 60 s after the freeze');
        }
        while (!writableAt) {
          if (await takesWrites(standby)) writableAt = Date.now();
          else await sleep(100);
          assert.ok(Date.now() - bank.faultAt < 60000, 'the new primary took no commit 60 s after the freeze');
        }
        // writes OK again (or 10 s without), then a little more load
        const okAfter = () => bank.ops.some((o) => o.answered === grpc.status.OK && o.ended >= promotedAt);
        for (const until = promotedAt + 10000; !okAfter() && Date.now() < until;) await sleep(100);
        await sleep(1500);
      });
    } finally {
      thaw();
  }
  const samples = await stopRecording();
  const oks = bank.ops.filter((o) => o.answered === grpc.status.OK && o.ended >= promotedAt).map((o) => o.ended);
  const firstOk = oks.length ? Math.min(...oks) : Infinity;
  console.log(`test-ha: (5) primary frozen: promoted ${promotedAt - bank.faultAt} ms after the freeze, takes writes ` +
    `${writableAt - bank.faultAt} ms after; first OK write ${firstOk - bank.faultAt} ms after the freeze, ` +
    `${firstOk - promotedAt} ms after the promotion, ${firstOk - writableAt} ms after it took writes`);
  // Writes fail from the freeze to firstOk; health may lag the freeze by its
  // probe (a hung host costs it connect_timeout), never the recovery.
  const lying = samples.filter((x) => x.status === 'SERVING' && x.at > bank.faultAt + 4000 && x.at < firstOk - 500);
  assert.equal(lying.length, 0, `health said SERVING ${lying.length} times while writes failed ` +
    `(${lying.length && lying[0].at - bank.faultAt} ms after the freeze first)`);
  assert.ok(firstOk - writableAt <= 4500, `writes resumed ${firstOk - writableAt} ms after the new primary took them`);
  await ha('wait', '90'); // the old primary rejoins as a standby
  await settleAndCheck(t, bank, '(5) primary frozen (SIGSTOP)', bank.faultAt, true);
  }
});

// Issue 24: the standby holds back no cleanup on the primary. Nothing reads
// from the standby, and with hot_standby_feedback (pg_auto_failover's
// default) the primary kept every version of a hot wallet row for the
// feedback interval (10 s), which every credit then walked: the cluster's
// credits ran at a quarter to a third of the single server's. Checked after the faults
// above, so on whichever node is primary now, and on a node that rejoined.
test('the standby holds back no row versions on the primary, whichever node it is', async () => {
  const primary = await ha('primary');
  for (const name of ['n1', 'n2'])
    assert.ok(await nodeSays(name, "SELECT current_setting('hot_standby_feedback') = 'off'"), `${name}: hot_standby_feedback is on`);
  assert.ok(await nodeSays(primary, `SELECT NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM pg_stat_replication WHERE backend_xmin IS NOT NULL)`),
  `the primary ${primary} keeps row versions for its standby`);
});
