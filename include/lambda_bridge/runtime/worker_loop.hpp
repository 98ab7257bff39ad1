// The invocation loop: one worker per concurrent invocation Lambda allows (AWS_LAMBDA_MAX_CONCURRENCY on Managed
// Instances, else one), each an independent /next → invocation → post loop sharing the app's connection pool,
// never a shared queue. The bridge (bridge.cpp) runs it once the app is ready and awaits it before shutting down.
//
// Workers observe the bridge's one stop signal: one parked in /next leaves at once, one with an invocation in
// flight finishes it first. A Runtime API failure Lambda calls fatal stops the others and ends the loop with it.
#pragma once

#include <exception>

#include "lambda_bridge/app/backend_client.hpp"
#include "lambda_bridge/app/readiness.hpp"
#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/runtime/buffer_budget.hpp"
#include "lambda_bridge/runtime/shutdown.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

class worker_loop {
 public:
  // Everything borrowed must outlive the loop.
  worker_loop(const config& cfg, tcp::endpoint runtime_api, backend_pool& pool, readiness_check& readiness,
              shutdown_signal& stop);

  // Runs the workers until each has ended (after the stop, or at a fatal error, which it rethrows).
  awaitable<void> run();
  // Invocations in flight right now.
  std::size_t in_flight() const { return in_flight_; }

 private:
  awaitable<void> worker();

  const config& cfg_;
  tcp::endpoint runtime_api_;
  backend_pool& pool_;
  readiness_check& readiness_;
  shutdown_signal& stop_;
  task_count workers_;
  std::size_t in_flight_ = 0;
  std::exception_ptr fatal_;
  buffer_budget budget_;  // what all workers together keep of their large buffers between invocations
};

}  // namespace lambda_bridge
