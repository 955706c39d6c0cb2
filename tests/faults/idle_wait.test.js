// A daemon waiting for the database sleeps: while a credit waits for a row
// lock held elsewhere (its commit cannot come), the serving loop waits in
// gRPC's queue and the db-watch thread in epoll, so the daemon uses next to
// no CPU. Regression: the watch's "a socket was ready" report, once set by a
// read's answer, was never taken while a statement was out, so every sleep
// ended at once and the loop spun a whole core until the write finished
// (~130 us of CPU per credit under load instead of ~45, and a core's worth
// during any long wait).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const { startWallet, makeWallet, timed, DATABASE_URL } = require('./lib/faults');
const { holdWalletLock } = require('./lib/lock_holder');

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('a daemon whose write waits for a row lock sleeps meanwhile', async (t) => {
  const wallet = await startWallet(DATABASE_URL, { DB_LOCK_TIMEOUT_MS: '4000' });
  t.after(() => wallet.stop());
  const x = makeWallet();
  const y = makeWallet();
  const holder = await holdWalletLock(DATABASE_URL, x);
  let released = false;
  t.after(() => released || holder.release());
  const stuck = timed(wallet.client, 'CreditWallet', { user_id: x, amount: 3, idempotency_key: crypto.randomUUID() }, 10000);
  await sleep(300); // it waits alone on the lock waiter by now
  // Reads answered meanwhile: their sockets' readiness is what the watch reports.
  for (let i = 0; i < 5; i++) {
    const r = await timed(wallet.client, 'GetWallet', { user_id: y }, 5000);
    assert.equal(r.err, null, r.err && r.err.message);
  }
  const pid = wallet.daemon.child.pid;
  const before = cpuSeconds(pid);
  const started = Date.now();
  await sleep(1500);
  const used = cpuSeconds(pid) - before;
  const wall = (Date.now() - started) / 1000;
  released = true;
  await holder.release();
  const credit = await stuck;
  assert.equal(credit.err, null, credit.err && credit.err.message);
  // A spinning loop uses about one core (~1.5 s here); sleeping, a few ms
  // (the watchdog's and the probe's ticks). A third of a core allows for a
  // sanitizer build on a loaded machine.
  assert.ok(used < wall / 3, `the daemon used ${used.toFixed(2)} s of CPU in ${wall.toFixed(2)} s while its write waited`);
});
