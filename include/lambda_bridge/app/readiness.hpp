// The readiness check before invocations reach the app: probes (an HTTP GET of the readiness path, or a TCP
// connect) until the app answers with a healthy status. Probes back off from 1 ms to 4 ms, so readiness is seen
// within about 5 ms of the app listening at a negligible cost (a refused loopback connect takes microseconds).
// Progress is logged every 2 s; a timeout or the app's exit ends the wait with a failure naming the last probe.
//
// With async init the bridge stops waiting at Lambda's init cut-off and lets the first invocation await the
// same check (wait_ready), so the wait goes on in the background instead of being lost.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

struct probe_result {
  bool healthy = false;
  std::string description;  // "GET / answered HTTP 200", "connect: Connection refused", …
};

awaitable<probe_result> probe_once(const config& cfg, tcp::endpoint endpoint);

class readiness_check {
 public:
  // `abandon` is asked before each probe: a non-empty failure (the app exited, shutdown) ends the wait with it.
  readiness_check(const config& cfg, tcp::endpoint endpoint,
                  std::function<std::optional<failure>()> abandon);

  // Probes until healthy, the timeout, or abandonment. Safe to run once, in the background.
  awaitable<maybe_failure> run();
  // Waits until the check has finished or `until`; true when the app is ready.
  awaitable<bool> wait_ready(steady_time until);

  bool ready() const { return ready_; }
  const std::optional<failure>& failed() const { return failed_; }

 private:
  const config& cfg_;
  tcp::endpoint endpoint_;
  std::function<std::optional<failure>()> abandon_;
  bool ready_ = false;
  std::optional<failure> failed_;
};

}  // namespace lambda_bridge
