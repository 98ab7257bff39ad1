// base64 (RFC 4648 §4): every length round-trips, bad input is refused.
#include <doctest/doctest.h>

#include "lambda_bridge/util/base64.hpp"

using namespace lambda_bridge;

TEST_CASE("base64 round-trips every length and tolerates missing padding") {
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>(i * 7));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::string enc, dec;
    base64::append_encoded(enc, std::string_view(bytes).substr(0, n));
    CHECK(enc.size() == base64::encoded_size(n));
    REQUIRE(base64::append_decoded(dec, enc));
    CHECK(dec == bytes.substr(0, n));
  }
  std::string dec;
  CHECK(base64::append_decoded(dec, "aGk"));
  CHECK(dec == "hi");
}

TEST_CASE("base64 refuses bytes outside the alphabet and impossible lengths") {
  for (auto bad : {"a", "ab=c", "a===", "!!!!", "aGk=\n", "aG k", "aGk==="}) {
    std::string out;
    CHECK_MESSAGE(!base64::append_decoded(out, bad), bad);
  }
}

TEST_CASE("base64 decodes in place, over its own input, as it decodes into another buffer") {
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>(i * 13 + 5));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::string enc;
    base64::append_encoded(enc, std::string_view(bytes).substr(0, n));
    for (const bool padded : {true, false}) {
      std::string in = padded ? enc : enc.substr(0, enc.find('='));
      const auto decoded = base64::decode_into(in, in.data());
      REQUIRE(decoded);
      CHECK(in.substr(0, *decoded) == bytes.substr(0, n));
    }
  }
}

TEST_CASE("base64 refuses a byte outside the alphabet at every position of every group") {
  std::string bytes(60, 'x');
  std::string enc;
  base64::append_encoded(enc, bytes);  // 80 characters, no padding: every step of the decoder sees the bad byte
  for (const char bad : {'!', ' ', '\n', '=', '-', '_', '\0', '\x80', '\xff'}) {
    for (std::size_t at = 0; at < enc.size(); ++at) {
      std::string in = enc;
      in[at] = bad;
      if (bad == '=' && at == enc.size() - 1) continue;  // a last '=' is padding: 59 bytes, validly
      std::string out;
      CHECK_MESSAGE(!base64::append_decoded(out, in),
                    "byte " << int(static_cast<unsigned char>(bad)) << " at " << at);
      CHECK_MESSAGE(!base64::decode_into(in, in.data()), "in place: at " << at);
    }
  }
}

TEST_CASE("base64 padding completes a group and nothing else") {
  std::string out;
  CHECK(base64::append_decoded(out, "aGk="));
  CHECK(out == "hi");
  out.clear();
  CHECK(base64::append_decoded(out, "aA=="));
  CHECK(out == "h");
  out.clear();
  CHECK(base64::append_decoded(out, "aGVsbG8gd29ybGQhIQ=="));  // past the 8-character step
  CHECK(out == "hello world!!");
  for (auto bad : {"aA=", "a==", "aGk=aGk=", "aGVsbG8gd29ybGQhIQ=", "=aGk", "aGVsbG8gd29ybGQh=IQ"}) {
    std::string o;
    CHECK_MESSAGE(!base64::append_decoded(o, bad), bad);
  }
}
