// CreateUser load generator: keeps INFLIGHT calls open on one HTTP/2
// connection for SECS seconds, each with a unique email, then waits for the
// last answers. This is the user -> wallet -> user chain (CreateUser calls
// CreateWallet, which calls GetUserById), which h2load cannot drive because
// every body must differ.
// It speaks gRPC over node:http2 directly rather than through @grpc/grpc-js:
// grpc-js spent ~1.6 ms of CPU per call, more than both daemons together, and
// on a 2-core machine the load generator's CPU is taken from the daemons.
// A call succeeds when grpc-status is 0 and a message came back.
// Prints key=value: ok, failed (+ one line per status code), secs, rps, p50/p99/p99.9 ms.
//   node createuser.js HOST:PORT INFLIGHT SECS EMAIL_PREFIX
'use strict';
const http2 = require('node:http2');
const { percentiles } = require('./grpc');
const [addr, inflightArg, secsArg, prefix] = process.argv.slice(2);
const inflight = Number(inflightArg); const secs = Number(secsArg);
const session = http2.connect(`http://${addr}`, { settings: { initialWindowSize: 1 << 20 } });
session.on('error', (e) => { console.error(`createuser.js: ${e.message}`); process.exit(1); });
const lat = []; const codes = {}; let ok = 0; let seq = 0; let open = 0;
const start = process.hrtime.bigint();
const stopAt = start + BigInt(Math.round(secs * 1e9));

// user.CreateUserRequest: 1 email, 2 name (both < 128 bytes), in a gRPC frame.
function frame(email, name) {
  const e = Buffer.from(email); const n = Buffer.from(name);
  const msg = Buffer.concat([Buffer.from([0x0a, e.length]), e, Buffer.from([0x12, n.length]), n]);
  const head = Buffer.alloc(5); head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

function one() {
  if (process.hrtime.bigint() >= stopAt) { if (--open === 0) done(); return; }
  seq += 1;
  const t0 = process.hrtime.bigint();
  const stream = session.request({
    ':method': 'POST', ':path': '/user.UserService/CreateUser', 'content-type': 'application/grpc',
    te: 'trailers', 'grpc-timeout': '10S',
  });
  let bytes = 0; let status = null;
  stream.on('response', (h) => { if (h['grpc-status'] !== undefined) status = h['grpc-status']; });
  stream.on('trailers', (t) => { if (t['grpc-status'] !== undefined) status = t['grpc-status']; });
  stream.on('data', (d) => { bytes += d.length; });
  stream.on('error', () => { status = status ?? 'stream-error'; });
  stream.on('close', () => {
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const code = status ?? 'none';
    if (code === '0' && bytes > 5) ok += 1; else codes[code] = (codes[code] || 0) + 1;
    one();
  });
  stream.end(frame(`${prefix}-${seq}@bench.invalid`, `Bench ${seq}`));
}
function done() {
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const p = percentiles(lat);
  const failed = Object.values(codes).reduce((a, b) => a + b, 0);
  console.log(`ok=${ok}\nfailed=${failed}\nsecs=${s.toFixed(3)}\nrps=${Math.round(ok / s)}`);
  for (const [c, n] of Object.entries(codes)) console.log(`code.${c}=${n}`);
  console.log(`p50=${p.p50}\np99=${p.p99}\np999=${p.p999}`);
  session.close();
}
session.on('connect', () => { open = inflight; for (let i = 0; i < inflight; i += 1) one(); });
