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

The package: util (small utilities), runtime_api (FakeRuntimeApi), backends (Backend, RawServer, RawBackend),
processes (ManagedProcess, Bridge), cases (BridgeTestCase, SupervisedAppTestCase), emulator (the local emulation
mode's invoke API and gateway clients, EmulatorTestCase). Tests import everything from `harness` itself.
"""

from .util import *  # noqa: F401,F403
from .runtime_api import *  # noqa: F401,F403
from .backends import *  # noqa: F401,F403
from .processes import *  # noqa: F401,F403
from .cases import *  # noqa: F401,F403
from .emulator import *  # noqa: F401,F403
