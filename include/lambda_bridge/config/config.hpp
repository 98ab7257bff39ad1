// Every setting of the bridge, read once at start-up from the environment into one struct. The reader takes a
// lookup function, so tests never touch the real environment. The variable names, defaults and meanings are
// documented in docs/configuration.md; a set but unusable value is an error that names the variable, the value
// and what is accepted (aws-lambda-web-adapter silently falls back instead — the fault this avoids).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/core/gateway_events.hpp"
#include "lambda_bridge/core/invocation_context.hpp"
#include "lambda_bridge/core/lambda_limits.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/util/log_options.hpp"
#include "lambda_bridge/util/status_set.hpp"

namespace lambda_bridge {

namespace env {
// Set by Lambda.
inline constexpr std::string_view runtime_api = "AWS_LAMBDA_RUNTIME_API";
inline constexpr std::string_view function_name = "AWS_LAMBDA_FUNCTION_NAME";
inline constexpr std::string_view function_version = "AWS_LAMBDA_FUNCTION_VERSION";
inline constexpr std::string_view function_memory_size = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
inline constexpr std::string_view log_group_name = "AWS_LAMBDA_LOG_GROUP_NAME";
inline constexpr std::string_view log_stream_name = "AWS_LAMBDA_LOG_STREAM_NAME";
inline constexpr std::string_view log_format = "AWS_LAMBDA_LOG_FORMAT";
inline constexpr std::string_view log_level = "AWS_LAMBDA_LOG_LEVEL";
inline constexpr std::string_view max_concurrency = "AWS_LAMBDA_MAX_CONCURRENCY";
// aws-lambda-web-adapter's names, honoured unchanged.
inline constexpr std::string_view port = "AWS_LWA_PORT";
inline constexpr std::string_view port_fallback = "PORT";
inline constexpr std::string_view host = "AWS_LWA_HOST";
inline constexpr std::string_view host_deprecated = "HOST";
inline constexpr std::string_view readiness_port = "AWS_LWA_READINESS_CHECK_PORT";
inline constexpr std::string_view readiness_path = "AWS_LWA_READINESS_CHECK_PATH";
inline constexpr std::string_view readiness_protocol = "AWS_LWA_READINESS_CHECK_PROTOCOL";
inline constexpr std::string_view readiness_healthy_status = "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS";
inline constexpr std::string_view readiness_timeout = "AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS";
inline constexpr std::string_view remove_base_path = "AWS_LWA_REMOVE_BASE_PATH";
inline constexpr std::string_view pass_through_path = "AWS_LWA_PASS_THROUGH_PATH";
inline constexpr std::string_view invoke_mode = "AWS_LWA_INVOKE_MODE";
inline constexpr std::string_view enable_compression = "AWS_LWA_ENABLE_COMPRESSION";
inline constexpr std::string_view error_status_codes = "AWS_LWA_ERROR_STATUS_CODES";
inline constexpr std::string_view authorization_source = "AWS_LWA_AUTHORIZATION_SOURCE";
inline constexpr std::string_view pool_idle_timeout = "AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS";
inline constexpr std::string_view runtime_api_proxy = "AWS_LWA_LAMBDA_RUNTIME_API_PROXY";
// The bridge's own settings.
inline constexpr std::string_view strip_stage = "LAMBDA_BRIDGE_STRIP_STAGE";
inline constexpr std::string_view max_event_bytes = "LAMBDA_BRIDGE_MAX_EVENT_BYTES";
inline constexpr std::string_view deadline_reserve_ms = "LAMBDA_BRIDGE_DEADLINE_RESERVE_MS";
inline constexpr std::string_view emulator_host = "LAMBDA_BRIDGE_EMULATOR_HOST";
inline constexpr std::string_view emulator_port = "LAMBDA_BRIDGE_EMULATOR_PORT";
inline constexpr std::string_view gateway_port = "LAMBDA_BRIDGE_GATEWAY_PORT";
inline constexpr std::string_view gateway_format = "LAMBDA_BRIDGE_GATEWAY_FORMAT";
inline constexpr std::string_view shutdown_grace_ms = "LAMBDA_BRIDGE_SHUTDOWN_GRACE_MS";
inline constexpr std::string_view exec_mode = "LAMBDA_BRIDGE_EXEC";
inline constexpr std::string_view extension_mode = "LAMBDA_BRIDGE_EXTENSION_MODE";
inline constexpr std::string_view emulator_only = "LAMBDA_BRIDGE_EMULATOR_ONLY";
inline constexpr std::string_view runtime_api_port = "LAMBDA_BRIDGE_RUNTIME_API_PORT";
inline constexpr std::string_view app_log = "LAMBDA_BRIDGE_APP_LOG";
inline constexpr std::string_view async_init = "AWS_LWA_ASYNC_INIT";
inline constexpr std::string_view function_timeout = "AWS_LAMBDA_FUNCTION_TIMEOUT";
// aws-lambda-web-adapter's older names, which its 1.0 still reads (deprecated there): each is read when its
// AWS_LWA_ name is unset, with a warning naming the new one.
inline constexpr std::string_view readiness_port_deprecated = "READINESS_CHECK_PORT";
inline constexpr std::string_view readiness_path_deprecated = "READINESS_CHECK_PATH";
inline constexpr std::string_view readiness_protocol_deprecated = "READINESS_CHECK_PROTOCOL";
inline constexpr std::string_view remove_base_path_deprecated = "REMOVE_BASE_PATH";
inline constexpr std::string_view async_init_deprecated = "ASYNC_INIT";
// The lowest unhealthy status N, read as AWS_LWA_READINESS_CHECK_HEALTHY_STATUS=100-(N-1) when that is unset.
inline constexpr std::string_view readiness_min_unhealthy_deprecated =
    "AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS";

// A name and the older one read in its place when it is unset.
struct fallback_name {
  std::string_view name;
  std::string_view older;
  bool deprecated;  // PORT is a lasting fallback of AWS_LWA_PORT, not a deprecated name
};
inline constexpr fallback_name fallbacks[] = {
    {port, port_fallback, false},
    {host, host_deprecated, true},
    {readiness_port, readiness_port_deprecated, true},
    {readiness_path, readiness_path_deprecated, true},
    {readiness_protocol, readiness_protocol_deprecated, true},
    {remove_base_path, remove_base_path_deprecated, true},
    {async_init, async_init_deprecated, true},
};

// Every name above: a set AWS_LWA_* or LAMBDA_BRIDGE_* variable outside this list is reported with the nearest
// name in it (a typo such as AWS_LWA_REMOVE_BASEPATH would otherwise be ignored without a word).
inline constexpr std::string_view known_names[] = {
    runtime_api,
    function_name,
    function_version,
    function_memory_size,
    log_group_name,
    log_stream_name,
    log_format,
    log_level,
    max_concurrency,
    port,
    port_fallback,
    host,
    host_deprecated,
    readiness_port,
    readiness_path,
    readiness_protocol,
    readiness_healthy_status,
    readiness_timeout,
    remove_base_path,
    pass_through_path,
    invoke_mode,
    enable_compression,
    error_status_codes,
    authorization_source,
    pool_idle_timeout,
    runtime_api_proxy,
    strip_stage,
    max_event_bytes,
    deadline_reserve_ms,
    emulator_host,
    emulator_port,
    gateway_port,
    gateway_format,
    shutdown_grace_ms,
    exec_mode,
    extension_mode,
    emulator_only,
    runtime_api_port,
    async_init,
    function_timeout,
    app_log,
    readiness_port_deprecated,
    readiness_path_deprecated,
    readiness_protocol_deprecated,
    remove_base_path_deprecated,
    async_init_deprecated,
    readiness_min_unhealthy_deprecated,
};
}  // namespace env

enum class readiness_protocol { http, tcp };

// What becomes of the output of the app the bridge starts (LAMBDA_BRIDGE_APP_LOG): written by the app straight to
// the bridge's stdout and stderr, or read by the bridge and written out again line by line with the request id.
enum class app_log_mode { inherit, tag };

// A host:port pair as given; `host` is a name or a numeric address.
struct host_port {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};


struct config {
  std::optional<host_port> runtime_api;  // absent outside Lambda
  std::optional<host_port> runtime_api_proxy;

  host_port backend{"127.0.0.1", 8080};

  std::uint16_t readiness_port = 8080;
  std::string readiness_path = "/";
  readiness_protocol readiness = readiness_protocol::http;
  status_set readiness_healthy = *status_set::parse("100-499");
  std::optional<std::chrono::milliseconds> readiness_timeout;

  std::string remove_base_path;
  bool strip_stage = false;
  std::string pass_through_path = "/events";
  std::optional<status_set> error_status_codes;
  bool compression = false;
  // AWS_LWA_INVOKE_MODE=response_stream: replies to events whose invoker can stream go out as they arrive.
  bool response_stream = false;
  std::string authorization_source;
  std::chrono::milliseconds pool_idle_timeout{4000};
  std::size_t max_event_bytes = default_max_event_bytes;
  // Time kept back from the invocation deadline so a slow backend is reported as Runtime.BackendTimeout before
  // Lambda's own timeout ends the invocation with a generic message.
  std::chrono::milliseconds deadline_reserve{50};

  // Concurrent invocations (Lambda Managed Instances); each has its own /next loop.
  std::size_t max_concurrency = 1;
  bool async_init = false;
  // Lambda's 10 s init window, less a margin: past it an async-init bridge polls /next and lets the first
  // invocation finish the wait.
  std::chrono::milliseconds async_init_cutoff{9800};
  std::chrono::milliseconds shutdown_grace{400};
  bool exec_mode = false;
  // Run as a Lambda external extension: true/false force it, unset decides by the executable's directory
  // (see extension_name_for in extensions_api.hpp).
  std::optional<bool> extension_mode;

  // Local emulation (no AWS_LAMBDA_RUNTIME_API).
  host_port emulator{"0.0.0.0", 8080};
  std::optional<std::uint16_t> gateway_port = 8081;  // nullopt: off; 0: any free port
  gateway_format gateway = gateway_format::http_api;
  std::chrono::milliseconds function_timeout{300'000};
  // Only the emulator, no worker and no app: a local Lambda for runtimes and extensions started separately.
  bool emulator_only = false;
  // Port of the emulated Runtime and Extensions API on 127.0.0.1: 0 picks a free one; 9001 (as AWS's emulator)
  // by default in emulator-only mode, where other processes must find it.
  std::uint16_t runtime_api_port = 0;

  log_format log_fmt = log_format::text;
  log_level log_lvl = log_level::info;
  app_log_mode app_log = app_log_mode::inherit;

  function_environment function;

  // Where invocation traffic goes: the proxy when one is configured, else the Runtime API itself.
  const std::optional<host_port>& invocation_api() const { return runtime_api_proxy ? runtime_api_proxy : runtime_api; }
};

using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

struct config_result {
  std::optional<config> value;
  std::vector<std::string> errors;    // each names the variable, the value and what is accepted
  std::vector<std::string> warnings;  // deprecated names in use, unknown AWS_LWA_* and LAMBDA_BRIDGE_* names
};

// Reads every setting through `lookup`. `set_names` are the names the environment holds
// (process_environment_names), checked for AWS_LWA_* and LAMBDA_BRIDGE_* names the bridge does not know; empty
// skips that check.
config_result read_config(const env_lookup& lookup, std::span<const std::string> set_names = {});

// The process environment as an env_lookup, and the names of its variables.
env_lookup process_environment();
std::vector<std::string> process_environment_names();

// Parsers shared with tests; each returns nullopt on anything it cannot read.
std::optional<bool> parse_bool(std::string_view text);
std::optional<host_port> parse_host_port(std::string_view text);
std::optional<gateway_format> parse_gateway_format(std::string_view text);

}  // namespace lambda_bridge
