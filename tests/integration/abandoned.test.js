// A user-service killed between inserting a user and hearing from
// wallet-service leaves the user with its pending marker; a sweep in the
// background (issue 11, item 9) removes such users once their marker is old,
// in bounded batches on its own schedule, never inside a caller's call. A
// user that has a wallet and still a marker (the wallet's insert removes it
// now; older daemons left it for the sweep) is kept; users without a marker,
// e.g. left by the old system, are never touched.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { call, sql, startPlatform, uniqueEmail } = require('./lib/harness');
const { waitFor } = require('./lib/row_lock');

const staleMarkers = (ids) =>
  Number(sql(`SELECT count(*) FROM "PendingUser" WHERE "createdAt" < LOCALTIMESTAMP - INTERVAL '5 minutes'${
    ids ? ` AND "userId" IN (${ids.map((id) => `'${id}'`).join(',')})` : ''}`));

test('abandoned creations are swept, other users kept', async (t) => {
  const abandoned = '11111111-1111-4111-8111-111111111111';
  const recent = '22222222-2222-4222-8222-222222222222';
  const legacy = '33333333-3333-4333-8333-333333333333';
  const finished = '44444444-4444-4444-8444-444444444444';
  const all = [abandoned, recent, legacy, finished];
  sql(`DELETE FROM "User" WHERE id IN (${all.map((id) => `'${id}'`).join(',')});
       DELETE FROM "PendingUser" WHERE "userId" IN (${all.map((id) => `'${id}'`).join(',')})`);
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
  // No call is needed: the sweep runs on its own once the daemon serves.
  await waitFor('the sweep', () => staleMarkers(all) === 0);

  const left = sql(`SELECT string_agg(id, ',' ORDER BY id) FROM "User" WHERE id IN (${all.map((id) => `'${id}'`).join(',')})`);
  assert.equal(left, `${recent},${legacy},${finished}`);
  assert.equal(sql(`SELECT count(*) FROM "Wallet" WHERE "userId" = '${finished}'`), '1');
  // Old markers are gone, the recent one (a creation maybe in progress) stays.
  assert.equal(sql(`SELECT string_agg("userId", ',') FROM "PendingUser" WHERE "userId" IN (${all.map((id) => `'${id}'`).join(',')})`), recent);
  const created = await call(p.userClient, 'CreateUser', { email: uniqueEmail('sweeper'), name: 'S' });
  assert.equal(created.err, null);
  assert.equal(sql(`SELECT count(*) FROM "Wallet" WHERE "userId" = '${created.res.id}'`), '1');
  sql(`DELETE FROM "User" WHERE id IN ('${recent}', '${legacy}', '${finished}'); DELETE FROM "PendingUser" WHERE "userId" = '${recent}'`);
});

test('a large backlog is swept in the background while CreateUser stays fast', async (t) => {
  // 30,000 abandoned users and 10,000 finished ones, all with old markers.
  const tag = `backlog${process.pid}x${Date.now()}`;
  sql(`INSERT INTO "User" (id, email, name)
         SELECT gen_random_uuid()::text, '${tag}.' || i || '@example.com', 'B' FROM generate_series(1, 40000) i;
       INSERT INTO "Wallet" (id, "userId")
         SELECT gen_random_uuid()::text, id FROM "User" WHERE email LIKE '${tag}.%' AND name = 'B' LIMIT 10000;
       INSERT INTO "PendingUser" ("userId", "createdAt")
         SELECT id, LOCALTIMESTAMP - INTERVAL '1 hour' FROM "User" WHERE email LIKE '${tag}.%'`);
  const p = await startPlatform();
  t.after(() => p.stop());
  // Calls made while the backlog is swept are not held up by it: each
  // batch is small, and none runs inside a call.
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const r = await call(p.userClient, 'CreateUser', { email: `${tag}.new${i}@example.com`, name: 'New' }, { timeoutMs: 2000 });
    assert.equal(r.err, null, `CreateUser ${i} during the sweep`);
    assert.ok(Date.now() - started < 1500, `CreateUser ${i} took ${Date.now() - started} ms`);
  }
  await waitFor('the backlog to be swept', () => staleMarkers() === 0, 60000, 200);
  assert.equal(sql(`SELECT count(*) FROM "User" WHERE email LIKE '${tag}.%' AND name = 'B'`), '10000', 'users with a wallet kept');
  assert.equal(sql(`SELECT count(*) FROM "User" u WHERE email LIKE '${tag}.%'
                      AND NOT EXISTS (SELECT 1 FROM "Wallet" w WHERE w."userId" = u.id)`), '0', 'no user left without a wallet');
  sql(`DELETE FROM "User" WHERE email LIKE '${tag}.%'`);
});
