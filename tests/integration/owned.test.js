// A test touches only what it started, and a failing test ends (issue 19,
// defect 9). lib/owned.js kills a process that left its session (setsid) and
// still holds the test's output pipe; and the `make run` test passes beside
// another checkout's daemons: processes named user-service that come and go
// all the time, and one whose environment names the test's own VAR_DIR. At
// 36789b1 make_run.test.js listed daemons by process name and read their environ:
// it counted the foreign one, failed, left its own daemons (own sessions)
// holding its pipe, and hung until killed here.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { spawnOwned, alive } = require('./lib/owned');

function once(emitter, event, timeoutMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    emitter.once(event, () => { clearTimeout(timer); resolve(true); });
  });
}

test('stop() ends a child whose grandchild left for its own session holding the pipe', async () => {
  const owned = spawnOwned('bash', ['-c', 'setsid sleep 300 & echo started; wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  owned.child.stdout.on('data', (d) => { out += d; });
  const closed = once(owned.child, 'close', 10000);
  while (!out.includes('started')) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  const [sleeper] = owned.descendants();
  assert.ok(sleeper, 'the setsid child is seen as ours');
  owned.stop();
  assert.ok(await closed, 'the child and its pipes closed');
  for (let i = 0; i < 50 && alive(sleeper); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!alive(sleeper), 'the setsid grandchild was killed');
});

test('make run tests pass beside another checkout\'s daemons, touching none of them', { timeout: 420000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-'));
  const foreignBin = path.join(tmp, 'user-service'); // a daemon of another checkout, by name
  fs.copyFileSync('/bin/sleep', foreignBin);
  fs.chmodSync(foreignBin, 0o755);
  const foreign = new Set();
  const spawnForeign = (seconds, env = {}) => {
    const child = spawn(foreignBin, [String(seconds)], { stdio: 'ignore', env: { ...process.env, ...env } });
    child.on('error', () => {});
    foreign.add(child);
    child.once('exit', () => foreign.delete(child));
    return child;
  };
  // Short-lived ones, all the time: a name lookup races their exit.
  const churn = setInterval(() => spawnForeign((Math.random() * 0.05).toFixed(3)), 15);
  // A long-lived one whose environment names each run directory the test makes.
  const watched = new Set();
  const longLived = [];
  const watch = setInterval(() => {
    for (const entry of fs.readdirSync('/tmp')) {
      if (!/^wallet-run-/.test(entry) || watched.has(entry)) continue;
      watched.add(entry);
      longLived.push(spawnForeign(600, { OTHER_CHECKOUT_NOTES: `/tmp/${entry}` }));
    }
  }, 20);

  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // a test run of its own, not a subtest of this one
  const runner = spawnOwned(process.execPath, ['--test', '--test-reporter=spec', 'make_run.test.js'],
    { cwd: __dirname, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  runner.child.stdout.on('data', (d) => { output += d; });
  runner.child.stderr.on('data', (d) => { output += d; });
  const code = new Promise((resolve) => runner.child.once('close', (c) => resolve(c)));
  const hung = new Promise((resolve) => setTimeout(() => resolve('hung'), 300000).unref());
  try {
    const result = await Promise.race([code, hung]);
    assert.notEqual(result, 'hung', `make_run.test.js did not end within 300 s:\n${output}`);
    assert.equal(result, 0, output);
    assert.ok(longLived.length > 0, 'the foreign daemon was there during the run');
    for (const child of longLived) assert.equal(child.exitCode, null, 'the foreign daemon was left alone');
  } finally {
    clearInterval(churn);
    clearInterval(watch);
    runner.stop();
    for (const child of foreign) child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
