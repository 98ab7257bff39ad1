"""Response compression (AWS_LWA_ENABLE_COMPRESSION) through the real binary: a large JSON reply goes out gzip
encoded when the event accepts it, and decodes to exactly what the app sent."""
import base64
import gzip
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BridgeTestCase, fixed  # noqa: E402

BIG_JSON = json.dumps([{'id': i, 'name': 'item %d' % i, 'tags': ['a', 'b']} for i in range(2000)]).encode()


def event(accept):
    return {'version': '2.0', 'rawPath': '/items', 'rawQueryString': '', 'requestContext': {'http': {'method': 'GET'}},
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


if __name__ == '__main__':
    unittest.main()
