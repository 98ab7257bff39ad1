"""The images, for real: `docker build` and `docker run -p 9000:8080` as the README and the examples tell a reader.

Builds the repository's Dockerfile (the scratch image holding the binary), the app image of
docs/getting-started.md (its Dockerfile block, verbatim, around examples/fastapi's app), and the two examples; runs
each with the ports the docs map and talks to it with curl, as the docs do: the README's invocation, the
hand-written API Gateway events of the seed app, gateway emulation on the second port, a streamed reply read live
with `curl -N`; then `docker stop`, which must return within a second with exit 0 after the app got SIGTERM. An
image whose app never becomes ready must say so.

The engine is `docker` where the client is installed (driving podman through its API socket, as there is no
Docker engine on the test machines) and `podman` otherwise; LAMBDA_BRIDGE_CONTAINER_ENGINE picks one. Base images
come from tests/container/base-images (no registry is reachable). Containers are removed at the end; the images
stay as the build cache of the next run.

`test_images.py --prebuild [--compile-after FILE]` builds the two bridge images only (scripts/test runs it in the
background, see there); with --compile-after the compiling, not the making of base images, waits until FILE exists.
"""
import datetime
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LOG = open(os.environ.get("LAMBDA_BRIDGE_CONTAINER_LOG", os.devnull), "a")
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
README_EVENT_RE = re.compile(r"`(curl localhost:9000/2015-03-31/functions/function/invocations -d '[^`]*')`")


class Engine:
    """The container engine's command line: docker (through podman's API socket) or podman itself."""

    def __init__(self):
        name = os.environ.get("LAMBDA_BRIDGE_CONTAINER_ENGINE") or ("docker" if shutil.which("docker") else "podman")
        self.name = name
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(HERE, "containers.conf"))
        self.service = None
        self.service_dir = None
        if name == "docker" and not os.environ.get("DOCKER_HOST"):
            # No Docker engine: podman serves Docker's API on a socket of our own; the legacy builder, as
            # podman's API has no BuildKit.
            self.service_dir = tempfile.mkdtemp(prefix="lambda-bridge-podman-")
            sock = os.path.join(self.service_dir, "podman.sock")
            self.service = subprocess.Popen(["podman", "system", "service", "--time=0", "unix://" + sock],
                                            env=self.env, stdout=LOG, stderr=LOG)
            self.env.update(DOCKER_HOST="unix://" + sock, DOCKER_BUILDKIT="0")
            # 60 s: under the release stage's build and tests (scripts/test runs this in the background), podman
            # took over 20 s to open its socket once, and the prebuild failed for that alone.
            end = time.monotonic() + 60
            while not os.path.exists(sock):
                if time.monotonic() > end or self.service.poll() is not None:
                    self.close()  # a service that opens its socket late must not outlive the run
                    raise RuntimeError("podman's API service did not open %s within 60 s" % sock)
                time.sleep(0.05)
        elif name == "docker":
            self.env.setdefault("DOCKER_BUILDKIT", "0")

    def run(self, *args, check=True, timeout=2400, input=None):
        print("$ %s %s" % (self.name, " ".join(args)), file=LOG, flush=True)
        done = subprocess.run([self.name, *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              input=input)
        print(done.stdout + done.stderr, file=LOG, flush=True)
        if check and done.returncode != 0:
            raise AssertionError("%s %s failed (%d):\n%s" % (self.name, " ".join(args), done.returncode,
                                                            (done.stdout + done.stderr)[-3000:]))
        return done

    def build(self, tag, context, *extra):
        start = time.monotonic()
        self.run("build", "-t", tag, *extra, context)
        took = time.monotonic() - start
        print("  built %s in %.1f s" % (tag, took), file=sys.stderr, flush=True)
        return took

    def close(self):
        if self.service:
            self.service.terminate()
            try:
                self.service.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.service.kill()
        if self.service_dir:
            shutil.rmtree(self.service_dir, ignore_errors=True)


ENGINE = None
NAMES = []  # containers this run started, removed at the end
CGROUPS = "/sys/fs/cgroup"


def podman_cgroups():
    """The cgroups podman makes under cgroupfs (libpod_parent and its conmon child, in each hierarchy)."""
    found = []
    for root, dirs, _ in os.walk(CGROUPS):
        if os.path.basename(root) == "libpod_parent":
            found += [os.path.join(root, d) for d in dirs] + [root]
            dirs[:] = []
        elif root.count(os.sep) - CGROUPS.count(os.sep) >= 2:
            dirs[:] = []  # libpod_parent sits at the top of each hierarchy
    return found


CGROUPS_BEFORE = set(podman_cgroups())


# The repository's Dockerfile, for this machine's architecture and cross-compiled for arm64: the build arguments of
# each tag, the same for the tests and for --prebuild (the engine's layer cache matches them exactly).
BRIDGE_IMAGES = {"lambda-bridge": (), "lambda-bridge:arm64": ("--build-arg", "ARCH=arm64")}


def make_base_images():
    start = time.monotonic()
    subprocess.run(["bash", os.path.join(HERE, "base-images"), ENGINE.name], env=ENGINE.env, check=True,
                   stdout=LOG, stderr=sys.stderr, timeout=1200)
    print("  base images ready in %.1f s" % (time.monotonic() - start), file=sys.stderr, flush=True)


def prebuild(compile_after=None):
    """Builds the two bridge images, and nothing else, exactly as the tests do. scripts/test runs this in the
    background while its other stages run, and the compiling at the lowest CPU priority, so that it uses the CPU
    their tests leave idle; the tests' own `docker build` then comes from the engine's layer cache. With
    `compile_after`, the compiling waits until that file exists (scripts/test makes it when its release stage has
    passed). Exits non-zero if a build fails."""
    global ENGINE
    # scripts/test stops it with SIGTERM when an earlier stage fails: close the engine's API service on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # The base images first, at normal priority: where they are missing (a fresh machine) debootstrap mostly waits on
    # the network and the disk, and at idle priority behind a compiling stage it took 12 minutes instead of 2.
    ENGINE = Engine()
    try:
        make_base_images()
    finally:
        ENGINE.close()
    if compile_after:
        waited = time.monotonic()
        while not os.path.exists(compile_after):
            time.sleep(1)
        print("  waited %.0f s for %s" % (time.monotonic() - waited, compile_after), file=sys.stderr, flush=True)
    # Then the compiling, as little in the way of the stages in front as Linux allows: this process and the API
    # service it starts under SCHED_IDLE, and the build containers, which run in cgroups of their own where that
    # policy does not count, at the lowest CPU shares.
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    ENGINE = Engine()
    try:
        for tag, extra in BRIDGE_IMAGES.items():
            ENGINE.build(tag, ROOT, "--cpu-shares", "2", *extra)
    finally:
        ENGINE.close()


def setUpModule():
    global ENGINE
    ENGINE = Engine()
    try:
        make_base_images()
        if os.environ.get("LAMBDA_BRIDGE_REUSE_BRIDGE_IMAGE") == "1" and ENGINE.run(
                "image", "inspect", "lambda-bridge", check=False).returncode == 0:
            # For iterating on the app images only: the bridge image of an earlier run, not rebuilt.
            print("  reusing the lambda-bridge image (LAMBDA_BRIDGE_REUSE_BRIDGE_IMAGE=1)", file=sys.stderr)
        else:
            # The README's and getting-started's first command, from the repository root.
            ENGINE.build("lambda-bridge", ROOT, *BRIDGE_IMAGES["lambda-bridge"])
    except BaseException:
        ENGINE.close()  # tearDownModule does not run when this fails
        raise


def tearDownModule():
    for name in NAMES:
        ENGINE.run("rm", "-f", name, check=False)
    ENGINE.run("image", "prune", "-f", check=False)  # the untagged layers each rebuild leaves
    ENGINE.close()
    # The cgroups podman made for this run's containers and their monitors, once empty (children first).
    for path in podman_cgroups():
        if path not in CGROUPS_BEFORE:
            try:
                os.rmdir(path)
            except OSError:
                pass  # still in use by a container that is not this run's
    left = [p for p in podman_cgroups() if p not in CGROUPS_BEFORE]
    if left:
        print("  cgroups left behind: %s" % ", ".join(left), file=sys.stderr)


def free_port(preferred):
    """The port the docs use when it is free (it is on a test machine), else any free one."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return s.getsockname()[1]
            except OSError:
                continue


def curl(*args, timeout=30):
    done = subprocess.run(["curl", "-sS", "--max-time", str(timeout), *args], capture_output=True, text=True,
                          timeout=timeout + 5)
    if done.returncode != 0:
        raise AssertionError("curl %s failed (%d): %s" % (" ".join(args), done.returncode, done.stderr))
    return done.stdout


def doc_block(path, language):
    with open(os.path.join(ROOT, path)) as f:
        blocks = re.findall(r"```%s\n(.*?)```" % language, f.read(), re.S)
    assert blocks, "no ```%s block in %s" % (language, path)
    return blocks[0]


class Container:
    """One `docker run -d -p INVOKE:8080 -p GATEWAY:8081 IMAGE`, with its log and its stop."""

    def __init__(self, image, *args, env=None):
        self.name = "lambda-bridge-test-%d-%d" % (os.getpid(), len(NAMES))
        NAMES.append(self.name)
        self.invoke_port = free_port(9000)
        self.gateway_port = free_port(9001 if self.invoke_port == 9000 else 0)
        options = []
        for key, value in (env or {}).items():
            options += ["-e", "%s=%s" % (key, value)]
        ENGINE.run("run", "-d", "--name", self.name, "-p", "%d:8080" % self.invoke_port,
                   "-p", "%d:8081" % self.gateway_port, *options, image, *args)

    def logs(self):
        done = ENGINE.run("logs", self.name, check=False)
        return done.stdout + done.stderr

    def wait_for_log(self, pattern, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.logs()):
                return
            if self.exit_code() is not None:
                break
            time.sleep(0.2)
        raise AssertionError("no log line matching %r:\n%s" % (pattern, self.logs()))

    def exit_code(self):
        state = json.loads(ENGINE.run("inspect", self.name).stdout)[0]["State"]
        return None if state.get("Running") else state.get("ExitCode")

    def invoke(self, event):
        return json.loads(curl("localhost:%d%s" % (self.invoke_port, INVOKE_PATH), "-d", json.dumps(event)))

    def stop(self):
        """`docker stop`: the seconds it took, and the container's exit code."""
        start = time.monotonic()
        ENGINE.run("stop", "-t", "10", self.name)
        took = time.monotonic() - start
        return took, self.exit_code()

    def wait_exit(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            code = self.exit_code()
            if code is not None:
                return code
            time.sleep(0.2)
        raise AssertionError("the container still runs after %d s:\n%s" % (timeout, self.logs()))


def read_live(url, event):
    """`curl -N`: each line of the streamed body with the time it arrived."""
    proc = subprocess.Popen(["curl", "-sS", "-N", "--max-time", "30", url, "-d", json.dumps(event)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got = []
    start = time.monotonic()
    with proc:
        for line in proc.stdout:
            if line.strip():
                got.append((time.monotonic() - start, line.strip()))
        proc.wait(timeout=35)
        return got, proc.returncode, proc.stderr.read()


class ContainerCase(unittest.TestCase):
    def assert_streamed_live_then_stopped(self, image, app_sigterm_line):
        """`GET /events` with AWS_LWA_INVOKE_MODE=response_stream, read with `curl -N`, then `docker stop`."""
        c = Container(image, env={"AWS_LWA_INVOKE_MODE": "response_stream"})
        c.wait_for_log(r"app ready after")
        self.assert_ticks_arrive_live(c, "/events")
        self.assert_stops_within_a_second(c, app_sigterm_line)

    def assert_ticks_arrive_live(self, container, path):
        event = {"version": "2.0", "rawPath": path,
                 "requestContext": {"domainName": "x.lambda-url.us-east-1.on.aws", "http": {"method": "GET"}}}
        got, code, err = read_live("localhost:%d%s" % (container.invoke_port, INVOKE_PATH), event)
        self.assertEqual(0, code, err + container.logs())
        self.assertEqual(["data: tick 1", "data: tick 2", "data: tick 3"], [line for _, line in got], container.logs())
        # The app sends them 200 ms apart: a buffered reply would bring all three at once.
        self.assertGreater(got[2][0] - got[0][0], 0.25, got)

    def assert_stops_within_a_second(self, container, app_sigterm_line):
        took, code = container.stop()
        logs = container.logs()
        # The bridge's own stop, SIGTERM to its exit (the app's shutdown included), from its log's clock; the
        # engine's own work around it (conmon, the network's teardown) comes on top in `docker stop`'s time.
        start = re.search(r"^(\S+)Z INFO lambda-bridge received signal 15 ", logs, re.M)
        end = re.search(r"^(\S+)Z INFO lambda-bridge lambda-bridge exits with status 0 ", logs, re.M)
        self.assertTrue(start and end, logs)
        inside = (datetime.datetime.fromisoformat(end.group(1)) -
                  datetime.datetime.fromisoformat(start.group(1))).total_seconds()
        print("  docker stop took %.2f s; the bridge, SIGTERM to exit: %.3f s" % (took, inside), file=sys.stderr,
              flush=True)
        self.assertEqual(0, code, logs)
        self.assertRegex(logs, app_sigterm_line)
        self.assertLess(inside, 1.0, logs)
        # The whole `docker stop`, engine included (0.4-0.65 s on the 2-core test machine when it runs nothing else;
        # over 1 s only when other builds load it): far inside the 10 s after which the engine would SIGKILL.
        self.assertLess(took, 1.0, logs)


class BridgeImage(unittest.TestCase):
    def test_the_image_is_the_static_binary_alone(self):
        done = ENGINE.run("run", "--rm", "lambda-bridge", "--version")
        self.assertRegex(done.stdout + done.stderr, r"lambda-bridge \d+\.\d+")
        size = json.loads(ENGINE.run("image", "inspect", "lambda-bridge").stdout)[0]["Size"]
        print("  the lambda-bridge image is %.2f MB" % (size / 1048576), file=sys.stderr, flush=True)
        self.assertLessEqual(size, 5 * 1024 * 1024)  # MB as the bench counts them (MiB)


    def test_the_arm64_build_holds_an_aarch64_static_binary(self):
        # The Dockerfile's cross build (--build-arg ARCH=arm64): the builder stays native, the binary is aarch64.
        ENGINE.build("lambda-bridge:arm64", ROOT, *BRIDGE_IMAGES["lambda-bridge:arm64"])
        name = "lambda-bridge-test-%d-%d" % (os.getpid(), len(NAMES))
        NAMES.append(name)
        ENGINE.run("create", "--name", name, "lambda-bridge:arm64")
        out = tempfile.mkdtemp()
        try:
            binary = os.path.join(out, "lambda-bridge")
            ENGINE.run("cp", name + ":/lambda-bridge", binary)
            with open(binary, "rb") as f:
                head = f.read(64)
            self.assertEqual(b"\x7fELF", head[:4])
            self.assertEqual(183, struct.unpack_from("<H", head, 18)[0], "e_machine is not EM_AARCH64")
            size = os.path.getsize(binary)
            print("  the arm64 binary is %.2f MB" % (size / 1048576), file=sys.stderr, flush=True)
            self.assertLessEqual(size, 5 * 1024 * 1024)
            qemu = shutil.which("qemu-aarch64-static")
            self.assertIsNotNone(qemu, "qemu-user-static runs it here (scripts/setup installs it)")
            done = subprocess.run([qemu, binary, "--version"], capture_output=True, text=True, timeout=60)
            self.assertRegex(done.stdout, r"^lambda-bridge \d+\.\d+")
        finally:
            shutil.rmtree(out)


class FastApiImage(ContainerCase):
    """The app image of docs/getting-started.md around the seed FastAPI app, and examples/fastapi as its README builds
    it."""

    @classmethod
    def setUpClass(cls):
        context = tempfile.mkdtemp()
        try:
            shutil.copy(os.path.join(ROOT, "examples", "fastapi", "app.py"), context)
            with open(os.path.join(context, "Dockerfile"), "w") as f:
                f.write(doc_block("docs/getting-started.md", "dockerfile"))
            ENGINE.build("my-app", context)
        finally:
            shutil.rmtree(context)

    def test_the_readme_and_the_seed_events_are_answered(self):
        c = Container("my-app")
        c.wait_for_log(r"app ready after")
        with open(os.path.join(ROOT, "README.md")) as f:
            readme_curl = README_EVENT_RE.search(f.read())
        self.assertIsNotNone(readme_curl, "the README's first-screen curl moved")
        args = re.findall(r"'[^']*'|\S+", readme_curl.group(1))[1:]
        args = [a.strip("'").replace("localhost:9000", "localhost:%d" % c.invoke_port) for a in args]
        result = json.loads(curl(*args))
        self.assertEqual(200, result["statusCode"], result)
        self.assertEqual({"message": "test"}, json.loads(result["body"]))

        for path, method, query, expected in [("/test1", "GET", {}, {"message": "test"}),
                                              ("/test2", "POST", {}, {"message": "test2"}),
                                              ("/test3", "POST", {"message": "hoge"}, {"message": "hoge"})]:
            result = c.invoke({"path": path, "httpMethod": method, "requestContext": {},
                               "multiValueQueryStringParameters": query})
            self.assertEqual(200, result.get("statusCode"), result)
            self.assertEqual(expected, json.loads(result["body"]))

        self.assertEqual({"message": "test"}, json.loads(curl("localhost:%d/test1" % c.gateway_port)))
        self.assert_stops_within_a_second(c, r"Finished server process")

    def test_a_streamed_reply_arrives_live(self):
        self.assert_streamed_live_then_stopped("my-app", r"Finished server process")

    def test_an_app_that_never_becomes_ready_is_reported(self):
        # The image's own app, on a port the bridge does not probe: it starts, listens, and is never found.
        c = Container("my-app", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "8001",
                      env={"AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS": "2"})
        code = c.wait_exit(30)
        logs = c.logs()
        self.assertNotEqual(0, code, logs)
        self.assertRegex(logs, r"init failed: Runtime.BackendNotReady")
        self.assertIn("127.0.0.1:8000", logs)

    def test_the_example_image_builds_and_answers(self):
        ENGINE.build("fastapi-bridge", os.path.join(ROOT, "examples", "fastapi"))
        c = Container("fastapi-bridge")
        c.wait_for_log(r"app ready after")
        result = c.invoke({"path": "/test3", "httpMethod": "POST", "requestContext": {},
                           "multiValueQueryStringParameters": {"message": ["hoge"]}})
        self.assertEqual({"message": "hoge"}, json.loads(result["body"]), result)
        self.assert_stops_within_a_second(c, r"Finished server process")


class ExpressImage(ContainerCase):
    """examples/express as its README builds and runs it: Express from npm, pinned by package-lock.json."""

    @classmethod
    def setUpClass(cls):
        ENGINE.build("node-bridge", os.path.join(ROOT, "examples", "express"))

    def test_the_readme_invocations_and_the_gateway_are_answered(self):
        c = Container("node-bridge")
        c.wait_for_log(r"app ready after")
        result = c.invoke({"path": "/hello", "httpMethod": "GET", "requestContext": {}})
        self.assertEqual(200, result["statusCode"], result)
        self.assertEqual({"message": "hello"}, json.loads(result["body"]))
        result = c.invoke({"version": "2.0", "rawPath": "/echo", "rawQueryString": "",
                           "headers": {"content-type": "application/json"},
                           "requestContext": {"http": {"method": "POST"}}, "body": "{\"a\": [1, 2]}",
                           "isBase64Encoded": False})
        self.assertEqual(200, result["statusCode"], result)
        self.assertEqual({"a": [1, 2]}, json.loads(result["body"]))
        self.assertEqual({"message": "hello"}, json.loads(curl("localhost:%d/hello" % c.gateway_port)))
        self.assertEqual({"hi": "there"}, json.loads(curl("localhost:%d/echo" % c.gateway_port, "-H",
                                                          "content-type: application/json", "-d", '{"hi":"there"}')))
        self.assert_stops_within_a_second(c, r"SIGTERM: closing")

    def test_a_streamed_reply_arrives_live(self):
        self.assert_streamed_live_then_stopped("node-bridge", r"SIGTERM: closing")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prebuild"]:
        options = sys.argv[2:]
        if options and not (len(options) == 2 and options[0] == "--compile-after"):
            sys.exit("usage: test_images.py --prebuild [--compile-after FILE]")
        prebuild(options[1] if options else None)
    else:
        unittest.main(verbosity=2)
