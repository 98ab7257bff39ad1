"""Test harness for lambda-bridge's component and end-to-end tests (stdlib only; run with /usr/bin/python3).

The bridge sits between two peers, and each one here is a real server on a loopback socket:

    FakeRuntimeApi  <--- GET /next, POST /response|/error ---  lambda-bridge  --- HTTP/1.1 --->  Backend
    (this file)                                                 (the binary)                      (this file,
                                                                                                   RawBackend, or a
                                                                                                   uvicorn/node child)

- FakeRuntimeApi: the Lambda Runtime API (runtime-api.md §1) on 127.0.0.1 port 0. Tests queue events with push();
  /next long-polls while the queue is empty; the bridge's posts are recorded and can be answered with a scripted
  status (413, 410, 500...) to drive the bridge's error paths.
- Backend: a configurable http.server app (echo, slow, fixed status, closing connections...) that records every
  request it saw, exactly as it came off the wire (request-line target, header lines in order).
- RawBackend: records the exact request bytes, for assertions on framing.
- Bridge / ManagedProcess: the real binary (or a backend child such as uvicorn), with its output captured to a file
  for assertions, always killed on cleanup.
- BridgeTestCase: unittest base class wiring the above with cleanups, so a test reads as "given/when/then".

Every wait here is bounded: conditions are awaited with threading.Condition or polled until a deadline; nothing
sleeps in the hope that something has happened.
"""

from __future__ import annotations

import base64
import collections
import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PREFIX = '/2018-06-01/runtime'
EXTENSION_PREFIX = '/2020-01-01/extension'  # Extensions API (runtime-api.md §3)
MAX_RESPONSE_BYTES = 6_291_556  # Runtime API limit on a buffered result (events.md §9)
ERROR_TYPE_PATTERN = re.compile(r'^(Runtime|Function)\.[A-Z][a-zA-Z]+$')  # what Lambda keeps (runtime-api.md §1)

DEFAULT_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:lambda-bridge-test'
DEFAULT_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'


# ----------------------------------------------------------------------------------------------------------------
# Small utilities

def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.005):
    """Poll predicate until it returns something truthy; raise AssertionError naming `what` after `timeout` s."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f'timed out after {timeout:g}s waiting for {what}')
        time.sleep(interval)


def free_port() -> int:
    """A port that was free a moment ago (bind 0, close). Only for children that cannot report their own port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def refusing_socket() -> socket.socket:
    """A socket bound to 127.0.0.1 port 0 that never listens: connections to its port are refused, and nothing
    else can take the port while the socket stays open (unlike free_port()). Close it when done."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    return s


def port_accepts(port: int, host: str = '127.0.0.1') -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def bridge_binary() -> Path:
    value = os.environ.get('LAMBDA_BRIDGE_BIN')
    return Path(value) if value else REPO_ROOT / 'build' / 'release' / 'lambda-bridge'


def fixture_path(name: str) -> Path:
    """A sample event by its path under tests/fixtures/ (e.g. 'aws__aws-lambda-go/sqs-event.json')."""
    path = REPO_ROOT / 'tests' / 'fixtures' / name
    if not path.is_file():
        raise FileNotFoundError(f'fixture {name} is not in {path.parent}')
    return path


def header_lookup(pairs: Iterable[tuple[str, str]], name: str) -> list[str]:
    """All values of header `name` (case-insensitive), in order."""
    lname = name.lower()
    return [v for k, v in pairs if k.lower() == lname]


def dict_get_ci(d: dict, name: str):
    """Case-insensitive lookup in a JSON header map; None when absent."""
    for k, v in (d or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def read_chunked(rfile, on_chunk: Optional[Callable[[bytes], None]] = None) -> tuple[bytes, list[tuple[str, str]]]:
    """Read an HTTP/1.1 chunked body from a file-like socket reader; returns (body, trailers). on_chunk is
    called with each chunk as soon as it has arrived."""
    parts = []
    while True:
        line = rfile.readline(65537)
        if not line:
            raise ConnectionError('EOF inside chunked body')
        size = int(line.split(b';', 1)[0].strip(), 16)
        if size == 0:
            break
        data = rfile.read(size)
        if len(data) != size:
            raise ConnectionError('EOF inside chunk')
        parts.append(data)
        if on_chunk is not None:
            on_chunk(data)
        if rfile.readline(3) not in (b'\r\n', b'\n'):
            raise ValueError('chunk not followed by CRLF')
    trailers = []
    while True:
        line = rfile.readline(65537)
        if line in (b'\r\n', b'\n', b''):
            break
        k, _, v = line.decode('latin-1').partition(':')
        trailers.append((k.strip(), v.strip()))
    return b''.join(parts), trailers


def read_handler_body(handler: http.server.BaseHTTPRequestHandler,
                      on_chunk: Optional[Callable[[bytes], None]] = None) -> tuple[bytes, list[tuple[str, str]], bool]:
    """Body of the request a BaseHTTPRequestHandler is serving: (body, trailers, was_chunked)."""
    te = handler.headers.get('Transfer-Encoding', '')
    if 'chunked' in te.lower():
        body, trailers = read_chunked(handler.rfile, on_chunk)
        return body, trailers, True
    n = int(handler.headers.get('Content-Length') or 0)
    body = handler.rfile.read(n) if n else b''
    return body, [], False


def open_invocation(port: int, path: str, event, timeout: float = 30) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """POST an event to a local invoke API and return (connection, response) with the body still unread, so a
    streamed reply can be read as it arrives. The caller closes the connection."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    conn.request('POST', path, body=json.dumps(event).encode(), headers={'Content-Type': 'application/json'})
    return conn, conn.getresponse()


def read_until(response: http.client.HTTPResponse, marker: bytes) -> bytes:
    """The streamed body read piece by piece until `marker` has arrived (only what has arrived, never more);
    AssertionError if the stream ends first."""
    seen = b''
    while marker not in seen:
        piece = response.read1(65536)
        if not piece:
            raise AssertionError(f'the stream ended before {marker!r} arrived; got {seen!r}')
        seen += piece
    return seen


class _QuietThreadingServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its live connections (so stop() can really cut them) and does not print
    the resets that killing a peer mid-request causes."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        self.live_connections: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        self.harness_errors: list[str] = []
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.live_lock:
            self.live_connections.add(request)
        # http.server writes a reply's head and body separately: with Nagle's algorithm the body then waits for the
        # peer's delayed ACK (40 ms), twice per invocation (the event, the 202), which is not what Lambda does.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.live_lock:
            self.live_connections.discard(request)
        super().shutdown_request(request)

    def cut_all_connections(self):
        with self.live_lock:
            conns = list(self.live_connections)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        import traceback
        self.harness_errors.append(traceback.format_exc())
        super().handle_error(request, client_address)


# ----------------------------------------------------------------------------------------------------------------
# Fake Lambda Runtime API

@dataclass
class Reply:
    status: int
    body: bytes = b''
    headers: list = field(default_factory=list)
    close: bool = False  # send Connection: close and close the socket afterwards


_DEFAULT_REASON_BODIES = {
    202: b'{"status":"OK"}',
    400: b'{"errorType":"InvalidRequestID","errorMessage":"Invalid request ID"}',
    403: b'{"errorType":"InvalidStateTransition","errorMessage":"State transition is not allowed"}',
    410: b'{"errorType":"InvocationGone","errorMessage":"Invocation timed out"}',
    413: b'{"errorType":"RequestEntityTooLarge","errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes)."}',
    500: b'{"errorType":"InternalServerError","errorMessage":"non-recoverable"}',
}


def runtime_reply(status: int, close: Optional[bool] = None) -> Reply:
    """The answer the real Runtime API gives with this status (413 closes the connection, as observed)."""
    body = _DEFAULT_REASON_BODIES.get(status, b'{}')
    if close is None:
        close = status == 413
    return Reply(status, body, [('Content-Type', 'application/json')], close)


@dataclass
class Posted:
    """One POST the bridge made to the fake Runtime API."""
    kind: str                 # 'response' | 'error' | 'init_error'
    request_id: Optional[str]
    status: int               # what the fake answered
    headers: list             # [(name, value)] in wire order
    body: bytes
    chunked: bool
    trailers: list
    at: float                 # time.monotonic() when recorded

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def header(self, name: str) -> Optional[str]:
        values = header_lookup(self.headers, name)
        return values[0] if values else None


@dataclass
class ExtensionCall:
    """One request the bridge made to the fake's Extensions API."""
    method: str
    path: str
    headers: list             # [(name, value)] in wire order
    body: bytes
    identifier: Optional[str]  # the Lambda-Extension-Identifier the fake handed out (register only)
    at: float                 # time.time() when received

    def header(self, name: str) -> Optional[str]:
        values = header_lookup(self.headers, name)
        return values[0] if values else None


@dataclass
class _Event:
    request_id: str
    body: bytes
    headers: list
    chunked: bool


class FakeRuntimeApi:
    """The Lambda Runtime API on 127.0.0.1:<port> (HTTP/1.1, keep-alive)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: collections.deque[_Event] = collections.deque()
        self._scripted: dict[tuple[str, str], collections.deque[Reply]] = {}
        self._known_ids: set[str] = set()
        self._closed = False
        self.next_failure: Optional[Reply] = None
        self.next_polls = 0            # /next requests received (including the one parked now)
        self.next_dropped = 0          # /next requests whose connection was closed without an answer
        self._drop_next = 0
        self.delivered: list[str] = []  # request ids handed out, in order
        self.next_times: list[float] = []  # time.time() at which each /next request arrived
        self.extension_calls: list[ExtensionCall] = []  # every Extensions API request, in order
        self.extension_parked = 0      # extension event/next requests being held open right now
        self.posts: list[Posted] = []
        self.streams_in_progress: dict[str, bytearray] = {}  # request id → chunked body bytes received so far
        self.requests: list[tuple[str, str, list]] = []  # (method, path, headers) of every request, in order
        self.default_chunked = False
        self.extra_context: Callable[[], str] = lambda: ''  # appended to timeout messages (e.g. the bridge's log)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._record_request(self)
                if self.path == RUNTIME_PREFIX + '/invocation/next':
                    fake._serve_next(self)
                elif self.path.startswith(EXTENSION_PREFIX + '/'):
                    fake._serve_extension(self)
                else:
                    fake._send(self, Reply(404, b'{"errorMessage":"not found"}', [('Content-Type', 'application/json')]))

            def do_POST(self):
                fake._record_request(self)
                if self.path.startswith(EXTENSION_PREFIX + '/'):
                    fake._serve_extension(self)
                else:
                    fake._serve_post(self)

        self._server = _QuietThreadingServer(('127.0.0.1', 0), Handler)
        self.port = self._server.server_address[1]
        self.address = f'127.0.0.1:{self.port}'
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name='fake-runtime-api', daemon=True)
        self._thread.start()

    # -- test-facing API ------------------------------------------------------------------------------------------

    def push(self, event, *, request_id: Optional[str] = None, deadline_ms: Optional[int] = None,
             deadline_in: Optional[float] = None, function_arn: str = DEFAULT_FUNCTION_ARN,
             trace_id: Optional[str] = DEFAULT_TRACE_ID, client_context: Optional[str] = None,
             cognito_identity: Optional[str] = None, tenant_id: Optional[str] = None,
             invocation_id: Optional[str] = None, extra_headers: Iterable[tuple[str, str]] = (),
             chunked: Optional[bool] = None, response_reply=None, error_reply=None,
             without_headers: Iterable[str] = ()) -> str:
        """Queue an event for /next; returns its request id.

        event: bytes, str, or a JSON-able object. deadline_in: seconds from now (default 10); deadline_ms may also
        be a string, sent verbatim (a malformed deadline). response_reply / error_reply: a status, a Reply, or a
        list of them, used (in order) for this id's /response or /error posts instead of 202. without_headers:
        names of /next headers to leave out (e.g. Lambda-Runtime-Deadline-Ms)."""
        if isinstance(event, (bytes, bytearray)):
            body = bytes(event)
        elif isinstance(event, str):
            body = event.encode()
        else:
            body = json.dumps(event).encode()
        request_id = request_id or str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000 + 1000 * (10 if deadline_in is None else deadline_in))
        headers = [
            ('Lambda-Runtime-Aws-Request-Id', request_id),
            ('Lambda-Runtime-Deadline-Ms', str(deadline_ms)),
            ('Lambda-Runtime-Invoked-Function-Arn', function_arn),
        ]
        if trace_id is not None:
            headers.append(('Lambda-Runtime-Trace-Id', trace_id))
        for name, value in (('Lambda-Runtime-Client-Context', client_context),
                            ('Lambda-Runtime-Cognito-Identity', cognito_identity),
                            ('Lambda-Runtime-Aws-Tenant-Id', tenant_id),
                            ('Lambda-Runtime-Invocation-Id', invocation_id)):
            if value is not None:
                headers.append((name, value))
        headers.extend(extra_headers)
        omitted = {n.lower() for n in without_headers}
        headers = [(k, v) for k, v in headers if k.lower() not in omitted]
        with self._cond:
            self._known_ids.add(request_id)
            for kind, script in (('response', response_reply), ('error', error_reply)):
                if script is None:
                    continue
                items = script if isinstance(script, list) else [script]
                self._scripted[(request_id, kind)] = collections.deque(
                    r if isinstance(r, Reply) else runtime_reply(r) for r in items)
            self._queue.append(_Event(request_id, body, headers,
                                      self.default_chunked if chunked is None else chunked))
            self._cond.notify_all()
        return request_id

    def fail_next(self, status: int = 500):
        """From now on answer every /next (including one parked right now) with `status`."""
        with self._cond:
            self.next_failure = runtime_reply(status)
            self._cond.notify_all()

    def drop_next(self, count: int = 1):
        """Close the connection of the next `count` /next requests as soon as they arrive, without answering (a
        Runtime API, or an extension proxying it, that went away mid-poll). Counted in next_dropped."""
        with self._cond:
            self._drop_next += count

    def wait_polling(self, count: int = 1, timeout: float = 10) -> None:
        """Wait until the bridge has made at least `count` /next requests (count=1: it finished initialising)."""
        self._wait(lambda: self.next_polls >= count, timeout, f'/next request number {count}')

    def wait_result(self, request_id: str, timeout: float = 10, kind: Optional[str] = None) -> Posted:
        """The first /response or /error post for request_id (or only of `kind`)."""
        def find():
            for p in self.posts:
                if p.request_id == request_id and (kind is None or p.kind == kind):
                    return p
            return None
        return self._wait(find, timeout, f'a {kind or "response or error"} post for {request_id}')

    def wait_streamed(self, request_id: str, predicate: Callable[[bytes], bool], timeout: float = 10) -> bytes:
        """The bytes of request_id's chunked /response received so far, once predicate(bytes) holds — while the
        post may still be in progress."""
        def find():
            got = self.streams_in_progress.get(request_id)
            return bytes(got) if got is not None and predicate(bytes(got)) else None
        return self._wait(find, timeout, f'streamed bytes for {request_id} matching the condition')

    def wait_init_error(self, timeout: float = 10) -> Posted:
        return self._wait(lambda: next((p for p in self.posts if p.kind == 'init_error'), None),
                          timeout, 'a POST to /runtime/init/error')

    def results_for(self, request_id: str) -> list[Posted]:
        with self._cond:
            return [p for p in self.posts if p.request_id == request_id]

    def extension_calls_to(self, path: str, method: Optional[str] = None) -> list['ExtensionCall']:
        """Extensions API requests to EXTENSION_PREFIX + path (e.g. '/register'), optionally of one method."""
        with self._cond:
            return [c for c in self.extension_calls
                    if c.path == EXTENSION_PREFIX + path and (method is None or c.method == method)]

    def wait_extension_parked(self, count: int = 1, timeout: float = 10) -> None:
        """Wait until `count` extension event/next requests are being held open."""
        self._wait(lambda: self.extension_parked >= count, timeout, f'{count} parked extension event/next')

    def summary(self) -> str:
        """What the fake saw, for failure messages."""
        with self._cond:
            lines = [f'{m} {p}' for m, p, _ in self.requests]
            lines += [f'posted {p.kind} {p.request_id} -> {p.status}: {p.body[:300]!r}' for p in self.posts]
        return 'fake runtime API saw:\n  ' + '\n  '.join(lines or ['(nothing)'])

    def close(self):
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.cut_all_connections()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- server side -----------------------------------------------------------------------------------------------

    def _wait(self, predicate, timeout, what):
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = end - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f'timed out after {timeout:g}s waiting for {what}\n'
                                         f'{self._summary_locked()}\n{self.extra_context()}')
                self._cond.wait(remaining)

    def _summary_locked(self):
        lines = [f'{m} {p}' for m, p, _ in self.requests]
        lines += [f'posted {p.kind} {p.request_id} -> {p.status}: {p.body[:300]!r}' for p in self.posts]
        return 'fake runtime API saw:\n  ' + '\n  '.join(lines or ['(nothing)'])

    def _record_request(self, handler):
        with self._cond:
            self.requests.append((handler.command, handler.path, list(handler.headers.items())))

    def _send(self, handler, reply: Reply, chunked: bool = False):
        handler.send_response(reply.status)
        for k, v in reply.headers:
            handler.send_header(k, v)
        if chunked:
            handler.send_header('Transfer-Encoding', 'chunked')
        else:
            handler.send_header('Content-Length', str(len(reply.body)))
        if reply.close:
            handler.send_header('Connection', 'close')
            handler.close_connection = True
        handler.end_headers()
        if chunked:
            # Several chunks of uneven size, as the RIE does for bodies over 2 KB.
            body, pos, sizes = reply.body, 0, [7, 1000, 2048]
            i = 0
            while pos < len(body):
                n = sizes[i % len(sizes)]
                piece = body[pos:pos + n]
                handler.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
                pos += n
                i += 1
            handler.wfile.write(b'0\r\n\r\n')
        else:
            handler.wfile.write(reply.body)
        handler.wfile.flush()

    def _serve_next(self, handler):
        with self._cond:
            self.next_polls += 1
            self.next_times.append(time.time())
            drop = self._drop_next > 0
            if drop:
                self._drop_next -= 1
                self.next_dropped += 1
            self._cond.notify_all()
        if drop:
            # No status line, no bytes: the server closes the socket when the handler returns.
            handler.close_connection = True
            return
        with self._cond:
            # The long poll: no timeout, exactly like Lambda (the bridge must not time it out either).
            while not self._queue and not self._closed and self.next_failure is None:
                self._cond.wait()
            if self._closed:
                handler.close_connection = True
                return
            if self.next_failure is not None:
                reply = self.next_failure
                event = None
            else:
                event = self._queue.popleft()
                self.delivered.append(event.request_id)
        if event is None:
            self._send(handler, reply)
            return
        self._send(handler, Reply(200, event.body, [('Content-Type', 'application/json')] + event.headers),
                   chunked=event.chunked)

    def _serve_extension(self, handler):
        """The Extensions API: register answers 200 with an identifier; event/next is held open until the fake
        closes (an extension registered for no events never gets one); init/error and exit/error answer 202."""
        body = read_handler_body(handler)[0] if handler.command == 'POST' else b''
        path = handler.path
        identifier = None
        if handler.command == 'POST' and path == EXTENSION_PREFIX + '/register':
            identifier = str(uuid.uuid4())
        call = ExtensionCall(handler.command, path, list(handler.headers.items()), body, identifier, time.time())
        with self._cond:
            self.extension_calls.append(call)
            self._cond.notify_all()
        json_type = [('Content-Type', 'application/json')]
        if identifier is not None:
            doc = {'functionName': 'lambda-bridge-test', 'functionVersion': '$LATEST', 'handler': 'app'}
            self._send(handler, Reply(200, json.dumps(doc).encode(),
                                      json_type + [('Lambda-Extension-Identifier', identifier)]))
        elif handler.command == 'GET' and path == EXTENSION_PREFIX + '/event/next':
            with self._cond:
                self.extension_parked += 1
                self._cond.notify_all()
                while not self._closed:
                    self._cond.wait()
                self.extension_parked -= 1
            handler.close_connection = True
        elif handler.command == 'POST' and path in (EXTENSION_PREFIX + '/init/error',
                                                   EXTENSION_PREFIX + '/exit/error'):
            self._send(handler, runtime_reply(202))
        else:
            self._send(handler, Reply(404, b'{"errorMessage":"not found"}', json_type))

    _POST_PATH = re.compile(r'^' + re.escape(RUNTIME_PREFIX) + r'/invocation/([^/]+)/(response|error)$')

    def _serve_post(self, handler):
        m = self._POST_PATH.match(handler.path)
        progress = bytearray()
        if m:
            with self._cond:
                self.streams_in_progress[m.group(1)] = progress

        def on_chunk(data: bytes):
            with self._cond:
                progress.extend(data)
                self._cond.notify_all()
        body, trailers, chunked = read_handler_body(handler, on_chunk)
        if m:
            request_id, kind = m.group(1), m.group(2)
        elif handler.path == RUNTIME_PREFIX + '/init/error':
            request_id, kind = None, 'init_error'
        else:
            self._send(handler, Reply(404, b'{"errorMessage":"unknown path"}', [('Content-Type', 'application/json')]))
            return
        with self._cond:
            script = self._scripted.get((request_id, kind))
            if script:
                reply = script.popleft()
            elif request_id is not None and request_id not in self._known_ids:
                reply = runtime_reply(400)
            else:
                reply = runtime_reply(202)
            self.posts.append(Posted(kind, request_id, reply.status, list(handler.headers.items()), body,
                                     chunked, trailers, time.monotonic()))
            self._cond.notify_all()
        self._send(handler, reply)


# ----------------------------------------------------------------------------------------------------------------
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


class Backend:
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

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


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


class RawServer:
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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


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


# ----------------------------------------------------------------------------------------------------------------
# Child processes: the bridge, and backends such as uvicorn or node

# Variables from the runner's environment that would change the bridge's behaviour under test.
_SCRUBBED_PREFIXES = ('AWS_', 'LAMBDA_BRIDGE', 'LWA_')
_SCRUBBED_NAMES = {'PORT', 'HOST', 'READINESS_CHECK_PORT', 'READINESS_CHECK_PATH', 'REMOVE_BASE_PATH',
                   '_X_AMZN_TRACE_ID', '_HANDLER', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR'}


def scrubbed_env(overrides: Optional[dict] = None) -> dict:
    """The runner's environment minus anything Lambda- or adapter-related, plus overrides (None removes)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED_NAMES}
    for k, v in (overrides or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


class ManagedProcess:
    """A child process in its own process group, stdout and stderr captured to files, killed on stop()."""

    def __init__(self, args: list, *, env: Optional[dict] = None, cwd=None, name: str = 'child',
                 stdout_pipe: bool = False):
        self.name = name
        self._dir = tempfile.TemporaryDirectory(prefix=f'lambda-bridge-test-{name}-')
        self.stderr_path = Path(self._dir.name) / 'stderr'
        self.stdout_path = Path(self._dir.name) / 'stdout'
        self._stderr = open(self.stderr_path, 'wb')
        self._stdout = None if stdout_pipe else open(self.stdout_path, 'wb')
        self.proc = subprocess.Popen([str(a) for a in args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if stdout_pipe else self._stdout,
                                     stderr=self._stderr, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def read_stdout_line(self, timeout: float) -> str:
        """Next line of stdout (only with stdout_pipe=True), within timeout."""
        end = time.monotonic() + timeout
        line = b''
        fd = self.proc.stdout.fileno()
        while not line.endswith(b'\n'):
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f'{self.name} printed no line within {timeout:g}s\n{self.tail()}')
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                ch = os.read(fd, 1)
                if not ch:
                    raise AssertionError(f'{self.name} closed stdout (exit {self.proc.poll()})\n{self.tail()}')
                line += ch
        return line.decode().strip()

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def stdout_text(self) -> str:
        try:
            return self.stdout_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def output(self) -> str:
        return self.stderr_text() + self.stdout_text()

    def tail(self, lines: int = 40) -> str:
        text = self.output().splitlines()[-lines:]
        return f'--- last {len(text)} lines of {self.name} output ---\n' + '\n'.join(text)

    def wait_output(self, pattern: str, timeout: float = 10) -> re.Match:
        """Wait until stderr or stdout matches the regex `pattern`."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.output()), timeout, f'{self.name} to print /{pattern}/')

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f'{self.name} still running after {timeout:g}s\n{self.tail()}') from None

    def signal(self, sig: int):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace: float = 3):
        """SIGTERM the process group, SIGKILL it if it has not exited after `grace` seconds."""
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(5)
        for f in (self._stderr, self._stdout, self.proc.stdout):
            if f:
                f.close()

    def cleanup(self):
        self.stop()
        self._dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


class Bridge(ManagedProcess):
    """The real lambda-bridge binary. `env` is applied over a scrubbed copy of the runner's environment."""

    def __init__(self, env: dict, *, binary: Optional[Path] = None, args: Iterable[str] = ()):
        binary = Path(binary) if binary else bridge_binary()
        if not binary.is_file():
            raise FileNotFoundError(f'lambda-bridge binary not found at {binary}: build it with '
                                    f'`cmake --preset release && cmake --build --preset release`, '
                                    f'or set LAMBDA_BRIDGE_BIN')
        self.env = scrubbed_env(env)
        super().__init__([binary, *args], env=self.env, name='lambda-bridge')


def bridge_env(fake: Optional[FakeRuntimeApi], backend_port: Optional[int], **extra) -> dict:
    env = {'AWS_LAMBDA_LOG_LEVEL': 'DEBUG'}
    if fake is not None:
        env['AWS_LAMBDA_RUNTIME_API'] = fake.address
    if backend_port is not None:
        env['AWS_LWA_PORT'] = str(backend_port)
    env.update(extra)
    return env


# ----------------------------------------------------------------------------------------------------------------
# unittest glue

class BridgeTestCase(unittest.TestCase):
    """Starts pieces with cleanups registered, and adds what they saw to failure messages."""

    def setUp(self):
        self._fakes: list[FakeRuntimeApi] = []
        self._children: list[ManagedProcess] = []

    def start_fake(self) -> FakeRuntimeApi:
        fake = FakeRuntimeApi()
        fake.extra_context = self._children_output
        self.addCleanup(fake.close)
        self._fakes.append(fake)
        return fake

    def start_backend(self, port: int = 0, **kwargs) -> Backend:
        backend = Backend(port, **kwargs)
        backend.extra_context = self.context
        self.addCleanup(backend.stop)
        return backend

    def start_process(self, args, **kwargs) -> ManagedProcess:
        child = ManagedProcess(args, **kwargs)
        self.addCleanup(child.cleanup)
        self._children.append(child)
        return child

    def start_bridge(self, fake: Optional[FakeRuntimeApi], backend_port: Optional[int], *, wait_ready: bool = True,
                     ready_timeout: float = 10, args: Iterable[str] = (), **env) -> Bridge:
        """Start the bridge against `fake` and a backend port; by default wait until it polls /next (ready).
        args: the bridge's command line (e.g. ['--', app, ...] to have it start and supervise an app)."""
        bridge = Bridge(bridge_env(fake, backend_port, **env), args=args)
        self.addCleanup(bridge.cleanup)
        self._children.append(bridge)
        if wait_ready and fake is not None:
            try:
                fake.wait_polling(1, ready_timeout)
            except AssertionError as e:
                raise AssertionError(f'{e}\n{bridge.tail()}') from None
        return bridge

    def _children_output(self) -> str:
        return '\n'.join(c.tail() for c in self._children)

    def context(self) -> str:
        """Everything the peers saw and the children printed: pass as msg= to assertions."""
        parts = [f.summary() for f in self._fakes] + [c.tail() for c in self._children]
        return '\n' + '\n'.join(parts)

    def invoke(self, fake: FakeRuntimeApi, event, timeout: float = 10, **push_kwargs) -> Posted:
        """Push one event and return the bridge's post for it."""
        rid = fake.push(event, **push_kwargs)
        return fake.wait_result(rid, timeout)

    def assert_response(self, posted: Posted) -> dict:
        """posted is a /response accepted by the fake; returns its JSON."""
        self.assertEqual(posted.kind, 'response', f'expected a /response post, got {posted.kind}: '
                                                  f'{posted.body[:500]!r}{self.context()}')
        self.assertIsNotNone(posted.json, f'result is not JSON: {posted.body[:500]!r}')
        return posted.json

    def assert_error(self, posted: Posted, error_type: str) -> dict:
        """posted is an /error post of error_type with the documented headers and body; returns the body JSON."""
        self.assertEqual(posted.kind, 'error', f'expected an /error post ({error_type}), got {posted.kind}: '
                                               f'{posted.body[:500]!r}{self.context()}')
        doc = posted.json
        self.assertIsInstance(doc, dict, f'error body is not a JSON object: {posted.body[:500]!r}')
        self.assertEqual(doc.get('errorType'), error_type, f'error body: {doc}{self.context()}')
        self.assertIsInstance(doc.get('errorMessage'), str, doc)
        self.assertTrue(doc['errorMessage'], 'empty errorMessage')
        self.assertEqual(doc.get('stackTrace'), [], doc)
        self.assertEqual(posted.header('Lambda-Runtime-Function-Error-Type'), error_type, posted.headers)
        self.assertEqual((posted.header('Content-Type') or '').split(';')[0].strip(),
                         'application/vnd.aws.lambda.error+json', posted.headers)
        return doc


# ----------------------------------------------------------------------------------------------------------------
# Apps the bridge starts and supervises itself (apps/web_app.py), and the processes around them

SYSTEM_PYTHON = '/usr/bin/python3'
WEB_APP = Path(__file__).resolve().parent / 'apps' / 'web_app.py'


def memory_kb(pid: int, field: str) -> int:
    """VmRSS, VmHWM, … of a process, in kB."""
    with open(f'/proc/{pid}/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ':'))


# The release binary is the static one; the debug preset's sanitizers change what memory figures mean.
SHIPPED_BUILD = os.environ.get('LAMBDA_BRIDGE_STATIC', '1') not in ('0', '', 'false')


def proc_stat(pid: int) -> Optional[tuple[str, int]]:
    """(state, ppid) of a process from /proc/<pid>/stat, or None when there is no such process."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(')') + 2:].split()  # the command name may contain spaces and parentheses
    return fields[0], int(fields[1])


def process_alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != 'Z'


def zombie_children(ppid: int) -> list[int]:
    """Pids of the zombies whose parent is ppid."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st and st[0] == 'Z' and st[1] == ppid:
                found.append(int(entry))
    return found


class SupervisedAppTestCase(BridgeTestCase):
    """For tests where the bridge starts apps/web_app.py itself. Every app started through web_app_args() writes
    its pid to self.app_pid_file, so an app the bridge failed to stop is still killed on cleanup."""

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory(prefix='lambda-bridge-app-')
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
        self.app_pid_file = self.tmp / 'app.pid'
        self.addCleanup(self._kill_leftover_app)  # cleanups run LIFO: this one after the bridge's

    def _kill_leftover_app(self):
        self.kill_leftover(self.app_pid_file)

    def kill_leftover(self, pid_file: Path):
        """SIGKILLs the process of apps/web_app.py whose pid is in pid_file, if it still runs."""
        pid = self.read_int(pid_file)
        if pid is None or not process_alive(pid):
            return
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                if WEB_APP.name.encode() not in f.read():
                    return  # the pid now belongs to a process that is not ours
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

    @staticmethod
    def read_int(path: Path) -> Optional[int]:
        try:
            return int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def app_pid(self, timeout: float = 5) -> int:
        """The pid the app wrote to self.app_pid_file (waits for it)."""
        return wait_until(lambda: self.read_int(self.app_pid_file), timeout, f'the app to write {self.app_pid_file}')

    def web_app_args(self, port: int, *flags) -> list[str]:
        """The bridge's command line to run apps/web_app.py on `port` with `flags` (see the app's docstring)."""
        return ['--', SYSTEM_PYTHON, str(WEB_APP), '--port', str(port), '--pid-file', str(self.app_pid_file),
                *map(str, flags)]
