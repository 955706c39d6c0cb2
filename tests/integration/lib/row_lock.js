// A real lock holder: a psql session that opens a transaction and locks
// rows with the given statement, until released. Used to park writes
// (drain, memory tests) the way a stuck transaction in production would.
'use strict';
const { spawn } = require('node:child_process');
const { ADMIN_DATABASE_URL, sql } = require('./harness');

async function holdRowLock(lockStatement) {
  const psql = spawn('psql', [ADMIN_DATABASE_URL, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => psql.once('exit', resolve));
  let out = '';
  await new Promise((resolve, reject) => {
    psql.stdout.on('data', (d) => { out += d; if (out.includes('LOCKED')) resolve(); });
    psql.once('exit', (code) => reject(new Error(`psql exited with ${code} before locking`)));
    psql.stdin.write(`BEGIN;\n${lockStatement};\n\\echo LOCKED\n`);
  });
  return {
    async release() {
      if (psql.exitCode === null) psql.stdin.end('ROLLBACK;\n\\q\n');
      await exited;
    },
  };
}

// Resolves once `count` statements of application `app` wait on a lock.
async function waitForLockWaiters(app, count, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const n = Number(sql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${app}' AND wait_event_type = 'Lock'`));
    if (n >= count) return;
    if (Date.now() > until) throw new Error(`${n} of ${count} ${app} statements wait on a lock after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Polls fn until it returns a truthy value (resolved with it), or fails.
async function waitFor(what, fn, timeoutMs = 20000, everyMs = 50) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

module.exports = { holdRowLock, waitForLockWaiters, waitFor };
