// Credits while one wallet's row is locked by another program (bench/lockwait.sh):
// one closed loop per other wallet (a credit of 1, then the next), and a
// credit to the locked wallet every LOCKED_EVERY_MS, each of which waits for
// the lock (up to DB_LOCK_TIMEOUT_MS), for SECS seconds; then the last
// answers are awaited. @grpc/grpc-js: the rates are low, its CPU no matter.
// Prints key=value: others.ok, others.failed, others.p50/p99/max (ms),
// locked.ok, locked.aborted, locked.other, locked.max (ms).
//   node lockwait.js HOST:PORT SECS LOCKED_USER_ID OTHER_USER_ID...
'use strict';
const { grpc, loadProto, percentiles } = require('./grpc');

const LOCKED_EVERY_MS = 250;
const [addr, secsArg, locked, ...others] = process.argv.slice(2);
if (!addr || !locked || others.length === 0) {
  console.error('usage: node lockwait.js HOST:PORT SECS LOCKED_USER_ID OTHER_USER_ID...');
  process.exit(2);
}
const proto = loadProto();
const client = new proto.wallet.WalletService(addr, grpc.credentials.createInsecure());
const stopAt = Date.now() + Number(secsArg) * 1000;

function credit(userId) {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    client.CreditWallet({ user_id: userId, amount: 1 }, { deadline: new Date(Date.now() + 10000) }, (err) => {
      resolve({ err, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

async function main() {
  const lat = [];
  let failed = 0;
  const loops = others.map(async (id) => {
    while (Date.now() < stopAt) {
      const r = await credit(id);
      if (r.err) failed++;
      else lat.push(r.ms);
    }
  });
  const lockedCalls = [];
  while (Date.now() < stopAt) {
    lockedCalls.push(credit(locked));
    await new Promise((resolve) => setTimeout(resolve, LOCKED_EVERY_MS));
  }
  await Promise.all(loops);
  const lockedAnswers = await Promise.all(lockedCalls);
  const p = percentiles(lat);
  const count = (f) => lockedAnswers.filter(f).length;
  console.log(`others.ok=${lat.length}\nothers.failed=${failed}`);
  console.log(`others.p50=${p.p50}\nothers.p99=${p.p99}\nothers.max=${Math.max(...lat).toFixed(2)}`);
  console.log(`locked.ok=${count((r) => !r.err)}\nlocked.aborted=${count((r) => r.err && r.err.code === grpc.status.ABORTED)}`);
  console.log(`locked.other=${count((r) => r.err && r.err.code !== grpc.status.ABORTED)}`);
  console.log(`locked.max=${Math.max(...lockedAnswers.map((r) => r.ms)).toFixed(2)}`);
  client.close();
}
main().catch((e) => { console.error(`lockwait.js: ${e.stack}`); process.exit(1); });
