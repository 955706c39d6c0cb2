// Operations (idempotency keys and their outcomes) older than IDEMPOTENCY_TTL
// are swept in the background, in bounded batches, with no call made; newer
// ones stay, and a swept key may be used afresh.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { sql, startPlatform } = require('./lib/harness');

async function until(predicate, timeoutMs) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

test('expired operations are swept in the background', async (t) => {
  const tag = `expiry-${process.pid}-${Date.now()}`;
  sql(`INSERT INTO "Operation" (id, request, attempt, code, "createdAt")
       SELECT '${tag}-old-' || g, '', 'a', 0, LOCALTIMESTAMP - INTERVAL '2 days' FROM generate_series(1, 2500) g`);
  sql(`INSERT INTO "Operation" (id, request, attempt, code) VALUES ('${tag}-new', '', 'a', 0)`);
  const p = await startPlatform();
  t.after(() => p.stop());
  const left = () => Number(sql(`SELECT count(*) FROM "Operation" WHERE id LIKE '${tag}-old-%'`));
  assert.ok(await until(() => left() === 0, 20000), `${left()} expired operations left`);
  assert.equal(sql(`SELECT count(*) FROM "Operation" WHERE id = '${tag}-new'`), '1', 'a fresh one stays');
});
