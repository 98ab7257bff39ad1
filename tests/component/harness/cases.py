"""unittest glue, and apps the bridge starts and supervises itself (apps/web_app.py)."""

from __future__ import annotations

import re
import time
import os
import signal
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Iterable, Optional

from .util import *  # noqa: F401,F403
from .runtime_api import *  # noqa: F401,F403
from .backends import *  # noqa: F401,F403
from .processes import *  # noqa: F401,F403


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
WEB_APP = Path(__file__).resolve().parents[1] / 'apps' / 'web_app.py'


def memory_kb(pid: int, field: str) -> int:
    """VmRSS, VmHWM, … of a process, in kB."""
    with open(f'/proc/{pid}/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ':'))


# The release binary is the static one; the debug preset's sanitizers change what memory figures mean.
SHIPPED_BUILD = os.environ.get('LAMBDA_BRIDGE_STATIC', '1') not in ('0', '', 'false')


def assert_memory_below(test: unittest.TestCase, pid: int, limit_kb: int, what: str, field: str = 'VmHWM'):
    """Memory of the shipped (static release) binary stays under `limit_kb` (VmHWM: the kernel's high-water mark,
    transient peaks included). Printed for the log; skipped under the sanitizers, whose allocators keep freed memory
    mapped and add shadow memory that is not the bridge's, and under qemu, whose own memory is the process's too."""
    kb = memory_kb(pid, field)
    print(f'\n{what}: {field} {kb / 1024:.1f} MB', file=sys.stderr)
    if not SHIPPED_BUILD:
        test.skipTest('sanitizer allocators keep freed memory mapped; the bound holds for the release binary')
    skip_if_emulated(test, "the process's memory is qemu's (its translated code and its own heap) as well as the "
                           'bridge\'s; the bound is checked on the native release binary')
    test.assertLess(kb, limit_kb, f'{field} {kb} kB: {what}')


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


# Raw-app tests: events that must be answered promptly, and the app may be a RawBackend or absent.

# A reply that waited for a body that never comes would end as Runtime.BackendTimeout near the deadline; events in
# these tests get DEADLINE_IN seconds, and a prompt reply must arrive well within PROMPT.
DEADLINE_IN = 4.0
PROMPT = 1.5

OK_REPLY = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'
TOKEN_HEADER_LINE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$")


def rest_event(path, method='GET', **extra):
    event = {"httpMethod": method, "path": path, "requestContext": {}}
    event.update(extra)
    return event


def result_header(result: dict, name: str):
    """A header of a REST result, from multiValueHeaders (a list) or headers (a string); None when absent."""
    return dict_get_ci(result.get('multiValueHeaders'), name) or dict_get_ci(result.get('headers'), name)


def all_result_header_names(result: dict) -> set:
    return {k.lower() for k in (result.get('multiValueHeaders') or {})} | {k.lower() for k in
                                                                             (result.get('headers') or {})}


class RawAppTestCase(BridgeTestCase):
    """Helpers for tests against a RawBackend or no app at all, with events that get DEADLINE_IN seconds."""

    def start_raw_backend(self, routes=None) -> RawBackend:
        raw = RawBackend(routes=routes)
        self.addCleanup(raw.stop)
        return raw

    def refused_port(self) -> int:
        """A port on 127.0.0.1 where nothing listens (and nothing can start listening during the test)."""
        s = refusing_socket()
        self.addCleanup(s.close)
        return s.getsockname()[1]

    def invoke_timed(self, fake, event, **push_kwargs):
        """(post, seconds from push to post)."""
        started = time.monotonic()
        rid = fake.push(event, **push_kwargs)
        posted = fake.wait_result(rid, timeout=DEADLINE_IN + 5)
        return posted, posted.at - started

    def assert_next_event_is_served(self, fake, bridge, raw=None):
        self.assertTrue(bridge.running(), bridge.tail())
        result = self.assert_response(self.invoke(fake, rest_event('/after')))
        self.assertEqual(result.get('statusCode'), 200, result)
        if raw is not None:
            self.assertEqual(result.get('body'), 'ok', result)
            self.assertTrue([r for r in raw.requests if r.startswith(b'GET /after ')], raw.requests)


