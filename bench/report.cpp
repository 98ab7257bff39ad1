#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string_view>
#include <utility>

namespace bench {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

struct target {
  std::string what;
  bool met;
  std::string measured;
};

void json_string(std::ostringstream& o, std::string_view s) {
  o << '"';
  for (char c : s) {
    if (c == '"' || c == '\\') o << '\\' << c;
    else if (static_cast<unsigned char>(c) < 0x20) o << ' ';
    else o << c;
  }
  o << '"';
}

const figures* find_row(const std::vector<figures>& rows, const std::string& sc, const std::string& child) {
  for (const auto& r : rows)
    if (r.scenario == sc && r.child == child) return &r;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------------------
// The targets of issues 5 and 14, each with what was measured

// Issue 14: every scenario that has a floor, at most 1.5x it (p50, the same run).
void every_scenario_target(const std::vector<figures>& rows, std::vector<target>& targets) {
  const figures* worst = nullptr;
  double worst_ratio = 0;
  int met = 0, all = 0;
  for (const auto& r : rows) {
    // fastapi-get's figures are end to end (the app's own time in both); it has its own target below.
    const figures* n = r.child == "bridge" && r.scenario != "fastapi-get" ? find_row(rows, r.scenario, "null") : nullptr;
    if (!n || n->p50_us <= 0) continue;
    const double ratio = r.p50_us / n->p50_us;
    ++all;
    if (ratio <= 1.5) ++met;
    if (ratio > worst_ratio) worst_ratio = ratio, worst = &r;
  }
  if (!worst) return;
  targets.push_back({"every scenario: bridge-added p50 <= 1.5x null forwarder", met == all,
                     std::to_string(met) + " of " + std::to_string(all) + "; highest " + worst->scenario + " " +
                         fmt("%.2fx", worst_ratio)});
}

void latency_targets(const std::vector<figures>& rows, std::vector<target>& targets) {
  const figures* b1 = find_row(rows, "get-1k", "bridge");
  const figures* n1 = find_row(rows, "get-1k", "null");
  if (b1 && n1) {
    const double r50 = b1->p50_us / n1->p50_us, r99 = b1->p99_us / n1->p99_us;
    targets.push_back({"1 KB event: bridge-added p50 <= 1.5x null forwarder", r50 <= 1.5,
                       fmt("%.2fx", r50) + " (" + fmt("%.0f", b1->p50_us) + " vs " + fmt("%.0f", n1->p50_us) + " us)"});
    targets.push_back({"1 KB event: bridge-added p99 <= 3x null forwarder", r99 <= 3.0,
                       fmt("%.2fx", r99) + " (" + fmt("%.0f", b1->p99_us) + " vs " + fmt("%.0f", n1->p99_us) + " us)"});
  }
  // Issue 14: an app that writes its reply in pieces with Nagle on must not wait for a delayed ACK (40 ms each).
  for (const char* split : {"split-head-body-1k", "split-pieces-1k"}) {
    const figures* bs = find_row(rows, split, "bridge");
    if (!bs || !b1) continue;
    const double r = bs->p50_us / b1->p50_us;
    targets.push_back({std::string("app writing in pieces (") + split + "): p50 < 2x the one-write app (get-1k)",
                       r < 2.0, fmt("%.2fx", r) + " (" + fmt("%.0f", bs->p50_us) + " vs " + fmt("%.0f", b1->p50_us) + " us)"});
  }
  every_scenario_target(rows, targets);
  if (const figures* bs = find_row(rows, "stream-100m", "bridge")) {
    const double gbs = double(bs->payload) / (bs->p50_us * 1e3);
    targets.push_back({"100 MB stream at >= 1 GB/s (payload / added p50)", gbs >= 1.0, fmt("%.3f GB/s", gbs)});
  }
  // The whole stack (issue 14): end to end, uvicorn's own time in both figures.
  const figures* bw = find_row(rows, "fastapi-get", "bridge");
  const figures* nw = find_row(rows, "fastapi-get", "null");
  if (bw && nw && bw->ok() && nw->ok()) {
    const double r50 = bw->p50_us / nw->p50_us;
    targets.push_back({"whole stack (FastAPI under uvicorn, GET /test1): end-to-end p50 <= 1.15x null forwarder",
                       r50 <= 1.15,
                       fmt("%.2fx", r50) + " (" + fmt("%.0f", bw->p50_us) + " vs " + fmt("%.0f", nw->p50_us) + " us)"});
  }
  if (const figures* b5 = find_row(rows, "reply-5m", "bridge")) {
    const double gbs = double(b5->payload) / (b5->p50_us * 1e3);  // bytes per ns = GB/s
    targets.push_back({"5 MB reply converted at >= 1 GB/s (payload / added p50)", gbs >= 1.0, fmt("%.3f GB/s", gbs)});
  }
}

void memory_targets(const std::vector<figures>& rows, const startup_figures& st, uint64_t binary_size,
                    std::vector<target>& targets) {
  // Issue 14: 2 MB + 2x the payload, for every scenario that holds its payload (a stream holds a piece at a time).
  // The 1 KB scenarios are listed apart: their peak is the binary's own text pages (docs/performance.md).
  const figures* worst = nullptr;
  double worst_over = -1e18;
  int met = 0, all = 0;
  for (const auto& r : rows) {
    if (r.child != "bridge" || r.payload < 64 * 1024 || r.scenario.starts_with("stream")) continue;
    const double limit_kb = 2048 + 2.0 * double(r.payload) / 1024, over = double(r.peak_rss_kb) - limit_kb;
    ++all;
    if (over <= 0) ++met;
    if (over > worst_over) worst_over = over, worst = &r;
  }
  if (worst) {
    const double limit_kb = 2048 + 2.0 * double(worst->payload) / 1024;
    targets.push_back({"peak RSS <= 2 MB + 2x payload, every scenario with a payload of 64 KB or more", met == all,
                       std::to_string(met) + " of " + std::to_string(all) + "; nearest or furthest over: " +
                           worst->scenario + " " + fmt("%.1f MB", double(worst->peak_rss_kb) / 1024) + " (limit " +
                           fmt("%.1f MB", limit_kb / 1024) + ")"});
  }
  if (const figures* r = find_row(rows, "get-1k", "bridge")) {
    const double limit_kb = 2048 + 2.0 * double(r->payload) / 1024;
    targets.push_back({"peak RSS <= 2 MB + 2x payload (get-1k, limit " + fmt("%.1f MB", limit_kb / 1024) + ")",
                       double(r->peak_rss_kb) <= limit_kb, fmt("%.1f MB", double(r->peak_rss_kb) / 1024)});
  }
  const figures* b1 = find_row(rows, "get-1k", "bridge");
  long idle = st.idle_rss_kb;
  if (b1) idle = std::max(idle, b1->idle_rss_kb);
  targets.push_back({"idle RSS <= 4 MB (fresh, and after the 1 KB run)", idle <= 4096,
                     fmt("%.1f MB", double(st.idle_rss_kb) / 1024) + " fresh, " +
                         fmt("%.1f MB", b1 ? double(b1->idle_rss_kb) / 1024 : 0) + " after load"});
  targets.push_back({"static binary <= 5 MB", binary_size <= 5u * 1024 * 1024,
                     fmt("%.2f MB", double(binary_size) / (1024 * 1024))});
}

void startup_and_concurrency_targets(const std::vector<figures>& rows, const startup_figures& st,
                                     std::vector<target>& targets) {
  const double e50 = percentile(st.exec_to_next_ms, 50), r50 = percentile(st.readiness_lag_ms, 50);
  if (!st.exec_to_next_ms.empty()) {  // absent with --no-startup
    targets.push_back({"exec -> first /next <= 5 ms (p50)", e50 <= 5, fmt("%.2f ms", e50)});
    targets.push_back({"readiness detected <= 5 ms after the app listens (p50)", r50 <= 5, fmt("%.2f ms", r50)});
  }
  const figures* c1 = find_row(rows, "sleep20ms-c1", "bridge");
  const figures* c8 = find_row(rows, "sleep20ms-c8", "bridge");
  if (c1 && c8) {
    const double ratio = c8->per_s / c1->per_s;
    targets.push_back({"concurrency 8, app sleeping 20 ms: >= 6x the throughput of concurrency 1", ratio >= 6,
                       fmt("%.2fx", ratio) + " (" + fmt("%.0f", c8->per_s) + " vs " + fmt("%.1f", c1->per_s) + " inv/s)"});
  }
}

// Issue 14: no heap allocation per small invocation once warm, and little memory kept per idle worker.
void footprint_targets(const footprint& fp, std::vector<target>& targets) {
  if (fp.allocs) {
    const alloc_figures& a = *fp.allocs;
    targets.push_back({"heap allocations per 1 KB invocation (get-1k, steady state) == 0", a.allocations_per == 0,
                       fmt("%.2f", a.allocations_per) + " (" + fmt("%.0f", a.bytes_per) + " bytes; " +
                           std::to_string(a.invocations) + " invocations, counting bridge)"});
  }
  if (fp.idle) {
    const concurrency_figures& c = *fp.idle;
    const double per = c.per_worker_kb();
    targets.push_back({"idle RSS per worker at concurrency " + std::to_string(c.workers) + " after bursts <= 1 MB",
                       per <= 1024,
                       fmt("%.0f KB", per) + " ((" + fmt("%.1f", double(c.idle_after_kb) / 1024) + " - " +
                           fmt("%.1f", double(c.idle_after_one_kb) / 1024) + " MB) / " + std::to_string(c.workers) + ")"});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// --json

void json_footprint(std::ostringstream& j, const footprint& fp) {
  j << ",\"allocations\":";
  if (fp.allocs)
    j << "{\"scenario\":\"" << fp.allocs->scenario << "\",\"invocations\":" << fp.allocs->invocations
      << ",\"allocations_per_invocation\":" << fp.allocs->allocations_per
      << ",\"frees_per_invocation\":" << fp.allocs->frees_per << ",\"bytes_per_invocation\":" << fp.allocs->bytes_per
      << ",\"allocations_to_first_poll\":" << fp.allocs->at_first_poll << "}";
  else
    j << "null";
  j << ",\"idle_per_worker\":";
  if (fp.idle)
    j << "{\"workers\":" << fp.idle->workers << ",\"bursts\":\"" << fp.idle->bursts
      << "\",\"idle_fresh_kb\":" << fp.idle->idle_fresh_kb << ",\"idle_after_kb\":" << fp.idle->idle_after_kb
      << ",\"idle_after_one_worker_kb\":" << fp.idle->idle_after_one_kb << ",\"peak_kb\":" << fp.idle->peak_kb
      << ",\"per_worker_kb\":" << fp.idle->per_worker_kb() << "}";
  else
    j << "null";
}

void json_row(std::ostringstream& j, const figures& r) {
  j << "{\"scenario\":";
  json_string(j, r.scenario);
  j << ",\"child\":";
  json_string(j, r.child);
  j << ",\"count\":" << r.count << ",\"added_p50_us\":" << r.p50_us << ",\"added_p99_us\":" << r.p99_us
    << ",\"added_mean_us\":" << r.mean_us;
  // An end-to-end row has no way in or out apart: the app's time lies between them.
  for (const auto& [name, v] : {std::pair{"in_p50_us", r.in_p50_us}, std::pair{"out_p50_us", r.out_p50_us}}) {
    j << ",\"" << name << "\":";
    if (r.end_to_end)
      j << "null";
    else
      j << v;
  }
  j << ",\"invocations_per_s\":" << r.per_s
    << ",\"cpu_us_per_invocation\":" << r.cpu_us << ",\"cpu_us_per_invocation_stat\":" << r.cpu_us_stat
    << ",\"peak_rss_kb\":" << r.peak_rss_kb << ",\"idle_rss_kb\":" << r.idle_rss_kb << ",\"payload_bytes\":" << r.payload
    << ",\"payload_mb_per_s\":" << r.mbytes_per_s << ",\"end_to_end\":" << (r.end_to_end ? "true" : "false")
    << ",\"failures\":[";
  for (size_t k = 0; k < r.failures.size(); ++k) {
    j << (k ? "," : "");
    json_string(j, r.failures[k]);
  }
  j << "]}";
}

void print_json(const std::vector<figures>& rows, const footprint& fp, const startup_figures& st,
                const std::vector<target>& targets, uint64_t binary_size, double wall_s) {
  std::ostringstream j;
  j << "{\"wall_seconds\":" << wall_s << ",\"binary_bytes\":" << binary_size << ",\"rows\":[";
  for (size_t i = 0; i < rows.size(); ++i) {
    j << (i ? "," : "");
    json_row(j, rows[i]);
  }
  j << "],\"startup\":{\"exec_to_first_next_ms\":[";
  for (size_t i = 0; i < st.exec_to_next_ms.size(); ++i) j << (i ? "," : "") << st.exec_to_next_ms[i];
  j << "],\"readiness_lag_ms\":[";
  for (size_t i = 0; i < st.readiness_lag_ms.size(); ++i) j << (i ? "," : "") << st.readiness_lag_ms[i];
  j << "],\"idle_rss_kb\":" << st.idle_rss_kb << ",\"code_rss_kb\":" << st.code_rss_kb << "}";
  json_footprint(j, fp);
  j << ",\"targets\":[";
  for (size_t i = 0; i < targets.size(); ++i) {
    j << (i ? "," : "") << "{\"target\":";
    json_string(j, targets[i].what);
    j << ",\"met\":" << (targets[i].met ? "true" : "false") << ",\"measured\":";
    json_string(j, targets[i].measured);
    j << "}";
  }
  j << "]}\n";
  std::fputs(j.str().c_str(), stdout);
}

// ---------------------------------------------------------------------------------------------------------------
// The human table

void print_rows(const std::vector<figures>& rows) {
  std::printf("| scenario | child | n | added p50 µs | added p99 µs | ratio p50/p99 vs null | inv/s | CPU µs/inv | "
              "peak RSS MB | idle RSS MB | payload MB/s |\n");
  std::printf("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const auto& r : rows) {
    std::string ratio = "";
    if (r.child == "bridge")
      if (const figures* n = find_row(rows, r.scenario, "null"))
        ratio = fmt("%.2f", r.p50_us / n->p50_us) + " / " + fmt("%.2f", r.p99_us / n->p99_us);
    std::printf("| %s%s | %s | %d | %.0f | %.0f | %s | %.0f | %.0f | %.1f | %.1f | %s |%s\n", r.scenario.c_str(),
                r.end_to_end ? " (end to end)" : "",
                r.child.c_str(), r.count, r.p50_us, r.p99_us, ratio.c_str(), r.per_s, r.cpu_us,
                double(r.peak_rss_kb) / 1024, double(r.idle_rss_kb) / 1024,
                r.payload >= 1024 ? fmt("%.0f", r.mbytes_per_s).c_str() : "", r.ok() ? "" : " FAILED");
  }
}

void print_footprint(const footprint& fp) {
  if (fp.allocs)
    std::printf("\nheap allocations (counting bridge, %s, %d invocations after warm-up): %.2f allocations, %.2f frees, "
                "%.0f bytes per invocation; %llu allocations from exec to the first /next\n",
                fp.allocs->scenario.c_str(), fp.allocs->invocations, fp.allocs->allocations_per, fp.allocs->frees_per,
                fp.allocs->bytes_per, static_cast<unsigned long long>(fp.allocs->at_first_poll));
  if (fp.idle)
    std::printf("\nconcurrency %d (bursts of %s): idle RSS %.1f MB fresh, %.1f MB after (peak %.1f MB); one worker "
                "after the same %.1f MB; %.0f KB per worker\n",
                fp.idle->workers, fp.idle->bursts.c_str(), double(fp.idle->idle_fresh_kb) / 1024,
                double(fp.idle->idle_after_kb) / 1024, double(fp.idle->peak_kb) / 1024,
                double(fp.idle->idle_after_one_kb) / 1024, fp.idle->per_worker_kb());
}

void print_table(const std::vector<figures>& rows, const footprint& fp, const startup_figures& st,
                 const std::vector<target>& targets, uint64_t binary_size, double wall_s) {
  print_rows(rows);
  print_footprint(fp);
  const double e50 = percentile(st.exec_to_next_ms, 50), r50 = percentile(st.readiness_lag_ms, 50);
  std::printf("\nstart-up (bridge): exec -> first /next p50 %.2f ms, max %.2f ms (%zu runs); readiness lag after a "
              "late listen() p50 %.2f ms, max %.2f ms (%zu runs); idle RSS fresh %.1f MB (its code %.2f MB); binary %.2f MB\n",
              e50, percentile(st.exec_to_next_ms, 100), st.exec_to_next_ms.size(), r50,
              percentile(st.readiness_lag_ms, 100), st.readiness_lag_ms.size(), double(st.idle_rss_kb) / 1024,
              double(st.code_rss_kb) / 1024, double(binary_size) / (1024 * 1024));
  std::printf("\n| target | result | measured |\n|---|---|---|\n");
  for (const auto& t : targets)
    std::printf("| %s | %s | %s |\n", t.what.c_str(), t.met ? "met" : "MISSED", t.measured.c_str());
  for (const auto& r : rows)
    for (const auto& fl : r.failures) std::printf("\nFAILURE %s (%s): %s\n", r.scenario.c_str(), r.child.c_str(), fl.c_str());
  std::printf("\n(%.0f s; added = (t1 - t0) + (t3 - t2) on the bench's monotonic clock; CPU from /proc/PID/task/*/schedstat, "
              "utime+stime in --json)\n",
              wall_s);
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = size_t(std::max(1.0, std::ceil(p / 100.0 * double(v.size()))));
  return v[std::min(rank, v.size()) - 1];
}

int report(const options& o, const std::vector<figures>& rows, const footprint& fp, const startup_figures& st,
           uint64_t binary_size, double wall_s) {
  std::vector<target> targets;
  latency_targets(rows, targets);
  footprint_targets(fp, targets);
  memory_targets(rows, st, binary_size, targets);
  startup_and_concurrency_targets(rows, st, targets);
  bool any_failure = false;
  for (const auto& r : rows) any_failure |= !r.ok();
  if (o.json)
    print_json(rows, fp, st, targets, binary_size, wall_s);
  else
    print_table(rows, fp, st, targets, binary_size, wall_s);
  return any_failure ? 1 : 0;
}

}  // namespace bench
