// systemd's side of sd_notify for a test (issue 22, item 2): a notification
// socket of the test's own (tests/tools/notify_listen binds it; node has no
// unix datagram sockets), every datagram kept with the time it arrived, and
// a debugger-like stall of one daemon thread (tests/tools/thread_stall).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const TOOLS = process.env.TOOLS_DIR || path.resolve(__dirname, '../../../build/tests/tools');

class NotifySocket {
  // Resolves once the socket is bound; .path is the NOTIFY_SOCKET to give.
  static async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-'));
    const n = new NotifySocket();
    n.dir = dir;
    n.path = path.join(dir, 'notify.sock');
    n.messages = []; // { at: Date.now(), text: 'READY=1|STATUS=serving' }
    n.child = spawn(path.join(TOOLS, 'notify_listen'), [n.path], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buffered = '';
    await new Promise((resolve, reject) => {
      n.child.once('exit', (code) => reject(new Error(`notify_listen exited with ${code}`)));
      n.child.stdout.on('data', (d) => {
        buffered += d;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const text = line.slice(line.indexOf(' ') + 1);
          if (text === 'LISTENING') resolve();
          else n.messages.push({ at: Date.now(), text });
        }
      });
    });
    return n;
  }

  // Messages with an assignment (e.g. 'READY=1', 'STATUS=serving'), in order.
  having(assignment) {
    return this.messages.filter((m) => m.text.split('|').includes(assignment));
  }

  pings(from = 0, to = Infinity) {
    return this.having('WATCHDOG=1').filter((m) => m.at >= from && m.at < to);
  }

  async close() {
    this.child.stdin.end();
    await new Promise((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', resolve)));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// The id of the thread named `name` (pthread_setname_np) in process pid.
function threadId(pid, name) {
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    if (fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === name) return Number(tid);
  }
  throw new Error(`no thread ${name} in ${pid}`);
}

// Stops thread tid as a debugger would for ms; resolves { stoppedAt,
// resumedAt } once it runs again.
function stallThread(tid, ms) {
  const child = spawn(path.join(TOOLS, 'thread_stall'), [String(tid), String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const times = {};
  child.stdout.on('data', (d) => {
    for (const word of String(d).split('\n')) {
      if (word === 'stopped') times.stoppedAt = Date.now();
      if (word === 'resumed') times.resumedAt = Date.now();
    }
  });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 && times.resumedAt
    ? resolve(times) : reject(new Error(`thread_stall exited with ${code}`)))));
}

module.exports = { NotifySocket, threadId, stallThread };
