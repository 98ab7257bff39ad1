#!/usr/bin/python3
"""lambda-bridge's local emulation mode (no AWS_LAMBDA_RUNTIME_API), its gateway emulation: the same HTTP round
trips in each of the four formats (HTTP API, REST API, ALB, Function URL), function errors and timeouts as a gateway
answers them, and both listeners (invoke API and gateway) facing hostile clients — through the real binary, with
apps/web_app.py as the app it starts itself. The invoke API itself: test_emulator.py.

Contract: the entrypoint issue ("Local emulation mode") and runtime-api.md §5. Listeners bind 127.0.0.1 port 0 and
their ports are read from the bridge's log (harness/emulator.py).

Run: /usr/bin/python3 tests/component/test_emulator_gateway.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import base64
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    GATEWAY_LINE, INVOKE_PATH, SYSTEM_PYTHON, EmulatorTestCase, HttpReply, header_values, http_request, invoke,
    rest_get,
)
from apps.web_app import PNG_BYTES  # noqa: E402


class _GatewayCases:
    """The same HTTP round trips through the gateway emulation in each format (FORMAT)."""

    FORMAT = ''
    QUERY_TARGETS = ('/echo?a=1&a=2',)
    REQUEST_BODY = b'{"k":"v"}\x00\x01\xfe\xff\r\n end'

    def setUp(self):
        super().setUp()
        self.emu = self.start_emulator(gateway='0', LAMBDA_BRIDGE_GATEWAY_FORMAT=self.FORMAT)
        fmt = GATEWAY_LINE.search(self.emu.bridge.output()).group(1)
        self.assertEqual(fmt, self.FORMAT)

    def gateway(self, method, target, body=None, headers=None) -> HttpReply:
        return http_request(self.emu.gateway_port, method, target, body, headers)

    def test_get_reaches_the_app_intact_and_status_headers_two_cookies_and_body_come_back(self):
        reply = self.gateway('GET', '/echo?a=1&a=2', headers={'Cookie': 'c=1; d=2', 'X-Custom-Header': 'hello world'})

        self.assertEqual(reply.status, 201, f'{reply}{self.context()}')
        self.assertEqual(reply.header('X-App'), 'yes', reply)
        self.assertEqual((reply.header('Content-Type') or '').split(';')[0], 'application/json', reply)
        self.assertEqual(reply.headers.get_all('Set-Cookie'), ['c1=v1; Path=/', 'c2=v2; HttpOnly'], reply)
        echoed = reply.json()
        self.assertEqual(echoed['method'], 'GET')
        self.assertEqual(echoed['path'], '/echo')
        self.assertIn(echoed['target'], self.QUERY_TARGETS, echoed)
        self.assertEqual(header_values(echoed, 'X-Custom-Header'), ['hello world'], echoed['headers'])
        cookies = [c.strip() for v in header_values(echoed, 'Cookie') for c in v.split(';')]
        self.assertEqual(cookies, ['c=1', 'd=2'], echoed['headers'])

    def test_binary_reply_comes_back_byte_exact(self):
        reply = self.gateway('GET', '/png')

        self.assertEqual(reply.status, 200, f'{reply}{self.context()}')
        self.assertEqual(reply.header('Content-Type'), 'image/png', reply)
        self.assertEqual(reply.body, PNG_BYTES, 'the PNG must come back byte for byte')

    def test_the_app_is_told_the_scheme_was_plain_http_unless_a_proxy_in_front_said_otherwise(self):
        plain = self.gateway('GET', '/echo').json()
        proxied = self.gateway('GET', '/echo', headers={'X-Forwarded-Proto': 'https'}).json()

        self.assertEqual(header_values(plain, 'X-Forwarded-Proto'), ['http'], plain['headers'])
        self.assertEqual(header_values(proxied, 'X-Forwarded-Proto'), ['https'], proxied['headers'])

    def test_post_body_arrives_intact(self):
        reply = self.gateway('POST', '/echo', self.REQUEST_BODY, {'Content-Type': 'application/octet-stream'})

        self.assertEqual(reply.status, 201, f'{reply}{self.context()}')
        echoed = reply.json()
        self.assertEqual(echoed['method'], 'POST')
        self.assertEqual(base64.b64decode(echoed['body_b64']), self.REQUEST_BODY)


class HttpApiGateway(_GatewayCases, EmulatorTestCase):
    FORMAT = 'http-api'


class RestApiGateway(_GatewayCases, EmulatorTestCase):
    FORMAT = 'rest'


class AlbGateway(_GatewayCases, EmulatorTestCase):
    FORMAT = 'alb'
    # An ALB target group without multi-value headers passes only the last value of a repeated query key; with
    # them, all of them. Either is what "an ALB" does.
    QUERY_TARGETS = ('/echo?a=1&a=2', '/echo?a=2')


class FunctionUrlGateway(_GatewayCases, EmulatorTestCase):
    FORMAT = 'function-url'


class GatewayErrors(EmulatorTestCase):

    def test_function_error_becomes_502_internal_server_error(self):
        emu = self.start_emulator(gateway='0', AWS_LWA_ERROR_STATUS_CODES='500')

        reply = http_request(emu.gateway_port, 'GET', '/status/500')

        self.assertEqual(reply.status, 502, f'{reply}{self.context()}')
        self.assertEqual(reply.json(), {'message': 'Internal Server Error'})

    def test_function_timeout_becomes_504(self):
        emu = self.start_emulator(gateway='0', AWS_LAMBDA_FUNCTION_TIMEOUT='1')
        self.assertEqual(http_request(emu.gateway_port, 'GET', '/').status, 200)  # the app is up

        started = time.monotonic()
        reply = http_request(emu.gateway_port, 'GET', '/slow?s=3', timeout=10)

        self.assertEqual(reply.status, 504, f'{reply}{self.context()}')
        self.assertLess(time.monotonic() - started, 2.0)


class HostileClients(EmulatorTestCase):
    """The listeners face any client (LAMBDA_BRIDGE_EMULATOR_HOST may be 0.0.0.0): a request they cannot take is
    answered 400 and ends that connection only (issue 11: one 64 KB trailer field aborted the process)."""

    @staticmethod
    def raw_request(port: int, data: bytes) -> bytes:
        with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may refuse before it has read it all; its answer is still there to read
            out = b''
            while chunk := s.recv(65536):
                out += chunk
            return out

    @staticmethod
    def chunked_post(target: str, trailer: bytes) -> bytes:
        body = b'{"httpMethod":"GET","path":"/echo","requestContext":{}}'
        return (f'POST {target} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n'.encode() +
                f'{len(body):x}\r\n'.encode() + body + b'\r\n0\r\n' + trailer + b'\r\n')

    def test_oversized_trailers_and_heads_get_400_and_both_listeners_keep_serving(self):
        emu = self.start_emulator(gateway='0')
        hostile = {
            'a 65,535-byte trailer field': b'X-Big: ' + b'a' * 65535 + b'\r\n',
            'a megabyte of small trailer fields': b''.join(b'X-T%d: v\r\n' % i for i in range(100_000)),
        }
        for port, target in ((emu.invoke_port, INVOKE_PATH), (emu.gateway_port, '/echo')):
            for what, trailer in hostile.items():
                with self.subTest(port=port, trailer=what):
                    answer = self.raw_request(port, self.chunked_post(target, trailer))
                    self.assertTrue(answer.startswith(b'HTTP/1.1 400 '), f'{answer[:300]!r}{self.context()}')
                    self.assertIn(b'65536', answer)
            with self.subTest(port=port, head='a 70 KB header field'):
                answer = self.raw_request(port, f'GET {target} HTTP/1.1\r\nX-Big: {"a" * 70_000}\r\n\r\n'.encode())
                self.assertTrue(answer.startswith(b'HTTP/1.1 400 '), f'{answer[:300]!r}{self.context()}')
        self.assertTrue(emu.bridge.running(), emu.bridge.tail())
        result = self.assert_result(invoke(emu.invoke_port, rest_get('/echo')))
        self.assertEqual(result.get('statusCode'), 201, result)
        self.assertEqual(http_request(emu.gateway_port, 'GET', '/echo').status, 201)


if __name__ == '__main__':
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        sys.exit(f'{SYSTEM_PYTHON} not found')
    unittest.main()
