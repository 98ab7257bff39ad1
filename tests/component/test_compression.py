"""Response compression (AWS_LWA_ENABLE_COMPRESSION) through the real binary: a large JSON reply goes out gzip
encoded when the event accepts it, and decodes to exactly what the app sent; a reply that will not be compressed
keeps Lambda's 6 MB limit, and one that is compressed is encoded as it arrives, failing as soon as its encoding
cannot fit, so memory stays bounded whatever the app sends (issue 11: a 300 MB PNG took the bridge to 552 MB)."""
import base64
import gzip
import json
import os
import sys
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BridgeTestCase, RawServer, assert_memory_below, fixed  # noqa: E402

BIG_JSON = json.dumps([{'id': i, 'name': 'item %d' % i, 'tags': ['a', 'b']} for i in range(2000)]).encode()


def event(accept, path='/items'):
    return {'version': '2.0', 'rawPath': path, 'rawQueryString': '', 'requestContext': {'http': {'method': 'GET'}},
            'headers': {'accept-encoding': accept}}


class Compression(BridgeTestCase):

    def start(self, **env):
        backend = self.start_backend(default=fixed(200, BIG_JSON, [('Content-Type', 'application/json')]))
        fake = self.start_fake()
        self.start_bridge(fake, backend.port, **env)
        return fake

    def test_a_large_json_reply_is_gzip_encoded_when_enabled_and_accepted(self):
        fake = self.start(AWS_LWA_ENABLE_COMPRESSION='true')
        result = self.assert_response(self.invoke(fake, event('gzip')))
        self.assertTrue(result['isBase64Encoded'])
        self.assertEqual('gzip', result['headers']['Content-Encoding'])
        raw = base64.b64decode(result['body'])
        self.assertLess(len(raw), len(BIG_JSON) // 4)
        self.assertEqual(BIG_JSON, gzip.decompress(raw))

    def test_the_reply_is_left_alone_when_disabled_or_not_accepted(self):
        fake = self.start()
        result = self.assert_response(self.invoke(fake, event('gzip, br')))
        self.assertFalse(result['isBase64Encoded'])
        self.assertEqual(BIG_JSON.decode(), result['body'])
        fake2 = self.start(AWS_LWA_ENABLE_COMPRESSION='true')
        result = self.assert_response(self.invoke(fake2, event('identity')))
        self.assertNotIn('Content-Encoding', result['headers'])


MB = 1024 * 1024
HEX_BLOCK = os.urandom(MB // 2).hex().encode()  # 1 MB that gzip's 32 KB window cannot shrink below about half


class LargeReplyApp(RawServer):
    """Answers GET <path> with a large body written 1 MB at a time until done or the bridge hangs up:
    /png (300 MB image/png, Content-Length), /png-chunked (the same, chunked), /hex (100 MB of text that compresses
    to about half), /zeros (50 MB of text that compresses a thousandfold)."""

    ROUTES = {'/png': ('image/png', 300, False), '/png-chunked': ('image/png', 300, True),
              '/hex': ('text/plain', 100, False), '/zeros': ('text/plain', 50, False)}

    def _serve(self, conn, n):
        try:
            while True:
                head = b''
                while b'\r\n\r\n' not in head:
                    data = conn.recv(65536)
                    if not data:
                        return
                    head += data
                path = head.split(b' ')[1].decode()
                if path not in self.ROUTES:
                    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
                    continue
                ctype, size_mb, chunked = self.ROUTES[path]
                block = b'\0' * MB if path == '/zeros' else HEX_BLOCK
                framing = 'Transfer-Encoding: chunked' if chunked else f'Content-Length: {size_mb * MB}'
                conn.sendall(f'HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n{framing}\r\n\r\n'.encode())
                for _ in range(size_mb):
                    conn.sendall(b'100000\r\n' + block + b'\r\n' if chunked else block)
                if chunked:
                    conn.sendall(b'0\r\n\r\n')
        except OSError:
            return
        finally:
            conn.close()


class CompressionMemory(BridgeTestCase):
    """Peak memory is the kernel's high-water mark (VmHWM) of the bridge, over every reply of the test."""

    PEAK_LIMIT_KB = 48 * 1024

    def setUp(self):
        super().setUp()
        app = LargeReplyApp()
        self.addCleanup(app.stop)
        self.fake = self.start_fake()
        self.bridge = self.start_bridge(self.fake, app.port, AWS_LWA_ENABLE_COMPRESSION='true')

    def assert_peak_bounded(self):
        assert_memory_below(self, self.bridge.pid, self.PEAK_LIMIT_KB, 'the bridge, after its large replies')

    def test_a_300_mb_png_that_will_not_be_compressed_fails_at_lambdas_limit_without_being_read(self):
        for path in ('/png', '/png-chunked'):
            doc = self.assert_error(self.invoke(self.fake, event('gzip', path), timeout=30),
                                    'Runtime.ResponseTooLarge')
            self.assertIn('6291556', doc['errorMessage'], path)
        self.assertTrue(self.bridge.running(), self.bridge.tail())
        self.assert_peak_bounded()

    def test_a_compressible_reply_whose_encoding_passes_the_limit_fails_as_soon_as_it_does(self):
        doc = self.assert_error(self.invoke(self.fake, event('gzip', '/hex'), timeout=30), 'Runtime.ResponseTooLarge')
        self.assertIn('compressed with gzip', doc['errorMessage'])
        self.assert_peak_bounded()

    def test_a_50_mb_reply_that_compresses_to_kilobytes_is_sent_compressed_within_bounded_memory(self):
        result = self.assert_response(self.invoke(self.fake, event('gzip', '/zeros'), timeout=30))
        self.assertEqual('gzip', result['headers']['Content-Encoding'])
        raw = base64.b64decode(result['body'])
        self.assertLess(len(raw), MB)
        self.assertEqual(zlib.decompress(raw, 16 + zlib.MAX_WBITS), b'\0' * (50 * MB))
        self.assert_peak_bounded()


if __name__ == '__main__':
    unittest.main()
