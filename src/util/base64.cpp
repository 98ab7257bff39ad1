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

void append_encoded(std::string& out, std::string_view in) {
  const std::size_t start = out.size();
  out.resize(start + encoded_size(in.size()));
  char* o = out.data() + start;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  while (n >= 3) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = alphabet[(v >> 6) & 63];
    o[3] = alphabet[v & 63];
    p += 3;
    o += 4;
    n -= 3;
  }
  if (n > 0) {
    std::uint32_t v = std::uint32_t{p[0]} << 16;
    if (n == 2) v |= std::uint32_t{p[1]} << 8;
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = n == 2 ? alphabet[(v >> 6) & 63] : '=';
    o[3] = '=';
  }
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
