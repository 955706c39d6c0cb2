// The database layer's cmocka tests (tests/unit/test_db.c, test_db_pipeline.c)
// need a server: the unit suite skips them, so they run here against the
// suite's throwaway PostgreSQL. Under `make test-sanitize` these are the
// AddressSanitizer builds. A skipped test counts as a failure here.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

for (const name of ['test_db', 'test_db_pipeline']) {
  test(`${name} passes against PostgreSQL with nothing skipped`, () => {
    assert.ok(process.env.UNIT_DIR, 'UNIT_DIR names the built cmocka tests');
    const r = spawnSync(path.join(process.env.UNIT_DIR, name), { env: process.env, encoding: 'utf8', timeout: 60000 });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, out);
    assert.match(out, /\[  PASSED  \] \d+ test/, out);
    assert.doesNotMatch(out, /SKIPPED/, out);
  });
}
