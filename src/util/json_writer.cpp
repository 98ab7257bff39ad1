#include "lambda_bridge/util/json_writer.hpp"

#include <cstdint>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <array>
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

namespace {
// decode_short_escapes from `in` (where no escape is cut), its output at `out`: the plain stretches found with
// memchr and moved down, each escape decoded alone. The whole of it on arm64 and CPUs without AVX2; elsewhere the
// tail under 64 bytes.
std::size_t decode_short_escapes_from(char* s, std::size_t in, std::size_t out, std::size_t n) {
  while (in < n) {
    const void* found = std::memchr(s + in, '\\', n - in);
    const std::size_t plain =
        found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - (s + in)) : n - in;
    if (out != in) std::memmove(s + out, s + in, plain);
    in += plain;
    out += plain;
    if (in == n) break;
    // s[in] is a backslash, and the scan saw a short escape's letter after it (should the letter be another, it is
    // kept alone, and a backslash with nothing after it is kept; neither reaches here: the scan calls such a
    // string not plain, and the decoded size is checked against the foretold one:
    // request_builder::check_decoded_size).
    if (in + 1 == n) {
      s[out++] = '\\';
      break;
    }
    const char decoded = json_text::short_escape(static_cast<unsigned char>(s[in + 1]));
    s[out++] = decoded != 0 ? decoded : s[in + 1];
    in += 2;
  }
  return out;
}

#if defined(__x86_64__)
// For each set of bytes to keep among eight (a bit each): the shuffle that moves them to the front, in order.
constexpr auto keep_shuffles = [] {
  std::array<std::uint64_t, 256> t{};
  for (unsigned keep = 0; keep < 256; ++keep) {
    unsigned slot = 0;
    for (unsigned byte = 0; byte < 8; ++byte) {
      if ((keep >> byte & 1) != 0) t[keep] |= std::uint64_t{byte} << (8 * slot++);
    }
  }
  return t;
}();

// 64 bytes a step, from the start to the last whole step, with no branch per escape: a JSON document sent as a
// body has an escaped quote every few bytes. A step's escapes are found as the scan finds them
// (json_text::escaped_bytes, carried from step to step, so an escape may straddle two), then each 16 bytes have
// their letters b f n r t replaced by what they stand for and the backslashes that begin an escape dropped: each
// half packed by a shuffle from a table and stored, 8 bytes at `out`, then 8 after the first half's kept bytes.
// The output never overtakes the input (out <= in) and the step's 64 bytes are all read before it stores, so a
// store never lands on a byte still to be read. Returns where it stopped, in and out, past any escape it began.
__attribute__((target("avx2,bmi,popcnt"))) void decode_blocks_avx2(char* s, std::size_t n, std::size_t& in_at,
                                                                   std::size_t& out_at) {
  std::size_t in = 0, out = 0;
  std::uint64_t carry = 0;
  const __m128i bit_of_byte = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const __m128i byte_of_bit = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m128i high_half = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8);
  // At 'b' >> 1 & 15 (1): '\b'; 'f' (3): '\f'; 'n' (7): '\n'; 'r' (9): '\r'; 't' (10): '\t'.
  const __m128i controls = _mm_setr_epi8(0, '\b', 0, '\f', 0, 0, 0, '\n', 0, '\r', '\t', 0, 0, 0, 0, 0);
  const __m128i above_slash = _mm_set1_epi8(0x60);
  const __m128i low_nibble = _mm_set1_epi8(0x0f);
  while (in + 64 <= n) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + in));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + in + 32));
    const std::uint64_t backslashes = json_text::equal64(lo, hi, '\\');
    if ((backslashes | carry) == 0) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(s + out), lo);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(s + out + 32), hi);
      in += 64;
      out += 64;
      continue;
    }
    const std::uint64_t letters = json_text::escaped_bytes(backslashes, carry);
    const std::uint64_t keep = ~(backslashes & ~letters);
    const __m128i parts[4] = {_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1),
                              _mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1)};
    for (int part = 0; part < 4; ++part) {
      __m128i v = parts[part];
      const auto part_letters = static_cast<unsigned>(letters >> (16 * part)) & 0xffff;
      const auto part_keep = static_cast<unsigned>(keep >> (16 * part)) & 0xffff;
      // The letters as bytes, then b f n r t replaced by a lookup at (letter >> 1) & 15, where those five differ
      // (the quote, backslash and slash stand for themselves, and lie below 0x60).
      const __m128i letter_bytes = _mm_cmpeq_epi8(
          _mm_and_si128(_mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(part_letters)), byte_of_bit),
                        bit_of_byte),
          bit_of_byte);
      const __m128i control_letters = _mm_and_si128(letter_bytes, _mm_cmpgt_epi8(v, above_slash));
      const __m128i stands_for = _mm_shuffle_epi8(controls, _mm_and_si128(_mm_srli_epi16(v, 1), low_nibble));
      v = _mm_blendv_epi8(v, stands_for, control_letters);
      const __m128i shuffle = _mm_add_epi8(_mm_set_epi64x(static_cast<long long>(keep_shuffles[part_keep >> 8]),
                                                          static_cast<long long>(keep_shuffles[part_keep & 0xff])),
                                           high_half);
      const __m128i packed = _mm_shuffle_epi8(v, shuffle);
      const auto low_kept = static_cast<std::size_t>(_mm_popcnt_u32(part_keep & 0xff));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(s + out), packed);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(s + out + low_kept), _mm_unpackhi_epi64(packed, packed));
      out += low_kept + static_cast<std::size_t>(_mm_popcnt_u32(part_keep >> 8));
    }
    in += 64;
  }
  if (carry != 0) {
    // The last step's last byte began an escape, dropped there: its letter is the first byte left.
    const char letter = in < n ? s[in++] : '\\';
    const char decoded = json_text::short_escape(static_cast<unsigned char>(letter));
    s[out++] = decoded != 0 ? decoded : letter;
  }
  in_at = in;
  out_at = out;
}
#endif
}  // namespace

bool json_text::decode_short_escapes_in_steps() {
#if defined(__x86_64__)
  return have_avx2;
#else
  return false;
#endif
}

std::size_t json_text::decode_short_escapes(char* s, std::size_t n) {
  std::size_t in = 0, out = 0;
#if defined(__x86_64__)
  if (have_avx2) decode_blocks_avx2(s, n, in, out);
#endif
  return decode_short_escapes_from(s, in, out, n);
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
