// The Debian package (issue 22, item 1), as run.sh built (DEB) and
// extracted it (TREE): its control data and contents, lintian, the units
// through systemd-analyze (verify, security), and the extracted binaries
// run against an empty PostgreSQL: the packaged migrate command creates
// the tables, the daemons start from their packaged environment files,
// say READY and serve a CreateUser through both.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { Daemon, freePort, proto, grpc, call, uniqueEmail, DATABASE_URL, ADMIN_DATABASE_URL } =
  require('../integration/lib/harness');
const { NotifySocket } = require('../faults/lib/notify');

const DEB = process.env.DEB;
const TREE = process.env.TREE;
const UNITS = ['user-service', 'wallet-service'];
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', ...opts });

function field(name) {
  return execFileSync('dpkg-deb', ['-f', DEB, name], { encoding: 'utf8' }).trim();
}

test('control: runtime libraries by their package names, every linked library covered, no -dev', () => {
  const depends = field('Depends').split(',').map((d) => d.trim().split(/[ (]/)[0]);
  assert.ok(!depends.some((d) => /-dev$/.test(d)), `no -dev package in Depends: ${depends}`);
  for (const needed of ['adduser', 'postgresql-client']) assert.ok(depends.includes(needed), `Depends ${needed}`);
  for (const bin of ['user-service', 'wallet-service']) {
    const file = path.join(TREE, 'usr/sbin', bin);
    const libs = execFileSync('readelf', ['-d', file], { encoding: 'utf8' })
      .split('\n').map((l) => /\(NEEDED\).*\[(.+)\]/.exec(l)).filter(Boolean).map((m) => m[1]);
    const resolved = Object.fromEntries(execFileSync('ldd', [file], { encoding: 'utf8' }).split('\n')
      .map((l) => /^\s*(\S+) => (\S+)/.exec(l)).filter(Boolean).map((m) => [m[1], m[2]]));
    assert.ok(libs.length >= 6, `${bin} links ${libs}`);
    for (const lib of libs) {
      // dpkg knows a file by the path its package ships (/lib or /usr/lib: merged /usr)
      const real = fs.realpathSync(resolved[lib]);
      const known = [real, real.replace(/^\/usr\/lib\//, '/lib/'), resolved[lib]]
        .map((p) => run('dpkg', ['-S', p])).find((r) => r.status === 0);
      assert.ok(known, `${lib} (${real}) comes from an installed package`);
      const owner = known.stdout.split(':')[0];
      assert.ok(depends.includes(owner), `${bin} needs ${lib} from ${owner}, which Depends names (${depends})`);
    }
  }
});

test('contents: daemons, migrate command, units, conffiles, migrations, man pages, example policy', () => {
  const listing = execFileSync('dpkg-deb', ['--contents', DEB], { encoding: 'utf8' });
  // Paths relative to the package's root (absolute ones would read as this
  // machine's files to scripts/check-deps.sh).
  const files = listing.split('\n').map((l) => l.split(/\s+/).pop().replace(/^\.\//, ''));
  const expected = [
    'usr/sbin/user-service', 'usr/sbin/wallet-service', 'usr/sbin/wallet-platform-migrate',
    'lib/systemd/system/user-service.service', 'lib/systemd/system/wallet-service.service',
    'etc/wallet-platform/user-service.env', 'etc/wallet-platform/wallet-service.env',
    'etc/wallet-platform/migrate.env', 'usr/share/doc/wallet-platform/examples/authz-policy.json',
    'usr/share/man/man8/user-service.8.gz', 'usr/share/man/man8/wallet-service.8.gz',
    'usr/share/man/man8/wallet-platform-migrate.8.gz', 'usr/share/doc/wallet-platform/copyright',
    'usr/share/doc/wallet-platform/operations.md',
  ];
  for (const f of expected) assert.ok(files.includes(f), `${f} in the package`);
  const migrations = fs.readdirSync(path.join(__dirname, '../../migrations')).filter((f) => f.endsWith('.sql'));
  for (const m of migrations) assert.ok(files.includes(`usr/share/wallet-platform/migrations/${m}`), m);
  const control = fs.mkdtempSync(path.join(os.tmpdir(), 'control-'));
  try {
    execFileSync('dpkg-deb', ['-e', DEB, control]);
    const conffiles = fs.readFileSync(path.join(control, 'conffiles'), 'utf8').trim().split('\n').sort();
    assert.deepEqual(conffiles, ['/etc/wallet-platform/migrate.env', '/etc/wallet-platform/user-service.env',
      '/etc/wallet-platform/wallet-service.env']);
    const postinst = fs.readFileSync(path.join(control, 'postinst'), 'utf8');
    assert.match(postinst, /adduser --system --group .*wallet-platform/s, 'postinst makes the system user');
    assert.match(postinst, /^ *make_page_token_secret \/etc\/wallet-platform\/page-token-secret wallet-platform$/m,
      'postinst makes the page-token secret wallet-service.env names');
    assert.match(fs.readFileSync(path.join(control, 'postrm'), 'utf8'), /rm -f \/etc\/wallet-platform\/page-token-secret /,
      'purge removes it');
    for (const script of ['postinst', 'postrm']) assert.equal(run('sh', ['-n', path.join(control, script)]).status, 0);
  } finally {
    fs.rmSync(control, { recursive: true, force: true });
  }
  // Every setting of the daemon is documented in its environment file, with its default.
  const env = fs.readFileSync(path.join(TREE, 'etc/wallet-platform/wallet-service.env'), 'utf8');
  const help = execFileSync(path.join(TREE, 'usr/sbin/wallet-service'), ['--help'], { encoding: 'utf8' });
  for (const m of help.matchAll(/^ {2}--\S+(?: \S+)?\s+([A-Z][A-Z0-9_]+)\s/gm)) {
    assert.match(env, new RegExp(`^#?${m[1]}=`, 'm'), `${m[1]} in wallet-service.env`);
  }
  assert.match(env, /^#DRAIN_SECONDS=10$/m);
  assert.match(env, /^PAGE_TOKEN_SECRET_FILE=\/etc\/wallet-platform\/page-token-secret$/m, 'the package sets the secret');
});

// postinst's own make_page_token_secret, run on a file of this test's: a
// secret the daemon accepts, group-readable only, made once, never replaced.
function makeSecretAsPostinst(file, group) {
  const control = fs.mkdtempSync(path.join(os.tmpdir(), 'control-'));
  try {
    execFileSync('dpkg-deb', ['-e', DEB, control]);
    const postinst = fs.readFileSync(path.join(control, 'postinst'), 'utf8');
    const fn = postinst.match(/^make_page_token_secret\(\) \{\n[\s\S]*?\n\}$/m);
    assert.ok(fn, 'postinst defines make_page_token_secret');
    execFileSync('sh', ['-ec', `${fn[0]}\nmake_page_token_secret "$1" "$2"`, 'sh', file, group]);
  } finally {
    fs.rmSync(control, { recursive: true, force: true });
  }
}

test('lintian: no errors', (t) => {
  const r = run('lintian', ['--fail-on', 'error', '--display-info', DEB]);
  const tags = r.stdout.split('\n').filter((l) => /^[EWI]: /.test(l));
  t.diagnostic(`lintian: ${tags.filter((l) => l.startsWith('E')).length} errors, ${tags.filter((l) => l.startsWith('W')).length} warnings, ${tags.filter((l) => l.startsWith('I')).length} info`);
  for (const l of tags) t.diagnostic(l);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.ok(!tags.some((l) => l.startsWith('E:')));
});

test('units: hardened, systemd-analyze verify clean, security exposure low', (t) => {
  // verify resolves the dependencies (targets) in the root it is given: the
  // package's tree plus this machine's targets and slices.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  execFileSync('cp', ['-a', `${TREE}/.`, root]);
  for (const f of fs.readdirSync('/lib/systemd/system')) {
    if (/\.(target|slice)$/.test(f) && !fs.existsSync(path.join(root, 'lib/systemd/system', f))) {
      fs.copyFileSync(path.join('/lib/systemd/system', f), path.join(root, 'lib/systemd/system', f));
    }
  }
  for (const unit of UNITS) {
    const file = `/lib/systemd/system/${unit}.service`;
    const text = fs.readFileSync(path.join(TREE, file), 'utf8');
    for (const option of ['Type=notify', 'WatchdogSec=', 'NoNewPrivileges=yes', 'ProtectSystem=strict',
      'ProtectHome=yes', 'PrivateTmp=yes', 'User=wallet-platform', 'CapabilityBoundingSet=\n',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX', 'SystemCallFilter=@system-service',
      `EnvironmentFile=/etc/wallet-platform/${unit}.env`, `ExecStart=/usr/sbin/${unit}\n`]) {
      assert.ok(text.includes(option), `${unit}: ${option.trim()}`);
    }
    const v = run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, file]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.equal((v.stdout + v.stderr).trim(), '', `verify says nothing: ${v.stdout}${v.stderr}`);
    const s = run('systemd-analyze', ['security', '--offline=true', `--root=${root}`, path.join(root, file)]);
    const score = Number(/Overall exposure level for \S+: ([0-9.]+)/.exec(s.stdout)?.[1]);
    t.diagnostic(`${unit}.service: systemd-analyze security exposure ${score}`);
    assert.ok(score <= 2.0, `exposure ${score} (${s.stdout.slice(-200)})`);
  }
});

test('installed binaries: migrate an empty database, start both daemons from their env files, serve', async (t) => {
  const migrate = path.join(TREE, 'usr/sbin/wallet-platform-migrate');
  assert.match(run(migrate, ['--help']).stdout, /Usage: wallet-platform-migrate/);
  const first = run(migrate, [], { env: { ...process.env, DATABASE_URL: ADMIN_DATABASE_URL } });
  assert.equal(first.status, 0, first.stderr);
  const applied = fs.readdirSync(path.join(TREE, 'usr/share/wallet-platform/migrations')).length;
  assert.equal((first.stderr.match(/migrate: applied/g) || []).length, applied, first.stderr);
  const again = run(migrate, [], { env: { ...process.env, DATABASE_URL: ADMIN_DATABASE_URL } });
  assert.equal(again.status, 0);
  assert.doesNotMatch(again.stderr, /applied/, 're-running is a no-op');

  for (const bin of UNITS) {
    assert.match(run(path.join(TREE, 'usr/sbin', bin), ['--version']).stdout, new RegExp(`^${bin} ${field('Version')}`));
  }
  // The environment a unit would get: its packaged file, then what this test must set.
  const envOf = (unit) => Object.fromEntries(fs.readFileSync(path.join(TREE, `etc/wallet-platform/${unit}.env`), 'utf8')
    .split('\n').filter((l) => /^[A-Z]/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const ports = { user: await freePort(), wallet: await freePort() };
  const shared = {
    DATABASE_URL, USER_SERVICE_URL: `127.0.0.1:${ports.user}`, WALLET_SERVICE_URL: `127.0.0.1:${ports.wallet}`, METRICS_ADDR: '0',
  };
  // The page-token secret postinst would make at the path the env file names.
  const etc = fs.mkdtempSync(path.join(os.tmpdir(), 'etc-'));
  t.after(() => fs.rmSync(etc, { recursive: true, force: true }));
  const secret = path.join(etc, 'page-token-secret');
  const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  makeSecretAsPostinst(secret, group);
  const made = fs.readFileSync(secret, 'utf8');
  assert.match(made, /^[A-Za-z0-9+/]{43}=\n$/, '32 random bytes in base64');
  assert.equal(fs.statSync(secret).mode & 0o777, 0o640);
  makeSecretAsPostinst(secret, group);
  assert.equal(fs.readFileSync(secret, 'utf8'), made, 'an existing secret is kept');
  const pathsHere = (env) => Object.fromEntries(Object.entries(env).map(([k, v]) =>
    [k, v === '/etc/wallet-platform/page-token-secret' ? secret : v]));
  const daemons = [];
  for (const [unit, port] of [['user-service', ports.user], ['wallet-service', ports.wallet]]) {
    const notify = await NotifySocket.open();
    t.after(() => notify.close());
    const d = new Daemon(unit, { ...pathsHere(envOf(unit)), ...shared, NOTIFY_SOCKET: notify.path });
    await d.start(port);
    t.after(() => d.stop('SIGKILL'));
    daemons.push({ d, notify });
  }
  const users = new proto.user.UserService(shared.USER_SERVICE_URL, grpc.credentials.createInsecure());
  const wallets = new proto.wallet.WalletService(shared.WALLET_SERVICE_URL, grpc.credentials.createInsecure());
  t.after(() => { users.close(); wallets.close(); });
  const created = await call(users, 'CreateUser', { email: uniqueEmail(), name: 'Packaged' });
  assert.equal(created.err, null, created.err && created.err.message);
  const wallet = await call(wallets, 'GetWallet', { user_id: created.res.id });
  assert.equal(wallet.err, null);
  assert.equal(wallet.res.balance, 0);
  assert.doesNotMatch(daemons[1].d.log(), /PAGE_TOKEN_SECRET_FILE is not set/, 'wallet-service keys tokens with the secret');
  for (const { d, notify } of daemons) {
    assert.equal(notify.having('READY=1').length, 1, `${d.name} said READY`);
    assert.equal((await d.stop()).code, 0);
  }
});
