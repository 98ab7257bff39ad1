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
