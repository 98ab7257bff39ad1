"""The shell blocks of README.md and docs/getting-started.md, run as a reader would run them.

Every ```sh block of the two files is classified in BLOCKS by its first line: run here (verbatim, with what the
prose around it says is set up: the fastapi example's directory, the binary copied there), or not runnable on this
machine, with the reason. A block the table does not know fails the test, so a new block must be classified when
it is written. Under a command, a `# ...` line is what the docs say it prints: the command's output must match it,
`…` standing for anything.

Two blocks stand for a server the reader leaves running (`docker run ...`, `./lambda-bridge -- uvicorn ...`): the
first needs a container engine, so the same bridge and app run on the ports `docker run -p 9000:8080 -p 9001:8081`
maps; the second runs verbatim. The blocks of curl commands that follow them run verbatim against that server.
Servers bind 127.0.0.1 (LAMBDA_BRIDGE_EMULATOR_HOST), the only change made to what the reader types.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRIDGE = os.environ.get('LAMBDA_BRIDGE_BIN', os.path.join(ROOT, 'build', 'release', 'lambda-bridge'))
DOCS = ['README.md', 'docs/getting-started.md']

NO_ENGINE = 'needs a container engine: the container stage runs it (tests/container/test_images.py)'
NO_AWS = 'deploys to a real AWS account'

# First line of a block (comment stripped) -> how it runs: 'demo', 'server:docker', 'server:local', 'client', or
# ('skip', why).
BLOCKS = {
    'scripts/demo': 'demo',
    'docker build -t lambda-bridge .': ('skip', NO_ENGINE),
    'docker run --rm -p 9000:8080 -p 9001:8081 my-app': 'server:docker',
    'curl -s localhost:9000/2015-03-31/functions/function/invocations \\': 'client',
    'curl localhost:9001/test1': 'client',
    'AWS_LWA_PORT=8000 ./lambda-bridge -- uvicorn app:app --port 8000': 'server:local',
    'curl -s localhost:8080/2015-03-31/functions/function/invocations -d \'{"path": "/test1", "httpMethod": "GET", '
    '"requestContext": {}}\'': 'client',
    'sam build': ('skip', NO_AWS + ' with the SAM CLI'),
    'serverless deploy': ('skip', NO_AWS + ' with the Serverless Framework'),
    'REGION=us-east-1': ('skip', NO_AWS + ' with the AWS CLI'),
}


def shell_blocks(path):
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()
    return [m.group(1) for m in re.finditer(r'```sh\n(.*?)```', text, re.S)]


def first_line(block):
    return re.sub(r'\s+#.*$', '', block.split('\n', 1)[0]).rstrip()


def commands_with_expected(block):
    """[(command, [expected output lines])]: continuation lines joined, `# ` lines under a command its output."""
    out, pending = [], ''
    for line in block.splitlines():
        if line.startswith('# ') and out and not pending:
            out[-1][1].append(line[2:])
            continue
        pending += line + '\n'
        if not line.endswith('\\'):
            out.append((pending, []))
            pending = ''
    return out


def pattern(expected):
    return '^' + '.*'.join(re.escape(part) for part in expected.split('…')) + '$'


def port_free(port, seconds=10):
    """Whether `port` can be bound, waiting up to `seconds` for a server stopped just before to let it go."""
    end = time.monotonic() + seconds
    while True:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no owner
            try:
                s.bind(('127.0.0.1', port))
                return True
            except OSError:
                if time.monotonic() > end:
                    return False
        time.sleep(0.1)


def wait_listening(port, proc, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f'the server exited with {proc.returncode} before port {port} listened')
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f'nothing listened on port {port} after {seconds} s')


class DocsCommands(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix='lambda-bridge-docs-')
        # The fastapi example's directory with the binary copied in, as getting-started.md says.
        cls.app_dir = os.path.join(cls.work, 'fastapi')
        shutil.copytree(os.path.join(ROOT, 'examples', 'fastapi'), cls.app_dir,
                        ignore=shutil.ignore_patterns('__pycache__'))
        shutil.copy(BRIDGE, os.path.join(cls.app_dir, 'lambda-bridge'))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.server = None

    def tearDown(self):
        self.stop_server()

    def stop_server(self):
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(5)
        self.server = None

    def start_server(self, command, ports, **env):
        self.stop_server()
        for port in [8000, *ports]:  # 8000: the app's, of this server and the one before
            self.assertTrue(port_free(port), f'port {port}, which the docs use, is taken on this machine')
        self.server = subprocess.Popen(['bash', '-c', command], cwd=self.app_dir, start_new_session=True,
                                       env={**os.environ, 'LAMBDA_BRIDGE_EMULATOR_HOST': '127.0.0.1', **env},
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for port in ports:
            wait_listening(port, self.server)

    def run_client(self, block):
        for command, expected in commands_with_expected(block):
            done = subprocess.run(['bash', '-c', command], cwd=self.app_dir, capture_output=True, text=True,
                                  timeout=30)
            self.assertEqual(done.returncode, 0, f'{command}\n{done.stderr}')
            if expected:
                self.assertRegex(done.stdout.strip(), pattern('\n'.join(expected)), command)

    def test_every_shell_block_is_classified(self):
        for doc in DOCS:
            for block in shell_blocks(doc):
                with self.subTest(doc=doc, block=first_line(block)):
                    self.assertIn(first_line(block), BLOCKS,
                                  'a new shell block: say in BLOCKS how it runs here, or why it cannot')

    def test_every_runnable_block_runs_and_prints_what_the_docs_say(self):
        ran = 0
        for doc in DOCS:
            for block in shell_blocks(doc):
                how = BLOCKS.get(first_line(block))
                if how is None or isinstance(how, tuple):
                    continue
                with self.subTest(doc=doc, block=first_line(block)):
                    if how == 'demo':
                        self.run_demo(block)
                    elif how == 'server:docker':
                        # What `docker run -p 9000:8080 -p 9001:8081` serves: the image's CMD (the example's
                        # uvicorn on 8000) behind the bridge, its ports 8080/8081 seen as 9000/9001.
                        self.start_server('./lambda-bridge -- uvicorn app:app --host 127.0.0.1 --port 8000',
                                          [9000, 9001], AWS_LWA_PORT='8000', LAMBDA_BRIDGE_EMULATOR_PORT='9000',
                                          LAMBDA_BRIDGE_GATEWAY_PORT='9001')
                    elif how == 'server:local':
                        self.start_server(block.strip(), [8080, 8081])
                    else:
                        self.assertIsNotNone(self.server, 'a client block with no server block before it')
                        self.run_client(block)
                    ran += 1
        self.assertGreaterEqual(ran, 6, 'fewer runnable blocks than the docs had when this test was written')

    def run_demo(self, block):
        self.assertIn('scripts/test', block, 'the README block pairs scripts/demo with scripts/test')
        # scripts/test is the command that runs this test; scripts/demo serves until Ctrl-C, so it is stopped with
        # SIGINT once it says it is serving. It builds the release binary if it is not built.
        if not os.path.exists(os.path.join(ROOT, 'build', 'release', 'lambda-bridge')):
            self.skipTest('scripts/demo runs the release build; run scripts/test release first')
        for port in (8000, 9000, 9001):
            self.assertTrue(port_free(port), f'port {port}, which scripts/demo uses, is taken on this machine')
        demo = subprocess.Popen(['bash', 'scripts/demo'], cwd=ROOT, start_new_session=True,
                                env={**os.environ, 'PYTHONDONTWRITEBYTECODE': '1'},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        try:
            end = time.monotonic() + 240
            for line in demo.stdout:
                lines.append(line)
                if 'lambda-bridge is serving' in line or time.monotonic() > end:
                    break
        finally:
            os.killpg(demo.pid, signal.SIGINT)
            try:
                demo.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait(5)
        out = ''.join(lines)
        self.assertIn('lambda-bridge is serving', out, out[-3000:])
        self.assertIn('"body":"{\\"message\\":\\"hoge\\"}"', out, 'the demo invocation\'s result')
        self.assertIn('{"message":"test"}', out, 'the gateway emulation\'s reply')


if __name__ == '__main__':
    if not os.path.exists(BRIDGE):
        sys.exit(f'{BRIDGE} is not built')
    unittest.main()
