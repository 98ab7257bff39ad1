// The benchmark of issue 5: what lambda-bridge adds to an invocation, against the floor of the same socket work.
//
// One process plays both peers of the bridge, on loopback, with one monotonic clock:
//
//     runtime_api (this file)  <-- GET /next, POST /response --  child under test  -- HTTP/1.1 -->  app (this file)
//
//   t0  the event is handed out on /next (just before its bytes are written)
//   t1  the whole request has arrived at the app
//   t2  the app starts writing its reply (after its sleep, when the scenario has one)
//   t3  the last byte of the result has arrived on /response
//
// bridge-added latency = (t1 - t0) + (t3 - t2). The child is either lambda-bridge or bench/null_forwarder.c (the
// same loop with precomputed bytes and no parsing, fed with the request and result the bridge produced for the
// same scenario a moment before), so every figure comes with its floor, measured in the same run.
//
// Plain blocking sockets and one thread per connection: the bench must be obviously correct, not clever; its own
// cost sits outside the measured intervals except for the kernel's copies, which both children pay alike. Every
// wait is bounded, children run in their own process group and are killed on every exit path, and a watchdog ends
// the whole run past --time-limit.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "options.hpp"
#include "process.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "wire.hpp"
#include "world.hpp"

using namespace bench;  // the pieces already in their own files

namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------------------------
// Running a scenario against one child

std::vector<std::string> base_env(bench_world& w) {
  return {"PATH=/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(w.runtime_port()),
          "AWS_LWA_PORT=" + std::to_string(w.app_port())};
}

std::string write_file(const options& o, const std::string& name, const std::string& bytes) {
  const std::string path = o.work_dir + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  if (!f) fail("cannot write " + path);
  return path;
}

std::string log_tail(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  if (s.size() > 2000) s = "..." + s.substr(s.size() - 2000);
  return s;
}

figures run_one(bench_world& w, const options& o, const scenario& s, bool null_child) {
  figures f;
  f.scenario = s.name;
  f.child = null_child ? "null" : "bridge";
  f.payload = s.payload;
  std::vector<std::string> env = base_env(w);
  std::string binary = o.bridge;
  if (null_child) {
    binary = o.null_forwarder;
    std::string prelude = w.captured_result();
    if (s.stream) {  // the first chunk: the prelude and its 8 NULs, as the bridge sent it
      const auto nuls = prelude.find(std::string(8, '\0'));
      if (nuls == std::string::npos) fail(s.name + ": no prelude captured from the bridge");
      prelude.resize(nuls + 8);
    }
    std::string req = w.captured_request();
    const auto at = req.find("/bench/");
    if (req.empty() || at == std::string::npos) fail(s.name + ": no app request captured from the bridge");
    req.replace(at + 7, id_width, "nullnull");
    env.push_back("NULL_APP_REQUEST=" + write_file(o, "app_request.bin", req));
    env.push_back("NULL_RESULT_BODY=" + write_file(o, "result.bin", prelude));
    env.push_back("NULL_RESULT_CONTENT_TYPE=" + w.captured_content_type());
    env.push_back(std::string("NULL_MODE=") + (s.stream ? "stream" : "buffered"));
  } else {
    env.insert(env.end(), s.env.begin(), s.env.end());
  }
  w.set_scenario(&s, !null_child);
  const std::string log = o.work_dir + "/" + s.name + "-" + f.child + ".log";
  ::unlink(log.c_str());
  const pid_t pid = spawn(binary, env, log);
  auto give_up = [&](const std::string& why) {
    stop_child(pid);
    fail(s.name + " (" + f.child + "): " + why + "\n" + log_tail(log));
  };
  if (!w.wait_polls(s.concurrency, 10s)) give_up("the child did not poll /next");

  const int64_t per_invocation_timeout_ms = 20000;
  std::vector<double> added;
  double cpu0 = 0, cpu0s = 0;
  int64_t start = 0;
  if (s.concurrency == 1) {
    for (int i = 0; i < s.warmup + s.measured; ++i) {
      if (i == s.warmup) {
        cpu0 = cpu_us_sched(pid);
        cpu0s = cpu_us_stat(pid);
        start = now_ns();
      }
      const uint64_t id = w.push(s);
      if (!w.wait_done(id, std::chrono::milliseconds(per_invocation_timeout_ms))) give_up("no result in time");
      const invocation inv = w.get(id);
      w.forget(id);
      if (inv.error) break;
      if (inv.result_bytes < s.expect_min_result)
        give_up("result of " + std::to_string(inv.result_bytes) + " bytes, expected at least " +
                std::to_string(s.expect_min_result) + ": " + inv.result_prefix.substr(0, 300));
      if (inv.result_prefix.find("\"statusCode\":200") == std::string::npos)
        give_up("result without statusCode 200: " + inv.result_prefix.substr(0, 300));
      if (i >= s.warmup) added.push_back(double((inv.t1 - inv.t0) + (inv.t3 - inv.t2)) / 1e3);
    }
  } else {
    // Warm-up: a burst that opens the app connections, then a measured burst queued all at once.
    std::vector<uint64_t> ids;
    for (int i = 0; i < s.warmup; ++i) ids.push_back(w.push(s));
    for (uint64_t id : ids) {
      if (!w.wait_done(id, std::chrono::milliseconds(per_invocation_timeout_ms))) give_up("no warm-up result in time");
      w.forget(id);
    }
    if (!w.wait_parked(s.concurrency, 10s)) give_up("fewer parked /next polls than the concurrency");
    cpu0 = cpu_us_sched(pid);
    cpu0s = cpu_us_stat(pid);
    start = now_ns();
    ids.clear();
    for (int i = 0; i < s.measured; ++i) ids.push_back(w.push(s));
    for (uint64_t id : ids) {
      if (!w.wait_done(id, std::chrono::milliseconds(per_invocation_timeout_ms))) give_up("no result in time");
      const invocation inv = w.get(id);
      w.forget(id);
      added.push_back(double((inv.t1 - inv.t0) + (inv.t3 - inv.t2)) / 1e3);
    }
  }
  const int64_t end = now_ns();
  const double cpu1 = cpu_us_sched(pid), cpu1s = cpu_us_stat(pid);
  // Idle: parked on /next again after the work, the allocator's high-water marks as they stay.
  std::this_thread::sleep_for(50ms);
  const proc_mem mem = read_mem(pid);
  f.failures = w.failures();
  if (!child_alive(pid)) f.failures.push_back("the child exited: " + log_tail(log));
  stop_child(pid);
  if (!w.wait_no_parked(3s)) fail("a /next long poll outlived its child");
  w.clear_queue();

  f.count = int(added.size());
  if (!added.empty()) {
    f.p50_us = percentile(added, 50);
    f.p99_us = percentile(added, 99);
    double sum = 0;
    for (double a : added) sum += a;
    f.mean_us = sum / double(added.size());
    f.per_s = double(added.size()) / (double(end - start) / 1e9);
    f.cpu_us = (cpu1 - cpu0) / double(added.size());
    f.cpu_us_stat = (cpu1s - cpu0s) / double(added.size());
    f.mbytes_per_s = f.mean_us > 0 ? double(s.payload) / f.mean_us : 0;  // bytes per µs = MB/s
  }
  f.peak_rss_kb = mem.hwm_kb;
  f.idle_rss_kb = mem.rss_kb;
  return f;
}

// The soak (issue 6): one bridge serves `count` invocations drawn from soak_mix(), and its resident memory and open
// descriptors are sampled 40 times. After the warm-up (the first quarter) both must stay flat: descriptors exactly,
// memory within `rss_slack_kb` (allocator noise). Exit status 1 when they grow, or when any invocation misbehaves.
int run_soak(bench_world& w, const options& o, long count) {
  const std::vector<scenario> mix = soak_mix();
  std::vector<const scenario*> wheel;  // each scenario `weight` times, dealt in a fixed pseudo-random order
  for (const auto& s : mix)
    for (int i = 0; i < s.weight; ++i) wheel.push_back(&s);
  uint64_t lcg = 0x9E3779B97F4A7C15ull;
  auto next_pick = [&] {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return wheel[(lcg >> 33) % wheel.size()];
  };
  std::vector<std::string> env = base_env(w);
  env.push_back("AWS_LWA_PASS_THROUGH_PATH=/bench/nullnull");  // the app resolves "nullnull" to the current id
  const std::string log = o.work_dir + "/soak-bridge.log";
  ::unlink(log.c_str());
  w.set_scenario(&mix.front(), false);
  const pid_t pid = spawn(o.bridge, env, log);
  auto give_up = [&](const std::string& why) {
    stop_child(pid);
    fail("soak: " + why + "\n" + log_tail(log));
  };
  if (!w.wait_polls(1, 10s)) give_up("the bridge did not poll /next");
  auto fd_count = [&] {
    int n = 0;
    if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
      closedir(d);
    }
    return n;
  };
  struct sample {
    long done;
    long rss_kb;
    int fds;
  };
  std::vector<sample> samples;
  const long every = std::max(1L, count / 40);
  std::map<std::string, long> served;
  const int64_t start = now_ns();
  for (long i = 1; i <= count; ++i) {
    const scenario* s = next_pick();
    w.use_scenario(s);
    const uint64_t id = w.push(*s);
    if (!w.wait_done(id, 20s)) give_up("no result for invocation " + std::to_string(i) + " (" + s->name + ")");
    const invocation inv = w.get(id);
    w.forget(id);
    if (inv.error != s->expect_error)
      give_up(s->name + ": " + (inv.error ? "an error post: " : "a result where an error was due: ") +
              inv.result_prefix.substr(0, 300));
    if (!s->expect_error && inv.result_prefix.find(s->expect_in_result) == std::string::npos)
      give_up(s->name + ": the result lacks " + s->expect_in_result + ": " + inv.result_prefix.substr(0, 300));
    ++served[s->name];
    if (i % every == 0) {
      samples.push_back({i, read_mem(pid).rss_kb, fd_count()});
      if (!o.json)
        std::fprintf(stderr, "  soak %7ld invocations  RSS %6.1f MB  fds %d\n", i, double(samples.back().rss_kb) / 1024,
                     samples.back().fds);
    }
  }
  const double seconds = double(now_ns() - start) / 1e9;
  const auto failures = w.failures();
  const bool alive = child_alive(pid);
  const long peak_kb = read_mem(pid).hwm_kb;
  stop_child(pid);
  if (!alive) fail("soak: the bridge exited\n" + log_tail(log));
  if (!failures.empty()) fail("soak: " + failures.front());
  if (samples.size() < 4) fail("soak: too few invocations to sample (use at least 160)");

  constexpr long rss_slack_kb = 512;
  const sample& settled = samples[samples.size() / 4];
  long rss_max = 0;
  int fds_max = 0, fds_min = 1 << 30;
  for (std::size_t k = samples.size() / 4; k < samples.size(); ++k) {
    rss_max = std::max(rss_max, samples[k].rss_kb);
    fds_max = std::max(fds_max, samples[k].fds);
    fds_min = std::min(fds_min, samples[k].fds);
  }
  const bool rss_flat = rss_max - settled.rss_kb <= rss_slack_kb;
  const bool fds_flat = fds_max == fds_min;
  std::printf("soak: %ld invocations of %zu kinds in %.1f s (%.0f/s); after %ld (warm-up): RSS %.1f MB -> max %.1f MB "
              "(%s, slack %ld KB), open fds %d..%d (%s); peak RSS %.1f MB\n",
              count, mix.size(), seconds, double(count) / seconds, settled.done, double(settled.rss_kb) / 1024,
              double(rss_max) / 1024, rss_flat ? "flat" : "GROWING", rss_slack_kb, fds_min, fds_max,
              fds_flat ? "flat" : "CHANGING", double(peak_kb) / 1024);
  for (const auto& [name, n] : served) std::printf("  %-26s %7ld\n", name.c_str(), n);
  return rss_flat && fds_flat ? 0 : 1;
}

startup_figures run_startup(bench_world& w, const options& o, int runs) {
  startup_figures f;
  static const scenario none{};
  for (int i = 0; i < runs; ++i) {
    w.set_scenario(&none, false);
    const std::string log = o.work_dir + "/startup.log";
    ::unlink(log.c_str());
    const int64_t t = now_ns();
    const pid_t pid = spawn(o.bridge, base_env(w), log);
    const bool polled = w.wait_polls(1, 10s);
    const int64_t first = w.first_next_ns();
    if (i == 0 && polled) {
      std::this_thread::sleep_for(100ms);
      f.idle_rss_kb = read_mem(pid).rss_kb;
    }
    stop_child(pid);
    if (!polled) fail("start-up: no /next within 10 s\n" + log_tail(log));
    w.wait_no_parked(3s);
    f.exec_to_next_ms.push_back(double(first - t) / 1e6);
  }
  for (int i = 0; i < std::max(1, runs / 2); ++i) {
    server late([&](int fd) {  // only the readiness probe reaches it
      reader r(fd);
      http_head h;
      uint64_t n;
      while (r.read_head(h) && r.read_body(h, n, nullptr, 0))
        if (!write_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) return;
    }, /*listen_now=*/false);
    w.set_scenario(&none, false);
    std::vector<std::string> env = base_env(w);
    env[2] = "AWS_LWA_PORT=" + std::to_string(late.port());
    const std::string log = o.work_dir + "/readiness.log";
    ::unlink(log.c_str());
    const pid_t pid = spawn(o.bridge, env, log);
    std::this_thread::sleep_for(200ms);
    const int64_t listened = late.listen_now();
    const bool polled = w.wait_polls(1, 10s);
    const int64_t first = w.first_next_ns();
    stop_child(pid);
    late.stop();
    if (!polled) fail("readiness: no /next within 10 s of the app listening\n" + log_tail(log));
    w.wait_no_parked(3s);
    f.readiness_lag_ms.push_back(double(first - listened) / 1e6);
  }
  return f;
}

void usage() {
  std::fputs("usage: lambda-bridge-bench --bridge PATH --null PATH [--json] [--quick] [--only PREFIX] "
             "[--count N] [--no-startup] [--time-limit SECONDS] [--work-dir DIR]\n"
             "       lambda-bridge-bench --bridge PATH --soak N [--time-limit SECONDS]\n",
             stderr);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--bridge") o.bridge = value();
    else if (a == "--null") o.null_forwarder = value();
    else if (a == "--json") o.json = true;
    else if (a == "--quick") o.quick = true;
    else if (a == "--only") o.only = value();
    else if (a == "--time-limit") o.time_limit_s = std::atoi(value().c_str());
    else if (a == "--work-dir") o.work_dir = value();
    else if (a == "--no-startup") o.startup = false;
    else if (a == "--count") o.count = std::atoi(value().c_str());
    else if (a == "--soak") o.soak = std::atol(value().c_str());
    else {
      usage();
      return 2;
    }
  }
  if (o.bridge.empty() || (o.null_forwarder.empty() && o.soak == 0)) {
    usage();
    return 2;
  }
  if (o.work_dir.empty()) {
    char tmpl[] = "/tmp/lambda-bridge-bench-XXXXXX";
    if (!mkdtemp(tmpl)) fatal("mkdtemp");
    o.work_dir = tmpl;
  }
  ::signal(SIGPIPE, SIG_IGN);
  // Ctrl-C or a timeout(1) still takes the children down.
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    ::signal(sig, [](int) {
      kill_all_children();
      std::_Exit(130);
    });
  std::thread([limit = o.time_limit_s] {
    std::this_thread::sleep_for(std::chrono::seconds(limit));
    kill_all_children();
    std::fprintf(stderr, "bench: over the time limit of %d s, stopped\n", limit);
    std::_Exit(3);
  }).detach();

  struct stat sb {};
  if (::stat(o.bridge.c_str(), &sb) != 0) fatal("no bridge binary at " + o.bridge);
  const uint64_t binary_size = uint64_t(sb.st_size);

  const int64_t t_start = now_ns();
  bench_world w;
  if (o.soak > 0) {
    const int rc = run_soak(w, o, o.soak);
    w.stop();
    kill_all_children();
    return rc;
  }
  std::vector<figures> rows;
  auto scenarios = make_scenarios(o.quick);
  if (o.count > 0)
    for (auto& s : scenarios) {
      s.warmup = std::min(s.warmup, s.concurrency);
      s.measured = o.count;
    }
  for (const auto& s : scenarios) {
    if (!o.only.empty() && !s.name.starts_with(o.only)) continue;
    rows.push_back(run_one(w, o, s, false));
    if (!o.json) std::fprintf(stderr, "  %-16s bridge p50 %8.0f us\n", s.name.c_str(), rows.back().p50_us);
    if (s.with_null && rows.back().ok()) {
      rows.push_back(run_one(w, o, s, true));
      if (!o.json) std::fprintf(stderr, "  %-16s null   p50 %8.0f us\n", s.name.c_str(), rows.back().p50_us);
    }
  }
  startup_figures st;
  if (o.startup) st = run_startup(w, o, o.quick ? 6 : 20);
  w.stop();
  const int rc = report(o, rows, st, binary_size, double(now_ns() - t_start) / 1e9);
  kill_all_children();
  return rc;
}
