// Sends h2load body files (gRPC frames) to a method with @grpc/grpc-js, one
// after another, and prints for each "CODE BYTES": the real grpc-status and the
// size of the answer as h2load counts it (5-byte frame + message; 0 on error).
// h2load cannot see the grpc-status trailer, so run.sh uses this to prove each
// body is accepted (status 0) and to learn how many DATA bytes one successful
// answer is. Each call is a real call: a credit or debit body moves the balance.
//   node check.js HOST:PORT /pkg.Service/Method BODY_FILE...
'use strict';
const fs = require('node:fs');
const { grpc } = require('./grpc');
const [addr, method, ...files] = process.argv.slice(2);
const client = new grpc.Client(addr, grpc.credentials.createInsecure());
const call = (frame) => new Promise((resolve) => {
  client.makeUnaryRequest(method, (b) => b, (b) => b, frame.subarray(5), new grpc.Metadata(),
    { deadline: new Date(Date.now() + 5000) }, (err, res) => resolve(err
      ? `${err.code} 0 ${JSON.stringify(err.details)}` : `0 ${5 + res.length}`));
});
(async () => {
  for (const f of files) console.log(await call(fs.readFileSync(f)));
  client.close();
})();
