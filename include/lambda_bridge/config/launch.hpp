// Whether a configuration can start at all, checked before anything starts: the mode against the app command and
// the Runtime API, and the ports of a local run. Each answer is the whole message for the user, or "" when fine.
#pragma once

#include <optional>
#include <string>

#include "lambda_bridge/config/config.hpp"

namespace lambda_bridge {

// What is wrong with the way the bridge was started (the mode, the app command, the Runtime API), or "".
std::string launch_problem(const config& cfg, const std::optional<std::string>& extension_name, bool app_given);

// The problem with the ports of a local run, or "" when there is none: the app and the emulator's listeners
// cannot share a port (the app's does not count in emulator-only mode, which has none).
std::string local_port_conflict(const config& cfg);

}  // namespace lambda_bridge
