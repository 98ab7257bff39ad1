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

// One child of the scenario, on its own Runtime API (`world`): its log, what it measured so far.
struct turn_taker {
  turn_taker(bench_world& w, std::string l, std::string lg) : world(w), label(std::move(l)), log(std::move(lg)) {}

  bench_world& world;
  std::string label, log;
  pid_t pid = 0;
  std::vector<double> e2e;  // t3 - t0 per invocation, µs
  double cpu_us = 0;        // over the measured turns
  int64_t busy_ns = 0;

  [[noreturn]] void give_up(const std::string& why) const {
    fail(label + ": " + why + "\n" + log_tail(log));
  }

  void start(const std::string& binary, const std::vector<std::string>& env) {
    ::unlink(log.c_str());
    pid = spawn(binary, env, log);
    if (!world.wait_polls(1, 10s)) give_up("no /next poll");
  }

  // `n` invocations one at a time, each result checked; with `measure`, their end-to-end times and CPU kept. Each
  // is pushed once the child is parked on /next again: the tail of its last one (the 202, its log line, the next
  // poll) is over by then, so it neither runs into the other child's turn nor escapes this child's CPU count.
  void serve(const scenario& s, int n, bool measure) {
    park();
    const double cpu0 = cpu_us_sched(pid);
    const int64_t t0 = now_ns();
    for (int i = 0; i < n; ++i) {
      if (i > 0) park();
      const uint64_t id = world.push(s);
      if (!world.wait_done(id, 20s)) give_up("no result in time");
      const invocation inv = world.get(id);
      world.forget(id);
      if (inv.error || inv.result_prefix.find("\"statusCode\":200") == std::string::npos)
        give_up("a failed invocation: " + inv.result_prefix.substr(0, 300));
      if (measure && inv.captured) give_up("a measured invocation was captured (its result copied)");
      if (measure) e2e.push_back(double(inv.t3 - inv.t0) / 1e3);
    }
    if (!measure) return;
    park();
    busy_ns += now_ns() - t0;
    cpu_us += cpu_us_sched(pid) - cpu0;
  }

  void park() {
    if (!world.wait_parked(1, 10s)) give_up("not parked on /next again");
  }

  figures finish(const scenario& s, const std::string& child) {
    figures f;
    f.scenario = s.name;
    f.child = child;
    f.payload = s.payload;
    f.end_to_end = true;
    const proc_mem mem = read_mem(pid);
    f.failures = world.failures();
    if (!child_alive(pid)) f.failures.push_back("the child exited: " + log_tail(log));
    stop_child(pid);
    if (!world.wait_no_parked(3s)) fail("a /next long poll outlived its child");
    world.clear_queue();
    f.count = int(e2e.size());
    f.peak_rss_kb = mem.hwm_kb;
    f.idle_rss_kb = mem.rss_kb;
    if (e2e.empty()) return f;
    f.p50_us = percentile(e2e, 50);
    f.p99_us = percentile(e2e, 99);
    double sum = 0;
    for (double v : e2e) sum += v;
    f.mean_us = sum / double(e2e.size());
    f.per_s = double(e2e.size()) / (double(busy_ns) / 1e9);
    f.cpu_us = cpu_us / double(e2e.size());
    f.cpu_us_stat = 0;  // not sampled per turn
    return f;
  }
};

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
  // ratio moved from 1.11x to 1.49x between runs of the same binaries (docs/performance.md, "Turns, and one CPU for the children").
  // Each is parked on /next while the other works.
  bench_world null_world;
  turn_taker bridge{w, s.name + " (bridge)", o.work_dir + "/" + s.name + "-bridge.log"};
  turn_taker null{null_world, s.name + " (null)", o.work_dir + "/" + s.name + "-null.log"};
  std::vector<std::string> env = base_env(w);
  env[2] = "AWS_LWA_PORT=" + std::to_string(app.port);
  env.insert(env.end(), s.env.begin(), s.env.end());
  w.set_scenario(&s, true);
  bridge.start(o.bridge, env);
  bridge.serve(s, s.warmup, false);
  w.stop_capturing();  // the warm-up's result is what the null forwarder returns; the measured ones are not kept
  std::vector<std::string> null_env = base_env(null_world);
  null_env[2] = "AWS_LWA_PORT=" + std::to_string(app.port);
  add_null_forwarder_env(w, o, s, ctx, null_env);
  null_world.set_scenario(&s, false);
  null.start(o.null_forwarder, null_env);
  null.serve(s, s.warmup, false);
  for (int i = 0; i < s.measured; ++i) {
    bridge.serve(s, 1, true);
    null.serve(s, 1, true);
  }
  std::vector<figures> rows{bridge.finish(s, "bridge"), null.finish(s, "null")};
  null_world.stop();
  if (!child_alive(app.pid)) rows.back().failures.push_back("the app exited:\n" + log_tail(app.log));
  stop_child(app.pid);
  return rows;
}

}  // namespace bench
