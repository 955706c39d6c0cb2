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
'use strict';
const net = require('node:net');

class FaultProxy {
  constructor(targetPort, targetHost = '127.0.0.1') {
    this.targetPort = targetPort;
    this.targetHost = targetHost;
    this.mode = 'pass';
    this.delayMs = 0;
    this.pairs = new Set();
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
    if (this.mode === 'delay' || (this.mode === 'delay-down' && direction === 'down')) {
      setTimeout(() => { if (!to.destroyed) to.write(chunk); }, this.delayMs);
    }
    else to.write(chunk);
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
