// ALB events and results: mirrors src/core/events/alb.cpp.
#include <doctest/doctest.h>

#include "core_test_support.hpp"

using namespace lambda_bridge;
using namespace test_support;

TEST_CASE("ALB query values are passed as the client encoded them, never encoded twice") {
  const auto t = must_translate(
      R"({"requestContext":{"elb":{"targetGroupArn":"arn"}},"httpMethod":"GET","path":"/",
          "queryStringParameters":{"myKey":"%3FshowAll%3Dtrue","sp":"a b"}})");
  CHECK(t.shape.source == event_source::alb);
  CHECK_FALSE(t.shape.multi_value);
  CHECK(t.request.target == "/?myKey=%3FshowAll%3Dtrue&sp=a%20b");
}

TEST_CASE("ALB multi-value mode is detected from multiValueHeaders") {
  const auto t = must_translate(
      R"({"requestContext":{"elb":{}},"httpMethod":"GET","path":"/","multiValueHeaders":{"accept":["*/*"]}})");
  CHECK(t.shape.multi_value);
}

TEST_CASE("ALB single-value results keep several cookies under case variants of the name") {
  const auto d = convert(event_source::alb, reply(200, app_headers, "hi"));
  CHECK(str(d["statusDescription"]) == "200 OK");
  const auto& h = d["headers"];
  CHECK(str(h["set-cookie"]) == "a=1; Path=/");
  CHECK(str(h["Set-cookie"]) == "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
  CHECK(str(h["X-Multi"]) == "one,two");
  CHECK_FALSE(d.HasMember("multiValueHeaders"));
}

TEST_CASE("ALB multi-value results use multiValueHeaders and an empty body is an empty string") {
  const auto d = convert(event_source::alb, reply(404, {{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}, ""), true);
  CHECK(str(d["statusDescription"]) == "404 Not Found");
  CHECK(d["multiValueHeaders"]["Set-Cookie"].Size() == 2);
  CHECK_FALSE(d.HasMember("headers"));
  REQUIRE(d["body"].IsString());
  CHECK(str(d["body"]).empty());
}

TEST_CASE("an ALB event without X-Forwarded-Proto gets none: its listener may be plain HTTP") {
  const auto t = must_translate(R"({"requestContext":{"elb":{}},"httpMethod":"GET","path":"/"})");
  CHECK(header_values(t.request, "x-forwarded-proto").empty());
}
