// What the bridge keeps while it works and after (issue 14): heap allocations per invocation in steady state, counted
// by the counting bridge (--counting PATH, bench/alloc_counter.cpp), and the idle memory each worker keeps at
// concurrency 64 after bursts of small and large replies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"
#include "scenarios.hpp"
#include "world.hpp"

namespace bench {

struct alloc_figures {
  std::string scenario;
  int invocations = 0;            // measured, after the warm-up
  double allocations_per = 0;     // per invocation: malloc, calloc, realloc and the aligned forms
  double frees_per = 0;
  double bytes_per = 0;
  std::uint64_t at_first_poll = 0;  // allocations from exec to the first /next (start-up, for reference)
};

// Heap allocations per invocation of `s` (one at a time), with the counting bridge: the counters are read parked on
// /next after `warmup` invocations and again after `measured` more; the difference over `measured`.
alloc_figures count_allocations(bench_world& w, const options& o, const scenario& s, int warmup, int measured);

struct concurrency_figures {
  int workers = 0;
  long idle_fresh_kb = 0;        // the bridge with `workers` workers, parked before any invocation
  long idle_after_kb = 0;        // the same, parked again after the bursts
  long idle_after_one_kb = 0;    // one worker after the same bursts
  long peak_kb = 0;              // of the many-worker bridge
  std::string bursts;            // what the bursts were, for the report
  double per_worker_kb() const { return workers > 1 ? double(idle_after_kb - idle_after_one_kb) / workers : 0; }
};

// A bridge with AWS_LAMBDA_MAX_CONCURRENCY=`workers`, then one with a single worker, each through the same bursts
// (every scenario of `bursts` queued `rounds` x `workers` times at once) and read parked on /next after them.
concurrency_figures measure_idle_per_worker(bench_world& w, const options& o, const std::vector<const scenario*>& bursts,
                                            int workers, int rounds);

// What a run measured of the two, for the report: each absent when not run.
struct footprint {
  std::optional<alloc_figures> allocs;
  std::optional<concurrency_figures> idle;
};

}  // namespace bench
