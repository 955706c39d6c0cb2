// The fault schedule: every few hundred milliseconds the seed picks a fault
// and a target among the links and processes, applies it and heals it after
// a duration it also picks. Faults overlap. Every step is logged with its
// time, so a violation can be shown beside the faults around it.
'use strict';
const { spawn } = require('node:child_process');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Nemesis {
  constructor(cluster, prng, now, options) {
    this.c = cluster;
    this.prng = prng;
    this.now = now;
    this.o = options;
    this.schedule = [];
    this.pending = new Set();
    this.running = true;
    this.lastPgRestart = -Infinity;
  }

  log(text) {
    const line = `${(this.now() / 1000).toFixed(3)}s ${text}`;
    this.schedule.push({ t: this.now(), text: line });
  }

  // Runs `heal` after ms, unless the end of the fault phase heals everything first.
  later(ms, heal) {
    const p = sleep(ms).then(heal).catch((err) => this.log(`heal failed: ${err.message}`));
    this.pending.add(p);
    p.finally(() => this.pending.delete(p));
  }

  async restartLater(replica, ms) {
    this.later(ms, async () => {
      if (!replica.up && !replica.starting) { this.log(`restart ${replica.label}`); await this.c.start(replica); }
    });
  }

  async step() {
    const p = this.prng;
    const fault = p.weighted([
      ['peer-slow-answer', 20], ['peer-blackhole', 5], ['peer-cut', 5], ['peer-chaos', 5],
      ['db-cut', 8], ['db-chaos', 10], ['db-mute', 6], ['db-blackhole', 6], ['db-delay', 6],
      ['kill9', 8], ['sigterm', 5], ['pg-restart', this.o.pgRestarts ? 2 : 0], ['row-lock', 6]]);
    const duration = fault === 'peer-slow-answer' ? p.int(2000, 6000) : p.int(800, 5000);
    if (fault.startsWith('peer-')) {
      // the user-service -> wallet-service link (CreateWallet, the longest chain) twice as often
      const proxy = p.pick([...this.c.peerProxies, ...this.c.peerProxies.filter((x) => x.name.includes('wallet'))]);
      if (fault === 'peer-slow-answer') {
        // past the daemons' 5 s peer cap: the peer's work commits, its answer comes too late;
        // half the time on every replica of that service (a slow network to the whole tier)
        const targets = p.chance(0.5) ? this.c.peerProxies.filter((x) => x.name.split('#')[0] === proxy.name.split('#')[0]) : [proxy];
        const ms = p.int(4500, 8000);
        for (const t of targets) t.downDelayMs = ms;
        this.log(`${fault} ${targets.map((t) => t.name).join(' ')} answers delayed ${ms} ms for ${duration} ms`);
        this.later(duration, () => { for (const t of targets) t.heal(); this.log(`heal ${targets.map((t) => t.name).join(' ')}`); });
        return;
      }
      if (fault === 'peer-blackhole') {
        proxy.set('blackhole');
        this.log(`${fault} ${proxy.name} for ${duration} ms`);
      } else if (fault === 'peer-cut') {
        proxy.cutAll();
        this.log(`${fault} ${proxy.name}`);
        return;
      } else {
        proxy.cutUp = p.next() * 0.15;
        proxy.cutDown = p.next() * 0.15;
        this.log(`${fault} ${proxy.name} cut up ${proxy.cutUp.toFixed(3)} down ${proxy.cutDown.toFixed(3)} per chunk for ${duration} ms`);
      }
      this.later(duration, () => { proxy.heal(); this.log(`heal ${proxy.name}`); });
    } else if (fault.startsWith('db-')) {
      const proxy = p.pick(this.c.dbProxies);
      if (fault === 'db-cut') {
        proxy.cutAll();
        this.log(`${fault} ${proxy.name}`);
        return;
      }
      if (fault === 'db-chaos') {
        // a statement (COMMIT among them) cut before it reaches the server, or its answer lost after
        proxy.cutUp = p.next() * 0.1;
        proxy.cutDown = p.next() * 0.1;
        this.log(`${fault} ${proxy.name} cut before ${proxy.cutUp.toFixed(3)} after ${proxy.cutDown.toFixed(3)} per chunk for ${duration} ms`);
        this.later(duration, () => { proxy.heal(); this.log(`heal ${proxy.name}`); });
      } else if (fault === 'db-mute') {
        // the server commits, the daemon never hears: then the connection is cut
        const ms = p.int(100, 2500);
        proxy.set('mute');
        this.log(`${fault} ${proxy.name} answers dropped for ${ms} ms, then cut`);
        this.later(ms, () => { proxy.cutAll(); proxy.heal(); this.log(`heal ${proxy.name}`); });
      } else if (fault === 'db-blackhole') {
        proxy.set('blackhole');
        this.log(`${fault} ${proxy.name} for ${duration} ms`);
        this.later(duration, () => { proxy.heal(); this.log(`heal ${proxy.name}`); });
      } else {
        const ms = p.int(20, 600);
        proxy.set('delay', ms);
        this.log(`${fault} ${proxy.name} ${ms} ms each way for ${duration} ms`);
        this.later(duration, () => { proxy.heal(); this.log(`heal ${proxy.name}`); });
      }
    } else if (fault === 'row-lock') {
      this.holdRowLock(p.pick(this.o.users()), duration);
    } else if (fault === 'kill9' || fault === 'sigterm') {
      const replica = p.pick(this.c.replicas);
      const after = p.int(200, 3000);
      if (!replica.up) return;
      this.log(`${fault} ${replica.label}, restart ${after} ms after it exits`);
      const stopped = this.c.stop(replica, fault === 'kill9' ? 'SIGKILL' : 'SIGTERM');
      this.pending.add(stopped);
      stopped.finally(() => this.pending.delete(stopped));
      stopped.then(() => this.restartLater(replica, after));
    } else if (fault === 'pg-restart') {
      if (this.now() - this.lastPgRestart < 15000) return;
      this.lastPgRestart = this.now();
      this.log('pg-restart');
      const restart = this.c.restartDatabase().then(() => this.log('pg-restart: up again'))
        .catch((err) => this.log(`pg-restart failed: ${err.message}`));
      this.pending.add(restart);
      restart.finally(() => this.pending.delete(restart));
    }
  }

  // Another program's transaction (psql, straight to PostgreSQL) holds a
  // wallet's row lock for ms: writes to it wait up to DB_LOCK_TIMEOUT_MS,
  // the other writes go on (issue 24 item 3).
  holdRowLock(user, ms) {
    if (!user) return;
    const holder = spawn('psql', [this.c.url, '-X', '-q'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((resolve) => { holder.once('exit', resolve); holder.once('error', resolve); });
    holder.stdin.on('error', () => {}); // a restart of PostgreSQL may end it first
    holder.stdin.write(`BEGIN;\nSELECT 1 FROM "Wallet" WHERE "userId" = '${user.id}' FOR UPDATE;\n`);
    this.log(`row-lock wallet of ${user.id} for ${ms} ms`);
    this.later(ms, async () => {
      holder.stdin.end('ROLLBACK;\n');
      await exited;
      this.log(`heal row lock of ${user.id}`);
    });
  }

  async run(untilMs) {
    while (this.running && this.now() < untilMs) {
      await sleep(this.prng.int(150, 1800));
      if (this.running && this.now() < untilMs) await this.step();
    }
  }

  // Faults stop: every link healed, every replica running, PostgreSQL up.
  async heal() {
    this.running = false;
    while (this.pending.size) await Promise.allSettled([...this.pending]);
    this.c.healAll();
    for (const r of this.c.replicas) if (!r.up) { this.log(`restart ${r.label} (faults over)`); await this.c.start(r); }
    this.log('faults over: all links healed, all replicas up');
  }
}

module.exports = { Nemesis };
