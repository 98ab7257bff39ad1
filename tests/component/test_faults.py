#!/usr/bin/python3
"""Faults of the app and of the Runtime API, through the real lambda-bridge binary (issue 6, "Faults"): each one
fails only its own invocation with a clear error type and message, and the bridge keeps serving — or exits
exactly where Lambda requires it to.

Every fault the issue lists, and the test that proves it ("loop:" test_invocation_loop.py, "replies:"
test_app_replies.py and "runtime:" test_runtime_api.py, which already covered some and are not repeated here;
"here:" this file):

- the app refuses the connection
    loop: BackendFailuresBecomeInvocationErrors.test_unreachable_backend_gives_backend_unreachable_and_the_bridge_keeps_serving
- the app resets mid-request (RST)
    here: AppResets.test_app_resetting_mid_request_gives_backend_invalid_response_and_the_next_event_succeeds
- the app resets mid-reply (RST, in the head and in the body)
    here: AppResets.test_app_resetting_mid_reply_gives_backend_invalid_response_and_the_next_event_succeeds
    replies: BrokenAppReplies.test_reply_cut_off_mid_body_gives_backend_invalid_response_and_the_bridge_keeps_serving (FIN)
- the app sends garbage
    replies: BrokenAppReplies.test_reply_that_is_not_http_gives_backend_invalid_response_and_the_bridge_keeps_serving
- the app sends 100 KB of headers (many lines, and one line)
    here: OversizedReplyHeader.test_reply_header_of_100_kb_gives_backend_invalid_response_naming_the_limit_and_the_next_event_succeeds
- the app never answers
    here: SilentApps.test_app_that_never_answers_gives_backend_timeout_before_the_deadline_and_its_connection_is_closed
- the app answers after the deadline
    here: SilentApps.test_answer_after_the_deadline_is_not_posted_and_its_connection_is_not_reused
    loop: BackendFailuresBecomeInvocationErrors.test_backend_slower_than_the_deadline_gives_backend_timeout_before_the_deadline_passes
- the Runtime API answers 500 (exit non-zero)
    loop: RuntimeApiProtocol.test_next_answering_500_makes_the_bridge_exit_non_zero (/next)
    loop: RuntimeApiProtocol.test_500_on_a_response_post_makes_the_bridge_exit_non_zero (/response)
    here: RuntimeApiFailures.test_runtime_api_answering_500_to_next_response_or_error_exits_non_zero_naming_the_status
          (/error as well, the log line naming the status, and no second post)
- the Runtime API answers 413 to a result
    loop: RuntimeApiProtocol.test_413_on_a_response_post_is_followed_by_an_error_post_for_the_same_id
- the Runtime API drops the /next connection
    runtime: RuntimeApiConnection.test_next_connection_closed_without_an_answer_is_reconnected_and_the_event_served
- the Runtime API is unreachable at start (exit non-zero)
    runtime: RuntimeApiConnection.test_runtime_api_refusing_connections_at_start_makes_the_bridge_exit_non_zero_naming_it
- a 6 MB event
    here: SixMegabyteEvents.test_event_at_the_default_limit_reaches_the_app_byte_exact_and_one_byte_more_fails_with_event_too_large
    runtime: OversizedEvents.* (a lowered limit, both framings)
- a 10 s SIGSTOP/SIGCONT freeze between invocations, then a stale keep-alive
    here: Freeze.test_ten_second_freeze_while_the_app_drops_the_pooled_connection_is_served_on_a_fresh_one

Run: /usr/bin/python3 tests/component/test_faults.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import unittest
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BridgeTestCase, RawServer, fixed, proc_stat, recv_body, recv_head, wait_until  # noqa: E402

OK_REPLY = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'
MAX_EVENT_BYTES = 6_291_556  # LAMBDA_BRIDGE_MAX_EVENT_BYTES's default (docs/configuration.md)


def rest_event(path, method='GET', **extra):
    event = {"httpMethod": method, "path": path, "requestContext": {}}
    event.update(extra)
    return event


def reset(conn: socket.socket):
    """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except OSError:
        pass
    conn.close()


class ScriptedApp(RawServer):
    """A raw-socket app on 127.0.0.1. Each request's head is read off the wire; routes[path](app, conn, head, rest)
    then does what the fault needs and returns the bytes it read past the request (the connection stays alive and
    serves the next request) or None (it is done with the connection). Other paths read the body and answer 200
    'ok' on a kept-alive connection. Every request is recorded as (path, client port, nth on its connection)."""

    def __init__(self, routes=None, receive_buffer: Optional[int] = None):
        self.routes = dict(routes or {})
        self.seen: list[tuple[str, int, int]] = []
        self.closed_by_peer: list[str] = []  # paths whose connection the bridge closed while the app held it
        self.stopping = threading.Event()
        self._cond = threading.Condition()
        super().__init__(receive_buffer)  # a small window keeps the bridge writing a large request

    read_head = staticmethod(recv_head)
    read_body = staticmethod(recv_body)

    def wait_peer_close(self, conn, path, timeout=10):
        """Block until the bridge closes the connection (or the app stops); recorded in closed_by_peer."""
        conn.settimeout(0.05)
        end = time.monotonic() + timeout
        while time.monotonic() < end and not self.stopping.is_set():
            try:
                if not conn.recv(65536):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        else:
            return
        with self._cond:
            self.closed_by_peer.append(path)
            self._cond.notify_all()

    def _serve(self, conn, n):
        buf, nth = b'', 0
        port = conn.getpeername()[1]
        while True:
            head, buf = self.read_head(conn, buf)
            if head is None:
                return
            nth += 1
            target = head.split(b'\r\n', 1)[0].split(b' ')[1].decode('latin-1')
            path = target.split('?', 1)[0]
            with self._cond:
                self.seen.append((path, port, nth))
                self._cond.notify_all()
            handler = self.routes.get(path)
            if handler is None:
                _, buf = self.read_body(conn, head, buf)
                conn.sendall(OK_REPLY)
                continue
            buf = handler(self, conn, head, buf)
            if buf is None:
                return

    def requests_to(self, path):
        with self._cond:
            return [s for s in self.seen if s[0] == path]

    def stop(self):
        self.stopping.set()
        super().stop()


class FaultTestCase(BridgeTestCase):

    def start_app(self, routes, **kwargs) -> ScriptedApp:
        app = ScriptedApp(routes, **kwargs)
        self.addCleanup(app.stop)
        return app

    def invoke_timed(self, fake, event, timeout=10, **push_kwargs):
        started = time.monotonic()
        rid = fake.push(event, **push_kwargs)
        posted = fake.wait_result(rid, timeout)
        return posted, posted.at - started

    def assert_only_post(self, fake, posted):
        self.assertEqual([p.kind for p in fake.results_for(posted.request_id)], [posted.kind],
                         f'the invocation was posted more than once{self.context()}')

    def assert_next_event_is_served(self, fake, bridge, app=None, path='/after'):
        """A normal event right after the fault succeeds; returns the app's (path, port, nth) for it."""
        self.assertTrue(bridge.running(), bridge.tail())
        result = self.assert_response(self.invoke(fake, rest_event(path)))
        self.assertEqual(result.get('statusCode'), 200, result)
        if app is not None:
            self.assertEqual(result.get('body'), 'ok', result)
            seen = app.requests_to(path)
            self.assertEqual(len(seen), 1, seen)
            return seen[0]
        return None

    def assert_each_path_fails_invalid(self, paths, handler, check):
        """Serves every path with `handler` and invokes each in turn: each must fail at once with
        Runtime.BackendInvalidResponse, `check(path, error_doc, app)` holds, and the next event is served."""
        fake = self.start_fake()
        app = self.start_app({path: handler for path in paths})
        bridge = self.start_bridge(fake, app.port)
        for n, path in enumerate(paths):
            with self.subTest(path=path):
                posted, elapsed = self.invoke_timed(fake, rest_event(path), deadline_in=5)

                doc = self.assert_error(posted, 'Runtime.BackendInvalidResponse')
                self.assertLess(elapsed, 2, f'the error took {elapsed:.2f}s: the fault was not noticed at once')
                check(path, doc, app)
                self.assert_only_post(fake, posted)
                self.assert_next_event_is_served(fake, bridge, app, path=f'/after-{n}')


# ----------------------------------------------------------------------------------------------------------------

class AppResets(FaultTestCase):

    def test_app_resetting_mid_request_gives_backend_invalid_response_and_the_next_event_succeeds(self):
        def read_part_then_reset(app, conn, head, rest):
            # 64 KB of a 5 MB body, then RST while the bridge is still sending the rest.
            while len(rest) < 64 * 1024:
                data = conn.recv(65536)
                if not data:
                    break
                rest += data
            reset(conn)
            return None

        fake = self.start_fake()
        # A small receive window and a body larger than the most a loopback send buffer holds (4 MB): the reset
        # comes while the bridge is still writing the request.
        app = self.start_app({'/reset-mid-request': read_part_then_reset}, receive_buffer=16 * 1024)
        bridge = self.start_bridge(fake, app.port, AWS_LAMBDA_LOG_LEVEL='INFO')
        event = rest_event('/reset-mid-request', 'POST', body='b' * (5 * 1024 * 1024))

        posted, elapsed = self.invoke_timed(fake, event, deadline_in=5)

        doc = self.assert_error(posted, 'Runtime.BackendInvalidResponse')
        self.assertLess(elapsed, 2, f'the error took {elapsed:.2f}s: the reset was not noticed at once')
        self.assertRegex(doc['errorMessage'], r'(?i)reset|broken pipe', doc)
        self.assertIn('sending the request', doc['errorMessage'], 'the message should say the request was cut off')
        self.assertIn(f'127.0.0.1:{app.port}', doc['errorMessage'], 'the message should name the app')
        self.assertLessEqual(len(app.requests_to('/reset-mid-request')), 2, 'retried more than once')
        self.assert_only_post(fake, posted)
        self.assert_next_event_is_served(fake, bridge, app)

    def test_app_resetting_mid_reply_gives_backend_invalid_response_and_the_next_event_succeeds(self):
        partial = {
            '/reset-mid-head': b'HTTP/1.1 200 OK\r\nContent-Type: text/pl',
            '/reset-mid-body': (b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n'
                                + b'p' * 100),
        }

        def send_part_then_reset(app, conn, head, rest):
            _, rest = app.read_body(conn, head, rest)
            path = head.split(b' ', 2)[1].decode()
            conn.sendall(partial[path])
            reset(conn)
            return None

        def check(path, doc, app):
            self.assertRegex(doc['errorMessage'], r'(?i)reset|closed the connection', doc)
            self.assertRegex(doc['errorMessage'], r"reading the reply's (header|body)", doc)

        self.assert_each_path_fails_invalid(partial, send_part_then_reset, check)


class OversizedReplyHeader(FaultTestCase):

    def test_reply_header_of_100_kb_gives_backend_invalid_response_naming_the_limit_and_the_next_event_succeeds(self):
        replies = {
            '/many-header-lines': b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-Filler-%05d: %s\r\n' % (i, b'f' * 48)
                                                                     for i in range(1600)),
            '/one-long-header-line': b'HTTP/1.1 200 OK\r\nX-Long: ' + b'l' * (100 * 1024) + b'\r\n',
        }
        for path, reply in replies.items():
            self.assertGreater(len(reply), 100 * 1024, path)

        def huge_header(app, conn, head, rest):
            _, rest = app.read_body(conn, head, rest)
            path = head.split(b' ', 2)[1].decode()
            try:
                conn.sendall(replies[path] + b'Content-Length: 2\r\n\r\nok')
            except OSError:
                pass  # the bridge stopped reading at its limit and closed the connection: expected
            app.wait_peer_close(conn, path)
            return None

        def check(path, doc, app):
            self.assertRegex(doc['errorMessage'], r'(?i)header', doc)
            self.assertRegex(doc['errorMessage'], r'(?i)limit|too large|too long', doc)
            wait_until(lambda: path in app.closed_by_peer, 5, 'the bridge to close the oversized reply')

        self.assert_each_path_fails_invalid(replies, huge_header, check)


class SilentApps(FaultTestCase):

    def test_app_that_never_answers_gives_backend_timeout_before_the_deadline_and_its_connection_is_closed(self):
        def never_answer(app, conn, head, rest):
            app.read_body(conn, head, rest)
            app.wait_peer_close(conn, '/never')
            return None

        fake = self.start_fake()
        app = self.start_app({'/never': never_answer})
        # A reserve of 300 ms leaves room for posting the error before the deadline on a busy machine.
        bridge = self.start_bridge(fake, app.port, LAMBDA_BRIDGE_DEADLINE_RESERVE_MS='300')
        deadline_in = 1.5

        posted, elapsed = self.invoke_timed(fake, rest_event('/never', 'POST', body='hello'), deadline_in=deadline_in)

        doc = self.assert_error(posted, 'Runtime.BackendTimeout')
        self.assertLess(elapsed, deadline_in, f'the error came {elapsed:.2f}s after the event, past the deadline')
        self.assertGreater(elapsed, deadline_in - 0.3 - 0.1, f'the bridge gave up after {elapsed:.2f}s, before the '
                                                             f'deadline less its reserve')
        self.assertIn('deadline', doc['errorMessage'], doc)
        self.assertIn("reading the reply's header", doc['errorMessage'], 'the message should say what was waited for')
        self.assert_only_post(fake, posted)
        wait_until(lambda: '/never' in app.closed_by_peer, 5, 'the bridge to close the silent connection')
        never = app.requests_to('/never')
        self.assertEqual(len(never), 1, never)
        after = self.assert_next_event_is_served(fake, bridge, app)
        self.assertNotEqual(after[1], never[0][1], 'the silent connection was reused')

    def test_answer_after_the_deadline_is_not_posted_and_its_connection_is_not_reused(self):
        gave_up = threading.Event()
        late_sent = threading.Event()

        def answer_late(app, conn, head, rest):
            app.read_body(conn, head, rest)
            gave_up.wait(10)  # until the bridge has posted its error for this invocation
            try:
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nlate')
            except OSError:
                pass
            late_sent.set()
            app.wait_peer_close(conn, '/late')
            return None

        fake = self.start_fake()
        app = self.start_app({'/late': answer_late})
        bridge = self.start_bridge(fake, app.port, LAMBDA_BRIDGE_DEADLINE_RESERVE_MS='300')
        # A connection in the pool first: the late answer must not end up on a connection that is used again.
        self.assert_next_event_is_served(fake, bridge, app, path='/warm')

        posted, elapsed = self.invoke_timed(fake, rest_event('/late'), deadline_in=1.0)
        gave_up.set()

        doc = self.assert_error(posted, 'Runtime.BackendTimeout')
        self.assertLess(elapsed, 1.0, f'the error came {elapsed:.2f}s after the event, past the deadline')
        self.assertRegex(doc['errorMessage'], r'(?i)deadline', doc)
        wait_until(late_sent.is_set, 5, 'the app to send its late answer')
        wait_until(lambda: '/late' in app.closed_by_peer, 5, 'the bridge to close the connection it gave up on')
        after = self.assert_next_event_is_served(fake, bridge, app)
        late = app.requests_to('/late')
        self.assertEqual(len(late), 1, late)
        self.assertNotEqual(after[1], late[0][1], 'the next request went on the connection that answered late')
        self.assert_only_post(fake, posted)  # the late 200 was never posted for the timed-out invocation


class RuntimeApiFailures(FaultTestCase):

    def test_runtime_api_answering_500_to_next_response_or_error_exits_non_zero_naming_the_status(self):
        cases = {
            '/next': lambda fake: fake.fail_next(500),
            '/response': lambda fake: fake.push(rest_event('/hello'), response_reply=500),
            '/error': lambda fake: fake.push(b'{"httpMethod": "GET", "path": ', error_reply=500),  # invalid JSON
        }
        for endpoint, provoke in cases.items():
            with self.subTest(endpoint=endpoint):
                fake = self.start_fake()
                app = self.start_app({})
                bridge = self.start_bridge(fake, app.port)

                rid = provoke(fake)
                code = bridge.wait_exit(5)

                self.assertNotEqual(code, 0, bridge.tail())
                exiting = [line for line in bridge.output().splitlines() if 'exiting' in line]
                self.assertTrue(exiting, f'no line says why the bridge exits\n{bridge.tail()}')
                self.assertRegex(exiting[-1], rf'(?i)\berror\b.*Runtime API.*{re.escape(endpoint)}.*HTTP 500',
                                 bridge.tail())
                if rid is not None:
                    self.assertEqual(len(fake.results_for(rid)), 1,
                                     f'after a 500 the bridge must exit, not post again{self.context()}')


class SixMegabyteEvents(FaultTestCase):

    def test_event_at_the_default_limit_reaches_the_app_byte_exact_and_one_byte_more_fails_with_event_too_large(self):
        fake, backend = self.start_fake(), self.start_backend()
        backend.route('/big', fixed(200, 'ok'))
        # INFO: at DEBUG every 6 MB event would also be written to the log.
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_LOG_LEVEL='INFO')

        def event_of_size(size, tag):
            event = rest_event('/big', 'POST', body='', headers={'X-Tag': tag})
            overhead = len(json.dumps(event).encode())
            body = ('0123456789abcdef' * ((size - overhead) // 16 + 1))[:size - overhead]
            event['body'] = body
            raw = json.dumps(event).encode()
            self.assertEqual(len(raw), size)
            return raw, body.encode()

        for chunked in (False, True):
            with self.subTest(chunked=chunked):
                at_limit, body = event_of_size(MAX_EVENT_BYTES, f'at-{chunked}')
                posted = self.invoke(fake, at_limit, timeout=30, chunked=chunked)

                result = self.assert_response(posted)
                self.assertEqual(result.get('statusCode'), 200, result)
                seen = backend.wait_request(lambda r: r.header('X-Tag') == f'at-{chunked}')
                self.assertEqual(len(seen.body), len(body))
                self.assertTrue(seen.body == body, 'the body reached the app altered')

                over, _ = event_of_size(MAX_EVENT_BYTES + 1, f'over-{chunked}')
                posted = self.invoke(fake, over, timeout=30, chunked=chunked)

                doc = self.assert_error(posted, 'Runtime.EventTooLarge')
                self.assertIn(str(MAX_EVENT_BYTES), doc['errorMessage'], 'the message should name the limit')
                self.assertIn('LAMBDA_BRIDGE_MAX_EVENT_BYTES', doc['errorMessage'], doc)
                self.assertFalse([r for r in backend.requests if r.header('X-Tag') == f'over-{chunked}'],
                                 'an oversized event reached the app')
                self.assert_only_post(fake, posted)
                self.assertTrue(bridge.running(), bridge.tail())
                small = self.assert_response(self.invoke(fake, rest_event(f'/small-{chunked}'), chunked=chunked))
                self.assertEqual(small.get('statusCode'), 200, small)
                backend.wait_request(path=f'/small-{chunked}')


class Freeze(FaultTestCase):

    FREEZE_SECONDS = 10

    def test_ten_second_freeze_while_the_app_drops_the_pooled_connection_is_served_on_a_fresh_one(self):
        fake, backend = self.start_fake(), self.start_backend()
        # An idle timeout longer than the freeze: the pool still holds the stale connection when the bridge thaws
        # (with the default 4 s it would be discarded unused, and the retry would never be exercised).
        bridge = self.start_bridge(fake, backend.port, AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS='60')
        self.addCleanup(bridge.signal, signal.SIGCONT)  # never leave it stopped, whatever fails
        before = self.assert_response(self.invoke(fake, rest_event('/before')))
        self.assertEqual(before.get('statusCode'), 200, before)
        first = backend.wait_request(path='/before')

        bridge.signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        wait_until(lambda: (proc_stat(bridge.pid) or ('?',))[0] == 'T', 5, 'the bridge to be stopped')
        # The app closes the kept-alive connection while the bridge cannot notice (as uvicorn does after 5 s idle).
        backend._server.cut_all_connections()
        wait_until(lambda: not backend._server.live_connections, 5, 'the app to close its idle connection')
        time.sleep(max(0.0, self.FREEZE_SECONDS - (time.monotonic() - frozen_at)))  # the freeze itself
        bridge.signal(signal.SIGCONT)

        posted, elapsed = self.invoke_timed(fake, rest_event('/after-freeze'), deadline_in=5)

        result = self.assert_response(posted)
        self.assertLess(elapsed, 2, f'the first event after the freeze took {elapsed:.2f}s')
        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(json.loads(result['body'])['target'], '/after-freeze')
        after = backend.requests_to('/after-freeze')
        self.assertEqual(len(after), 1, 'the app saw the request more than once')
        self.assertNotEqual(after[0].connection, first.connection)
        self.assertEqual(after[0].nth_on_connection, 1, 'served on the stale connection?')
        # Seen closed before reuse (test_app_boundary: a pooled connection with anything to read is never reused),
        # or, had the close arrived later, tried and retried.
        self.assertRegex(bridge.output(), r'pooled connection to the app has bytes to read or was closed by the app|'
                                          r'reused connection to the app failed .* retrying on a new one',
                         'the stale pooled connection was never noticed: the test did not exercise the freeze')
        self.assertTrue(bridge.running(), bridge.tail())


if __name__ == '__main__':
    unittest.main()
