// The JSON writer: nesting, separators, and string escaping at every offset of its fast path; the UTF-8 check fused
// with the escaping, appended and in place. And the way back for a body parsed around (json_text.hpp): short
// escapes decoded in place.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "lambda_bridge/util/json_text.hpp"
#include "lambda_bridge/util/json_writer.hpp"

using namespace lambda_bridge;

namespace {

// RFC 8259's escaping byte by byte, as a string's contents (no quotes).
std::string escaped_reference(std::string_view s) {
  std::string out;
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
  return out;
}

}  // namespace

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
    std::string quoted = "\"";  // by append: "\"" + std::string trips GCC 12's false -Wrestrict
    quoted.append(escaped_reference(s)).push_back('"');
    return quoted;
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

namespace {


// Both fused forms on `s`: appended after a prefix, and escaped in place. Returns nullopt when either refuses `s`,
// after checking that both did and that the appended form left its buffer as it was.
std::optional<std::string> escape_if_utf8(std::string_view s) {
  std::string appended = "prefix";
  const bool ok = append_json_string_if_utf8(appended, s);
  const auto growth = json_escape_growth(s);
  CHECK(ok == growth.has_value());
  if (!ok) {
    CHECK(appended == "prefix");
    return std::nullopt;
  }
  std::string in_place(s);
  in_place.resize(s.size() + *growth, '\xa5');
  escape_json_in_place(in_place.data(), s.size(), *growth);
  CHECK(appended == "prefix\"" + in_place + "\"");
  return in_place;
}

}  // namespace

TEST_CASE("the fused UTF-8 check escapes every control character, quote and backslash at every offset") {
  for (int c = 0; c < 0x80; ++c) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string s(48, 'a');
      s[at] = static_cast<char>(c);
      const auto out = escape_if_utf8(s);
      REQUIRE(out);
      CHECK_MESSAGE(*out == escaped_reference(s), "byte " << c << " at " << at);
    }
  }
  // Escapes side by side, and a body made of nothing else: the in-place form grows it sixfold.
  const std::string controls = std::string("\x01\x1f\"\\\n", 5) + std::string(40, '\0');
  CHECK(*escape_if_utf8(controls) == escaped_reference(controls));
}

TEST_CASE("the fused UTF-8 check passes well-formed sequences of every length through unchanged, at every offset") {
  for (std::string_view seq : {"\xc3\xa9", "\xe2\x82\xac", "\xef\xbf\xbd", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
                               "\xed\x9f\xbf", "\xee\x80\x80", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80"}) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string s(48, 'a');
      s.replace(at, seq.size(), seq);
      s[47] = '"';  // and an escape after it, so the in-place form moves it
      const auto out = escape_if_utf8(s);
      REQUIRE_MESSAGE(out, "offset " << at);
      CHECK(*out == escaped_reference(s));
    }
  }
}

TEST_CASE("the fused UTF-8 check refuses overlongs, surrogates, values past U+10FFFF and cut sequences anywhere") {
  for (std::string_view bad : {
           "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",  // overlong
           "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80",                                   // surrogates
           "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\xfe",               // past U+10FFFF
           "\xf5\x80\x80", "\xf8\x80\x80", "\xfc\xa9\xae", "\xff\xbf\xbf",  // never a lead: three bytes, then ASCII
           "\x80", "\xbf", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x80"}) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string s(48, 'a');
      s.replace(at, bad.size(), bad);
      s[0] = at == 0 ? s[0] : '\n';  // an escape before it too: the appended form must still give up cleanly
      CHECK_MESSAGE(!escape_if_utf8(s), "offset " << at);
    }
    // Cut off by the end of the body, where a block or an eight-byte step would have read on.
    for (std::size_t len : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17}, std::size_t{31}}) {
      std::string s(len, 'b');
      s.append(bad.substr(0, bad.size() > 1 ? bad.size() - 1 : 1));
      if (bad.size() > 1 && static_cast<unsigned char>(bad[0]) >= 0xc2 && static_cast<unsigned char>(bad[0]) <= 0xf4) {
        CHECK(!escape_if_utf8(s));
      }
    }
  }
}

TEST_CASE("escaping in place gives the appended form for bodies of any mix, across the sixteen-byte blocks") {
  // Pseudo-random bodies over an alphabet of plain bytes, escapes and multi-byte sequences.
  const std::string_view pieces[] = {"a", "b", "xyzw", "\"", "\\", "\n", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
                                     "\xf0\x9f\x98\x80", "0123456789abcdef"};
  std::uint32_t x = 12345;
  for (int round = 0; round < 500; ++round) {
    std::string s;
    const int count = round % 64;
    for (int i = 0; i < count; ++i) {
      x = x * 1664525u + 1013904223u;
      s.append(pieces[(x >> 16) % std::size(pieces)]);
    }
    const auto out = escape_if_utf8(s);
    REQUIRE(out);
    CHECK(*out == escaped_reference(s));
  }
}

TEST_CASE("short escapes decode in place to what RapidJSON decodes, wherever they fall in the steps") {
  // Each of the eight short escapes, alone and two in a row, at every offset of a 140-byte text (so before, across
  // and after the 16-byte parts and the 64-byte steps, and in the tail the steps leave), a text that is nothing
  // but escapes, and random mixes of escapes, runs of escaped backslashes and plain bytes (an escape across every
  // boundary of the steps, with a plain byte or a backslash after it), 1 to 300 bytes long.
  const std::string letters = "\"\\/bfnrt";
  std::vector<std::string> texts;
  for (const char l : letters) {
    const std::string escape = std::string("\\") + l;
    for (std::size_t at = 0; at <= 140; ++at) {
      std::string t(140, 'x');
      for (std::size_t i = 0; i < t.size(); ++i) t[i] = char('a' + i % 26);
      texts.push_back(std::string(t).insert(at, escape));
      texts.push_back(std::string(t).insert(at, escape + escape));
    }
  }
  std::string all;
  for (int i = 0; i < 100; ++i) all += std::string("\\") + letters[static_cast<std::size_t>(i) % letters.size()];
  texts.push_back(all);
  const std::string pieces[] = {"a",   "b",   "n",   "\\\"", "\\\\",     "\\n", "\\t",
                                "\\/", "\\b", "\\f", "\\r",  "\\\\\\\\", "xyz"};
  std::mt19937 random(20261203);
  for (int round = 0; round < 3000; ++round) {
    std::string mix;
    const std::size_t size = 1 + random() % 300;
    while (mix.size() < size) mix += pieces[random() % std::size(pieces)];
    texts.push_back(mix);
  }
  texts.push_back("");
  for (const std::string& text : texts) {
    CAPTURE(text);
    rapidjson::Document reference;
    const std::string json = "\"" + text + "\"";
    reference.Parse(json.c_str(), json.size());
    REQUIRE_FALSE(reference.HasParseError());
    std::string decoded = text;
    decoded.resize(json_text::decode_short_escapes(decoded.data(), decoded.size()));
    CHECK(decoded == std::string_view(reference.GetString(), reference.GetStringLength()));
  }
}
