// lambda-bridge: runs an unmodified web app on AWS Lambda. main only wires: arguments → configuration →
// logging → the bridge. The layers, from the wire inwards:
//   runtime_client (Lambda Runtime API)  ─┐
//                                          ├─ invocation ── translate / response (pure event ⇄ HTTP core)
//   backend_client (the app, over HTTP)  ─┘
#include <cstdio>
#include <cstring>

#include "lambda_bridge/bridge.hpp"
#include "lambda_bridge/config.hpp"
#include "lambda_bridge/error_types.hpp"
#include "lambda_bridge/help.hpp"
#include "lambda_bridge/log.hpp"

int main(int argc, char** argv) {
  using namespace lambda_bridge;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(help_text().data(), stdout);
      return 0;
    }
    if (std::strcmp(argv[i], "--version") == 0) {
      std::puts("lambda-bridge " LAMBDA_BRIDGE_VERSION);
      return 0;
    }
    std::fprintf(stderr, "lambda-bridge: unknown argument '%s' (see --help)\n", argv[i]);
    return 2;
  }

  auto read = read_config(process_environment());
  log::init(read.value ? read.value->log_fmt : log_format::text, read.value ? read.value->log_lvl : log_level::info);
  for (const auto& w : read.warnings) log::warn("", "{}", w);
  if (!read.value) {
    std::string message = "invalid configuration: ";
    for (std::size_t i = 0; i < read.errors.size(); ++i) message += (i ? "; " : "") + read.errors[i];
    log::error("", "{}", message);
    // The Runtime API address may itself be the bad value; report only when it parses.
    report_init_error(parse_host_port(process_environment()(env::runtime_api).value_or("")),
                      error_types::invalid_config, message);
    return 1;
  }
  const config& cfg = *read.value;
  if (!cfg.runtime_api) {
    log::error("", "{} is not set: lambda-bridge serves invocations from the Lambda Runtime API", env::runtime_api);
    return 2;
  }
  log::info("", "lambda-bridge {} forwarding to {} (Runtime API {})", LAMBDA_BRIDGE_VERSION, cfg.backend.to_string(),
            cfg.invocation_api()->to_string());
  return run_bridge(cfg);
}
