#!/usr/bin/python3
"""lambda-bridge's local emulation mode (no AWS_LAMBDA_RUNTIME_API), its Lambda invoke API: the seed's events against
its FastAPI app under uvicorn, invalid and oversized events, timeouts, oversized results, init errors and crashes,
concurrent invokes, the context each invocation carries, port conflicts, and the static binary in an empty chroot —
through the real binary, with the app it starts itself (apps/web_app.py, or the seed's FastAPI app under uvicorn).
The gateway emulation and hostile clients: test_emulator_gateway.py.

Contract: the entrypoint issue ("Local emulation mode") and runtime-api.md §5. Listeners bind 127.0.0.1 port 0 and
their ports are read from the bridge's log (harness/emulator.py).

Run: /usr/bin/python3 tests/component/test_emulator.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge. The chroot test needs root (skipped otherwise).
"""

import base64
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    INVOKE_LINE, INVOKE_PATH, REPO_ROOT, SYSTEM_PYTHON, Bridge, EmulatorTestCase, HttpReply, bridge_binary,
    free_port, header_values, http_request, invoke, rest_get, scrubbed_env,
)

MAX_EVENT_BYTES = 6_291_456
MAX_RESULT_BYTES = 6_291_556
FASTAPI_DIR = REPO_ROOT / 'examples' / 'fastapi'  # the seed app, shared with the example
UUID_PATTERN = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
TRACE_PATTERN = re.compile(r'^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$')
STARTUP_TIMEOUT = 20  # uvicorn importing FastAPI on a slow machine


def post_large(port: int, body: bytes, timeout: float = 20) -> HttpReply:
    """POST a big event; a server may answer (413) before it has read everything, so a failed send is not fatal as
    long as the answer can still be read."""
    sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        head = (f'POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n'
                f'Content-Length: {len(body)}\r\n\r\n').encode()
        try:
            sock.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = http.client.HTTPResponse(sock)
        r.begin()
        return HttpReply(r.status, r.msg, r.read())
    finally:
        sock.close()


class InvokeApiWithTheSeedApp(EmulatorTestCase):

    def test_seed_events_against_fastapi_under_uvicorn_return_the_routes_json_as_gateway_results(self):
        port = free_port()
        emu = self.start_emulator(app_port=port, app_args=[
            '--', SYSTEM_PYTHON, '-m', 'uvicorn', '--app-dir', str(FASTAPI_DIR), 'app:app',
            '--host', '127.0.0.1', '--port', str(port)])
        cases = [
            ({"path": "/test1", "requestContext": {}, "httpMethod": "GET", "multiValueQueryStringParameters": {}},
             '{"message":"test"}'),
            ({"path": "/test2", "requestContext": {}, "httpMethod": "POST", "multiValueQueryStringParameters": {}},
             '{"message":"test2"}'),
            ({"path": "/test3", "requestContext": {}, "httpMethod": "POST",
              "multiValueQueryStringParameters": {"message": "hoge"}},
             '{"message":"hoge"}'),
        ]
        for event, body in cases:
            with self.subTest(path=event['path']):
                reply = invoke(emu.invoke_port, event, timeout=STARTUP_TIMEOUT + 10)

                result = self.assert_result(reply)
                self.assertEqual((reply.header('Content-Type') or '').split(';')[0], 'application/json', reply)
                self.assertEqual(result.get('statusCode'), 200, result)
                self.assertEqual(result.get('body'), body, result)


class InvokeApi(EmulatorTestCase):

    def test_event_the_bridge_rejects_gives_200_with_unhandled_and_invalid_event_then_the_next_invoke_works(self):
        emu = self.start_emulator()

        reply = invoke(emu.invoke_port, b'{"httpMethod":"GET","path":42}')

        self.assert_function_error(reply, 'Runtime.InvalidEvent')
        result = self.assert_result(invoke(emu.invoke_port, rest_get('/echo')))
        self.assertEqual(result.get('statusCode'), 201, result)

    def test_app_slower_than_the_function_timeout_gives_200_unhandled_timeout_error_within_2_s(self):
        emu = self.start_emulator(AWS_LAMBDA_FUNCTION_TIMEOUT='1')
        self.assert_result(invoke(emu.invoke_port, rest_get('/')))  # the app is up; the clock below is the invoke's

        started = time.monotonic()
        reply = invoke(emu.invoke_port, rest_get('/slow', {'s': '3'}), timeout=10)
        elapsed = time.monotonic() - started

        doc = self.assert_function_error(reply, 'Sandbox.Timedout', 'Runtime.BackendTimeout')
        if doc['errorType'] == 'Sandbox.Timedout':
            self.assertEqual(doc['errorMessage'], 'Task timed out after 1.00 seconds', doc)
        self.assertLess(elapsed, 2.0, f'the timeout answer took {elapsed:.2f}s')
        self.assertGreaterEqual(elapsed, 0.8, f'answered after {elapsed:.2f}s, before the 1 s timeout')

    def test_event_over_6_mib_gets_413_and_an_event_of_exactly_6_mib_is_served(self):
        emu = self.start_emulator()
        over = b'{"pad":"' + b'x' * (MAX_EVENT_BYTES + 1 - 10) + b'"}'
        at_limit = over[:8] + over[9:]
        self.assertEqual((len(over), len(at_limit)), (MAX_EVENT_BYTES + 1, MAX_EVENT_BYTES))

        too_big = post_large(emu.invoke_port, over)

        self.assertEqual(too_big.status, 413, f'{too_big}{self.context()}')
        self.assertIsInstance(too_big.json(), dict, 'the 413 must carry a JSON error')
        result = self.assert_result(post_large(emu.invoke_port, at_limit))
        self.assertEqual(result, {'received_bytes': MAX_EVENT_BYTES}, 'the app must get the whole event')

    def test_result_over_the_response_limit_gives_200_unhandled_response_too_large(self):
        emu = self.start_emulator()

        reply = invoke(emu.invoke_port, rest_get('/big', {'n': str(MAX_RESULT_BYTES)}))

        # The emulator's own answer to an oversized result is Function.ResponseSizeTooLarge; the bridge, as the
        # runtime, checks the size before posting and reports Runtime.ResponseTooLarge (as it does on Lambda).
        self.assert_function_error(reply, 'Function.ResponseSizeTooLarge', 'Runtime.ResponseTooLarge')
        self.assertLess(len(reply.body), 4096, 'the error replaces the result')

    def test_init_error_answers_the_pending_invoke_with_502_and_the_bridge_exits_non_zero(self):
        emu = self.start_emulator('--never-listen', AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='1')

        reply = invoke(emu.invoke_port, rest_get('/echo'), timeout=10)

        self.assertEqual(reply.status, 502, f'{reply}{self.context()}')
        self.assertEqual(reply.json().get('errorType'), 'Runtime.BackendNotReady', reply)
        self.assertNotEqual(emu.bridge.wait_exit(5), 0, self.context())

    def test_eight_concurrent_invokes_each_get_their_own_result(self):
        emu = self.start_emulator()
        values = [uuid.uuid4().hex for _ in range(8)]
        replies, errors = {}, []
        barrier = threading.Barrier(len(values))

        def one(value):
            try:
                barrier.wait(5)
                replies[value] = invoke(emu.invoke_port, rest_get('/echo', {'q': value, 'delay': '0.1'}), timeout=30)
            except Exception as e:  # reported below, with the value it belongs to
                errors.append(f'{value}: {e!r}')

        threads = [threading.Thread(target=one, args=(v,)) for v in values]
        for t in threads:
            t.start()
        for t in threads:
            t.join(40)

        self.assertEqual(errors, [], self.context())
        self.assertEqual(sorted(replies), sorted(values))
        for value, reply in replies.items():
            result = self.assert_result(reply)
            self.assertEqual(result.get('statusCode'), 201, result)
            self.assertEqual(json.loads(result['body'])['target'], f'/echo?q={value}&delay=0.1', result)

    def test_client_context_tenant_id_request_id_arn_deadline_and_trace_id_reach_the_app(self):
        emu = self.start_emulator()
        client_context = {"custom": {"k": "v"}}
        headers = {'X-Amz-Client-Context': base64.b64encode(json.dumps(client_context).encode()).decode(),
                   'X-Amz-Tenant-Id': 't1'}

        sent_at = time.time()
        result = self.assert_result(invoke(emu.invoke_port, rest_get('/echo'), headers))

        echoed = json.loads(result['body'])
        self.assertEqual(header_values(echoed, 'x-amz-tenant-id'), ['t1'], echoed['headers'])
        contexts = header_values(echoed, 'x-amzn-lambda-context')
        self.assertEqual(len(contexts), 1, echoed['headers'])
        ctx = json.loads(contexts[0])
        self.assertEqual(ctx.get('client_context'), client_context, ctx)
        self.assertRegex(ctx.get('request_id') or '', UUID_PATTERN)
        self.assertEqual(ctx.get('invoked_function_arn'), 'arn:aws:lambda:us-east-1:012345678912:function:function')
        self.assertEqual(ctx.get('tenant_id'), 't1', ctx)
        deadline = ctx.get('deadline') / 1000
        self.assertTrue(sent_at + 295 <= deadline <= time.time() + 301,
                        f'deadline {deadline - sent_at:.1f}s after the invoke; the default timeout is 300 s')
        traces = header_values(echoed, 'x-amzn-trace-id')
        self.assertEqual(len(traces), 1, echoed['headers'])
        self.assertRegex(traces[0], TRACE_PATTERN)

    def test_each_invocation_gets_its_own_request_id_and_the_arn_names_aws_lambda_function_name(self):
        emu = self.start_emulator(AWS_LAMBDA_FUNCTION_NAME='my-function')

        ids = []
        for _ in range(2):
            echoed = json.loads(self.assert_result(invoke(emu.invoke_port, rest_get('/echo')))['body'])
            ctx = json.loads(header_values(echoed, 'x-amzn-lambda-context')[0])
            self.assertEqual(ctx['invoked_function_arn'], 'arn:aws:lambda:us-east-1:012345678912:function:my-function')
            ids.append(ctx['request_id'])

        self.assertNotEqual(ids[0], ids[1])

    def test_hand_written_gateway_and_function_url_events_tell_the_app_https_and_alb_events_do_not(self):
        emu = self.start_emulator()
        v2_context = {'http': {'method': 'GET'}, 'domainName': 'abc.execute-api.us-east-1.amazonaws.com'}
        url_context = {'http': {'method': 'GET'}, 'domainName': 'abc.lambda-url.us-east-1.on.aws'}
        cases = [
            ('rest', rest_get('/echo'), ['https']),
            ('http api', {'version': '2.0', 'rawPath': '/echo', 'requestContext': v2_context}, ['https']),
            ('function url', {'version': '2.0', 'rawPath': '/echo', 'requestContext': url_context}, ['https']),
            ('alb', {'requestContext': {'elb': {}}, 'httpMethod': 'GET', 'path': '/echo'}, []),
            ('rest saying http', {**rest_get('/echo'), 'headers': {'X-Forwarded-Proto': 'http'}}, ['http']),
        ]
        for name, event, proto in cases:
            with self.subTest(name):
                echoed = json.loads(self.assert_result(invoke(emu.invoke_port, event))['body'])
                self.assertEqual(header_values(echoed, 'X-Forwarded-Proto'), proto, echoed['headers'])

    def test_app_crashing_mid_invoke_gives_502_with_the_same_error_type_as_the_log_and_the_bridge_exits_non_zero(self):
        emu = self.start_emulator()

        reply = invoke(emu.invoke_port, rest_get('/crash'))

        self.assertEqual(reply.status, 502, f'{reply}{self.context()}')
        self.assertEqual(reply.json().get('errorType'), 'Runtime.AppExited', reply)
        self.assertNotEqual(emu.bridge.wait_exit(5), 0, self.context())
        self.assertIn('Runtime.AppExited', emu.bridge.output(), 'the log must name the type the caller got')
        self.assertNotIn('Runtime.ExitError', emu.bridge.output())


class InvokeApiFunctionName(EmulatorTestCase):
    """The function name in the invoke path: 'function' and AWS_LAMBDA_FUNCTION_NAME are served, in any form the
    Invoke API takes (name, ARN, partial ARN, qualifier, percent-encoded); any other name gets Lambda's 404."""

    def invoke_as(self, port, function, event=None) -> HttpReply:
        return http_request(port, 'POST', f'/2015-03-31/functions/{function}/invocations',
                            json.dumps(event or rest_get('/echo')).encode(), {'Content-Type': 'application/json'})

    def test_the_configured_name_and_function_are_both_served_in_every_form(self):
        emu = self.start_emulator(AWS_LAMBDA_FUNCTION_NAME='myfn')

        for function in ('myfn', 'function', 'myfn:$LATEST', 'arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3A'
                         'function%3Amyfn', '123456789012:function:myfn:live'):
            with self.subTest(function):
                result = self.assert_result(self.invoke_as(emu.invoke_port, function))
                self.assertEqual(result.get('statusCode'), 201, result)

    def test_another_name_gets_404_resource_not_found_naming_the_function_that_exists(self):
        emu = self.start_emulator(AWS_LAMBDA_FUNCTION_NAME='myfn')

        reply = self.invoke_as(emu.invoke_port, 'other')

        self.assertEqual(reply.status, 404, f'{reply}{self.context()}')
        self.assertEqual(reply.header('X-Amzn-ErrorType'), 'ResourceNotFoundException', reply)
        doc = reply.json()
        self.assertEqual(doc.get('errorType'), 'ResourceNotFoundException', doc)
        self.assertEqual(doc.get('errorMessage'),
                         'Function not found: arn:aws:lambda:us-east-1:012345678912:function:other (this emulator '
                         "runs one function, 'myfn': POST /2015-03-31/functions/myfn/invocations)", doc)
        self.assertNotIn('GET /echo', emu.bridge.output(), 'the refused invocation reached the app')
        self.assert_result(self.invoke_as(emu.invoke_port, 'myfn'))

    def test_without_a_configured_name_only_function_is_served(self):
        emu = self.start_emulator()

        self.assert_result(self.invoke_as(emu.invoke_port, 'function'))
        reply = self.invoke_as(emu.invoke_port, 'myfn')

        self.assertEqual(reply.status, 404, f'{reply}{self.context()}')
        self.assertIn("this emulator runs one function, 'function'", reply.json().get('errorMessage'), reply)


class PortConflicts(EmulatorTestCase):

    def assert_refuses_to_start(self, bridge: Bridge):
        self.assertEqual(bridge.wait_exit(3), 2, self.context())
        self.assertIn('AWS_LWA_PORT', bridge.output(), 'the message must name the variable to change')
        self.assertFalse(self.app_pid_file.exists(), 'the app must not be started')

    def test_app_port_equal_to_the_emulator_port_exits_2_naming_aws_lwa_port(self):
        port = free_port()
        bridge = self.start_bridge(None, port, args=self.web_app_args(port), LAMBDA_BRIDGE_EMULATOR_HOST='127.0.0.1',
                                   LAMBDA_BRIDGE_EMULATOR_PORT=str(port), LAMBDA_BRIDGE_GATEWAY_PORT='off')
        self.assert_refuses_to_start(bridge)

    def test_app_port_equal_to_the_gateway_port_exits_2_naming_aws_lwa_port(self):
        port = free_port()
        bridge = self.start_bridge(None, port, args=self.web_app_args(port), LAMBDA_BRIDGE_EMULATOR_HOST='127.0.0.1',
                                   LAMBDA_BRIDGE_EMULATOR_PORT='0', LAMBDA_BRIDGE_GATEWAY_PORT=str(port))
        self.assert_refuses_to_start(bridge)

    def test_unset_app_port_and_emulator_port_both_default_to_8080_and_the_bridge_exits_2(self):
        # The seed's mistake: the app's port left at its default, which is the emulator's default too.
        bridge = self.start_bridge(None, None, args=self.web_app_args(free_port()),
                                   LAMBDA_BRIDGE_EMULATOR_HOST='127.0.0.1', LAMBDA_BRIDGE_GATEWAY_PORT='off')
        self.assert_refuses_to_start(bridge)


class StartupMessages(EmulatorTestCase):
    """What a person reads when a local run cannot start or its app fails: each cause said once, by name."""

    def test_a_port_already_in_use_is_named_with_the_variable_that_changes_it(self):
        with socket.socket() as taken:
            taken.bind(('127.0.0.1', 0))
            taken.listen()
            port = taken.getsockname()[1]
            app_port = free_port()
            bridge = self.start_bridge(None, app_port, args=self.web_app_args(app_port),
                                       LAMBDA_BRIDGE_EMULATOR_HOST='127.0.0.1', LAMBDA_BRIDGE_EMULATOR_PORT=str(port),
                                       LAMBDA_BRIDGE_GATEWAY_PORT='off')
            self.assertNotEqual(bridge.wait_exit(5), 0, self.context())
        out = bridge.output()
        self.assertIn(f'127.0.0.1:{port}', out, 'the message must name the port')
        self.assertIn('LAMBDA_BRIDGE_EMULATOR_PORT', out, 'the message must name the variable that changes it')
        self.assertNotIn('unexpected error', out)

    def test_an_app_exiting_during_init_is_logged_once_and_the_internal_extension_is_not_news(self):
        bridge = self.start_bridge(None, free_port(), args=['--', '/bin/sh', '-c', 'exit 3'],
                                   LAMBDA_BRIDGE_EMULATOR_HOST='127.0.0.1', LAMBDA_BRIDGE_EMULATOR_PORT='0',
                                   LAMBDA_BRIDGE_GATEWAY_PORT='off')
        self.assertEqual(bridge.wait_exit(5), 3, self.context())
        out = bridge.output()
        self.assertEqual(len(re.findall(r'init failed', out)), 1, out)
        self.assertEqual(len(re.findall(r'ERROR', out)), 1, out)
        self.assertNotRegex(out, r'(INFO|WARN).*registered for no events')
        self.assertIn('exits with status 3 (Runtime.AppExited', out, 'the exit line names the cause')

    def test_a_readiness_timeout_exits_1_with_the_bridges_reason_not_the_status_of_the_app_it_stopped(self):
        bridge = self.start_bridge(None, free_port(), args=['--', '/bin/sleep', '30'],
                                   LAMBDA_BRIDGE_EMULATOR_HOST='127.0.0.1', LAMBDA_BRIDGE_EMULATOR_PORT='0',
                                   LAMBDA_BRIDGE_GATEWAY_PORT='off', AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='1')
        self.assertEqual(bridge.wait_exit(10), 1, self.context())
        out = bridge.output()
        self.assertIn('exits with status 1 (Runtime.BackendNotReady', out)
        self.assertNotIn('status 143', out)

    def test_an_ipv6_app_address_is_written_in_brackets(self):
        bridge = self.start_bridge(None, free_port(), args=['--', '/bin/sleep', '30'], AWS_LWA_HOST='::1',
                                   LAMBDA_BRIDGE_EMULATOR_HOST='127.0.0.1', LAMBDA_BRIDGE_EMULATOR_PORT='0',
                                   LAMBDA_BRIDGE_GATEWAY_PORT='off', AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='1')
        self.assertEqual(bridge.wait_exit(10), 1, self.context())
        self.assertRegex(bridge.output(), r'the app at \[::1\]:\d+ was not ready')


class StaticBinary(EmulatorTestCase):

    def setUp(self):
        super().setUp()
        # CTest says which build this is; the sanitizer build links dynamically by nature.
        if os.environ.get('LAMBDA_BRIDGE_STATIC', '1') == '0':
            self.skipTest('not the static release build (scripts/test release checks the shipped binary)')

    def test_binary_is_not_dynamic_and_at_most_5_mib(self):
        binary = bridge_binary()
        ldd = subprocess.run(['ldd', str(binary)], capture_output=True, text=True, timeout=10)

        self.assertIn('not a dynamic executable', ldd.stdout + ldd.stderr)
        self.assertLessEqual(binary.stat().st_size, 5 * 1024 * 1024)

    def test_binary_alone_in_an_empty_chroot_serves_invocations_to_an_app_outside(self):
        if os.geteuid() != 0:
            self.skipTest('chroot needs root (run the tests as root to cover the static binary in an empty root)')
        root = Path(tempfile.mkdtemp(prefix='lambda-bridge-chroot-'))
        self.addCleanup(shutil.rmtree, root, True)
        shutil.copy2(bridge_binary(), root / 'lambda-bridge')
        self.assertEqual(sorted(os.listdir(root)), ['lambda-bridge'])
        backend = self.start_backend()
        invoke_port = free_port()
        env = scrubbed_env({'AWS_LWA_PORT': backend.port, 'LAMBDA_BRIDGE_EMULATOR_HOST': '127.0.0.1',
                            'LAMBDA_BRIDGE_EMULATOR_PORT': invoke_port, 'LAMBDA_BRIDGE_GATEWAY_PORT': 'off',
                            'AWS_LAMBDA_LOG_LEVEL': 'DEBUG'})
        process = self.start_process(['chroot', str(root), '/lambda-bridge'], env=env, name='chrooted-lambda-bridge')
        m = self.logged(process, INVOKE_LINE, 10)
        self.assertEqual(int(m.group(2)), invoke_port, m.group(0))

        result = self.assert_result(invoke(invoke_port, rest_get('/hello', {'from': 'outside'})))

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(json.loads(result['body'])['target'], '/hello?from=outside', result)
        backend.wait_request(path='/hello', timeout=1)


if __name__ == '__main__':
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        sys.exit(f'{SYSTEM_PYTHON} not found')
    unittest.main()
