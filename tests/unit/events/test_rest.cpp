// API Gateway REST and HTTP API payload 1.0 events, results and preludes: mirrors src/core/events/rest.cpp.
#include <doctest/doctest.h>

#include "core_test_support.hpp"

using namespace lambda_bridge;
using namespace test_support;

TEST_CASE("the hand-written RIE test event is a valid REST event") {
  const auto t = must_translate(R"({"path":"/test1","httpMethod":"GET","requestContext":{},"multiValueQueryStringParameters":{}})");
  CHECK(t.shape.source == event_source::rest);
  CHECK(t.request.method == "GET");
  CHECK(t.request.target == "/test1");
  CHECK(t.request.payload().empty());
  CHECK(header_value(t.request, "content-length") == "0");
  CHECK(header_value(t.request, "host") == "127.0.0.1:8080");
  CHECK(header_value(t.request, "x-amzn-request-context") == "{}");
}

TEST_CASE("a plain string where a multi-value array belongs counts as one value") {
  const auto t = must_translate(
      R"({"path":"/test3","httpMethod":"POST","requestContext":{},"multiValueQueryStringParameters":{"message":"hoge"},
          "multiValueHeaders":{"X-One":"single"}})");
  CHECK(t.request.target == "/test3?message=hoge");
  CHECK(header_values(t.request, "x-one") == std::vector<std::string>{"single"});
}

TEST_CASE("null maps, null body and null requestContext are treated as empty") {
  const auto t = must_translate(
      R"({"httpMethod":"GET","path":"/x","headers":null,"multiValueHeaders":null,"queryStringParameters":null,
          "multiValueQueryStringParameters":null,"pathParameters":null,"body":null,"requestContext":null,
          "isBase64Encoded":null})");
  CHECK(t.request.target == "/x");
  CHECK(t.request.payload().empty());
  CHECK(header_value(t.request, "x-amzn-request-context") == "null");
}

TEST_CASE("REST query keeps event order and repeated keys, and encodes decoded values") {
  const auto t = must_translate(
      R"({"httpMethod":"GET","path":"/q","multiValueQueryStringParameters":{"b":["2","1"],"a":["x y","é&="]},
          "queryStringParameters":{"b":"1","a":"é&="}})");
  CHECK(t.request.target == "/q?b=2&b=1&a=x%20y&a=%C3%A9%26%3D");
}

TEST_CASE("REST falls back to queryStringParameters when the multi-value map is empty") {
  const auto t = must_translate(R"({"httpMethod":"GET","path":"/q","multiValueQueryStringParameters":{},"queryStringParameters":{"k":"v"}})");
  CHECK(t.request.target == "/q?k=v");
}

TEST_CASE("REST multiValueHeaders is the truth and headers only adds missing names") {
  const auto t = must_translate(
      R"({"httpMethod":"GET","path":"/","headers":{"X-A":"2","x-b":"only-single"},"multiValueHeaders":{"x-a":["1","2"]}})");
  CHECK(header_values(t.request, "x-a") == std::vector<std::string>{"1", "2"});
  CHECK(header_values(t.request, "x-b") == std::vector<std::string>{"only-single"});
}

TEST_CASE("REST results carry every header in multiValueHeaders and an empty headers map") {
  const auto d = convert(event_source::rest, reply(200, app_headers, R"({"ok":true})"));
  CHECK(d["statusCode"].GetInt() == 200);
  CHECK(d["headers"].IsObject());
  CHECK(d["headers"].MemberCount() == 0);
  const auto& mv = d["multiValueHeaders"];
  CHECK(mv.MemberCount() == 3);
  CHECK(str(mv["Content-Type"][0]) == "application/json");
  REQUIRE(mv["Set-Cookie"].Size() == 2);
  CHECK(str(mv["Set-Cookie"][1]) == "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
  REQUIRE(mv["X-Multi"].Size() == 2);
  CHECK(str(mv["X-Multi"][1]) == "two");
  CHECK_FALSE(mv.HasMember("Connection"));
  CHECK_FALSE(mv.HasMember("Content-Length"));
  CHECK_FALSE(mv.HasMember("Transfer-Encoding"));
  CHECK_FALSE(mv.HasMember("Keep-Alive"));
  CHECK(str(d["body"]) == R"({"ok":true})");
  CHECK(d["isBase64Encoded"].GetBool() == false);
}

TEST_CASE("a REST prelude puts each header in exactly one map, repeated ones and cookies in multiValueHeaders") {
  const auto d = prelude_of(event_source::rest, stream_app_headers);
  CHECK(std::string(d["headers"]["Content-Type"].GetString()) == "text/event-stream");
  CHECK_FALSE(d["headers"].HasMember("X-Multi"));
  CHECK_FALSE(d["headers"].HasMember("Set-Cookie"));
  const auto& mv = d["multiValueHeaders"];
  REQUIRE(mv["X-Multi"].Size() == 2);
  CHECK(std::string(mv["X-Multi"][1].GetString()) == "two");
  REQUIRE(mv["Set-Cookie"].Size() == 2);
  CHECK_FALSE(mv.HasMember("Content-Type"));
  CHECK_FALSE(d.HasMember("cookies"));
}

TEST_CASE("a REST event without X-Forwarded-Proto says https, as API Gateway always does") {
  auto t = must_translate(R"({"httpMethod":"GET","path":"/","requestContext":{}})");
  CHECK(header_values(t.request, "x-forwarded-proto") == std::vector<std::string>{"https"});
  // The event's own value wins, in either map and any case (sam local sends http).
  t = must_translate(R"({"httpMethod":"GET","path":"/","headers":{"x-forwarded-proto":"http"}})");
  CHECK(header_values(t.request, "x-forwarded-proto") == std::vector<std::string>{"http"});
  t = must_translate(R"({"httpMethod":"GET","path":"/","multiValueHeaders":{"X-FORWARDED-PROTO":["http"]}})");
  CHECK(header_values(t.request, "x-forwarded-proto") == std::vector<std::string>{"http"});
}
