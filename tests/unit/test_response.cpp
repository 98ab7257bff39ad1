// App reply → Lambda result, the rules every source shares: the text/base64 rule, UTF-8, error statuses, reason
// phrases and the limits. The result shape of each source is in events/test_<source>.cpp.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "core_test_support.hpp"

using namespace lambda_bridge;
using test_support::app_headers;
using test_support::convert;
using test_support::reply;
using test_support::str;

TEST_CASE("a status without a standard reason still gets a statusDescription") {
  auto r = reply(477, {}, "");
  r.reason = "Custom Thing";
  CHECK(str(convert(event_source::alb, r)["statusDescription"]) == "477 Custom Thing");
  CHECK(str(convert(event_source::lattice_v1, reply(477, {}, ""))["statusDescription"]) == "477 Unknown");
}

TEST_CASE("a binary body goes out base64 and round-trips exactly") {
  static constexpr char png_bytes[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe";
  const std::string png(png_bytes, sizeof png_bytes - 1);
  const auto d = convert(event_source::http_api_v2, reply(200, {{"Content-Type", "image/png"}}, png));
  CHECK(d["isBase64Encoded"].GetBool());
  std::string decoded;
  REQUIRE(base64::append_decoded(decoded, str(d["body"])));
  CHECK(decoded == png);
}

TEST_CASE("text or base64 follows the media type, the encoding and the bytes") {
  CHECK(is_text_body("application/json; charset=utf-8", "", R"({"a":"é"})"));
  CHECK(is_text_body("text/html", "identity", "<p>"));
  CHECK(is_text_body("application/vnd.api+json", "", "{}"));
  CHECK(is_text_body("application/problem+XML", "", "<a/>"));
  CHECK(is_text_body("application/x-www-form-urlencoded", "", "a=1"));
  CHECK(is_text_body("", "", "plain utf-8 ✓"));
  CHECK_FALSE(is_text_body("", "", "\xff\xfe"));
  CHECK_FALSE(is_text_body("text/plain", "gzip", "abc"));
  CHECK_FALSE(is_text_body("text/plain", "", "caf\xe9"));  // Latin-1 bytes are not UTF-8
  CHECK_FALSE(is_text_body("image/svg", "", "<svg/>"));
  CHECK_FALSE(is_text_body("application/octet-stream", "", "abc"));
  CHECK_FALSE(is_text_body("application/pdf", "", "%PDF"));
}

TEST_CASE("UTF-8 validation refuses overlongs, surrogates and truncated sequences") {
  CHECK(is_valid_utf8("ascii only, long enough for the fast path"));
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80 emoji"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));
  CHECK_FALSE(is_valid_utf8("abc\xe2\x82"));
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));
}

TEST_CASE("text bodies with quotes, controls and newlines are escaped into valid JSON") {
  const std::string body = "line1\n\"quoted\"\t\\ \x01 end";
  const auto d = convert(event_source::rest, reply(200, {{"Content-Type", "text/plain"}}, body));
  CHECK(str(d["body"]) == body);
}

TEST_CASE("a listed error status fails the invocation and keeps the body in the message") {
  const auto codes = status_set::parse("500-599,404");
  REQUIRE(codes);
  std::string out;
  auto r = reply(503, {}, "database unavailable");
  const auto err = convert_reply(response_shape{event_source::rest}, r, out, {&*codes});
  REQUIRE(err);
  CHECK(err->type == error_types::error_status);
  CHECK(err->message.find("503") != std::string::npos);
  CHECK(err->message.find("database unavailable") != std::string::npos);
  auto ok = reply(200, {}, "fine");
  CHECK_FALSE(convert_reply(response_shape{event_source::rest}, ok, out, {&*codes}));
}

TEST_CASE("a 7 MB result is refused as too large with the sizes in the message") {
  std::string out;
  auto big = reply(200, {{"Content-Type", "text/plain"}}, std::string(7 * 1024 * 1024, 'x'));
  const auto err = convert_reply(response_shape{event_source::http_api_v2}, big, out, {});
  REQUIRE(err);
  CHECK(err->type == error_types::response_too_large);
  CHECK(err->message.find("6291556") != std::string::npos);
  // 4.8 MB of binary is 6.4 MB once base64-encoded: also too large.
  auto binary = reply(200, {{"Content-Type", "application/octet-stream"}}, std::string(4'800'000, '\0'));
  REQUIRE(convert_reply(response_shape{event_source::rest}, binary, out, {}));
  // Just under the limit passes.
  auto fits = reply(200, {{"Content-Type", "text/plain"}}, std::string(6'000'000, 'x'));
  CHECK_FALSE(convert_reply(response_shape{event_source::rest}, fits, out, {}));
  CHECK(out.size() <= max_buffered_result_bytes);
}

TEST_CASE("a reused result buffer holds only the latest result") {
  std::string out;
  auto first = reply(200, {{"X-First", "1"}}, std::string(1000, 'a'));
  REQUIRE_FALSE(convert_reply(response_shape{event_source::rest}, first, out, {}));
  auto second = reply(204, {}, "");
  REQUIRE_FALSE(convert_reply(response_shape{event_source::rest}, second, out, {}));
  CHECK(out == R"({"statusCode":204,"headers":{},"multiValueHeaders":{},"body":"","isBase64Encoded":false})");
}

TEST_CASE("Latin-1 bytes in the app's headers keep the result valid JSON") {
  std::string out;
  auto r = reply(200, {{"Content-Disposition", "attachment; filename=\"caf\xe9.pdf\""}}, "x");
  REQUIRE_FALSE(convert_reply(response_shape{event_source::http_api_v2}, r, out, {}));
  rapidjson::Document d;
  d.Parse(out.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(str(d["headers"]["Content-Disposition"]) == "attachment; filename=\"caf\xc3\xa9.pdf\"");
}

TEST_CASE("an error-status message quoting a binary body is still valid UTF-8") {
  const auto codes = status_set::parse("500");
  std::string out;
  auto r = reply(500, {}, std::string("\xff\xfe boom", 7));
  const auto err = convert_reply(response_shape{event_source::rest}, r, out, {&*codes});
  REQUIRE(err);
  CHECK(is_valid_utf8(err->message));
}

TEST_CASE("UTF-8 validation finds a bad byte at every offset of the 64-, sixteen- and eight-byte fast paths") {
  for (const std::size_t size : {40, 200}) {
    for (std::size_t at = 0; at < size; ++at) {
      std::string s(size, 'a');
      s[at] = '\xff';
      CHECK_FALSE(is_valid_utf8(s));
      std::string ok(size, 'a');
      ok.replace(at, 2, "\xc3\xa9");  // é
      CHECK(is_valid_utf8(ok.substr(0, size)) == (at != size - 1));  // at the end the sequence is cut short
    }
  }
}

TEST_CASE("a Latin-1 reason phrase keeps the statusDescription valid UTF-8 instead of breaking the result") {
  // fuzz_response's find (tests/fuzz/regressions/fuzz_response/alb_reason_latin1): "HTTP/1.1 299 Wh\xc1ccept-..."
  // has no standard reason, so the app's own goes into statusDescription, and its raw \xc1 made the JSON invalid.
  for (const auto source : {event_source::alb, event_source::lattice_v1, event_source::lattice_v2}) {
    auto r = reply(299, {}, "aaaaa Wha!aaaaaaaaaa");
    r.reason = "Wh\xc1" "ccept-Encoding";
    std::string out;
    REQUIRE_FALSE(convert_reply(response_shape{source}, r, out, {}));
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(out.c_str(), out.size());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(str(d["statusDescription"]) == "299 Wh\xc3\x81" "ccept-Encoding");
  }
}

TEST_CASE("connection and framing headers of the app's reply never reach a result, in any source") {
  const std::vector<header> hop_by_hop = {{"Connection", "keep-alive, Upgrade"}, {"Keep-Alive", "timeout=5"},
                                          {"Upgrade", "h2c"},      {"TE", "trailers"},
                                          {"Trailer", "X-T"},      {"Proxy-Connection", "close"},
                                          {"Content-Length", "2"}, {"X-Kept", "yes"}};
  for (const auto source : {event_source::rest, event_source::http_api_v2, event_source::alb}) {
    CAPTURE(to_string(source));
    const auto d = convert(source, reply(200, hop_by_hop, "ok"), source == event_source::rest);
    const auto& headers = d.HasMember("multiValueHeaders") && d["multiValueHeaders"].MemberCount() > 0
                              ? d["multiValueHeaders"]
                              : d["headers"];
    for (const auto& h : hop_by_hop) {
      CHECK(headers.HasMember(h.name.c_str()) == (h.name == "X-Kept"));
    }
  }
}

namespace {

// The invocation's buffered path: the result up to its body, the body appended where it goes, then converted there.
std::optional<failure> convert_in_place(event_source source, const backend_reply& r, std::string& out,
                                        bool multi_value = false) {
  const backend_reply head{r.status, r.reason, r.headers, ""};
  REQUIRE(begin_result(response_shape{source, multi_value, false}, head, out, {}));
  REQUIRE(out.ends_with(R"("body":")"));
  const std::size_t body_start = out.size();
  out.append(r.body);
  return finish_result(head, out, body_start, {});
}

}  // namespace

TEST_CASE("a body converted where it was read gives every source the result convert_reply gives") {
  static constexpr char png[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe";
  const std::vector<backend_reply> replies = {
      reply(200, app_headers, R"({"quote":"\"","newline":"\n","tab":"\t","nul":"\u0000","é":"€"})"),
      reply(200, {{"Content-Type", "text/plain"}}, "ctl \x01\x1f \"q\" \\ end\xc3\xa9"),
      reply(201, {{"Content-Type", "image/png"}}, std::string(png, sizeof png - 1)),
      reply(200, {{"Content-Type", "text/plain"}}, "caf\xe9"),  // a text type, but Latin-1: base64
      reply(200, {{"Content-Type", "text/plain"}, {"Content-Encoding", "gzip"}}, "abc"),
      reply(204, {}, ""),
      reply(200, {}, std::string(100000, 'x') + "\"" + std::string(3, '\0')),
  };
  for (const auto source : {event_source::alb, event_source::lattice_v1, event_source::lattice_v2,
                            event_source::http_api_v2, event_source::function_url, event_source::rest}) {
    for (const bool multi_value : {false, true}) {
      for (const auto& r : replies) {
        backend_reply copy = r;
        std::string expected;
        REQUIRE_FALSE(convert_reply(response_shape{source, multi_value, false}, copy, expected, {}));
        std::string out = "a previous result, cleared first";
        REQUIRE_FALSE(convert_in_place(source, r, out, multi_value));
        CHECK(out == expected);
        rapidjson::Document d;
        d.Parse<rapidjson::kParseValidateEncodingFlag>(out.c_str(), out.size());
        REQUIRE_FALSE(d.HasParseError());
        std::string body = str(d["body"]);
        if (d["isBase64Encoded"].GetBool()) {
          std::string decoded;
          REQUIRE(base64::append_decoded(decoded, body));
          body = decoded;
        }
        CHECK(body == r.body);
      }
    }
  }
}

TEST_CASE("a text body is base64 only when its type is not text or its bytes are not UTF-8") {
  auto is_base64 = [](std::vector<header> headers, std::string body) {
    std::string out;
    REQUIRE_FALSE(convert_in_place(event_source::rest, reply(200, std::move(headers), std::move(body)), out));
    rapidjson::Document d;
    d.Parse(out.c_str(), out.size());
    return d["isBase64Encoded"].GetBool();
  };
  CHECK_FALSE(is_base64({{"Content-Type", "application/json"}}, R"({"a":"é"})"));
  CHECK_FALSE(is_base64({}, "plain utf-8 ✓"));
  CHECK(is_base64({}, "\xff\xfe"));
  CHECK(is_base64({{"Content-Type", "text/plain"}}, "\xed\xa0\x80 a surrogate"));
  CHECK(is_base64({{"Content-Type", "text/plain"}}, std::string(40, 'a') + "\xc0\xaf"));  // overlong, past the blocks
  CHECK(is_base64({{"Content-Type", "text/plain"}}, "\xf8\xa9\xae Latin-1 o-slash, copyright, registered"));
  CHECK(is_base64({{"Content-Type", "text/plain"}}, "a\xf5\x80\x80z"));  // 0xF5-0xFF lead nothing, even with two more
  CHECK(is_base64({{"Content-Type", "application/octet-stream"}}, "abc"));
}

TEST_CASE("a body converted in place over Lambda's limit is refused before it grows, and the result left empty") {
  std::string out;
  // 4.8 MB of binary is 6.4 MB once base64-encoded.
  auto err = convert_in_place(event_source::rest,
                              reply(200, {{"Content-Type", "application/octet-stream"}}, std::string(4'800'000, 'b')),
                              out);
  REQUIRE(err);
  CHECK(err->type == error_types::response_too_large);
  CHECK(err->message.find("body alone") != std::string::npos);
  CHECK(out.empty());
  // 5 MB of text that escaping doubles.
  err = convert_in_place(event_source::rest, reply(200, {{"Content-Type", "text/plain"}}, std::string(5'000'000, '"')),
                         out);
  REQUIRE(err);
  CHECK(err->type == error_types::response_too_large);
  CHECK(out.empty());
  // A body that fits, with headers that push the whole result over.
  std::vector<header> many;
  for (int i = 0; i < 100; ++i) many.push_back({"X-H" + std::to_string(i), std::string(1000, 'v')});
  err = convert_in_place(event_source::rest, reply(200, many, std::string(max_buffered_result_bytes - 50'000, 'x')), out);
  REQUIRE(err);
  CHECK(err->type == error_types::response_too_large);
  CHECK(out.empty());
}

TEST_CASE("the body is read into place only when it is the result's body as it is") {
  const auto codes = status_set::parse("500-599");
  std::string out = "x";
  const backend_reply head{503, "", {}, ""};
  CHECK_FALSE(begin_result(response_shape{event_source::rest}, head, out, {&*codes}));  // the error keeps the body
  CHECK(out.empty());
  CHECK(begin_result(response_shape{event_source::rest}, backend_reply{200, "", {}, ""}, out, {&*codes}));
  CHECK_FALSE(begin_result(response_shape{event_source::pass_through}, head, out, {}));  // the body is the result
  response_options compress;
  compress.compression = true;
  CHECK_FALSE(begin_result(response_shape{event_source::rest}, head, out, compress));  // encoded first
  CHECK(out.empty());
}
