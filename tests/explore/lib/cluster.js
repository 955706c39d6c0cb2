// What the explorer runs against, all its own: a PostgreSQL in a temp dir
// (scripts/pg.sh), migrations, two replicas of each daemon on free ports,
// and a LinkProxy on every link it may break: each daemon's database link,
// and each replica's peer link (a wallet-service reaches the user-service
// replicas through theirs, and the other way round). Replicas can be
// killed (-9), stopped (SIGTERM, draining) and restarted; PostgreSQL can
// be restarted. Everything started here is stopped by shutdown(), also
// when the run fails.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFile, execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../../..');

function pgScript(...args) {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(ROOT, 'scripts/pg.sh'), ...args], { timeout: 90000 },
      (err, stdout, stderr) => (err ? reject(new Error(`pg.sh ${args[0]}: ${stderr || err.message}`)) : resolve(stdout.trim())));
  });
}

class Cluster {
  constructor(tmp, prng, log) {
    this.tmp = tmp;
    this.prng = prng;
    this.log = log; // fault/event log (the schedule)
    this.replicas = [];
    this.proxies = [];
  }

  // Starts PostgreSQL and applies the migrations; sets DATABASE_URL (the
  // superuser's, which the checker reads with) before the harness loads.
  async startDatabase() {
    const { freePort } = require('../../integration/lib/harness.js');
    this.pgDir = path.join(this.tmp, 'pg');
    this.pgPort = await freePort();
    this.url = await pgScript('start', this.pgDir, String(this.pgPort));
    // the migrations (and migrate.sh) of the checkout whose daemons run
    // (BIN_DIR=other/bin), else this one's
    const theirs = path.resolve(process.env.BIN_DIR, '..');
    const checkout = fs.existsSync(path.join(theirs, 'scripts/migrate.sh')) ? theirs : ROOT;
    execFileSync('bash', [path.join(checkout, 'scripts/migrate.sh')],
      { env: { ...process.env, DATABASE_URL: this.url, MIGRATIONS_DIR: path.join(checkout, 'migrations') }, stdio: 'ignore' });
  }

  async proxy(name, targetPort) {
    const { LinkProxy } = require('./proxy');
    const p = new LinkProxy(targetPort, this.prng.fork(`proxy:${name}`));
    p.name = name;
    await p.listen();
    this.proxies.push(p);
    return p;
  }

  // Two replicas of each daemon (`n` each), each with its own database link
  // proxy and a peer link proxy in front of it for the other service.
  async startDaemons(n, env) {
    const { freePort } = require('../../integration/lib/harness.js');
    const ports = { 'user-service': [], 'wallet-service': [] };
    for (const name of Object.keys(ports)) for (let i = 0; i < n; i++) ports[name].push(await freePort());
    const peer = {};
    for (const name of Object.keys(ports)) {
      peer[name] = [];
      for (let i = 0; i < n; i++) peer[name].push(await this.proxy(`peer->${name}#${i}`, ports[name][i]));
    }
    for (const name of Object.keys(ports)) {
      for (let i = 0; i < n; i++) {
        const db = await this.proxy(`db<-${name}#${i}`, this.pgPort);
        const other = name === 'user-service' ? 'wallet-service' : 'user-service';
        const self = name === 'user-service' ? 'USER_SERVICE_URL' : 'WALLET_SERVICE_URL';
        const otherEnv = name === 'user-service' ? 'WALLET_SERVICE_URL' : 'USER_SERVICE_URL';
        const url = new URL(this.url);
        url.port = String(db.port);
        this.replicas.push({
          name, index: i, label: `${name}#${i}`, port: ports[name][i], dbProxy: db,
          env: {
            ...env, DATABASE_URL: url.toString(), METRICS_ADDR: '0',
            [self]: `127.0.0.1:${ports[name][i]}`,
            [otherEnv]: peer[other].map((p) => `127.0.0.1:${p.port}`).join(','),
          },
        });
      }
    }
    this.peerProxies = [...peer['user-service'], ...peer['wallet-service']];
    this.dbProxies = this.replicas.map((r) => r.dbProxy);
    await Promise.all(this.replicas.map((r) => this.start(r)));
  }

  // Starts a replica; one that exits at once (it checks the database's
  // migrations at startup, and its link may be down just now) is started
  // again, for up to a minute.
  async start(replica) {
    const { Daemon } = require('../../integration/lib/harness.js');
    const end = Date.now() + 60000;
    replica.starting = true;
    for (let attempt = 1; ; attempt++) {
      replica.daemon = new Daemon(replica.name, replica.env);
      try {
        await replica.daemon.start(replica.port);
        replica.up = true;
        break;
      } catch (err) {
        try { replica.daemon.child.kill('SIGKILL'); } catch { /* gone */ }
        if (Date.now() > end) { this.log(`start ${replica.label} failed ${attempt} times: ${err.message}`); break; }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    replica.starting = false;
  }

  // kill -9 (or SIGTERM: drains, bounded by DRAIN_SECONDS); waits for the exit.
  async stop(replica, signal) {
    replica.up = false;
    const d = replica.daemon;
    if (!d || !d.child) return;
    const guard = setTimeout(() => d.child.kill('SIGKILL'), 15000);
    await d.stop(signal);
    clearTimeout(guard);
  }

  async restartDatabase() {
    await pgScript('stop', this.pgDir);
    await pgScript('start', this.pgDir, String(this.pgPort));
  }

  healAll() { for (const p of this.proxies) p.heal(); }

  // Every daemon, proxy and the PostgreSQL this started; never throws.
  async shutdown() {
    for (const r of this.replicas) {
      try { if (r.daemon && r.daemon.child && r.daemon.child.exitCode === null) r.daemon.child.kill('SIGKILL'); } catch { /* gone */ }
    }
    for (const p of this.proxies) { try { p.set('drop'); p.server.close(); } catch { /* closed */ } }
    if (this.pgDir) {
      try { await pgScript('stop', this.pgDir); } catch {
        // a server that will not stop is ours to kill (its pid file says which)
        try { process.kill(Number(fs.readFileSync(path.join(this.pgDir, 'data/postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
}

module.exports = { Cluster, ROOT };
