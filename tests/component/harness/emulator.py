"""The local emulation mode (no AWS_LAMBDA_RUNTIME_API): clients of its Lambda invoke API and gateway, and
EmulatorTestCase, which starts the bridge as its own Lambda with apps/web_app.py (or another app) behind it.

Listeners bind 127.0.0.1 port 0; the actual ports are read from the bridge's log lines
`emulator: invoke API listening on <host>:<port>` and `emulator: gateway (<format>) listening on <host>:<port>`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
from dataclasses import dataclass
from typing import Optional

from .util import free_port, wait_until
from .processes import Bridge
from .cases import SupervisedAppTestCase, proc_stat, process_alive

INVOKE_PATH = '/2015-03-31/functions/function/invocations'
INVOKE_LINE = re.compile(r'emulator: invoke API listening on (\S+):(\d+)')
GATEWAY_LINE = re.compile(r'emulator: gateway \(([a-z-]+)\) listening on (\S+):(\d+)')


@dataclass
class HttpReply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)

    def __str__(self):
        return f'HTTP {self.status} {dict(self.headers.items())} {self.body[:600]!r}'


def http_request(port: int, method: str, target: str, body: Optional[bytes] = None, headers=None,
                 timeout: float = 20) -> HttpReply:
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=dict(headers or {}))
        r = conn.getresponse()
        return HttpReply(r.status, r.msg, r.read())
    finally:
        conn.close()


def invoke(port: int, event, headers=None, timeout: float = 20) -> HttpReply:
    """POST an event to the emulator's Lambda invoke API."""
    body = event if isinstance(event, (bytes, bytearray)) else json.dumps(event).encode()
    return http_request(port, 'POST', INVOKE_PATH, bytes(body), {'Content-Type': 'application/json', **(headers or {})},
                        timeout)


def rest_get(path, query=None):
    event = {"httpMethod": "GET", "path": path, "requestContext": {}}
    if query:
        event["queryStringParameters"] = query
    return event


def header_values(echoed: dict, name: str) -> list:
    """All values of header `name` the app saw (from web_app.py's /echo JSON)."""
    return [v for k, v in echoed['headers'] if k.lower() == name.lower()]


def child_pids(ppid: int) -> list:
    pids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st and st[1] == ppid:
                pids.append(int(entry))
    return pids


@dataclass
class Emulated:
    bridge: Bridge
    invoke_port: int
    gateway_port: Optional[int]
    app_port: int


class EmulatorTestCase(SupervisedAppTestCase):

    def start_emulator(self, *flags, gateway: str = 'off', app_args=None, app_port: Optional[int] = None,
                       startup_timeout: float = 10, **env) -> Emulated:
        """Start the bridge in emulation mode (invoke API on 127.0.0.1 port 0; gateway on `gateway`: 'off' or a
        port) with web_app.py `flags` as its app (or app_args), and read the listeners' ports from its log."""
        app_port = app_port or free_port()
        args = self.web_app_args(app_port, *flags) if app_args is None else app_args
        env = {'LAMBDA_BRIDGE_EMULATOR_HOST': '127.0.0.1', 'LAMBDA_BRIDGE_EMULATOR_PORT': '0',
               'LAMBDA_BRIDGE_GATEWAY_PORT': gateway, **env}
        # Any app the bridge leaves behind (it should leave none) is killed after the bridge's own cleanup.
        leftovers = []
        self.addCleanup(lambda: [os.kill(p, signal.SIGKILL) for p in leftovers if process_alive(p)])
        bridge = self.start_bridge(None, app_port, args=args, **env)
        self.addCleanup(lambda: leftovers.extend(child_pids(bridge.pid)))
        m = self.logged(bridge, INVOKE_LINE, startup_timeout)
        self.assertEqual(m.group(1), '127.0.0.1', m.group(0))
        gateway_port = None
        if gateway != 'off':
            g = self.logged(bridge, GATEWAY_LINE, startup_timeout)
            self.assertEqual(g.group(2), '127.0.0.1', g.group(0))
            gateway_port = int(g.group(3))
        return Emulated(bridge, int(m.group(2)), gateway_port, app_port)

    def logged(self, process, pattern: re.Pattern, timeout: float) -> re.Match:
        """Wait for `pattern` in the process's output; fail at once if the process exits first."""
        found = wait_until(lambda: pattern.search(process.output()) or (not process.running() and 'exited'),
                           timeout, f'/{pattern.pattern}/ in the output of {process.name}\n{process.tail()}')
        if found == 'exited':
            found = pattern.search(process.output())
            if not found:
                self.fail(f'{process.name} exited ({process.proc.returncode}) before logging '
                          f'/{pattern.pattern}/\n{process.tail()}')
        return found

    def assert_function_error(self, reply: HttpReply, *error_types: str) -> dict:
        """reply is a function error as the Invoke API gives it (200 + X-Amz-Function-Error: Unhandled + the error
        JSON) of one of error_types; returns the JSON."""
        self.assertEqual(reply.status, 200, f'{reply}{self.context()}')
        self.assertEqual(reply.header('X-Amz-Function-Error'), 'Unhandled', f'{reply}{self.context()}')
        doc = reply.json()
        self.assertIn(doc.get('errorType'), error_types, f'{reply}{self.context()}')
        self.assertIsInstance(doc.get('errorMessage'), str, doc)
        self.assertTrue(doc['errorMessage'], doc)
        return doc

    def assert_result(self, reply: HttpReply) -> dict:
        """reply is a successful invocation; returns the result JSON."""
        self.assertEqual(reply.status, 200, f'{reply}{self.context()}')
        self.assertIsNone(reply.header('X-Amz-Function-Error'), f'{reply}{self.context()}')
        return reply.json()
