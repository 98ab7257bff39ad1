// The JSON writer: nesting, separators, and string escaping at every offset of its fast path.
#include <doctest/doctest.h>

#include "lambda_bridge/util/json_writer.hpp"

using namespace lambda_bridge;

TEST_CASE("the JSON writer nests, separates and escapes") {
  std::string out;
  json_writer w(out);
  w.begin_object().key("a").begin_array().integer(-1).boolean(true).null().string("x\"\n\x1f").end_array();
  w.key("b").begin_object().end_object().key("c").base64_string("hi").key("d").raw("[1]").end_object();
  CHECK(out == R"({"a":[-1,true,null,"x\"\n\u001f"],"b":{},"c":"aGk=","d":[1]})");
}

TEST_CASE("JSON string escaping is the same at every offset of the eight-byte fast path") {
  // Reference: byte by byte, as RFC 8259 requires (control bytes, quote and backslash escaped).
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c == '\b') out += "\\b";
      else if (c == '\f') out += "\\f";
      else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else out += static_cast<char>(c);
    }
    return out + "\"";
  };
  for (int special : {0x00, 0x01, 0x1f, 0x22, 0x5c, 0x0a, 0x20, 0x7f, 0x80, 0xff}) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string s(24, 'a');
      s[at] = static_cast<char>(special);
      std::string out;
      append_json_string(out, s);
      CHECK(out == reference(s));
    }
  }
}

TEST_CASE("ASCII-only JSON strings escape every non-ASCII code point and nothing else changes") {
  auto ascii = [](std::string_view s) {
    std::string out;
    append_json_string_ascii(out, s);
    return out;
  };
  CHECK(ascii("plain \"q\" \\ \n") == R"("plain \"q\" \\ \n")");
  CHECK(ascii("caf\xc3\xa9") == R"("caf\u00e9")");                    // 2 bytes
  CHECK(ascii("\xe2\x82\xac 5") == R"("\u20ac 5")");                  // 3 bytes
  CHECK(ascii("\xf0\x9f\x98\x80") == R"("\ud83d\ude00")");            // 4 bytes: a surrogate pair
  CHECK(ascii("a\xff" "b") == R"("a\ufffdb")");                       // not UTF-8: one replacement per bad byte
  CHECK(ascii("\xe2\x82") == R"("\ufffd\ufffd")");                    // cut off
  CHECK(ascii("\xc0\xaf") == R"("\ufffd\ufffd")");                    // overlong
  CHECK(ascii("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");          // a UTF-16 surrogate is not a code point
  // Past the 16- and 8-byte fast paths, at every offset: the escape lands where the byte was.
  for (std::size_t at = 0; at < 40; ++at) {
    std::string s(48, 'a');
    s.replace(at, 2, "\xc3\xa9");
    const std::string out = ascii(s);
    std::string expected(1, '"');
    expected.append(at, 'a').append("\\u00e9").append(46 - at, 'a').push_back('"');
    CHECK(out == expected);
  }
}
