// Loads @grpc/grpc-js and the contract for the node helpers in bench/. The
// packages come from tests/integration/node_modules (installed by `make test`
// or bench/run.sh with `npm ci` from that directory's lockfile), so the bench
// adds no dependency of its own.
'use strict';
const path = require('node:path');
const ROOT = path.resolve(__dirname, '..');
const modules = path.join(ROOT, 'tests/integration/node_modules');
const grpc = require(path.join(modules, '@grpc/grpc-js'));
const protoLoader = require(path.join(modules, '@grpc/proto-loader'));

function loadProto() {
  const def = protoLoader.loadSync(['user.proto', 'wallet.proto'], {
    includeDirs: [path.join(ROOT, 'proto'), '/usr/include'], keepCase: true, longs: Number, defaults: true,
  });
  return grpc.loadPackageDefinition(def);
}

// p50 / p99 / p99.9 of an array of milliseconds.
function percentiles(ms) {
  const v = Float64Array.from(ms).sort();
  const p = (q) => (v.length ? v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] : NaN);
  return { p50: p(0.5).toFixed(2), p99: p(0.99).toFixed(2), p999: p(0.999).toFixed(2) };
}

module.exports = { grpc, loadProto, percentiles };
