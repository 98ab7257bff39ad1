"""Lambda Managed Instances concurrency (AWS_LAMBDA_MAX_CONCURRENCY=N), through the real binary: N independent
/next loops sharing the app's connection pool, invocations that never cross, a slow one never blocking the
others — and exactly one loop when N is unset.

Concurrency is asserted from what the app sees (how many requests it holds at once), not from timings.
"""
import base64
import json
import os
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BackendReply, BridgeTestCase, assert_memory_below, echo, header_lookup  # noqa: E402


class InFlight:
    """A backend behaviour that holds each request until `gather` requests are held at once (or `seconds` pass)
    and records the most requests held at once. Gathering makes the count independent of the peers' pace."""

    def __init__(self, seconds, gather=None):
        self.seconds = seconds
        self.gather = gather
        self.now = 0
        self.most = 0
        self.cond = threading.Condition()

    def __call__(self, req, backend):
        with self.cond:
            self.now += 1
            self.most = max(self.most, self.now)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.gather is not None and self.now >= self.gather, self.seconds)
            self.now -= 1
        return echo(req, backend)


class ManagedInstancesConcurrency(BridgeTestCase):

    def run_concurrently(self, n_env, events):
        # With N workers every request waits for the N-th (5 s at most); with one, each is held 0.2 s.
        held = InFlight(5, gather=n_env) if n_env else InFlight(0.2)
        backend = self.start_backend(default=held, routes={'/': echo})  # the readiness probe is not held
        fake = self.start_fake()
        env = {} if n_env is None else {'AWS_LAMBDA_MAX_CONCURRENCY': str(n_env)}
        self.start_bridge(fake, backend.port, **env)
        if n_env:
            fake.wait_polling(n_env, 10)
        ids = [fake.push({'httpMethod': 'GET', 'path': '/hold/%d' % i, 'requestContext': {}}) for i in range(events)]
        for rid in ids:
            self.assert_response(fake.wait_result(rid, 20))
        return held, fake

    def test_eight_workers_hold_eight_sleeping_requests_at_once(self):
        held, fake = self.run_concurrently(8, 8)
        self.assertEqual(8, held.most, self.context())

    def test_without_the_variable_there_is_exactly_one_invocation_at_a_time(self):
        held, fake = self.run_concurrently(None, 4)
        self.assertEqual(1, held.most, self.context())

    def test_a_thousand_invocations_with_unique_bodies_never_cross(self):
        backend = self.start_backend(default=echo)
        fake = self.start_fake()
        self.start_bridge(fake, backend.port, AWS_LAMBDA_MAX_CONCURRENCY='8', AWS_LAMBDA_LOG_LEVEL='WARN')
        fake.wait_polling(8, 10)
        sent = {}
        for i in range(1000):
            body = 'body-%d-%s' % (i, uuid.uuid4())
            # All are queued at once; the deadline must cover the Python peers' pace, not the bridge's.
            rid = fake.push({'httpMethod': 'POST', 'path': '/echo/%d' % i, 'requestContext': {}, 'body': body},
                            deadline_ms=int((time.time() + 300) * 1000))
            sent[rid] = (i, body)
        for rid, (i, body) in sent.items():
            result = self.assert_response(fake.wait_result(rid, 60))
            seen = json.loads(result['body'])
            self.assertEqual(body, base64.b64decode(seen['body_b64']).decode(), rid)
            self.assertEqual('/echo/%d' % i, seen['target'])
            context = json.loads(header_lookup(seen['headers'], 'x-amzn-lambda-context')[0])
            self.assertEqual(rid, context['request_id'])

    def test_a_slow_invocation_does_not_hold_back_the_others(self):
        release = threading.Event()

        def slow_until_released(req, backend):
            release.wait(10)
            return echo(req, backend)

        backend = self.start_backend(default=echo, routes={'/slow': slow_until_released})
        fake = self.start_fake()
        self.start_bridge(fake, backend.port, AWS_LAMBDA_MAX_CONCURRENCY='2')
        fake.wait_polling(2, 10)
        slow = fake.push({'httpMethod': 'GET', 'path': '/slow', 'requestContext': {}})
        try:
            for i in range(5):
                self.assert_response(self.invoke(fake, {'httpMethod': 'GET', 'path': '/fast/%d' % i, 'requestContext': {}}))
            self.assertFalse(any(p.request_id == slow for p in fake.posts), 'the slow one finished first')
        finally:
            release.set()
        self.assert_response(fake.wait_result(slow, 10))

    def test_sixteen_workers_after_5_mb_replies_together_keep_one_budget_of_buffers_not_sixteen(self):
        # Each worker used to keep its result and reply buffers (about 10 MB after a 5 MB reply) for the life of
        # the process: 16 workers held 170 MB idle. They now share one budget (buffer_budget.hpp).
        big = b'x' * (5 * 1024 * 1024)
        gathered = InFlight(5, gather=16)

        def large_when_gathered(req, backend):
            gathered(req, backend)
            return BackendReply(200, [('Content-Type', 'text/plain')], big)
        backend = self.start_backend(default=large_when_gathered, routes={'/': echo})
        fake = self.start_fake()
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_MAX_CONCURRENCY='16', AWS_LAMBDA_LOG_LEVEL='WARN')
        fake.wait_polling(16, 10)
        ids = [fake.push({'httpMethod': 'GET', 'path': '/big/%d' % i, 'requestContext': {}}) for i in range(16)]
        for rid in ids:
            result = self.assert_response(fake.wait_result(rid, 60))
            self.assertEqual(len(result['body']), len(big))
        self.assertEqual(16, gathered.most, 'the replies were not all in flight at once')
        # Idle: every worker has settled its buffers and polls again (16 polls before the burst, 16 after). Waiting
        # for 16 returned at once, and the memory was read while the last workers were still finishing.
        fake.wait_polling(32, 10)
        assert_memory_below(self, bridge.pid, 64 * 1024, 'the idle bridge after the burst', field='VmRSS')

    def test_sixteen_workers_after_5_mb_events_together_keep_one_budget_of_event_memory_not_sixteen(self):
        # Each worker reads the next event into the last one's memory (runtime_client::recycle_event_buffer); kept
        # without the budget, 16 workers that once took 5 MB events held 5-10 MB each for the life of the process.
        body = 'y' * (5 * 1024 * 1024)
        gathered = InFlight(5, gather=16)

        def small_when_gathered(req, backend):
            gathered(req, backend)
            return BackendReply(200, [('Content-Type', 'text/plain')], str(len(req.body)).encode())
        backend = self.start_backend(default=small_when_gathered, routes={'/': echo})
        fake = self.start_fake()
        bridge = self.start_bridge(fake, backend.port, AWS_LAMBDA_MAX_CONCURRENCY='16', AWS_LAMBDA_LOG_LEVEL='WARN')
        fake.wait_polling(16, 10)
        # A generous deadline: under the sanitizers, reading and parsing sixteen 5 MB events takes seconds.
        ids = [fake.push({'httpMethod': 'POST', 'path': '/big/%d' % i, 'requestContext': {}, 'body': body},
                         deadline_in=60)
               for i in range(16)]
        for rid in ids:
            result = self.assert_response(fake.wait_result(rid, 60))
            self.assertEqual(result['body'], str(len(body)))
        self.assertEqual(16, gathered.most, 'the events were not all in flight at once')
        # Idle: every worker has settled its buffers and polls again (16 polls before the burst, 16 after). Waiting
        # for 16 returned at once, and the memory was read while the last workers were still finishing.
        fake.wait_polling(32, 10)
        assert_memory_below(self, bridge.pid, 64 * 1024, 'the idle bridge after the burst', field='VmRSS')

    def test_an_invalid_value_is_refused_at_start(self):
        fake = self.start_fake()
        backend = self.start_backend()
        bridge = self.start_bridge(fake, backend.port, wait_ready=False, AWS_LAMBDA_MAX_CONCURRENCY='many')
        posted = fake.wait_init_error(10)
        self.assertIn('AWS_LAMBDA_MAX_CONCURRENCY', posted.json['errorMessage'])
        self.assertNotEqual(0, bridge.wait_exit(10))


if __name__ == '__main__':
    unittest.main()
