"""The apps the bridge forwards to: a configurable http.server app, and raw-socket peers for byte-level tests."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from .util import *  # noqa: F401,F403
from .runtime_api import *  # noqa: F401,F403
from .runtime_api import _QuietThreadingServer  # noqa: F401


# Backends

@dataclass
class SeenRequest:
    """A request as the backend received it."""
    method: str
    target: str          # the request-line target, byte for byte (decoded as latin-1)
    version: str
    headers: list        # [(name, value)] in wire order, duplicates kept
    body: bytes
    chunked: bool
    connection: int      # which TCP connection (1, 2, ...)
    nth_on_connection: int  # 1 for the first request on that connection
    client_port: int = 0    # the bridge's source port for that connection

    @property
    def path(self) -> str:
        return self.target.split('?', 1)[0]

    def header(self, name: str) -> Optional[str]:
        values = header_lookup(self.headers, name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        return header_lookup(self.headers, name)


@dataclass
class BackendReply:
    status: int = 200
    headers: list = field(default_factory=list)
    body: bytes = b''
    close_after: bool = False   # close the socket after the reply *without* saying Connection: close
    drop: bool = False          # close the socket without replying at all


Behaviour = Callable[[SeenRequest, 'Backend'], BackendReply]


def echo(req: SeenRequest, backend: 'Backend') -> BackendReply:
    """JSON description of the request exactly as received."""
    doc = {
        'method': req.method,
        'target': req.target,
        'version': req.version,
        'headers': [[k, v] for k, v in req.headers],
        'body_b64': base64.b64encode(req.body).decode(),
    }
    return BackendReply(200, [('Content-Type', 'application/json')], json.dumps(doc).encode())


def fixed(status: int, body: bytes = b'', headers: Iterable[tuple[str, str]] = (('Content-Type', 'text/plain'),)):
    body = body.encode() if isinstance(body, str) else body
    return lambda req, backend: BackendReply(status, list(headers), body)


def slow(seconds: float, then: Behaviour = echo) -> Behaviour:
    """Answer after `seconds` (cut short when the backend stops, so no thread outlives the test by much)."""
    def behaviour(req, backend):
        backend.stopping.wait(seconds)
        return then(req, backend)
    return behaviour


def close_after_response(then: Behaviour = echo) -> Behaviour:
    """Reply normally (no Connection: close), then close the kept-alive socket."""
    def behaviour(req, backend):
        r = then(req, backend)
        r.close_after = True
        return r
    return behaviour


def drop_reused_connection(then: Behaviour = echo) -> Behaviour:
    """Serve the first request on a connection; close any later one on it without a reply (a pooled socket that
    died while Lambda froze the process)."""
    def behaviour(req, backend):
        if req.nth_on_connection > 1:
            return BackendReply(drop=True)
        return then(req, backend)
    return behaviour


BATCH_ITEM_FAILURES = b'{"batchItemFailures":[{"itemIdentifier":"x"}]}'


def batch_item_failures(req, backend) -> BackendReply:
    return BackendReply(200, [('Content-Type', 'application/json')], BATCH_ITEM_FAILURES)


class Backend(StopOnExit):
    """A real HTTP/1.1 app (ThreadingHTTPServer, keep-alive) on 127.0.0.1. Requests are routed by path (without
    the query) to a behaviour; the default behaviour is echo. Every request is recorded in `requests`."""

    def __init__(self, port: int = 0, default: Behaviour = echo, routes: Optional[dict] = None):
        self.routes: dict[str, Behaviour] = dict(routes or {})
        self.default = default
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        self._cond = threading.Condition()
        self._connections = 0
        self.extra_context: Callable[[], str] = lambda: ''
        backend = self

        class Handler(QuietHandler):
            def setup(self):
                super().setup()
                with backend._cond:
                    backend._connections += 1
                    self.conn_no = backend._connections
                self.served = 0

            def __getattr__(self, name):
                # Any method token reaches _serve (BaseHTTPRequestHandler looks up do_<METHOD>).
                if name.startswith('do_'):
                    return self._serve
                raise AttributeError(name)

            def _serve(self):
                self.served += 1
                body, _, chunked = read_handler_body(self)
                req = SeenRequest(self.command, self.path, self.request_version, list(self.headers.items()),
                                  body, chunked, self.conn_no, self.served, self.client_address[1])
                with backend._cond:
                    backend.requests.append(req)
                    backend._cond.notify_all()
                behaviour = backend.routes.get(req.path, backend.default)
                reply = behaviour(req, backend)
                if reply.drop:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                names = {k.lower() for k, _ in reply.headers}
                for k, v in reply.headers:
                    self.send_header(k, v)
                if 'content-length' not in names and 'transfer-encoding' not in names:
                    self.send_header('Content-Length', str(len(reply.body)))
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(reply.body)
                self.wfile.flush()
                if reply.close_after:
                    self.close_connection = True

        self._server = _QuietThreadingServer(('127.0.0.1', port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name=f'backend-{self.port}', daemon=True)
        self._thread.start()

    def route(self, path: str, behaviour: Behaviour) -> 'Backend':
        self.routes[path] = behaviour
        return self

    def wait_request(self, predicate: Callable[[SeenRequest], bool] = None, timeout: float = 10, *,
                     target: Optional[str] = None, path: Optional[str] = None) -> SeenRequest:
        """The first recorded request matching the predicate / exact target / path."""
        def match(r):
            return ((predicate is None or predicate(r)) and (target is None or r.target == target)
                    and (path is None or r.path == path))
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.requests:
                    if match(r):
                        return r
                remaining = end - time.monotonic()
                if remaining <= 0:
                    seen = '\n  '.join(f'{r.method} {r.target}' for r in self.requests) or '(nothing)'
                    raise AssertionError(f'backend :{self.port} got no matching request within {timeout:g}s; '
                                         f'it saw:\n  {seen}\n{self.extra_context()}')
                self._cond.wait(remaining)

    def requests_to(self, path: str) -> list[SeenRequest]:
        with self._cond:
            return [r for r in self.requests if r.path == path]

    def stop(self):
        """Stop listening and cut every open connection (kept-alive ones included)."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.cut_all_connections()



def recv_head(conn: socket.socket, buf: bytes = b'') -> tuple[Optional[bytes], bytes]:
    """Reads a request head off a raw connection: (the head through its blank line, or None at EOF; the bytes read
    past it)."""
    while b'\r\n\r\n' not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    end = buf.index(b'\r\n\r\n') + 4
    return buf[:end], buf[end:]


def recv_body(conn: socket.socket, head: bytes, rest: bytes) -> tuple[bytes, bytes]:
    """The request body (Content-Length framed, as the bridge always sends), and the bytes past it."""
    m = re.search(rb'(?i)\r\ncontent-length: *(\d+)', head)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        data = conn.recv(65536)
        if not data:
            raise ConnectionError('EOF inside the request body')
        rest += data
    return rest[:n], rest[n:]


@dataclass
class RawAnswer:
    """What RawBackend sends for one request: raw bytes, each part written with its own send; then, with
    close=True, the socket is closed (a reply cut short, an app that dies)."""
    parts: list
    close: bool = False


class RawServer(StopOnExit):
    """A socket server on 127.0.0.1 port 0 for raw-byte peers: each accepted connection is handed to the subclass's
    _serve(conn, n) on a thread of its own (n counts connections from 1). A subclass sets its own attributes before
    calling this __init__, which starts accepting at once. receive_buffer (inherited by accepted sockets) keeps the
    bridge's writes waiting on a small window. stop() closes the listener and shuts every connection down."""

    def __init__(self, receive_buffer: Optional[int] = None):
        self._conns: list[socket.socket] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if receive_buffer:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        n = 0
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            n += 1
            self._conns.append(conn)
            threading.Thread(target=self._serve_then_close, args=(conn, n), daemon=True).start()

    def _serve_then_close(self, conn: socket.socket, n: int):
        try:
            self._serve(conn, n)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _serve(self, conn: socket.socket, n: int):
        """Serves one connection; returning (or an OSError) closes it."""
        raise NotImplementedError

    def stop(self):
        self._sock.close()
        for c in self._conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass



class RawBackend(RawServer):
    """A socket server that records the exact bytes of each request (request line, headers, body) and answers
    each with `response` (raw bytes), or with routes[path] (bytes or a RawAnswer) when the request-line path is
    listed there. Handles keep-alive, Content-Length and chunked bodies."""

    DEFAULT_RESPONSE = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'

    def __init__(self, response: bytes = DEFAULT_RESPONSE, routes: Optional[dict] = None):
        self.response = response
        self.routes: dict = dict(routes or {})
        self.requests: list[bytes] = []
        self.client_ports: list[int] = []  # the peer's source port of each entry in `requests`
        self._cond = threading.Condition()
        super().__init__()

    def _answer_for(self, request: bytes) -> RawAnswer:
        parts = request.split(b'\r\n', 1)[0].split(b' ')
        path = parts[1].split(b'?', 1)[0].decode('latin-1') if len(parts) > 1 else ''
        answer = self.routes.get(path, self.response)
        return answer if isinstance(answer, RawAnswer) else RawAnswer([answer])

    def _serve(self, conn, n):
        buf = b''
        try:
            port = conn.getpeername()[1]
            while True:
                while b'\r\n\r\n' not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head_end = buf.index(b'\r\n\r\n') + 4
                head = buf[:head_end].decode('latin-1').lower()
                m = re.search(r'\r\ncontent-length:\s*(\d+)', head)
                if re.search(r'\r\ntransfer-encoding:[^\r]*chunked', head):
                    while not re.search(rb'\r\n0(;[^\r]*)?\r\n(.*?\r\n)?\r\n', buf[head_end - 2:], re.S):
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                    end = head_end - 2 + re.search(rb'\r\n0(;[^\r]*)?\r\n(.*?\r\n)?\r\n', buf[head_end - 2:],
                                                   re.S).end()
                else:
                    end = head_end + (int(m.group(1)) if m else 0)
                    while len(buf) < end:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                request = buf[:end]
                with self._cond:
                    self.requests.append(request)
                    self.client_ports.append(port)
                    self._cond.notify_all()
                buf = buf[end:]
                answer = self._answer_for(request)
                for part in answer.parts:
                    conn.sendall(part)
                if answer.close:
                    return
        except OSError:
            return
        finally:
            conn.close()

    def wait_requests(self, count: int = 1, timeout: float = 10) -> list[bytes]:
        end = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f'raw backend got {len(self.requests)} requests, wanted {count}')
                self._cond.wait(remaining)
            return list(self.requests)
