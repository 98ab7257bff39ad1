#include "whole_stack.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "process.hpp"
#include "runner.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;

// A port free a moment ago: the kernel does not hand it out again at once, and uvicorn takes it next.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind 127.0.0.1:0");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
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

std::string file_text(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  if (s.size() > 2000) s = "..." + s.substr(s.size() - 2000);
  return s;
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
                 "warning"});
  // Bounded: Python imports FastAPI in about a second here, ten times that under load.
  const int64_t deadline = now_ns() + 20'000'000'000;
  while (!accepts_connections(a.port)) {
    if (!child_alive(a.pid)) {
      a.problem = "the app exited before listening:\n" + file_text(a.log);
      break;
    }
    if (now_ns() > deadline) {
      a.problem = "the app did not listen within 20 s:\n" + file_text(a.log);
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
  // the bench cannot see the bytes that reach uvicorn. Its result: the bridge's own, from the real run just before.
  const real_app_context ctx{app.port, capture_app_request(w, o, s)};
  std::vector<figures> rows{run_one(w, o, s, false, ctx)};
  if (rows.back().ok()) rows.push_back(run_one(w, o, s, true, ctx));
  if (!child_alive(app.pid)) rows.back().failures.push_back("the app exited:\n" + file_text(app.log));
  stop_child(app.pid);
  return rows;
}

}  // namespace bench
