// The Runtime API's header names, and the parsing of the Lambda-Runtime-* headers of a /next answer into an
// invocation_context. Used by the Runtime API client, the emulator (which sets the same headers) and
// fuzz_runtime_next. Apart from runtime_client.hpp so that its users need Beast's header fields, not all of Asio.
#pragma once

#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "lambda_bridge/core/invocation_context.hpp"

namespace lambda_bridge {

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

// Parses the Lambda-Runtime-* headers of a /next answer. Empty values count as absent; a deadline that is not a
// number is left unset (never asserted on). Pure, for tests.
invocation_context parse_invocation_context(const boost::beast::http::fields& fields);

}  // namespace lambda_bridge
