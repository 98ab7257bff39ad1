// Response streaming's pure parts: the prelude the bridge writes (runtime-api.md §2), which events may stream, the
// prelude the emulator reads back, and the AWS event stream framing of InvokeWithResponseStream. The prelude of
// one source (REST, HTTP API and Function URL) is tested with that source, in events/test_*.cpp.
#include <doctest/doctest.h>
#include <zlib.h>

#include <rapidjson/document.h>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/local/stream_relay.hpp"
#include "core_test_support.hpp"

using namespace lambda_bridge;
using test_support::prelude_of;

namespace {

std::uint32_t be32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

std::uint32_t crc(std::string_view s) {
  return static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

}  // namespace

TEST_CASE("only invokers that can stream get a streamed response") {
  CHECK(can_stream(response_shape{event_source::function_url}));
  CHECK(can_stream(response_shape{event_source::http_api_v2}));
  CHECK(can_stream(response_shape{event_source::rest}));
  CHECK_FALSE(can_stream(response_shape{event_source::alb}));
  CHECK_FALSE(can_stream(response_shape{event_source::lattice_v1}));
  CHECK_FALSE(can_stream(response_shape{event_source::lattice_v2}));
  CHECK_FALSE(can_stream(response_shape{event_source::pass_through}));
}

TEST_CASE("control characters in a header value are escaped, so the prelude cannot end early") {
  const auto d = prelude_of(event_source::function_url, {{"X-Odd", std::string("a\x01" "b", 3)}});
  CHECK(std::string(d["headers"]["X-Odd"].GetString()) == std::string("a\x01" "b", 3));
}

TEST_CASE("a prelude over Lambda's 16 KB is refused and nothing is appended") {
  std::string out;
  const backend_reply head{200, "", {{"X-Big", std::string(17 * 1024, 'x')}}, ""};
  const auto err = append_stream_prelude(response_shape{event_source::function_url}, head, out);
  REQUIRE(err);
  CHECK(err->type == error_types::backend_invalid_response);
  CHECK(err->message.find("16384") != std::string::npos);
  CHECK(out.empty());
}

TEST_CASE("the emulator reads a prelude back into status and wire headers") {
  const auto p = parse_stream_prelude(
      R"({"statusCode":302,"headers":{"Location":"/x"},"multiValueHeaders":{"X-M":["1","2"]},"cookies":["a=1"]})");
  REQUIRE(p);
  CHECK(p->status == 302);
  REQUIRE(p->headers.size() == 4);
  CHECK(p->headers[0].name == "Location");
  CHECK(p->headers[2].value == "2");
  CHECK(p->headers[3].name == "Set-Cookie");
  CHECK(p->headers[3].value == "a=1");
  const auto minimal = parse_stream_prelude("{}");
  REQUIRE(minimal);
  CHECK(minimal->status == 200);
}

TEST_CASE("a prelude that is not JSON, has a bad status, or a header unfit for the wire is refused") {
  CHECK_FALSE(parse_stream_prelude("not json"));
  CHECK_FALSE(parse_stream_prelude(R"({"statusCode":"200"})"));
  CHECK_FALSE(parse_stream_prelude(R"({"statusCode":42})"));
  CHECK_FALSE(parse_stream_prelude(R"({"headers":{"X-A":"a\r\nInjected: 1"}})"));
  CHECK_FALSE(parse_stream_prelude(R"({"headers":{"Bad Name":"v"}})"));
  CHECK_FALSE(parse_stream_prelude(R"({"cookies":["a=1\nb"]})"));
  CHECK_FALSE(parse_stream_prelude(R"({"headers":{"X-N":5}})"));
}

TEST_CASE("an event stream message has consistent lengths, both CRCs, three string headers and the payload") {
  std::string out = "x";
  const std::string payload("raw\0bytes", 9);
  append_event_stream_message(out, "PayloadChunk", "application/octet-stream", payload);
  const std::string_view m = std::string_view(out).substr(1);
  const std::uint32_t total = be32(m, 0);
  const std::uint32_t headers_len = be32(m, 4);
  CHECK(total == m.size());
  CHECK(be32(m, 8) == crc(m.substr(0, 8)));
  CHECK(be32(m, total - 4) == crc(m.substr(0, total - 4)));
  CHECK(m.substr(12 + headers_len, payload.size()) == payload);
  CHECK(12 + headers_len + payload.size() + 4 == total);
  const std::string_view headers = m.substr(12, headers_len);
  CHECK(headers.find(":event-type") != std::string_view::npos);
  CHECK(headers.find("PayloadChunk") != std::string_view::npos);
  CHECK(headers.find(":message-type") != std::string_view::npos);
  CHECK(static_cast<unsigned char>(headers[0]) == std::string_view(":event-type").size());
  CHECK(headers[1 + 11] == 7);  // string
}
