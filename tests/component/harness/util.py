"""Constants and small utilities: waiting, ports, fixtures, header lookups, reading HTTP bodies."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Optional


REPO_ROOT = Path(__file__).resolve().parents[3]
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


def json_lines(text: str) -> list:
    """Every line of a JSON log (AWS_LAMBDA_LOG_FORMAT=JSON), parsed; AssertionError naming the first that is not
    JSON."""
    docs = []
    for line in text.splitlines():
        try:
            docs.append(json.loads(line))
        except ValueError:
            raise AssertionError(f'a log line is not JSON: {line[:300]!r}') from None
    return docs


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


# The arm64 preset's tests run the aarch64 binary on this machine under qemu-user: CTest sets LAMBDA_BRIDGE_EMULATOR
# to the command that runs it (tests/CMakeLists.txt), and LAMBDA_BRIDGE_BIN stays the real binary, so that what is
# checked about the file (static, size, the layer zip) is checked on the shipped one.
BRIDGE_EMULATOR = os.environ.get('LAMBDA_BRIDGE_EMULATOR', '').split()


def bridge_command(binary=None) -> list:
    """How to start the bridge (`binary`, else bridge_binary()): the binary itself, or the emulator and the binary."""
    return [*BRIDGE_EMULATOR, str(binary or bridge_binary())]


def relaxed_under_emulator(test, why: str) -> bool:
    """True when the bridge runs under an emulator, after printing `why` a check of `test` is weaker there: for a
    test whose point the emulator leaves intact but one of whose checks it cannot pass (scripts/test lists these)."""
    if BRIDGE_EMULATOR:
        print(f'\n{test.id()}: under {Path(BRIDGE_EMULATOR[0]).name}, relaxed: {why}', file=sys.stderr)
    return bool(BRIDGE_EMULATOR)


def skip_if_emulated(test, why: str):
    """Skips `test` when the bridge runs under an emulator, saying why: for checks of what the emulator changes
    (its own memory, the signals it reserves, process features qemu-user does not pass through), which the native
    builds check."""
    if BRIDGE_EMULATOR:
        # Printed as well: unittest names a skip's reason only when verbose, and scripts/test lists these lines.
        reason = f'under {Path(BRIDGE_EMULATOR[0]).name}, skipped: {why}'
        print(f'\n{test.id()}: {reason}', file=sys.stderr)
        test.skipTest(reason)


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


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive) request handler that logs nothing: the peers' handlers derive from it."""
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass


class StopOnExit:
    """`with peer:` stops the peer (its stop()) however the block ends."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
