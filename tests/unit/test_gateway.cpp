// Gateway emulation: a plain HTTP request becomes the event each gateway would send, the event goes through the
// real translation, and a result becomes the reply the gateway would send.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "lambda_bridge/config/launch.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/local/gateway.hpp"
#include "support.hpp"

using namespace lambda_bridge;

namespace {

gateway_request sample_request() {
  gateway_request r;
  r.method = "POST";
  r.target = "/a%20b/c?x=1&x=2&y=%3A";
  r.headers = {{"Host", "localhost:9001"}, {"Cookie", "a=1; b=2"}, {"X-Multi", "1"}, {"x-multi", "2"},
               {"Content-Type", "application/json"}};
  r.body = R"({"k":"v"})";
  r.source_ip = "127.0.0.1";
  return r;
}

// The event a gateway makes is translated back into (nearly) the request the client sent.
translation round_trip(gateway_format f, const gateway_request& r) {
  const std::string event = make_gateway_event(f, r, {"req-1", 1700000000000});
  auto t = test_support::translate(event);
  if (!t) FAIL(t.error().message << "\n" << event);
  return std::move(t.value());
}

}  // namespace

TEST_CASE("an HTTP API event made from a request translates back to the same request") {
  const auto t = round_trip(gateway_format::http_api, sample_request());
  CHECK(t.shape.source == event_source::http_api_v2);
  CHECK(t.request.method == "POST");
  CHECK(t.request.target == "/a%20b/c?x=1&x=2&y=%3A");
  CHECK(test_support::header_values(t.request, "cookie") == std::vector<std::string>{"a=1; b=2"});
  CHECK(test_support::header_values(t.request, "x-multi") == std::vector<std::string>{"1,2"});
  CHECK(t.request.payload() == R"({"k":"v"})");
}

TEST_CASE("a REST event made from a request keeps repeated query keys and headers") {
  const auto t = round_trip(gateway_format::rest, sample_request());
  CHECK(t.shape.source == event_source::rest);
  CHECK(t.request.target == "/a%20b/c?x=1&x=2&y=%3A");
  CHECK(test_support::header_values(t.request, "x-multi") == std::vector<std::string>{"1", "2"});
}

TEST_CASE("an ALB event made from a request passes the query as the client encoded it") {
  const auto t = round_trip(gateway_format::alb, sample_request());
  CHECK(t.shape.source == event_source::alb);
  CHECK_FALSE(t.shape.multi_value);
  CHECK(t.request.target == "/a%20b/c?x=2&y=%3A");  // single-value mode keeps the last value, as ALB does
}

TEST_CASE("a Function URL event made from a request is detected as one") {
  const auto t = round_trip(gateway_format::function_url, sample_request());
  CHECK(t.shape.source == event_source::function_url);
  CHECK(t.request.target == "/a%20b/c?x=1&x=2&y=%3A");
}

TEST_CASE("a binary request body travels base64 and arrives byte-exact") {
  auto r = sample_request();
  r.headers = {{"Content-Type", "application/octet-stream"}};
  r.body = std::string("\x00\xff\x10", 3);
  CHECK(round_trip(gateway_format::http_api, r).request.payload() == r.body);
  CHECK(round_trip(gateway_format::rest, r).request.payload() == r.body);
}

TEST_CASE("the gateway reply carries the result's status, headers, every cookie and the decoded body") {
  for (auto f : {gateway_format::http_api, gateway_format::function_url, gateway_format::rest, gateway_format::alb}) {
    CAPTURE(to_string(f));
    const event_source source = f == gateway_format::rest ? event_source::rest
                                : f == gateway_format::alb ? event_source::alb
                                                           : event_source::http_api_v2;
    backend_reply app{201, "Created", {{"Content-Type", "image/png"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}, {"X-A", "v"}},
                      std::string("\x89PNG\x00\x01", 6)};
    invoke_result result;
    REQUIRE_FALSE(convert_reply(response_shape{source, false, false}, app, result.body, {}));
    const auto reply = make_gateway_reply(f, result);
    CHECK(reply.status == 201);
    CHECK(reply.body == std::string("\x89PNG\x00\x01", 6));
    int cookies = 0;
    for (const auto& h : reply.headers) cookies += test_support::header_value(backend_request{"", "", {h}, ""}, "set-cookie").empty() ? 0 : 1;
    CHECK(cookies == 2);
  }
}

TEST_CASE("function errors and timeouts become the gateway's own error replies") {
  invoke_result error{200, true, "application/json", R"({"errorType":"Runtime.BackendUnreachable","errorMessage":"x"})"};
  CHECK(make_gateway_reply(gateway_format::http_api, error).status == 502);
  invoke_result slow{200, true, "application/json", R"({"errorType":"Runtime.BackendTimeout","errorMessage":"x"})"};
  CHECK(make_gateway_reply(gateway_format::http_api, slow).status == 504);
  invoke_result timeout{200, true, "application/json", R"({"errorType":"Sandbox.Timedout","errorMessage":"x"})"};
  CHECK(make_gateway_reply(gateway_format::rest, timeout).status == 504);
  invoke_result bare{200, false, "application/json", R"({"just":"json"})"};
  const auto v2 = make_gateway_reply(gateway_format::http_api, bare);
  CHECK(v2.status == 200);
  CHECK(v2.body == R"({"just":"json"})");
  CHECK(make_gateway_reply(gateway_format::rest, bare).status == 502);
}

TEST_CASE("percent-decoding leaves malformed escapes alone") {
  CHECK(percent_decode("/a%20b%2Fc%zz%4") == "/a b/c%zz%4");
}

TEST_CASE("the app and the emulator's listeners may not share a port, and the message names what to change") {
  config c;
  CHECK(local_port_conflict(c) == "the app port and the emulator's invoke API port are both 8080: set AWS_LWA_PORT "
                                  "to the port your app listens on (e.g. 8000), or LAMBDA_BRIDGE_EMULATOR_PORT to another port");
  c.backend.port = 8000;
  CHECK(local_port_conflict(c).empty());
  c.backend.port = 8081;
  CHECK(local_port_conflict(c).find("LAMBDA_BRIDGE_GATEWAY_PORT") != std::string::npos);
  c.gateway_port.reset();
  CHECK(local_port_conflict(c).empty());
  c.emulator.port = 0;
  c.backend.port = 0;
  CHECK(local_port_conflict(c).empty());
}
