#!/usr/bin/python3
"""The app's replies as the backend client takes them, through the real binary: replies without a body, unusual
framing, broken apps, the keep-alive pool, and error statuses on non-HTTP events.

Run: /usr/bin/python3 tests/component/test_app_replies.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    DEADLINE_IN, PROMPT, RawAnswer, RawAppTestCase, all_result_header_names, fixed, fixture_path, rest_event,
    result_header,
)


class RepliesWithoutABody(RawAppTestCase):
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


class ReplyFraming(RawAppTestCase):

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


class BrokenAppReplies(RawAppTestCase):

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


class BackendConnectionPool(RawAppTestCase):

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


class ErrorStatusCodesOnPassThrough(RawAppTestCase):

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
