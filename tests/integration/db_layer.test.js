// The database layer's cmocka tests (tests/db/test_db.c, test_db_pipeline.c)
// need a server, so they live apart from tests/unit and run here against the
// suite's throwaway PostgreSQL. Under `make test-sanitize` these are the
// AddressSanitizer builds. A skipped test counts as a failure here. Which
// tests need a server is read from their source (they getenv DATABASE_URL),
// so a new one runs here without being listed. They make tables of their
// own, so they connect as the suite's superuser, not as the daemons' role.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, ADMIN_DATABASE_URL } = require('./lib/harness');

const UNIT_SRC = path.join(ROOT, 'tests/db');
const NEEDS_DATABASE = fs.readdirSync(UNIT_SRC)
  .filter((f) => /^test_.*\.c$/.test(f))
  .filter((f) => fs.readFileSync(path.join(UNIT_SRC, f), 'utf8').includes('getenv("DATABASE_URL")'))
  .map((f) => f.replace(/\.c$/, ''))
  .sort();

test('the unit tests that need PostgreSQL are found', () => {
  assert.ok(NEEDS_DATABASE.includes('test_db'), NEEDS_DATABASE.join(', '));
});

for (const name of NEEDS_DATABASE) {
  test(`${name} passes against PostgreSQL with nothing skipped`, () => {
    assert.ok(process.env.DB_TEST_DIR, 'DB_TEST_DIR names the built cmocka tests of tests/db');
    const r = spawnSync(path.join(process.env.DB_TEST_DIR, name), { env: { ...process.env, DATABASE_URL: ADMIN_DATABASE_URL }, encoding: 'utf8', timeout: 60000 });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, out);
    assert.match(out, /\[  PASSED  \] \d+ test/, out);
    assert.doesNotMatch(out, /SKIPPED/, out);
  });
}
