#include "lambda_bridge/config/launch.hpp"

#include "lambda_bridge/lambda/protocol.hpp"

namespace lambda_bridge {

std::string launch_problem(const config& cfg, const std::optional<std::string>& extension_name, bool app_given) {
  if (extension_name) {
    const std::string how = "lambda-bridge runs as the Lambda extension '" + *extension_name + "' (" +
                            std::string(env::extension_mode) + " or the directory " + std::string(extensions_dir) + ")";
    if (app_given) {
      return how + " but was given an app command: in extension mode Lambda starts the app as the function's " +
             "runtime (the handler, through AWS_LAMBDA_EXEC_WRAPPER), never the bridge; remove the command, or set " +
             std::string(env::extension_mode) + "=false to have the bridge start it";
    }
    if (cfg.exec_mode) return how + " but " + std::string(env::exec_mode) + " is set; they exclude each other";
    if (cfg.emulator_only) return how + " but " + std::string(env::emulator_only) + " is set; they exclude each other";
    if (!cfg.runtime_api) {
      return how + " but " + std::string(env::runtime_api) + " is not set (Lambda sets it; locally, start " +
             std::string(env::emulator_only) + "=true lambda-bridge and use the address it logs)";
    }
  }
  if (cfg.emulator_only) {
    if (app_given) {
      return std::string(env::emulator_only) + " is set: the emulator starts no app; start the app and its runtime " +
             "separately, or unset it";
    }
    if (cfg.runtime_api) {
      return std::string(env::emulator_only) + " is set: the emulator is the Runtime API itself; unset " +
             std::string(env::runtime_api);
    }
  }
  return {};
}

std::string local_port_conflict(const config& cfg) {
  const auto runtime = cfg.runtime_api_port;
  if (runtime != 0 && (runtime == cfg.emulator.port || (cfg.gateway_port && runtime == *cfg.gateway_port))) {
    return "the emulated Runtime API and another listener of the emulator would both use port " +
           std::to_string(runtime) + ": set " + std::string(env::runtime_api_port) + " to another port";
  }
  const auto app = cfg.backend.port;
  if (!cfg.emulator_only && cfg.emulator.port != 0 && app == cfg.emulator.port) {
    return "the app port and the emulator's invoke API port are both " + std::to_string(app) + ": set " +
           std::string(env::port) + " to the port your app listens on (e.g. 8000), or " +
           std::string(env::emulator_port) + " to another port";
  }
  if (!cfg.emulator_only && cfg.gateway_port && *cfg.gateway_port != 0 && app == *cfg.gateway_port) {
    return "the app port and the gateway emulation port are both " + std::to_string(app) + ": set " +
           std::string(env::gateway_port) + " to another port (or off), or " + std::string(env::port) +
           " to the port your app listens on";
  }
  if (cfg.gateway_port && *cfg.gateway_port != 0 && *cfg.gateway_port == cfg.emulator.port) {
    return "the emulator's invoke API and the gateway emulation would both listen on " +
           std::to_string(cfg.emulator.port) + ": set " + std::string(env::gateway_port) + " to another port";
  }
  return {};
}

}  // namespace lambda_bridge
