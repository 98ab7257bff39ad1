// lambda-bridge: runs an unmodified web app on AWS Lambda. main only wires: arguments → configuration →
// logging → the bridge. The layers, from the wire inwards:
//   runtime_client (Lambda Runtime API) or emulator (local runs) ─┐
//                                                                  ├─ invocation ── translate / response (pure core)
//   backend_client (the app, over HTTP) ─── supervisor (its process)┘
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/config/help.hpp"
#include "lambda_bridge/config/launch.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/lambda/extensions_api.hpp"
#include "lambda_bridge/runtime/bridge.hpp"
#include "lambda_bridge/util/log.hpp"

namespace {

// Every invocation allocates and frees buffers the size of its event and reply. glibc's defaults hand those back
// to the kernel on free (heap trimmed above 128 KB, blocks over 128 KB mmapped and unmapped), so the next
// invocation page-faults the same memory in again: a 512 KB event cost ~280 faults, 3 ms, 15× the socket floor
// (docs/performance.md). Freed memory is kept for reuse instead, up to 64 MB, which bounds what a burst of large
// events leaves resident; Lambda bills the configured memory, not the resident set.
void keep_freed_memory() {
#ifdef __GLIBC__
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's ceiling for the threshold on 64-bit
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

// A log pipe whose reader has gone (a log shipper that crashed, a `| head` that has read its fill) must
// cost log lines, not the bridge: with SIGPIPE ignored a write to it fails with EPIPE instead of killing the
// process mid-invocation, before the result is posted. Returns the inherited disposition, which exec mode gives
// back to the app; the app the supervisor starts gets every disposition reset to the default instead.
struct sigaction ignore_sigpipe() {
  struct sigaction ignore {};
  struct sigaction inherited {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &inherited);
  return inherited;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lambda_bridge;
  const struct sigaction inherited_sigpipe = ignore_sigpipe();
  std::vector<std::string> app;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (!app.empty() || (a.size() > 0 && a[0] != '-')) {
      app.emplace_back(a);
    } else if (a == "--") {
      for (++i; i < argc; ++i) app.emplace_back(argv[i]);
    } else if (a == "--help" || a == "-h") {
      std::fputs(help_text().data(), stdout);
      return 0;
    } else if (a == "--version") {
      std::puts("lambda-bridge " LAMBDA_BRIDGE_VERSION);
      return 0;
    } else {
      std::fprintf(stderr, "lambda-bridge: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }

  auto read = read_config(process_environment(), process_environment_names());
  log::init(read.value ? read.value->log_fmt : log_format::text, read.value ? read.value->log_lvl : log_level::info);
  for (const auto& w : read.warnings) log::warn("", "{}", w);
  // Lambda runs an external extension by its path in /opt/extensions: that, or the variable, decides the mode.
  const auto extension = extension_name_for(
      argc > 0 ? argv[0] : "", read.value ? read.value->extension_mode
                                          : parse_bool(process_environment()(env::extension_mode).value_or("")));
  if (!read.value) {
    std::string message = "invalid configuration: ";
    for (std::size_t i = 0; i < read.errors.size(); ++i) message += (i ? "; " : "") + read.errors[i];
    log::error("", "{}", message);
    // The Runtime API address may itself be the bad value; report only when it parses.
    report_init_error(parse_host_port(process_environment()(env::runtime_api).value_or("")),
                      error_types::invalid_config, message, extension);
    return 1;
  }
  const config& cfg = *read.value;
  if (const auto problem = launch_problem(cfg, extension, !app.empty()); !problem.empty()) {
    log::error("", "{}", problem);
    report_init_error(cfg.runtime_api, error_types::invalid_config, problem, extension);
    return 2;
  }

  if (cfg.exec_mode) {
    // Outside Lambda (Fargate, Kubernetes) the same image serves directly: become the app.
    if (app.empty()) {
      log::error("", "{} is set but no app command was given", env::exec_mode);
      return 2;
    }
    std::vector<char*> args;
    for (auto& a : app) args.push_back(a.data());
    args.push_back(nullptr);
    // An ignored signal stays ignored across exec: the app must find SIGPIPE as the bridge found it.
    ::sigaction(SIGPIPE, &inherited_sigpipe, nullptr);
    ::execvp(args[0], args.data());
    log::error("", "cannot exec the app '{}': {}", app[0], std::strerror(errno));
    return 127;
  }
  if (!cfg.runtime_api) {
    if (const auto conflict = local_port_conflict(cfg); !conflict.empty()) {
      log::error("", "{}", conflict);
      return 2;
    }
  }
  keep_freed_memory();
  if (cfg.emulator_only) return run_emulator_only(cfg);
  log::info("", "lambda-bridge {} forwarding to {} ({}{})", LAMBDA_BRIDGE_VERSION, cfg.backend.to_string(),
            cfg.runtime_api ? "Runtime API " + cfg.invocation_api()->to_string() : std::string("local emulation"),
            extension ? ", as the Lambda extension '" + *extension + "'" : std::string());
  return run_bridge(cfg, app, extension);
}
