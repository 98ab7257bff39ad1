// The bridge's life, from start to exit, wiring the components on one io_context:
//   supervisor (the app) · emulator + gateway (local runs only) · internal extension (so Lambda sends SIGTERM)
//   · readiness check · worker (the /next → invocation → post loop) · shutdown.
// Workers are independent; one runs today (Lambda's one-at-a-time model) and several fit on the same io_context.
// In extension mode (docs/extension-mode.md) the bridge is a Lambda external extension instead: no app to start,
// no internal extension, but a registration for SHUTDOWN that ends the worker loop. Emulator-only mode runs the
// local emulator alone, for runtimes and extensions started as other processes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lambda_bridge/config/config.hpp"

namespace lambda_bridge {

// Runs until shutdown; returns the process exit status (the app's, when the bridge started one). With an
// extension name the bridge runs as that Lambda external extension (app_argv is then empty).
int run_bridge(const config& cfg, const std::vector<std::string>& app_argv,
               const std::optional<std::string>& extension_name = std::nullopt);

// LAMBDA_BRIDGE_EMULATOR_ONLY: serves the invoke API and the emulated Runtime and Extensions API until SIGTERM
// or SIGINT; returns the exit status.
int run_emulator_only(const config& cfg);

// Reports an initialisation failure when a Runtime API is configured, best effort: to /runtime/init/error, or,
// for an extension, by registering and posting /extension/init/error (so Lambda names the extension).
void report_init_error(const std::optional<host_port>& runtime_api, std::string_view type, std::string_view message,
                       const std::optional<std::string>& extension_name = std::nullopt);

}  // namespace lambda_bridge
