#!/usr/bin/env node
// Writes the fuzz targets' seed corpus, tests/fuzz/corpus/<target>/<sha1>
// (`make fuzz-corpus`; committed). Request seeds come from the contract:
// every method of every service in proto/, its request filled by field type
// and name, empty, with an unknown field, with a NUL in a string, with
// extreme numbers. The other seeds are the values the unit and integration
// tests use. Small on purpose: libFuzzer grows its own corpus from these.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const ROOT = path.join(__dirname, '..', '..');
const protobuf = require(path.join(ROOT, 'tests/integration/node_modules/protobufjs'));
const OUT = path.join(__dirname, 'corpus');

const written = {};
function seed(target, bytes) {
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const dir = path.join(OUT, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, crypto.createHash('sha1').update(data).digest('hex')), data);
  written[target] = (written[target] || 0) + 1;
}
const nul = Buffer.from([0]);
const join = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));

// --- fuzz_requests: "<method path>\n<request bytes>" for every method ---
const root = new protobuf.Root();
root.resolvePath = (origin, target) => [path.join(ROOT, 'proto', target), path.join('/usr/include', target),
  path.resolve(path.dirname(origin || '.'), target)].find((p) => fs.existsSync(p)) || target;
root.loadSync(fs.readdirSync(path.join(ROOT, 'proto')).filter((f) => f.endsWith('.proto') && f !== 'rules.proto'),
  { keepCase: true });
root.resolveAll();

function typical(field, depth) {
  const n = field.name;
  if (field.resolvedType instanceof protobuf.Type) return depth < 3 ? fill(field.resolvedType, depth + 1) : {};
  if (field.resolvedType instanceof protobuf.Enum) return Object.values(field.resolvedType.values).pop();
  switch (field.type) {
    case 'string':
      if (/(^|_)id$/.test(n)) return '0b9c5b3e-6d0a-4c4e-9a57-2f1d0c3b4a59';
      if (/email/.test(n)) return 'jane@example.com';
      if (/idempotency_key/.test(n)) return 'rent-2026-12';
      if (/name/.test(n)) return 'Jane Doe';
      return 'x';
    case 'bool': return true;
    case 'bytes': return Buffer.from('x');
    default: return /amount/.test(n) ? 100 : /size/.test(n) ? 20 : 1;
  }
}
function fill(type, depth = 0) {
  const o = {};
  for (const f of type.fieldsArray) o[f.name] = f.repeated ? [typical(f, depth)] : typical(f, depth);
  return o;
}
const services = [];
(function walk(ns) {
  for (const o of ns.nestedArray || []) {
    if (o instanceof protobuf.Service) services.push(o);
    else if (o.nestedArray) walk(o);
  }
})(root);
for (const svc of services) {
  for (const m of svc.methodsArray) {
    const type = m.resolvedRequestType;
    const head = `/${svc.fullName.slice(1)}/${m.name}\n`;
    const full = fill(type);
    const enc = (o) => Buffer.from(type.encode(type.fromObject(o)).finish());
    seed('fuzz_requests', join(head, enc(full)));
    seed('fuzz_requests', join(head, enc({})));
    seed('fuzz_requests', join(head, enc(full), Buffer.from([0x98, 0x06, 0x01, 0xa2, 0x06, 0x01, 0x7a]))); // unknown fields 99, 100
    const str = type.fieldsArray.find((f) => f.type === 'string' && !f.repeated);
    if (str) seed('fuzz_requests', join(head, enc({ ...full, [str.name]: `${full[str.name]}\0junk` })));
    const num = type.fieldsArray.find((f) => /int/.test(f.type) && !f.repeated);
    if (num) seed('fuzz_requests', join(head, enc({ ...full, [num.name]: -2147483648 })));
  }
}

// --- fuzz_page_token: tokens as page_token.c makes them, 36789b1's checksum token, secret files ---
const SCOPE = 'ListTransactions:0b9c5b3e-6d0a-4c4e-9a57-2f1d0c3b4a59';
const SECRET = 'fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyz'; // fuzz_page_token.c's
function sealed(position, issued) {
  const key = crypto.createHmac('sha256', SECRET).update('page-token/v2').digest();
  const nonce = crypto.createHash('sha256').update(`${position}`).digest().subarray(0, 12); // the same seeds each run
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(join(Buffer.from([2]), SCOPE));
  const plain = Buffer.alloc(16);
  plain.writeBigInt64BE(BigInt(position));
  plain.writeBigInt64BE(BigInt(issued), 8);
  return join(Buffer.from([2]), nonce, c.update(plain), c.final(), c.getAuthTag()).toString('base64url');
}
seed('fuzz_page_token', sealed(1000, 1800000000));
seed('fuzz_page_token', sealed(1, 1700000000)); // expired
const pos = Buffer.alloc(8);
pos.writeBigInt64BE(4096n);
seed('fuzz_page_token', join(pos, crypto.createHash('sha256').update('page-token/v1\n').update(SCOPE).update(nul)
  .update(pos).digest().subarray(0, 12)).toString('base64url'));
seed('fuzz_page_token', `${SECRET}\n`);
seed('fuzz_page_token', `# rotated\n${SECRET}\r\n\nprevious-0123456789abcdefghijklmnopqrstuvwxyz\n`);

// --- fuzz_metadata: key field NUL, then "key NUL value 0xff" pairs ---
const pair = (k, v) => join(k, nul, v, Buffer.from([0xff]));
seed('fuzz_metadata', join('', nul, pair('idempotency-key', 'order-42')));
seed('fuzz_metadata', join('order-42', nul, pair('idempotency-key', 'order-43'), pair('x-request-id', 'req-1')));
seed('fuzz_metadata', join('rent-2026-12', nul, pair('x-request-id', 'a b'), pair('x-call-depth', '1')));
seed('fuzz_metadata', join('', nul, pair('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
  pair('tracestate', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')));

// --- fuzz_authz_policy: the policy, NUL, path, subject, URI SAN, DNS SAN, header pairs ---
const policy = fs.readFileSync(path.join(ROOT, 'config/authz-policy.json'));
const facts = (p, subj, uri, dns, ...headers) => join(nul, [p, subj, uri, dns, ...headers].join('\0'));
seed('fuzz_authz_policy', join(policy, facts('/wallet.WalletService/CreditWallet', 'CN=payments', 'spiffe://wallet.local/client/payments', '')));
seed('fuzz_authz_policy', join(policy, facts('/user.UserService/GetUserById', '', '', 'wallet-service')));
seed('fuzz_authz_policy', join(JSON.stringify({
  name: 'h', allow_rules: [{ name: 'hdr', request: { paths: ['*'], headers: [{ key: 'x-team', values: ['ops', 'pay*'] }] } }],
  deny_rules: [{ name: 'd', source: { principals: ['*bad'] } }],
}), facts('/a.B/C', 'CN=x', '', 'x.bad', 'x-team', 'payments')));

// --- fuzz_config: NUL-separated words, NAME=value ones the environment ---
const words = (...w) => w.join('\0');
seed('fuzz_config', words('DATABASE_URL=postgresql://app@127.0.0.1:5432/wallet', '--listen', '127.0.0.1:50052'));
seed('fuzz_config', words('DATABASE_URL=postgres://h/db', 'USER_SERVICE_URL=127.0.0.1:1,127.0.0.1:2', '--workers=4',
  '--max-calls', '64', '--log-level=debug', 'PAGE_TOKEN_TTL=3600'));
seed('fuzz_config', words('--database-url', 'x', '--user-service-url', '[::1]:50051,[::1]:50052', '--metrics-listen=0',
  '--tls-cert-file', '/nonexistent', 'LOG_LEVEL=loud'));

// --- fuzz_db_url: the URLs of test_db_url.c ---
for (const u of ['postgresql://app:secret@db.internal:6432/wallet?sslmode=disable', 'postgres://app@/wallet',
  'host=10.0.0.1 port=5433 dbname=w user=app password=secret', 'postgresql://app:secret@h:5432/db?bogus=%zz',
  'postgresql://u:p@h/db?sslmode=require&schema=app&connection_limit=5',
  'postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write']) seed('fuzz_db_url', u);

for (const [t, n] of Object.entries(written)) console.log(`${t}: ${n} seeds`);
