// A fault-injecting TCP proxy between a daemon and PostgreSQL, in the test
// process. Modes, switchable at any time:
//   pass      forward both ways
//   blackhole a network partition: nothing moves either way on open
//             connections (their bytes wait, as in retransmission), and new
//             connections are accepted but not carried on; all resumes on pass
//   mute      client -> server flows, server -> client is dropped: the
//             server does the work, the daemon never hears back
//   delay     every chunk either way waits delayMs
//   delay-down only server -> client chunks wait delayMs: the server does
//             the work at once, its answer comes late (past a deadline)
//   drop      every connection is cut, new ones too (closed at once; not
//             resetAndDestroy, which can keep node from exiting)
// Whatever the mode, a connection's bytes keep their order each way, as TCP
// keeps them: a chunk is never written before one that came in earlier the
// same way, so when a delay ends (or shortens) the chunks still waiting go
// first. (Each delayed chunk on its own timer, as this proxy once did, let a
// chunk sent after a delay ended overtake those delayed: whole pipelined
// PostgreSQL answers then arrived out of order, and the daemon, which
// rightly takes them in the order sent, gave statements each other's rows.)
'use strict';
const net = require('node:net');

class FaultProxy {
  constructor(targetPort, targetHost = '127.0.0.1') {
    this.targetPort = targetPort;
    this.targetHost = targetHost;
    this.mode = 'pass';
    this.delayMs = 0;
    this.pairs = new Set();
    this.queues = new WeakMap(); // socket -> chunks waiting to be written to it, in order
    this.waiting = []; // client sockets accepted during a blackhole
    this.server = net.createServer((client) => this.accept(client));
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = this.server.address().port;
      resolve(this.port);
    }));
  }

  accept(client) {
    this.accepted = (this.accepted || 0) + 1; // connection attempts, whatever the mode
    client.on('error', () => {});
    if (this.mode === 'drop') { client.destroy(); return; }
    if (this.mode === 'blackhole') { client.pause(); this.waiting.push(client); return; }
    this.connect(client);
  }

  connect(client) {
    const server = net.connect(this.targetPort, this.targetHost);
    const pair = { client, server };
    this.pairs.add(pair);
    server.on('error', () => client.destroy());
    client.on('error', () => server.destroy());
    const close = () => { this.pairs.delete(pair); client.destroy(); server.destroy(); };
    client.on('close', close);
    server.on('close', close);
    client.on('data', (chunk) => this.forward(chunk, server, 'up'));
    server.on('data', (chunk) => this.forward(chunk, client, 'down'));
    if (this.mode === 'blackhole') { client.pause(); server.pause(); }
  }

  forward(chunk, to, direction) {
    if (this.mode === 'mute' && direction === 'down') return;
    const delayed = this.mode === 'delay' || (this.mode === 'delay-down' && direction === 'down');
    this.send(chunk, to, delayed ? this.delayMs : 0);
  }

  // Writes chunk to `to` delayMs from now, but never before the chunks
  // queued for `to` earlier (see the file comment).
  send(chunk, to, delayMs) {
    let queue = this.queues.get(to);
    if (!queue) this.queues.set(to, (queue = []));
    if (delayMs <= 0 && queue.length === 0) { to.write(chunk); return; }
    queue.push({ chunk, due: Date.now() + delayMs });
    if (queue.length === 1) this.release(to, queue);
  }

  // Writes the chunks at the front of the queue that are due, in order;
  // comes back for the rest when the first of them is.
  release(to, queue) {
    while (queue.length && queue[0].due <= Date.now()) {
      const { chunk } = queue.shift();
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length) setTimeout(() => this.release(to, queue), Math.max(1, queue[0].due - Date.now()));
  }

  set(mode, delayMs = 0) {
    this.mode = mode;
    this.delayMs = delayMs;
    const paused = mode === 'blackhole';
    for (const { client, server } of this.pairs) {
      if (mode === 'drop') { client.destroy(); server.destroy(); continue; }
      if (paused) { client.pause(); server.pause(); } else { client.resume(); server.resume(); }
    }
    if (!paused) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const client of waiting) {
        if (mode === 'drop' || client.destroyed) client.destroy();
        else { this.connect(client); client.resume(); }
      }
    }
  }

  close() {
    this.set('drop');
    return new Promise((resolve) => this.server.close(resolve));
  }
}

module.exports = { FaultProxy };
