#!/usr/bin/python3
"""Injection through events, through the real lambda-bridge binary (issue 6, "Injection"): whatever an event of any
HTTP source carries — CR, LF, NUL, a CRLF and a header, a CRLF CRLF and a second request — in its method, path,
query, header names and values, multi-value headers or cookies, conflicting framing headers, or spoofed context
headers, the app receives exactly one well-formed request that carries nothing the event did not legitimately
carry. A raw-socket app records the exact bytes of every connection.

Checked on the wire for every case (RequestChecks.check):
- exactly one request line, `METHOD /target HTTP/1.1`, the target printable ASCII without spaces;
- every header line `token: value` with no CR, LF or NUL in the value;
- exactly one Content-Length, equal to the body's length, and no Transfer-Encoding;
- the body is exactly the event's body;
- nothing else arrives on the connection (no second request, no stray bytes);
- one x-amzn-request-context (the event's requestContext) and one x-amzn-lambda-context (this invocation's), whatever
  the client sent under those names.

Run: /usr/bin/python3 tests/component/test_injection.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import json
import os
import re
import sys
import threading
import time
import unittest
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import parse_qsl, unquote_to_bytes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BridgeTestCase, RawServer  # noqa: E402

OK_REPLY = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'
TCHAR = rb"!#$%&'*+.^_`|~0-9A-Za-z-"
REQUEST_LINE = re.compile(rb"^[A-Z!#$%&'*+.^_`|~0-9-]+ /[\x21-\x7e]* HTTP/1\.1$")
HEADER_LINE = re.compile(rb'^[' + TCHAR + rb']+: [^\r\n\x00]*$')
CONTEXT_HEADERS = ('x-amzn-request-context', 'x-amzn-lambda-context', 'x-amzn-trace-id', 'x-amz-tenant-id')

SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
# What the issue names: a bare CR, a bare LF, a NUL, a CRLF with a header behind it, a CRLF CRLF with a request.
PAYLOADS = {
    'cr': 'a\rb',
    'lf': 'a\nb',
    'nul': 'a\x00b',
    'crlf-header': 'a\r\nX-Injected: 1',
    'crlf-crlf-request': 'a\r\n\r\n' + SMUGGLED,
}
SOURCES = ('rest', 'alb', 'http-api-v2', 'function-url', 'lattice-v1', 'lattice-v2')
METHOD_FIELD = {'rest': 'httpMethod', 'alb': 'httpMethod', 'http-api-v2': 'requestContext.http.method',
                'function-url': 'requestContext.http.method', 'lattice-v1': 'method', 'lattice-v2': 'method'}


# ----------------------------------------------------------------------------------------------------------------
# Events of every HTTP source, built from one description

@dataclass
class Case:
    """What an event carries, independent of its source; the expectations are derived from it."""
    method: str = 'POST'
    path: str = '/inj'
    query: list = field(default_factory=lambda: [('q', '1')])        # decoded (key, value) pairs
    headers: list = field(default_factory=lambda: [('x-fine', 'kept')])  # (name, value), repeated names allowed
    cookies: Optional[list] = None                                   # the v2 cookies array
    body: str = 'hello'
    single_value_headers: bool = False                              # REST/ALB: `headers` instead of multiValueHeaders


def request_context(source):
    return {
        'rest': {'stage': 'prod', 'requestId': 'inj-rest', 'note': 'ctx\r\nX-Injected: 1\x00'},
        'alb': {'elb': {'targetGroupArn': 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/abc'}},
        'http-api-v2': None,  # filled in by make_event (it holds the method)
        'function-url': None,
        'lattice-v1': None,   # Lattice v1 events have no requestContext
        'lattice-v2': {'serviceNetworkArn': 'arn:aws:vpc-lattice:us-east-1:123456789012:servicenetwork/sn-1',
                       'serviceArn': 'arn:aws:vpc-lattice:us-east-1:123456789012:service/svc-1',
                       'region': 'us-east-1', 'timeEpoch': '1724875399456789'},
    }[source]


def grouped(pairs):
    out = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def make_event(source, case: Case) -> dict:
    rc = request_context(source)
    if source in ('rest', 'alb'):
        event = {'httpMethod': case.method, 'path': case.path, 'requestContext': rc, 'body': case.body,
                 'isBase64Encoded': False, 'multiValueQueryStringParameters': grouped(case.query)}
        if case.single_value_headers:
            event['headers'] = dict(case.headers)
        else:
            event['multiValueHeaders'] = grouped(case.headers)
        return event
    if source in ('http-api-v2', 'function-url'):
        domain = ('abc.lambda-url.us-east-1.on.aws' if source == 'function-url'
                  else 'abc.execute-api.us-east-1.amazonaws.com')
        rc = {'http': {'method': case.method, 'path': case.path, 'protocol': 'HTTP/1.1', 'sourceIp': '203.0.113.9',
                       'userAgent': 'test'}, 'domainName': domain, 'stage': '$default', 'requestId': 'inj-v2',
              'routeKey': '$default'}
        event = {'version': '2.0', 'routeKey': '$default', 'rawPath': case.path,
                 'rawQueryString': '&'.join(f'{k}={v}' for k, v in case.query),
                 'headers': {k: ','.join(v) for k, v in grouped(case.headers).items()},
                 'requestContext': rc, 'body': case.body, 'isBase64Encoded': False}
        if case.cookies is not None:
            event['cookies'] = case.cookies
        return event
    if source == 'lattice-v1':
        return {'raw_path': case.path, 'method': case.method,
                'headers': {k: ','.join(v) for k, v in grouped(case.headers).items()},
                'query_string_parameters': {k: v[-1] for k, v in grouped(case.query).items()},
                'body': case.body, 'is_base64_encoded': False}
    if source == 'lattice-v2':
        return {'version': '2.0', 'path': case.path, 'method': case.method, 'headers': grouped(case.headers),
                'queryStringParameters': grouped(case.query), 'body': case.body, 'isBase64Encoded': False,
                'requestContext': rc}
    raise ValueError(source)


def expected_context(event):
    return event.get('requestContext')


# ----------------------------------------------------------------------------------------------------------------
# The app: raw bytes per connection

@dataclass
class Received:
    conn: int
    raw: bytes


class RecordingApp(RawServer):
    """Records every byte of every connection, and answers each request (framed by its Content-Length, the only
    framing the bridge may use) with 200 'ok' on a kept-alive connection."""

    def __init__(self):
        self._cond = threading.Condition()
        self.requests: list[Received] = []
        self.streams: dict[int, bytearray] = {}   # every byte received, per connection
        self.parsed: dict[int, int] = {}          # bytes of those that belong to complete requests
        super().__init__()

    def _serve(self, conn, n):
        with self._cond:
            self.streams[n] = bytearray()
            self.parsed[n] = 0
        buf = b''
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                with self._cond:
                    self.streams[n].extend(data)
                    self._cond.notify_all()
                buf += data
                while b'\r\n\r\n' in buf:
                    head_end = buf.index(b'\r\n\r\n') + 4
                    m = re.search(rb'(?i)\r\ncontent-length: *(\d+)\r\n', buf[:head_end])
                    end = head_end + (int(m.group(1)) if m else 0)
                    if len(buf) < end:
                        break
                    with self._cond:
                        self.requests.append(Received(n, buf[:end]))
                        self.parsed[n] += end
                        self._cond.notify_all()
                    buf = buf[end:]
                    conn.sendall(OK_REPLY)
        except OSError:
            return

    def count(self):
        with self._cond:
            return len(self.requests)

    def stray_bytes(self):
        """Bytes received that are not part of a complete request, per connection (should be none)."""
        with self._cond:
            return {n: bytes(s[self.parsed[n]:]) for n, s in self.streams.items() if len(s) != self.parsed[n]}


# ----------------------------------------------------------------------------------------------------------------

class InjectionTestCase(BridgeTestCase):
    # After each request is complete, how long the connection is watched for anything more. A second request would
    # come in the same write as the first, so it would already be there; this is the margin. Anything arriving
    # later still shows: as a second request for the next case, or in tearDown's count and stray bytes.
    QUIET = 0.01
    FINAL_QUIET = 0.2

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()
        self.app = RecordingApp()
        self.addCleanup(self.app.stop)
        self.bridge = self.start_bridge(self.fake, self.app.port, AWS_LAMBDA_LOG_LEVEL='WARN')
        self.forwarded = self.app.count()  # the readiness probe's GET /

    def tearDown(self):
        # Nothing more arrived on any connection once every case of the test had run.
        time.sleep(self.FINAL_QUIET)
        self.assertEqual(self.app.stray_bytes(), {}, 'bytes arrived that belong to no complete request')
        self.assertEqual(self.app.count(), self.forwarded, 'the app received more requests than events forwarded')
        self.assertTrue(self.bridge.running(), self.bridge.tail())

    def forward(self, event) -> tuple[str, bytes]:
        """Invoke with `event`; the app must get exactly one request for it. Returns (request id, its bytes)."""
        before = self.app.count()
        rid = self.fake.push(event)
        posted = self.fake.wait_result(rid, 10)
        result = self.assert_response(posted)
        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(result.get('body'), 'ok', result)
        time.sleep(self.QUIET)
        with self.app._cond:
            new = self.app.requests[before:]
        self.assertEqual(len(new), 1, f'the app received {len(new)} requests for one event: '
                                      f'{[r.raw[:200] for r in new]}')
        self.forwarded += 1
        return rid, new[0].raw

    def refuse(self, event, field_name: str):
        """Invoke with `event`; it must fail with Runtime.InvalidEvent naming the field, and the app get nothing."""
        before = self.app.count()
        posted = self.invoke(self.fake, event)
        doc = self.assert_error(posted, 'Runtime.InvalidEvent')
        self.assertIn(f"'{field_name}'", doc['errorMessage'], 'the message should name the field')
        time.sleep(self.QUIET)
        self.assertEqual(self.app.count(), before, 'the app received a request for a refused event')

    def check(self, raw: bytes, rid: str, event: dict, body: bytes) -> tuple[bytes, list]:
        """The checks every forwarded request must pass; returns (target, [(lower-case name, value)])."""
        head, sep, got_body = raw.partition(b'\r\n\r\n')
        self.assertEqual(sep, b'\r\n\r\n', raw[:300])
        lines = head.split(b'\r\n')
        self.assertRegex(lines[0], REQUEST_LINE, 'the request line')
        for line in lines[1:]:
            self.assertRegex(line, HEADER_LINE, 'a header line')
        self.assertNotIn(b'\n', head.replace(b'\r\n', b''), 'a bare LF in the head')
        self.assertNotIn(b'\r', head.replace(b'\r\n', b''), 'a bare CR in the head')
        self.assertNotIn(b'\x00', head, 'a NUL in the head')
        headers = [(n.decode('latin-1').lower(), v.decode('latin-1')) for n, _, v in
                   (line.partition(b': ') for line in lines[1:])]
        names = [n for n, _ in headers]
        self.assertEqual([v for n, v in headers if n == 'content-length'], [str(len(body))], headers)
        self.assertNotIn('transfer-encoding', names)
        self.assertNotIn('x-injected', names, 'an injected header line reached the app')
        self.assertEqual(got_body, body, 'the body is not exactly the event\'s body')
        self.assertNotRegex(head, rb'(^|\r\n)GET /smuggled', 'a second request line')
        # The context headers are the bridge's: one each, whatever the client sent, under any spelling of the name.
        spellings = [n for n in names if n.replace('_', '-') in CONTEXT_HEADERS and n not in CONTEXT_HEADERS]
        self.assertEqual(spellings, [], 'a client copy of a context header reached the app')
        rc = [v for n, v in headers if n == 'x-amzn-request-context']
        self.assertEqual(len(rc), 1, headers)
        self.assertEqual(json.loads(rc[0]), expected_context(event))
        lc = [v for n, v in headers if n == 'x-amzn-lambda-context']
        self.assertEqual(len(lc), 1, headers)
        self.assertEqual(json.loads(lc[0]).get('request_id'), rid)
        self.assertEqual(len([n for n in names if n == 'host']), 1, headers)
        return lines[0].split(b' ')[1], headers

    def forward_and_check(self, source, case: Case):
        event = make_event(source, case)
        rid, raw = self.forward(event)
        return self.check(raw, rid, event, case.body.encode())


# ----------------------------------------------------------------------------------------------------------------

class ControlBytesInTheRequestLine(InjectionTestCase):

    def test_method_with_cr_lf_nul_or_a_smuggled_request_fails_naming_the_field_and_the_app_gets_nothing(self):
        methods = {name: 'GET' + payload for name, payload in PAYLOADS.items()}
        methods.update({'space': 'GET /x', 'tab': 'GET\t', 'empty': ''})
        for source in SOURCES:
            for name, method in methods.items():
                with self.subTest(source=source, method=name):
                    self.refuse(make_event(source, Case(method=method)), METHOD_FIELD[source])
        # and the bridge still serves a normal event of each source
        for source in SOURCES:
            with self.subTest(source=source, method='POST'):
                self.forward_and_check(source, Case())

    def test_cr_lf_nul_in_the_path_are_percent_encoded_in_one_request_line(self):
        for source in SOURCES:
            for name, payload in PAYLOADS.items():
                with self.subTest(source=source, payload=name):
                    path = '/p/' + payload
                    target, _ = self.forward_and_check(source, Case(path=path))

                    got_path = target.split(b'?', 1)[0]
                    self.assertEqual(unquote_to_bytes(got_path), path.encode(), target)

    def test_cr_lf_nul_in_query_keys_and_values_are_percent_encoded_in_one_request_line(self):
        for source in SOURCES:
            for name, payload in PAYLOADS.items():
                for where in ('key', 'value'):
                    with self.subTest(source=source, payload=name, where=where):
                        pair = (payload, 'v') if where == 'key' else ('k', payload)
                        target, _ = self.forward_and_check(source, Case(query=[('q', '1'), pair]))

                        query = target.split(b'?', 1)[1].decode('ascii')
                        self.assertEqual(parse_qsl(query, keep_blank_values=True), [('q', '1'), pair], target)


class ControlBytesInHeaders(InjectionTestCase):

    def check_dropped(self, source, case: Case, dropped_name: str):
        _, headers = self.forward_and_check(source, case)
        self.assertIn(('x-fine', 'kept'), headers, 'the harmless header should still reach the app')
        self.assertFalse([h for h in headers if h[0].startswith(dropped_name)], headers)

    def test_header_names_with_cr_lf_nul_are_dropped_whole(self):
        for source in SOURCES:
            for name, payload in PAYLOADS.items():
                with self.subTest(source=source, payload=name):
                    self.check_dropped(source, Case(headers=[('x-fine', 'kept'), ('x-evil' + payload, 'v')]), 'x-evil')

    def test_header_values_with_cr_lf_nul_are_dropped_whole(self):
        for source in SOURCES:
            for name, payload in PAYLOADS.items():
                for single in ((False, True) if source in ('rest', 'alb') else (False,)):
                    with self.subTest(source=source, payload=name, single_value_headers=single):
                        case = Case(headers=[('x-fine', 'kept'), ('x-evil', payload)], single_value_headers=single)
                        self.check_dropped(source, case, 'x-evil')

    def test_one_bad_value_among_multi_value_headers_never_reaches_the_wire(self):
        for source in ('rest', 'alb', 'lattice-v2'):
            for name, payload in PAYLOADS.items():
                with self.subTest(source=source, payload=name):
                    case = Case(headers=[('x-fine', 'kept'), ('x-multi', 'one'), ('x-multi', payload),
                                         ('x-multi', 'three')])
                    _, headers = self.forward_and_check(source, case)

                    self.assertIn(('x-fine', 'kept'), headers)
                    self.assertEqual([v for n, v in headers if n == 'x-multi'], ['one', 'three'], headers)

    def test_host_with_cr_lf_nul_is_replaced_by_one_clean_host(self):
        for source in SOURCES:
            for name, payload in PAYLOADS.items():
                with self.subTest(source=source, payload=name):
                    _, headers = self.forward_and_check(source, Case(headers=[('x-fine', 'kept'),
                                                                              ('host', 'example.com' + payload)]))
                    self.assertNotIn(('host', 'example.com' + payload), headers)

    def test_a_cookie_with_cr_lf_nul_is_dropped_alone_and_never_reaches_the_wire_raw(self):
        for source in ('http-api-v2', 'function-url'):
            for name, payload in PAYLOADS.items():
                with self.subTest(source=source, payload=name):
                    case = Case(cookies=['a=1', 'b=' + payload, 'c=3'])
                    _, headers = self.forward_and_check(source, case)

                    # Only the bad entry is dropped: the good cookies around it still arrive, on one line.
                    self.assertEqual([v for n, v in headers if n == 'cookie'], ['a=1; c=3'], headers)
        for source in SOURCES:
            for name, payload in PAYLOADS.items():
                with self.subTest(source=source, payload=name, cookie='header'):
                    self.check_dropped(source, Case(headers=[('x-fine', 'kept'), ('cookie', 'a=1; b=' + payload)]),
                                       'cookie')


class FramingAndContextHeaders(InjectionTestCase):

    def test_event_framing_headers_give_way_to_one_content_length_of_the_real_body(self):
        framings = {
            'content-length and transfer-encoding': [('Content-Length', '3'), ('Transfer-Encoding', 'chunked')],
            'conflicting content-lengths': [('Content-Length', '5'), ('Content-Length', '500')],
            'chunked with a plain body': [('Transfer-Encoding', 'chunked')],
            'content-length 0 with a body': [('content-length', '0')],
            'transfer-encoding twice': [('Transfer-Encoding', 'gzip'), ('transfer-encoding', 'chunked')],
            'underscore spellings': [('content_length', '0'), ('transfer_encoding', 'chunked')],
            'hop-by-hop': [('Connection', 'close, x-fine'), ('TE', 'trailers'), ('Trailer', 'X-T'),
                           ('Upgrade', 'h2c'), ('Keep-Alive', 'timeout=1'), ('Proxy-Connection', 'close')],
        }
        bodies = {'plain': 'hello', 'smuggled request': '0\r\n\r\n' + SMUGGLED, 'empty': ''}
        for source in SOURCES:
            for name, framing in framings.items():
                for body_name, body in bodies.items():
                    with self.subTest(source=source, framing=name, body=body_name):
                        case = Case(headers=[('x-fine', 'kept')] + framing, body=body)
                        _, headers = self.forward_and_check(source, case)

                        self.assertIn(('x-fine', 'kept'), headers)
                        names = {n for n, _ in headers}
                        for hop in ('connection', 'te', 'trailer', 'upgrade', 'keep-alive', 'proxy-connection',
                                    'content_length', 'transfer_encoding'):
                            self.assertNotIn(hop, names, headers)

    def test_body_with_control_bytes_or_a_smuggled_request_arrives_exactly_as_the_body(self):
        for source in SOURCES:
            for name, payload in PAYLOADS.items():
                with self.subTest(source=source, payload=name):
                    self.forward_and_check(source, Case(body=payload + '\r\n\r\n' + SMUGGLED + '\u00e9'))

    def test_spoofed_context_headers_are_replaced_by_the_bridges_own(self):
        spoofs = [
            ('x-amzn-request-context', '{"stage":"spoofed"}'), ('X-Amzn-Lambda-Context', '{"request_id":"spoofed"}'),
            ('X-AMZN-REQUEST-CONTEXT', '{"forged":1}'), ('x_amzn_request_context', '{"forged":2}'),
            ('x_amzn_lambda_context', '{"request_id":"forged"}'), ('x-amzn_lambda-context', 'forged'),
            ('x-amzn-trace-id', 'Root=spoofed'), ('x_amz_tenant_id', 'spoofed'),
        ]
        for source in SOURCES:
            for single in ((False, True) if source in ('rest', 'alb') else (False,)):
                with self.subTest(source=source, single_value_headers=single):
                    headers = [('x-fine', 'kept')] + spoofs
                    if single:  # one value per name in the single-value map
                        headers = list(dict(headers).items())
                    _, got = self.forward_and_check(source, Case(headers=headers, single_value_headers=single))

                    self.assertFalse([h for h in got if 'spoofed' in h[1] or 'forged' in h[1]], got)
                    self.assertEqual([v for n, v in got if n == 'x-amzn-trace-id'],
                                     ['Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'])


if __name__ == '__main__':
    unittest.main()
