// Running the child under test against the two peers: one scenario, the soak, and the start-up measurements.
#pragma once

#include "options.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "world.hpp"

namespace bench {

// Every child's environment: PATH, the Runtime API and the in-process app's port (in that order).
std::vector<std::string> base_env(bench_world& w);

// Where the child's app is, when it is not the in-process one (a scenario with real_app, whole_stack.cpp): its port,
// and for the null forwarder the app request bytes the bridge produced for the scenario (capture_app_request).
struct real_app_context {
  int port = 0;
  std::string request;
};

// One scenario against a fresh child: lambda-bridge, or (null_child) the null forwarder fed with the request and
// result the bridge produced for the same scenario in the run just before. For throughput runs and scenarios without
// a floor; not for a real_app scenario.
figures run_one(bench_world& w, const options& o, const scenario& s, bool null_child);

// One scenario with a floor, one invocation at a time: lambda-bridge and the null forwarder (fed with the request and
// result the bridge produced in its first warm-up invocation) run at once, each on a Runtime API of its own, and take
// turns of ten invocations (of one with a real app). Without `app`, each has an in-process app of its own; with it,
// both forward to the real app at app->port, the null forwarder replaying app->request, and the figures are end to
// end. Returns the bridge's figures, then the null forwarder's.
std::vector<figures> run_in_turns(bench_world& w, const options& o, const scenario& s,
                                  const real_app_context* app = nullptr);

// The null forwarder's variables for `s`: the result `captured` last recorded from the bridge, and the app request
// (from `app`, for a real app, else also from `captured`), each written to a file of the work directory.
void add_null_forwarder_env(bench_world& captured, const options& o, const scenario& s, const real_app_context& app,
                            std::vector<std::string>& env);

// The app request lambda-bridge produces for `s`, captured by the in-process app from a short run of its own (one
// warm-up invocation, then the captured one): a real app's requests cannot be seen from the bench.
std::string capture_app_request(bench_world& w, const options& o, const scenario& s);

// The soak (issue 6): one bridge serves `count` invocations drawn from soak_mix(), and its resident memory and open
// descriptors are sampled 40 times. After the warm-up (the first quarter) both must stay flat: descriptors exactly,
// memory within `rss_slack_kb` (allocator noise). Exit status 1 when they grow, or when any invocation misbehaves.
int run_soak(bench_world& w, const options& o, long count);

startup_figures run_startup(bench_world& w, const options& o, int runs);

}  // namespace bench
