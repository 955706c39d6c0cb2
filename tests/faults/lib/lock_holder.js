// A real psql session holding a row lock on one wallet until released.
'use strict';
const { spawn } = require('node:child_process');

function holdWalletLock(url, userId) {
  const child = spawn('psql', [url, '-X', '-q', '-t', '-A'], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('locked')) {
        resolve({
          release() {
            child.stdin.end('ROLLBACK;\n');
            return new Promise((done) => child.once('exit', done));
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
    child.stdin.write(`BEGIN;\nSELECT 1 FROM "Wallet" WHERE "userId" = '${userId}' FOR UPDATE;\n\\echo locked\n`);
  });
}

module.exports = { holdWalletLock };
