// Time from exec to the first served call: spawns a daemon (detached, its log
// to LOGFILE, environment inherited), then polls its port every 2 ms and, once
// it accepts, sends BODY_FILE (a gRPC frame) until the answer has status 0.
// Node starts before the clock does, so only the daemon's start-up is timed.
// The daemon keeps running after this exits; run.sh owns and stops it.
// Prints pid=, ms=, listen_ms= (port first accepted), attempts=, code= (last
// status); exit 1 after 10 s.
//   node firstcall.js LOGFILE HOST:PORT /pkg.Service/Method BODY_FILE BINARY [ARGS...]
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { grpc } = require('./grpc');
const [logFile, addr, method, bodyFile, bin, ...args] = process.argv.slice(2);
const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
const body = fs.readFileSync(bodyFile).subarray(5);
const log = fs.openSync(logFile, 'a');

// Warm @grpc/grpc-js's own code paths (channel, resolver, call) on the still
// closed port, so its first-use cost is not charged to the daemon.
function warm(done) {
  const c = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  c.makeUnaryRequest(method, (b) => b, (b) => b, body, new grpc.Metadata(),
    { deadline: new Date(Date.now() + 1000) }, () => { c.close(); done(); });
}
warm(() => warm(start));

let t0; let child; let listenMs = null;
let attempts = 0; let lastCode = 'none'; let exited = null;
function start() {
  t0 = process.hrtime.bigint();
  child = spawn(bin, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  child.once('exit', (code, signal) => { exited = `${code}/${signal}`; });
  attempt();
}
const ms = () => (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1);

function finish(ok) {
  console.log(`pid=${child.pid}\nms=${ok ? ms() : 'timeout'}\nlisten_ms=${listenMs}\nattempts=${attempts}\ncode=${lastCode}`);
  if (exited) console.log(`exited=${exited}`);
  process.exit(ok ? 0 : 1);
}
function retry() {
  if (exited || Number(process.hrtime.bigint() - t0) > 10e9) return finish(false);
  setTimeout(attempt, 2);
}
function attempt() {
  attempts += 1;
  const sock = net.connect(port, host);
  sock.once('error', () => { sock.destroy(); lastCode = 'refused'; retry(); });
  sock.once('connect', () => {
    sock.destroy();
    if (listenMs === null) listenMs = ms();
    const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    client.makeUnaryRequest(method, (b) => b, (b) => b, body, new grpc.Metadata(),
      { deadline: new Date(Date.now() + 1000) }, (err) => {
        client.close();
        lastCode = err ? err.code : 0;
        if (err) retry(); else finish(true);
      });
  });
}
