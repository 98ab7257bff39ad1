// The parsing of the Lambda-Runtime-* headers (protocol.hpp) of a /next answer into an invocation_context. Used by the Runtime API client, the emulator (which sets the same headers) and
// fuzz_runtime_next. Apart from runtime_client.hpp so that its users need Beast's header fields, not all of Asio.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "lambda_bridge/core/invocation_context.hpp"
#include "lambda_bridge/lambda/protocol.hpp"

namespace lambda_bridge {

// Reads the Lambda-Runtime-* headers of a /next answer into `c` one field at a time, as a parser meets them, so the
// Runtime API client needs no fields container (an allocation per header) and `c`'s strings keep their capacity
// from one invocation to the next. Construction clears `c`. When a header is repeated, the first one counts.
class invocation_context_reader {
 public:
  explicit invocation_context_reader(invocation_context& c);
  void field(std::string_view name, std::string_view value);

 private:
  invocation_context& c_;
  std::uint32_t seen_ = 0;
};

// Parses the Lambda-Runtime-* headers of a /next answer. Empty values count as absent; a deadline that is not a
// number is left unset (never asserted on). Pure, for tests.
invocation_context parse_invocation_context(const boost::beast::http::fields& fields);

}  // namespace lambda_bridge
