#!/usr/bin/python3
"""The app's own output with the request id (LAMBDA_BRIDGE_APP_LOG=tag), through the real binary: apps/web_app.py,
started by the bridge, prints during its requests (/log/... routes) and the bridge writes each line out again — the
app's stdout on its stdout, the app's stderr on its stderr — with the id of the one invocation in flight.

Contract: issue 13 — in text `[request-id] line`; in JSON a record with requestId and message, a line that is
already a JSON object gets requestId added; no id with none or several invocations in flight; lines never lost,
reordered within a stream or merged, even in a flood; a line over 256 KiB split with a marker; a last line without
its newline written when the app exits (docs/configuration.md, docs/troubleshooting.md).

Run: /usr/bin/python3 tests/component/test_app_log.py [-v] [TestClass.test_name]
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

from harness import SupervisedAppTestCase, free_port, json_lines, wait_until  # noqa: E402

SPLIT_MARKER = ' [lambda-bridge: line split, continued on the next line]'
MAX_LINE = 256 * 1024
FLOOD_LINE_BYTES = 100  # apps/web_app.py's


def get(path, **query):
    """A REST event for GET path?query (values may be lists: repeated keys)."""
    return {"httpMethod": "GET", "path": path, "requestContext": {},
            "multiValueQueryStringParameters": {k: v if isinstance(v, list) else [v] for k, v in query.items()}}


class AppLogTestCase(SupervisedAppTestCase):

    def start_tagged(self, *flags, **env):
        port = free_port()
        fake = self.start_fake()
        bridge = self.start_bridge(fake, port, args=self.web_app_args(port, *flags), LAMBDA_BRIDGE_APP_LOG='tag',
                                   AWS_LAMBDA_LOG_LEVEL=None, **env)
        return fake, bridge

    def invoke_ok(self, fake, event, timeout=10):
        posted = self.invoke(fake, event, timeout)
        self.assert_response(posted)
        return posted


class TaggedText(AppLogTestCase):

    def test_each_line_the_app_prints_during_an_invocation_carries_its_id_on_the_stream_it_was_written_to(self):
        fake, bridge = self.start_tagged()
        tag = uuid.uuid4().hex[:8]

        expected = {}
        for i in range(3):
            out, err = f'out-{tag}-{i} some text', f'err-{tag}-{i}'
            posted = self.invoke_ok(fake, get('/log/print', out=[out, out + ' again'], err=err))
            expected[posted.request_id] = (out, err)

        for rid, (out, err) in expected.items():
            with self.subTest(rid=rid):
                # Drained before the outcome was posted: the lines are there as soon as the result is.
                stdout, stderr = bridge.stdout_text(), bridge.stderr_text()
                self.assertRegex(stdout, rf'(?m)^\[{rid}\] {re.escape(out)}\n\[{rid}\] {re.escape(out)} again$')
                self.assertRegex(stderr, rf'(?m)^\[{rid}\] {re.escape(err)}$')
                self.assertNotIn(err, stdout)
                self.assertNotIn(out, stderr)
        for line in bridge.stdout_text().splitlines():
            if tag in line:
                rid = re.match(r'^\[([^\]]+)\] ', line).group(1)
                self.assertIn(expected[rid][0], line, 'a line carries the id of another invocation')

    def test_lines_outside_an_invocation_or_while_two_are_in_flight_carry_no_id(self):
        marker = f'marker-{uuid.uuid4().hex}'
        fake, bridge = self.start_tagged('--print-marker', APP_MARKER=marker, AWS_LAMBDA_MAX_CONCURRENCY='2')
        wait_until(lambda: f'{marker} on stdout' in bridge.stdout_text(), 5, 'the start-up line')
        self.assertRegex(bridge.stdout_text(), rf'(?m)^{marker} on stdout$', 'a start-up line got a request id')
        self.assertRegex(bridge.stderr_text(), rf'(?m)^{marker} on stderr$')

        slow = fake.push(get('/slow', s='3'))
        # Alone in flight: its line carries its id.
        wait_until(lambda: f'[{slow}] app: slow request started' in bridge.stdout_text(), 5,
                   f'the slow request\'s tagged line\n{bridge.tail()}')
        both = self.invoke_ok(fake, get('/log/print', out=f'while-two-{marker}'))

        self.assertRegex(bridge.stdout_text(), rf'(?m)^while-two-{marker}$',
                         f'a line written while two invocations were in flight got an id ({both.request_id})')
        self.assert_response(fake.wait_result(slow, 10))


class TaggedJson(AppLogTestCase):

    def test_a_plain_line_becomes_a_record_and_a_json_object_line_gets_the_request_id_added(self):
        fake, bridge = self.start_tagged(AWS_LAMBDA_LOG_FORMAT='JSON')
        tag = uuid.uuid4().hex[:8]
        lines = [f'plain {tag} "quoted" \\ back', json.dumps({'msg': f'object {tag}', 'n': 1}),
                 json.dumps({'requestId': 'the-apps-own', 'msg': f'own id {tag}'}), f'{{}}', f'[1, "array {tag}"]',
                 f'{{not json {tag}}}']

        posted = self.invoke_ok(fake, get('/log/print', out=lines, err=f'on stderr {tag}'))
        rid = posted.request_id

        out = json_lines(bridge.stdout_text())
        self.assertEqual(len(out), len(lines), out)
        plain, obj, own, empty, array, broken = out
        self.assertEqual((plain['requestId'], plain['message'], plain['level']), (rid, lines[0], 'INFO'), plain)
        self.assertRegex(plain['timestamp'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$', plain)
        self.assertEqual(obj, {'requestId': rid, 'msg': f'object {tag}', 'n': 1})
        self.assertEqual(list(obj)[0], 'requestId')
        self.assertEqual(own, {'requestId': 'the-apps-own', 'msg': f'own id {tag}'}, 'the app\'s own id was replaced')
        self.assertEqual(empty, {'requestId': rid})
        self.assertEqual((array['requestId'], array['message']), (rid, lines[4]), 'an array is not an object')
        self.assertEqual((broken['requestId'], broken['message']), (rid, lines[5]), broken)
        # stderr holds the bridge's own records and the app's, every line JSON.
        err = [d for d in json_lines(bridge.stderr_text()) if tag in str(d.get('message'))]
        self.assertEqual(len(err), 1, err)
        self.assertEqual((err[0]['requestId'], err[0]['message']), (rid, f'on stderr {tag}'), err)
        self.assertNotIn('logger', err[0], 'an app line is not the bridge\'s')

    def test_lines_that_are_not_utf8_still_make_valid_json(self):
        fake, bridge = self.start_tagged(AWS_LAMBDA_LOG_FORMAT='JSON')
        self.invoke_ok(fake, get('/log/print', raw=['café ok'.encode().hex(), b'bad \xff byte'.hex()]))
        with open(bridge.stdout_path, 'rb') as f:
            good, bad = [json.loads(line) for line in f.read().splitlines()]
        self.assertEqual(good['message'], 'café ok')
        self.assertEqual(bad['message'], 'bad \ufffd byte')


class Delivery(AppLogTestCase):

    def test_a_flood_of_50_mb_arrives_exactly_once_in_order_unmerged_and_the_invocation_completes(self):
        fake, bridge = self.start_tagged()
        started = time.monotonic()

        posted = self.invoke(fake, get('/log/flood', bytes=str(50_000_000)), timeout=30)

        elapsed = time.monotonic() - started
        result = self.assert_response(posted)
        count = json.loads(result['body'])['lines']
        self.assertGreaterEqual(count * FLOOD_LINE_BYTES, 50_000_000)
        prefix = f'[{posted.request_id}] '.encode()
        with open(bridge.stdout_path, 'rb') as f:
            data = f.read()
        lines = data.split(b'\n')
        self.assertEqual(lines[-1], b'', 'the output does not end with a whole line')
        lines.pop()
        self.assertEqual(len(lines), count, f'{len(lines)} lines out for {count} written')
        for n, line in enumerate(lines):
            expected = prefix + b'flood %09d ' % n
            if not line.startswith(expected) or len(line) != len(prefix) + FLOOD_LINE_BYTES - 1:
                self.fail(f'line {n} is {line[:200]!r}, expected {expected!r} and {FLOOD_LINE_BYTES - 1} bytes')
        print(f'\n50 MB flood: {elapsed:.2f} s from push to result, {count} lines', file=sys.stderr)
        self.assertLess(elapsed, 20, 'the flood slowed the invocation far past what the app needs to write it')

    def test_a_line_longer_than_256_kib_goes_out_in_pieces_that_each_end_in_the_marker(self):
        fake, bridge = self.start_tagged()
        n = 2 * MAX_LINE + 1000

        posted = self.invoke_ok(fake, get('/log/long', n=str(n)))

        prefix = f'[{posted.request_id}] '
        pieces = [line for line in bridge.stdout_text().split('\n') if line.startswith(prefix)]
        self.assertEqual(len(pieces), 3, [p[:80] for p in pieces])
        for piece in pieces[:2]:
            self.assertTrue(piece.endswith(SPLIT_MARKER), piece[-100:])
            self.assertEqual(len(piece), len(prefix) + MAX_LINE + len(SPLIT_MARKER))
        whole = ''.join(p[len(prefix):].removesuffix(SPLIT_MARKER) for p in pieces)
        self.assertEqual(whole, ('0123456789' * (n // 10 + 1))[:n], 'the pieces do not make up the line')

    def test_a_last_line_without_its_newline_is_written_when_the_app_exits(self):
        fake, bridge = self.start_tagged()
        text = f'last words {uuid.uuid4().hex}'

        rid = fake.push(get('/log/partial-exit', text=text))

        self.assert_error(fake.wait_result(rid), 'Runtime.AppExited')
        self.assertNotEqual(bridge.wait_exit(5), 0)
        self.assertRegex(bridge.stdout_text(), rf'(?m)^(\[{rid}\] )?{text}\n',
                         f'the unfinished line is missing or not on a line of its own\n{bridge.tail()}')


class Configuration(AppLogTestCase):

    def test_an_unknown_value_stops_the_start_naming_the_variable_and_what_is_accepted(self):
        port = free_port()
        bridge = self.start_bridge(None, port, wait_ready=False, args=self.web_app_args(port),
                                   LAMBDA_BRIDGE_APP_LOG='json')
        self.assertNotEqual(bridge.wait_exit(5), 0)
        self.assertRegex(bridge.stderr_text(), r'LAMBDA_BRIDGE_APP_LOG="json" is not valid: expected inherit .* or tag')

    def test_without_an_app_command_the_setting_is_named_as_having_no_effect(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port, LAMBDA_BRIDGE_APP_LOG='tag')
        bridge.wait_output(r'WARN .*LAMBDA_BRIDGE_APP_LOG=tag has no effect: the bridge does not start the app', 5)
        self.assert_response(self.invoke(fake, get('/still-served')))


if __name__ == '__main__':
    unittest.main()
