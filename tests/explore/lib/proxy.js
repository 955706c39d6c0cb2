// The explorer's links: tests/faults' FaultProxy (pass, blackhole, mute,
// delay, drop) plus what a random schedule needs: delay in one direction
// only (an answer that arrives after the caller gave up, while the request
// went through at once), and "chaos": each chunk may cut the connection
// before it is forwarded (the statement, e.g. a COMMIT, never arrives) or,
// going down, after the server did the work (its answer is lost).
'use strict';
const { FaultProxy } = require('../../faults/lib/proxy');

class LinkProxy extends FaultProxy {
  constructor(targetPort, prng) {
    super(targetPort);
    this.prng = prng;
    this.downDelayMs = 0;
    this.cutUp = 0; // probability a chunk going to the server cuts instead
    this.cutDown = 0; // probability an answer is dropped and the connection cut
  }

  forward(chunk, to, direction) {
    const cut = direction === 'up' ? this.cutUp : this.cutDown;
    if (cut > 0 && this.prng.chance(cut)) {
      for (const pair of this.pairs) {
        if (pair.client === to || pair.server === to) { pair.client.destroy(); pair.server.destroy(); }
      }
      return;
    }
    if (direction === 'down' && this.downDelayMs > 0) {
      this.send(chunk, to, this.downDelayMs); // in order, like every chunk (FaultProxy.send)
      return;
    }
    super.forward(chunk, to, direction);
  }

  // Back to a clean pass-through (the nemesis heals every fault this way).
  heal() {
    this.downDelayMs = 0;
    this.cutUp = 0;
    this.cutDown = 0;
    this.set('pass');
  }

  // Every open connection cut now; new ones pass.
  cutAll() {
    this.set('drop');
    this.set('pass');
  }
}

module.exports = { LinkProxy };
