#!/usr/bin/python3
"""The invocation loop of the real lambda-bridge binary, between a fake Runtime API and real loopback backends.

Run: /usr/bin/python3 tests/component/test_invocation_loop.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    BATCH_ITEM_FAILURES, ERROR_TYPE_PATTERN, MAX_RESPONSE_BYTES, BridgeTestCase, RawBackend, batch_item_failures,
    close_after_response, dict_get_ci, drop_reused_connection, echo, fixed, fixture_path, slow, wait_until,
)

REST_HELLO = {"httpMethod": "GET", "path": "/hello", "requestContext": {},
              "multiValueQueryStringParameters": {"a": ["1", "2"]}}

COOKIE_REPLY_HEADERS = [('Content-Type', 'text/plain; charset=utf-8'), ('Set-Cookie', 'a=1; Path=/'),
                        ('Set-Cookie', 'b=2; HttpOnly'), ('X-Rep', 'one'), ('X-Rep', 'two')]


def rest_get(path, **extra):
    event = {"httpMethod": "GET", "path": path, "requestContext": {}}
    event.update(extra)
    return event


def v2_event(raw_path, raw_query='', method='GET', cookies=None, headers=None):
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": raw_query,
        "headers": headers or {"host": "abc.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {"http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                                    "sourceIp": "203.0.113.9", "userAgent": "test"},
                           "domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "$default",
                           "requestId": "r1", "routeKey": "$default"},
        "isBase64Encoded": False,
    }
    if cookies is not None:
        event["cookies"] = cookies
    return event


class HttpEventsBecomeBackendRequests(BridgeTestCase):

    def test_rest_event_reaches_backend_with_repeated_query_keys_and_result_uses_multi_value_headers(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)

        result = self.assert_response(self.invoke(fake, REST_HELLO))

        seen = backend.wait_request(path='/hello')
        self.assertEqual(seen.method, 'GET')
        self.assertEqual(seen.target, '/hello?a=1&a=2', self.context())
        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertIs(result.get('isBase64Encoded'), False, result)
        echoed = json.loads(result['body'])
        self.assertEqual(echoed['target'], '/hello?a=1&a=2')
        mvh = result.get('multiValueHeaders')
        self.assertIsInstance(mvh, dict, result)
        self.assertEqual(dict_get_ci(mvh, 'Content-Type'), ['application/json'], mvh)
        self.assertEqual(result.get('headers', {}), {}, 'REST results must not fill both header maps')
        framing = {k.lower() for k in mvh} & {'content-length', 'connection', 'keep-alive', 'transfer-encoding'}
        self.assertEqual(framing, set(), f'framing headers leaked into the result: {mvh}')

    def test_rest_result_keeps_every_set_cookie_line(self):
        fake, backend = self.start_fake(), self.start_backend()
        backend.route('/cookies', fixed(200, 'ok', COOKIE_REPLY_HEADERS))
        self.start_bridge(fake, backend.port)

        result = self.assert_response(self.invoke(fake, rest_get('/cookies')))

        self.assertEqual(result['body'], 'ok')
        mvh = result['multiValueHeaders']
        self.assertEqual(dict_get_ci(mvh, 'Set-Cookie'), ['a=1; Path=/', 'b=2; HttpOnly'], mvh)
        self.assertEqual(dict_get_ci(mvh, 'X-Rep'), ['one', 'two'], mvh)

    def test_http_api_v2_event_uses_raw_query_and_cookies_and_result_has_headers_and_cookies(self):
        fake, backend = self.start_fake(), self.start_backend()
        backend.route('/cookies', fixed(200, 'ok', COOKIE_REPLY_HEADERS))
        self.start_bridge(fake, backend.port)

        result = self.assert_response(self.invoke(
            fake, v2_event('/cookies', 'q=1&q=2&enc=%3A', cookies=['c1=v1', 'c2=v2'])))

        seen = backend.wait_request(path='/cookies')
        self.assertEqual(seen.target, '/cookies?q=1&q=2&enc=%3A', 'rawQueryString must go through verbatim')
        self.assertEqual(seen.header_all('Cookie'), ['c1=v1; c2=v2'])
        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), 'ok', result)
        self.assertEqual(result.get('cookies'), ['a=1; Path=/', 'b=2; HttpOnly'], result)
        headers = result.get('headers')
        self.assertIsInstance(headers, dict, result)
        self.assertIsNone(dict_get_ci(headers, 'Set-Cookie'), f'set-cookie belongs in cookies only: {headers}')
        self.assertEqual([v.strip() for v in (dict_get_ci(headers, 'X-Rep') or '').split(',')], ['one', 'two'],
                         f'repeated headers must be joined, not dropped: {headers}')
        self.assertTrue((dict_get_ci(headers, 'Content-Type') or '').startswith('text/plain'), headers)

    def test_backend_gets_invocation_context_headers_that_the_client_cannot_spoof(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)
        event = rest_get('/ctx', requestContext={"stage": "prod", "requestId": "abc"},
                         headers={"X-Amzn-Trace-Id": "Root=spoofed", "x-amzn-request-context": "{\"forged\":1}"})

        rid = fake.push(event, tenant_id='tenant-7')
        self.assertEqual(fake.wait_result(rid).kind, 'response', self.context())

        seen = backend.wait_request(path='/ctx')
        self.assertEqual(seen.header_all('x-amzn-trace-id'), ['Root=1-5759e988-bd862e3fe1be46a994272793;'
                                                              'Parent=53995c3f42cd8ad8;Sampled=1'], seen.headers)
        ctx_values = seen.header_all('x-amzn-request-context')
        self.assertEqual(len(ctx_values), 1, seen.headers)
        self.assertEqual(json.loads(ctx_values[0]), {"stage": "prod", "requestId": "abc"})
        lambda_ctx = json.loads(seen.header('x-amzn-lambda-context'))
        self.assertEqual(lambda_ctx.get('request_id'), rid, lambda_ctx)
        self.assertEqual(seen.header_all('x-amz-tenant-id'), ['tenant-7'], seen.headers)


class HandWrittenEvents(BridgeTestCase):
    """Published test events write numbers and booleans where the gateway would send strings."""

    def test_numbers_and_booleans_in_headers_and_query_reach_the_app_exactly_as_the_event_wrote_them(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)
        # Raw text: json.dumps would write 1.10 as 1.1.
        event = ('{"httpMethod": "POST", "path": "/items/42", "requestContext": {},'
                 ' "headers": {"Content-Length": 13, "X-Version": 1.10, "X-Debug": true,'
                 ' "X-Big": 12345678901234567890},'
                 ' "multiValueHeaders": {"X-Multi": [1, "two", false]},'
                 ' "queryStringParameters": {"page": 2, "ratio": 0.50, "exp": 1e3},'
                 ' "pathParameters": {"id": 42}, "stageVariables": {"level": 3}, "body": "Hello, world!"}')

        self.assert_response(self.invoke(fake, event))

        seen = backend.wait_request(path='/items/42')
        self.assertEqual(seen.target, '/items/42?page=2&ratio=0.50&exp=1e3', self.context())
        self.assertEqual(seen.header_all('X-Version'), ['1.10'], seen.headers)
        self.assertEqual(seen.header_all('X-Debug'), ['true'], seen.headers)
        self.assertEqual(seen.header_all('X-Big'), ['12345678901234567890'], seen.headers)
        self.assertEqual(seen.header_all('X-Multi'), ['1', 'two', 'false'], seen.headers)
        self.assertEqual(seen.header_all('Content-Length'), ['13'], seen.headers)
        self.assertEqual(seen.body, b'Hello, world!')

    def test_an_object_where_a_header_value_belongs_fails_naming_the_field_and_the_next_event_is_served(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)

        doc = self.assert_error(self.invoke(fake, rest_get('/bad', headers={'X-Obj': {'a': 1}})),
                                'Runtime.InvalidEvent')

        self.assertEqual(doc['errorMessage'], "event field 'headers.X-Obj' must be a string, number or boolean")
        self.assertEqual(backend.requests_to('/bad'), [], 'the app got a request from an invalid event')
        self.assert_response(self.invoke(fake, rest_get('/after')))


class RuntimeApiProtocol(BridgeTestCase):

    def test_invocation_id_is_echoed_on_response_and_error_posts_and_absent_when_not_given(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)

        ok = self.invoke(fake, REST_HELLO, invocation_id='nonce-123')
        bad = self.invoke(fake, b'{not json', invocation_id='nonce-456')
        plain = self.invoke(fake, REST_HELLO)

        self.assertEqual(ok.kind, 'response', self.context())
        self.assertEqual(ok.header('Lambda-Runtime-Invocation-Id'), 'nonce-123', ok.headers)
        self.assertEqual(bad.kind, 'error', self.context())
        self.assertEqual(bad.header('Lambda-Runtime-Invocation-Id'), 'nonce-456', bad.headers)
        self.assertEqual(plain.kind, 'response', self.context())
        self.assertIsNone(plain.header('Lambda-Runtime-Invocation-Id'), plain.headers)

    def test_chunked_next_body_is_read_completely(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)
        # Over 2 KB, like the events the RIE chunks; the long header must survive the chunk boundaries.
        long_value = 'v' * 5000
        event = rest_get('/chunked', multiValueHeaders={"X-Long": [long_value]})

        result = self.assert_response(self.invoke(fake, event, chunked=True))

        self.assertEqual(result['statusCode'], 200, result)
        seen = backend.wait_request(path='/chunked')
        self.assertEqual(seen.header_all('X-Long'), [long_value])

    def test_next_answering_500_makes_the_bridge_exit_non_zero(self):
        fake, backend = self.start_fake(), self.start_backend()
        fake.fail_next(500)
        bridge = self.start_bridge(fake, backend.port, wait_ready=False)

        code = bridge.wait_exit(5)

        self.assertNotEqual(code, 0, bridge.tail())
        self.assertGreaterEqual(fake.next_polls, 1, 'the bridge exited without asking for an event')

    def test_next_answering_403_makes_the_bridge_exit_non_zero(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)  # parked in /next: the failure reaches a live poll
        fake.fail_next(403)

        code = bridge.wait_exit(5)

        self.assertNotEqual(code, 0, bridge.tail())

    def test_500_on_a_response_post_makes_the_bridge_exit_non_zero(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)

        fake.push(REST_HELLO, response_reply=500)

        self.assertNotEqual(bridge.wait_exit(5), 0, bridge.tail())

    def test_413_on_a_response_post_is_followed_by_an_error_post_for_the_same_id(self):
        fake, backend = self.start_fake(), self.start_backend()
        self.start_bridge(fake, backend.port)

        rid = fake.push(REST_HELLO, response_reply=413)  # 413 also closes the connection, as Lambda's does

        first = fake.wait_result(rid, kind='response')
        self.assertEqual(first.status, 413)
        error = fake.wait_result(rid, kind='error')
        self.assert_error(error, 'Runtime.ResponseTooLarge')
        self.assertGreater(error.at, first.at)
        # and the bridge carries on
        self.assertEqual(self.invoke(fake, REST_HELLO).kind, 'response', self.context())

    def test_410_on_a_response_post_is_logged_and_the_loop_continues(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)

        gone = fake.push(REST_HELLO, response_reply=410)
        after = self.invoke(fake, REST_HELLO)

        self.assertEqual(after.kind, 'response', self.context())
        self.assertEqual(after.status, 202)
        self.assertEqual([p.kind for p in fake.results_for(gone)], ['response'],
                         'a 410 must not be answered with another post')
        self.assertTrue(bridge.running(), bridge.tail())
        self.assertRegex(bridge.output(), r'410|[Gg]one', 'the 410 should be logged')


class BackendFailuresBecomeInvocationErrors(BridgeTestCase):

    def test_unreachable_backend_gives_backend_unreachable_and_the_bridge_keeps_serving(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)
        self.assertEqual(self.invoke(fake, REST_HELLO).kind, 'response', self.context())  # a pooled connection
        port = backend.port
        backend.stop()

        self.assert_error(self.invoke(fake, REST_HELLO), 'Runtime.BackendUnreachable')

        self.assertTrue(bridge.running(), bridge.tail())
        revived = self.start_backend(port)
        self.assertEqual(self.invoke(fake, REST_HELLO).kind, 'response', self.context())
        revived.wait_request(path='/hello')

    def test_backend_slower_than_the_deadline_gives_backend_timeout_before_the_deadline_passes(self):
        fake, backend = self.start_fake(), self.start_backend()
        backend.route('/slow', slow(3))
        bridge = self.start_bridge(fake, backend.port)

        started = time.monotonic()
        posted = self.invoke(fake, rest_get('/slow'), deadline_in=1.0)
        elapsed = time.monotonic() - started

        doc = self.assert_error(posted, 'Runtime.BackendTimeout')
        self.assertLess(elapsed, 2.0, f'the error came {elapsed:.2f}s after the event; the deadline was 1 s away')
        self.assertRegex(doc['errorMessage'].lower(), r'time(d)? ?out|deadline', doc)
        self.assertTrue(bridge.running(), bridge.tail())
        self.assertEqual(self.invoke(fake, REST_HELLO).kind, 'response', self.context())

    def test_backend_that_closes_a_kept_alive_connection_after_replying_does_not_fail_the_next_invocation(self):
        fake = self.start_fake()
        backend = self.start_backend(default=close_after_response(echo))
        self.start_bridge(fake, backend.port)

        first = self.invoke(fake, rest_get('/one'))
        second = self.invoke(fake, rest_get('/two'))

        self.assertEqual(first.kind, 'response', self.context())
        self.assertEqual(second.kind, 'response', self.context())
        self.assertEqual(second.json['statusCode'], 200)
        self.assertEqual(json.loads(second.json['body'])['target'], '/two')

    def test_pooled_connection_that_dies_without_answering_is_retried_once_on_a_fresh_connection(self):
        fake = self.start_fake()
        backend = self.start_backend(default=drop_reused_connection(echo))
        self.start_bridge(fake, backend.port)

        first = self.invoke(fake, rest_get('/one'))
        second = self.invoke(fake, rest_get('/two'))

        self.assertEqual(first.kind, 'response', self.context())
        self.assertEqual(second.kind, 'response', self.context())
        tries = backend.requests_to('/two')
        self.assertLessEqual(len(tries), 2, f'retried more than once: {[(r.connection, r.nth_on_connection) for r in tries]}')
        self.assertEqual(tries[-1].nth_on_connection, 1, 'the retry must use a fresh connection')

    def test_status_listed_in_error_status_codes_fails_the_invocation_with_the_body_in_the_message(self):
        fake, backend = self.start_fake(), self.start_backend()
        backend.route('/fail', fixed(503, 'backend says no'))
        self.start_bridge(fake, backend.port, AWS_LWA_ERROR_STATUS_CODES='500-599')

        doc = self.assert_error(self.invoke(fake, rest_get('/fail')), 'Function.ErrorStatus')

        self.assertIn('backend says no', doc['errorMessage'])

    def test_status_not_configured_as_error_is_an_ordinary_response(self):
        fake, backend = self.start_fake(), self.start_backend()
        backend.route('/fail', fixed(503, 'backend says no'))
        self.start_bridge(fake, backend.port)

        result = self.assert_response(self.invoke(fake, rest_get('/fail')))

        self.assertEqual(result['statusCode'], 503, result)
        self.assertEqual(result['body'], 'backend says no', result)

    def test_result_over_the_runtime_api_limit_gives_response_too_large(self):
        fake, backend = self.start_fake(), self.start_backend()
        big = b'x' * (7 * 1024 * 1024)
        self.assertGreater(len(big), MAX_RESPONSE_BYTES)
        backend.route('/big', fixed(200, big))
        bridge = self.start_bridge(fake, backend.port)

        rid = fake.push(rest_get('/big'))
        error = fake.wait_result(rid, kind='error', timeout=15)

        self.assert_error(error, 'Runtime.ResponseTooLarge')
        oversized = [p for p in fake.results_for(rid) if p.kind == 'response' and len(p.body) > MAX_RESPONSE_BYTES]
        self.assertEqual(oversized, [], 'the bridge should not post a result it knows is too large')
        self.assertTrue(bridge.running(), bridge.tail())


class EventsThatAreNotHttp(BridgeTestCase):

    def test_sqs_event_is_posted_byte_for_byte_and_the_backend_json_is_the_result(self):
        fake = self.start_fake()
        backend = self.start_backend(routes={'/events': batch_item_failures})
        self.start_bridge(fake, backend.port)
        event = fixture_path('aws__aws-lambda-go/sqs-event.json').read_bytes()

        posted = self.invoke(fake, event)

        seen = backend.wait_request(path='/events')
        self.assertEqual(seen.method, 'POST')
        self.assertEqual(seen.target, '/events')
        self.assertEqual(seen.body, event, 'the event must reach the backend byte for byte')
        self.assertEqual(seen.header('Content-Type'), 'application/json')
        self.assertEqual(posted.kind, 'response', self.context())
        self.assertEqual(posted.json, json.loads(BATCH_ITEM_FAILURES))
        self.assertEqual(posted.body.strip(), BATCH_ITEM_FAILURES)

    def test_invalid_json_event_gives_invalid_event_and_the_next_event_succeeds(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)

        self.assert_error(self.invoke(fake, b'{"httpMethod": "GET", "path": '), 'Runtime.InvalidEvent')

        self.assertTrue(bridge.running(), bridge.tail())
        self.assertEqual(self.invoke(fake, REST_HELLO).kind, 'response', self.context())


class StartUp(BridgeTestCase):

    def test_unusable_port_value_is_reported_to_init_error_naming_variable_and_value_then_exit(self):
        fake = self.start_fake()
        bridge = self.start_bridge(fake, None, wait_ready=False, AWS_LWA_PORT='notaport')

        posted = fake.wait_init_error(10)
        code = bridge.wait_exit(5)

        self.assertNotEqual(code, 0, bridge.tail())
        doc = posted.json
        self.assertIsInstance(doc, dict, posted.body)
        self.assertIn('AWS_LWA_PORT', doc.get('errorMessage', ''), doc)
        self.assertIn('notaport', doc.get('errorMessage', ''), doc)
        self.assertRegex(doc.get('errorType', ''), ERROR_TYPE_PATTERN, doc)
        self.assertEqual(fake.next_polls, 0, 'a misconfigured bridge must not ask for events')

    def test_first_event_is_requested_only_after_the_readiness_probe_gets_a_healthy_status(self):
        fake = self.start_fake()
        backend = self.start_backend(routes={'/': fixed(503, 'starting')})  # 503 is outside 100-499
        bridge = self.start_bridge(fake, backend.port, wait_ready=False)

        wait_until(lambda: len(backend.requests_to('/')) >= 3, 10, 'three readiness probes')
        self.assertEqual(fake.next_polls, 0, 'the bridge asked for an event while the backend answered 503')
        self.assertTrue(bridge.running(), bridge.tail())
        backend.route('/', fixed(404, 'no root route'))  # 404 counts as ready (default healthy range)

        fake.wait_polling(1, 10)
        self.assertEqual(self.invoke(fake, REST_HELLO).kind, 'response', self.context())


class BytesOnTheWireToTheBackend(BridgeTestCase):
    """Exact request bytes, seen by a raw socket: the event is untrusted input and must not shape the framing."""

    def start_raw_backend(self):
        raw = RawBackend()
        self.addCleanup(raw.stop)
        return raw

    @staticmethod
    def split(request: bytes):
        head, _, body = request.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        return lines[0], lines[1:], body

    def test_event_headers_cannot_smuggle_a_second_request_or_inject_header_lines(self):
        fake, raw = self.start_fake(), self.start_raw_backend()
        self.start_bridge(fake, raw.port)
        smuggled = 'GET /second HTTP/1.1\r\nHost: x\r\n\r\n'
        event = {"httpMethod": "POST", "path": "/smuggle", "requestContext": {}, "body": smuggled,
                 "headers": {"Content-Length": "0", "Transfer-Encoding": "chunked", "Connection": "close",
                             "X-Evil": "a\r\nX-Injected: 1", "Bad Name": "v", "X-Fine": "kept"}}

        posted = self.invoke(fake, event)

        self.assertEqual(posted.kind, 'response', self.context())
        ours = [r for r in raw.requests if r.startswith(b'POST /smuggle ')]
        self.assertEqual(len(ours), 1, raw.requests)
        self.assertFalse([r for r in raw.requests if r.startswith(b'GET /second')], 'a second request was smuggled')
        line, headers, body = self.split(ours[0])
        self.assertEqual(line, 'POST /smuggle HTTP/1.1')
        self.assertEqual(body, smuggled.encode())
        names = [h.split(':', 1)[0].strip().lower() for h in headers]
        values = {n: [h.split(':', 1)[1].strip() for h in headers if h.split(':', 1)[0].strip().lower() == n]
                  for n in names}
        self.assertEqual(values.get('content-length'), [str(len(smuggled))], headers)
        self.assertNotIn('transfer-encoding', names, headers)
        self.assertNotIn('close', [v.lower() for v in values.get('connection', [])], headers)
        self.assertFalse([h for h in headers if 'injected' in h.lower() or h.lower().startswith('x-evil')], headers)
        self.assertFalse([h for h in headers if h.lower().startswith('bad name')], headers)
        self.assertEqual(values.get('x-fine'), ['kept'], headers)

    def test_path_bytes_not_allowed_in_a_request_line_are_percent_encoded_and_existing_escapes_kept(self):
        fake, raw = self.start_fake(), self.start_raw_backend()
        self.start_bridge(fake, raw.port)

        posted = self.invoke(fake, rest_get('/with space/"q"/<a>/%41/\u00e9'))

        self.assertEqual(posted.kind, 'response', self.context())
        lines = [self.split(r)[0] for r in raw.requests if not r.startswith(b'GET / ')]
        self.assertEqual(lines, ['GET /with%20space/%22q%22/%3Ca%3E/%41/%C3%A9 HTTP/1.1'], raw.requests)


if __name__ == '__main__':
    unittest.main()
