// parse_invocation_context (declared in runtime_client.hpp) on its own: it is pure header parsing, and living
// apart from the client's coroutines lets the fuzz build (tests/fuzz) link it without them.
#include <charconv>

#include "lambda_bridge/runtime_client.hpp"

namespace lambda_bridge {
namespace {

std::string field(const http::fields& f, std::string_view name) {
  const auto it = f.find(boost::beast::string_view(name.data(), name.size()));
  if (it == f.end()) return {};
  return std::string(it->value());
}

}  // namespace

invocation_context parse_invocation_context(const http::fields& f) {
  invocation_context c;
  c.request_id = field(f, runtime_header::request_id);
  const std::string deadline = field(f, runtime_header::deadline_ms);
  std::int64_t ms = 0;
  const auto r = std::from_chars(deadline.data(), deadline.data() + deadline.size(), ms);
  if (!deadline.empty() && r.ec == std::errc{} && r.ptr == deadline.data() + deadline.size() && ms > 0) {
    c.deadline_ms = ms;
  }
  c.invoked_function_arn = field(f, runtime_header::function_arn);
  c.trace_id = field(f, runtime_header::trace_id);
  c.client_context = field(f, runtime_header::client_context);
  c.cognito_identity = field(f, runtime_header::cognito_identity);
  c.tenant_id = field(f, runtime_header::tenant_id);
  c.invocation_id = field(f, runtime_header::invocation_id);
  return c;
}

}  // namespace lambda_bridge
