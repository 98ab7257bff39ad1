// parse_invocation_context on its own: it is pure header parsing, and living apart from the client's coroutines
// lets the fuzz build (tests/fuzz) link it without them.
#include "lambda_bridge/lambda/runtime_headers.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge {

invocation_context parse_invocation_context(const boost::beast::http::fields& f) {
  invocation_context c;
  std::string deadline;
  // One pass over the fields instead of a lookup per header (each a case-insensitive tree search). When a header
  // is repeated, the first one counts, as a lookup would have found it.
  const std::array<std::pair<std::string_view, std::string*>, 8> wanted{{
      {runtime_header::request_id, &c.request_id},
      {runtime_header::deadline_ms, &deadline},
      {runtime_header::function_arn, &c.invoked_function_arn},
      {runtime_header::trace_id, &c.trace_id},
      {runtime_header::client_context, &c.client_context},
      {runtime_header::cognito_identity, &c.cognito_identity},
      {runtime_header::tenant_id, &c.tenant_id},
      {runtime_header::invocation_id, &c.invocation_id},
  }};
  std::uint32_t seen = 0;
  for (const auto& field : f) {
    const std::string_view name(field.name_string().data(), field.name_string().size());
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if ((seen & (1u << i)) == 0 && text::iequals(name, wanted[i].first)) {
        seen |= 1u << i;
        wanted[i].second->assign(field.value().data(), field.value().size());
        break;
      }
    }
  }
  std::int64_t ms = 0;
  const auto r = std::from_chars(deadline.data(), deadline.data() + deadline.size(), ms);
  if (!deadline.empty() && r.ec == std::errc{} && r.ptr == deadline.data() + deadline.size() && ms > 0) {
    c.deadline_ms = ms;
  }
  return c;
}

}  // namespace lambda_bridge
