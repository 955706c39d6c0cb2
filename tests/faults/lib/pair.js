// Both daemons for the CreateUser fault tests (create_user_*.test.js):
// user-service reaches wallet-service through peerProxy and PostgreSQL
// through dbProxy (lib/proxy.js); wallet-service reaches PostgreSQL directly.
'use strict';
const { grpc, DATABASE_URL } = require('./faults');
const { FaultProxy } = require('./proxy');
const { proto, Daemon, freePort } = require('../../integration/lib/harness');

// restartUser() kills user-service with SIGKILL and starts it again on its
// port; userLog() is its log once the lines of answered calls are out.
async function startPair() {
  const dbPort = Number(new URL(DATABASE_URL).port);
  const dbProxy = new FaultProxy(dbPort);
  const userDb = new URL(DATABASE_URL);
  userDb.port = String(await dbProxy.listen());
  const userPort = await freePort();
  const walletPort = await freePort();
  const peerProxy = new FaultProxy(walletPort);
  const peerPort = await peerProxy.listen();
  const common = { METRICS_ADDR: '0', DRAIN_SECONDS: '1', USER_SERVICE_URL: `127.0.0.1:${userPort}` };
  const userEnv = { ...common, DATABASE_URL: userDb.toString(), WALLET_SERVICE_URL: `127.0.0.1:${peerPort}` };
  const wallet = new Daemon('wallet-service', { ...common, DATABASE_URL, WALLET_SERVICE_URL: `127.0.0.1:${walletPort}` });
  let user = new Daemon('user-service', userEnv);
  await Promise.all([user.start(userPort), wallet.start(walletPort)]);
  const userClient = new proto.user.UserService(`127.0.0.1:${userPort}`, grpc.credentials.createInsecure());
  const walletClient = new proto.wallet.WalletService(`127.0.0.1:${walletPort}`, grpc.credentials.createInsecure());
  const stopDaemon = async (d) => {
    const guard = setTimeout(() => d.child.kill('SIGKILL'), 10000);
    await d.stop();
    clearTimeout(guard);
  };
  return {
    userClient, walletClient, peerProxy, dbProxy,
    userLog: () => user.settledLog(),
    async restartUser() {
      await user.stop('SIGKILL');
      user = new Daemon('user-service', userEnv);
      await user.start(userPort);
    },
    async stop() {
      userClient.close();
      walletClient.close();
      await Promise.all([stopDaemon(user), stopDaemon(wallet)]);
      await peerProxy.close();
      await dbProxy.close();
    },
  };
}

module.exports = { startPair };
