// Metrics an operator can alert on (issue 22, item 4), checked by a real
// Prometheus (Debian's) scraping both daemons: the alert rules pass
// `promtool check rules` and their unit tests, load and evaluate without
// error, every query of the Grafana dashboard returns data, and the
// business counters equal the calls made here; admission refusals and
// reconnects equal what a full class and terminated sessions caused.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const { call, startPlatform, uniqueEmail, freePort, sql, Daemon, proto, grpc, DATABASE_URL, ROOT } = require('./lib/harness');

const DEPLOY = path.join(ROOT, 'deploy');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('promtool: the alert rules check and pass their unit tests', () => {
  const dir = path.join(DEPLOY, 'prometheus');
  const check = spawnSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
});

// A Prometheus of the test's own, scraping both daemons every second with
// the shipped rules; stopped by the test.
async function startPrometheus(t, targets) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    `rule_files: ["${path.join(DEPLOY, 'prometheus/alerts.yml')}"]`,
    'scrape_configs:',
    ...Object.entries(targets).map(([job, p]) => `  - {job_name: ${job}, static_configs: [{targets: ["127.0.0.1:${p}"]}]}`),
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'log'), 'a');
  const child = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGTERM');
    const guard = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(guard);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const api = async (p) => (await fetch(`http://127.0.0.1:${port}${p}`)).json();
  const until = Date.now() + 20000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/-/ready`)).ok) break;
    } catch { /* not listening yet */ }
    if (child.exitCode !== null || Date.now() > until) throw new Error(`prometheus did not start: ${fs.readFileSync(path.join(dir, 'log'), 'utf8').slice(-2000)}`);
    await sleep(100);
  }
  return {
    api,
    query: async (q) => {
      const r = await api(`/api/v1/query?query=${encodeURIComponent(q)}`);
      assert.equal(r.status, 'success', `${q}: ${JSON.stringify(r)}`);
      return r.data.result;
    },
  };
}

test('a real Prometheus scrapes both daemons: rules evaluate, every dashboard query returns data, counters match', async (t) => {
  const p = await startPlatform();
  t.after(() => p.stop());
  const prom = await startPrometheus(t, { 'user-service': p.userMetricsPort, 'wallet-service': p.walletMetricsPort });

  // Business events, each a known number of times.
  const a = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('prom'), name: 'A' })).res;
  const b = (await call(p.userClient, 'CreateUser', { email: uniqueEmail('prom'), name: 'B' })).res;
  for (const amount of [100, 20, 3]) assert.equal((await call(p.walletClient, 'CreditWallet', { user_id: a.id, amount })).err, null);
  assert.equal((await call(p.walletClient, 'DebitWallet', { user_id: a.id, amount: 7 })).err, null);
  assert.ok((await call(p.walletClient, 'DebitWallet', { user_id: b.id, amount: 7 })).err, 'insufficient balance');
  assert.equal((await call(p.walletClient, 'TransferFunds', { from_user_id: a.id, to_user_id: b.id, amount: 11 })).err, null);
  const key = `prom-${Date.now()}`;
  for (let i = 0; i < 3; i++) assert.equal((await call(p.walletClient, 'CreditWallet', { user_id: b.id, amount: 5, idempotency_key: key })).err, null);
  assert.ok((await call(p.walletClient, 'CreditWallet', { user_id: b.id, amount: 6, idempotency_key: key })).err, 'key mismatch');

  const value = async (q) => {
    const r = await prom.query(q);
    return r.length ? Number(r[0].value[1]) : NaN;
  };
  // Until both targets are up and the last event has been scraped twice (rates need two points).
  const until = Date.now() + 30000;
  while ((await value('sum(up)')) !== 2 || (await value('count_over_time(wallet_idempotency_key_mismatches_total[1m])')) < 3) {
    if (Date.now() > until) throw new Error('targets not scraped');
    await sleep(250);
  }

  assert.equal(await value('wallet_balance_changes_total{job="wallet-service",kind="credit"}'), 4);
  assert.equal(await value('wallet_balance_change_amount_total{job="wallet-service",kind="credit"}'), 128);
  assert.equal(await value('wallet_balance_changes_total{job="wallet-service",kind="debit"}'), 1);
  assert.equal(await value('wallet_balance_change_amount_total{job="wallet-service",kind="debit"}'), 7);
  assert.equal(await value('wallet_transfers_total{job="wallet-service"}'), 1);
  assert.equal(await value('wallet_transferred_amount_total{job="wallet-service"}'), 11);
  assert.equal(await value('wallet_idempotent_replays_total{job="wallet-service"}'), 2);
  assert.equal(await value('wallet_idempotency_key_mismatches_total{job="wallet-service"}'), 1);
  assert.equal(await value('wallet_unknown_outcomes_total{job="wallet-service"}'), 0);
  assert.equal(await value('sum(wallet_serving)'), 2);
  assert.equal(await value('count(wallet_build_info{version!=""})'), 2);
  assert.ok(await value('wallet_db_statement_duration_seconds_count{job="wallet-service",statement="change_balance"}') >= 4);
  assert.ok(await value('sum(wallet_db_write_group_statements_count{job="wallet-service"})') >= 1);
  // Every write transaction that committed had its commit wait timed: at least one, at most one per group.
  const commits = await value('sum(wallet_db_write_commit_seconds_count{job="wallet-service"})');
  assert.ok(commits >= 1 && commits <= await value('sum(wallet_db_write_group_statements_count{job="wallet-service"})'), `${commits} commits`);
  assert.equal(await value('sum(wallet_db_sessions{state="down"})'), 0);

  // The shipped rules loaded and evaluate without error (none fires on a healthy platform).
  const rules = (await prom.api('/api/v1/rules')).data.groups.flatMap((g) => g.rules);
  assert.equal(rules.length, 6);
  for (const r of rules) {
    assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
    assert.equal(r.state, 'inactive', `${r.name} fires on a healthy platform`);
  }

  // Every query of the dashboard, with its variables as Grafana would fill them.
  const dashboard = JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana/wallet-platform.json'), 'utf8'));
  const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((tg) => ({ panel: panel.title, expr: tg.expr })));
  assert.ok(exprs.length >= 15);
  for (const { panel, expr } of exprs) {
    const q = expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', 'user-service|wallet-service');
    assert.doesNotMatch(q, /\$/, `${panel}: a variable left unfilled`);
    const result = await prom.query(q);
    assert.ok(result.length > 0, `${panel}: no data for ${q}`);
  }
  t.diagnostic(`${exprs.length} dashboard queries over ${dashboard.panels.length} panels returned data`);
});

// The runtime's own series under real events: admission refusals equal the
// RESOURCE_EXHAUSTED answers a full class gave, and sessions the database
// terminated are counted as reconnects once they are back.
test('admission refusals and reconnects are counted', async (t) => {
  const port = await freePort();
  const metricsPort = await freePort();
  const d = new Daemon('wallet-service', {
    DATABASE_URL, WALLET_SERVICE_URL: `127.0.0.1:${port}`, USER_SERVICE_URL: `127.0.0.1:${await freePort()}`,
    METRICS_ADDR: `127.0.0.1:${metricsPort}`, DB_SESSIONS: '2', MAX_CALLS: '1', MAX_QUEUED_CALLS: '0',
  });
  await d.start(port);
  t.after(() => d.stop('SIGKILL'));
  const client = new proto.wallet.WalletService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  const series = async (re) => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const m = re.exec(text);
    return m ? Number(m[1]) : NaN;
  };

  const answers = await Promise.all(Array.from({ length: 40 }, () => call(client, 'GetWallet', { user_id: randomUUID() })));
  const refused = answers.filter((r) => r.err && r.err.code === grpc.status.RESOURCE_EXHAUSTED).length;
  t.diagnostic(`${refused} of 40 calls refused with one call allowed at a time`);
  assert.ok(refused > 0);
  assert.equal(await series(/^wallet_admission_refused_total\{class="callers",reason="full"\} (\d+)$/m), refused);
  assert.equal(await series(/^wallet_admission_refused_total\{class="health",reason="full"\} (\d+)$/m), 0);

  assert.equal(await series(/^wallet_db_reconnects_total (\d+)$/m), 0);
  sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wallet-service'`);
  const until = Date.now() + 15000;
  while ((await series(/^wallet_db_reconnects_total (\d+)$/m)) < 2 ||
         (await series(/^wallet_db_sessions\{state="down"\} (\d+)$/m)) !== 0) {
    if (Date.now() > until) throw new Error('sessions not reconnected and counted');
    await call(client, 'GetWallet', { user_id: randomUUID() }); // statements find the lost sessions
    await sleep(100);
  }
  t.diagnostic(`reconnects counted: ${await series(/^wallet_db_reconnects_total (\d+)$/m)} (2 sessions terminated)`);
});
