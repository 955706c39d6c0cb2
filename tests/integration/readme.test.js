// Runs the README's `buf curl` examples, as written, against the daemons (only
// the ports, the email and USER_ID are substituted), so the examples cannot rot.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT, startPlatform, uniqueEmail } = require('./lib/harness');

const BUF = path.join(__dirname, 'node_modules/.bin/buf');

function readmeExamples() {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return readme.split('\n').filter((line) => line.startsWith('buf curl '));
}

// Splits one example line into argv the way a shell would for these lines
// (single-quoted JSON is the only quoting they use).
function argv(line) {
  const out = [];
  const re = /'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(line)) !== null) out.push(m[1] !== undefined ? m[1] : m[2]);
  return out.slice(2); // drop "buf curl"
}

test('README buf curl examples work as written', async (t) => {
  const examples = readmeExamples();
  assert.ok(examples.length >= 5, 'the README shows an example per method');
  const p = await startPlatform();
  t.after(() => p.stop());
  const email = uniqueEmail('readme');
  let userId = null;
  let balance = 0;
  for (const line of examples) {
    const args = argv(line).map((a) => a
      .replace('localhost:50051', `127.0.0.1:${p.userPort}`)
      .replace('localhost:50052', `127.0.0.1:${p.walletPort}`)
      .replace('jane@example.com', email)
      .replace('USER_ID', userId || 'USER_ID'));
    const out = JSON.parse(execFileSync(BUF, ['curl', ...args], { cwd: ROOT, encoding: 'utf8' }));
    if (line.includes('CreateUser')) {
      userId = out.id;
      assert.equal(out.email, email);
    } else if (line.includes('GetUserById')) {
      assert.equal(out.id, userId);
    } else {
      assert.equal(out.userId, userId);
      if (line.includes('CreditWallet')) balance += 500;
      if (line.includes('DebitWallet')) balance -= 200;
      assert.equal(out.balance || 0, balance, line);
    }
  }
  assert.equal(balance, 300);
});
