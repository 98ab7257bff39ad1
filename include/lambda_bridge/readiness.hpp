// The readiness wait before the first /next: probes the app (HTTP GET of the readiness path, or a TCP connect)
// until it answers with a healthy status. Probes back off from 1 ms to 10 ms, so readiness is seen within a few
// milliseconds of the app listening without spinning. Progress is logged every 2 s.
#pragma once

#include <optional>
#include <string>

#include "lambda_bridge/asio.hpp"
#include "lambda_bridge/config.hpp"
#include "lambda_bridge/result.hpp"

namespace lambda_bridge {

struct probe_result {
  bool healthy = false;
  std::string description;  // "HTTP 200", "connection refused", …
};

awaitable<probe_result> probe_once(const config& cfg, tcp::endpoint endpoint);

// Waits until a probe is healthy; fails with Runtime.BackendNotReady, naming the last probe's result, when
// `timeout` passes first.
awaitable<status> wait_until_ready(const config& cfg, tcp::endpoint endpoint,
                                   std::optional<std::chrono::milliseconds> timeout);

}  // namespace lambda_bridge
