// CreateUser load generator: keeps INFLIGHT calls open on one channel for SECS
// seconds, each with a unique email, then waits for the last answers. This is
// the user -> wallet -> user chain (CreateUser calls CreateWallet, which calls
// GetUserById), which h2load cannot drive because every body must differ.
// Prints key=value: ok, failed (+ one line per status code), secs, rps, p50/p99/p99.9 ms.
//   node createuser.js HOST:PORT INFLIGHT SECS EMAIL_PREFIX
'use strict';
const { grpc, loadProto, percentiles } = require('./grpc');
const [addr, inflightArg, secsArg, prefix] = process.argv.slice(2);
const inflight = Number(inflightArg); const secs = Number(secsArg);
const proto = loadProto();
const client = new proto.user.UserService(addr, grpc.credentials.createInsecure());
const lat = []; const codes = {}; let ok = 0; let seq = 0; let open = 0;
const start = process.hrtime.bigint();
const stopAt = start + BigInt(Math.round(secs * 1e9));

function one() {
  if (process.hrtime.bigint() >= stopAt) { if (--open === 0) done(); return; }
  seq += 1;
  const t0 = process.hrtime.bigint();
  client.CreateUser({ email: `${prefix}-${seq}@bench.invalid`, name: `Bench ${seq}` },
    { deadline: new Date(Date.now() + 10000) }, (err) => {
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (err) codes[err.code] = (codes[err.code] || 0) + 1; else ok += 1;
      one();
    });
}
function done() {
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const p = percentiles(lat);
  const failed = Object.values(codes).reduce((a, b) => a + b, 0);
  console.log(`ok=${ok}\nfailed=${failed}\nsecs=${s.toFixed(3)}\nrps=${Math.round(ok / s)}`);
  for (const [c, n] of Object.entries(codes)) console.log(`code.${c}=${n}`);
  console.log(`p50=${p.p50}\np99=${p.p99}\np999=${p.p999}`);
  client.close();
}
open = inflight;
for (let i = 0; i < inflight; i += 1) one();
