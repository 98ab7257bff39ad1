// A plain Node http server that echoes the request as it arrived: method, the request-line target (req.url,
// not normalised) and the raw header lines in wire order (req.rawHeaders keeps duplicates and order).
// Listens on 127.0.0.1 port 0 and prints the chosen port on its first stdout line.
'use strict';
const http = require('http');

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const pairs = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const doc = JSON.stringify({
      method: req.method,
      url: req.url,
      httpVersion: req.httpVersion,
      rawHeaders: pairs,
      body: body.toString('base64'),
    });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': ['n1=a', 'n2=b'] });
    res.end(doc);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
