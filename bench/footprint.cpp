#include "footprint.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "alloc_counts.hpp"
#include "process.hpp"
#include "runner.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;

// A child of this file, and the way out when it misbehaves.
struct child {
  std::string what;
  pid_t pid = 0;

  [[noreturn]] void give_up(const std::string& why) const {
    stop_child(pid);
    fail(what + ": " + why);
  }
};

child start(bench_world& w, const scenario& s, const std::string& binary, std::vector<std::string> env,
            const std::string& what, const std::string& log, int polls) {
  w.set_scenario(&s, false);
  ::unlink(log.c_str());
  const child c{what, spawn(binary, env, log)};
  if (!w.wait_polls(polls, 10s)) c.give_up("fewer /next polls than its workers (log: " + log + ")");
  return c;
}

// Parked on /next again after the last result, and a moment for the bridge to go idle after writing the poll.
void settle(bench_world& w, const child& c, int workers) {
  if (!w.wait_parked(workers, 10s)) c.give_up("fewer parked /next polls than its workers");
  std::this_thread::sleep_for(50ms);
}

// `n` invocations of the current scenario queued at once (one at a time with n == 1), every result checked.
void burst(bench_world& w, const scenario& s, const child& c, int n) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(w.push(s));
  for (uint64_t id : ids) {
    if (!w.wait_done(id, 20s)) c.give_up("no result in time");
    const invocation inv = w.get(id);
    w.forget(id);
    if (inv.error || inv.result_prefix.find("\"statusCode\":200") == std::string::npos)
      c.give_up("an invocation of " + s.name + " failed: " + inv.result_prefix.substr(0, 300));
  }
}

void stop(bench_world& w, const child& c) {
  const auto failures = w.failures();
  const bool alive = child_alive(c.pid);
  stop_child(c.pid);
  if (!alive) fail(c.what + ": the bridge exited");
  if (!failures.empty()) fail(c.what + ": " + failures.front());
  if (!w.wait_no_parked(3s)) fail("a /next long poll outlived its child");
  w.clear_queue();
}

struct snapshot {
  uint64_t allocations, frees, bytes;
};

snapshot read(const alloc_counts& c) {
  return {c.allocations.load(), c.frees.load(), c.bytes.load()};
}

}  // namespace

alloc_figures count_allocations(bench_world& w, const options& o, const scenario& s, int warmup, int measured) {
  const std::string path = o.work_dir + "/alloc_counts.bin";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::ftruncate(fd, sizeof(alloc_counts)) != 0) fail("cannot create " + path);
  void* p = ::mmap(nullptr, sizeof(alloc_counts), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) fail("cannot map " + path);
  const auto& counts = *static_cast<const alloc_counts*>(p);

  std::vector<std::string> env = base_env(w);
  env.insert(env.end(), s.env.begin(), s.env.end());
  env.push_back("LAMBDA_BRIDGE_ALLOC_COUNTS=" + path);
  const child c = start(w, s, o.counting, env, s.name + " (counting bridge)", o.work_dir + "/" + s.name + "-counting.log", 1);
  alloc_figures f;
  f.scenario = s.name;
  f.invocations = measured;
  settle(w, c, 1);
  f.at_first_poll = counts.allocations.load();
  for (int i = 0; i < warmup; ++i) burst(w, s, c, 1);
  settle(w, c, 1);
  const snapshot a = read(counts);
  for (int i = 0; i < measured; ++i) burst(w, s, c, 1);
  settle(w, c, 1);
  const snapshot b = read(counts);
  stop(w, c);
  ::munmap(p, sizeof(alloc_counts));
  f.allocations_per = double(b.allocations - a.allocations) / measured;
  f.frees_per = double(b.frees - a.frees) / measured;
  f.bytes_per = double(b.bytes - a.bytes) / measured;
  return f;
}

namespace {

// One bridge with `workers` workers through the bursts; its idle RSS before and after them, and its peak.
void idle_after_bursts(bench_world& w, const options& o, const std::vector<const scenario*>& bursts, int workers,
                       int rounds, long& fresh_kb, long& after_kb, long& peak_kb) {
  std::vector<std::string> env = base_env(w);
  env.push_back("AWS_LAMBDA_MAX_CONCURRENCY=" + std::to_string(workers));
  const std::string name = "idle-c" + std::to_string(workers);
  const child c = start(w, *bursts.front(), o.bridge, env, name, o.work_dir + "/" + name + ".log", workers);
  settle(w, c, workers);
  fresh_kb = read_mem(c.pid).rss_kb;
  for (const scenario* s : bursts) {
    w.use_scenario(s);
    burst(w, *s, c, rounds * workers);
    settle(w, c, workers);
  }
  const proc_mem m = read_mem(c.pid);
  after_kb = m.rss_kb;
  peak_kb = m.hwm_kb;
  stop(w, c);
}

}  // namespace

concurrency_figures measure_idle_per_worker(bench_world& w, const options& o, const std::vector<const scenario*>& bursts,
                                            int workers, int rounds) {
  concurrency_figures f;
  f.workers = workers;
  for (const scenario* s : bursts) f.bursts += (f.bursts.empty() ? "" : ", ") + s->name;
  long fresh_one = 0, peak_one = 0;
  idle_after_bursts(w, o, bursts, workers, rounds, f.idle_fresh_kb, f.idle_after_kb, f.peak_kb);
  idle_after_bursts(w, o, bursts, 1, rounds * workers, fresh_one, f.idle_after_one_kb, peak_one);
  return f;
}

}  // namespace bench
