"""Child processes: the bridge and backends such as uvicorn or node, output captured, always killed on cleanup."""

from __future__ import annotations

import http.client
import os
import re
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable, Optional

from .util import *  # noqa: F401,F403
from .runtime_api import *  # noqa: F401,F403
from .backends import *  # noqa: F401,F403


# Child processes: the bridge, and backends such as uvicorn or node

# Variables from the runner's environment that would change the bridge's behaviour under test.
_SCRUBBED_PREFIXES = ('AWS_', 'LAMBDA_BRIDGE', 'LWA_')
_SCRUBBED_NAMES = {'PORT', 'HOST', 'READINESS_CHECK_PORT', 'READINESS_CHECK_PATH', 'READINESS_CHECK_PROTOCOL',
                   'REMOVE_BASE_PATH', 'ASYNC_INIT', '_X_AMZN_TRACE_ID', '_HANDLER', 'LAMBDA_TASK_ROOT',
                   'LAMBDA_RUNTIME_DIR'}


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
        super().__init__([*bridge_command(binary), *args], env=self.env, name='lambda-bridge')


def bridge_env(fake: Optional[FakeRuntimeApi], backend_port: Optional[int], **extra) -> dict:
    env = {'AWS_LAMBDA_LOG_LEVEL': 'DEBUG'}
    if fake is not None:
        env['AWS_LAMBDA_RUNTIME_API'] = fake.address
    if backend_port is not None:
        env['AWS_LWA_PORT'] = str(backend_port)
    env.update(extra)
    return env
