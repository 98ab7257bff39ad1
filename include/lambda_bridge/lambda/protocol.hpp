// The Lambda protocols' facts in one place (runtime-api.md): the API paths and header names that the Runtime and
// Extensions API clients send and the local emulator answers, so the two sides cannot drift apart. Lambda's
// payload limits are in core/lambda_limits.hpp, since the translation core enforces them too.
#pragma once

#include <string_view>

#include "lambda_bridge/core/lambda_limits.hpp"

namespace lambda_bridge {

namespace api_path {
inline constexpr std::string_view runtime = "/2018-06-01/runtime/";      // + invocation/next, init/error ...
inline constexpr std::string_view extension = "/2020-01-01/extension/";  // + register, event/next ...
// The Invoke API's, which only the local emulator serves: prefix, function name (or ARN), suffix.
inline constexpr std::string_view invoke_prefix = "/2015-03-31/functions/";
inline constexpr std::string_view invoke_suffix = "/invocations";
inline constexpr std::string_view streaming_invoke_prefix = "/2021-11-15/functions/";
inline constexpr std::string_view streaming_invoke_suffix = "/response-streaming-invocations";
}  // namespace api_path

// Where Lambda looks for external extensions; it runs each executable there by this path.
inline constexpr std::string_view extensions_dir = "/opt/extensions";

// Runtime API header names.
namespace runtime_header {
inline constexpr std::string_view request_id = "Lambda-Runtime-Aws-Request-Id";
inline constexpr std::string_view deadline_ms = "Lambda-Runtime-Deadline-Ms";
inline constexpr std::string_view function_arn = "Lambda-Runtime-Invoked-Function-Arn";
inline constexpr std::string_view trace_id = "Lambda-Runtime-Trace-Id";
inline constexpr std::string_view client_context = "Lambda-Runtime-Client-Context";
inline constexpr std::string_view cognito_identity = "Lambda-Runtime-Cognito-Identity";
inline constexpr std::string_view tenant_id = "Lambda-Runtime-Aws-Tenant-Id";
inline constexpr std::string_view invocation_id = "Lambda-Runtime-Invocation-Id";
inline constexpr std::string_view function_error_type = "Lambda-Runtime-Function-Error-Type";
inline constexpr std::string_view function_error_body = "Lambda-Runtime-Function-Error-Body";
inline constexpr std::string_view response_mode = "Lambda-Runtime-Function-Response-Mode";
}  // namespace runtime_header

// Extensions API header names.
namespace extension_header {
inline constexpr std::string_view name = "Lambda-Extension-Name";
inline constexpr std::string_view identifier = "Lambda-Extension-Identifier";
inline constexpr std::string_view event_identifier = "Lambda-Extension-Event-Identifier";
inline constexpr std::string_view error_type = "Lambda-Extension-Function-Error-Type";
}  // namespace extension_header

}  // namespace lambda_bridge
