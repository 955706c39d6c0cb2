// The explorer's only source of randomness: one seed, split into one stream
// per actor (each client, the nemesis, each proxy), so an actor's choices
// depend on the seed and its own sequence of events, not on how the others
// interleave. Replaying a seed replays every actor's schedule of choices;
// the real clock still decides the exact interleaving.
'use strict';

// mulberry32 over a 32-bit state: small, fast, good enough for test choices.
class Prng {
  constructor(seed) { this.state = seed >>> 0; }

  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)); } // lo..hi inclusive
  chance(p) { return this.next() < p; }
  pick(list) { return list[Math.floor(this.next() * list.length)]; }

  // [value, weight] pairs
  weighted(pairs) {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [value, w] of pairs) { if ((r -= w) < 0) return value; }
    return pairs[pairs.length - 1][0];
  }

  // A child stream named `label`, derived from this one's seed (not its position).
  fork(label) {
    let h = this.seed0 ?? this.state;
    for (const c of String(label)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    const child = new Prng(h ^ 0x9e3779b9);
    child.seed0 = child.state;
    return child;
  }
}

function root(seed) {
  const p = new Prng(Number(seed) >>> 0);
  p.seed0 = p.state;
  return p;
}

module.exports = { root };
