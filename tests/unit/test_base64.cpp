// base64 (RFC 4648 §4): every length round-trips and matches the RFC's encoding, in place too; bad input is refused;
// at every vector level the CPU has.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include "lambda_bridge/util/base64.hpp"

using namespace lambda_bridge;

namespace {

// Runs a case at each vector level this CPU has (x86-64: AVX-512 VBMI, AVX2, the baseline's table steps), since the
// functions take the best alone: each level's steps are held to the same results. The level is put back after, on a
// failure too.
template <class Case>
void at_every_level(Case&& run_case) {
  struct restore {
    base64::vectors saved = base64::vectors_in_use();
    ~restore() { base64::use_vectors(saved); }
  } const guard;
  for (const auto level : base64::vectors_available()) {
    base64::use_vectors(level);
    REQUIRE(base64::vectors_in_use() == level);
    INFO("vector level " << static_cast<int>(level));
    run_case();
  }
}

}  // namespace

TEST_CASE("base64 round-trips every length and tolerates missing padding") {
  at_every_level([&] {
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
  });
}

TEST_CASE("base64 refuses bytes outside the alphabet and impossible lengths") {
  at_every_level([&] {
    for (auto bad : {"a", "ab=c", "a===", "!!!!", "aGk=\n", "aG k", "aGk==="}) {
      std::string out;
      CHECK_MESSAGE(!base64::append_decoded(out, bad), bad);
    }
  });
}

TEST_CASE("base64 decodes in place, over its own input, as it decodes into another buffer") {
  at_every_level([&] {
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
  });
}

TEST_CASE("base64 refuses a byte outside the alphabet at every position of every group") {
  at_every_level([&] {
    // 124 characters, no padding: at each level every kind of step sees the bad byte (AVX-512 VBMI 64 characters, then
    // AVX2 32, then 8 and 4 at a time). 0xc1 is 'A' with the high bit set: a lookup that reads seven bits takes it for
    // 'A' unless the high bit is tested.
    std::string bytes(93, 'x');
    std::string enc;
    base64::append_encoded(enc, bytes);
    REQUIRE(enc.size() == 124);
    for (const char bad : {'!', ' ', '\n', '=', '-', '_', '\0', '\x80', '\xc1', '\xff'}) {
      for (std::size_t at = 0; at < enc.size(); ++at) {
        std::string in = enc;
        in[at] = bad;
        if (bad == '=' && at == enc.size() - 1) continue;  // a last '=' is padding: 92 bytes, validly
        std::string out;
        CHECK_MESSAGE(!base64::append_decoded(out, in),
                      "byte " << int(static_cast<unsigned char>(bad)) << " at " << at);
        CHECK_MESSAGE(!base64::decode_into(in, in.data()), "in place: at " << at);
      }
    }
  });
}

TEST_CASE("base64 padding completes a group and nothing else") {
  at_every_level([&] {
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
  });
}

namespace {

// RFC 4648's encoding, one 6-bit group at a time: the reference the table-driven encoder is held to.
std::string reference_encoding(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t v = 0;
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    for (std::size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out.push_back(k <= n ? alphabet[(v >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

std::string all_byte_values(std::size_t n) {
  std::string bytes;
  std::uint32_t x = 2463534242u;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    bytes.push_back(static_cast<char>(i < 256 ? i : x));  // every byte value first, then noise
  }
  return bytes;
}

}  // namespace

TEST_CASE("base64 encoding matches RFC 4648 at every length, whatever the length modulo 3 and the six-byte steps") {
  at_every_level([&] {
    const std::string bytes = all_byte_values(1100);
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
      const std::string_view in = std::string_view(bytes).substr(0, n);
      std::string enc = "prefix";  // appended, not overwritten
      base64::append_encoded(enc, in);
      REQUIRE_MESSAGE(enc == "prefix" + reference_encoding(in), "length " << n);
    }
  });
}

TEST_CASE("base64 encoding in place gives the same characters as encoding into another buffer, at every length") {
  at_every_level([&] {
    const std::string bytes = all_byte_values(1100);
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
      const std::string_view in = std::string_view(bytes).substr(0, n);
      // The bytes at the start of a buffer with room for their encoding, the rest of it garbage.
      std::string buf(base64::encoded_size(n), '\xa5');
      std::copy(in.begin(), in.end(), buf.begin());
      base64::encode_in_place(buf.data(), n);
      REQUIRE_MESSAGE(buf == reference_encoding(in), "length " << n);
    }
  });
}

namespace {

// RFC 4648's decoding, one character at a time: the reference the vector and table steps are held to.
std::optional<std::string> reference_decoding(std::string_view in) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // Padding: at most two '=' ending a whole number of groups; and no length leaves a single character over.
  std::size_t padding = 0;
  while (in.size() % 4 == 0 && padding < 2 && in.size() > padding && in[in.size() - 1 - padding] == '=') ++padding;
  in.remove_suffix(padding);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  std::uint32_t bits = 0;
  int have = 0;
  for (const char c : in) {
    const std::size_t v = alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if ((have += 6) >= 8) out.push_back(static_cast<char>(bits >> (have -= 8)));
  }
  return out;
}

}  // namespace

TEST_CASE("base64 decoding takes exactly the 64 characters of the alphabet, every byte value at every position") {
  at_every_level([&] {
    // 255 characters without padding: at each level every kind of step (AVX-512 VBMI 64 characters, AVX2 32, 8, 4,
    // and the last three) sees every byte value.
    std::string enc;
    base64::append_encoded(enc, all_byte_values(191));
    REQUIRE(enc.size() == 256);
    REQUIRE(enc.back() == '=');
    enc.pop_back();
    for (int value = 0; value < 256; ++value) {
      for (std::size_t at = 0; at < enc.size(); ++at) {
        std::string in = enc;
        in[at] = static_cast<char>(value);
        const auto expected = reference_decoding(in);
        std::string out;
        const bool decoded = base64::append_decoded(out, in);
        REQUIRE_MESSAGE(decoded == expected.has_value(), "byte " << value << " at " << at);
        if (decoded) REQUIRE_MESSAGE(out == *expected, "byte " << value << " at " << at);
      }
    }
  });
}

TEST_CASE("base64 takes every vector level the CPU lists") {
  const auto levels = base64::vectors_available();
  std::string names;
  for (const auto level : levels) names += " " + std::to_string(static_cast<int>(level));
  MESSAGE("base64 vector levels run by these tests (0 baseline, 1 AVX2, 2 AVX-512 VBMI):" << names);
  CHECK(levels.front() == base64::vectors::baseline);
#if defined(__x86_64__) && defined(__linux__)
  // The kernel's list of the CPU's features: a level it lists and the dispatch misses would go untested here and
  // unused in production.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      flags = line + " ";
      break;
    }
  }
  REQUIRE(!flags.empty());
  const auto has = [&](const char* flag) { return flags.find(std::string(" ") + flag + " ") != std::string::npos; };
  const auto found = [&](base64::vectors v) { return std::find(levels.begin(), levels.end(), v) != levels.end(); };
  CHECK(found(base64::vectors::avx2) == has("avx2"));
  CHECK(found(base64::vectors::avx512vbmi) == (has("avx512vbmi") && has("avx512bw")));
#endif
}
