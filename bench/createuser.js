// CreateUser load generator: keeps INFLIGHT calls open on one HTTP/2
// connection for SECS seconds, each with a unique email, then waits for the
// last answers. This is the user -> wallet -> user chain (CreateUser calls
// CreateWallet, which calls GetUserById), which h2load cannot drive because
// every body must differ. The load itself is bench/unary.js's.
// Prints key=value: ok, failed (+ one line per status code), secs, rps, p50/p99/p99.9 ms.
//   node createuser.js HOST:PORT INFLIGHT SECS EMAIL_PREFIX
'use strict';
const { drive } = require('./unary');
const [addr, inflight, secs, prefix] = process.argv.slice(2);

// user.CreateUserRequest: 1 email, 2 name (both < 128 bytes), in a gRPC frame.
function frame(email, name) {
  const e = Buffer.from(email); const n = Buffer.from(name);
  const msg = Buffer.concat([Buffer.from([0x0a, e.length]), e, Buffer.from([0x12, n.length]), n]);
  const head = Buffer.alloc(5); head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

drive({
  url: `http://${addr}`, path: '/user.UserService/CreateUser', inflight: Number(inflight), secs: Number(secs),
  body: (seq) => frame(`${prefix}-${seq}@bench.invalid`, `Bench ${seq}`),
});
