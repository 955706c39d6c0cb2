// Rich errors: a failed validation carries a google.rpc.Status with a
// BadRequest in the grpc-status-details-bin trailer, decoded here with
// protobufjs from the carried google/rpc contracts and checked field by
// field; buf curl shows the same details.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('protobufjs');
const { ROOT, call, startPlatform, uniqueEmail, bufCurl, grpc } = require('./lib/harness');

const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const dir of [path.join(ROOT, 'proto'), '/usr/include']) {
    if (fs.existsSync(path.join(dir, target))) return path.join(dir, target);
  }
  return protobuf.util.path.resolve(origin, target);
};
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const Status = root.lookupType('google.rpc.Status');
const BadRequest = root.lookupType('google.rpc.BadRequest');

function details(err) {
  const raw = err.metadata.get('grpc-status-details-bin');
  assert.equal(raw.length, 1, 'one grpc-status-details-bin trailer');
  return Status.decode(raw[0]);
}

let p;
test.before(async () => { p = await startPlatform(); });
test.after(() => p.stop());

test('a failed validation carries BadRequest field violations', async () => {
  const { err } = await call(p.userClient, 'CreateUser', { email: 'not an email', name: '' });
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(err.details, 'invalid CreateUserRequest: email: must be a valid email address; name: must not be empty');
  const st = details(err);
  assert.equal(st.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(st.message, err.details);
  assert.equal(st.details.length, 1);
  assert.equal(st.details[0].type_url, 'type.googleapis.com/google.rpc.BadRequest');
  const bad = BadRequest.decode(st.details[0].value);
  assert.deepEqual(bad.field_violations.map((v) => [v.field, v.description]), [
    ['email', 'must be a valid email address'],
    ['name', 'must not be empty'],
  ]);
});

test('wallet rules carry details too', async () => {
  const { err } = await call(p.walletClient, 'DebitWallet', { user_id: 'x', amount: 0 });
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  const bad = BadRequest.decode(details(err).details[0].value);
  assert.deepEqual(bad.field_violations.map((v) => v.field), ['user_id', 'amount']);
  assert.equal(bad.field_violations[1].description, 'must be greater than or equal to 1');
});

test('other failures carry no details', async () => {
  const { err } = await call(p.userClient, 'GetUserById', { id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.equal(err.metadata.get('grpc-status-details-bin').length, 0);
  const ok = await call(p.userClient, 'CreateUser', { email: uniqueEmail('errors'), name: 'Ok' });
  assert.equal(ok.err, null);
});

test('buf curl prints the BadRequest details', () => {
  const r = bufCurl(['-d', '{"email":"x","name":"Jo"}', `http://127.0.0.1:${p.userPort}/user.UserService/CreateUser`]);
  assert.notEqual(r.code, 0);
  const out = JSON.parse(r.stderr);
  assert.equal(out.code, 'invalid_argument');
  assert.ok(out.details, r.stderr);
  assert.equal(out.details[0].type, 'google.rpc.BadRequest');
  const bad = BadRequest.decode(Buffer.from(out.details[0].value, 'base64'));
  assert.equal(bad.field_violations[0].field, 'email');
});
