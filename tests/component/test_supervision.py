#!/usr/bin/python3
"""lambda-bridge as the entrypoint: it starts the app from its own argv, registers an internal extension, waits for
the app, forwards signals, stops the app's whole process group, reaps zombies and reports the app's death — all
through the real binary, against the fake Runtime API (with its Extensions API) and the small app in
apps/web_app.py.

Contract: the entrypoint issue (Lambda mode, Exec mode, Supervision, Readiness), runtime-api.md §3, and issue 11's
app boundary (the app's process group, a second stop signal, SIGPIPE; docs/security.md guarantee 8).

Run: /usr/bin/python3 tests/component/test_supervision.py [-v] [TestClass.test_name]
Binary: $LAMBDA_BRIDGE_BIN, else build/release/lambda-bridge.

Not covered here: AWS_LWA_ASYNC_INIT's 9.8 s cut-off itself (an app that needs more than 9.8 s to listen would make
this file too slow); only "async init with a slow app still serves the first event" is.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    BRIDGE_EMULATOR, EXTENSION_PREFIX, RUNTIME_PREFIX, SYSTEM_PYTHON, Bridge, Posted, SupervisedAppTestCase,
    bridge_command, bridge_env, free_port, port_accepts, proc_stat, process_alive, relaxed_under_emulator,
    scrubbed_env, skip_if_emulated, wait_until, zombie_children,
)


# qemu-user 7.2 (the arm64 preset runs the bridge under it) answers prctl(PR_SET_CHILD_SUBREAPER) with EINVAL: the
# app's orphans go to init, not to the bridge, which therefore cannot reap them.
NO_SUBREAPER = 'qemu-user refuses PR_SET_CHILD_SUBREAPER, so orphans of the app go to init, not to the bridge'


def rest_get(path, query=None):
    event = {"httpMethod": "GET", "path": path, "requestContext": {}}
    if query:
        event["queryStringParameters"] = query
    return event


class SupervisionTestCase(SupervisedAppTestCase):
    """Lambda mode (the fake Runtime API) with apps/web_app.py started by the bridge."""

    def start_supervised(self, fake, *flags, wait_ready: bool = True, ready_timeout: float = 10, **env) -> Bridge:
        port = free_port()
        return self.start_bridge(fake, port, args=self.web_app_args(port, *flags), wait_ready=wait_ready,
                                 ready_timeout=ready_timeout, **env)

    def assert_init_error(self, posted: Posted, error_type: str) -> str:
        """posted is an /init/error of error_type; returns its errorMessage."""
        self.assertEqual(posted.kind, 'init_error', self.context())
        doc = posted.json
        self.assertIsInstance(doc, dict, f'init error body is not a JSON object: {posted.body[:500]!r}')
        self.assertEqual(doc.get('errorType'), error_type, f'{doc}{self.context()}')
        self.assertEqual(posted.header('Lambda-Runtime-Function-Error-Type'), error_type, posted.headers)
        message = doc.get('errorMessage')
        self.assertIsInstance(message, str, doc)
        return message

    def signals_received(self, path: Path) -> list:
        """[(SIGNAME, monotonic time)] the app recorded (with --on-signal exit:N --signal-file path)."""
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [(name, float(t)) for name, t in (line.split() for line in lines if line.strip())]


class AppStartAndOutput(SupervisionTestCase):

    def test_app_started_from_argv_inherits_the_environment_and_its_stdout_and_stderr_pass_through_untouched(self):
        fake = self.start_fake()
        marker = f'marker-{uuid.uuid4().hex}'
        bridge = self.start_supervised(fake, '--print-marker', APP_MARKER=marker)

        wait_until(lambda: re.search(rf'^{marker} on stdout$', bridge.stdout_text(), re.M), 5,
                   f'the app\'s stdout line on the bridge\'s stdout\n{bridge.tail()}')
        wait_until(lambda: re.search(rf'^{marker} on stderr$', bridge.stderr_text(), re.M), 5,
                   f'the app\'s stderr line on the bridge\'s stderr\n{bridge.tail()}')
        self.assertNotIn(f'{marker} on stdout', bridge.stderr_text(), 'app stdout must not go to stderr')
        self.assertNotIn(f'{marker} on stderr', bridge.stdout_text(), 'app stderr must not go to stdout')

        app_pid = self.app_pid()
        self.assertEqual(proc_stat(app_pid)[1], bridge.pid, 'the app must be a child of the bridge')
        self.assertEqual(os.getpgid(app_pid), app_pid, 'the app must run in its own process group')

    def test_first_event_is_served_by_the_app_the_bridge_started(self):
        fake = self.start_fake()
        self.start_supervised(fake)

        result = self.assert_response(self.invoke(fake, rest_get('/echo', {'x': 'y'})))

        self.assertEqual(result.get('statusCode'), 201, result)
        self.assertEqual(json.loads(result['body'])['target'], '/echo?x=y', result)


class InternalExtension(SupervisionTestCase):

    def test_registers_internal_extension_with_no_events_before_the_first_next_and_keeps_event_next_parked(self):
        fake = self.start_fake()
        self.start_supervised(fake)
        fake.wait_extension_parked(1, 5)

        registrations = fake.extension_calls_to('/register', 'POST')
        self.assertEqual(len(registrations), 1, self.context())
        reg = registrations[0]
        self.assertEqual(reg.header('Lambda-Extension-Name'), 'lambda-bridge', reg.headers)
        self.assertEqual(json.loads(reg.body), {'events': []}, reg.body)
        polls = fake.extension_calls_to('/event/next', 'GET')
        self.assertEqual(len(polls), 1, self.context())
        self.assertEqual(polls[0].header('Lambda-Extension-Identifier'), reg.identifier, polls[0].headers)

        paths = [p for _, p, _ in fake.requests]
        first_next = paths.index(RUNTIME_PREFIX + '/invocation/next')
        self.assertLess(paths.index(EXTENSION_PREFIX + '/register'), first_next,
                        f'Lambda accepts registrations only during init, i.e. before the first /next: {paths}')

        # An invocation does not disturb the parked extension poll.
        self.assertEqual(self.assert_response(self.invoke(fake, rest_get('/echo'))).get('statusCode'), 201)
        self.assertEqual(fake.extension_parked, 1, self.context())
        self.assertEqual(len(fake.extension_calls_to('/event/next', 'GET')), 1, self.context())

    def test_registration_goes_to_the_runtime_api_and_not_through_the_runtime_api_proxy(self):
        lambda_api, proxy = self.start_fake(), self.start_fake()
        self.start_supervised(lambda_api, wait_ready=False, AWS_LWA_LAMBDA_RUNTIME_API_PROXY=proxy.address)

        proxy.wait_polling(1, 10)
        lambda_api.wait_extension_parked(1, 5)

        self.assertEqual(len(lambda_api.extension_calls_to('/register', 'POST')), 1, self.context())
        self.assertEqual(proxy.extension_calls, [], 'extension traffic went through the proxy' + self.context())
        self.assertEqual(lambda_api.next_polls, 0, 'Runtime API traffic must go through the proxy' + self.context())
        self.assertEqual(self.assert_response(self.invoke(proxy, rest_get('/echo'))).get('statusCode'), 201)


class ShutdownOnSignal(SupervisionTestCase):

    def _idle_signal_gives_exit_status(self, sig: int, app_exit: int):
        fake = self.start_fake()
        signal_file = self.tmp / f'signals-{sig}'
        bridge = self.start_supervised(fake, '--on-signal', f'exit:{app_exit}', '--signal-file', signal_file)
        app_pid = self.app_pid()

        os.kill(bridge.pid, sig)

        self.assertEqual(bridge.wait_exit(5), app_exit, self.context())
        self.assertEqual([name for name, _ in self.signals_received(signal_file)], [signal.Signals(sig).name],
                         self.context())
        wait_until(lambda: not process_alive(app_pid), 2, 'the app to be gone')

    def test_sigterm_while_idle_terminates_the_app_and_the_bridge_exits_0_when_the_app_exits_0(self):
        self._idle_signal_gives_exit_status(signal.SIGTERM, 0)

    def test_sigterm_while_idle_terminates_the_app_and_the_bridge_exits_7_when_the_app_exits_7(self):
        self._idle_signal_gives_exit_status(signal.SIGTERM, 7)

    def test_sigint_is_forwarded_to_the_app_as_sigint(self):
        self._idle_signal_gives_exit_status(signal.SIGINT, 5)

    def test_sighup_is_forwarded_to_the_app_as_sighup(self):
        self._idle_signal_gives_exit_status(signal.SIGHUP, 6)

    def test_sigterm_during_a_slow_invocation_posts_its_result_before_the_app_is_signalled_and_polls_no_more(self):
        fake = self.start_fake()
        signal_file = self.tmp / 'signals'
        bridge = self.start_supervised(fake, '--on-signal', 'exit:0', '--signal-file', signal_file)
        rid = fake.push(rest_get('/slow', {'s': '1'}), deadline_in=10)
        bridge.wait_output(r'app: slow request started', 5)

        os.kill(bridge.pid, signal.SIGTERM)

        self.assertEqual(bridge.wait_exit(6), 0, self.context())
        posted = fake.wait_result(rid, 0.5)
        result = self.assert_response(posted)
        self.assertEqual(result.get('statusCode'), 200, result)
        self.assertEqual(json.loads(result['body']), {'slept': 1.0}, result)
        received = self.signals_received(signal_file)
        self.assertEqual([n for n, _ in received], ['SIGTERM'], self.context())
        self.assertLess(posted.at, received[0][1], 'the app was signalled before the in-flight result was posted')
        self.assertEqual(fake.next_polls, 1, 'no /next may follow SIGTERM' + self.context())

    def test_app_ignoring_sigterm_is_sigkilled_after_the_grace_and_the_bridge_exits_137(self):
        fake = self.start_fake()
        bridge = self.start_supervised(fake, '--on-signal', 'ignore', LAMBDA_BRIDGE_SHUTDOWN_GRACE_MS='300')
        app_pid = self.app_pid()

        started = time.monotonic()
        os.kill(bridge.pid, signal.SIGTERM)
        status = bridge.wait_exit(4)
        elapsed = time.monotonic() - started

        self.assertEqual(status, 128 + signal.SIGKILL, self.context())
        self.assertLess(elapsed, 2.0, f'took {elapsed:.2f}s to exit')
        self.assertGreaterEqual(elapsed, 0.25, f'exited after {elapsed:.2f}s: the 300 ms grace was not given')
        wait_until(lambda: not process_alive(app_pid), 2, 'the SIGTERM-ignoring app to be killed')

    def test_sigterm_with_no_app_exits_0(self):
        fake, backend = self.start_fake(), self.start_backend()
        bridge = self.start_bridge(fake, backend.port)

        os.kill(bridge.pid, signal.SIGTERM)

        self.assertEqual(bridge.wait_exit(3), 0, self.context())


class SecondSignal(SupervisionTestCase):

    def _second_signal_during_a_hung_invocation_forces_the_stop(self, sig: int):
        fake = self.start_fake()
        signal_file = self.tmp / 'signals'
        bridge = self.start_supervised(fake, '--on-signal', 'exit:0', '--signal-file', signal_file)
        rid = fake.push(rest_get('/slow', {'s': '120'}), deadline_in=300)
        bridge.wait_output(r'app: slow request started', 5)
        os.kill(bridge.pid, sig)
        bridge.wait_output(rf'received signal {int(sig)} .*finishing the invocations in flight', 5)
        self.assertEqual(self.signals_received(signal_file), [],
                         'the app was signalled before its invocation ended' + self.context())

        started = time.monotonic()
        os.kill(bridge.pid, sig)
        status = bridge.wait_exit(5)
        elapsed = time.monotonic() - started

        self.assertLess(elapsed, 2.0, f'took {elapsed:.2f}s to exit after the second signal' + self.context())
        posted = fake.wait_result(rid, 0.5)
        doc = self.assert_error(posted, 'Runtime.BridgeStopped')
        self.assertIn('second signal', doc['errorMessage'], doc)
        received = self.signals_received(signal_file)
        self.assertEqual([n for n, _ in received], [signal.Signals(sig).name], self.context())
        self.assertLess(posted.at, received[0][1], 'the app was signalled before the invocation\'s error was posted')
        self.assertEqual(status, 0, 'a forced stop is still a requested one: the app\'s status' + self.context())
        bridge.wait_output(r'WARN .*forcing the stop', 0.5)

    def test_second_sigterm_during_a_hung_invocation_fails_it_naming_the_cause_signals_the_app_and_exits_at_once(self):
        self._second_signal_during_a_hung_invocation_forces_the_stop(signal.SIGTERM)

    def test_second_sigint_during_a_hung_invocation_fails_it_naming_the_cause_signals_the_app_and_exits_at_once(self):
        self._second_signal_during_a_hung_invocation_forces_the_stop(signal.SIGINT)


class AppProcessGroup(SupervisionTestCase):
    """The app's workers (its process group) end with it: a worker that ignores SIGTERM must not keep the app's
    port, or run on unsupervised, after the bridge is gone."""

    def start_with_stubborn_worker(self, fake, *flags) -> tuple[Bridge, int, int]:
        """(bridge, worker pid, app port): the app forks a worker that ignores SIGTERM and holds its port."""
        worker_file = self.tmp / 'worker.pid'
        self.addCleanup(self.kill_leftover, worker_file)
        bridge = self.start_supervised(fake, '--stubborn-worker', worker_file, *flags,
                                       LAMBDA_BRIDGE_SHUTDOWN_GRACE_MS='300')
        worker = wait_until(lambda: self.read_int(worker_file), 5, 'the app\'s worker to write its pid')
        self.assertEqual(os.getpgid(worker), self.app_pid(), 'the worker must be in the app\'s process group')
        return bridge, worker, int(bridge.env['AWS_LWA_PORT'])

    def assert_gone_with_the_bridge(self, worker: int, port: int):
        # Looked at the moment the bridge has exited, not waited for: the bridge must not exit while the worker
        # runs, and must have reaped it (a zombie it left would linger, re-parented to init).
        if relaxed_under_emulator(self, f'{NO_SUBREAPER}: the worker is checked dead, not reaped'):
            self.assertFalse(process_alive(worker), f'the app\'s worker (pid {worker}) outlived the bridge: '
                                                    f'{proc_stat(worker)}' + self.context())
        else:
            self.assertIsNone(proc_stat(worker), f'the app\'s worker (pid {worker}) outlived the bridge: '
                                                 f'{proc_stat(worker)}' + self.context())
        self.assertFalse(port_accepts(port), f'the app\'s port {port} is still taken')

    def test_sigterm_to_the_bridge_kills_a_worker_of_the_app_that_ignores_it_after_the_grace(self):
        fake = self.start_fake()
        bridge, worker, port = self.start_with_stubborn_worker(fake, '--on-signal', 'exit:0')

        started = time.monotonic()
        os.kill(bridge.pid, signal.SIGTERM)
        status = bridge.wait_exit(5)
        elapsed = time.monotonic() - started

        self.assert_gone_with_the_bridge(worker, port)
        self.assertEqual(status, 0, 'the app\'s own status' + self.context())
        self.assertGreaterEqual(elapsed, 0.25, f'exited after {elapsed:.2f}s: the 300 ms grace was not given')
        self.assertLess(elapsed, 2.0, f'took {elapsed:.2f}s to exit')
        bridge.wait_output(r'WARN .*processes of its group', 0.5)

    def test_app_crashing_leaves_no_worker_of_its_group_running_when_the_bridge_exits(self):
        fake = self.start_fake()
        bridge, worker, port = self.start_with_stubborn_worker(fake)

        rid = fake.push(rest_get('/crash'))
        self.assert_error(fake.wait_result(rid, 10), 'Runtime.AppExited')
        started = time.monotonic()
        status = bridge.wait_exit(5)
        elapsed = time.monotonic() - started

        self.assert_gone_with_the_bridge(worker, port)
        self.assertNotEqual(status, 0, self.context())
        self.assertLess(elapsed, 2.0, f'took {elapsed:.2f}s to exit after posting the error')


class SignalDispositions(SupervisionTestCase):

    def app_signal_masks(self, fake, **env) -> tuple[Bridge, int, int]:
        """(bridge, SigIgn, SigBlk) of an app the bridge started or, in exec mode, became."""
        status_file = self.tmp / 'app-status'
        # grep inherits the shell's dispositions, which are the ones the app got: an ignored signal stays ignored
        # across exec, so SIGPIPE would stay ignored in the app unless the bridge gives back the default.
        script = 'grep -E "^Sig(Ign|Blk):" /proc/self/status > "$0.tmp" && mv "$0.tmp" "$0"; exec sleep 60'
        bridge = self.start_bridge(fake, free_port(), wait_ready=False,
                                   args=['--', '/bin/sh', '-c', script, status_file], **env)
        text = wait_until(lambda: status_file.exists() and status_file.read_text(), 5, 'the app to write its masks')
        masks = dict(line.split(':\t') for line in text.splitlines())
        return bridge, int(masks['SigIgn'], 16), int(masks['SigBlk'], 16)

    def test_bridge_ignores_sigpipe_and_the_app_it_starts_has_every_signal_at_its_default(self):
        bridge, ignored, blocked = self.app_signal_masks(self.start_fake())

        # Except glibc's own internal signals (32 and 33), which its posix_spawn leaves ignored in every child and
        # which no libc lets a program use.
        glibc_internal = (1 << 31) | (1 << 32)
        # qemu-user keeps the host's signals 34 and 35 for itself: the bridge under it cannot name them, so the app
        # inherits them as qemu set them.
        qemu_reserved = 0
        if relaxed_under_emulator(self, 'signals 34 and 35 are not checked: qemu-user keeps them for itself'):
            qemu_reserved = (1 << 33) | (1 << 34)
        self.assertEqual(ignored & ~(glibc_internal | qemu_reserved), 0,
                         f'the app inherited ignored signals: {ignored:#x}')
        self.assertEqual(blocked & ~qemu_reserved, 0, f'the app inherited blocked signals: {blocked:#x}')
        with open(f'/proc/{bridge.pid}/status') as f:
            bridge_ignored = int(re.search(r'^SigIgn:\s*([0-9a-f]+)', f.read(), re.M).group(1), 16)
        self.assertTrue(bridge_ignored & (1 << (signal.SIGPIPE - 1)), 'the bridge does not ignore SIGPIPE')

    def test_exec_mode_gives_the_app_sigpipe_as_the_bridge_found_it(self):
        _, ignored, _ = self.app_signal_masks(None, LAMBDA_BRIDGE_EXEC='true')

        self.assertFalse(ignored & (1 << (signal.SIGPIPE - 1)), f'the app inherited an ignored SIGPIPE: {ignored:#x}')

    def test_bridge_whose_log_pipe_was_closed_by_its_reader_still_posts_results_and_keeps_serving(self):
        fake = self.start_fake()
        port = free_port()
        read_end, write_end = os.pipe()
        proc = subprocess.Popen([*bridge_command(), *self.web_app_args(port)],
                                env=scrubbed_env(bridge_env(fake, port)), stdin=subprocess.DEVNULL,
                                stdout=write_end, stderr=write_end, start_new_session=True)
        os.close(write_end)
        self.addCleanup(self._stop, proc)
        fake.wait_polling(1, 10)

        os.close(read_end)  # every log line from now on meets a pipe without a reader: EPIPE, or SIGPIPE

        for _ in range(2):
            rid = fake.push(rest_get('/echo'))
            self.assertIsNone(proc.poll(), f'the bridge exited with {proc.returncode}')
            result = self.assert_response(fake.wait_result(rid, 5))
            self.assertEqual(result.get('statusCode'), 201, result)
        self.assertIsNone(proc.poll(), f'the bridge exited with {proc.returncode}')
        os.kill(proc.pid, signal.SIGTERM)
        self.assertEqual(proc.wait(5), 128 + signal.SIGTERM,
                         'the bridge must still stop cleanly, with the app\'s status')

    @staticmethod
    def _stop(proc: subprocess.Popen):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


class ZombieReaping(SupervisionTestCase):

    def test_orphaned_grandchild_of_the_app_is_adopted_and_reaped_by_the_bridge(self):
        skip_if_emulated(self, NO_SUBREAPER)
        fake = self.start_fake()
        orphan_file = self.tmp / 'orphan.json'
        bridge = self.start_supervised(fake, '--orphan', orphan_file)

        orphan = wait_until(lambda: orphan_file.exists() and json.loads(orphan_file.read_text()), 15,
                            'the orphaned grandchild to report its new parent')
        self.assertEqual(orphan['ppid'], bridge.pid,
                         'the orphan must be re-parented to the bridge (a child subreaper)' + self.context())

        def reaped():
            st = proc_stat(orphan['pid'])
            gone = st is None or st[1] != bridge.pid  # reaped (the pid may already be reused by someone else)
            return gone and not zombie_children(bridge.pid)
        wait_until(reaped, 3, f'no zombie child of the bridge (pid {bridge.pid}) to remain; '
                              f'zombies: {zombie_children(bridge.pid)}')
        self.assertTrue(bridge.running(), self.context())


class AppExitAndStartFailures(SupervisionTestCase):

    def test_app_exiting_3_during_init_reports_app_exited_with_the_status_and_the_bridge_exits_non_zero(self):
        fake = self.start_fake()
        bridge = self.start_supervised(fake, '--never-listen', '--exit-after', '0.3:3', wait_ready=False)

        message = self.assert_init_error(fake.wait_init_error(10), 'Runtime.AppExited')

        self.assertRegex(message, r'\b3\b', 'the message must give the exit status')
        self.assertNotEqual(bridge.wait_exit(5), 0, self.context())
        self.assertEqual(fake.next_polls, 0, self.context())

    def test_missing_app_command_reports_app_exited_naming_the_command_and_the_reason(self):
        fake = self.start_fake()
        command = f'/nonexistent/no-such-app-{uuid.uuid4().hex[:8]}'
        bridge = self.start_bridge(fake, free_port(), args=['--', command, '--flag'], wait_ready=False)

        message = self.assert_init_error(fake.wait_init_error(10), 'Runtime.AppExited')

        if BRIDGE_EMULATOR:
            self.assertRegex(message, r'\b127\b', 'the message must give the exit status')
            self.assertNotEqual(bridge.wait_exit(5), 0, self.context())
            skip_if_emulated(self, 'qemu-user runs posix_spawn\'s clone(CLONE_VM|CLONE_VFORK) as a fork, so exec\'s '
                                   'error never reaches the bridge: it sees the app exit 127, and cannot name the '
                                   'reason (checked: Runtime.AppExited with status 127)')
        self.assertIn(command, message)
        self.assertRegex(message, r'(?i)no such file|not found', 'the message must give the reason')
        self.assertNotEqual(bridge.wait_exit(5), 0, self.context())

    def test_app_crashing_mid_invocation_fails_it_with_app_exited_and_the_bridge_exits_non_zero(self):
        fake = self.start_fake()
        bridge = self.start_supervised(fake)

        rid = fake.push(rest_get('/crash'))
        doc = self.assert_error(fake.wait_result(rid, 10), 'Runtime.AppExited')

        self.assertRegex(doc['errorMessage'], r'\b3\b', 'the message must give the exit status')
        self.assertNotEqual(bridge.wait_exit(5), 0, self.context())

    def test_readiness_timeout_with_an_app_that_never_listens_gives_backend_not_ready_with_the_last_probe(self):
        fake = self.start_fake()
        started = time.monotonic()
        bridge = self.start_supervised(fake, '--never-listen', wait_ready=False,
                                       AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='1')

        posted = fake.wait_init_error(8)
        elapsed = time.monotonic() - started
        message = self.assert_init_error(posted, 'Runtime.BackendNotReady')

        self.assertRegex(message, r'(?i)refused', 'the message must carry the last probe\'s result')
        self.assertGreaterEqual(elapsed, 0.9, 'gave up before the readiness timeout')
        self.assertNotEqual(bridge.wait_exit(5), 0, self.context())
        self.assertEqual(fake.next_polls, 0, self.context())

    def test_readiness_timeout_with_an_unhealthy_app_gives_backend_not_ready_with_the_last_status(self):
        fake = self.start_fake()
        # 6 s, not 1: the app (a Python process) must be listening before the timeout for its 503 to be the last
        # probe's answer, and on a loaded machine Python alone can take over a second to start (3 s was once not
        # enough, with the whole suite and a build running: the last probe was refused).
        bridge = self.start_supervised(fake, '--unhealthy', wait_ready=False,
                                       AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS='6')

        message = self.assert_init_error(fake.wait_init_error(10), 'Runtime.BackendNotReady')

        self.assertIn('503', message, 'the message must carry the last probe\'s status')
        self.assertNotEqual(bridge.wait_exit(5), 0, self.context())


class Readiness(SupervisionTestCase):

    def test_async_init_serves_the_first_event_pushed_at_once_when_the_app_listens_after_1_5_s(self):
        fake = self.start_fake()
        self.start_supervised(fake, '--listen-after', '1.5', wait_ready=False, AWS_LWA_ASYNC_INIT='true')
        rid = fake.push(rest_get('/echo'), deadline_in=10)

        result = self.assert_response(fake.wait_result(rid, 9))

        self.assertEqual(result.get('statusCode'), 201, result)

    def test_first_next_follows_within_100_ms_of_the_app_starting_to_listen(self):
        fake = self.start_fake()
        listen_file = self.tmp / 'listen-time'
        self.start_supervised(fake, '--listen-after', '0.3', '--listen-time-file', listen_file)

        listened_at = float(wait_until(lambda: listen_file.exists() and listen_file.read_text(), 2, 'listen time'))
        delay = fake.next_times[0] - listened_at

        self.assertGreaterEqual(delay, 0, 'the first /next came before the app listened')
        self.assertLessEqual(delay, 0.1, f'the first /next came {delay * 1000:.0f} ms after the app listened')


class ExecMode(SupervisionTestCase):

    def test_exec_mode_runs_the_app_as_the_bridge_process_itself(self):
        port = free_port()
        bridge = self.start_bridge(None, port, args=self.web_app_args(port), LAMBDA_BRIDGE_EXEC='true')

        self.assertEqual(self.app_pid(), bridge.pid, self.context())
        wait_until(lambda: port_accepts(port), 5, 'the app to listen')
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
        self.addCleanup(conn.close)
        conn.request('GET', '/echo')
        self.assertEqual(conn.getresponse().status, 201)


if __name__ == '__main__':
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        sys.exit(f'{SYSTEM_PYTHON} not found')
    unittest.main()
