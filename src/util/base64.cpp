#include "lambda_bridge/util/base64.hpp"

#include <array>
#include <cstdint>

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

bool append_decoded(std::string& out, std::string_view in) {
  std::size_t len = in.size();
  std::size_t padding = 0;
  while (len > 0 && in[len - 1] == '=' && padding < 2) {
    --len;
    ++padding;
  }
  if (padding > 0 && (len + padding) % 4 != 0) return false;
  if (len % 4 == 1) return false;  // no byte count encodes to 4k+1 characters
  const std::size_t start = out.size();
  out.resize(start + len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1));
  char* o = out.data() + start;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    const int a = decode_table[p[i]], b = decode_table[p[i + 1]], c = decode_table[p[i + 2]], d = decode_table[p[i + 3]];
    if ((a | b | c | d) < 0) return false;
    const std::uint32_t v = (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) | (std::uint32_t(c) << 6) | std::uint32_t(d);
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>((v >> 8) & 0xff);
    *o++ = static_cast<char>(v & 0xff);
  }
  const std::size_t rest = len - i;
  if (rest >= 2) {
    const int a = decode_table[p[i]], b = decode_table[p[i + 1]];
    const int c = rest == 3 ? decode_table[p[i + 2]] : 0;
    if ((a | b | c) < 0) return false;
    const std::uint32_t v = (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) | (std::uint32_t(c) << 6);
    *o++ = static_cast<char>(v >> 16);
    if (rest == 3) *o++ = static_cast<char>((v >> 8) & 0xff);
  }
  return true;
}

}  // namespace lambda_bridge::base64
