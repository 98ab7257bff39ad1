#!/usr/bin/python3
"""The readiness check through the real binary: an app that never becomes ready ends the init with
Runtime.BackendNotReady naming why, and a flooding readiness answer never counts as healthy.

Run: /usr/bin/python3 tests/component/test_readiness.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import RawAnswer, RawAppTestCase, RawBackend, fixed  # noqa: E402


class ReadinessTimeout(RawAppTestCase):

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


if __name__ == '__main__':
    unittest.main()
