// Non-HTTP events (SQS, SNS, WebSocket, custom) and their results: mirrors src/core/events/pass_through.cpp.
#include <doctest/doctest.h>

#include "lambda_bridge/core/error_types.hpp"
#include "core_test_support.hpp"

using namespace lambda_bridge;
using namespace test_support;

TEST_CASE("non-HTTP events pass through byte for byte to the pass-through path") {
  const std::string sqs = test_support::fixture("aws__aws-lambda-go/sqs-event.json");
  const auto t = must_translate(sqs);
  CHECK(t.shape.source == event_source::pass_through);
  CHECK(t.request.method == "POST");
  CHECK(t.request.target == "/events");
  CHECK(t.request.payload() == sqs);
  CHECK(header_value(t.request, "content-type") == "application/json");
  CHECK(header_value(t.request, "x-amzn-request-context") == "null");
  translate_options opts;
  opts.pass_through_path = "/jobs";
  CHECK(must_translate(R"([1,2,3])", opts).request.target == "/jobs");
}

TEST_CASE("WebSocket events are forwarded as non-HTTP events") {
  const auto t = must_translate(test_support::fixture("aws__aws-lambda-rust-runtime/example-apigw-websocket-request-without-method.json"));
  CHECK(t.shape.source == event_source::pass_through);
}

TEST_CASE("a custom event may hold anything under requestContext and still passes through") {
  const auto t = must_translate(R"({"requestContext":"abc","domainName":7})");
  CHECK(t.shape.source == event_source::pass_through);
  CHECK(t.request.payload() == R"({"requestContext":"abc","domainName":7})");
}

TEST_CASE("a non-HTTP event's JSON reply is the result byte for byte") {
  std::string out;
  auto r = reply(200, {{"Content-Type", "application/json"}}, R"({"batchItemFailures":[{"itemIdentifier":"x"}]})");
  REQUIRE_FALSE(convert_reply(response_shape{}, r, out, {}));
  CHECK(out == R"({"batchItemFailures":[{"itemIdentifier":"x"}]})");
  auto empty = reply(202, {}, "");
  REQUIRE_FALSE(convert_reply(response_shape{}, empty, out, {}));
  CHECK(out == "null");
  auto text = reply(200, {}, "done \"ok\"");
  REQUIRE_FALSE(convert_reply(response_shape{}, text, out, {}));
  CHECK(out == R"("done \"ok\"")");
  auto binary = reply(200, {}, "\xff\x00");
  const auto err = convert_reply(response_shape{}, binary, out, {});
  REQUIRE(err);
  CHECK(err->type == error_types::backend_invalid_response);
}

TEST_CASE("a non-HTTP event's reply with a NUL after valid JSON is not passed on as JSON") {
  // fuzz_response's find (tests/fuzz/regressions/fuzz_response/pass_through_nul_after_json): RapidJSON stops at a
  // NUL byte, so this body validated as the JSON "5" and went to Lambda raw, NULs and all.
  const std::string body = std::string("5\r\n\r\0\0\0hello\r\n7\r", 16) + std::string(62, '\0') +
                           "\xed\xd3\xdf\x88<I\x8d\x93" "d\r7\r\r\xf6\xa7\xd2\xacraile-: t\r\n\r\n";
  auto r = reply(202, {{"Content-Type", "text/plain; charset=utf-8"}}, body);
  std::string out;
  const auto err = convert_reply(response_shape{}, r, out, {});
  REQUIRE(err);  // neither JSON nor UTF-8 text
  CHECK(err->type == error_types::backend_invalid_response);

  auto text = reply(200, {}, std::string("{}\0tail", 7));
  REQUIRE_FALSE(convert_reply(response_shape{}, text, out, {}));
  CHECK(out == R"("{}\u0000tail")");  // valid UTF-8 text: a JSON string with the NUL escaped
}

TEST_CASE("a non-HTTP event gets no X-Forwarded-Proto") {
  const auto t = must_translate(R"({"Records":[{"eventSource":"aws:sqs","body":"x"}]})");
  CHECK(t.shape.source == event_source::pass_through);
  CHECK(header_values(t.request, "x-forwarded-proto").empty());
}

TEST_CASE("a non-HTTP event parsed in place still passes through byte for byte, escapes or none") {
  // Without a backslash the in-place parse only puts NULs where closing quotes were, and they are put back; with
  // one it moves bytes, and the event is forwarded from a copy taken before.
  std::string long_event = R"({"x":")";
  long_event.append(100000, 'y').append("\"}");
  const std::vector<std::string> events = {R"({"a":"b","c":["d","",{"e":"f"}],"":"","n":1.50,"t":true})",
                                           R"({"Records":[{"body":"{\"order\":42}\n","s":"caf\u00e9 \/ \\"}]})",
                                           long_event};
  for (const std::string& event : events) {
    const auto t = must_translate(event);
    CHECK(t.shape.source == event_source::pass_through);
    CHECK(t.request.payload() == event);
    CHECK(header_value(t.request, "content-length") == std::to_string(event.size()));
  }
}
