#!/usr/bin/python3
"""The Lambda side through the real binary: oversized events, the Runtime API's address and connection, and odd
Runtime API headers (deadlines, request ids).

Run: /usr/bin/python3 tests/component/test_runtime_api.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import RawAppTestCase, rest_event  # noqa: E402


class OversizedEvents(RawAppTestCase):
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


class RuntimeApiConnection(RawAppTestCase):

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


class RuntimeApiHeaders(RawAppTestCase):

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


if __name__ == '__main__':
    unittest.main()
