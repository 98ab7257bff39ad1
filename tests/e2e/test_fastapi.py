#!/usr/bin/python3
"""End to end: users' own apps, unmodified, behind the real lambda-bridge binary.

- FastAPI app (examples/fastapi/app.py, the users' seed app) served by Debian's uvicorn, exercised with the hand-written REST test
  events users type into the Runtime Interface Emulator, an HTTP API v2 event and an ALB event.
- A plain Node http server (tests/e2e/node_app/server.js) that echoes what it received, to show that repeated query
  keys and repeated headers arrive in the event's order.

Run: /usr/bin/python3 tests/e2e/test_fastapi.py [-v]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge. Needs python3-fastapi, python3-uvicorn, nodejs.
"""

import json
import os
import shutil
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'component'))

from harness import (  # noqa: E402
    Bridge, BridgeTestCase, FakeRuntimeApi, ManagedProcess, bridge_env, dict_get_ci, free_port, scrubbed_env,
)

SYSTEM_PYTHON = '/usr/bin/python3'
STARTUP_TIMEOUT = 20  # uvicorn importing FastAPI on a slow CI machine


class _SharedStack(BridgeTestCase):
    """One backend + one bridge + one fake Runtime API per test class; each test pushes its own events."""

    @classmethod
    def start_backend_process(cls) -> tuple:
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeRuntimeApi()
        cls.addClassCleanup(cls.fake.close)
        cls.fake.extra_context = lambda: '\n'.join(c.tail() for c in (getattr(cls, 'bridge', None), cls.app) if c)
        cls.app = None
        cls.app, port = cls.start_backend_process()
        cls.addClassCleanup(cls.app.cleanup)
        cls.bridge = Bridge(bridge_env(cls.fake, port))
        cls.addClassCleanup(cls.bridge.cleanup)
        try:
            cls.fake.wait_polling(1, STARTUP_TIMEOUT)
        except AssertionError as e:
            raise AssertionError(f'{e}\n{cls.bridge.tail()}\n{cls.app.tail()}') from None

    def setUp(self):
        super().setUp()
        self._fakes = [self.fake]
        self._children = [self.bridge, self.app]

    def result_of(self, event) -> dict:
        return self.assert_response(self.invoke(self.fake, event))


class FastApiAppUnderUvicorn(_SharedStack):

    @classmethod
    def start_backend_process(cls):
        port = free_port()
        app = ManagedProcess([SYSTEM_PYTHON, '-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', str(port)],
                             cwd=HERE.parent.parent / 'examples' / 'fastapi', env=scrubbed_env(), name='uvicorn')
        return app, port

    def test_hand_written_rie_event_for_a_get_route_returns_the_route_json(self):
        result = self.result_of({"path": "/test1", "requestContext": {}, "httpMethod": "GET",
                                 "multiValueQueryStringParameters": {}})

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), '{"message":"test"}', result)
        self.assertIs(result.get('isBase64Encoded'), False, result)
        self.assertEqual(dict_get_ci(result.get('multiValueHeaders'), 'content-type'), ['application/json'],
                         result)

    def test_hand_written_rie_event_for_a_post_route_without_body_returns_the_route_json(self):
        result = self.result_of({"path": "/test2", "requestContext": {}, "httpMethod": "POST",
                                 "multiValueQueryStringParameters": {}})

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), '{"message":"test2"}', result)

    def test_plain_string_in_multi_value_query_map_is_taken_as_one_value(self):
        result = self.result_of({"path": "/test3", "requestContext": {}, "httpMethod": "POST",
                                 "multiValueQueryStringParameters": {"message": "hoge"}})

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), '{"message":"hoge"}', result)

    def test_http_api_v2_event_with_empty_raw_query_reaches_the_route(self):
        result = self.result_of({
            "version": "2.0", "routeKey": "$default", "rawPath": "/test1", "rawQueryString": "",
            "headers": {"accept": "*/*", "host": "abc.execute-api.us-east-1.amazonaws.com"},
            "requestContext": {"http": {"method": "GET", "path": "/test1", "protocol": "HTTP/1.1",
                                        "sourceIp": "203.0.113.9", "userAgent": "curl/8"},
                               "domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "$default",
                               "requestId": "id-1", "routeKey": "$default"},
            "isBase64Encoded": False,
        })

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), '{"message":"test"}', result)
        self.assertIsInstance(result.get('headers'), dict, result)
        self.assertEqual(dict_get_ci(result['headers'], 'content-type'), 'application/json', result)
        self.assertNotIn('multiValueHeaders', result, 'HTTP API v2 results use headers + cookies')

    def test_alb_query_value_arrives_decoded_exactly_once(self):
        result = self.result_of({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                                         "targetgroup/lambda-target/abcdef0123456789"}},
            "httpMethod": "POST", "path": "/test3",
            "queryStringParameters": {"message": "hoge%20x"},
            "headers": {"host": "lambda-alb-123578498.us-east-1.elb.amazonaws.com", "user-agent": "curl/8"},
            "body": "", "isBase64Encoded": False,
        })

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), '{"message":"hoge x"}',
                         'ALB values are already encoded: encoding them again gives "hoge%20x"')
        self.assertEqual(result.get('statusDescription'), '200 OK', result)
        self.assertIsInstance(result.get('headers'), dict, result)
        self.assertNotIn('multiValueHeaders', result, 'single-value ALB requests get single-value headers')


class NodeHttpServer(_SharedStack):

    @classmethod
    def start_backend_process(cls):
        node = shutil.which('node')
        if node is None:
            raise AssertionError('node is not on PATH (scripts/setup installs nodejs)')
        app = ManagedProcess([node, HERE / 'node_app' / 'server.js'], env=scrubbed_env(), name='node',
                             stdout_pipe=True)
        port = int(app.read_stdout_line(STARTUP_TIMEOUT))
        return app, port

    def test_repeated_query_keys_and_repeated_headers_keep_the_event_order(self):
        result = self.result_of({
            "httpMethod": "GET", "path": "/echo/path", "requestContext": {},
            "queryStringParameters": {"zeta": "2", "alpha": "x"},
            "multiValueQueryStringParameters": {"zeta": ["1", "2"], "alpha": ["x"]},
            "headers": {"X-Multi": "third", "X-Only-Single": "s", "Accept": "*/*"},
            "multiValueHeaders": {"X-Multi": ["first", "second", "third"], "Accept": ["*/*"]},
        })

        self.assertEqual(result.get('statusCode'), 200, result)
        seen = json.loads(result['body'])
        self.assertEqual(seen['method'], 'GET')
        self.assertEqual(seen['url'], '/echo/path?zeta=1&zeta=2&alpha=x')
        multi = [v for k, v in seen['rawHeaders'] if k.lower() == 'x-multi']
        self.assertEqual(multi, ['first', 'second', 'third'], seen['rawHeaders'])
        single = [v for k, v in seen['rawHeaders'] if k.lower() == 'x-only-single']
        self.assertEqual(single, ['s'], 'a header only in `headers` is still sent, once')
        self.assertEqual(dict_get_ci(result.get('multiValueHeaders'), 'set-cookie'), ['n1=a', 'n2=b'], result)


if __name__ == '__main__':
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        sys.exit(f'{SYSTEM_PYTHON} not found')
    unittest.main()
