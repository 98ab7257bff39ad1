#!/usr/bin/python3
"""The bridge's logs through the real binary: JSON lines with request ids, no bodies at the default level, dropped
headers named at WARN.

Run: /usr/bin/python3 tests/component/test_logging.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import json
import os
import re
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import RawAppTestCase, TOKEN_HEADER_LINE, rest_event, wait_until  # noqa: E402


class Logging(RawAppTestCase):

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


if __name__ == '__main__':
    unittest.main()
