#include "lambda_bridge/util/json_writer.hpp"

#include <cstdint>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <bit>
#include <charconv>

#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/json_text.hpp"
#include "lambda_bridge/util/text.hpp"

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
// (text::utf8_sequence_length) counts as one byte of U+FFFD, so nothing outside ASCII ever passes through.
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const std::size_t len =
      text::utf8_sequence_length(reinterpret_cast<const unsigned char*>(s.data()) + i, s.size() - i, &cp);
  if (len != 0) return len;
  cp = 0xFFFD;
  return 1;
}

using json_text::first_special;
using json_text::is_special;
#if defined(__SSE2__)
using json_text::special_mask;
#endif

// The escape of special byte `c` into `esc`; returns its length (2, or 6 for \u00XX).
inline std::size_t escape_of(unsigned char c, char* esc) {
  static constexpr char hex[] = "0123456789abcdef";
  esc[0] = '\\';
  switch (c) {
    case '"': esc[1] = '"'; return 2;
    case '\\': esc[1] = '\\'; return 2;
    case '\n': esc[1] = 'n'; return 2;
    case '\r': esc[1] = 'r'; return 2;
    case '\t': esc[1] = 't'; return 2;
    case '\b': esc[1] = 'b'; return 2;
    case '\f': esc[1] = 'f'; return 2;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      return 6;
  }
}

// What the string loop does with bytes >= 0x80: pass them on unchecked, escape their code points as \u (U+FFFD for
// a malformed sequence), or check them and give up on the first malformed sequence.
enum class non_ascii { pass, escape, check };

// The escaping loop behind the public forms; false (and `out` as it was) only with non_ascii::check, on bytes that
// are not UTF-8.
template <non_ascii Mode>
bool append_json_string_impl(std::string& out, std::string_view s) {
  const std::size_t start = out.size();
  out.push_back('"');
  const char* p = s.data();
  const std::size_t n = s.size();
  std::size_t run_start = 0;
  for (std::size_t i = 0;;) {
    i = first_special<Mode != non_ascii::pass>(p, i, n);
    if (i >= n) break;
    const auto c = static_cast<unsigned char>(p[i]);
    if (Mode != non_ascii::pass && c >= 0x80) {
      std::uint32_t cp;
      const std::size_t len = decode_utf8(s, i, cp);
      if constexpr (Mode == non_ascii::check) {
        if (len == 1) {  // every well-formed sequence is two bytes or more
          out.resize(start);
          return false;
        }
      } else {
        out.append(p + run_start, i - run_start);
        append_unicode_escape(out, cp);
        run_start = i + len;
      }
      i += len;
      continue;
    }
    out.append(p + run_start, i - run_start);
    char esc[6];
    out.append(esc, escape_of(c, esc));
    run_start = ++i;
  }
  out.append(p + run_start, n - run_start);
  out.push_back('"');
  return true;
}

// One past the last special byte before `i`, or 0 when there is none.
inline std::size_t after_last_special(const char* s, std::size_t i) {
#if defined(__SSE2__)
  for (; i >= 16; i -= 16) {
    const int mask = special_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i - 16)));
    if (mask != 0) return i - 16 + static_cast<std::size_t>(32 - __builtin_clz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i > 0; --i) {
    if (is_special(static_cast<unsigned char>(s[i - 1]))) return i;
  }
  return 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) { append_json_string_impl<non_ascii::pass>(out, s); }

void append_json_string_ascii(std::string& out, std::string_view s) {
  append_json_string_impl<non_ascii::escape>(out, s);
}

bool append_json_string_if_utf8(std::string& out, std::string_view s) {
  return append_json_string_impl<non_ascii::check>(out, s);
}

std::optional<std::size_t> json_escape_growth(std::string_view s) {
  const char* p = s.data();
  const std::size_t n = s.size();
  std::size_t growth = 0;
  for (std::size_t i = 0;;) {
    i = first_special<true>(p, i, n);
    if (i >= n) break;
    const auto c = static_cast<unsigned char>(p[i]);
    if (c >= 0x80) {
      std::uint32_t cp;
      const std::size_t len = decode_utf8(s, i, cp);
      if (len == 1) return std::nullopt;
      i += len;
      continue;
    }
    char esc[6];
    growth += escape_of(c, esc) - 1;
    ++i;
  }
  return growth;
}

void escape_json_in_place(char* buf, std::size_t n, std::size_t growth) {
  // From the end, so that every byte is read before the text growing behind it reaches its place; once the escapes
  // left are none, what precedes is already where it belongs.
  char* to = buf + n + growth;
  std::size_t i = n;
  while (to != buf + i) {
    const std::size_t run = after_last_special(buf, i);
    to -= i - run;
    std::memmove(to, buf + run, i - run);
    i = run - 1;  // the special byte; there is one, since escapes are left
    char esc[6];
    const std::size_t len = escape_of(static_cast<unsigned char>(buf[i]), esc);
    to -= len;
    std::memcpy(to, esc, len);
  }
}

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

std::size_t json_text::decode_short_escapes(char* s, std::size_t n) {
  std::size_t in = 0, out = 0;
  while (in < n) {
#if defined(__SSE2__)
    if (in + 16 <= n) {
      // Sixteen bytes at a time, stored whole where the output stands when the store ends at or before the next
      // byte still to be read: always for a block without a backslash (out <= in), and for one with a backslash once
      // the output is far enough behind (15 escapes in at most, so soon for a JSON document's many). Otherwise the bytes
      // before the backslash are copied alone, since a whole store would write over the bytes after the escape.
      const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + in));
      const auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8('\\'))));
      const std::size_t plain = mask == 0 ? 16 : static_cast<std::size_t>(__builtin_ctz(mask));
      const std::size_t next_unread = mask == 0 ? in + 16 : in + plain + 1;  // the escape's letter
      if (out + 16 <= next_unread) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(s + out), block);
      } else {
        for (std::size_t k = 0; k < plain; ++k) s[out + k] = s[in + k];
      }
      in += plain;
      out += plain;
      if (mask == 0) continue;
    } else if (s[in] != '\\') {
      s[out++] = s[in++];
      continue;
    }
#else
    const void* found = std::memchr(s + in, '\\', n - in);
    const std::size_t plain =
        found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - (s + in)) : n - in;
    if (out != in) std::memmove(s + out, s + in, plain);
    in += plain;
    out += plain;
    if (in == n) break;
#endif
    // s[in] is a backslash, and the scan saw a short escape's letter after it (should the letter be another, it is
    // kept alone, and a backslash with nothing after it is kept; neither reaches here: the scan calls such a string
    // not plain, and the decoded size is checked against the foretold one: request_builder::check_decoded_size).
    if (in + 1 == n) {
      s[out++] = '\\';
      break;
    }
    const char decoded = short_escape(static_cast<unsigned char>(s[in + 1]));
    s[out++] = decoded != 0 ? decoded : s[in + 1];
    in += 2;
  }
  return out;
}

#if defined(__x86_64__)
// Read once at start; __builtin_cpu_init first, since this may run before libgcc's own constructor has filled in the
// CPU model (as base64.cpp's).
const bool json_text::have_avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") != 0);

namespace {
__attribute__((target("avx2"))) inline __m256i special_or_high32(const char* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
                                         _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))),
                         _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));  // signed: control bytes and >= 0x80
}
}  // namespace

__attribute__((target("avx2"))) std::size_t json_text::skip_plain_avx2(const char* s, std::size_t i, std::size_t n) {
  for (; i + 128 <= n; i += 128) {
    const __m256i any = _mm256_or_si256(_mm256_or_si256(special_or_high32(s + i), special_or_high32(s + i + 32)),
                                        _mm256_or_si256(special_or_high32(s + i + 64), special_or_high32(s + i + 96)));
    if (_mm256_movemask_epi8(any) != 0) break;
  }
  return i;
}
#endif

}  // namespace lambda_bridge
