#!/usr/bin/python3
"""Edge cases of the real lambda-bridge binary: replies without a body or with unusual framing, broken apps,
oversized events, the connection pool, the Runtime API's address and connection, readiness timeouts, logging.

Run: /usr/bin/python3 tests/component/test_edge_cases.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import json
import os
import re
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    BridgeTestCase, RawAnswer, RawBackend, dict_get_ci, fixed, fixture_path, refusing_socket, wait_until,
)

# A reply that waited for a body that never comes would end as Runtime.BackendTimeout near the deadline; events in
# these tests get DEADLINE_IN seconds, and a prompt reply must arrive well within PROMPT.
DEADLINE_IN = 4.0
PROMPT = 1.5

OK_REPLY = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'
TOKEN_HEADER_LINE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$")


def rest_event(path, method='GET', **extra):
    event = {"httpMethod": method, "path": path, "requestContext": {}}
    event.update(extra)
    return event


def result_header(result: dict, name: str):
    """A header of a REST result, from multiValueHeaders (a list) or headers (a string); None when absent."""
    return dict_get_ci(result.get('multiValueHeaders'), name) or dict_get_ci(result.get('headers'), name)


def all_result_header_names(result: dict) -> set:
    return {k.lower() for k in (result.get('multiValueHeaders') or {})} | {k.lower() for k in
                                                                             (result.get('headers') or {})}


class EdgeCaseTestCase(BridgeTestCase):

    def start_raw_backend(self, routes=None) -> RawBackend:
        raw = RawBackend(routes=routes)
        self.addCleanup(raw.stop)
        return raw

    def refused_port(self) -> int:
        """A port on 127.0.0.1 where nothing listens (and nothing can start listening during the test)."""
        s = refusing_socket()
        self.addCleanup(s.close)
        return s.getsockname()[1]

    def invoke_timed(self, fake, event, **push_kwargs):
        """(post, seconds from push to post)."""
        started = time.monotonic()
        rid = fake.push(event, **push_kwargs)
        posted = fake.wait_result(rid, timeout=DEADLINE_IN + 5)
        return posted, posted.at - started

    def assert_next_event_is_served(self, fake, bridge, raw=None):
        self.assertTrue(bridge.running(), bridge.tail())
        result = self.assert_response(self.invoke(fake, rest_event('/after')))
        self.assertEqual(result.get('statusCode'), 200, result)
        if raw is not None:
            self.assertEqual(result.get('body'), 'ok', result)
            self.assertTrue([r for r in raw.requests if r.startswith(b'GET /after ')], raw.requests)


# ----------------------------------------------------------------------------------------------------------------

class RepliesWithoutABody(EdgeCaseTestCase):
    """events.md §8: HEAD, 1xx, 204 and 304 replies have no body whatever Content-Length says."""

    def test_head_reply_with_content_length_and_no_body_is_posted_at_once_with_an_empty_body(self):
        fake = self.start_fake()
        # Content-Length announces 1234 bytes, none follow, and the connection stays open: waiting would hang.
        raw = self.start_raw_backend({'/head': b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n'
                                               b'Content-Length: 1234\r\n\r\n'})
        bridge = self.start_bridge(fake, raw.port)

        posted, elapsed = self.invoke_timed(fake, rest_event('/head', 'HEAD'), deadline_in=DEADLINE_IN)

        result = self.assert_response(posted)
        self.assertLess(elapsed, PROMPT, f'the result took {elapsed:.2f}s: the bridge waited for a HEAD body')
        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), '', result)
        self.assertTrue([r for r in raw.requests if r.startswith(b'HEAD /head HTTP/1.1\r\n')], raw.requests)
        # The connection's framing is intact: the next request on it gets its own reply.
        self.assert_next_event_is_served(fake, bridge, raw)

    def test_204_and_304_replies_are_posted_at_once_with_an_empty_body(self):
        fake = self.start_fake()
        raw = self.start_raw_backend({
            '/no-content': b'HTTP/1.1 204 No Content\r\nX-Case: 204\r\n\r\n',
            '/not-modified': b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n',
        })
        bridge = self.start_bridge(fake, raw.port)

        for path, status in (('/no-content', 204), ('/not-modified', 304)):
            with self.subTest(status=status):
                posted, elapsed = self.invoke_timed(fake, rest_event(path), deadline_in=DEADLINE_IN)

                result = self.assert_response(posted)
                self.assertLess(elapsed, PROMPT, f'the {status} result took {elapsed:.2f}s: the bridge waited '
                                                 f'for a body')
                self.assertEqual(result.get('statusCode'), status, result)
                self.assertEqual(result.get('body'), '', result)
        self.assert_next_event_is_served(fake, bridge, raw)


class ReplyFraming(EdgeCaseTestCase):

    def test_chunked_reply_body_is_reassembled_exactly_and_the_result_has_no_transfer_encoding(self):
        fake = self.start_fake()
        big = 'y' * 20000
        expected = 'Hello, ' + 'chunked\r\nworld' + big + '!'
        reply = RawAnswer([
            b'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n',
            b'7\r\nHello, \r\n',
            b'E;note=crlf-inside\r\nchunked\r\nworld\r\n',    # a chunk extension, and CRLF inside the data
            b'4E20\r\n' + big.encode() + b'\r\n',              # upper-case hex, larger than one read
            b'1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n',            # a trailer after the last chunk
        ])
        raw = self.start_raw_backend({'/chunked': reply})
        self.start_bridge(fake, raw.port)

        result = self.assert_response(self.invoke(fake, rest_event('/chunked')))

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertIs(result.get('isBase64Encoded'), False, result)
        self.assertEqual(len(result.get('body', '')), len(expected), 'body length')
        self.assertEqual(result.get('body'), expected)
        names = all_result_header_names(result)
        self.assertNotIn('transfer-encoding', names, result.get('multiValueHeaders'))
        self.assertTrue((result_header(result, 'Content-Type') or [''])[0].startswith('text/plain'), result)

    def test_interim_1xx_replies_are_skipped_and_the_final_reply_is_the_result(self):
        fake = self.start_fake()
        final = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Final: yes\r\nContent-Length: 5\r\n\r\nfinal'
        raw = self.start_raw_backend({
            '/continue': RawAnswer([b'HTTP/1.1 100 Continue\r\n\r\n', final]),
            '/early-hints': RawAnswer([b'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n'
                                       b'\r\n', final]),
            '/both-in-one-write': RawAnswer([b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n'
                                             b'Link: </a.js>; rel=preload\r\n\r\n' + final]),
        })
        self.start_bridge(fake, raw.port)

        for path in ('/continue', '/early-hints', '/both-in-one-write'):
            with self.subTest(path=path):
                posted, elapsed = self.invoke_timed(fake, rest_event(path), deadline_in=DEADLINE_IN)

                result = self.assert_response(posted)
                self.assertLess(elapsed, PROMPT, f'the result took {elapsed:.2f}s')
                self.assertEqual(result.get('statusCode'), 200, result)
                self.assertEqual(result.get('body'), 'final', result)
                self.assertEqual(result_header(result, 'X-Final'), ['yes'], result)
                self.assertIsNone(result_header(result, 'Link'), f'a header of the interim reply leaked: {result}')


class BrokenAppReplies(EdgeCaseTestCase):

    def test_reply_that_is_not_http_gives_backend_invalid_response_and_the_bridge_keeps_serving(self):
        fake = self.start_fake()
        raw = self.start_raw_backend({'/garbage': b'hello\r\n\r\n'})  # and the connection stays open
        bridge = self.start_bridge(fake, raw.port)

        posted, elapsed = self.invoke_timed(fake, rest_event('/garbage'), deadline_in=DEADLINE_IN)

        doc = self.assert_error(posted, 'Runtime.BackendInvalidResponse')
        self.assertLess(elapsed, PROMPT, f'the error took {elapsed:.2f}s: the bridge waited on a garbage reply')
        self.assertRegex(doc['errorMessage'], r'(?i)http', doc)
        self.assertRegex(doc['errorMessage'], r'(?i)not valid|invalid|malformed|bad|garbage', doc)
        self.assert_next_event_is_served(fake, bridge, raw)

    def test_reply_cut_off_mid_body_gives_backend_invalid_response_and_the_bridge_keeps_serving(self):
        fake = self.start_fake()
        raw = self.start_raw_backend({'/cut': RawAnswer(
            [b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n', b'0123456789'],
            close=True)})
        bridge = self.start_bridge(fake, raw.port)

        posted, elapsed = self.invoke_timed(fake, rest_event('/cut'), deadline_in=DEADLINE_IN)

        doc = self.assert_error(posted, 'Runtime.BackendInvalidResponse')
        self.assertLess(elapsed, PROMPT, f'the error took {elapsed:.2f}s')
        self.assertRegex(doc['errorMessage'], r'(?i)clos|incomplete|partial|end of stream|eof', doc)
        self.assertEqual([p.kind for p in fake.results_for(posted.request_id)], ['error'],
                         'a cut-off reply must not also be posted as a result')
        self.assert_next_event_is_served(fake, bridge, raw)


class OversizedEvents(EdgeCaseTestCase):
    """LAMBDA_BRIDGE_MAX_EVENT_BYTES bounds what the bridge reads from /next, however the body is framed."""

    LIMIT = 2048

    def check_event_over_the_limit_fails_with_event_too_large_and_the_next_event_succeeds(self, chunked: bool):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port, LAMBDA_BRIDGE_MAX_EVENT_BYTES=str(self.LIMIT))
        event = rest_event('/too-big', 'POST', body='x' * 10240)
        self.assertGreater(len(json.dumps(event)), 5 * self.LIMIT)

        rid = fake.push(event, chunked=chunked)
        posted = fake.wait_result(rid, timeout=5)

        doc = self.assert_error(posted, 'Runtime.EventTooLarge')
        self.assertIn(str(self.LIMIT), doc['errorMessage'], 'the message should name the limit')
        self.assertEqual(backend.requests_to('/too-big'), [], 'an oversized event reached the app')
        self.assertTrue(bridge.running(), bridge.tail())
        small = self.assert_response(self.invoke(fake, rest_event('/small'), chunked=chunked))
        self.assertEqual(small.get('statusCode'), 200, small)
        backend.wait_request(path='/small')

    def test_event_over_the_limit_with_content_length_fails_with_event_too_large_and_the_next_succeeds(self):
        self.check_event_over_the_limit_fails_with_event_too_large_and_the_next_event_succeeds(chunked=False)

    def test_chunked_event_over_the_limit_fails_with_event_too_large_and_the_next_succeeds(self):
        self.check_event_over_the_limit_fails_with_event_too_large_and_the_next_event_succeeds(chunked=True)


class BackendConnectionPool(EdgeCaseTestCase):

    def test_invocations_in_quick_succession_reuse_one_connection_by_default(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)

        for path in ('/one', '/two'):
            self.assertEqual(self.invoke(fake, rest_event(path)).kind, 'response', self.context())

        one, two = backend.wait_request(path='/one'), backend.wait_request(path='/two')
        self.assertEqual(two.client_port, one.client_port, 'the second invocation opened a new connection')
        self.assertEqual((two.connection, two.nth_on_connection), (one.connection, 2))

    def test_pool_idle_timeout_zero_gives_every_invocation_a_new_connection(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port, AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS='0')

        paths = ('/one', '/two', '/three')
        for path in paths:
            self.assertEqual(self.invoke(fake, rest_event(path)).kind, 'response', self.context())

        seen = [backend.wait_request(path=p) for p in paths]
        self.assertEqual(len({r.client_port for r in seen}), 3,
                         f'client ports {[r.client_port for r in seen]}: a connection was reused')
        self.assertEqual([r.nth_on_connection for r in seen], [1, 1, 1])


class RuntimeApiConnection(EdgeCaseTestCase):

    def test_runtime_api_proxy_carries_the_invocations_when_the_runtime_api_address_refuses(self):
        fake, backend = self.start_fake(), self.start_backend()
        direct = self.refused_port()
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_RUNTIME_API=f'127.0.0.1:{direct}',
                                   AWS_LWA_LAMBDA_RUNTIME_API_PROXY=fake.address)

        first = self.assert_response(self.invoke(fake, rest_event('/via-proxy')))
        second = self.assert_response(self.invoke(fake, rest_event('/via-proxy-again')))

        self.assertEqual((first.get('statusCode'), second.get('statusCode')), (200, 200))
        backend.wait_request(path='/via-proxy-again')
        self.assertTrue(bridge.running(), bridge.tail())

    def test_next_connection_closed_without_an_answer_is_reconnected_and_the_event_served(self):
        fake, backend = self.start_fake(), self.start_backend()
        fake.drop_next(1)
        bridge = self.start_bridge(fake, backend.port)

        result = self.assert_response(self.invoke(fake, rest_event('/after-drop')))

        self.assertEqual(fake.next_dropped, 1, 'the fake did not drop a /next request')
        self.assertGreaterEqual(fake.next_polls, 2)
        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertTrue(bridge.running(), bridge.tail())

    def test_runtime_api_refusing_connections_at_start_makes_the_bridge_exit_non_zero_naming_it(self):
        backend = self.start_backend()
        port = self.refused_port()
        bridge = self.start_bridge(None, backend.port, wait_ready=False, AWS_LAMBDA_RUNTIME_API=f'127.0.0.1:{port}')

        code = bridge.wait_exit(10)

        self.assertNotEqual(code, 0, bridge.tail())
        lines = [l for l in bridge.output().splitlines()
                 if re.search(r'(?i)\b(error|critical|fatal)\b', l) and 'Runtime API' in l and str(port) in l]
        self.assertTrue(lines, f'no error line names the Runtime API at port {port}\n{bridge.tail()}')


class ReadinessTimeout(EdgeCaseTestCase):

    def check_init_error(self, fake, bridge, started, message_pattern):
        posted = fake.wait_init_error(5)
        code = bridge.wait_exit(5)
        exited = time.monotonic() - started

        self.assertNotEqual(code, 0, bridge.tail())
        self.assertLess(exited, 3.0, f'the bridge exited {exited:.2f}s after start with a 1 s readiness timeout')
        self.assertGreaterEqual(posted.at - started, 0.9, 'the init error came before the readiness timeout')
        doc = posted.json
        self.assertIsInstance(doc, dict, posted.body)
        self.assertEqual(doc.get('errorType'), 'Runtime.BackendNotReady', doc)
        self.assertEqual(posted.header('Lambda-Runtime-Function-Error-Type'), 'Runtime.BackendNotReady',
                         posted.headers)
        self.assertRegex(doc.get('errorMessage', ''), message_pattern, doc)
        self.assertEqual(fake.next_polls, 0, 'a bridge whose app never became ready asked for an event')

    def test_no_app_listening_past_the_timeout_posts_backend_not_ready_with_the_refusal_and_exits(self):
        fake = self.start_fake()
        port = self.refused_port()
        started = time.monotonic()
        bridge = self.start_bridge(fake, port, wait_ready=False, AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='1')

        self.check_init_error(fake, bridge, started, r'(?i)refused')

    def test_readiness_path_answering_500_past_the_timeout_posts_backend_not_ready_naming_500_and_exits(self):
        fake = self.start_fake()
        backend = self.start_backend(routes={'/health': fixed(500, 'not yet')})
        started = time.monotonic()
        bridge = self.start_bridge(fake, backend.port, wait_ready=False, AWS_LWA_READINESS_CHECK_PATH='/health',
                                   AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='1')

        self.check_init_error(fake, bridge, started, r'\b500\b')
        self.assertTrue(backend.requests_to('/health'), 'the configured readiness path was never probed')


    def test_readiness_answer_flooding_header_lines_is_cut_at_64_kb_and_never_counts_as_healthy(self):
        flood = b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-Flood-%06d: %s\r\n' % (i, b'f' * 40) for i in range(40000))
        # In 2 KB sends, each well under any per-read limit: the limit must hold over the whole head.
        raw = RawBackend(routes={'/': RawAnswer([flood[i:i + 2048] for i in range(0, len(flood), 2048)], close=True)})
        self.addCleanup(raw.stop)
        fake = self.start_fake()
        started = time.monotonic()
        bridge = self.start_bridge(fake, raw.port, wait_ready=False, AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='1')

        # A 200 whose head never ends within the limit is not an answer: the probe fails, naming the limit.
        self.check_init_error(fake, bridge, started, r'(?i)header limit')

class Logging(EdgeCaseTestCase):

    def run_json_logged_invocations(self, level):
        """Three invocations (a GET, a POST whose body holds a marker, an invalid event) with JSON logs at
        `level` (None: the default); returns (marker, {rid: path}, parsed lines)."""
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_LOG_FORMAT='JSON', AWS_LAMBDA_LOG_LEVEL=level)
        marker = 'marker' + uuid.uuid4().hex
        tag = uuid.uuid4().hex[:12]
        paths = [f'/get-{tag}', f'/post-{tag}']
        rids = {}
        rids[self.invoke(fake, rest_event(paths[0])).request_id] = paths[0]
        rids[self.invoke(fake, rest_event(paths[1], 'POST', body=f'payload {marker} end')).request_id] = paths[1]
        bad = self.invoke(fake, '{"httpMethod": "GET", "path": ')
        self.assertEqual(bad.kind, 'error', self.context())
        rids[bad.request_id] = None
        for rid, path in rids.items():
            if path:
                self.assertEqual(fake.results_for(rid)[0].kind, 'response', self.context())
        # Wait for the failed invocation's own line, then stop so the shutdown lines are checked too.
        wait_until(lambda: bad.request_id in bridge.stderr_text(), 5, 'a log line about the failed invocation')
        bridge.stop()

        text = bridge.stderr_text()
        self.assertTrue(text.strip(), 'the bridge logged nothing')
        docs = []
        for line in text.splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                self.fail(f'a stderr line is not JSON: {line!r}')
            self.assertIsInstance(doc, dict, f'a stderr line is not a JSON object: {line!r}')
            docs.append(doc)
        return marker, rids, docs, text

    def check_invocation_lines_carry_their_request_id(self, rids, docs):
        tagged = [d for d in docs if 'requestId' in d]
        self.assertTrue(tagged, f'no line carries a requestId: {docs}')
        for d in tagged:
            self.assertIn(d['requestId'], rids, f'a line carries an unknown requestId: {d}')
        for rid, path in rids.items():
            mine = [d for d in tagged if d['requestId'] == rid]
            self.assertTrue(mine, f'no line carries requestId {rid} ({path or "the invalid event"})')
            # Any line that mentions the invocation (its id or its path) must carry its id, and only its id.
            mentions = [d for d in docs if rid in str(d.get('message', '')) or
                        (path and path in str(d.get('message', '')))]
            for d in mentions:
                self.assertEqual(d.get('requestId'), rid, f'a line about {rid} ({path}) carries another id: {d}')
        self.assertTrue([d for d in docs if any(p and p in str(d.get('message')) for p in rids.values())],
                        'no line mentions a request path; cannot tell invocation lines apart')

    def test_json_logs_are_one_object_per_line_with_the_request_id_and_no_event_body_at_the_default_level(self):
        marker, rids, docs, text = self.run_json_logged_invocations(None)

        self.check_invocation_lines_carry_their_request_id(rids, docs)
        self.assertNotIn(marker, text, 'the event body was logged at the default (INFO) level')

    def test_json_logs_at_debug_include_the_event_body_on_a_line_with_its_request_id(self):
        marker, rids, docs, text = self.run_json_logged_invocations('DEBUG')

        self.check_invocation_lines_carry_their_request_id(rids, docs)
        with_marker = [d for d in docs if marker in str(d.get('message', ''))]
        self.assertTrue(with_marker, 'the event body was not logged at DEBUG')
        post_rid = next(rid for rid, path in rids.items() if path and path.startswith('/post-'))
        for d in with_marker:
            self.assertEqual(d.get('requestId'), post_rid, d)

    def test_event_header_with_cr_or_lf_never_reaches_the_app_and_is_logged_by_name_at_warn(self):
        fake, raw = self.start_fake(), self.start_raw_backend()
        bridge = self.start_bridge(fake, raw.port, AWS_LAMBDA_LOG_LEVEL='INFO')
        event = rest_event('/crlf', headers={"X-Evil": "a\r\nX-Injected: 1", "X-Lf-Only": "b\nX-Injected-Lf: 2",
                                              "X-Cr-Only": "c\rX-Injected-Cr: 3", "X-Fine": "kept"})

        posted = self.invoke(fake, event)

        self.assertEqual(posted.kind, 'response', self.context())
        ours = [r for r in raw.requests if r.startswith(b'GET /crlf ')]
        self.assertEqual(len(ours), 1, raw.requests)
        head = ours[0].partition(b'\r\n\r\n')[0].decode('latin-1')
        header_lines = head.split('\r\n')[1:]
        pairs = [(n.strip().lower(), v.strip()) for n, _, v in (h.partition(':') for h in header_lines)]
        self.assertIn(('x-fine', 'kept'), pairs, 'the harmless header should still reach the app')
        self.assertNotRegex(head, r'(?i)injected|x-evil|x-lf-only|x-cr-only', 'a CR/LF header reached the app')
        for h in header_lines:
            self.assertRegex(h, TOKEN_HEADER_LINE, f'malformed header line sent to the app: {h!r}')
        self.assertFalse(re.search(r'(?m)^X-Injected', bridge.output()), 'the header value broke a log line')
        for name in ('X-Evil', 'X-Lf-Only', 'X-Cr-Only'):
            with self.subTest(header=name):
                wait_until(lambda: re.search(rf'(?im)^.*\bwarn(ing)?\b.*{re.escape(name)}', bridge.output()), 5,
                           f'a WARN line naming the dropped header {name}')


class RuntimeApiHeaders(EdgeCaseTestCase):

    def test_missing_empty_or_garbage_deadline_still_lets_the_invocation_succeed(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)
        cases = {
            '/no-deadline': dict(without_headers=['Lambda-Runtime-Deadline-Ms']),
            '/empty-deadline': dict(deadline_ms=''),
            '/garbage-deadline': dict(deadline_ms='garbage'),
        }

        for path, push_kwargs in cases.items():
            with self.subTest(path=path):
                posted = self.invoke(fake, rest_event(path), timeout=5, **push_kwargs)

                result = self.assert_response(posted)
                self.assertEqual(result.get('statusCode'), 200, result)
                self.assertEqual(json.loads(result['body'])['target'], path)
        self.assertTrue(bridge.running(), bridge.tail())


    def test_request_ids_made_of_dots_are_never_put_in_a_post_url_and_the_next_event_is_served(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)

        for rid in ('.', '..'):
            fake.push(rest_event('/dots'), request_id=rid)
        posted = self.invoke(fake, rest_event('/after'), timeout=5)

        # "/invocation/../response" is a path a normalising server resolves elsewhere: no post at all for them.
        self.assertEqual(fake.results_for('.') + fake.results_for('..'), [], fake.summary())
        self.assertEqual([s.target for s in backend.requests if s.target == '/dots'], [])
        self.assertEqual(self.assert_response(posted).get('statusCode'), 200)
        self.assertEqual(bridge.stderr_text().count('without a usable Lambda-Runtime-Aws-Request-Id'), 2, bridge.tail())


class ErrorStatusCodesOnPassThrough(EdgeCaseTestCase):

    def test_sqs_event_whose_app_answers_500_fails_with_function_error_status_so_lambda_retries(self):
        fake = self.start_fake()
        backend = self.start_backend(routes={'/events': fixed(500, 'queue consumer failed')})
        self.start_bridge(fake, backend.port, AWS_LWA_ERROR_STATUS_CODES='500-599')
        event = fixture_path('aws__aws-lambda-go/sqs-event.json').read_bytes()

        posted = self.invoke(fake, event)

        doc = self.assert_error(posted, 'Function.ErrorStatus')
        self.assertIn('queue consumer failed', doc['errorMessage'])
        self.assertEqual([p.kind for p in fake.results_for(posted.request_id)], ['error'])
        seen = backend.wait_request(path='/events')
        self.assertEqual((seen.method, seen.body), ('POST', event))


if __name__ == '__main__':
    unittest.main()
