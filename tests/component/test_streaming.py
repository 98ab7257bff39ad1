#!/usr/bin/python3
"""Response streaming (AWS_LWA_INVOKE_MODE=response_stream) on the Lambda side, through the real binary: the
fake Runtime API records the chunked /response as it arrives, and apps/web_app.py streams real chunked replies.

Contract: runtime-api.md §2 — streaming response mode, chunked transfer, the HTTP-integration content type, a
JSON prelude (status, headers, cookies) then exactly 8 NUL bytes then the raw body; each piece forwarded at once;
a failure after the first bytes reported in HTTP/1.1 trailers, never in the body; memory flat whatever the size.

Run: /usr/bin/python3 tests/component/test_streaming.py [-v]
"""
import base64
import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SupervisedAppTestCase, assert_memory_below, free_port, process_alive, wait_until  # noqa: E402

NULS = b'\0' * 8
STREAM_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response'


def url_event(path, query='', method='GET'):
    """A Function URL event (payload 2.0 with a lambda-url domain)."""
    return {'version': '2.0', 'rawPath': path, 'rawQueryString': query,
            'headers': {'host': 'abc.lambda-url.us-east-1.on.aws'},
            'requestContext': {'domainName': 'abc.lambda-url.us-east-1.on.aws', 'http': {'method': method}}}


def rest_event(path):
    return {'resource': '/{proxy+}', 'path': path, 'httpMethod': 'GET', 'headers': {}, 'requestContext': {}}


def alb_event(path):
    return {'requestContext': {'elb': {'targetGroupArn': 'arn:aws:elasticloadbalancing:...'}},
            'httpMethod': 'GET', 'path': path, 'headers': {}, 'body': '', 'isBase64Encoded': False}


def split_stream(body: bytes):
    """(prelude JSON, raw body) of a streamed response."""
    cut = body.find(NULS)
    assert cut >= 0, f'no 8-NUL delimiter in {body[:200]!r}'
    return json.loads(body[:cut]), body[cut + len(NULS):]


def pattern(n: int) -> bytes:
    block = bytes(i % 251 for i in range(251 * 261))
    return (block * (n // len(block) + 1))[:n]


class Streaming(SupervisedAppTestCase):

    def start(self, *app_flags, **env):
        port = free_port()
        fake = self.start_fake()
        bridge = self.start_bridge(fake, port, args=self.web_app_args(port, *app_flags),
                                   AWS_LWA_INVOKE_MODE='response_stream', **env)
        return fake, bridge

    def assert_streamed(self, posted):
        self.assertEqual('response', posted.kind, f'{posted.body[:300]!r}{self.context()}')
        self.assertTrue(posted.chunked, 'a streamed response must use chunked transfer')
        self.assertEqual('streaming', posted.header('Lambda-Runtime-Function-Response-Mode'))
        self.assertEqual(STREAM_CONTENT_TYPE, posted.header('Content-Type'))
        self.assertIn('Lambda-Runtime-Function-Error-Type', posted.header('Trailer') or '')
        return split_stream(posted.body)

    def test_an_sse_reply_reaches_lambda_event_by_event_before_the_app_has_finished(self):
        fake, _ = self.start()
        gate = self.tmp / 'release-last-event'
        rid = fake.push(url_event('/stream/sse', f'events=3&gate={gate}'))
        # The app holds its last event until the gate file exists; the first two must already be at Lambda.
        seen = fake.wait_streamed(rid, lambda b: b'data: event 2\n\n' in b)
        self.assertNotIn(b'event 3', seen)
        self.assertEqual([], fake.results_for(rid), 'the post finished before the app did')
        gate.write_text('go')
        prelude, body = self.assert_streamed(fake.wait_result(rid))
        self.assertEqual(200, prelude['statusCode'])
        self.assertEqual('text/event-stream', prelude['headers']['Content-Type'])
        self.assertEqual('no-cache', prelude['headers']['Cache-Control'])
        self.assertNotIn('Transfer-Encoding', prelude['headers'])
        self.assertEqual(b'data: event 1\n\ndata: event 2\n\ndata: event 3\n\n', body)
        self.assertEqual([], fake.results_for(rid)[0].trailers)

    def test_a_binary_body_is_streamed_raw_not_base64(self):
        fake, _ = self.start()
        n = 1_000_000
        prelude, body = self.assert_streamed(self.invoke(fake, url_event('/stream/bytes', f'n={n}')))
        self.assertEqual('application/octet-stream', prelude['headers']['Content-Type'])
        self.assertEqual(n, len(body))
        self.assertEqual(pattern(n), body)

    def test_a_redirect_with_an_empty_body_still_ends_the_stream_with_its_cookies(self):
        fake, _ = self.start()
        posted = self.invoke(fake, url_event('/stream/redirect'))
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(302, prelude['statusCode'])
        self.assertEqual('/elsewhere', prelude['headers']['Location'])
        self.assertEqual(['a=1', 'b=2'], prelude['cookies'])
        self.assertNotIn('Set-Cookie', prelude['headers'])
        self.assertEqual(b'', body)
        self.assertEqual([], posted.trailers)

    def test_a_rest_event_streams_with_repeated_headers_in_multi_value_headers(self):
        fake, _ = self.start()
        prelude, body = self.assert_streamed(self.invoke(fake, rest_event('/stream/redirect')))
        self.assertEqual(302, prelude['statusCode'])
        self.assertEqual({'Set-Cookie': ['a=1', 'b=2']}, prelude['multiValueHeaders'])
        self.assertEqual('/elsewhere', prelude['headers']['Location'])
        self.assertNotIn('cookies', prelude)

    def test_alb_and_non_http_events_stay_buffered_because_their_invokers_cannot_stream(self):
        fake, _ = self.start()
        posted = self.invoke(fake, alb_event('/echo'))
        self.assertFalse(posted.chunked)
        self.assertEqual(201, self.assert_response(posted)['statusCode'])
        posted = self.invoke(fake, {'Records': [{'eventSource': 'aws:sqs', 'body': 'x'}]})
        self.assertFalse(posted.chunked)
        self.assertIn('received_bytes', self.assert_response(posted))

    def test_an_app_closing_the_connection_mid_stream_is_reported_in_trailers_not_in_the_body(self):
        fake, bridge = self.start()
        posted = self.invoke(fake, url_event('/stream/cut', 'n=5000'))
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(200, prelude['statusCode'])
        self.assertEqual(b'y' * 5000, body, 'the bytes sent before the failure arrive intact, with nothing appended')
        trailers = dict(posted.trailers)
        self.assertEqual('Runtime.StreamError', trailers.get('Lambda-Runtime-Function-Error-Type'), posted.trailers)
        error = json.loads(base64.b64decode(trailers['Lambda-Runtime-Function-Error-Body']))
        self.assertEqual('Runtime.BackendInvalidResponse', error['errorType'])
        self.assertIn('closed the connection', error['errorMessage'])
        # The bridge keeps serving.
        prelude, body = self.assert_streamed(self.invoke(fake, url_event('/stream/bytes', 'n=10')))
        self.assertEqual(pattern(10), body)
        self.assertTrue(bridge.running)

    def test_an_app_dying_mid_stream_is_reported_in_trailers_and_ends_the_environment(self):
        fake, bridge = self.start()
        posted = self.invoke(fake, url_event('/stream/crash', 'n=3000'))
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(b'y' * 3000, body)
        trailers = dict(posted.trailers)
        self.assertEqual('Runtime.StreamError', trailers.get('Lambda-Runtime-Function-Error-Type'), posted.trailers)
        error = json.loads(base64.b64decode(trailers['Lambda-Runtime-Function-Error-Body']))
        self.assertEqual('Runtime.AppExited', error['errorType'], error)
        self.assertIn('exit', error['errorMessage'])
        self.assertNotEqual(0, bridge.wait_exit(10), 'Lambda must replace an environment whose app died')

    def test_an_app_slower_than_the_deadline_mid_stream_is_reported_in_trailers(self):
        fake, _ = self.start()
        gate = self.tmp / 'never'
        posted = self.invoke(fake, url_event('/stream/sse', f'events=2&gate={gate}'), deadline_in=1.0)
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(b'data: event 1\n\n', body)
        error = json.loads(base64.b64decode(dict(posted.trailers)['Lambda-Runtime-Function-Error-Body']))
        self.assertEqual('Runtime.BackendTimeout', error['errorType'], error)

    def test_an_error_status_listed_in_the_error_codes_fails_the_invocation_instead_of_streaming(self):
        fake, _ = self.start(AWS_LWA_ERROR_STATUS_CODES='500-599')
        posted = self.invoke(fake, url_event('/status/503'))
        self.assertFalse(posted.chunked)
        self.assert_error(posted, 'Function.ErrorStatus')

    def test_a_100_mb_stream_passes_whole_with_the_bridge_memory_flat(self):
        fake, bridge = self.start()
        n = 100 * 1024 * 1024
        posted = self.invoke(fake, url_event('/stream/bytes', f'n={n}'), deadline_in=120, timeout=120)
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(n, len(body))
        self.assertEqual(hashlib.sha256(pattern(n)).hexdigest(), hashlib.sha256(body).hexdigest())
        self.assertEqual([], posted.trailers)
        # Buffering even a tenth of the body would show; the bridge's whole footprint stays a few MB.
        assert_memory_below(self, bridge.pid, 16 * 1024, 'the bridge, streaming 100 MB')

    def test_a_body_framed_by_content_length_is_spliced_through_whole(self):
        # Issue 14: a Content-Length body goes from the app's socket to the Runtime API's through a pipe (splice),
        # never copied into the bridge; the log line says which way each stream went.
        fake, bridge = self.start(AWS_LAMBDA_LOG_LEVEL='debug')
        n = 24 * 1024 * 1024 + 12345
        posted = self.invoke(fake, url_event('/stream/bytes', f'n={n}&length={n}'), deadline_in=120, timeout=120)
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(200, prelude['statusCode'])
        self.assertEqual(n, len(body))
        self.assertEqual(hashlib.sha256(pattern(n)).hexdigest(), hashlib.sha256(body).hexdigest())
        self.assertEqual([], posted.trailers)
        wait_until(lambda: f'streamed {n} body bytes (spliced' in bridge.output(), 5, 'the spliced stream logged')
        # A chunked body is decoded, so it is read and copied; and the pipe serves the next stream again, whole.
        prelude, body = self.assert_streamed(self.invoke(fake, url_event('/stream/bytes', 'n=70000')))
        self.assertEqual(pattern(70000), body)
        wait_until(lambda: 'streamed 70000 body bytes\n' in bridge.output(), 5, 'the copied stream logged')
        prelude, body = self.assert_streamed(self.invoke(fake, url_event('/stream/bytes', 'n=1000&length=1000')))
        self.assertEqual(pattern(1000), body)
        self.assertTrue(bridge.running)

    def test_an_app_closing_before_its_content_length_is_in_is_reported_in_trailers(self):
        fake, bridge = self.start()
        posted = self.invoke(fake, url_event('/stream/cut', 'n=300000&length=900000'))
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(b'y' * 300000, body, 'the bytes sent before the failure arrive intact, with nothing appended')
        trailers = dict(posted.trailers)
        self.assertEqual('Runtime.StreamError', trailers.get('Lambda-Runtime-Function-Error-Type'), posted.trailers)
        error = json.loads(base64.b64decode(trailers['Lambda-Runtime-Function-Error-Body']))
        self.assertEqual('Runtime.BackendInvalidResponse', error['errorType'])
        # The bridge keeps serving, through the same pipe.
        n = 3 * 1024 * 1024
        prelude, body = self.assert_streamed(self.invoke(fake, url_event('/stream/bytes', f'n={n}&length={n}')))
        self.assertEqual(pattern(n), body)
        self.assertTrue(bridge.running)

    def test_an_app_writing_faster_than_lambda_drains_is_relayed_in_order_with_the_memory_flat(self):
        # A Runtime API that reads slower than the app writes: the bridge holds one piece at a time, the app waits,
        # and the pieces go out whole and in order, each write ending after several partial ones (issue 14: the
        # writes go to the socket under one timer, not through Beast's timer per write).
        fake, bridge = self.start()
        fake.chunk_delay = 0.004
        n = 48 * 1024 * 1024
        posted = self.invoke(fake, url_event('/stream/bytes', f'n={n}'), deadline_in=120, timeout=120)
        prelude, body = self.assert_streamed(posted)
        self.assertEqual(n, len(body))
        self.assertEqual(hashlib.sha256(pattern(n)).hexdigest(), hashlib.sha256(body).hexdigest())
        self.assertEqual([], posted.trailers)
        assert_memory_below(self, bridge.pid, 16 * 1024, 'the bridge, streaming to a slow reader')


if __name__ == '__main__':
    unittest.main()
