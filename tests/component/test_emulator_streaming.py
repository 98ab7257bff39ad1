#!/usr/bin/python3
"""Response streaming through the local emulator, with the real binary and apps/web_app.py: the plain invoke path
and the gateway answer as a Function URL client would see it (the prelude's status and headers, then the body as
the app produces it); POST /2021-11-15/functions/function/response-streaming-invocations answers with the AWS event
stream that InvokeWithResponseStream returns (PayloadChunk events, then InvokeComplete).

Contract: runtime-api.md §5, the "streamed result" row: stream the HTTP body to the caller as it is produced (AWS's
emulator buffers it and delivers the prelude and NULs raw).

Run: /usr/bin/python3 tests/component/test_emulator_streaming.py [-v]
"""
import http.client
import json
import os
import struct
import sys
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    INVOKE_PATH, EmulatorTestCase, http_request, open_invocation, read_until, rest_get,
)

STREAM_PATH = '/2021-11-15/functions/function/response-streaming-invocations'
NULS = b'\0' * 8


def url_event(path, query=''):
    return {'version': '2.0', 'rawPath': path, 'rawQueryString': query, 'headers': {},
            'requestContext': {'domainName': 'abc.lambda-url.us-east-1.on.aws', 'http': {'method': 'GET'}}}


def decode_event_stream(data: bytes) -> list:
    """[(headers dict, payload)] of an AWS event stream, checking every length and CRC (an independent decoder of
    the published format: total length, headers length, prelude CRC, headers, payload, message CRC)."""
    messages = []
    while data:
        total, headers_len, prelude_crc = struct.unpack('>III', data[:12])
        assert zlib.crc32(data[:8]) == prelude_crc, 'prelude CRC mismatch'
        message = data[:total]
        assert len(message) == total, 'truncated message'
        assert zlib.crc32(message[:-4]) == struct.unpack('>I', message[-4:])[0], 'message CRC mismatch'
        headers, pos = {}, 12
        while pos < 12 + headers_len:
            name_len = message[pos]
            name = message[pos + 1:pos + 1 + name_len].decode()
            pos += 1 + name_len
            assert message[pos] == 7, 'only string headers are expected'
            value_len = struct.unpack('>H', message[pos + 1:pos + 3])[0]
            headers[name] = message[pos + 3:pos + 3 + value_len].decode()
            pos += 3 + value_len
        messages.append((headers, message[12 + headers_len:-4]))
        data = data[total:]
    return messages


class EmulatorStreaming(EmulatorTestCase):

    def start(self, gateway='off', **env):
        return self.start_emulator(gateway=gateway, AWS_LWA_INVOKE_MODE='response_stream', **env)

    def open_invoke(self, port, path, event):
        conn, response = open_invocation(port, path, event)
        self.addCleanup(conn.close)
        return response

    def test_the_invoke_api_relays_an_sse_reply_live_with_the_apps_status_and_headers(self):
        emu = self.start()
        gate = self.tmp / 'release-last-event'
        r = self.open_invoke(emu.invoke_port, INVOKE_PATH, url_event('/stream/sse', f'events=3&gate={gate}'))
        self.assertEqual(200, r.status)
        self.assertEqual('text/event-stream', r.getheader('Content-Type'))
        self.assertEqual('no-cache', r.getheader('Cache-Control'))
        self.assertEqual('chunked', r.getheader('Transfer-Encoding'))
        # The app holds its last event until the gate exists: the first two must reach the caller before that.
        seen = read_until(r, b'event 2\n\n')
        self.assertNotIn(b'event 3', seen)
        gate.write_text('go')
        seen += r.read()
        self.assertEqual(b'data: event 1\n\ndata: event 2\n\ndata: event 3\n\n', seen)

    def test_the_streaming_invoke_path_answers_with_an_aws_event_stream(self):
        emu = self.start()
        r = self.open_invoke(emu.invoke_port, STREAM_PATH, url_event('/stream/sse', 'events=2'))
        self.assertEqual(200, r.status)
        self.assertEqual('application/vnd.amazon.eventstream', r.getheader('Content-Type'))
        messages = decode_event_stream(r.read())
        kinds = [h[':event-type'] for h, _ in messages]
        self.assertEqual('InvokeComplete', kinds[-1])
        self.assertEqual({'PayloadChunk'}, set(kinds[:-1]))
        self.assertTrue(all(h[':message-type'] == 'event' for h, _ in messages))
        payload = b''.join(p for h, p in messages[:-1])
        prelude, _, body = payload.partition(NULS)
        self.assertEqual(200, json.loads(prelude)['statusCode'])
        self.assertEqual(b'data: event 1\n\ndata: event 2\n\n', body)
        self.assertNotIn('ErrorCode', json.loads(messages[-1][1]))

    def test_the_streaming_invoke_path_takes_the_configured_function_name_and_refuses_another(self):
        emu = self.start(AWS_LAMBDA_FUNCTION_NAME='myfn')
        named = STREAM_PATH.replace('/function/', '/myfn/')

        r = self.open_invoke(emu.invoke_port, named, url_event('/stream/sse', 'events=1'))
        self.assertEqual(200, r.status)
        messages = decode_event_stream(r.read())
        self.assertEqual('InvokeComplete', messages[-1][0][':event-type'])
        self.assertIn(b'data: event 1\n\n', b''.join(p for _, p in messages[:-1]))
        r = self.open_invoke(emu.invoke_port, STREAM_PATH.replace('/function/', '/other/'), url_event('/', ''))
        self.assertEqual(404, r.status)
        self.assertEqual('ResourceNotFoundException', r.getheader('X-Amzn-ErrorType'))
        self.assertIn(f"'myfn': POST {named}", json.loads(r.read())['errorMessage'])

    def test_a_failure_mid_stream_cuts_the_plain_reply_and_ends_the_event_stream_with_an_error_code(self):
        emu = self.start()
        r = self.open_invoke(emu.invoke_port, INVOKE_PATH, url_event('/stream/cut', 'n=100'))
        self.assertEqual(200, r.status)
        with self.assertRaises(http.client.IncompleteRead) as cut:
            r.read()
        self.assertEqual(b'y' * 100, cut.exception.partial)
        r = self.open_invoke(emu.invoke_port, STREAM_PATH, url_event('/stream/cut', 'n=100'))
        messages = decode_event_stream(r.read())
        complete = json.loads(messages[-1][1])
        self.assertEqual('InvokeComplete', messages[-1][0][':event-type'])
        self.assertEqual('Runtime.StreamError', complete['ErrorCode'])
        self.assertEqual('Runtime.BackendInvalidResponse', json.loads(complete['ErrorDetails'])['errorType'])
        # Still serving.
        r = self.open_invoke(emu.invoke_port, INVOKE_PATH, url_event('/stream/bytes', 'n=5'))
        self.assertEqual(bytes(range(5)), r.read())

    def test_the_function_url_gateway_streams_with_the_apps_status_and_cookies(self):
        emu = self.start(gateway='0', LAMBDA_BRIDGE_GATEWAY_FORMAT='function-url')
        reply = http_request(emu.gateway_port, 'GET', '/stream/redirect')
        self.assertEqual(302, reply.status, str(reply))
        self.assertEqual('/elsewhere', reply.header('Location'))
        self.assertEqual(['a=1', 'b=2'], reply.headers.get_all('Set-Cookie'))
        self.assertIsNone(reply.header('X-Amz-Executed-Version'), 'a gateway does not say which version ran')
        reply = http_request(emu.gateway_port, 'GET', '/stream/bytes?n=70000')
        self.assertEqual(200, reply.status)
        self.assertEqual(70000, len(reply.body))

    def test_a_buffered_result_on_the_streaming_path_is_one_payload_chunk(self):
        emu = self.start_emulator()
        r = self.open_invoke(emu.invoke_port, STREAM_PATH, rest_get('/status/201'))
        messages = decode_event_stream(r.read())
        self.assertEqual(['PayloadChunk', 'InvokeComplete'], [h[':event-type'] for h, _ in messages])
        self.assertEqual(201, json.loads(messages[0][1])['statusCode'])

    def test_a_100_mb_stream_through_the_emulator_keeps_memory_flat(self):
        emu = self.start()
        n = 100 * 1024 * 1024
        r = self.open_invoke(emu.invoke_port, INVOKE_PATH, url_event('/stream/bytes', f'n={n}'))
        got = 0
        while True:
            piece = r.read1(1 << 20)
            if not piece:
                break
            got += len(piece)
        self.assertEqual(n, got)
        assert_memory_below(self, emu.bridge.pid, 16 * 1024, 'the bridge, relaying 100 MB through the emulator')


from harness import assert_memory_below  # noqa: E402


if __name__ == '__main__':
    unittest.main()
