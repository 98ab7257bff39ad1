// parse_invocation_context on its own: it is pure header parsing, and living apart from the client's coroutines
// lets the fuzz build (tests/fuzz) link it without them.
#include "lambda_bridge/lambda/runtime_headers.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge {

invocation_context_reader::invocation_context_reader(invocation_context& c) : c_(c) {
  // Cleared, not replaced: the strings keep their capacity.
  c_.request_id.clear();
  c_.deadline_ms.reset();
  c_.invoked_function_arn.clear();
  c_.trace_id.clear();
  c_.client_context.clear();
  c_.cognito_identity.clear();
  c_.tenant_id.clear();
  c_.invocation_id.clear();
}

void invocation_context_reader::field(std::string_view name, std::string_view value) {
  // One pass over the fields instead of a lookup per header (each a case-insensitive tree search).
  const std::array<std::pair<std::string_view, std::string*>, 8> wanted{{
      {runtime_header::request_id, &c_.request_id},
      {runtime_header::deadline_ms, nullptr},
      {runtime_header::function_arn, &c_.invoked_function_arn},
      {runtime_header::trace_id, &c_.trace_id},
      {runtime_header::client_context, &c_.client_context},
      {runtime_header::cognito_identity, &c_.cognito_identity},
      {runtime_header::tenant_id, &c_.tenant_id},
      {runtime_header::invocation_id, &c_.invocation_id},
  }};
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if ((seen_ & (1u << i)) != 0 || !text::iequals(name, wanted[i].first)) continue;
    seen_ |= 1u << i;
    if (wanted[i].second != nullptr) {
      wanted[i].second->assign(value);
      return;
    }
    std::int64_t ms = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (!value.empty() && r.ec == std::errc{} && r.ptr == value.data() + value.size() && ms > 0) c_.deadline_ms = ms;
    return;
  }
}

invocation_context parse_invocation_context(const boost::beast::http::fields& f) {
  invocation_context c;
  invocation_context_reader reader(c);
  for (const auto& field : f) {
    reader.field(std::string_view(field.name_string().data(), field.name_string().size()),
                 std::string_view(field.value().data(), field.value().size()));
  }
  return c;
}

}  // namespace lambda_bridge
