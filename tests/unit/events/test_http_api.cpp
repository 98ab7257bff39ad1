// HTTP API v2 and Function URL events, results and stream preludes: mirrors src/core/events/http_api.cpp.
#include <doctest/doctest.h>

#include "core_test_support.hpp"

using namespace lambda_bridge;
using namespace test_support;

TEST_CASE("a decoded HTTP API path with '?' and a space stays one path in the request line") {
  const auto t = must_translate(
      R"({"version":"2.0","rawPath":"/a b?c#d","rawQueryString":"x=1","requestContext":{"http":{"method":"GET"}}})");
  CHECK(t.shape.source == event_source::http_api_v2);
  CHECK(t.request.target == "/a%20b%3Fc%23d?x=1");
}

TEST_CASE("HTTP API rawQueryString is forwarded verbatim and an empty one adds no '?'") {
  auto t = must_translate(
      R"({"version":"2.0","rawPath":"/p","rawQueryString":"b=2&a=%3A&b=1","queryStringParameters":{"a":":","b":"2,1"},
          "requestContext":{"http":{"method":"GET"}}})");
  CHECK(t.request.target == "/p?b=2&a=%3A&b=1");
  t = must_translate(R"({"version":"2.0","rawPath":"/p","rawQueryString":"","requestContext":{"http":{"method":"GET"}}})");
  CHECK(t.request.target == "/p");
}

TEST_CASE("a Function URL is told apart by its domain and keeps the client's encoding") {
  const auto t = must_translate(
      R"({"version":"2.0","rawPath":"/a%2Fb","rawQueryString":"","requestContext":{"domainName":"abc.lambda-url.us-east-1.on.aws","http":{"method":"GET"}}})");
  CHECK(t.shape.source == event_source::function_url);
  CHECK(t.request.target == "/a%2Fb");
  CHECK(header_value(t.request, "host") == "abc.lambda-url.us-east-1.on.aws");
}

TEST_CASE("HTTP API cookies become one Cookie header and headers are never split on commas") {
  const auto t = must_translate(
      R"({"version":"2.0","rawPath":"/","cookies":["a=1","b=2"],"headers":{"cookie":"stale=1","accept":"a, b"},
          "requestContext":{"http":{"method":"GET"}}})");
  CHECK(header_values(t.request, "cookie") == std::vector<std::string>{"a=1; b=2"});
  CHECK(header_values(t.request, "accept") == std::vector<std::string>{"a, b"});
}

TEST_CASE("an HTTP API cookie carrying CR or LF is dropped alone and the other cookies still reach the app") {
  const auto t = must_translate(
      R"({"version":"2.0","rawPath":"/","cookies":["a=1","evil=1\r\nX-Injected: 1","b=2"],
          "requestContext":{"http":{"method":"GET"}}})");
  CHECK(header_values(t.request, "cookie") == std::vector<std::string>{"a=1; b=2"});
  CHECK(header_values(t.request, "x-injected").empty());
  CHECK(t.dropped_headers == std::vector<std::string>{"cookie"});
}

TEST_CASE("the stage option strips an HTTP API named stage but not $default") {
  translate_options opts;
  opts.strip_stage = true;
  CHECK(must_translate(R"({"version":"2.0","rawPath":"/dev/pets","requestContext":{"stage":"dev","http":{"method":"GET"}}})", opts)
            .request.target == "/pets");
  CHECK(must_translate(R"({"version":"2.0","rawPath":"/pets","requestContext":{"stage":"$default","http":{"method":"GET"}}})", opts)
            .request.target == "/pets");
  CHECK(must_translate(R"({"version":"2.0","rawPath":"/dev/pets","requestContext":{"stage":"dev","http":{"method":"GET"}}})")
            .request.target == "/dev/pets");
}

TEST_CASE("HTTP API results join repeated headers and move every Set-Cookie into cookies") {
  for (auto source : {event_source::http_api_v2, event_source::function_url}) {
    const auto d = convert(source, reply(201, app_headers, "{}"));
    CHECK(d["statusCode"].GetInt() == 201);
    const auto& h = d["headers"];
    CHECK(str(h["X-Multi"]) == "one,two");
    CHECK_FALSE(h.HasMember("Set-Cookie"));
    CHECK_FALSE(h.HasMember("Connection"));
    REQUIRE(d["cookies"].Size() == 2);
    CHECK(str(d["cookies"][0]) == "a=1; Path=/");
    CHECK(str(d["cookies"][1]) == "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
  }
}

TEST_CASE("a Function URL prelude carries status, joined headers and every cookie, without framing headers") {
  const auto d = prelude_of(event_source::function_url, stream_app_headers, 201);
  CHECK(d["statusCode"].GetInt() == 201);
  const auto& h = d["headers"];
  CHECK(std::string(h["Content-Type"].GetString()) == "text/event-stream");
  CHECK(std::string(h["X-Multi"].GetString()) == "one,two");
  CHECK_FALSE(h.HasMember("Set-Cookie"));
  CHECK_FALSE(h.HasMember("Transfer-Encoding"));
  CHECK_FALSE(h.HasMember("Connection"));
  CHECK_FALSE(h.HasMember("Content-Length"));
  REQUIRE(d["cookies"].Size() == 2);
  CHECK(std::string(d["cookies"][0].GetString()) == "a=1");
  CHECK(std::string(d["cookies"][1].GetString()) == "b=2");
  CHECK_FALSE(d.HasMember("multiValueHeaders"));
}

TEST_CASE("HTTP API and Function URL events without x-forwarded-proto say https, as both always do") {
  for (const std::string domain : {"abc.execute-api.us-east-1.amazonaws.com", "abc.lambda-url.us-east-1.on.aws"}) {
    CAPTURE(domain);
    const std::string context = R"("requestContext":{"http":{"method":"GET"},"domainName":")" + domain + R"("})";
    auto t = must_translate(R"({"version":"2.0","rawPath":"/",)" + context + "}");
    CHECK(header_values(t.request, "x-forwarded-proto") == std::vector<std::string>{"https"});
    // The event's own value wins, in any case.
    t = must_translate(R"({"version":"2.0","rawPath":"/","headers":{"X-Forwarded-Proto":"http"},)" + context +
                       "}");
    CHECK(header_values(t.request, "x-forwarded-proto") == std::vector<std::string>{"http"});
  }
  CHECK(must_translate(R"({"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"},
                           "domainName":"abc.lambda-url.us-east-1.on.aws"}})")
            .shape.source == event_source::function_url);
}
