// An ordinary Express app, with no Lambda code in it: lambda-bridge (the image's ENTRYPOINT) starts it and turns
// each Lambda event into an HTTP request to it.
//   GET  /hello   -> {"message":"hello"}
//   POST /echo    -> the JSON body, echoed back (400 when the body is not JSON)
//   GET  /events  -> three server-sent events, 200 ms apart (a streamed reply with AWS_LWA_INVOKE_MODE=response_stream)
// It listens on 127.0.0.1: only the bridge, in the same container, talks to it.
'use strict';
const express = require('express');

const host = '127.0.0.1';
const port = 3000;
const app = express();

app.get('/hello', (req, res) => {
  res.json({ message: 'hello' });
});

app.post('/echo', express.json({ type: () => true, strict: false }), (req, res) => {
  res.json(req.body);
});

app.get('/events', (req, res) => {
  res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  let tick = 0;
  const timer = setInterval(() => {
    tick += 1;
    res.write(`data: tick ${tick}\n\n`);
    if (tick === 3) {
      clearInterval(timer);
      res.end();
    }
  }, 200);
  req.on('close', () => clearInterval(timer));
});

app.use((req, res) => {
  res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
});

// express.json() rejects a body that is not JSON with a SyntaxError: answer 400 with a message, not an HTML page.
app.use((err, req, res, next) => {
  if (err.type === 'entity.parse.failed') {
    res.status(400).json({ error: 'the body is not JSON' });
    return;
  }
  next(err);
});

const server = app.listen(port, host, () => {
  console.log(`listening on http://${host}:${port}`);
});

// The bridge sends SIGTERM when Lambda shuts the environment down (and on docker stop): finish and exit 0.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`${sig}: closing`);
    server.close(() => process.exit(0));
    server.closeIdleConnections(); // the bridge keeps connections alive between invocations
  });
}
