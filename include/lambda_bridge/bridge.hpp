// The bridge's life, from start to exit, wiring the components on one io_context:
//   supervisor (the app) · emulator + gateway (local runs only) · internal extension (so Lambda sends SIGTERM)
//   · readiness check · worker (the /next → invocation → post loop) · shutdown.
// Workers are independent; one runs today (Lambda's one-at-a-time model) and several fit on the same io_context.
#pragma once

#include <string>
#include <vector>

#include "lambda_bridge/config.hpp"

namespace lambda_bridge {

// Runs until shutdown; returns the process exit status (the app's, when the bridge started one).
int run_bridge(const config& cfg, const std::vector<std::string>& app_argv);

// Reports an initialisation failure to /runtime/init/error when a Runtime API is configured. Best effort.
void report_init_error(const std::optional<host_port>& runtime_api, std::string_view type, std::string_view message);

// The problem with the ports of a local run, or "" when there is none: the app and the emulator's listeners
// cannot share a port.
std::string local_port_conflict(const config& cfg);

}  // namespace lambda_bridge
