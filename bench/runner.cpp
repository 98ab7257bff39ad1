#include "runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "process.hpp"

namespace bench {

std::vector<std::string> base_env(bench_world& w) {
  return {"PATH=/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(w.runtime_port()),
          "AWS_LWA_PORT=" + std::to_string(w.app_port())};
}

namespace {

std::string write_file(const options& o, const std::string& name, const std::string& bytes) {
  const std::string path = o.work_dir + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  if (!f) fail("cannot write " + path);
  return path;
}

}  // namespace

// The null forwarder replays the exact bytes the bridge produced for the scenario a moment before.
void add_null_forwarder_env(bench_world& w, const options& o, const scenario& s, const real_app_context& app,
                            std::vector<std::string>& env) {
  std::string prelude = w.captured_result();
  if (s.stream) {  // the first chunk: the prelude and its 8 NULs, as the bridge sent it
    const auto nuls = prelude.find(std::string(8, '\0'));
    if (nuls == std::string::npos) fail(s.name + ": no prelude captured from the bridge");
    prelude.resize(nuls + 8);
  }
  std::string req = s.real_app ? app.request : w.captured_request();
  const auto at = req.find("/bench/");
  if (req.empty() || (!s.real_app && at == std::string::npos)) fail(s.name + ": no app request captured from the bridge");
  if (!s.real_app) req.replace(at + 7, id_width, "nullnull");
  env.push_back("NULL_APP_REQUEST=" + write_file(o, "app_request.bin", req));
  env.push_back("NULL_RESULT_BODY=" + write_file(o, "result.bin", prelude));
  env.push_back("NULL_RESULT_CONTENT_TYPE=" + w.captured_content_type());
  env.push_back(std::string("NULL_MODE=") + (s.stream ? "stream" : "buffered"));
}

namespace {

using namespace std::chrono_literals;

// A child under test, and the way out when it misbehaves: stopped, and the bench ended with the tail of its log.
struct watched_child {
  std::string label;  // what the failure message starts with
  std::string log;
  pid_t pid = 0;

  [[noreturn]] void give_up(const std::string& why) const {
    stop_child(pid);
    fail(label + ": " + why + "\n" + log_tail(log));
  }
};

watched_child start_child(std::string label, const std::string& binary, const std::vector<std::string>& env,
                          const std::string& log) {
  ::unlink(log.c_str());
  return {std::move(label), log, spawn(binary, env, log)};
}

// ---------------------------------------------------------------------------------------------------------------
// One scenario


// The measured invocations: the bridge-added latency of each (µs), and the child's CPU and the clock at the start.
struct measurement {
  std::vector<double> added, in, out;  // µs per invocation: added = in + out (added_us)
  double cpu0 = 0, cpu0s = 0;
  int64_t start = 0;

  void begin(pid_t pid) {
    cpu0 = cpu_us_sched(pid);
    cpu0s = cpu_us_stat(pid);
    start = now_ns();
  }
};

constexpr std::chrono::milliseconds per_invocation_timeout{20000};

double added_us(const invocation& inv) { return double((inv.t1 - inv.t0) + (inv.t3 - inv.t2)) / 1e3; }

void add(measurement& m, const invocation& inv) {
  m.added.push_back(added_us(inv));
  m.in.push_back(double(inv.t1 - inv.t0) / 1e3);
  m.out.push_back(double(inv.t3 - inv.t2) / 1e3);
}

// A result as the scenario expects it, or the bench ends with the child's log. False for an error post (the world
// keeps it among its failures).
bool check_result(const scenario& s, const watched_child& c, const invocation& inv, bool measured) {
  if (inv.error) return false;
  if (inv.result_bytes < s.expect_min_result)
    c.give_up("result of " + std::to_string(inv.result_bytes) + " bytes, expected at least " +
              std::to_string(s.expect_min_result) + ": " + inv.result_prefix.substr(0, 300));
  if (inv.result_prefix.find("\"statusCode\":200") == std::string::npos)
    c.give_up("result without statusCode 200: " + inv.result_prefix.substr(0, 300));
  if (measured && inv.captured) c.give_up("a measured invocation was captured (its bodies copied)");
  return true;
}

// One invocation at a time, the warm-up first; every result checked.
void measure_one_at_a_time(bench_world& w, const scenario& s, const watched_child& c, measurement& m) {
  for (int i = 0; i < s.warmup + s.measured; ++i) {
    if (i == s.warmup) m.begin(c.pid);
    const uint64_t id = w.push(s);
    if (!w.wait_done(id, per_invocation_timeout)) c.give_up("no result in time");
    const invocation inv = w.get(id);
    w.forget(id);
    if (!check_result(s, c, inv, i >= s.warmup)) break;
    if (i == 0) w.stop_capturing();  // the first (a warm-up one) was captured; none that is measured is
    if (i >= s.warmup) add(m, inv);
  }
}

// Warm-up: a burst that opens the app connections, then a measured burst queued all at once.
void measure_bursts(bench_world& w, const scenario& s, const watched_child& c, measurement& m) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < s.warmup; ++i) ids.push_back(w.push(s));
  for (uint64_t id : ids) {
    if (!w.wait_done(id, per_invocation_timeout)) c.give_up("no warm-up result in time");
    w.forget(id);
  }
  if (!w.wait_parked(s.concurrency, 10s)) c.give_up("fewer parked /next polls than the concurrency");
  w.stop_capturing();
  m.begin(c.pid);
  ids.clear();
  for (int i = 0; i < s.measured; ++i) ids.push_back(w.push(s));
  for (uint64_t id : ids) {
    if (!w.wait_done(id, per_invocation_timeout)) c.give_up("no result in time");
    const invocation inv = w.get(id);
    w.forget(id);
    if (inv.captured) c.give_up("a measured invocation was captured (its bodies copied)");
    add(m, inv);
  }
}

// `seconds`: the time the measured invocations took; `cpu_us`, `cpu_us_stat`: the child's CPU over them (schedstat,
// and stat's ticks).
void summarize(figures& f, const measurement& m, double seconds, double cpu_us, double cpu_us_stat) {
  f.count = int(m.added.size());
  if (m.added.empty()) return;
  f.p50_us = percentile(m.added, 50);
  f.p99_us = percentile(m.added, 99);
  f.in_p50_us = percentile(m.in, 50);
  f.out_p50_us = percentile(m.out, 50);
  double sum = 0;
  for (double a : m.added) sum += a;
  f.mean_us = sum / double(m.added.size());
  f.per_s = seconds > 0 ? double(m.added.size()) / seconds : 0;
  f.cpu_us = cpu_us / double(m.added.size());
  f.cpu_us_stat = cpu_us_stat / double(m.added.size());
  f.mbytes_per_s = f.mean_us > 0 ? double(f.payload) / f.mean_us : 0;  // bytes per µs = MB/s
}

// The end of a child's scenario: parked on /next again after the work, its memory read 50 ms later (the allocator's
// high-water marks as they stay), what the world saw go wrong noted in `f`, and the child stopped.
proc_mem retire(bench_world& w, const watched_child& c, figures& f) {
  std::this_thread::sleep_for(50ms);
  const proc_mem mem = read_mem(c.pid);
  f.failures = w.failures();
  if (!child_alive(c.pid)) f.failures.push_back("the child exited: " + log_tail(c.log));
  stop_child(c.pid);
  if (!w.wait_no_parked(3s)) fail("a /next long poll outlived its child");
  w.clear_queue();
  return mem;
}

// One of the two children of a scenario run in turns (run_in_turns): its world, what it measured, and its end.
struct turn_taker {
  turn_taker(bench_world& w, watched_child c, bool e2e) : world(w), child(std::move(c)), end_to_end(e2e) {}

  bench_world& world;
  watched_child child;
  bool end_to_end;  // a real app's scenario: the bench sees t0 and t3 only, and keeps t3 - t0 as `added`
  measurement m;
  double cpu = 0, cpu_stat = 0;
  int64_t busy_ns = 0;

  // Once it polls: the scenario's warm-up, one invocation at a time. The world stops capturing after the first (the
  // bridge's, captured for the null forwarder; none that is measured is).
  void warm_up(const scenario& s) {
    if (!world.wait_polls(1, 10s)) child.give_up("the child did not poll /next");
    for (int i = 0; i < s.warmup; ++i) {
      const uint64_t id = world.push(s);
      if (!world.wait_done(id, per_invocation_timeout)) child.give_up("no result in time");
      const invocation inv = world.get(id);
      world.forget(id);
      if (!check_result(s, child, inv, false)) break;
      if (i == 0) world.stop_capturing();
    }
  }

  void park() const {
    if (!world.wait_parked(1, 10s)) child.give_up("not parked on /next again");
  }

  // `n` invocations one after the other, the first pushed once the child is parked on /next: the tail of its last
  // turn (the 202, its log line, the next poll) is over by then, so it neither runs into the other child's turn nor
  // escapes this one's CPU count.
  void turn(const scenario& s, int n) {
    park();
    const double c0 = cpu_us_sched(child.pid), c0s = cpu_us_stat(child.pid);
    const int64_t t0 = now_ns();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = world.push(s);
      if (!world.wait_done(id, per_invocation_timeout)) child.give_up("no result in time");
      const invocation inv = world.get(id);
      world.forget(id);
      if (!check_result(s, child, inv, true)) continue;
      if (end_to_end)
        m.added.push_back(double(inv.t3 - inv.t0) / 1e3);
      else
        add(m, inv);
    }
    park();
    busy_ns += now_ns() - t0;
    cpu += cpu_us_sched(child.pid) - c0;
    cpu_stat += cpu_us_stat(child.pid) - c0s;
  }

  figures finish(const scenario& s, const std::string& name) {
    figures f;
    f.scenario = s.name;
    f.child = name;
    f.payload = s.payload;
    f.end_to_end = end_to_end;
    const proc_mem mem = retire(world, child, f);
    summarize(f, m, double(busy_ns) / 1e9, cpu, cpu_stat);
    f.peak_rss_kb = mem.hwm_kb;
    f.idle_rss_kb = mem.rss_kb;
    return f;
  }
};

}  // namespace

std::vector<figures> run_in_turns(bench_world& w, const options& o, const scenario& s, const real_app_context* app) {
  if (s.warmup < 1) fail(s.name + ": no warm-up invocation to capture the null forwarder's bytes from");
  std::vector<std::string> env = base_env(w);
  if (app) env[2] = "AWS_LWA_PORT=" + std::to_string(app->port);
  env.insert(env.end(), s.env.begin(), s.env.end());
  w.set_scenario(&s, true);
  turn_taker bridge{w, start_child(s.name + " (bridge)", o.bridge, env, o.work_dir + "/" + s.name + "-bridge.log"),
                    app != nullptr};
  bridge.warm_up(s);

  bench_world null_world;
  std::vector<std::string> null_env = base_env(null_world);
  if (app) null_env[2] = "AWS_LWA_PORT=" + std::to_string(app->port);
  add_null_forwarder_env(w, o, s, app ? *app : real_app_context{}, null_env);
  null_world.set_scenario(&s, false);
  turn_taker null{null_world,
                  start_child(s.name + " (null)", o.null_forwarder, null_env, o.work_dir + "/" + s.name + "-null.log"),
                  app != nullptr};
  null.warm_up(s);

  // Turns of ten: short beside the VM's slow spells (they come and go within about 15 ms), and nine of ten
  // invocations find the child's caches as its last one left them, as back-to-back invocations do. With a real app,
  // turns of one: it runs between every two hops anyway, so the children's caches are as cold either way.
  const int per_turn = app ? 1 : 10;
  for (int done = 0; done < s.measured; done += per_turn) {
    const int n = std::min(per_turn, s.measured - done);
    bridge.turn(s, n);
    null.turn(s, n);
  }
  std::vector<figures> rows{bridge.finish(s, "bridge"), null.finish(s, "null")};
  null_world.stop();
  return rows;
}

namespace {

// ---------------------------------------------------------------------------------------------------------------
// The soak

// Each scenario of the mix `weight` times, dealt in a fixed pseudo-random order.
class soak_dealer {
 public:
  explicit soak_dealer(const std::vector<scenario>& mix) {
    for (const auto& s : mix)
      for (int i = 0; i < s.weight; ++i) wheel_.push_back(&s);
  }

  const scenario* next() {
    lcg_ = lcg_ * 6364136223846793005ull + 1442695040888963407ull;
    return wheel_[(lcg_ >> 33) % wheel_.size()];
  }

 private:
  std::vector<const scenario*> wheel_;
  uint64_t lcg_ = 0x9E3779B97F4A7C15ull;
};

struct soak_sample {
  long done;
  long rss_kb;
  int fds;
};

struct soak_record {
  std::vector<soak_sample> samples;  // 40 of them, evenly spaced
  std::map<std::string, long> served;
};

void serve_soak(bench_world& w, const options& o, const watched_child& c, long count, soak_dealer& deal,
                soak_record& seen) {
  const long every = std::max(1L, count / 40);
  for (long i = 1; i <= count; ++i) {
    const scenario* s = deal.next();
    w.use_scenario(s);
    const uint64_t id = w.push(*s);
    if (!w.wait_done(id, 20s)) c.give_up("no result for invocation " + std::to_string(i) + " (" + s->name + ")");
    const invocation inv = w.get(id);
    w.forget(id);
    if (inv.error != s->expect_error)
      c.give_up(s->name + ": " + (inv.error ? "an error post: " : "a result where an error was due: ") +
                inv.result_prefix.substr(0, 300));
    if (!s->expect_error && inv.result_prefix.find(s->expect_in_result) == std::string::npos)
      c.give_up(s->name + ": the result lacks " + s->expect_in_result + ": " + inv.result_prefix.substr(0, 300));
    ++seen.served[s->name];
    if (i % every == 0) {
      seen.samples.push_back({i, read_mem(c.pid).rss_kb, open_fds(c.pid)});
      if (!o.json)
        std::fprintf(stderr, "  soak %7ld invocations  RSS %6.1f MB  fds %d\n", i,
                     double(seen.samples.back().rss_kb) / 1024, seen.samples.back().fds);
    }
  }
}

// Flat after the warm-up (the first quarter of the samples), or not: printed, with what was served; 0 when flat.
int soak_verdict(const soak_record& seen, long count, size_t kinds, double seconds, long peak_kb) {
  constexpr long rss_slack_kb = 512;
  const auto& samples = seen.samples;
  const soak_sample& settled = samples[samples.size() / 4];
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
              count, kinds, seconds, double(count) / seconds, settled.done, double(settled.rss_kb) / 1024,
              double(rss_max) / 1024, rss_flat ? "flat" : "GROWING", rss_slack_kb, fds_min, fds_max,
              fds_flat ? "flat" : "CHANGING", double(peak_kb) / 1024);
  for (const auto& [name, n] : seen.served) std::printf("  %-26s %7ld\n", name.c_str(), n);
  return rss_flat && fds_flat ? 0 : 1;
}

}  // namespace

figures run_one(bench_world& w, const options& o, const scenario& s, bool null_child) {
  // The bytes the null forwarder replays are captured from the bridge's first warm-up invocation, never a measured one.
  if (!null_child && s.warmup < 1) fail(s.name + ": no warm-up invocation to capture the null forwarder's bytes from");
  figures f;
  f.scenario = s.name;
  f.child = null_child ? "null" : "bridge";
  f.payload = s.payload;
  std::vector<std::string> env = base_env(w);
  if (null_child)
    add_null_forwarder_env(w, o, s, {}, env);
  else
    env.insert(env.end(), s.env.begin(), s.env.end());
  w.set_scenario(&s, !null_child);
  const watched_child c = start_child(s.name + " (" + f.child + ")", null_child ? o.null_forwarder : o.bridge, env,
                                      o.work_dir + "/" + s.name + "-" + f.child + ".log");
  if (!w.wait_polls(s.concurrency, 10s)) c.give_up("the child did not poll /next");

  measurement m;
  if (s.concurrency == 1)
    measure_one_at_a_time(w, s, c, m);
  else
    measure_bursts(w, s, c, m);
  const int64_t end = now_ns();
  const double cpu1 = cpu_us_sched(c.pid), cpu1s = cpu_us_stat(c.pid);
  const double seconds = double(end - m.start) / 1e9;
  const proc_mem mem = retire(w, c, f);
  summarize(f, m, seconds, cpu1 - m.cpu0, cpu1s - m.cpu0s);
  f.peak_rss_kb = mem.hwm_kb;
  f.idle_rss_kb = mem.rss_kb;
  return f;
}

std::string capture_app_request(bench_world& w, const options& o, const scenario& s) {
  std::vector<std::string> env = base_env(w);
  env.insert(env.end(), s.env.begin(), s.env.end());
  w.set_scenario(&s, true);
  const watched_child c = start_child(s.name + " (capture)", o.bridge, env, o.work_dir + "/" + s.name + "-capture.log");
  if (!w.wait_polls(1, 10s)) c.give_up("the bridge did not poll /next");
  for (int i = 0; i < 2; ++i) {
    const uint64_t id = w.push(s);
    if (!w.wait_done(id, per_invocation_timeout)) c.give_up("no result in time");
    w.forget(id);
  }
  std::string request = w.captured_request();
  const auto failures = w.failures();
  stop_child(c.pid);
  if (!failures.empty()) fail(s.name + " (capture): " + failures.front());
  if (!w.wait_no_parked(3s)) fail("a /next long poll outlived its child");
  if (request.empty()) fail(s.name + ": the capture run did not reach the app's route " + s.app_route);
  return request;
}

int run_soak(bench_world& w, const options& o, long count) {
  const std::vector<scenario> mix = soak_mix();
  soak_dealer deal(mix);
  std::vector<std::string> env = base_env(w);
  env.push_back("AWS_LWA_PASS_THROUGH_PATH=/bench/nullnull");  // the app resolves "nullnull" to the current id
  w.set_scenario(&mix.front(), false);
  const watched_child c = start_child("soak", o.bridge, env, o.work_dir + "/soak-bridge.log");
  if (!w.wait_polls(1, 10s)) c.give_up("the bridge did not poll /next");
  soak_record seen;
  const int64_t start = now_ns();
  serve_soak(w, o, c, count, deal, seen);
  const double seconds = double(now_ns() - start) / 1e9;
  const auto failures = w.failures();
  const bool alive = child_alive(c.pid);
  const long peak_kb = read_mem(c.pid).hwm_kb;
  stop_child(c.pid);
  if (!alive) fail("soak: the bridge exited\n" + log_tail(c.log));
  if (!failures.empty()) fail("soak: " + failures.front());
  if (seen.samples.size() < 4) fail("soak: too few invocations to sample (use at least 160)");
  return soak_verdict(seen, count, mix.size(), seconds, peak_kb);
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
      f.code_rss_kb = read_code_rss_kb(pid);
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

}  // namespace bench
