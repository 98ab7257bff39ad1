// A plain Node http server streaming server-sent events with res.write, as users write them.
// GET /events?count=N&gate=PATH: N events 'data: tick i'; before the last one it waits (up to 20 s) until the file
// PATH exists. Listens on 127.0.0.1:$PORT.
const fs = require('fs');
const http = require('http');

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/events') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    return;
  }
  const count = Number(url.searchParams.get('count') || 3);
  const gate = url.searchParams.get('gate');
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  let i = 1;
  const deadline = Date.now() + 20000;
  const next = () => {
    if (i === count && gate && !fs.existsSync(gate) && Date.now() < deadline) {
      setTimeout(next, 5);
      return;
    }
    res.write(`data: tick ${i}\n\n`);
    if (i++ === count) res.end();
    else setImmediate(next);
  };
  next();
}).listen(Number(process.env.PORT), '127.0.0.1');
