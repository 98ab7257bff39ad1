#include "whole_stack.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "process.hpp"
#include "report.hpp"
#include "runner.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;

// A port free a moment ago: the kernel does not hand it out again at once, and uvicorn takes it next.
int free_port() {
  int port = 0;
  ::close(listen_socket(false, port));
  return port;
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

struct app_process {
  pid_t pid = 0;
  int port = 0;
  std::string log, problem;  // problem: why it is not listening
};

// uvicorn as production runs it (uvloop, httptools), without its access log: a line per request would add the same
// time to both children and so flatter the ratio. No bytecode written into the source tree.
app_process start_fastapi(const options& o) {
  app_process a;
  a.port = free_port();
  a.log = o.work_dir + "/fastapi-app.log";
  ::unlink(a.log.c_str());
  a.pid = spawn("/usr/bin/python3", {"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"}, a.log,
                {"-m", "uvicorn", "app:app", "--app-dir", o.fastapi_dir, "--host", "127.0.0.1", "--port",
                 std::to_string(a.port), "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level",
                 "warning"},
                /*under_test=*/false);
  // Bounded: Python imports FastAPI in about a second here, ten times that under load.
  const int64_t deadline = now_ns() + 20'000'000'000;
  while (!accepts_connections(a.port)) {
    if (!child_alive(a.pid)) {
      a.problem = "the app exited before listening:\n" + log_tail(a.log);
      break;
    }
    if (now_ns() > deadline) {
      a.problem = "the app did not listen within 20 s:\n" + log_tail(a.log);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  return a;
}

}  // namespace

std::vector<figures> run_whole_stack(bench_world& w, const options& o, const scenario& s) {
  if (::access((o.fastapi_dir + "/app.py").c_str(), R_OK) != 0) {
    std::fprintf(stderr, "  %-16s skipped: no app.py under %s (--fastapi DIR)\n", s.name.c_str(), o.fastapi_dir.c_str());
    return {};
  }
  const app_process app = start_fastapi(o);
  if (!app.problem.empty()) {
    stop_child(app.pid);
    figures f;
    f.scenario = s.name;
    f.child = "bridge";
    f.failures.push_back(app.problem);
    return {f};
  }
  // The null forwarder's app request: what the bridge sends for this event, captured by the in-process app, since
  // the bench cannot see the bytes that reach uvicorn. Its result: the bridge's own, from its warm-up just before.
  const real_app_context ctx{app.port, capture_app_request(w, o, s)};

  // Both children run at once, each polling a Runtime API of its own in front of the same app process, and take
  // turns, an invocation each: load that comes and goes on a shared machine falls on both alike, where one child after
  // the other would compare two different minutes. Turns of 50 were too long: this VM's slow spells come and go within
  // a few milliseconds, so the median of one block of 50 could be 160 us and of the next 320, and the two children's
  // ratio moved from 1.11x to 1.49x between runs of the same binaries (docs/performance.md, "Turns, and one CPU for
  // the children"). Each is parked on /next while the other works.
  std::vector<figures> rows = run_in_turns(w, o, s, &ctx);
  if (!child_alive(app.pid)) rows.back().failures.push_back("the app exited:\n" + log_tail(app.log));
  stop_child(app.pid);
  return rows;
}

}  // namespace bench
