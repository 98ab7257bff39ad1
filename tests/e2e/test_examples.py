"""The examples run exactly as their containers would: the Dockerfile's ENV, ENTRYPOINT (the bridge) and CMD,
started from the example's directory, invoked through the local emulator as the example's README shows.

Only the emulator's listening addresses are overridden (127.0.0.1, free ports), as `docker run -p` would remap
them. The app's own argv and environment are the Dockerfile's.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRIDGE = os.environ.get("LAMBDA_BRIDGE_BIN", os.path.join(ROOT, "build", "release", "lambda-bridge"))


def dockerfile(example):
    """ENV, CMD and ENTRYPOINT of an example's Dockerfile (JSON-array forms only, as the examples use)."""
    env, cmd, entrypoint = {}, None, None
    with open(os.path.join(ROOT, "examples", example, "Dockerfile")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("ENV "):
                for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line[4:]):
                    env[k] = v.strip('"')
            elif line.startswith("CMD "):
                cmd = json.loads(line[4:])
            elif line.startswith("ENTRYPOINT "):
                entrypoint = json.loads(line[11:])
    return env, entrypoint, cmd


class Example:
    def __init__(self, example):
        env, entrypoint, cmd = dockerfile(example)
        assert entrypoint and entrypoint[0].endswith("lambda-bridge"), entrypoint
        self.bin_dir = tempfile.mkdtemp()
        # The images install uvicorn with pip, which puts a `uvicorn` script on PATH; Debian's package has the
        # module only, so the same command gets an equivalent script here.
        with open(os.path.join(self.bin_dir, "uvicorn"), "w") as f:
            f.write('#!/bin/sh\nexec /usr/bin/python3 -m uvicorn "$@"\n')
        os.chmod(os.path.join(self.bin_dir, "uvicorn"), 0o755)
        full_env = {"PATH": self.bin_dir + ":/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"}
        full_env.update(env)
        full_env.update({"LAMBDA_BRIDGE_EMULATOR_HOST": "127.0.0.1", "LAMBDA_BRIDGE_EMULATOR_PORT": "0",
                         "LAMBDA_BRIDGE_GATEWAY_PORT": "0"})
        self.log = tempfile.TemporaryFile(mode="w+")
        cwd = os.path.join(ROOT, "examples", example)
        if os.path.exists(os.path.join(cwd, "package-lock.json")):
            # The image's `RUN npm ci --omit=dev`, in a copy: the dependencies package-lock.json pins, from npm.
            cwd = shutil.copytree(cwd, os.path.join(self.bin_dir, "app"))
            subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=cwd, check=True,
                           stdout=subprocess.DEVNULL, timeout=300)
        self.proc = subprocess.Popen([BRIDGE] + entrypoint[1:] + cmd, cwd=cwd,
                                     env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        self.invoke_port = self._port(r"invoke API listening on [\d.]+:(\d+)")
        self.gateway_port = self._port(r"gateway \([\w-]+\) listening on [\d.]+:(\d+)")

    def _port(self, pattern, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            self.log.seek(0)
            m = re.search(pattern, self.log.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("no line matching %r in the bridge's log:\n%s" % (pattern, self.output()))

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def invoke(self, event):
        req = urllib.request.Request("http://127.0.0.1:%d/2015-03-31/functions/function/invocations" % self.invoke_port,
                                     data=json.dumps(event).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=20) as res:
            return res.status, res.headers, json.loads(res.read())

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.gateway_port, path), timeout=20) as res:
            return res.status, res.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            shutil.rmtree(self.bin_dir, ignore_errors=True)
        return code

    def close(self):
        if self.proc.poll() is None:
            self.stop()
        self.log.close()


class FastApiExample(unittest.TestCase):
    def setUp(self):
        self.example = Example("fastapi")

    def tearDown(self):
        self.example.close()

    def test_the_readme_invocations_return_the_routes_json(self):
        ex = self.example
        for path, method, query, expected in [
                ("/test1", "GET", {}, {"message": "test"}),
                ("/test2", "POST", {}, {"message": "test2"}),
                ("/test3", "POST", {"message": "hoge"}, {"message": "hoge"})]:
            status, headers, result = ex.invoke({"path": path, "requestContext": {}, "httpMethod": method,
                                                 "multiValueQueryStringParameters": query})
            self.assertEqual(200, status)
            self.assertIsNone(headers.get("X-Amz-Function-Error"), result)
            self.assertEqual(200, result["statusCode"], result)
            self.assertEqual(expected, json.loads(result["body"]))

    def test_the_app_is_browsable_through_gateway_emulation(self):
        status, body = self.example.get("/test1")
        self.assertEqual(200, status)
        self.assertEqual({"message": "test"}, json.loads(body))

    def test_docker_stop_ends_the_app_and_the_bridge_cleanly(self):
        self.example.invoke({"path": "/test1", "httpMethod": "GET", "requestContext": {}})
        self.assertEqual(0, self.example.stop(), self.example.output())


class ExpressExample(unittest.TestCase):
    def setUp(self):
        if not shutil.which("node") or not shutil.which("npm"):
            self.skipTest("node and npm are not installed (scripts/setup installs them)")
        self.example = Example("express")

    def tearDown(self):
        self.example.close()

    def test_the_readme_invocations_return_the_routes_json(self):
        ex = self.example
        _, _, result = ex.invoke({"path": "/hello", "httpMethod": "GET", "requestContext": {}})
        self.assertEqual(200, result["statusCode"], result)
        self.assertEqual({"message": "hello"}, json.loads(result["body"]))
        _, _, result = ex.invoke({"version": "2.0", "rawPath": "/echo", "rawQueryString": "",
                                  "headers": {"content-type": "application/json"},
                                  "requestContext": {"http": {"method": "POST"}}, "body": "{\"a\":[1,2]}"})
        self.assertEqual(200, result["statusCode"], result)
        self.assertEqual({"a": [1, 2]}, json.loads(result["body"]))
        _, _, result = ex.invoke({"path": "/echo", "httpMethod": "POST", "requestContext": {}, "body": "not json"})
        self.assertEqual(400, result["statusCode"], result)
        self.assertEqual({"error": "the body is not JSON"}, json.loads(result["body"]))
        self.assertEqual(0, ex.stop(), ex.output())
        self.assertIn("SIGTERM: closing", ex.output())


if __name__ == "__main__":
    unittest.main()
