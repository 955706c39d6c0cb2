// Server reflection with clients nobody here wrote: buf curl (reflection is
// its default schema source, v1 and v1alpha) and @grpc/grpc-js with the
// reflection contract from Debian's grpc-proto. Every file the daemons serve
// must be byte-identical to what protoc produces from the sources.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT, grpc, startPlatform, uniqueEmail, bufCurl, loadGrpcProto } = require('./lib/harness');

const BUILTIN = ['grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto',
  'grpc/reflection/v1alpha/reflection.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'];

// protoc's FileDescriptorSet of a service file plus the built-in contracts,
// as { name -> FileDescriptorProto bytes } in protoc's order.
function protocFiles(serviceFile) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'refl-')), 'set.pb');
  const inputs = [path.join(ROOT, 'proto', serviceFile)];
  for (const f of BUILTIN) {
    inputs.push(fs.existsSync(path.join(ROOT, 'proto', f)) ? path.join(ROOT, 'proto', f)
      : path.join('/usr/share/grpc-proto', f));
  }
  execFileSync('protoc', [`-I${path.join(ROOT, 'proto')}`, '-I/usr/include', '-I/usr/share/grpc-proto',
    '--include_imports', '--include_source_info', `--descriptor_set_out=${out}`, ...inputs]);
  const set = fs.readFileSync(out);
  fs.rmSync(path.dirname(out), { recursive: true });
  const files = new Map();
  const varint = (buf, pos) => {
    let v = 0; let shift = 0;
    for (;;) { const b = buf[pos++]; v += (b & 0x7f) * 2 ** shift; shift += 7; if (b < 0x80) return [v, pos]; }
  };
  let pos = 0;
  while (pos < set.length) {
    let key; let len;
    [key, pos] = varint(set, pos);
    assert.equal(key, 0x0a);
    [len, pos] = varint(set, pos);
    const bytes = set.subarray(pos, pos + len);
    pos += len;
    // field 1 (name) comes first in protoc's output
    const [nameLen, p] = varint(bytes, 1);
    files.set(bytes.subarray(p, p + nameLen).toString('utf8'), Buffer.from(bytes));
  }
  return files;
}

// One reflection stream; ask() sends a request and resolves with its answer.
function reflectionStream(address, version) {
  const pkg = loadGrpcProto(`grpc/reflection/${version}/reflection.proto`).grpc.reflection[version];
  const client = new pkg.ServerReflection(address, grpc.credentials.createInsecure());
  const stream = client.ServerReflectionInfo();
  const waiting = [];
  stream.on('data', (res) => waiting.shift().resolve(res));
  stream.on('error', (err) => { while (waiting.length) waiting.shift().reject(err); });
  return {
    ask(req) {
      return new Promise((resolve, reject) => { waiting.push({ resolve, reject }); stream.write(req); });
    },
    close() {
      return new Promise((resolve) => { stream.on('end', resolve); stream.on('error', resolve); stream.end(); })
        .then(() => client.close());
    },
  };
}

let p;
test.before(async () => { p = await startPlatform(); });
test.after(() => p.stop());

test('buf curl lists every service through reflection (default, grpc-v1, grpc-v1alpha)', () => {
  for (const flags of [[], ['--reflect-protocol', 'grpc-v1'], ['--reflect-protocol', 'grpc-v1alpha']]) {
    const r = bufCurl([...flags, '--list-services', `http://127.0.0.1:${p.userPort}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection', 'user.UserService']);
    const w = bufCurl([...flags, '--list-methods', `http://127.0.0.1:${p.walletPort}`]);
    assert.equal(w.code, 0, w.stderr);
    for (const m of ['CreateWallet', 'GetWallet', 'CreditWallet', 'DebitWallet']) {
      assert.ok(w.stdout.includes(`wallet.WalletService/${m}`), w.stdout);
    }
  }
});

test('buf curl calls methods with -d and no schema, over both reflection versions', () => {
  for (const flags of [['--reflect-protocol', 'grpc-v1'], ['--reflect-protocol', 'grpc-v1alpha']]) {
    const email = uniqueEmail('refl');
    const r = bufCurl([...flags, '-d', JSON.stringify({ email, name: 'Refl' }),
      `http://127.0.0.1:${p.userPort}/user.UserService/CreateUser`]);
    assert.equal(r.code, 0, r.stderr);
    const user = JSON.parse(r.stdout);
    assert.equal(user.email, email);
    const g = bufCurl([...flags, '-d', JSON.stringify({ user_id: user.id, amount: 7 }),
      `http://127.0.0.1:${p.walletPort}/wallet.WalletService/CreditWallet`]);
    assert.equal(g.code, 0, g.stderr);
    assert.equal(JSON.parse(g.stdout).balance, 7);
  }
});

for (const version of ['v1', 'v1alpha']) {
  test(`every served file equals protoc's descriptor (${version})`, async () => {
    for (const [port, serviceFile, service] of [[p.userPort, 'user.proto', 'user.UserService'],
      [p.walletPort, 'wallet.proto', 'wallet.WalletService']]) {
      const expected = protocFiles(serviceFile);
      const r = reflectionStream(`127.0.0.1:${port}`, version);
      try {
        for (const [name, bytes] of expected) {
          const res = await r.ask({ host: 'x', file_by_filename: name });
          assert.equal(res.message_response, 'file_descriptor_response', `${name}: ${JSON.stringify(res.error_response)}`);
          const got = res.file_descriptor_response.file_descriptor_proto;
          assert.ok(Buffer.from(got[0]).equals(bytes), `${name} differs from protoc's`);
          // transitive imports come along, each exactly as protoc wrote it
          for (const dep of got.slice(1)) {
            assert.ok([...expected.values()].some((b) => b.equals(Buffer.from(dep))), `an import of ${name} differs`);
          }
          assert.equal(res.valid_host, 'x');
        }
        const sym = await r.ask({ file_containing_symbol: `${service.split('.')[0]}.${service.split('.')[1]}` });
        const names = sym.file_descriptor_response.file_descriptor_proto.map((b) => {
          const buf = Buffer.from(b); return buf.subarray(2, 2 + buf[1]).toString();
        });
        assert.equal(names[0], serviceFile);
        assert.ok(names.includes('rules.proto') && names.includes('google/protobuf/descriptor.proto'), names.join());
        const details = await r.ask({ file_containing_symbol: 'google.rpc.BadRequest.FieldViolation' });
        const first = Buffer.from(details.file_descriptor_response.file_descriptor_proto[0]);
        assert.ok(first.equals(expected.get('google/rpc/error_details.proto')));
        assert.equal(details.file_descriptor_response.file_descriptor_proto.length, 2, 'with duration.proto');
        const ext = await r.ask({ file_containing_extension: { containing_type: 'google.protobuf.FieldOptions',
          extension_number: 50100 } });
        const b = Buffer.from(ext.file_descriptor_response.file_descriptor_proto[0]);
        assert.equal(b.subarray(2, 2 + b[1]).toString(), 'rules.proto');
        const nums = await r.ask({ all_extension_numbers_of_type: 'google.protobuf.FieldOptions' });
        assert.equal(nums.message_response, 'all_extension_numbers_response');
        assert.deepEqual(nums.all_extension_numbers_response.extension_number, [50100]);
        const list = await r.ask({ list_services: '' });
        assert.deepEqual(list.list_services_response.service.map((s) => s.name).sort(), ['grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', service]);
        for (const req of [{ file_by_filename: 'nope.proto' }, { file_containing_symbol: 'user.Nope' },
          { file_containing_extension: { containing_type: 'user.Nope', extension_number: 9 } },
          { all_extension_numbers_of_type: 'nope.Nope' }]) {
          const res = await r.ask(req);
          assert.equal(res.message_response, 'error_response', JSON.stringify(req));
          assert.equal(res.error_response.error_code, grpc.status.NOT_FOUND);
        }
        // the stream survived the errors
        const again = await r.ask({ file_by_filename: serviceFile });
        assert.equal(again.message_response, 'file_descriptor_response');
      } finally {
        await r.close();
      }
    }
  });
}
