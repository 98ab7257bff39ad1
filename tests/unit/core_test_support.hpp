// Shared helpers of the core's event and result tests (test_translate.cpp, test_response.cpp, test_streaming.cpp
// and events/test_*.cpp): a translation that must succeed or fail, a reply builder, a result or stream prelude
// read back as JSON, and the app headers those tests send. Fixture loading and the translate wrapper: support.hpp.
#pragma once

#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <string>
#include <utility>
#include <vector>

#include "lambda_bridge/core/response.hpp"
#include "support.hpp"

namespace test_support {

inline lambda_bridge::translation must_translate(std::string event, lambda_bridge::translate_options opts = {}) {
  auto r = translate(std::move(event), opts);
  if (!r) FAIL("translation failed: " << r.error().type << ": " << r.error().message);
  return std::move(r.value());
}

inline lambda_bridge::failure must_fail(std::string event) {
  auto r = translate(std::move(event));
  if (r) FAIL("translation unexpectedly succeeded: " << r->request.method << " " << r->request.target);
  return r.error();
}

inline lambda_bridge::backend_reply reply(int status, std::vector<lambda_bridge::header> headers,
                                          std::string body) {
  return lambda_bridge::backend_reply{status, "", std::move(headers), std::move(body)};
}

// The buffered result for `source`, parsed; fails the test when conversion fails or the result is not JSON.
inline rapidjson::Document convert(lambda_bridge::event_source source, lambda_bridge::backend_reply r,
                                   bool multi_value = false) {
  std::string out;
  const auto err =
      lambda_bridge::convert_reply(lambda_bridge::response_shape{source, multi_value, false}, r, out, {});
  if (err) FAIL(err->type << ": " << err->message);
  rapidjson::Document d;
  d.Parse(out.c_str(), out.size());
  if (d.HasParseError()) FAIL("result is not JSON: " << out);
  return d;
}

inline std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Writes the prelude and returns its JSON, after checking it ends in exactly the 8 NUL delimiter.
inline rapidjson::Document prelude_of(lambda_bridge::event_source source,
                                      std::vector<lambda_bridge::header> headers, int status = 200) {
  std::string out = "kept";  // appended to, never cleared
  const lambda_bridge::backend_reply head{status, "", std::move(headers), ""};
  const auto err =
      lambda_bridge::append_stream_prelude(lambda_bridge::response_shape{source, false, false, ""}, head, out);
  REQUIRE_FALSE(err);
  REQUIRE(out.starts_with("kept"));
  REQUIRE(out.size() > 12);
  CHECK(out.substr(out.size() - 8) == std::string(8, '\0'));
  const std::string json = out.substr(4, out.size() - 12);
  CHECK(json.find('\0') == std::string::npos);
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// An app's buffered reply headers: repeated names, two cookies and the framing headers a result must drop.
inline const std::vector<lambda_bridge::header> app_headers = {
    {"Content-Type", "application/json"}, {"Set-Cookie", "a=1; Path=/"},
    {"X-Multi", "one"},                   {"Connection", "keep-alive"},
    {"Content-Length", "11"},             {"Set-Cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"},
    {"x-multi", "two"},                   {"Transfer-Encoding", "chunked"},
    {"Keep-Alive", "timeout=5"}};

// An app's streamed reply headers, for the stream preludes: the same kinds, a streamed Content-Type.
inline const std::vector<lambda_bridge::header> stream_app_headers = {
    {"Content-Type", "text/event-stream"}, {"Transfer-Encoding", "chunked"}, {"Connection", "keep-alive"},
    {"Set-Cookie", "a=1"},                 {"X-Multi", "one"},                {"Set-Cookie", "b=2"},
    {"X-Multi", "two"},                    {"Content-Length", "12"}};

}  // namespace test_support
