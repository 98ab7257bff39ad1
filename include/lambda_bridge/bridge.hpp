// Top-level wiring of a bridge run on Lambda: the readiness wait, then the invocation loop — a worker that
// long-polls /next, runs one invocation, posts its outcome, and polls again. Workers are independent; one is
// started today (Lambda's one-at-a-time model), and the design lets several run on the same io_context.
#pragma once

#include "lambda_bridge/config.hpp"

namespace lambda_bridge {

// Runs until a fatal Runtime API answer; returns the process exit status.
int run_bridge(const config& cfg);

// Reports an initialisation failure to /runtime/init/error when a Runtime API is configured. Best effort.
void report_init_error(const config& cfg, std::string_view type, std::string_view message);
void report_init_error(const std::optional<host_port>& runtime_api, std::string_view type, std::string_view message);

}  // namespace lambda_bridge
