#!/usr/bin/python3
"""The bridge's logs through the real binary: JSON lines with request ids, no bodies at the default level, dropped
headers named at WARN, and one access line per invocation when it ends (text and JSON, failures with their error
type).

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

from harness import (  # noqa: E402
    RawAnswer, RawAppTestCase, TOKEN_HEADER_LINE, fixed, json_lines, rest_event, wait_until,
)


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


# The access line: one per invocation, written when its outcome has been posted (docs/troubleshooting.md).
ACCESS_LINE = re.compile(r'^\S+ INFO lambda-bridge \[(?P<rid>[^\]]+)\] '
                         r'(?P<subject>\S+ \S+ \([a-z0-9-]+\)|event \([a-z0-9-]+\)|event) '
                         r'(?P<outcome>\d{3}(?: \S+)?|\S+) in (?P<ms>\d+\.\d{3}) ms, '
                         r'(?P<bytes_in>\d+) bytes in, (?P<bytes_out>\d+) bytes out$')


def access_lines(text):
    """{request id: [access line matches]} of a text log."""
    found = {}
    for line in text.splitlines():
        m = ACCESS_LINE.match(line)
        if m:
            found.setdefault(m.group('rid'), []).append(m)
    return found


def access_records(records):
    """{request id: [JSON access records]}: the records that carry the access fields."""
    found = {}
    for r in records:
        if 'durationMs' in r:
            found.setdefault(r.get('requestId'), []).append(r)
    return found


class AccessLine(RawAppTestCase):

    def test_text_access_line_names_method_path_source_status_duration_and_bytes_without_the_query(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_LOG_LEVEL=None)

        posted = self.invoke(fake, rest_event('/items/42', 'POST', body='0123456789',
                                              queryStringParameters={'token': 'secret-in-query'}))

        result = self.assert_response(posted)
        lines = wait_until(lambda: access_lines(bridge.stderr_text()).get(posted.request_id), 5,
                           f'the access line of {posted.request_id}\n{bridge.tail()}')
        self.assertEqual(len(lines), 1, bridge.stderr_text())
        m = lines[0]
        self.assertEqual(m.group('subject'), 'POST /items/42 (rest)', m.group(0))
        self.assertEqual(m.group('outcome'), '200', m.group(0))
        self.assertEqual(int(m.group('bytes_in')), 10, m.group(0))
        self.assertEqual(int(m.group('bytes_out')), len(posted.body), m.group(0))
        self.assertLess(float(m.group('ms')), 5000, m.group(0))
        self.assertEqual(result['statusCode'], 200)
        self.assertNotIn('secret-in-query', bridge.stderr_text(), 'the query string was logged at INFO')

    def test_json_access_record_carries_each_value_as_its_own_field(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_LOG_FORMAT='JSON', AWS_LAMBDA_LOG_LEVEL=None)

        posted = self.invoke(fake, rest_event('/json-fields', 'PUT', body='abc'))
        passed = self.invoke(fake, {"Records": [{"eventSource": "aws:sqs", "body": "hello"}]})

        self.assert_response(posted)
        self.assert_response(passed)
        wait_until(lambda: passed.request_id in bridge.stderr_text(), 5, 'the pass-through access record')
        found = access_records(json_lines(bridge.stderr_text()))
        [r] = found[posted.request_id]
        self.assertEqual(r['level'], 'INFO', r)
        self.assertEqual(r['logger'], 'lambda-bridge', r)
        self.assertEqual((r['source'], r['method'], r['path'], r['status']), ('rest', 'PUT', '/json-fields', 200), r)
        self.assertEqual((r['bytesIn'], r['bytesOut']), (3, len(posted.body)), r)
        self.assertIsInstance(r['durationMs'], float, r)
        self.assertGreater(r['durationMs'], 0, r)
        self.assertNotIn('errorType', r)
        self.assertIn('PUT /json-fields (rest) 200 in', r['message'])
        # A non-HTTP event has no method or path of its own: the record says what applies.
        [p] = found[passed.request_id]
        self.assertEqual((p['source'], p['status']), ('pass-through', 200), p)
        self.assertNotIn('method', p)
        self.assertNotIn('path', p)
        self.assertEqual(p['bytesOut'], len(passed.body), p)
        self.assertGreater(p['bytesIn'], 0, p)

    def test_a_failed_invocation_has_an_access_line_with_its_error_type_in_place_of_a_status(self):
        fake, ready = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, self.refused_port(), AWS_LAMBDA_LOG_LEVEL=None,
                                   AWS_LWA_READINESS_CHECK_PORT=ready.port)

        posted = self.invoke(fake, rest_event('/unreachable'))

        self.assert_error(posted, 'Runtime.BackendUnreachable')
        lines = wait_until(lambda: access_lines(bridge.stderr_text()).get(posted.request_id), 5,
                           f'the access line of {posted.request_id}\n{bridge.tail()}')
        self.assertEqual(len(lines), 1, bridge.stderr_text())
        self.assertEqual(lines[0].group('subject'), 'GET /unreachable (rest)', lines[0].group(0))
        self.assertEqual(lines[0].group('outcome'), 'Runtime.BackendUnreachable', lines[0].group(0))

    def test_a_failed_invocation_in_json_has_error_type_and_no_status(self):
        fake, ready = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, self.refused_port(), AWS_LAMBDA_LOG_FORMAT='JSON',
                                   AWS_LAMBDA_LOG_LEVEL=None, AWS_LWA_READINESS_CHECK_PORT=ready.port)

        posted = self.invoke(fake, rest_event('/unreachable'))
        invalid = self.invoke(fake, '{"httpMethod": "GET", "path": ')

        self.assert_error(posted, 'Runtime.BackendUnreachable')
        self.assert_error(invalid, 'Runtime.InvalidEvent')
        wait_until(lambda: len(access_records(json_lines(bridge.stderr_text()))) == 2, 5,
                   f'two access records\n{bridge.tail()}')
        found = access_records(json_lines(bridge.stderr_text()))
        [r] = found[posted.request_id]
        self.assertEqual(r['errorType'], 'Runtime.BackendUnreachable', r)
        self.assertNotIn('status', r)
        self.assertEqual((r['method'], r['path'], r['bytesOut']), ('GET', '/unreachable', 0), r)
        # An event that could not be read has no source, method or path.
        [i] = found[invalid.request_id]
        self.assertEqual(i['errorType'], 'Runtime.InvalidEvent', i)
        for name in ('source', 'method', 'path', 'status'):
            self.assertNotIn(name, i)

    def test_a_streamed_invocation_counts_the_body_it_streamed_as_bytes_out(self):
        fake, backend = self.start_fake(), self.start_backend(default=fixed(200, b'x' * 100_000))
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_LOG_LEVEL=None, AWS_LWA_INVOKE_MODE='response_stream')
        url = 'abc.lambda-url.us-east-1.on.aws'
        event = {'version': '2.0', 'rawPath': '/streamed', 'rawQueryString': '', 'headers': {'host': url},
                 'requestContext': {'domainName': url, 'http': {'method': 'GET'}}}

        posted = self.invoke(fake, event)

        self.assertTrue(posted.chunked, f'not streamed: {posted.headers}')
        self.assertTrue(posted.body.endswith(b'\0' * 8 + b'x' * 100_000), posted.body[:200])
        lines = wait_until(lambda: access_lines(bridge.stderr_text()).get(posted.request_id), 5,
                           f'the access line of {posted.request_id}\n{bridge.tail()}')
        self.assertEqual(len(lines), 1, bridge.stderr_text())
        self.assertEqual((lines[0].group('subject'), lines[0].group('outcome'), lines[0].group('bytes_out')),
                         ('GET /streamed (function-url)', '200', '100000'), lines[0].group(0))

    def test_a_runtime_api_500_on_the_result_still_leaves_the_access_line_before_the_bridge_exits(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_LOG_LEVEL=None)

        rid = fake.push(rest_event('/fatal'), response_reply=500)

        self.assertNotEqual(bridge.wait_exit(5), 0, bridge.tail())
        lines = access_lines(bridge.stderr_text()).get(rid, [])
        self.assertEqual([m.group('subject') for m in lines], ['GET /fatal (rest)'], bridge.stderr_text())

    def test_exactly_one_access_line_per_invocation_whatever_the_outcome_and_none_at_the_start(self):
        fake = self.start_fake()
        raw = self.start_raw_backend(routes={
            '/timeout': RawAnswer([b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc']),
            '/cut': RawAnswer([b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'], close=True),
            '/teapot': b'HTTP/1.1 418 Teapot\r\nContent-Length: 2\r\n\r\nno',
        })
        bridge = self.start_bridge(fake, raw.port, AWS_LAMBDA_LOG_LEVEL=None, AWS_LWA_ERROR_STATUS_CODES='418')
        expected = {}  # request id -> (subject, outcome)
        for path in ('/ok-1', '/ok-2', '/ok-3'):
            expected[self.invoke(fake, rest_event(path)).request_id] = (f'GET {path} (rest)', '200')
        expected[self.invoke(fake, rest_event('/teapot')).request_id] = ('GET /teapot (rest)',
                                                                          '418 Function.ErrorStatus')
        expected[self.invoke(fake, rest_event('/cut')).request_id] = ('GET /cut (rest)',
                                                                       '200 Runtime.BackendInvalidResponse')
        rid = fake.push(rest_event('/timeout'), deadline_in=1.0)
        fake.wait_result(rid, 5)
        expected[rid] = ('GET /timeout (rest)', '200 Runtime.BackendTimeout')
        expected[self.invoke(fake, '[1, 2').request_id] = ('event', 'Runtime.InvalidEvent')
        expected[self.invoke(fake, {"Records": []}).request_id] = ('event (pass-through)', '200')
        wait_until(lambda: len(access_lines(bridge.stderr_text())) >= len(expected), 5,
                   f'{len(expected)} access lines\n{bridge.tail(60)}')
        bridge.stop()

        found = access_lines(bridge.stderr_text())
        self.assertEqual(set(found), set(expected), bridge.stderr_text())
        for rid, (subject, outcome) in expected.items():
            with self.subTest(subject=subject):
                self.assertEqual(len(found[rid]), 1, [m.group(0) for m in found[rid]])
                self.assertEqual((found[rid][0].group('subject'), found[rid][0].group('outcome')),
                                 (subject, outcome), found[rid][0].group(0))
        # The line at the start of an invocation is gone: every INFO line naming a path is an access line.
        for line in bridge.stderr_text().splitlines():
            if re.search(r' INFO .*\] GET /', line):
                self.assertRegex(line, ACCESS_LINE, 'an INFO line about a request that is not its access line')


if __name__ == '__main__':
    unittest.main()
