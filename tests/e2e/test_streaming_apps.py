#!/usr/bin/python3
"""End to end, response streaming with users' own apps, unmodified: a FastAPI StreamingResponse under Debian's
uvicorn and a Node res.write server, each started by the real lambda-bridge in local emulation mode with
AWS_LWA_INVOKE_MODE=response_stream, exactly as `docker run -p 9000:8080` would run them. A client on the invoke
API (curl -N, in effect) must see the first events while the app is still producing the last one.

Run: /usr/bin/python3 tests/e2e/test_streaming_apps.py [-v]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge. Needs python3-fastapi, python3-uvicorn, nodejs.
"""
import re
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'component'))

from harness import Bridge, free_port, open_invocation, read_until, scrubbed_env, wait_until  # noqa: E402

SYSTEM_PYTHON = '/usr/bin/python3'
INVOKE_PATH = '/2015-03-31/functions/function/invocations'
INVOKE_LINE = re.compile(r'emulator: invoke API listening on \S+:(\d+)')
STARTUP_TIMEOUT = 20


class StreamingApps(unittest.TestCase):

    def run_app(self, app_argv, app_port):
        env = scrubbed_env({'AWS_LWA_PORT': str(app_port), 'PORT': str(app_port),
                            'AWS_LWA_INVOKE_MODE': 'response_stream', 'LAMBDA_BRIDGE_EMULATOR_HOST': '127.0.0.1',
                            'LAMBDA_BRIDGE_EMULATOR_PORT': '0', 'LAMBDA_BRIDGE_GATEWAY_PORT': 'off'})
        bridge = Bridge(env, args=['--', *map(str, app_argv)])
        self.addCleanup(bridge.cleanup)
        m = wait_until(lambda: INVOKE_LINE.search(bridge.output()), STARTUP_TIMEOUT,
                       f'the invoke API to listen\n{bridge.tail()}')
        wait_until(lambda: 'app ready' in bridge.output(), STARTUP_TIMEOUT, f'the app to be ready\n{bridge.tail()}')
        return bridge, int(m.group(1))

    def assert_live(self, invoke_port, bridge):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        gate = Path(tmp.name) / 'gate'
        event = {'version': '2.0', 'rawPath': '/events', 'rawQueryString': f'count=3&gate={gate}', 'headers': {},
                 'requestContext': {'domainName': 'x.lambda-url.us-east-1.on.aws', 'http': {'method': 'GET'}}}
        conn, r = open_invocation(invoke_port, INVOKE_PATH, event)
        self.addCleanup(conn.close)
        self.assertEqual(200, r.status, bridge.tail())
        self.assertTrue(r.getheader('Content-Type', '').startswith('text/event-stream'), r.getheaders())
        self.assertEqual('no-cache', r.getheader('Cache-Control'))
        seen = read_until(r, b'tick 2\n\n')
        self.assertNotIn(b'tick 3', seen, 'the app had not produced tick 3 yet')
        gate.write_text('go')
        seen += r.read()
        self.assertEqual(b'data: tick 1\n\ndata: tick 2\n\ndata: tick 3\n\n', seen)

    def test_a_fastapi_streaming_response_reaches_the_caller_event_by_event(self):
        port = free_port()
        bridge, invoke_port = self.run_app(
            [SYSTEM_PYTHON, '-m', 'uvicorn', '--app-dir', HERE / 'stream_apps', 'sse_fastapi:app',
             '--host', '127.0.0.1', '--port', port], port)
        self.assert_live(invoke_port, bridge)

    def test_a_node_res_write_stream_reaches_the_caller_event_by_event(self):
        node = shutil.which('node')
        self.assertIsNotNone(node, 'node is not on PATH (scripts/setup installs nodejs)')
        port = free_port()
        bridge, invoke_port = self.run_app([node, HERE / 'stream_apps' / 'sse_node.js'], port)
        self.assert_live(invoke_port, bridge)


if __name__ == '__main__':
    unittest.main()
