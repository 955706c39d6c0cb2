// A user-service killed between inserting a user and hearing from
// wallet-service leaves the user with its pending marker; the next CreateUser
// (after a restart) sweeps such users once their marker is old. A user whose
// creation finished keeps its marker until then and is kept (it has a
// wallet); users without a marker, e.g. left by the old system, are never
// touched.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, sql, startPlatform, uniqueEmail } = require('./lib/harness');

test('abandoned creations are swept, other users kept', async (t) => {
  const abandoned = '11111111-1111-4111-8111-111111111111';
  const recent = '22222222-2222-4222-8222-222222222222';
  const legacy = '33333333-3333-4333-8333-333333333333';
  const finished = '44444444-4444-4444-8444-444444444444';
  const all = [abandoned, recent, legacy, finished];
  sql(`DELETE FROM "User" WHERE id IN (${all.map((id) => `'${id}'`).join(',')})`);
  sql(`INSERT INTO "User" (id, email, name) VALUES
         ('${abandoned}', '${uniqueEmail('abandoned')}', 'A'),
         ('${recent}', '${uniqueEmail('recent')}', 'R'),
         ('${legacy}', '${uniqueEmail('legacy')}', 'L'),
         ('${finished}', '${uniqueEmail('finished')}', 'F')`);
  sql(`INSERT INTO "Wallet" (id, "userId") VALUES ('55555555-5555-4555-8555-555555555555', '${finished}')`);
  sql(`INSERT INTO "PendingUser" ("userId", "createdAt") VALUES
         ('${abandoned}', LOCALTIMESTAMP - INTERVAL '10 minutes'),
         ('${finished}', LOCALTIMESTAMP - INTERVAL '10 minutes'),
         ('${recent}', LOCALTIMESTAMP)`);

  const p = await startPlatform();
  t.after(() => p.stop());
  const created = await call(p.userClient, 'CreateUser', { email: uniqueEmail('sweeper'), name: 'S' });
  assert.equal(created.err, null);

  const left = sql(`SELECT string_agg(id, ',' ORDER BY id) FROM "User" WHERE id IN (${all.map((id) => `'${id}'`).join(',')})`);
  assert.equal(left, `${recent},${legacy},${finished}`);
  assert.equal(sql(`SELECT count(*) FROM "Wallet" WHERE "userId" = '${finished}'`), '1');
  // Old markers are gone, the recent one (a creation maybe in progress) stays.
  assert.equal(sql(`SELECT string_agg("userId", ',') FROM "PendingUser" WHERE "userId" IN (${all.map((id) => `'${id}'`).join(',')})`), recent);
  // The new user is complete: it has its wallet.
  assert.equal(sql(`SELECT count(*) FROM "Wallet" WHERE "userId" = '${created.res.id}'`), '1');
  sql(`DELETE FROM "User" WHERE id IN ('${recent}', '${legacy}', '${finished}'); DELETE FROM "PendingUser" WHERE "userId" = '${recent}'`);
});
