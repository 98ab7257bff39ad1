#include "lambda_bridge/util/json_writer.hpp"

#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <charconv>

#include "lambda_bridge/util/base64.hpp"

namespace lambda_bridge {

namespace {

// Appends the \u escape of code point `cp` (a surrogate pair above U+FFFF).
void append_unicode_escape(std::string& out, std::uint32_t cp) {
  static constexpr char hex[] = "0123456789abcdef";
  auto one = [&](std::uint32_t u) {
    const char esc[] = {'\\', 'u', hex[(u >> 12) & 15], hex[(u >> 8) & 15], hex[(u >> 4) & 15], hex[u & 15]};
    out.append(esc, sizeof esc);
  };
  if (cp > 0xFFFF) {
    cp -= 0x10000;
    one(0xD800 + (cp >> 10));
    one(0xDC00 + (cp & 0x3FF));
  } else {
    one(cp);
  }
}

// Decodes the UTF-8 sequence at s[i] (its lead byte >= 0x80) into `cp`, returning its length; a malformed sequence
// counts as one byte of U+FFFD, so nothing outside ASCII ever passes through.
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char lead = b(0);
  const std::size_t len = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 0;
  cp = 0xFFFD;
  if (len == 0 || i + len > s.size()) return 1;
  std::uint32_t v = lead & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 1;
    v = (v << 6) | (b(k) & 0x3F);
  }
  const bool overlong = (len == 3 && v < 0x800) || (len == 4 && v < 0x10000);
  if (overlong || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 1;
  cp = v;
  return len;
}

// The escaping loop behind both public forms: with Ascii, bytes >= 0x80 are also escaped (as code points).
template <bool Ascii>
void append_json_string_impl(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run_start = 0;
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t high = ones * 0x80;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Sixteen, then eight bytes at a time while none needs escaping (no control byte, quote or backslash, and with
    // Ascii no byte >= 0x80): bodies are long.
#if defined(__SSE2__)
    while (i + 16 <= s.size()) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);  // x <= 0x1f, unsigned
      const __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
      const __m128i backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
      int special = _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash)));
      if constexpr (Ascii) special |= _mm_movemask_epi8(x);  // the high bit of every byte
      if (special != 0) break;
      i += 16;
    }
#endif
    while (i + 8 <= s.size()) {
      std::uint64_t x;
      std::memcpy(&x, s.data() + i, 8);
      const std::uint64_t quote = x ^ (ones * '"');
      const std::uint64_t backslash = x ^ (ones * '\\');
      std::uint64_t special = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
      if constexpr (Ascii) special |= x;
      if ((special & high) != 0) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && (!Ascii || c < 0x80)) continue;
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    if (Ascii && c >= 0x80) {
      std::uint32_t cp;
      const std::size_t len = decode_utf8(s, i, cp);
      append_unicode_escape(out, cp);
      i += len - 1;
      run_start = i + 1;
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) { append_json_string_impl<false>(out, s); }

void append_json_string_ascii(std::string& out, std::string_view s) { append_json_string_impl<true>(out, s); }

void json_writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  const std::uint64_t bit = std::uint64_t{1} << depth_;
  if (needs_comma_ & bit) out_.push_back(',');
  needs_comma_ |= bit;
}

json_writer& json_writer::begin_object() {
  separate();
  out_.push_back('{');
  ++depth_;
  needs_comma_ &= ~(std::uint64_t{1} << depth_);
  return *this;
}

json_writer& json_writer::end_object() {
  --depth_;
  out_.push_back('}');
  return *this;
}

json_writer& json_writer::begin_array() {
  separate();
  out_.push_back('[');
  ++depth_;
  needs_comma_ &= ~(std::uint64_t{1} << depth_);
  return *this;
}

json_writer& json_writer::end_array() {
  --depth_;
  out_.push_back(']');
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  separate();
  append_json_string(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

json_writer& json_writer::string(std::string_view v) {
  separate();
  append_json_string(out_, v);
  return *this;
}

json_writer& json_writer::integer(std::int64_t v) {
  separate();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

json_writer& json_writer::boolean(bool v) {
  separate();
  out_.append(v ? "true" : "false");
  return *this;
}

json_writer& json_writer::null() {
  separate();
  out_.append("null");
  return *this;
}

json_writer& json_writer::raw(std::string_view json) {
  separate();
  out_.append(json);
  return *this;
}

json_writer& json_writer::base64_string(std::string_view bytes) {
  separate();
  out_.push_back('"');
  base64::append_encoded(out_, bytes);
  out_.push_back('"');
  return *this;
}

}  // namespace lambda_bridge
