#!/usr/bin/python3
"""Apps that write a reply in several pieces with Nagle's algorithm on, through the real binary (issue 14, item 1).

Python's http.server writes the head and the body in two writes; many servers do the same, or write a small body in
pieces. With Nagle on (the default for a socket), the app's kernel holds each piece after the first until the
previous one is acknowledged, and a peer that delays its ACK (Linux does, for at least 40 ms, on a connection it
believes interactive) adds that delay to every invocation. The bridge cannot change the app, so it must acknowledge
at once. Each test serves 20 invocations and checks the median: a delayed ACK is never sent before 40 ms
(TCP_DELACK_MIN), so a median under 20 ms shows no piece waited for one, with room for a loaded machine.

Run: /usr/bin/python3 tests/component/test_app_write_patterns.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import http.server
import os
import socket
import statistics
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BridgeTestCase, recv_body, recv_head, rest_event  # noqa: E402
from harness.emulator import EmulatorTestCase  # noqa: E402

INVOCATIONS = 20
MEDIAN_LIMIT = 0.020  # seconds; a delayed ACK costs at least 0.040


class HttpServerApp:
    """Python's own http.server with HTTP/1.1 keep-alive and Nagle left on: send_response/end_headers flush the
    head in one write, then the body goes out in a second write."""

    def __init__(self, body: bytes):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class PiecewiseApp:
    """A raw-socket app that sends each reply as the given list of writes, Nagle on, keep-alive. With
    `in_pieces_every` N, only every Nth reply goes in pieces, the others in one write."""

    def __init__(self, pieces: list, in_pieces_every: int = 1):
        self.pieces = pieces
        self.in_pieces_every = in_pieces_every
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        # The premise of the test: nothing here turns Nagle off.
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        rest = b''
        replies = 0  # on this connection (the bridge's readiness probe has its own)
        with conn:
            while True:
                head, rest = recv_head(conn, rest)
                if head is None:
                    return
                _, rest = recv_body(conn, head, rest)
                replies += 1
                if replies % self.in_pieces_every != 0:
                    conn.sendall(b''.join(self.pieces))
                    continue
                for piece in self.pieces:
                    conn.sendall(piece)

    def stop(self):
        self.stopping = True
        self.listener.close()


class AppsWritingInPieces(BridgeTestCase):

    def invocation_times(self, port: int, expected_body: str, count: int = INVOCATIONS) -> list:
        fake = self.start_fake()
        self.start_bridge(fake, port)
        took = []
        for i in range(count):
            started = time.monotonic()
            posted = fake.wait_result(fake.push(rest_event(f'/piece/{i}')), timeout=10)
            result = self.assert_response(posted)
            self.assertEqual(result.get('statusCode'), 200, result)
            self.assertEqual(result.get('body'), expected_body, result)
            took.append(posted.at - started)
        return took

    def median_invocation(self, port: int, expected_body: str) -> float:
        return statistics.median(self.invocation_times(port, expected_body))

    def assert_no_stall(self, median: float):
        self.assertLess(median, MEDIAN_LIMIT,
                        f'median invocation {median * 1000:.1f} ms: the app waited for a delayed ACK '
                        f'between its writes\n{self.context()}')

    def test_http_server_writing_head_then_body_is_not_delayed(self):
        app = HttpServerApp(b'hello from http.server')
        self.addCleanup(app.stop)
        self.assert_no_stall(self.median_invocation(app.port, 'hello from http.server'))

    def test_content_length_body_in_four_small_writes_is_not_delayed(self):
        app = PiecewiseApp([b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n',
                            b'one ', b'two ', b'end.'])
        self.addCleanup(app.stop)
        self.assert_no_stall(self.median_invocation(app.port, 'one two end.'))

    def test_chunked_body_in_small_writes_is_not_delayed(self):
        app = PiecewiseApp([b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n',
                            b'4\r\none \r\n', b'4\r\ntwo \r\n', b'4\r\nend.\r\n', b'0\r\n\r\n'])
        self.addCleanup(app.stop)
        self.assert_no_stall(self.median_invocation(app.port, 'one two end.'))

    def test_interim_reply_then_reply_is_not_delayed(self):
        # 100 Continue in one write, the reply in the next: the app holds the second until the first is
        # acknowledged, and nothing of the reply itself has arrived when the bridge waits for it.
        app = PiecewiseApp([b'HTTP/1.1 100 Continue\r\n\r\n',
                            b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello'])
        self.addCleanup(app.stop)
        self.assert_no_stall(self.median_invocation(app.port, 'hello'))

    def assert_pieces_after_whole_replies_not_delayed(self, pieces: list):
        # After 8 replies in a row that came whole, the bridge arms quick ACKs on that connection only once a reply
        # shows it comes in pieces (backend_connection::whole_replies_for_lazy_acks). Every 10th reply here comes in
        # pieces, each after 9 whole ones, and the app holds each piece until the one before is acknowledged.
        every = 10
        app = PiecewiseApp(pieces, in_pieces_every=every)
        self.addCleanup(app.stop)
        took = self.invocation_times(app.port, 'hello', count=10 * every)
        self.assert_no_stall(statistics.median(took[every - 1::every]))

    def test_reply_in_pieces_after_many_whole_ones_is_not_delayed(self):
        self.assert_pieces_after_whole_replies_not_delayed(
            [b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n', b'hello'])

    def test_head_in_pieces_after_many_whole_replies_is_not_delayed(self):
        self.assert_pieces_after_whole_replies_not_delayed(
            [b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n', b'Content-Length: 5\r\n\r\nhello'])

    def test_interim_reply_after_many_whole_replies_is_not_delayed(self):
        self.assert_pieces_after_whole_replies_not_delayed(
            [b'HTTP/1.1 100 Continue\r\n\r\n',
             b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello'])


class ClientsWritingInPieces(EmulatorTestCase):
    """The local invoke API is a server too: a client that sends its request head and body in two writes, Nagle
    on, on a keep-alive connection, must not wait for a delayed ACK from the emulator either."""

    def test_invoke_request_with_head_and_body_in_two_writes_is_not_delayed(self):
        emu = self.start_emulator()
        body = b'{"httpMethod":"GET","path":"/","requestContext":{}}'
        head = (b'POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: localhost\r\n'
                b'Content-Type: application/json\r\nContent-Length: ' + str(len(body)).encode() + b'\r\n\r\n')
        took = []
        with socket.create_connection(('127.0.0.1', emu.invoke_port), timeout=10) as conn:
            rest = b''
            for _ in range(INVOCATIONS):
                started = time.monotonic()
                conn.sendall(head)
                conn.sendall(body)
                reply_head, rest = recv_head(conn, rest)
                self.assertIsNotNone(reply_head, 'the emulator closed the connection')
                _, rest = recv_body(conn, reply_head, rest)
                took.append(time.monotonic() - started)
                self.assertTrue(reply_head.startswith(b'HTTP/1.1 200'), reply_head)
        median = statistics.median(took)
        self.assertLess(median, MEDIAN_LIMIT, f'median invocation {median * 1000:.1f} ms: the request body waited '
                        f'for a delayed ACK\n{self.context()}')


if __name__ == '__main__':
    unittest.main()
