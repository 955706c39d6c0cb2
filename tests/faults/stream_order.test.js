// Misrouted rows (explore SEED=1002 CLIENTS=16): a GetWallet answered with
// another user's wallet, a replayed credit with another call's Operation
// row, an acknowledged CreateUser whose wallet never existed. Each came
// just after a db-delay fault healed: the fault proxy then wrote the chunks
// still delayed after newer ones, so PostgreSQL's pipelined answers (and
// the statements themselves) reached their peer out of order, something TCP
// never does; the daemon, taking answers in the order it sent statements,
// handed them out shifted. The proxy keeps each direction's order now
// (lib/proxy.js). First the proxy itself, then the daemon through it:
// every answer must be the asked user's wallet, however the delay ends.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startWallet, makeWallet, timed, report, DATABASE_URL } = require('./lib/faults');
const { FaultProxy } = require('./lib/proxy');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function viaProxy(port) {
  const url = new URL(DATABASE_URL);
  url.port = String(port);
  return url.toString();
}

test('the proxy keeps a stream in order when a delay ends', async () => {
  // A server that sends 'a' at once and 'b' when told; the client writes 'A', then 'B'.
  let serverSide;
  const received = { up: '', down: '' };
  const sink = net.createServer((socket) => {
    serverSide = socket;
    socket.on('data', (d) => { received.up += d; });
  });
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const proxy = new FaultProxy(sink.address().port);
  const client = net.connect(await proxy.listen(), '127.0.0.1');
  client.on('data', (d) => { received.down += d; });
  try {
    await new Promise((resolve) => client.on('connect', resolve));
    while (!serverSide) await sleep(5);
    proxy.set('delay', 300);
    client.write('A');
    serverSide.write('a');
    await sleep(50);
    proxy.set('pass'); // 'A' and 'a' still wait
    client.write('B');
    serverSide.write('b');
    await sleep(600);
    assert.equal(received.up, 'AB', 'client -> server order');
    assert.equal(received.down, 'ab', 'server -> client order');
  } finally {
    client.destroy();
    await proxy.close();
    await new Promise((resolve) => sink.close(resolve));
  }
});

test('through a delay that ends under load, every GetWallet answers its own user', async (t) => {
  const proxy = new FaultProxy(Number(new URL(DATABASE_URL).port));
  const wallet = await startWallet(viaProxy(await proxy.listen()), { DB_SESSIONS: '2' });
  try {
    const users = Array.from({ length: 24 }, () => makeWallet());
    const ask = (userId) => timed(wallet.client, 'GetWallet', { user_id: userId }, 5000)
      .then((r) => ({ userId, ...r }));
    assert.equal((await ask(users[0])).err, null);
    let delayed = 0; // chunks the delay held back, either way
    const forward = proxy.forward.bind(proxy);
    proxy.forward = (chunk, to, direction) => {
      if (proxy.mode === 'delay') delayed++;
      forward(chunk, to, direction);
    };
    const answers = [];
    for (let round = 0; round < 6; round++) {
      delayed = 0;
      proxy.set('delay', 500);
      const slow = users.map(ask); // their statements and answers wait in the proxy ...
      for (let i = 0; delayed < 2 && i < 400; i++) await sleep(5);
      proxy.set('pass'); // ... while these go straight through
      const fast = [...users].reverse().map(ask); // in another order, so a shifted answer shows
      answers.push(...await Promise.all([...slow, ...fast]));
    }
    const ok = answers.filter((a) => !a.err);
    const wrong = ok.filter((a) => a.res.user_id !== a.userId);
    report(t, `${answers.length} GetWallets across 6 delays that ended under load: ${ok.length} OK, ` +
      `${wrong.length} with another user's wallet`);
    assert.deepEqual(wrong.map((a) => `${a.userId} answered with ${a.res.user_id}`), []);
    assert.ok(ok.length >= answers.length / 2, `only ${ok.length} of ${answers.length} answered OK`);
  } finally {
    await wallet.stop();
    await proxy.close();
  }
});
