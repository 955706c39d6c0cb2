// A daemon whose database cannot be reached does not stay up half-working:
// it says which database in plain words and exits 1, without printing the
// password of the URL.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { freePort } = require('./lib/harness');

for (const name of ['user-service', 'wallet-service']) {
  test(`${name} with an unreachable database exits 1 and says why`, async () => {
    const port = await freePort();
    const r = spawnSync(path.join(process.env.BIN_DIR, name), ['--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, DATABASE_URL: 'postgresql://app:s3cret@127.0.0.1:1/wallet', METRICS_ADDR: '0' },
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${name}: cannot connect to database 127\\.0\\.0\\.1:1/wallet`));
    assert.match(r.stderr, /Connection refused/);
    assert.doesNotMatch(r.stderr, /s3cret/);
  });
}
