// Streaming calls cannot pin the daemon's stream threads (issue 11, item
// 12): a reflection stream that sends nothing for --stream-idle-seconds is
// ended by the server, and streams beyond the cap (64) are refused at once
// with RESOURCE_EXHAUSTED. Before, 64 idle streams held every stream thread
// forever, health Watch included.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { freePort, Daemon, grpc, loadGrpcProto, DATABASE_URL } = require('./lib/harness');
const { waitFor } = require('./lib/row_lock');

test('idle streams are ended, streams over the cap refused at once', async (t) => {
  const port = await freePort();
  const user = new Daemon('user-service', {
    DATABASE_URL, USER_SERVICE_URL: `127.0.0.1:${port}`, WALLET_SERVICE_URL: `127.0.0.1:${await freePort()}`,
    STREAM_IDLE_SECONDS: '1', DB_SESSIONS: '2',
  });
  await user.start(port);
  t.after(() => user.stop());
  const pkg = loadGrpcProto('grpc/reflection/v1/reflection.proto').grpc.reflection.v1;
  const client = new pkg.ServerReflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(() => client.close());

  // 64 streams that never send: every stream thread is taken.
  const ended = [];
  const idle = Array.from({ length: 64 }, () => {
    const s = client.ServerReflectionInfo();
    s.on('data', () => {});
    s.on('error', (err) => ended.push(err.code));
    return s;
  });
  const over = await waitFor('a stream over the cap to be refused', () => new Promise((resolve) => {
    const s = client.ServerReflectionInfo();
    s.on('data', () => resolve(null));
    s.on('error', (err) => resolve(err.code === grpc.status.RESOURCE_EXHAUSTED ? err : null));
    s.write({ list_services: '' });
  }), 10000, 100);
  assert.match(over.details, /too many streams/);

  // After a second without a message each idle stream is ended by the server.
  await waitFor('the idle streams to be ended', () => ended.length === idle.length, 15000);
  assert.deepEqual([...new Set(ended)], [grpc.status.CANCELLED]);
  // And the threads are free again.
  const answer = await new Promise((resolve, reject) => {
    const s = client.ServerReflectionInfo();
    s.on('data', (res) => { resolve(res); s.end(); });
    s.on('error', reject);
    s.write({ list_services: '' });
  });
  assert.ok(answer.list_services_response.service.some((svc) => svc.name === 'user.UserService'));
  assert.match(user.settledLog(), /"msg":"stream finished"/);
});
