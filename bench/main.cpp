// The benchmark of issue 5: what lambda-bridge adds to an invocation, against the floor of the same socket work.
//
// One process plays both peers of the bridge, on loopback, with one monotonic clock:
//
//     runtime_api (world.cpp)  <-- GET /next, POST /response --  child under test  -- HTTP/1.1 -->  app (world.cpp)
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
// After the scenarios (issue 14): heap allocations per get-1k invocation in steady state, counted by a second
// bridge built for the bench (--counting PATH: lambda-bridge-counting, the same libraries with every malloc, calloc,
// realloc and free routed through a counting shim, bench/alloc_counter.cpp, whose counters live in a file the bench
// maps); and the idle RSS per worker at concurrency 64 after bursts ((idle RSS of 64 workers - that of 1) / 64).
// --only selects them as allocs-get-1k and idle-c64.
//
// The whole stack (fastapi-get, issue 14): the app is instead a real child process, the sample FastAPI app
// (--fastapi DIR, default examples/fastapi) under Debian's uvicorn with uvloop and httptools, one process for both
// children, which run at once on a Runtime API each and take turns of one invocation each; the bench sees only
// t0 and t3, so that scenario's figures are end to end (t3 - t0), app included.
//
// Plain blocking sockets and one thread per connection: the bench must be obviously correct, not clever; its own
// cost sits outside the measured intervals except for the kernel's copies, which both children pay alike. Every
// wait is bounded, children run in their own process group and are killed on every exit path, and a watchdog ends
// the whole run past --time-limit.
//
// The files: process (children, /proc readings), wire (sockets, HTTP framing, the loopback server), scenarios (the
// events and replies of every scenario, the soak's mix), world (the two peers: the Runtime API and the app),
// runner (one scenario, the soak, start-up), whole_stack (the real app's scenario), footprint (heap allocations per
// invocation with the counting bridge, alloc_counter.cpp; idle memory per worker at concurrency 64), report (the
// figures, the targets, the table and --json), main (this: the command line).

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "footprint.hpp"
#include "options.hpp"
#include "process.hpp"
#include "report.hpp"
#include "runner.hpp"
#include "scenarios.hpp"
#include "whole_stack.hpp"
#include "world.hpp"

namespace bench {

namespace {

void usage() {
  std::fputs("usage: lambda-bridge-bench --bridge PATH --null PATH [--json] [--quick] [--only PREFIX] "
             "[--count N] [--no-startup] [--time-limit SECONDS] [--work-dir DIR] [--fastapi DIR]\n"
             "       [--counting PATH] [--no-pin]\n"
             "       --no-pin: the children under test run wherever the scheduler puts them (by default, with two CPUs\n"
             "       or more, on the last one, and the bench and the whole stack's app on the others)\n"
             "       --fastapi DIR: the sample FastAPI app of the whole-stack scenario (default examples/fastapi)\n"
             "       --counting PATH: lambda-bridge-counting (bench/alloc_counter.cpp), for heap allocations per invocation\n"
             "       (--only also takes allocs-get-1k and idle-c64, the measurements after the scenarios)\n"
             "       lambda-bridge-bench --bridge PATH --soak N [--time-limit SECONDS]\n",
             stderr);
}

[[noreturn]] void usage_and_exit() {
  usage();
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_and_exit();
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
    else if (a == "--fastapi") o.fastapi_dir = value();
    else if (a == "--counting") o.counting = value();
    else if (a == "--no-pin") o.pin = false;
    else usage_and_exit();
  }
  if (o.bridge.empty() || (o.null_forwarder.empty() && o.soak == 0)) usage_and_exit();
  if (o.work_dir.empty()) {
    char tmpl[] = "/tmp/lambda-bridge-bench-XXXXXX";
    if (!mkdtemp(tmpl)) fatal("mkdtemp");
    o.work_dir = tmpl;
  }
  return o;
}

// Ctrl-C, a timeout(1) or the bench's own watchdog past --time-limit still take the children down.
void guard_children(int time_limit_s) {
  ::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    ::signal(sig, [](int) {
      kill_all_children();
      std::_Exit(130);
    });
  std::thread([limit = time_limit_s] {
    std::this_thread::sleep_for(std::chrono::seconds(limit));
    kill_all_children();
    std::fprintf(stderr, "bench: over the time limit of %d s, stopped\n", limit);
    std::_Exit(3);
  }).detach();
}

// Every scenario (or those --only names), each against the bridge and then, where it has one, its floor.
std::vector<figures> run_scenarios(bench_world& w, const options& o, std::vector<scenario> scenarios) {
  std::vector<figures> rows;
  if (o.count > 0)
    for (auto& s : scenarios) {
      s.warmup = std::min(s.warmup, s.concurrency);
      s.measured = o.count;
    }
  for (const auto& s : scenarios) {
    if (!o.only.empty() && !s.name.starts_with(o.only)) continue;
    if (s.real_app) {
      for (const auto& r : run_whole_stack(w, o, s)) {
        rows.push_back(r);
        if (!o.json) std::fprintf(stderr, "  %-16s %-6s p50 %8.0f us end to end\n", s.name.c_str(), r.child.c_str(), r.p50_us);
      }
      continue;
    }
    // Bridge and floor take turns of ten invocations, so that a slow spell of the machine (another VM's load, a
    // frequency change) falls on both: one run of each in turn let the same binaries' ratio move by up to 0.8 between
    // bench runs, and four turns of a quarter each still drew different spells for the two (docs/performance.md,
    // "Taking turns" and "Turns, and one CPU for the children"). Throughput runs and scenarios without a floor run
    // alone.
    std::vector<figures> both;
    if (s.with_null && s.concurrency == 1) {
      both = run_in_turns(w, o, s);
    } else {
      both.push_back(run_one(w, o, s, false));
      if (both.back().ok() && s.with_null) both.push_back(run_one(w, o, s, true));
    }
    for (const figures& f : both) {
      rows.push_back(f);
      if (!o.json) {
        std::fprintf(stderr, "  %-16s %-6s p50 %8.0f us (in %.0f, out %.0f)\n", s.name.c_str(), f.child.c_str(),
                     f.p50_us, f.in_p50_us, f.out_p50_us);
      }
    }
  }
  return rows;
}

// After the scenarios, as --only allows: heap allocations per get-1k invocation (with --counting), and idle memory
// per worker at concurrency 64 after a burst of get-1k and one of 256 KB binary replies (binary-1m's, cut: each
// worker then keeps both its buffers, under the budget, which is the most it keeps; 1 MB replies pass the budget).
footprint measure_footprint(bench_world& w, const options& o, const std::vector<scenario>& scenarios) {
  footprint fp;
  auto wanted = [&](std::string_view name) { return o.only.empty() || name.starts_with(o.only); };
  auto named = [&](std::string_view name) -> const scenario& {
    for (const auto& s : scenarios)
      if (s.name == name) return s;
    fatal("no scenario " + std::string(name));
  };
  if (wanted("allocs-get-1k")) {
    if (o.counting.empty()) {
      if (!o.json) std::fprintf(stderr, "  allocs-get-1k    skipped: no --counting PATH\n");
    } else {
      fp.allocs = count_allocations(w, o, named("get-1k"), 200, o.quick ? 300 : 1000);
      if (!o.json)
        std::fprintf(stderr, "  allocs-get-1k    %.2f allocations per invocation\n", fp.allocs->allocations_per);
    }
  }
  if (wanted("idle-c64")) {
    scenario large = named("binary-1m");
    large.name = "binary-256k";
    large.reply_body.resize(256 * 1024);
    fp.idle = measure_idle_per_worker(w, o, {&named("get-1k"), &large}, 64, 1);
    if (!o.json) std::fprintf(stderr, "  idle-c64         %.0f KB per worker\n", fp.idle->per_worker_kb());
  }
  return fp;
}

}  // namespace

}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  const options o = parse_options(argc, argv);
  guard_children(o.time_limit_s);

  struct stat sb {};
  if (::stat(o.bridge.c_str(), &sb) != 0) fatal("no bridge binary at " + o.bridge);
  const uint64_t binary_size = uint64_t(sb.st_size);

  const int64_t t_start = now_ns();
  // Before any thread of the bench starts: they inherit its CPUs.
  const std::string placement = o.pin ? keep_children_apart() : "the scheduler's (--no-pin)";
  if (!o.json) std::fprintf(stderr, "  placement: %s\n", placement.c_str());
  bench_world w;
  if (o.soak > 0) {
    const int rc = run_soak(w, o, o.soak);
    w.stop();
    kill_all_children();
    return rc;
  }
  const std::vector<scenario> scenarios = make_scenarios(o.quick);
  const std::vector<figures> rows = run_scenarios(w, o, scenarios);
  const footprint fp = measure_footprint(w, o, scenarios);
  startup_figures st;
  if (o.startup) st = run_startup(w, o, o.quick ? 6 : 20);
  w.stop();
  const int rc = report(o, rows, fp, st, binary_size, double(now_ns() - t_start) / 1e9);
  kill_all_children();
  return rc;
}
