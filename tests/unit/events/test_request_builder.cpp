// The checks and the text behind every source's translation (src/core/events/request_builder.cpp): the one-pass
// scan of an event, and event_text, which parses a large body's event without the body. What the sources make of
// the result is tested through translate() in test_translate.cpp; these look at the parts that translate() hides.
#include <doctest/doctest.h>

#include <string>

#include "core_test_support.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/json_text.hpp"
#include "events/request_builder.hpp"

using lambda_bridge::events::event_scan;
using lambda_bridge::events::event_text;
using lambda_bridge::events::json_document;
using lambda_bridge::events::scan_event_text;
using test_support::must_translate;

namespace {

std::string http_event(const std::string& body, const std::string& before = "", const std::string& after = "") {
  return R"({"httpMethod":"POST","path":"/",)" + before + R"("body":")" + body + R"(")" + after + "}";
}

// Parses `event` as translate() does; returns whether it was parsed around its body.
bool parse_like_translate(std::string& event, json_document& doc, std::string& aside) {
  event_text text(event, scan_event_text(event), aside);
  return text.parse(doc);
}

}  // namespace

TEST_CASE("the scan finds the longest plain string, short escapes counted, at any offset") {
  for (std::size_t at = 0; at < 140; ++at) {
    CAPTURE(at);
    std::string body(200, 'a');
    const std::string event = http_event(body, R"("headers":{"x":"0123456789"},)");
    const std::size_t begins = event.find("aaaa");
    event_scan s = scan_event_text(event);
    CHECK(s.plain_string_offset == begins);
    CHECK(s.plain_string_size == 200);
    CHECK(s.plain_string_escapes == 0);
    // A \u escape (RapidJSON's to decode), an invalid escape, a raw control byte (never valid in a JSON string) or a
    // raw NUL at `at` disqualifies the body: the longest plain string is then the header's.
    for (const std::string& bad : {std::string("\\u0041"), std::string("\\x"), std::string("\n"), std::string("\t"),
                                   std::string(1, '\0')}) {
      std::string b = body;
      b.replace(at, bad.size(), bad);
      s = scan_event_text(http_event(b, R"("headers":{"x":"0123456789"},)"));
      CHECK(s.plain_string_size == 10);
    }
    // A short escape does not; each is counted (\\\" is two).
    for (const std::string& escape : {std::string("\\n"), std::string("\\\""), std::string("\\\\\\\"")}) {
      std::string b = body;
      b.replace(at, escape.size(), escape);
      s = scan_event_text(http_event(b, R"("headers":{"x":"0123456789"},)"));
      CHECK(s.plain_string_offset == begins);
      CHECK(s.plain_string_size == 200);
      CHECK(s.plain_string_escapes == escape.size() / 2);
    }
    // Nor does a non-ASCII character.
    std::string b = body;
    b.replace(at, 3, "\xe2\x82\xac");
    s = scan_event_text(http_event(b));
    CHECK(s.plain_string_size == 200);
  }
}

TEST_CASE("an event that is mostly a plain body is parsed without reading the body, and reads as the whole event") {
  std::string aside;
  for (const std::size_t n : {std::size_t{4096}, std::size_t{5000}, std::size_t{300000}}) {
    CAPTURE(n);
    const std::string body(n, 'z');
    // Escapes elsewhere in the event: the bytes stay as they arrived, so the original needs no copy.
    std::string event = http_event(body, R"("headers":{"x-q":"say \"hi\"","x-n":1.50},)", R"(,"isBase64Encoded":false)");
    const std::string arrived = event;
    json_document doc;
    CHECK(parse_like_translate(event, doc, aside));
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(test_support::str(doc["body"]) == body);
    CHECK(test_support::str(doc["headers"]["x-q"]) == "say \"hi\"");
    CHECK(event == arrived);
    CHECK(aside.size() == arrived.size() - n);
    // Through translate(): the same request as from the whole event, the number as it was written.
    const auto t = must_translate(arrived);
    CHECK(t.request.payload() == body);
    CHECK(test_support::header_value(t.request, "x-n") == "1.50");
    CHECK(test_support::header_value(t.request, "x-q") == "say \"hi\"");
    CHECK(test_support::header_value(t.request, "content-length") == std::to_string(n));
  }
}

TEST_CASE("a JSON body is parsed around and decoded apart, to the body the whole parse gives") {
  std::string aside;
  // JSON documents as bodies: every quote escaped, a line feed, a tab, a slash and a backslash among them; with long
  // strings (an escape per 100 bytes or so) and with short ones (one per 5 bytes).
  for (const std::size_t note : {std::size_t{800}, std::size_t{0}}) {
    CAPTURE(note);
    std::string decoded;
    for (int i = 0; decoded.size() < 20000; ++i) {
      decoded += "{\"id\":" + std::to_string(i) + ",\"note\":\"a/b\tc\\\\d\n" + std::string(note, 'n') + "\"},";
    }
    std::string escaped;
    for (const char c : decoded) {
      escaped += c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\t' ? "\\t" : std::string(1, c);
    }
    escaped.replace(escaped.find('/'), 1, "\\/");  // one escaped slash, as some encoders write them
    const std::string event = http_event(escaped, R"("headers":{"content-type":"application/json","x-n":1.50},)",
                                         R"(,"isBase64Encoded":false)");
    std::string parsed = event;
    json_document doc;
    // Dense escapes are left to RapidJSON where they are decoded without vector steps (arm64).
    const bool around = note != 0 || lambda_bridge::json_text::decode_short_escapes_in_steps();
    CHECK(parse_like_translate(parsed, doc, aside) == around);
    if (around) CHECK(parsed == event);  // the bytes as they arrived until finish_body
    const auto t = must_translate(event);
    CHECK(t.request.payload() == decoded);
    CHECK(test_support::header_value(t.request, "content-length") == std::to_string(decoded.size()));
    CHECK(test_support::header_value(t.request, "x-n") == "1.50");
    // The reference: RapidJSON's own parse of the whole text.
    rapidjson::Document whole;
    whole.Parse(event.c_str(), event.size());
    REQUIRE_FALSE(whole.HasParseError());
    CHECK(test_support::str(whole["body"]) == decoded);
  }

  // The text over half the event but the decoded body under half: parsed around, then copied out of the bytes and
  // decoded there.
  std::string quotes;
  for (int i = 0; i < 150; ++i) quotes += std::string(64, 'q') + "\\\"";  // 9900 bytes, 150 escapes
  const std::size_t base = http_event(quotes, R"("headers":{"pad":""},)").size();
  const std::string quotes_event =
      http_event(quotes, R"("headers":{"pad":")" + std::string(19650 - base, 'p') + "\"},");
  REQUIRE(quotes_event.size() == 19650);  // 9900 * 2 >= 19650 > 9750 * 2
  json_document doc;
  std::string parsed = quotes_event;
  CHECK(parse_like_translate(parsed, doc, aside));
  std::string decoded_quotes;
  for (int i = 0; i < 150; ++i) decoded_quotes += std::string(64, 'q') + "\"";
  const auto q = must_translate(quotes_event);
  CHECK(q.request.payload() == decoded_quotes);
  CHECK(test_support::header_value(q.request, "content-length") == "9750");

  // A base64 body with escaped slashes is parsed whole, so that base64 reads the decoded text, as before.
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < 99; ++j) bytes += "abc";
    bytes += "\xff\xff\xff";  // "////"
  }
  std::string b64;
  lambda_bridge::base64::append_encoded(b64, bytes);
  REQUIRE(b64.find('/') != std::string::npos);
  std::string b64_escaped;
  for (const char c : b64) b64_escaped += c == '/' ? std::string("\\/") : std::string(1, c);
  for (const char* flag : {R"(,"isBase64Encoded":true)", R"(,"is_base64_encoded":true)"}) {
    std::string b64_event = http_event(b64_escaped, "", flag);
    CHECK_FALSE(parse_like_translate(b64_event, doc, aside));
  }
  std::string text_event = http_event(b64_escaped);  // the same text, not called base64: parsed around
  CHECK(parse_like_translate(text_event, doc, aside));
  CHECK(must_translate(http_event(b64_escaped, "", R"(,"isBase64Encoded":true)")).request.payload() == bytes);
}

TEST_CASE("an event whose long string is not its body, or is too short, is parsed whole") {
  std::string aside;
  json_document doc;
  // Below 4 KB, or under half the event: the copy would cost more than the parse it saves.
  std::string small = http_event(std::string(4095, 'z'));
  CHECK_FALSE(parse_like_translate(small, doc, aside));
  std::string half = http_event(std::string(5000, 'z'), R"("headers":{"x":")" + std::string(5100, 'h') + R"("},)");
  CHECK_FALSE(parse_like_translate(half, doc, aside));
  // The long string is a header's: parsed again whole, and the header reaches the app whole.
  const std::string header(20000, 'h');
  const std::string in_header = http_event("short", R"("headers":{"x-long":")" + header + R"("},)");
  std::string parsed = in_header;
  CHECK_FALSE(parse_like_translate(parsed, doc, aside));
  CHECK(test_support::header_value(must_translate(in_header).request, "x-long") == header);
  // A "body" nested deeper (an SQS record's): forwarded byte for byte by the pass-through source.
  const std::string sqs = R"({"Records":[{"eventSource":"aws:sqs","body":")" + std::string(20000, 'q') + R"("}]})";
  std::string copy = sqs;
  CHECK_FALSE(parse_like_translate(copy, doc, aside));
  CHECK(must_translate(sqs).request.payload() == sqs);
  // An empty top-level body and a long header: the empty body is not mistaken for the emptied string.
  const auto t = must_translate(R"({"httpMethod":"POST","path":"/","body":"","headers":{"x-long":")" + header + R"("}})");
  CHECK(t.request.payload().empty());
  CHECK(test_support::header_value(t.request, "x-long") == header);
}

TEST_CASE("with two bodies, the first is the one read, whichever is long") {
  const std::string long_body(10000, 'z');
  CHECK(must_translate(R"({"httpMethod":"POST","path":"/","body":"first","body":")" + long_body + R"("})").request.payload() ==
        "first");
  CHECK(must_translate(R"({"httpMethod":"POST","path":"/","body":")" + long_body + R"(","body":"second"})")
            .request.payload() == long_body);
}

TEST_CASE("a custom event with a long top-level body is forwarded exactly as it arrived") {
  const std::string event = R"({"body":")" + std::string(10000, 'c') + R"(","note":"a \"quoted\" word"})";
  std::string aside;
  json_document doc;
  std::string copy = event;
  CHECK(parse_like_translate(copy, doc, aside));
  CHECK(must_translate(event).request.payload() == event);
}

TEST_CASE("an error around a long body is reported where RapidJSON finds it in the whole event") {
  const std::string body(10000, 'z');
  // After the body, before it, and inside it (a raw line feed, never valid in a JSON string).
  const std::string after = http_event(body) + ",";
  const std::string before = R"({"httpMethod":"POST","path":/,"body":")" + body + R"("})";
  std::string inside_body = body;
  inside_body[5000] = '\n';
  const std::string inside = http_event(inside_body);
  for (const std::string& event : {after, before, inside}) {
    rapidjson::Document whole;  // the reference: RapidJSON's own parse of the whole text, not in place
    whole.Parse(event.c_str(), event.size());
    REQUIRE(whole.HasParseError());
    const auto f = test_support::must_fail(event);
    CHECK(f.message == "the event is not valid JSON (error at byte " + std::to_string(whole.GetErrorOffset()) + ")");
  }
  // The offsets are the ones of the mistakes, not of the body's end.
  rapidjson::Document d;
  CHECK(d.Parse(before.c_str()).GetErrorOffset() == before.find("/,"));
  CHECK(d.Parse(inside.c_str()).GetErrorOffset() == inside.find('\n'));
}

TEST_CASE("a long base64 body is decoded from where it lies, with the event parsed around it") {
  std::string bytes;
  for (int i = 0; i < 9000; ++i) bytes.push_back(static_cast<char>(i * 7 + 3));
  std::string enc;
  lambda_bridge::base64::append_encoded(enc, bytes);
  const auto t = must_translate(http_event(enc, R"("isBase64Encoded":true,)", R"(,"headers":{"x-after":"kept"})"));
  CHECK(t.request.payload() == bytes);
  CHECK(test_support::header_value(t.request, "x-after") == "kept");
}
