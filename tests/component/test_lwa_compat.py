#!/usr/bin/python3
"""aws-lambda-web-adapter images unchanged, through the real binary: its older unprefixed variables
(READINESS_CHECK_PORT, READINESS_CHECK_PATH, READINESS_CHECK_PROTOCOL, REMOVE_BASE_PATH, ASYNC_INIT) steer the
readiness probe and the request path as in LWA 1.0, each with one warning line naming the new variable; the AWS_LWA_
name wins when both are set; a misspelt AWS_LWA_* or LAMBDA_BRIDGE_* variable gets one warning naming the nearest
variable the bridge reads.

Contract: issue 13 ("a true drop-in"), item 1; docs/configuration.md.

Run: /usr/bin/python3 tests/component/test_lwa_compat.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.
"""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import RawAnswer, RawAppTestCase, RawBackend, fixed, rest_event  # noqa: E402


WARN_LINE = re.compile(r'^\S+ WARN lambda-bridge (.*)$', re.M)


def warning_lines(bridge) -> list:
    """The messages of the bridge's WARN lines (text log format: time, level, logger, message)."""
    return WARN_LINE.findall(bridge.output())


class UnprefixedNames(RawAppTestCase):

    def test_remove_base_path_and_readiness_check_path_unprefixed_probe_the_path_and_strip_the_base(self):
        fake = self.start_fake()
        # '/' fails the probe: the bridge is ready only if it probes /healthz, as READINESS_CHECK_PATH says.
        backend = self.start_backend(routes={'/': fixed(500, b'not the health route'), '/healthz': fixed(200)})
        bridge = self.start_bridge(fake, backend.port, REMOVE_BASE_PATH='/api', READINESS_CHECK_PATH='/healthz')

        result = self.assert_response(self.invoke(fake, rest_event('/api/users', queryStringParameters={'a': '1'})))

        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(json.loads(result['body'])['target'], '/users?a=1', result)
        self.assertTrue(backend.requests_to('/healthz'), 'READINESS_CHECK_PATH was not probed')
        self.assertEqual(backend.requests_to('/'), [], 'the probe went to / instead of READINESS_CHECK_PATH')
        warnings = warning_lines(bridge)
        self.assertIn('REMOVE_BASE_PATH is deprecated; use AWS_LWA_REMOVE_BASE_PATH', warnings,
                      bridge.tail())
        self.assertIn('READINESS_CHECK_PATH is deprecated; use AWS_LWA_READINESS_CHECK_PATH',
                      warnings, bridge.tail())
        self.assertEqual(len(warnings), 2, bridge.tail())

    def test_readiness_check_port_and_protocol_unprefixed_probe_that_port_by_tcp_alone(self):
        fake = self.start_fake()
        backend = self.start_backend()
        # Accepts and never answers: ready by tcp, never by http.
        silent = RawBackend(routes={'/': RawAnswer([], close=False)})
        self.addCleanup(silent.stop)
        bridge = self.start_bridge(fake, backend.port, READINESS_CHECK_PORT=str(silent.port),
                                   READINESS_CHECK_PROTOCOL='tcp', ASYNC_INIT='true')

        result = self.assert_response(self.invoke(fake, rest_event('/served')))

        self.assertEqual(json.loads(result['body'])['target'], '/served', result)
        self.assertEqual([r.path for r in backend.requests], ['/served'], 'the app port was probed')
        self.assertEqual(silent.requests, [], 'the readiness port got an HTTP probe, not a TCP one')
        for old, new in (('READINESS_CHECK_PORT', 'AWS_LWA_READINESS_CHECK_PORT'),
                         ('READINESS_CHECK_PROTOCOL', 'AWS_LWA_READINESS_CHECK_PROTOCOL'),
                         ('ASYNC_INIT', 'AWS_LWA_ASYNC_INIT')):
            self.assertIn(f'{old} is deprecated; use {new}', warning_lines(bridge), bridge.tail())

    def test_the_aws_lwa_name_wins_and_the_unprefixed_one_is_reported_as_ignored(self):
        fake = self.start_fake()
        backend = self.start_backend(routes={'/old-health': fixed(500), '/new-health': fixed(200)})
        bridge = self.start_bridge(fake, backend.port, REMOVE_BASE_PATH='/old', AWS_LWA_REMOVE_BASE_PATH='/new',
                                   READINESS_CHECK_PATH='/old-health', AWS_LWA_READINESS_CHECK_PATH='/new-health')

        new = self.assert_response(self.invoke(fake, rest_event('/new/x')))
        old = self.assert_response(self.invoke(fake, rest_event('/old/x')))

        self.assertEqual(json.loads(new['body'])['target'], '/x', new)
        self.assertEqual(json.loads(old['body'])['target'], '/old/x', old)
        self.assertEqual(backend.requests_to('/old-health'), [], 'READINESS_CHECK_PATH was probed')
        self.assertIn('REMOVE_BASE_PATH is deprecated and ignored: AWS_LWA_REMOVE_BASE_PATH is set',
                      warning_lines(bridge), bridge.tail())

    def test_an_unusable_unprefixed_value_stops_the_start_naming_that_variable(self):
        fake = self.start_fake()
        bridge = self.start_bridge(fake, self.refused_port(), wait_ready=False, READINESS_CHECK_PATH='healthz')

        posted = fake.wait_init_error(5)

        self.assertNotEqual(bridge.wait_exit(5), 0, bridge.tail())
        self.assertEqual(posted.json.get('errorType'), 'Runtime.InvalidConfiguration', posted.body)
        self.assertIn('READINESS_CHECK_PATH="healthz" is not valid', posted.json.get('errorMessage'), posted.body)


class UnknownNames(RawAppTestCase):

    def test_a_misspelt_variable_gets_one_warning_naming_the_nearest_one_and_changes_nothing(self):
        fake = self.start_fake()
        backend = self.start_backend()
        bridge = self.start_bridge(fake, backend.port, AWS_LWA_REMOVE_BASEPATH='/api')

        result = self.assert_response(self.invoke(fake, rest_event('/api/users')))

        self.assertEqual(json.loads(result['body'])['target'], '/api/users', result)
        lines = [line for line in warning_lines(bridge) if 'AWS_LWA_REMOVE_BASEPATH' in line]
        self.assertEqual(lines, ['AWS_LWA_REMOVE_BASEPATH is not a variable lambda-bridge reads '
                                 'and is ignored; did you mean AWS_LWA_REMOVE_BASE_PATH?'], bridge.tail())

    def test_known_names_and_other_variables_give_no_warning(self):
        fake = self.start_fake()
        backend = self.start_backend()
        bridge = self.start_bridge(fake, backend.port, AWS_LWA_REMOVE_BASE_PATH='/api',
                                   LAMBDA_BRIDGE_STRIP_STAGE='false', MY_APP_SETTING='1')

        self.assert_response(self.invoke(fake, rest_event('/api/users')))

        self.assertEqual(warning_lines(bridge), [], bridge.tail())


if __name__ == '__main__':
    unittest.main()
