// A minimal web app for the lambda-bridge example: plain node:http, no npm dependencies, so it runs as it is
// under the bridge, locally or on Lambda.
//   GET  /hello  -> {"message":"hello"}
//   POST /echo   -> the JSON body, echoed back (400 when the body is not JSON)
// It listens on 127.0.0.1: only the bridge, in the same container, talks to it.
'use strict';
const http = require('node:http');

const host = '127.0.0.1';
const port = 3000;

function send(res, status, doc) {
  const body = JSON.stringify(doc);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/hello') {
    send(res, 200, { message: 'hello' });
    return;
  }
  if (req.method === 'POST' && path === '/echo') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let doc;
      try {
        doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        send(res, 400, { error: 'the body is not JSON' });
        return;
      }
      send(res, 200, doc);
    });
    return;
  }
  send(res, 404, { error: `no route for ${req.method} ${path}` });
});

server.listen(port, host, () => {
  console.log(`listening on http://${host}:${port}`);
});

// The bridge sends SIGTERM when Lambda shuts the environment down (and on docker stop): finish and exit 0.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections(); // the bridge keeps connections alive between invocations
  });
}
