// A user-service killed between inserting a user and hearing from
// wallet-service leaves the user with its pending marker; the next CreateUser
// (after a restart) sweeps such users once their marker is old. Users without
// a marker, e.g. left by the old system, are never touched.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, sql, startPlatform, uniqueEmail } = require('./lib/harness');

test('abandoned creations are swept, other users kept', async (t) => {
  const abandoned = '11111111-1111-4111-8111-111111111111';
  const recent = '22222222-2222-4222-8222-222222222222';
  const legacy = '33333333-3333-4333-8333-333333333333';
  sql(`DELETE FROM "User" WHERE id IN ('${abandoned}', '${recent}', '${legacy}')`);
  sql(`INSERT INTO "User" (id, email, name) VALUES
         ('${abandoned}', '${uniqueEmail('abandoned')}', 'A'),
         ('${recent}', '${uniqueEmail('recent')}', 'R'),
         ('${legacy}', '${uniqueEmail('legacy')}', 'L')`);
  sql(`INSERT INTO "PendingUser" ("userId", "createdAt") VALUES
         ('${abandoned}', LOCALTIMESTAMP - INTERVAL '10 minutes'),
         ('${recent}', LOCALTIMESTAMP)`);

  const p = await startPlatform();
  t.after(() => p.stop());
  const created = await call(p.userClient, 'CreateUser', { email: uniqueEmail('sweeper'), name: 'S' });
  assert.equal(created.err, null);

  const left = sql(`SELECT string_agg(id, ',' ORDER BY id) FROM "User" WHERE id IN ('${abandoned}', '${recent}', '${legacy}')`);
  assert.equal(left, `${recent},${legacy}`);
  assert.equal(sql(`SELECT count(*) FROM "PendingUser" WHERE "userId" = '${abandoned}'`), '0');
  // A finished CreateUser leaves no marker behind.
  assert.equal(sql(`SELECT count(*) FROM "PendingUser" WHERE "userId" = '${created.res.id}'`), '0');
  sql(`DELETE FROM "User" WHERE id IN ('${recent}', '${legacy}'); DELETE FROM "PendingUser" WHERE "userId" = '${recent}'`);
});
