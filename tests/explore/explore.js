#!/usr/bin/env node
// The fault explorer (issue 19), in the spirit of Jepsen's bank test and
// TigerBeetle's VOPR: one seed drives clients (keys or none, hedged and
// impatient resends of a key, short deadlines, cancels) through two
// replicas of each daemon while a nemesis breaks links (peer and database:
// delay, one-way delay past the peer cap, drop, cut, black-hole, cuts
// around COMMIT) and processes (kill -9, SIGTERM, restart, PostgreSQL
// restart). Then faults stop, unknown outcomes are settled by resending
// their keys, and a checker compares the history with the database.
// Usage: SEED=n SECONDS=s [CLIENTS=6] [BIN_DIR=...] node explore.js
// Exit 0: no violation; 1: violations (seed, schedule, slices, replay
// command printed); 2: the run itself failed or overran its time limit.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
const SECONDS = Number(process.env.SECONDS_BUDGET ?? process.env.EXPLORE_SECONDS ?? 30);
const CLIENTS = Number(process.env.CLIENTS ?? 8);
const SETTLE_MS = Number(process.env.SETTLE_SECONDS ?? 30) * 1000;
const SLACK_MS = Number(process.env.DEADLINE_SLACK_MS ?? 2000);
const ROOT = path.resolve(__dirname, '../..');
const BIN_DIR = path.resolve(process.env.BIN_DIR || path.join(ROOT, 'bin'));

const tmp = fs.mkdtempSync(path.join(process.env.EXPLORE_TMP || os.tmpdir(), 'wallet-explore-'));
fs.chmodSync(tmp, 0o711); // the postgres user must reach its data dir inside
process.env.BIN_DIR = BIN_DIR;
process.env.LOG_DIR = path.join(tmp, 'logs');
fs.mkdirSync(process.env.LOG_DIR);
process.env.DATABASE_URL = process.env.DATABASE_URL || 'postgresql://unset'; // set for real once PostgreSQL is up

const { root } = require('./lib/prng');
const { Cluster } = require('./lib/cluster');

const replay = `make explore SEED=${SEED} SECONDS=${SECONDS}${process.env.BIN_DIR_GIVEN ? ` BIN_DIR=${BIN_DIR}` : ''}`;
const prng = root(SEED);
const started = Date.now();
const schedule = [];
const cluster = new Cluster(tmp, prng.fork('cluster'), (text) => schedule.push({ t: Date.now() - started, text: `${((Date.now() - started) / 1000).toFixed(3)}s ${text}` }));
let nemesis = null;
let finished = false;

async function finish(code) {
  if (finished) return;
  finished = true;
  await cluster.shutdown();
  if (code === 0 || process.env.KEEP_LOGS !== '1') fs.rmSync(tmp, { recursive: true, force: true });
  else console.log(`daemon logs kept in ${process.env.LOG_DIR}`);
  process.exit(code);
}

// A run that overruns its budget by far is a failure, and still ends.
const limitMs = (SECONDS + 60) * 1000 + SETTLE_MS + 120000;
setTimeout(() => {
  console.log(`explore: seed ${SEED} did not finish within ${limitMs / 1000} s; schedule so far:`);
  for (const s of [...schedule, ...(nemesis ? nemesis.schedule : [])]) console.log(`  ${s.text}`);
  console.log(`replay: ${replay}`);
  finish(2);
}, limitMs).unref();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { console.log(`explore: ${sig}, stopping`); finish(2); });

function show(e) {
  const res = e.res ? JSON.stringify(e.res).slice(0, 160) : '';
  const status = e.t1 == null ? 'no answer' : `${e.code}${e.details ? ` "${e.details.slice(0, 90)}"` : ''}${e.replayed ? ' (replayed)' : ''}`;
  return `#${e.n} op${e.op ?? '-'} ${e.phase} ${e.method} @${e.replica} key=${e.key || '-'} ${JSON.stringify(e.req)} ` +
    `t=${(e.t0 / 1000).toFixed(3)}..${e.t1 == null ? '?' : (e.t1 / 1000).toFixed(3)}s deadline=${e.deadlineMs}ms` +
    `${e.cancelAfterMs != null ? ` cancel@${e.cancelAfterMs}ms` : ''} -> ${status} [${e.outcome}] ${res}`;
}

async function settle(w) {
  const end = Date.now() + SETTLE_MS;
  const byOp = new Map();
  for (const e of w.history) if (e.op != null) { if (!byOp.has(e.op)) byOp.set(e.op, []); byOp.get(e.op).push(e); }
  const methods = { create: ['user-service', 'CreateUser'], credit: ['wallet-service', 'CreditWallet'],
    debit: ['wallet-service', 'DebitWallet'], transfer: ['wallet-service', 'TransferFunds'] };
  const sp = prng.fork('settle');
  const work = [];
  for (const op of w.ops) {
    if (!op.key) continue;
    const attempts = byOp.get(op.id) || [];
    const decided = attempts.some((e) => e.outcome === 'ok' || e.outcome === 'refused');
    const unknown = attempts.some((e) => e.outcome === 'unknown');
    if (!decided && !unknown) continue; // answered "not applied" only: left as is, the checker holds it to that
    work.push({ op, request: attempts[0].req, decided });
  }
  let unsettled = 0;
  const runOne = async ({ op, request, decided }) => {
    const [service, method] = methods[op.kind];
    const req = { ...request };
    delete req.idempotency_key;
    for (;;) {
      const e = await w.call(op, w.replicaOf(service, sp), method, req, { deadlineMs: 10000, phase: 'settle' });
      if (e.outcome === 'ok' || e.outcome === 'refused' || decided) return;
      if (Date.now() > end) { unsettled += 1; return; }
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const queue = [...work];
  await Promise.all(Array.from({ length: 8 }, async () => { while (queue.length) await runOne(queue.shift()); }));
  return { settled: work.length, unsettled };
}

async function main() {
  console.log(`explore: seed ${SEED}, ${SECONDS} s of faults, ${CLIENTS} clients, daemons from ${BIN_DIR}`);
  await cluster.startDatabase();
  process.env.DATABASE_URL = cluster.url;
  const { Workload } = require('./lib/workload');
  const { Nemesis } = require('./lib/nemesis');
  const { check, snapshot } = require('./lib/checker');
  await cluster.startDaemons(2, { DB_SESSIONS: '2', DRAIN_SECONDS: '2', LOG_LEVEL: 'warn' });
  const w = new Workload(cluster, prng.fork('workload'), { seed: SEED, keyedShare: 0.75, hedgeShare: 0.3 });
  nemesis = new Nemesis(cluster, prng.fork('nemesis'), () => w.now(), { pgRestarts: process.env.PG_RESTARTS !== '0', users: () => w.users });
  cluster.log = (text) => nemesis.log(text);

  w.run(CLIENTS);
  // a line every 30 s, so a long run shows it is alive
  const progress = setInterval(() => console.log(`explore: ${(w.now() / 1000).toFixed(0)} s: ${w.history.length} calls, ` +
    `${w.users.length} users acknowledged, ${nemesis.schedule.length} fault steps`), 30000);
  await nemesis.run(SECONDS * 1000);
  clearInterval(progress);
  const faultOps = w.history.length;
  await w.stop(); // clients finish what they started (deadlines bound it)
  await nemesis.heal();
  const healed = w.now();
  const s = await settle(w);
  const db = snapshot(cluster.url);
  const violations = check(w.history, w.ops, w.users, db, { slackMs: SLACK_MS });
  const counts = {};
  for (const e of w.history) counts[e.outcome] = (counts[e.outcome] || 0) + 1;
  const faults = nemesis.schedule.filter((x) => !/heal|restart|up again/.test(x.text)).length;
  console.log(`explore: seed ${SEED}: ${w.history.length} calls (${faultOps} during faults; ` +
    `${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}), ${w.ops.length} writes, ${w.users.length} users acknowledged, ` +
    `${faults} faults, ${s.settled} keys settled (${s.unsettled} unsettled) in ${((w.now() - healed) / 1000).toFixed(1)} s, ` +
    `${db.entries.length} ledger entries, ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  w.close();
  if (!violations.length) { console.log(`explore: seed ${SEED}: no violations`); return finish(0); }

  console.log(`\nexplore: seed ${SEED}: ${violations.length} VIOLATION(S)`);
  for (const v of violations.slice(0, 20)) {
    console.log(`\n- ${v.what}`);
    for (const n of v.entries) console.log(`    ${show(w.history[n])}`);
    if (v.around) {
      // the other calls on the same users, and the faults around it
      const ids = new Set(v.entries.flatMap((n) => { const e = w.history[n]; return [e.req.user_id, e.req.from_user_id, e.req.to_user_id, e.res && e.res.id].filter(Boolean); }));
      const related = w.history.filter((e) => !v.entries.includes(e.n) && e.outcome !== 'not-applied' && [e.req.user_id, e.req.from_user_id, e.req.to_user_id, e.res && e.res.id].some((id) => ids.has(id))
        && e.t0 <= v.around[1] + 2000 && (e.t1 ?? e.t0) >= v.around[0] - 2000);
      if (related.length) console.log('  other calls on the same users meanwhile:');
      for (const e of related.slice(0, 15)) console.log(`    ${show(e)}`);
      const around = nemesis.schedule.filter((x) => x.t >= v.around[0] - 8000 && x.t <= v.around[1] + 1000);
      if (around.length) console.log('  faults around it:');
      for (const x of around) console.log(`    ${x.text}`);
    }
  }
  if (violations.length > 20) console.log(`\n(${violations.length - 20} more)`);
  console.log('\nfault schedule:');
  for (const x of nemesis.schedule) console.log(`  ${x.text}`);
  console.log(`\nexplore: seed ${SEED}: ${violations.length} violation(s); replay: ${replay}`);
  return finish(1);
}

main().catch((err) => { console.log(`explore: seed ${SEED}: the run failed: ${err.stack}`); console.log(`replay: ${replay}`); finish(2); });
