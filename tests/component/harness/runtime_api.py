"""The fake Lambda Runtime API (with its Extensions API): queued events, long-polled /next, recorded posts."""

from __future__ import annotations

import collections
import http.client
import http.server
import json
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from .util import *  # noqa: F401,F403


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


class FakeRuntimeApi(StopOnExit):
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
        self.chunk_delay = 0.0  # seconds slept after each chunk of a streamed post: a Runtime API draining slowly
        self.extra_context: Callable[[], str] = lambda: ''  # appended to timeout messages (e.g. the bridge's log)
        fake = self

        class Handler(QuietHandler):
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

    def stop(self):
        self.close()

    def close(self):
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.cut_all_connections()
        self._server.server_close()


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
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
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
