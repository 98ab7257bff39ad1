// What the Runtime API says about one invocation (the Lambda-Runtime-* headers of /next), as plain data shared by
// the Runtime API client, which fills it, and the translation core, which turns it into context headers; and what
// the function's environment says about the function, which the same headers report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lambda_bridge {

struct invocation_context {
  std::string request_id;
  std::optional<std::int64_t> deadline_ms;  // Unix epoch milliseconds
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;    // JSON text, or empty
  std::string cognito_identity;  // JSON text, or empty
  std::string tenant_id;
  std::string invocation_id;  // echoed back on /response and /error when present
};

// The function's own settings (from its environment), which the x-amzn-lambda-context header reports as env_config.
struct function_environment {
  std::string function_name;
  std::string version;
  std::int64_t memory_mb = 0;
  std::string log_group;
  std::string log_stream;
};

}  // namespace lambda_bridge
