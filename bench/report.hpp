// The figures of a run and their report: the human table (Markdown) or --json, with the targets of issue 5.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "footprint.hpp"
#include "options.hpp"

namespace bench {

struct figures {
  std::string scenario, child;
  int count = 0;
  double p50_us = 0, p99_us = 0, mean_us = 0;
  double per_s = 0;
  double cpu_us = 0, cpu_us_stat = 0;
  long peak_rss_kb = 0, idle_rss_kb = 0;
  uint64_t payload = 0;
  double mbytes_per_s = 0;  // payload / mean added latency
  bool end_to_end = false;  // a real app: the latencies are t3 - t0, the app's time included
  // The medians of the added latency's two parts (they need not add up to its median): the way in (t1 - t0: the
  // event handed out -> the request whole at the app) and the way out (t3 - t2: the app's reply begun -> the result
  // whole at the Runtime API). None for end-to-end rows (null in --json).
  double in_p50_us = 0, out_p50_us = 0;
  std::vector<std::string> failures;
  bool ok() const { return failures.empty() && count > 0; }
};

// exec -> first /next, the app already listening; and the lag from the app's listen() to the first /next.
struct startup_figures {
  std::vector<double> exec_to_next_ms, readiness_lag_ms;
  long idle_rss_kb = 0, code_rss_kb = 0;
};

// The nearest-rank percentile p (0..100] of v; 0 for none.
double percentile(std::vector<double> v, double p);

// Prints the report on stdout; 1 when a row failed, else 0.
int report(const options& o, const std::vector<figures>& rows, const footprint& fp, const startup_figures& st,
           uint64_t binary_size, double wall_s);

}  // namespace bench
