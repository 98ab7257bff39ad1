#!/usr/bin/python3
"""A small web app (stdlib http.server) that lambda-bridge starts and supervises in the component tests.

Each flag gives it one of the behaviours a supervisor has to cope with; the routes give the invocation path
something observable to do. Run with /usr/bin/python3; it listens on 127.0.0.1 only.

Start-up:
  --port N                 port to listen on (default: $AWS_LWA_PORT, which the bridge passes on)
  --listen-after S         sleep S seconds before listening (connections are refused until then)
  --never-listen           never listen (stay alive until signalled)
  --exit-after S:CODE      exit with CODE after S seconds, whatever else it is doing
  --unhealthy              answer GET / (the readiness probe) with 503
  --on-signal MODE         SIGTERM/SIGINT/SIGHUP: 'default' (die of it), 'ignore', or 'exit:N' (record it, exit N)
  --signal-file PATH       append '<SIGNAME> <time.monotonic()>' for each signal received (with exit:N)
  --pid-file PATH          write os.getpid() first thing
  --listen-time-file PATH  write time.time() right after listen(), before the first accept
  --orphan PATH            fork a grandchild that is orphaned (its parent exits at once), waits until it has been
                           re-parented, writes {"pid", "ppid"} to PATH and exits: a zombie for whoever adopted it
  --print-marker           print $APP_MARKER + ' on stdout' to stdout and + ' on stderr' to stderr
  --stubborn-worker PATH   right after listen(), fork a worker that ignores SIGTERM, SIGINT and SIGHUP, keeps the
                           listening socket (so the port stays taken), writes its pid to PATH and sleeps until
                           killed: what a pre-forking server's worker looks like once its master is gone

Routes (any method):
  /            200 'ok' (503 with --unhealthy)
  /echo        201 + X-App: yes + two Set-Cookie lines + JSON {method, target, path, headers, body_b64};
               ?delay=S waits S seconds first
  /png         200 image/png, PNG_BYTES (every byte value)
  /slow?s=S    prints 'app: slow request started', answers after S seconds
  /crash       prints 'app: crashing', then os._exit(3) without answering
  /status/NNN  that status, text body
  /events      200 JSON {"received_bytes": n} (where the bridge posts non-HTTP events)
  /big?n=N     200 text/plain, N bytes of 'x'

Output during a request (each write flushed before the reply, as an app with unbuffered output does):
  /log/print?out=L&err=L&raw=HEX   each out= value as a line on stdout, each err= value on stderr, each raw= value
                                   (hex) as a line of those bytes on stdout (all repeatable)
  /log/flood?bytes=N               at least N bytes on stdout at full speed, in lines of FLOOD_LINE_BYTES
                                   ('flood <9-digit number> xxx…'), written in 64 KiB writes that cut lines anywhere;
                                   answers JSON {"lines": count}
  /log/long?n=N                    one line of N bytes on stdout: the digits 0123456789 over and over
  /log/partial-exit?text=T         T on stdout without a newline, then os._exit(3) without answering

Streamed replies (Transfer-Encoding: chunked, each piece flushed at once):
  /stream/sse?events=N&gate=PATH   text/event-stream, 'data: event i' for i in 1..N; before the last event it
                                   waits (up to 20 s) until the file PATH exists
  /stream/bytes?n=N                application/octet-stream, N bytes, byte i = i % 251, in 64 KiB chunks
  /stream/cut?n=N                  N bytes of 'y', then the connection is closed without the last chunk
  /stream/...&length=L             bytes and cut: framed by Content-Length: L instead of chunked (cut: L > N)
  /stream/crash?n=N                N bytes of 'y', then os._exit(3)
  /stream/redirect                 302 to /elsewhere, empty body, plus two Set-Cookie lines
"""

import argparse
import base64
import http.server
import json
import os
import signal
import sys
import threading
import time
import urllib.parse

FLOOD_LINE_BYTES = 100
PNG_BYTES = b'\x89PNG\r\n\x1a\n' + bytes(range(256)) * 4 + b'\x00\r\n\r\n\xff'


def write_atomically(path, text):
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def make_orphan(path):
    child = os.fork()
    if child == 0:
        grandchild = os.fork()
        if grandchild == 0:
            parent = os.getppid()
            end = time.monotonic() + 5
            while os.getppid() == parent and time.monotonic() < end:
                time.sleep(0.001)
            write_atomically(path, json.dumps({'pid': os.getpid(), 'ppid': os.getppid()}))
            os._exit(0)
        os._exit(0)
    os.waitpid(child, 0)


def fork_stubborn_worker(path):
    if os.fork() == 0:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        write_atomically(path, str(os.getpid()))
        while True:
            time.sleep(60)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    unhealthy = False

    def log_message(self, *args):
        pass

    def __getattr__(self, name):
        if name.startswith('do_'):
            return self.serve
        raise AttributeError(name)

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)
        self.wfile.flush()

    def serve(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        path = url.path
        if path == '/':
            if Handler.unhealthy:
                self.reply(503, b'starting', [('Content-Type', 'text/plain')])
            else:
                self.reply(200, b'ok', [('Content-Type', 'text/plain')])
        elif path == '/echo':
            if 'delay' in query:
                time.sleep(float(query['delay'][0]))
            doc = {'method': self.command, 'target': self.path, 'path': path,
                   'headers': [[k, v] for k, v in self.headers.items()],
                   'body_b64': base64.b64encode(body).decode()}
            self.reply(201, json.dumps(doc).encode(), [('Content-Type', 'application/json'), ('X-App', 'yes'),
                                                       ('Set-Cookie', 'c1=v1; Path=/'),
                                                       ('Set-Cookie', 'c2=v2; HttpOnly')])
        elif path == '/png':
            self.reply(200, PNG_BYTES, [('Content-Type', 'image/png')])
        elif path == '/slow':
            print('app: slow request started', flush=True)
            seconds = float(query.get('s', ['1'])[0])
            time.sleep(seconds)
            self.reply(200, json.dumps({'slept': seconds}).encode(), [('Content-Type', 'application/json')])
        elif path == '/crash':
            print('app: crashing', flush=True)
            os._exit(3)
        elif path.startswith('/status/'):
            status = int(path.rsplit('/', 1)[1])
            self.reply(status, f'status {status}'.encode(), [('Content-Type', 'text/plain')])
        elif path == '/big':
            self.reply(200, b'x' * int(query['n'][0]), [('Content-Type', 'text/plain')])
        elif path.startswith('/stream/'):
            self.stream(path[len('/stream/'):], query)
        elif path.startswith('/log/'):
            self.log_output(path[len('/log/'):], query)
        elif path == '/events':
            self.reply(200, json.dumps({'received_bytes': len(body)}).encode(), [('Content-Type', 'application/json')])
        else:
            self.reply(404, b'not found', [('Content-Type', 'text/plain')])


    def log_output(self, what, query):
        if what == 'print':
            for line in query.get('out', []):
                sys.stdout.write(line + '\n')
            sys.stdout.flush()
            for line in query.get('raw', []):
                sys.stdout.buffer.write(bytes.fromhex(line) + b'\n')
            sys.stdout.flush()
            for line in query.get('err', []):
                sys.stderr.write(line + '\n')
            sys.stderr.flush()
            self.reply(200, b'printed', [('Content-Type', 'text/plain')])
        elif what == 'flood':
            total = int(query['bytes'][0])
            pad = b'x' * FLOOD_LINE_BYTES
            lines = 0
            pending = bytearray()
            out = sys.stdout.buffer
            while lines * FLOOD_LINE_BYTES < total:
                for _ in range(1000):
                    head = b'flood %09d ' % lines
                    pending += head + pad[:FLOOD_LINE_BYTES - len(head) - 1] + b'\n'
                    lines += 1
                while len(pending) >= 65536:
                    out.write(pending[:65536])
                    del pending[:65536]
            out.write(pending)
            out.flush()
            self.reply(200, json.dumps({'lines': lines}).encode(), [('Content-Type', 'application/json')])
        elif what == 'long':
            n = int(query['n'][0])
            sys.stdout.write(('0123456789' * (n // 10 + 1))[:n] + '\n')
            sys.stdout.flush()
            self.reply(200, b'printed', [('Content-Type', 'text/plain')])
        elif what == 'partial-exit':
            sys.stdout.write(query['text'][0])
            sys.stdout.flush()
            os._exit(3)
        else:
            self.reply(404, b'not found', [('Content-Type', 'text/plain')])

    def chunk(self, data):
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def stream(self, what, query):
        if what == 'redirect':
            self.reply(302, b'', [('Location', '/elsewhere'), ('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')])
            return
        content_type = 'text/event-stream' if what == 'sse' else 'application/octet-stream'
        self.send_response(200)
        self.send_header('Content-Type', content_type)
        self.send_header('Cache-Control', 'no-cache')
        length = query.get('length', [None])[0]
        if length is None:
            self.send_header('Transfer-Encoding', 'chunked')
            piece_out = self.chunk
        else:
            self.send_header('Content-Length', length)
            piece_out = self.wfile.write
        self.end_headers()
        if what == 'sse':
            events = int(query.get('events', ['3'])[0])
            gate = query.get('gate', [None])[0]
            for i in range(1, events + 1):
                if i == events and gate:
                    end = time.monotonic() + 20
                    while not os.path.exists(gate) and time.monotonic() < end:
                        time.sleep(0.005)
                self.chunk(b'data: event %d\n\n' % i)
        elif what == 'bytes':
            n = int(query['n'][0])
            block = bytes(i % 251 for i in range(251 * 261))  # 65,511 bytes: a whole number of periods
            sent = 0
            while sent < n:
                piece = block[:min(len(block), n - sent)]
                piece_out(piece)
                sent += len(piece)
        elif what in ('cut', 'crash'):
            piece_out(b'y' * int(query['n'][0]))
            self.wfile.flush()
            time.sleep(0.05)  # let the bytes reach the bridge before the end
            if what == 'crash':
                print('app: crashing mid-stream', flush=True)
                os._exit(3)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if length is None:
            self.wfile.write(b'0\r\n\r\n')
        self.wfile.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=int(os.environ.get('AWS_LWA_PORT') or 0))
    ap.add_argument('--listen-after', type=float, default=0)
    ap.add_argument('--never-listen', action='store_true')
    ap.add_argument('--exit-after')
    ap.add_argument('--unhealthy', action='store_true')
    ap.add_argument('--on-signal', default='default')
    ap.add_argument('--signal-file')
    ap.add_argument('--pid-file')
    ap.add_argument('--listen-time-file')
    ap.add_argument('--orphan')
    ap.add_argument('--print-marker', action='store_true')
    ap.add_argument('--stubborn-worker')
    opts = ap.parse_args()

    if opts.pid_file:
        write_atomically(opts.pid_file, str(os.getpid()))
    if opts.print_marker:
        marker = os.environ.get('APP_MARKER', '(APP_MARKER not set)')
        sys.stdout.write(f'{marker} on stdout\n')
        sys.stdout.flush()
        sys.stderr.write(f'{marker} on stderr\n')
        sys.stderr.flush()

    if opts.on_signal == 'ignore':
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
    elif opts.on_signal.startswith('exit:'):
        code = int(opts.on_signal.split(':', 1)[1])

        def on_signal(signum, frame):
            name = signal.Signals(signum).name
            if opts.signal_file:
                with open(opts.signal_file, 'a') as f:
                    f.write(f'{name} {time.monotonic()}\n')
            print(f'app: got {name}, exiting {code}', flush=True)
            os._exit(code)

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, on_signal)

    if opts.orphan:
        make_orphan(opts.orphan)

    if opts.exit_after:
        seconds, code = opts.exit_after.split(':')
        timer = threading.Timer(float(seconds), lambda: os._exit(int(code)))
        timer.daemon = True
        timer.start()

    Handler.unhealthy = opts.unhealthy
    if opts.listen_after:
        time.sleep(opts.listen_after)
    if opts.never_listen:
        while True:
            signal.pause()

    server = Server(('127.0.0.1', opts.port), Handler, bind_and_activate=False)
    server.server_bind()
    server.server_activate()  # listen(): from here on connections are accepted (queued until serve_forever)
    if opts.listen_time_file:
        write_atomically(opts.listen_time_file, repr(time.time()))
    if opts.stubborn_worker:
        fork_stubborn_worker(opts.stubborn_worker)
    server.serve_forever(poll_interval=0.05)


if __name__ == '__main__':
    main()
