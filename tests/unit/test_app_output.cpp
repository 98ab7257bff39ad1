// The app's output as the bridge writes it out again (LAMBDA_BRIDGE_APP_LOG=tag): one line at a time, in each log
// format, with and without a request id. The pipes around it are tested through the binary (test_app_log.py).
#include <doctest/doctest.h>

#include <string>

#include "lambda_bridge/app/app_output.hpp"

using namespace lambda_bridge;

namespace {

constexpr std::string_view stamp = "2026-11-23T10:24:28.311Z";

std::string line_out(log_format format, std::string_view line, std::string_view request_id = "rid-1") {
  std::string out;
  append_app_line(out, format, line, request_id, stamp);
  return out;
}

}  // namespace

TEST_CASE("a text line gets the request id in brackets, and goes out as it came without one") {
  CHECK(line_out(log_format::text, "hello") == "[rid-1] hello\n");
  CHECK(line_out(log_format::text, "hello", "") == "hello\n");
  CHECK(line_out(log_format::text, "") == "[rid-1] \n");
}

TEST_CASE("a JSON line is a record with the bridge's keys, the request id and the line as message") {
  CHECK(line_out(log_format::json, "say \"hi\"\t\\") ==
        R"({"timestamp":"2026-11-23T10:24:28.311Z","level":"INFO","requestId":"rid-1","message":"say \"hi\"\t\\"})"
        "\n");
  CHECK(line_out(log_format::json, "no id", "") ==
        R"({"timestamp":"2026-11-23T10:24:28.311Z","level":"INFO","message":"no id"})"
        "\n");
}

TEST_CASE("a line that is a JSON object gets requestId added in either format, first, and keeps the rest") {
  for (const auto format : {log_format::text, log_format::json}) {
    CHECK(line_out(format, R"({"a":1,"b":[2,{"requestId":"nested"}]})") ==
          R"({"requestId":"rid-1","a":1,"b":[2,{"requestId":"nested"}]})"
          "\n");
    CHECK(line_out(format, "  { \"a\" : 1 }  ") == "  {\"requestId\":\"rid-1\", \"a\" : 1 }  \n");
    CHECK(line_out(format, "{}") == "{\"requestId\":\"rid-1\"}\n");
    CHECK(line_out(format, "{ }") == "{\"requestId\":\"rid-1\" }\n");
  }
}

TEST_CASE("a JSON object with its own top-level requestId, or without an id to add, is left as it is") {
  CHECK(line_out(log_format::json, R"({"requestId":"mine","a":1})") == "{\"requestId\":\"mine\",\"a\":1}\n");
  CHECK(line_out(log_format::text, R"({"requestId":"mine"})") == "{\"requestId\":\"mine\"}\n");
  CHECK(line_out(log_format::json, R"({"a":1})", "") == "{\"a\":1}\n");
}

TEST_CASE("what only looks like a JSON object is a plain line") {
  for (const std::string_view line : {"{not json}", "{\"a\":1} trailing", "[1,2]", "{\"a\":1", "{'a': 1}"}) {
    CAPTURE(line);
    CHECK(line_out(log_format::text, line) == "[rid-1] " + std::string(line) + "\n");
    CHECK(line_out(log_format::json, line).find("\"message\":") != std::string::npos);
  }
  const std::string with_nul("{\"a\":1}\0{", 9);
  CHECK(line_out(log_format::text, with_nul) == "[rid-1] " + with_nul + "\n");
}

TEST_CASE("a deeply nested line is checked without recursion") {
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(line_out(log_format::text, deep).rfind("{\"requestId\":\"rid-1\",\"a\":", 0) == 0);
}

TEST_CASE("a JSON record of bytes that are not UTF-8 is still valid JSON") {
  CHECK(line_out(log_format::json, "caf\xc3\xa9 \xff", "") ==
        R"({"timestamp":"2026-11-23T10:24:28.311Z","level":"INFO","message":"caf\u00e9 \ufffd"})"
        "\n");
}

TEST_CASE("the JSON records' timestamp is UTC to the millisecond") {
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795429468311));
  CHECK(timestamp_text(t) == "2026-11-23T10:24:28.311Z");
}
