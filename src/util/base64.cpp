#include "lambda_bridge/util/base64.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace lambda_bridge::base64 {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto decode_table = make_decode_table();

}  // namespace

std::size_t encoded_size(std::size_t n) { return (n + 2) / 3 * 4; }

namespace {

// Every 12-bit value's two characters: three bytes are two lookups instead of four shifts, masks and lookups.
constexpr std::array<std::array<char, 2>, 4096> make_pair_table() {
  std::array<std::array<char, 2>, 4096> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = {alphabet[i >> 6], alphabet[i & 63]};
  return t;
}
constexpr auto pairs = make_pair_table();

// The six bytes at `in` (eight are read) as eight characters at `out`.
inline void encode_six(const unsigned char* in, char* out) {
  std::uint64_t x;
  std::memcpy(&x, in, 8);
  if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
  char o[8];
  std::memcpy(o, pairs[(x >> 52) & 0xfff].data(), 2);
  std::memcpy(o + 2, pairs[(x >> 40) & 0xfff].data(), 2);
  std::memcpy(o + 4, pairs[(x >> 28) & 0xfff].data(), 2);
  std::memcpy(o + 6, pairs[(x >> 16) & 0xfff].data(), 2);
  std::memcpy(out, o, 8);
}

// The three bytes at `in` as four characters at `out`.
inline void encode_three(const unsigned char* in, char* out) {
  const std::uint32_t v = (std::uint32_t{in[0]} << 16) | (std::uint32_t{in[1]} << 8) | in[2];
  char o[4];
  std::memcpy(o, pairs[v >> 12].data(), 2);
  std::memcpy(o + 2, pairs[v & 0xfff].data(), 2);
  std::memcpy(out, o, 4);
}

// The last one or two bytes, padded.
inline void encode_tail(const unsigned char* in, std::size_t n, char* out) {
  std::uint32_t v = std::uint32_t{in[0]} << 16;
  if (n == 2) v |= std::uint32_t{in[1]} << 8;
  const char o[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], n == 2 ? alphabet[(v >> 6) & 63] : '=', '='};
  std::memcpy(out, o, 4);
}

}  // namespace

void append_encoded(std::string& out, std::string_view in) {
  const std::size_t start = out.size();
  out.resize(start + encoded_size(in.size()));
  char* o = out.data() + start;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  for (; n >= 8; n -= 6, p += 6, o += 8) encode_six(p, o);
  for (; n >= 3; n -= 3, p += 3, o += 4) encode_three(p, o);
  if (n > 0) encode_tail(p, n, o);
}

void encode_in_place(char* buf, std::size_t n) {
  // From the end: the characters of group j land at 4j, at or past its own bytes (3j) and before any later
  // group's bytes are needed again, since those groups are done already.
  auto* b = reinterpret_cast<unsigned char*>(buf);
  std::size_t groups = n / 3;
  if (const std::size_t rest = n % 3; rest > 0) encode_tail(b + groups * 3, rest, buf + groups * 4);
  // Two groups per step; the eight bytes read end at 3j + 8, below the 4j + 8 where the written part begins.
  for (; groups >= 2; groups -= 2) encode_six(b + (groups - 2) * 3, buf + (groups - 2) * 4);
  if (groups == 1) encode_three(b, buf);
}

namespace {

// One table per position in a group of four characters, holding the character's 6 bits already shifted into place,
// so a group is four loads and three ORs; a character outside the alphabet sets bits above the 24 a group fills.
constexpr std::uint32_t invalid_bits = 0xff000000u;
constexpr std::array<std::uint32_t, 256> make_shifted_table(int shift) {
  std::array<std::uint32_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const int v = decode_table[static_cast<std::size_t>(c)];
    t[static_cast<std::size_t>(c)] = v < 0 ? invalid_bits : static_cast<std::uint32_t>(v) << shift;
  }
  return t;
}
constexpr auto d0 = make_shifted_table(18), d1 = make_shifted_table(12), d2 = make_shifted_table(6),
               d3 = make_shifted_table(0);

inline std::uint32_t group(const unsigned char* p) { return d0[p[0]] | d1[p[1]] | d2[p[2]] | d3[p[3]]; }

}  // namespace

namespace {

// The characters before the padding, or nullopt for a length or padding no encoding has.
std::optional<std::size_t> unpadded_length(std::string_view in) {
  std::size_t len = in.size();
  std::size_t padding = 0;
  while (len > 0 && in[len - 1] == '=' && padding < 2) {
    --len;
    ++padding;
  }
  if (padding > 0 && (len + padding) % 4 != 0) return std::nullopt;
  if (len % 4 == 1) return std::nullopt;  // no byte count encodes to 4k+1 characters
  return len;
}

}  // namespace

std::optional<std::size_t> decoded_size(std::string_view in) {
  const auto len = unpadded_length(in);
  if (!len) return std::nullopt;
  return *len / 4 * 3 + (*len % 4 == 0 ? 0 : *len % 4 - 1);
}

std::optional<std::size_t> decode_into(std::string_view in, char* out) {
  const auto unpadded = unpadded_length(in);
  if (!unpadded) return std::nullopt;
  const std::size_t len = *unpadded;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  char* o = out;
  std::size_t i = 0;
  // Eight characters per step, their six bytes stored with one 8-byte write. The two bytes written past them are
  // rewritten by the next group, which exists while 8 more characters follow; in place, every byte written was
  // read already.
  for (; i + 16 <= len; i += 8) {
    const std::uint32_t a = group(p + i), b = group(p + i + 4);
    if ((a | b) & invalid_bits) return std::nullopt;
    std::uint64_t v = (std::uint64_t{a} << 40) | (std::uint64_t{b} << 16);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    std::memcpy(o, &v, sizeof v);
    o += 6;
  }
  for (; i + 4 <= len; i += 4) {
    const std::uint32_t v = group(p + i);
    if (v & invalid_bits) return std::nullopt;
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>(v >> 8);
    o[2] = static_cast<char>(v);
    o += 3;
  }
  const std::size_t rest = len - i;
  if (rest >= 2) {
    const std::uint32_t v = d0[p[i]] | d1[p[i + 1]] | (rest == 3 ? d2[p[i + 2]] : 0);
    if (v & invalid_bits) return std::nullopt;
    *o++ = static_cast<char>(v >> 16);
    if (rest == 3) *o++ = static_cast<char>(v >> 8);
  }
  return static_cast<std::size_t>(o - out);
}

bool append_decoded(std::string& out, std::string_view in) {
  const std::size_t start = out.size();
  out.resize(start + in.size() / 4 * 3 + 2);  // at least the decoded size, whatever the padding
  const auto n = decode_into(in, out.data() + start);
  out.resize(n ? start + *n : start);
  return n.has_value();
}

}  // namespace lambda_bridge::base64
