#!/usr/bin/python3
"""lambda-bridge as a Lambda external extension (docs/extension-mode.md), against lambda-bridge's own emulator run
as a separate process — the layer deployment reproduced on loopback:

    process A: lambda-bridge, LAMBDA_BRIDGE_EMULATOR_ONLY=true   invoke API + emulated Runtime/Extensions API
    the app:   examples/layer/bootstrap (the layer's AWS_LAMBDA_EXEC_WRAPPER) starting apps/web_app.py via _HANDLER
    process B: lambda-bridge run as <tmp>/opt/extensions/lambda-bridge with LAMBDA_BRIDGE_EXTENSION_MODE=true

Also the emulator's Extensions API on its own (registrations, 400/403, INVOKE and SHUTDOWN events), the refusals
of extension mode (an app command, a refused registration), and the layer zip that examples/layer/build.sh makes.
Ports are 0 wherever the process can report its own (read from A's log lines).

Run: /usr/bin/python3 tests/component/test_extension_mode.py [-v] [TestClass.test_name]
"""

import http.client
import http.server
import json
import os
import platform
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zipfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    BRIDGE_EMULATOR, EXTENSION_PREFIX, INVOKE_LINE, REPO_ROOT, SYSTEM_PYTHON, WEB_APP, Bridge, BridgeTestCase,
    ManagedProcess, bridge_binary, bridge_env, child_pids, free_port, http_request, invoke, proc_stat, rest_get,
    scrubbed_env, wait_until,
)

LAYER_DIR = REPO_ROOT / 'examples' / 'layer'
RUNTIME_API_LINE = re.compile(r'AWS_LAMBDA_RUNTIME_API=(127\.0\.0\.1):(\d+)')
REGISTERED_LINE = re.compile(r'emulator: extension (\S+) registered for (\S+) \(([0-9a-f-]+)\)')


class ExtensionModeTestCase(BridgeTestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory(prefix='lambda-bridge-ext-')
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
        # Lambda runs an extension as /opt/extensions/<name>; the real /opt/extensions is not ours to use.
        self.extension_path = self.tmp / 'opt' / 'extensions' / 'lambda-bridge'
        self.extension_path.parent.mkdir(parents=True)
        self.extension_path.symlink_to(bridge_binary().resolve())

    def logged(self, process, pattern: re.Pattern, timeout: float = 10) -> re.Match:
        """Wait for `pattern` in the process's output; fail at once if the process exits first."""
        found = wait_until(lambda: pattern.search(process.output()) or (not process.running() and 'exited'),
                           timeout, f'{process.name} to log /{pattern.pattern}/')
        if found == 'exited':
            self.fail(f'{process.name} exited ({process.proc.returncode}) before logging /{pattern.pattern}/\n'
                      f'{process.tail()}')
        return found

    def start_emulator_only(self, **env):
        """Process A: the emulator alone, invoke API and Runtime API on free ports. Returns (A, invoke port,
        Runtime API address)."""
        a = Bridge(scrubbed_env({'AWS_LAMBDA_LOG_LEVEL': 'DEBUG', 'LAMBDA_BRIDGE_EMULATOR_ONLY': 'true',
                                 'LAMBDA_BRIDGE_EMULATOR_HOST': '127.0.0.1', 'LAMBDA_BRIDGE_EMULATOR_PORT': '0',
                                 'LAMBDA_BRIDGE_RUNTIME_API_PORT': '0', 'LAMBDA_BRIDGE_GATEWAY_PORT': 'off', **env}))
        a.name = 'emulator (A)'
        self.addCleanup(a.cleanup)
        self._children.append(a)
        invoke_port = int(self.logged(a, INVOKE_LINE).group(2))
        m = self.logged(a, RUNTIME_API_LINE)
        return a, invoke_port, f'{m.group(1)}:{m.group(2)}'

    def start_extension(self, runtime_api: str, app_port: int, *, args=(), **env) -> Bridge:
        """Process B: the real binary as the external extension /opt/extensions/lambda-bridge."""
        b = Bridge(bridge_env(None, app_port, AWS_LAMBDA_RUNTIME_API=runtime_api,
                              LAMBDA_BRIDGE_EXTENSION_MODE='true', **env),
                   binary=self.extension_path, args=args)
        b.name = 'extension (B)'
        self.addCleanup(b.cleanup)
        self._children.append(b)
        return b

    def start_app_as_runtime(self, port: int) -> ManagedProcess:
        """The function's runtime process as Lambda starts it with the layer: the exec wrapper, given the managed
        runtime's command (which it must not run), starts the handler run.sh from LAMBDA_TASK_ROOT."""
        task = self.tmp / 'task'
        task.mkdir(exist_ok=True)
        run_sh = task / 'run.sh'
        run_sh.write_text(f'#!/bin/sh\nexec {SYSTEM_PYTHON} {WEB_APP} --port "$PORT"\n')
        run_sh.chmod(0o755)
        env = scrubbed_env({'_HANDLER': 'run.sh', 'LAMBDA_TASK_ROOT': task, 'PORT': port})
        return self.start_process([LAYER_DIR / 'bootstrap', '/var/runtime/bootstrap-that-does-not-exist'],
                                  env=env, name='app (runtime)')


class ExtensionModeAgainstEmulator(ExtensionModeTestCase):

    def test_extension_registers_serves_invocations_and_exits_on_shutdown(self):
        a, invoke_port, runtime_api = self.start_emulator_only()
        app_port = free_port()
        b = self.start_extension(runtime_api, app_port)
        registered = self.logged(a, REGISTERED_LINE)
        self.assertEqual((registered.group(1), registered.group(2)), ('lambda-bridge', 'SHUTDOWN'), self.context())
        app = self.start_app_as_runtime(app_port)

        reply = invoke(invoke_port, rest_get('/echo', {'q': '1'}), timeout=15)
        self.assertEqual(reply.status, 200, f'{reply}{self.context()}')
        result = reply.json()
        self.assertEqual(result['statusCode'], 201, result)
        echoed = json.loads(result['body'])
        self.assertEqual((echoed['method'], echoed['target']), ('GET', '/echo?q=1'), echoed)

        # The app is the runtime's process, not the extension's child.
        self.assertEqual(child_pids(b.pid), [], self.context())
        self.assertNotIn('started the app', b.output())

        a.signal(signal.SIGTERM)
        sent = time.monotonic()
        self.assertEqual(b.wait_exit(5), 0, self.context())
        took = time.monotonic() - sent
        self.assertLess(took, 1.5, f'the extension took {took:.2f}s to exit after SHUTDOWN{self.context()}')
        self.assertRegex(b.output(), r'received SHUTDOWN \(spindown\)')
        self.assertEqual(a.wait_exit(5), 0, self.context())
        self.assertTrue(app.running(), f'the extension must not stop the app{self.context()}')

    def test_invocation_in_flight_at_shutdown_is_answered_before_the_extension_exits(self):
        a, invoke_port, runtime_api = self.start_emulator_only()
        app_port = free_port()
        b = self.start_extension(runtime_api, app_port)
        app = self.start_app_as_runtime(app_port)
        self.logged(b, re.compile(r'app ready'))
        replies = []
        caller = threading.Thread(target=lambda: replies.append(invoke(invoke_port, rest_get('/slow', {'s': '0.5'}))))
        caller.start()
        self.addCleanup(caller.join, 20)
        app.wait_output(r'app: slow request started')

        a.signal(signal.SIGTERM)
        self.assertEqual(b.wait_exit(5), 0, self.context())
        caller.join(10)
        self.assertEqual(len(replies), 1, self.context())
        self.assertEqual(replies[0].status, 200, f'{replies[0]}{self.context()}')
        self.assertEqual(replies[0].json()['statusCode'], 200, replies[0])
        self.assertEqual(a.wait_exit(5), 0, self.context())


class ExtensionModeRefusals(ExtensionModeTestCase):

    def test_app_command_in_extension_mode_is_a_configuration_error(self):
        fake = self.start_fake()
        b = self.start_extension(fake.address, free_port(), args=['--', SYSTEM_PYTHON, WEB_APP])
        self.assertEqual(b.wait_exit(10), 2, self.context())
        self.assertRegex(b.output(), r"extension 'lambda-bridge'.*given an app command")
        self.assertEqual(fake.next_polls, 0, self.context())
        # Reported as the extension's init error, so Lambda names it.
        errors = fake.extension_calls_to('/init/error', 'POST')
        self.assertEqual(len(errors), 1, self.context())
        self.assertEqual(errors[0].header('Lambda-Extension-Function-Error-Type'), 'Extension.InvalidConfiguration')
        self.assertIn('app command', json.loads(errors[0].body)['errorMessage'])

    def test_refused_registration_ends_the_extension(self):
        seen = []

        class Refusing(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_POST(self):
                seen.append(self.path)
                self.rfile.read(int(self.headers.get('Content-Length') or 0))
                body = b'{"errorType":"Extension.Forbidden","errorMessage":"not an extension"}'
                self.send_response(403)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Refusing)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)

        b = self.start_extension(f'127.0.0.1:{server.server_address[1]}', free_port())
        self.assertEqual(b.wait_exit(10), 1, self.context())
        out = b.output()
        self.assertIn("cannot register as the Lambda extension 'lambda-bridge'", out)
        self.assertIn('HTTP 403', out)
        self.assertEqual(seen, [EXTENSION_PREFIX + '/register'], 'nothing but the registration may be tried')

    def test_extension_mode_without_a_runtime_api_is_refused(self):
        b = self.start_extension('', free_port())
        self.assertEqual(b.wait_exit(10), 2, self.context())
        self.assertIn('AWS_LAMBDA_RUNTIME_API is not set', b.output())

    def test_emulator_only_with_an_app_command_is_refused(self):
        a = Bridge(scrubbed_env({'LAMBDA_BRIDGE_EMULATOR_ONLY': 'true'}), args=['--', SYSTEM_PYTHON, WEB_APP])
        self.addCleanup(a.cleanup)
        self.assertEqual(a.wait_exit(10), 2, a.tail())
        self.assertIn('the emulator starts no app', a.output())


class EmulatedExtensionsApi(ExtensionModeTestCase):
    """The emulator's Extensions API, called directly (the test plays the extension and the runtime)."""

    def call(self, address: str, method: str, what: str, body=None, headers=None, timeout: float = 10):
        port = int(address.rsplit(':', 1)[1])
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        return http_request(port, method, f'{EXTENSION_PREFIX}/{what}', data, headers, timeout)

    def register(self, address: str, name: str, events) -> str:
        r = self.call(address, 'POST', 'register', {'events': events}, {'Lambda-Extension-Name': name})
        self.assertEqual(r.status, 200, str(r))
        self.assertEqual(r.json()['functionVersion'], '$LATEST', str(r))
        return r.header('Lambda-Extension-Identifier')

    def test_malformed_registrations_are_refused_with_400(self):
        a, _, rt = self.start_emulator_only()
        for body, headers, why in [
                (b'{"events":["SHUTDOWN","REBOOT"]}', {'Lambda-Extension-Name': 'x'}, 'unknown event'),
                (b'not json', {'Lambda-Extension-Name': 'x'}, 'JSON object'),
                (b'{"events":"SHUTDOWN"}', {'Lambda-Extension-Name': 'x'}, '"events" array'),
                (b'{"events":["SHUTDOWN"]}', {}, 'Lambda-Extension-Name')]:
            r = self.call(rt, 'POST', 'register', body, headers)
            self.assertEqual(r.status, 400, f'{body!r}: {r}')
            self.assertEqual(r.json()['errorType'], 'Extension.InvalidRequest', str(r))
            self.assertIn(why, r.json()['errorMessage'])
            self.assertIsNone(r.header('Lambda-Extension-Identifier'))

    def test_unknown_identifier_is_forbidden(self):
        a, _, rt = self.start_emulator_only()
        self.register(rt, 'known', ['SHUTDOWN'])
        for headers in ({'Lambda-Extension-Identifier': 'no-such-id'}, {}):
            r = self.call(rt, 'GET', 'event/next', headers=headers)
            self.assertEqual(r.status, 403, str(r))
            self.assertEqual(r.json()['errorType'], 'Extension.UnknownExtensionIdentifier', str(r))

    def test_invoke_subscribers_get_an_invoke_event_per_invocation(self):
        a, invoke_port, rt = self.start_emulator_only(AWS_LAMBDA_FUNCTION_NAME='my-fn')
        ext_id = self.register(rt, 'watcher', ['INVOKE'])
        replies = []
        caller = threading.Thread(target=lambda: replies.append(invoke(invoke_port, {'n': 1})))
        caller.start()
        self.addCleanup(caller.join, 20)
        # The test is the runtime: take the invocation, then read the extension's event for it.
        rt_port = int(rt.rsplit(':', 1)[1])
        nxt = http_request(rt_port, 'GET', '/2018-06-01/runtime/invocation/next')
        request_id = nxt.header('Lambda-Runtime-Aws-Request-Id')
        ev = self.call(rt, 'GET', 'event/next', headers={'Lambda-Extension-Identifier': ext_id})
        self.assertEqual(ev.status, 200, str(ev))
        doc = ev.json()
        self.assertEqual(doc['eventType'], 'INVOKE', doc)
        self.assertEqual(doc['requestId'], request_id, doc)
        self.assertEqual(str(doc['deadlineMs']), nxt.header('Lambda-Runtime-Deadline-Ms'), doc)
        self.assertEqual(doc['invokedFunctionArn'], nxt.header('Lambda-Runtime-Invoked-Function-Arn'), doc)
        self.assertTrue(doc['invokedFunctionArn'].endswith(':function:my-fn'), doc)
        self.assertEqual(doc['tracing'], {'type': 'X-Amzn-Trace-Id', 'value': nxt.header('Lambda-Runtime-Trace-Id')})
        posted = http_request(rt_port, 'POST', f'/2018-06-01/runtime/invocation/{request_id}/response', b'"done"')
        self.assertEqual(posted.status, 202, str(posted))
        caller.join(10)
        self.assertEqual(replies[0].body, b'"done"', str(replies[0]))

    def test_shutdown_subscribers_get_shutdown_when_the_emulator_stops(self):
        a, _, rt = self.start_emulator_only()
        shutdown_id = self.register(rt, 'on-shutdown', ['SHUTDOWN'])
        self.register(rt, 'on-nothing', [])
        for what in ('init/error', 'exit/error'):
            r = self.call(rt, 'POST', what, {'errorMessage': 'x', 'errorType': 'Extension.Test'},
                          {'Lambda-Extension-Identifier': shutdown_id,
                           'Lambda-Extension-Function-Error-Type': 'Extension.Test'})
            self.assertEqual(r.status, 202, str(r))
        self.assertEqual(len(re.findall(r'extension on-shutdown reported an (init|exit) error: Extension.Test',
                                        a.output())), 2, a.tail())

        events = []
        waiter = threading.Thread(target=lambda: events.append(
            self.call(rt, 'GET', 'event/next', headers={'Lambda-Extension-Identifier': shutdown_id})))
        waiter.start()
        self.addCleanup(waiter.join, 20)
        self.assertEqual(events, [], 'event/next must stay parked until there is an event')
        sent_at_ms = time.time() * 1000
        a.signal(signal.SIGTERM)
        waiter.join(5)
        self.assertEqual(len(events), 1, a.tail())
        doc = events[0].json()
        self.assertEqual((doc['eventType'], doc['shutdownReason']), ('SHUTDOWN', 'spindown'), doc)
        self.assertGreater(doc['deadlineMs'], sent_at_ms, doc)
        self.assertEqual(a.wait_exit(5), 0, a.tail())


class LayerZip(unittest.TestCase):

    @unittest.skipIf(shutil.which('zip') is None, 'zip is not installed')
    def test_build_script_packs_the_extension_and_the_wrapper_executable(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / 'layer.zip'
            subprocess.run(['bash', LAYER_DIR / 'build.sh', bridge_binary(), out], check=True, timeout=60,
                           stdout=subprocess.DEVNULL)
            with zipfile.ZipFile(out) as z:
                modes = {i.filename: (i.external_attr >> 16) for i in z.infolist() if not i.is_dir()}
        self.assertEqual(sorted(modes), ['bootstrap', 'extensions/lambda-bridge'])
        for name, mode in modes.items():
            self.assertTrue(stat.S_ISREG(mode) and mode & 0o111 == 0o111, f'{name} has mode {oct(mode)}')

    @unittest.skipIf(shutil.which('zip') is None, 'zip is not installed')
    def test_build_script_packs_a_binary_only_into_the_layer_of_its_architecture(self):
        # The binary under test is the arm64 one when it runs under an emulator (the arm64 preset), else the host's.
        arch = 'arm64' if BRIDGE_EMULATOR else {'x86_64': 'x86_64', 'aarch64': 'arm64'}[platform.machine()]
        other = {'x86_64': 'arm64', 'arm64': 'x86_64'}[arch]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f'layer-{arch}.zip'
            subprocess.run(['bash', LAYER_DIR / 'build.sh', '--arch', arch, bridge_binary(), out], check=True,
                           timeout=60, stdout=subprocess.DEVNULL)
            with zipfile.ZipFile(out) as z:
                self.assertEqual(z.read('extensions/lambda-bridge'), bridge_binary().read_bytes())

            wrong = Path(tmp) / f'layer-{other}.zip'
            r = subprocess.run(['bash', LAYER_DIR / 'build.sh', '--arch', other, bridge_binary(), wrong],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r)
            self.assertIn(f'is {arch}, not {other}', r.stderr)
            self.assertFalse(wrong.exists(), 'a layer of the wrong architecture was written')

    def test_wrapper_refuses_to_run_without_a_handler_or_command(self):
        r = subprocess.run([LAYER_DIR / 'bootstrap'], env=scrubbed_env(), capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 64, r)
        self.assertIn(b'nothing to start', r.stderr)


if __name__ == '__main__':
    unittest.main()
