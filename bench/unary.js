// Unary gRPC load over node:http2: INFLIGHT calls kept open on one HTTP/2
// connection for SECS seconds, each ended call replaced at once, then the
// last answers awaited. node:http2 rather than @grpc/grpc-js, whose ~1.6 ms
// of CPU per call would take the daemons' cores on a 2-core machine.
// A call succeeds when grpc-status is 0 and a message came back.
// Used by createuser.js (a new body per call) and, as a command, by run.sh's
// mutual TLS comparison: one body, over plaintext or mutual TLS, the same
// driver for both so the two figures differ only in the transport.
// Prints key=value: ok, failed (+ code.N lines), secs, rps, p50/p99/p99.9 ms.
//   node unary.js URL /pkg.Service/Method BODY_FILE INFLIGHT SECS [CA CERT KEY]
//   URL is http://HOST:PORT, or https://HOST:PORT with the three PEM files
'use strict';
const fs = require('node:fs');
const http2 = require('node:http2');
const { percentiles } = require('./grpc');

// Runs the load; body(seq) is the framed request of call number seq.
function drive({ url, path, inflight, secs, body, tls }) {
  const session = http2.connect(url, { settings: { initialWindowSize: 1 << 20 }, ...tls });
  session.on('error', (e) => { console.error(`unary.js: ${e.message}`); process.exit(1); });
  const lat = []; const codes = {}; let ok = 0; let seq = 0; let open = 0;
  const start = process.hrtime.bigint();
  const stopAt = start + BigInt(Math.round(secs * 1e9));

  function done() {
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    const p = percentiles(lat);
    const failed = Object.values(codes).reduce((a, b) => a + b, 0);
    console.log(`ok=${ok}\nfailed=${failed}\nsecs=${s.toFixed(3)}\nrps=${Math.round(ok / s)}`);
    for (const [c, n] of Object.entries(codes)) console.log(`code.${c}=${n}`);
    console.log(`p50=${p.p50}\np99=${p.p99}\np999=${p.p999}`);
    session.close();
  }

  function one() {
    if (process.hrtime.bigint() >= stopAt) { if (--open === 0) done(); return; }
    seq += 1;
    const t0 = process.hrtime.bigint();
    const stream = session.request({
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '10S',
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
    stream.end(body(seq));
  }
  session.on('connect', () => { open = inflight; for (let i = 0; i < inflight; i += 1) one(); });
}

if (require.main === module) {
  const [url, path, bodyFile, inflight, secs, ca, cert, key] = process.argv.slice(2);
  const frame = fs.readFileSync(bodyFile);
  const tls = ca ? { ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key) } : {};
  drive({ url, path, inflight: Number(inflight), secs: Number(secs), body: () => frame, tls });
}

module.exports = { drive };
