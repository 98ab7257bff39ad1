#!/usr/bin/python3
"""The app boundary (issue 11): one invocation's reply never reaches another, and nothing an app sends can kill the
bridge — through the real binary, against the fake Runtime API and a raw-socket app that frames its replies badly on
purpose (a reply longer than its Content-Length, a body on a 204 or HEAD reply, a 408 on an idle connection, 101
and other odd interim replies, statuses outside 100-599, unknown transfer codings, oversized trailers).

Each test asserts what every invocation got against what its own request asked for: the app answers each request
with a body naming the request's path, so a reply that reaches the wrong invocation shows as a wrong body. The app
also appends a smuggled reply (a 302 to https://evil.example/ with an attacker's Set-Cookie), which must never be
any invocation's result.

Run: /usr/bin/python3 tests/component/test_app_boundary.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""
import base64
import json
import os
import sys
import threading
import time
import unittest
from typing import Callable, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BridgeTestCase, RawServer, recv_body, recv_head  # noqa: E402

SMUGGLED = (b'HTTP/1.1 302 Found\r\nLocation: https://evil.example/\r\nSet-Cookie: session=attacker\r\n'
            b'Content-Length: 0\r\n\r\n')


def reply(status: str, body: bytes = b'', headers: tuple = (), length: Optional[int] = None) -> bytes:
    """An HTTP/1.1 reply; `length` overrides the Content-Length (None: the body's own, -1: no Content-Length)."""
    head = [f'HTTP/1.1 {status}', 'Content-Type: text/plain', *headers]
    n = len(body) if length is None else length
    if n >= 0:
        head.append(f'Content-Length: {n}')
    return ('\r\n'.join(head) + '\r\n\r\n').encode('latin-1') + body


def own_body(path: str) -> bytes:
    return f'reply to {path}'.encode()


class BoundaryApp(RawServer):
    """A raw-socket app on 127.0.0.1. For each request, answer(app, method, path) returns the bytes to send at once;
    after(app, conn, path) may then act on the idle connection (write more, close). The readiness probe's GET / gets
    a plain 200. Every request is recorded as (method, path, connection number)."""

    def __init__(self, answer: Callable, after: Optional[Callable] = None):
        self.answer = answer
        self.after = after
        self.seen: list[tuple[str, str, int]] = []
        self._cond = threading.Condition()
        super().__init__()

    def _serve(self, conn, n):
        buf = b''
        while True:
            head, buf = recv_head(conn, buf)
            if head is None:
                return
            _, buf = recv_body(conn, head, buf)
            method, target = head.split(b'\r\n', 1)[0].decode('latin-1').split(' ')[:2]
            path = target.split('?', 1)[0]
            if path == '/':
                conn.sendall(reply('200 OK', b'ready'))
                continue
            with self._cond:
                self.seen.append((method, path, n))
                self._cond.notify_all()
            data = self.answer(self, method, path)
            if data is None:
                return
            conn.sendall(data)
            if self.after is not None and self.after(self, conn, path) is None:
                return

    def connection_of(self, path: str) -> int:
        with self._cond:
            return next(n for _, p, n in self.seen if p == path)

    def paths_seen(self) -> list[str]:
        with self._cond:
            return [p for _, p, _ in self.seen]


def rest_event(path: str, method: str = 'GET') -> dict:
    return {"httpMethod": method, "path": path, "requestContext": {}}


class BoundaryTestCase(BridgeTestCase):

    def start(self, answer, after=None, **env):
        app = BoundaryApp(answer, after)
        self.addCleanup(app.stop)
        fake = self.start_fake()
        bridge = self.start_bridge(fake, app.port, **env)
        return app, fake, bridge

    def assert_own_reply(self, posted, path: str):
        result = self.assert_response(posted)
        self.assertEqual(result.get('statusCode'), 200, f'{path}: {result}{self.context()}')
        self.assertEqual(result.get('body'), own_body(path).decode(), f'{path} got another reply{self.context()}')
        self.assertNotIn('evil.example', str(result), self.context())
        return result

    def assert_invocations_get_their_own_replies(self, fake, paths, method='GET'):
        ids = [(fake.push(rest_event(p, method)), p) for p in paths]
        for rid, path in ids:
            self.assert_own_reply(fake.wait_result(rid, 20), path)


# ----------------------------------------------------------------------------------------------------------------

class RepliesPastTheirFraming(BoundaryTestCase):

    def test_a_reply_longer_than_its_content_length_never_reaches_another_invocation_at_concurrency_8(self):
        app, fake, _ = self.start(lambda app, m, path: reply('200 OK', own_body(path)) + SMUGGLED,
                                  AWS_LAMBDA_MAX_CONCURRENCY='8')
        fake.wait_polling(8, 10)
        paths = [f'/n/{i}' for i in range(40)]
        self.assert_invocations_get_their_own_replies(fake, paths)
        self.assertEqual(sorted(app.paths_seen()), sorted(paths), 'every request must reach the app')

    def test_bytes_the_app_writes_after_its_reply_are_never_read_as_the_next_reply(self):
        def smuggle_later(app, conn, path):
            time.sleep(0.05)  # after the bridge has the reply, before the next invocation
            conn.sendall(SMUGGLED)
            return True
        app, fake, _ = self.start(lambda app, m, path: reply('200 OK', own_body(path)), smuggle_later)
        for i in range(3):
            self.assert_own_reply(self.invoke(fake, rest_event(f'/late/{i}')), f'/late/{i}')
            time.sleep(0.2)
        self.assertEqual(app.paths_seen(), ['/late/0', '/late/1', '/late/2'])

    def test_a_body_on_a_204_reply_never_reaches_the_next_invocation(self):
        def answer(app, method, path):
            if path.startswith('/empty'):
                return reply('204 No Content', length=-1) + SMUGGLED
            return reply('200 OK', own_body(path))
        _, fake, _ = self.start(answer)
        for i in range(3):
            result = self.assert_response(self.invoke(fake, rest_event(f'/empty/{i}')))
            self.assertEqual(result.get('statusCode'), 204, result)
            self.assert_own_reply(self.invoke(fake, rest_event(f'/after/{i}')), f'/after/{i}')

    def test_a_body_on_a_head_reply_never_reaches_the_next_invocation(self):
        def answer(app, method, path):
            body = own_body(path)
            return reply('200 OK', body) + SMUGGLED if method == 'HEAD' else reply('200 OK', body)
        _, fake, _ = self.start(answer)
        for i in range(3):
            result = self.assert_response(self.invoke(fake, rest_event(f'/head/{i}', 'HEAD')))
            self.assertEqual(result.get('statusCode'), 200, result)
            self.assertEqual(result.get('body', ''), '', result)
            self.assert_own_reply(self.invoke(fake, rest_event(f'/after/{i}')), f'/after/{i}')


class IdleConnections(BoundaryTestCase):

    def run_408_case(self, close: bool):
        def time_out_idle(app, conn, path):
            time.sleep(0.05)
            conn.sendall(reply('408 Request Timeout', b'idle', ('Connection: close',)))
            return None if close else True
        app, fake, _ = self.start(lambda app, m, path: reply('200 OK', own_body(path)), time_out_idle)
        self.assert_own_reply(self.invoke(fake, rest_event('/first')), '/first')
        time.sleep(0.3)
        self.assert_own_reply(self.invoke(fake, rest_event('/second')), '/second')
        self.assertIn('/second', app.paths_seen(), 'the app must see the second request')
        self.assertNotEqual(app.connection_of('/first'), app.connection_of('/second'))

    def test_a_408_the_app_writes_on_an_idle_connection_closed_or_left_open_is_not_the_next_result(self):
        for close in (True, False):
            with self.subTest(close=close):
                self.run_408_case(close)


class InterimAndUpgrades(BoundaryTestCase):

    def test_101_switching_protocols_fails_its_invocation_and_the_connection_is_never_reused(self):
        def answer(app, method, path):
            if path == '/upgrade':
                return (b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
                        + SMUGGLED)
            return reply('200 OK', own_body(path))
        app, fake, bridge = self.start(answer)
        doc = self.assert_error(self.invoke(fake, rest_event('/upgrade')), 'Runtime.BackendInvalidResponse')
        self.assertIn('101', doc['errorMessage'])
        self.assert_own_reply(self.invoke(fake, rest_event('/after')), '/after')
        self.assertNotEqual(app.connection_of('/upgrade'), app.connection_of('/after'))
        self.assertTrue(bridge.running(), bridge.tail())

    def assert_served_then(self, path: str, answer, same_connection: bool):
        """`path` gets its own reply from `answer`; the next request goes on the same connection or a new one."""
        app, fake, _ = self.start(answer)
        self.assert_own_reply(self.invoke(fake, rest_event(path)), path)
        self.assert_own_reply(self.invoke(fake, rest_event('/after')), '/after')
        self.assertEqual(app.connection_of(path) == app.connection_of('/after'), same_connection,
                         f'connections: {app.seen}')

    def test_an_upgrade_offered_on_a_200_reply_serves_its_invocation_and_ends_the_connection(self):
        def answer(app, method, path):
            headers = ('Upgrade: h2c', 'Connection: Upgrade') if path == '/offer' else ()
            return reply('200 OK', own_body(path), headers)
        self.assert_served_then('/offer', answer, same_connection=False)

    def test_a_102_interim_reply_serves_its_own_invocation_and_ends_the_connection(self):
        def answer(app, method, path):
            interim = b'HTTP/1.1 102 Processing\r\n\r\n' if path == '/processing' else b''
            return interim + reply('200 OK', own_body(path))
        self.assert_served_then('/processing', answer, same_connection=False)

    def test_100_and_103_interim_replies_keep_the_connection(self):
        def answer(app, method, path):
            interim = b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n'
            return (interim if path == '/hints' else b'') + reply('200 OK', own_body(path))
        self.assert_served_then('/hints', answer, same_connection=True)

class RepliesTheBridgeCannotRelay(BoundaryTestCase):

    def assert_refused(self, head: bytes, *words: str):
        def answer(app, method, path):
            return head + SMUGGLED if path == '/odd' else reply('200 OK', own_body(path))
        _, fake, bridge = self.start(answer)
        doc = self.assert_error(self.invoke(fake, rest_event('/odd')), 'Runtime.BackendInvalidResponse')
        for w in words:
            self.assertIn(w, doc['errorMessage'])
        self.assert_own_reply(self.invoke(fake, rest_event('/after')), '/after')
        self.assertTrue(bridge.running(), bridge.tail())

    def test_status_600_is_a_named_error(self):
        self.assert_refused(reply('600 Beyond', b'x'), '600', '100-599')

    def test_status_099_is_a_named_error(self):
        self.assert_refused(reply('099 Below', b'x'), '99', '100-599')

    def test_transfer_encoding_gzip_chunked_is_a_named_error(self):
        self.assert_refused(reply('200 OK', b'5\r\nhello\r\n0\r\n\r\n', ('Transfer-Encoding: gzip, chunked',), -1),
                            'gzip, chunked')

    def test_transfer_encoding_gzip_then_chunked_on_two_lines_is_a_named_error(self):
        self.assert_refused(reply('200 OK', b'5\r\nhello\r\n0\r\n\r\n',
                                  ('Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'), -1), "Encoding: gzip'")


class Trailers(BoundaryTestCase):

    @staticmethod
    def chunked(body: bytes, trailer: bytes) -> bytes:
        return (b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' +
                f'{len(body):x}\r\n'.encode() + body + b'\r\n0\r\n' + trailer + b'\r\n')

    def run_trailer_case(self, trailer: bytes, **env):
        held = threading.Event()

        def answer(app, method, path):
            if path == '/trailer':
                return self.chunked(b'hello', trailer)
            if path.startswith('/slow'):
                held.wait(5)
            return reply('200 OK', own_body(path))
        _, fake, bridge = self.start(answer, AWS_LAMBDA_MAX_CONCURRENCY='4', **env)
        fake.wait_polling(4, 10)
        slow = [(fake.push(rest_event(f'/slow/{i}')), f'/slow/{i}') for i in range(3)]
        doc = self.assert_error(self.invoke(fake, rest_event('/trailer')), 'Runtime.BackendInvalidResponse')
        self.assertIn('trailer', doc['errorMessage'])
        self.assertIn('65536', doc['errorMessage'])
        held.set()
        for rid, path in slow:
            self.assert_own_reply(fake.wait_result(rid, 20), path)
        self.assertTrue(bridge.running(), bridge.tail())
        self.assert_own_reply(self.invoke(fake, rest_event('/after')), '/after')

    def test_a_trailer_field_of_65535_bytes_fails_its_invocation_and_the_three_others_in_flight_complete(self):
        self.run_trailer_case(b'X-Big: ' + b'a' * 65535 + b'\r\n')

    def test_a_megabyte_of_small_trailer_fields_fails_its_invocation_and_the_others_complete(self):
        self.run_trailer_case(b''.join(b'X-T%d: v\r\n' % i for i in range(100_000)))

    def test_a_streamed_reply_with_a_65535_byte_trailer_field_fails_the_stream_and_the_bridge_keeps_serving(self):
        def answer(app, method, path):
            if path == '/trailer':
                return self.chunked(b'hello', b'X-Big: ' + b'a' * 65535 + b'\r\n')
            return reply('200 OK', own_body(path))
        _, fake, bridge = self.start(answer, AWS_LWA_INVOKE_MODE='response_stream')
        rid = fake.push({"version": "2.0", "rawPath": "/trailer", "requestContext": {"http": {"method": "GET"}}})
        posted = fake.wait_result(rid, 20)
        self.assertEqual(dict(posted.trailers).get('Lambda-Runtime-Function-Error-Type'), 'Runtime.StreamError',
                         f'{posted.trailers}{self.context()}')
        error = json.loads(base64.b64decode(dict(posted.trailers)['Lambda-Runtime-Function-Error-Body']))
        self.assertEqual(error['errorType'], 'Runtime.BackendInvalidResponse', error)
        self.assertIn('trailer', error['errorMessage'])
        self.assertTrue(bridge.running(), bridge.tail())
        rid = fake.push({"version": "2.0", "rawPath": "/after", "requestContext": {"http": {"method": "GET"}}})
        posted = fake.wait_result(rid, 20)
        self.assertIn(own_body('/after'), posted.body, self.context())


if __name__ == '__main__':
    unittest.main()
