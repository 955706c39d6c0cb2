// The checker: the recorded history against what PostgreSQL holds after the
// settle (read as the test's own superuser). Returns violations, each with
// the history entries that show it ({ what, entries: [n...], around: [t0, t1] }).
'use strict';
const { execFileSync } = require('node:child_process');

function rows(url, query) {
  const out = execFileSync('psql', [url, '-X', '-q', '-t', '-A', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', query],
    { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
  return out ? out.split('\n').map((l) => l.split('\t')) : [];
}

function snapshot(url) {
  const users = new Map(rows(url, 'SELECT id, email FROM "User"').map(([id, email]) => [id, { id, email }]));
  const wallets = new Map(rows(url, 'SELECT id, "userId", balance FROM "Wallet"')
    .map(([id, userId, balance]) => [userId, { id, userId, balance: Number(balance) }]));
  const pending = new Set(rows(url, 'SELECT "userId" FROM "PendingUser"').map(([u]) => u));
  const entries = rows(url, 'SELECT "walletId", kind, amount, coalesce("transferId", \'\'), coalesce("idempotencyKey", \'\') FROM "WalletEntry"')
    .map(([walletId, kind, amount, transferId, key]) => ({ walletId, kind: Number(kind), amount: Number(amount), transferId, key }));
  return { users, wallets, pending, entries };
}

// The kinds an operation's entries have: its own (counted once per apply)
// and, for a transfer, the receiving side.
const KIND = { credit: 2, debit: 3, transfer: 5 };

function check(history, ops, users, db, { slackMs }) {
  const v = [];
  const add = (what, entries) => {
    const ts = entries.map((n) => history[n]);
    v.push({ what, entries, around: [Math.min(...ts.map((e) => e.t0)), Math.max(...ts.map((e) => e.t1 ?? e.t0))] });
  };
  const byOp = new Map();
  for (const e of history) if (e.op != null) { if (!byOp.has(e.op)) byOp.set(e.op, []); byOp.get(e.op).push(e); }
  const walletIdOf = (userId) => (db.wallets.get(userId) || {}).id;
  const walletOwner = new Map([...db.wallets.values()].map((w) => [w.id, w.userId]));

  // 1. The ledger: every balance is the sum of its entries.
  const sums = new Map();
  for (const x of db.entries) sums.set(x.walletId, (sums.get(x.walletId) || 0) + x.amount);
  for (const w of db.wallets.values()) {
    if ((sums.get(w.id) || 0) !== w.balance) v.push({ what: `wallet ${w.id} of user ${w.userId}: balance ${w.balance} != sum of its entries ${sums.get(w.id) || 0}`, entries: [], around: null });
  }

  // Entries by |amount| (unique per operation).
  const entriesByAmount = new Map();
  for (const x of db.entries) {
    if (x.kind === 1) continue;
    const a = Math.abs(x.amount);
    if (!entriesByAmount.has(a)) entriesByAmount.set(a, []);
    entriesByAmount.get(a).push(x);
  }
  const explained = new Set();

  for (const op of ops) {
    const attempts = byOp.get(op.id) || [];
    const ns = attempts.map((e) => e.n);
    const ok = attempts.filter((e) => e.outcome === 'ok');
    const settled = attempts.some((e) => e.phase === 'settle');
    const mayHaveApplied = attempts.some((e) => e.outcome === 'ok' || e.outcome === 'unknown' || e.outcome === undefined);
    const unavailable = attempts.filter((e) => e.outcome === 'unavailable');

    // 2. One key, one answer: every OK under a key answers the same.
    if (op.key && ok.length > 1) {
      const answer = (e) => (op.kind === 'create' ? e.res.id : op.kind === 'transfer' ? e.res.transfer_id : JSON.stringify(e.res));
      if (new Set(ok.map(answer)).size > 1) add(`key ${op.key} (${op.kind}) has different OK answers: ${[...new Set(ok.map(answer))].join(' / ')}`, ns);
    }
    if (op.key && attempts.length && !attempts.some((e) => e.outcome === 'ok' || e.outcome === 'refused') && mayHaveApplied) {
      const last = attempts[attempts.length - 1];
      add(`key ${op.key} (${op.kind}) still has no outcome after the settle window${settled ? `: resending it answers ${last.code} "${last.details}"` : ''}`, ns);
    }

    if (op.kind === 'create') {
      const user = [...db.users.values()].find((u) => u.email === op.email);
      for (const e of ok) {
        const row = db.users.get(e.res.id);
        if (!row) add(`acknowledged user ${e.res.id} (${op.email}) disappeared`, ns);
        else if (!db.wallets.has(e.res.id)) add(`acknowledged user ${e.res.id} (${op.email}) has no wallet`, ns);
      }
      if (user && !mayHaveApplied) {
        if (db.wallets.has(user.id)) add(`CreateUser ${op.email} was answered ${attempts.map((e) => e.code).join(',')} (not applied) but user ${user.id} and its wallet exist`, ns);
      }
      continue;
    }
    if (!KIND[op.kind]) continue;
    const mine = (entriesByAmount.get(op.amount) || []);
    for (const x of mine) explained.add(x);
    const applied = mine.filter((x) => x.kind === KIND[op.kind]);
    if (applied.length > 1) add(`${op.kind} ${op.key || '(no key)'} of ${op.amount} applied ${applied.length} times`, ns);
    if (ok.length && applied.length === 0) add(`acknowledged ${op.kind} ${op.key || '(no key)'} of ${op.amount} is not in the ledger`, ns);
    if (!mayHaveApplied && applied.length > 0) {
      add(`${op.kind} ${op.key || '(no key)'} of ${op.amount} answered ${unavailable.length ? 'UNAVAILABLE' : attempts.map((e) => e.code).join(',')} (not applied) but applied`, ns);
    }
    for (const x of applied) {
      const owner = walletOwner.get(x.walletId);
      const expected = op.kind === 'transfer' ? op.from : op.userId;
      if (owner !== expected) add(`${op.kind} of ${op.amount} applied to the wallet of ${owner}, not ${expected}`, ns);
    }
    if (op.kind === 'transfer') {
      const ins = mine.filter((x) => x.kind === 4);
      if (ins.length !== applied.length || ins.some((x) => walletOwner.get(x.walletId) !== op.to)) add(`transfer of ${op.amount}: ${applied.length} out-entries but ${ins.length} in-entries (to ${op.to})`, ns);
    }
    if (ok.length && applied.length === 1 && op.kind !== 'transfer') {
      const e = ok[0];
      if (e.res && e.res.id !== walletIdOf(op.userId)) add(`${op.kind} ${op.amount} acknowledged on wallet ${e.res.id}, which is not user ${op.userId}'s wallet now`, ns);
    }
  }
  for (const x of db.entries) {
    if (x.kind !== 1 && !explained.has(x)) v.push({ what: `ledger entry nobody asked for: wallet ${x.walletId} kind ${x.kind} amount ${x.amount}`, entries: [], around: null });
  }

  // 3. No half-made users: one without a wallet must be marked for the
  // sweep (PendingUser, 5 minutes), never acknowledged (checked above).
  for (const u of db.users.values()) {
    if (!db.wallets.has(u.id) && !db.pending.has(u.id)) v.push({ what: `user ${u.id} (${u.email}) has no wallet and no pending marker: half-made, never swept`, entries: [], around: null });
  }

  // 4. Reads and writes on an acknowledged user never find it missing.
  const ackAt = new Map(users.map((u) => [u.id, u.ackAt]));
  for (const e of history) {
    if (e.code !== 5 /* NOT_FOUND */) continue;
    // a transfer's NOT_FOUND names its missing side
    const ids = [e.req.user_id, e.req.from_user_id, e.req.to_user_id].filter((id) => id && (!e.req.from_user_id || e.details.includes(id)));
    for (const id of ids) if (ackAt.has(id) && ackAt.get(id) < e.t0) add(`${e.method} answered NOT_FOUND for acknowledged user ${id}: ${e.details}`, [e.n]);
  }

  // 5. Every call answered by its deadline (grpc-js also ends it there itself:
  // this catches a client or daemon stall beyond the slack).
  for (const e of history) {
    if (e.t1 != null && e.t1 - e.t0 > e.deadlineMs + slackMs) add(`${e.method} answered ${e.t1 - e.t0} ms after invocation, deadline ${e.deadlineMs} ms`, [e.n]);
  }
  return v;
}

module.exports = { snapshot, check };
