// The invocation loop: one worker per concurrent invocation Lambda allows (AWS_LAMBDA_MAX_CONCURRENCY on Managed
// Instances, else one), each an independent /next → invocation → post loop sharing the app's connection pool,
// never a shared queue. The bridge (bridge.cpp) runs it once the app is ready and awaits it before shutting down.
//
// Workers observe the bridge's one stop signal: one parked in /next leaves at once, one with an invocation in
// flight finishes it first. A Runtime API failure Lambda calls fatal stops the others and ends the loop with it.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/app/app_output.hpp"
#include "lambda_bridge/app/backend_client.hpp"
#include "lambda_bridge/app/readiness.hpp"
#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/runtime/buffer_budget.hpp"
#include "lambda_bridge/runtime/shutdown.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

class worker_loop {
 public:
  // Everything borrowed must outlive the loop. `app_log`: the app's output when the bridge tags it, drained by
  // each invocation before its outcome is posted.
  worker_loop(const config& cfg, tcp::endpoint runtime_api, backend_pool& pool, readiness_check& readiness,
              shutdown_signal& stop, app_output* app_log = nullptr);

  // Runs the workers until each has ended (after the stop, or at a fatal error, which it rethrows).
  awaitable<void> run();
  // Invocations in flight right now.
  std::size_t in_flight() const { return in_flight_.size(); }
  // The request id of the invocation in flight when there is exactly one, else "": the app's output can be
  // attributed to an invocation only then.
  std::string_view sole_in_flight() const {
    if (in_flight_.size() != 1) return {};
    return *in_flight_.front();
  }

 private:
  awaitable<void> worker();

  const config& cfg_;
  tcp::endpoint runtime_api_;
  backend_pool& pool_;
  readiness_check& readiness_;
  shutdown_signal& stop_;
  app_output* app_log_;
  task_count workers_;
  std::vector<const std::string*> in_flight_;  // the request ids, each kept by its worker
  std::exception_ptr fatal_;
  buffer_budget budget_;  // what all workers together keep of their large buffers between invocations
};

}  // namespace lambda_bridge
