// Where the plain stretch of a JSON string's text ends: the one classifier behind the JSON writer's escaping
// (util/json_writer.cpp) and the event's one-pass scan (events::scan_event_text). A byte is special when a JSON
// string cannot hold it as it is (a control byte, a quote, a backslash) and, when asked, when it is 0x80 or more
// (UTF-8, which the callers then check or escape).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace lambda_bridge::json_text {

inline bool is_special(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// The character a short escape stands for (the letter after the backslash), or 0 when the letter is not one of the
// eight that JSON has besides \u (which callers leave to RapidJSON). A table, not a switch: a JSON document's escapes
// mix letters, and a jump table's branch mispredicts on them.
inline constexpr auto short_escapes = [] {
  std::array<char, 256> t{};
  t['"'] = '"';
  t['\\'] = '\\';
  t['/'] = '/';
  t['b'] = '\b';
  t['f'] = '\f';
  t['n'] = '\n';
  t['r'] = '\r';
  t['t'] = '\t';
  return t;
}();
inline char short_escape(unsigned char letter) { return short_escapes[letter]; }

// The bytes that a string's backslashes escape, given the backslashes among up to 64 bytes (a bit each, the first
// byte the lowest bit): the byte after each odd-length run of backslashes (a backslash in a run escapes the next
// one, which escapes nothing). `carry` says whether the byte before them began an escape (so the first byte is
// escaped), and is set to whether the 64th byte begins one. The run arithmetic is simdjson's: adding the runs that
// start on odd bits carries each to its end. The event scan and the decoding apart share it.
inline std::uint64_t escaped_bytes(std::uint64_t backslashes, std::uint64_t& carry) {
  constexpr std::uint64_t even_bits = 0x5555555555555555;
  backslashes &= ~carry;
  const std::uint64_t follows_backslash = backslashes << 1 | carry;
  const std::uint64_t odd_starts = backslashes & ~even_bits & ~follows_backslash;
  std::uint64_t ends_on_even = 0;
  carry = __builtin_add_overflow(odd_starts, backslashes, &ends_on_even) ? 1 : 0;
  return (even_bits ^ (ends_on_even << 1)) & follows_backslash;
}

// Decodes a JSON string's text in place: the n bytes at `s` hold no escape but short ones (short_escape; the event
// scan counts a string with any other as not plain, so this is never given one); returns the decoded length. The
// output never overtakes the input, so it is written over it.
std::size_t decode_short_escapes(char* s, std::size_t n);
// Whether decode_short_escapes takes 64-byte steps here (AVX2). Without them it finds each escape with memchr, which
// is slower than RapidJSON's own decoding where escapes are dense (a JSON document's quotes, every few bytes).
bool decode_short_escapes_in_steps();

#if defined(__SSE2__)
// The special bytes of the 16 at `at`, 0x80 or more included, as 0xff bytes. Read as signed, the bytes below 0x20 are
// the control bytes and every byte >= 0x80: one comparison for both, where the unsigned test below needs a second mask
// for the high bits (a few per cent of the scan of a small event, which runs this on every short string).
inline __m128i special_or_high(const char* at) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  return _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
}

// The special bytes of a 16-byte block, one bit each (non-ASCII ones not included).
inline int special_mask(__m128i x) {
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);  // x <= 0x1f, unsigned
  const __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
  return _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash)));
}
#endif

#if defined(__x86_64__)
// Whether the CPU has AVX2 (every one Lambda runs on; the baseline is SSE2), read once at start.
extern const bool have_avx2;
// From `i`, 128 bytes a step while none is special or 0x80 or more; where the first step that holds one begins, or
// the last whole step's end (json_writer.cpp, compiled for AVX2).
std::size_t skip_plain_avx2(const char* s, std::size_t i, std::size_t n);
// The sign bits of 64 bytes held in two AVX2 registers, as a mask (the first byte the lowest bit); and the bytes
// equal to `c`. For the 64-byte steps of the event scan and the decoding apart (compiled for AVX2 where they run).
__attribute__((target("avx2"))) inline std::uint64_t mask64(__m256i lo, __m256i hi) {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(lo)) |
         (std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hi))} << 32);
}
__attribute__((target("avx2"))) inline std::uint64_t equal64(__m256i lo, __m256i hi, char c) {
  return mask64(_mm256_cmpeq_epi8(lo, _mm256_set1_epi8(c)), _mm256_cmpeq_epi8(hi, _mm256_set1_epi8(c)));
}
#endif

// The index of the first byte of s[i, n) that is special (with StopHigh, or 0x80 or more), or `n`. The first 16
// bytes are looked at alone, since most strings (header values, an event's fields) end there: the bit mask gives the
// byte. A longer stretch (a body) goes in wider steps: 128 bytes with AVX2, 64 with SSE2, then 16, then 8 (SWAR, the
// arm64 build), then one at a time.
template <bool StopHigh>
inline std::size_t first_special(const char* s, std::size_t i, std::size_t n) {
#if defined(__SSE2__)
  const auto mask16 = [](const char* at) {
    if constexpr (StopHigh) {
      return static_cast<unsigned>(_mm_movemask_epi8(special_or_high(at)));
    } else {
      return static_cast<unsigned>(special_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at))));
    }
  };
  if (i + 16 <= n) {
    if (const unsigned mask = mask16(s + i); mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
    i += 16;
    if constexpr (StopHigh) {
#if defined(__x86_64__)
      if (have_avx2 && i + 128 <= n) i = skip_plain_avx2(s, i, n);
#endif
      for (; i + 64 <= n; i += 64) {
        const __m128i any = _mm_or_si128(_mm_or_si128(special_or_high(s + i), special_or_high(s + i + 16)),
                                         _mm_or_si128(special_or_high(s + i + 32), special_or_high(s + i + 48)));
        if (_mm_movemask_epi8(any) != 0) break;  // the sixteen-byte steps find which byte
      }
    }
  }
  for (; i + 16 <= n; i += 16) {
    if (const unsigned mask = mask16(s + i); mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, high_bits = ones * 0x80;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t x;
      std::memcpy(&x, s + i, 8);
      const std::uint64_t quote = x ^ (ones * '"');
      const std::uint64_t backslash = x ^ (ones * '\\');
      // Exact in the lowest flagged byte (a borrow only flags bytes above a true one), which is the one wanted.
      std::uint64_t special = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
      if constexpr (StopHigh) special |= x;
      special &= high_bits;
      if (special != 0) return i + static_cast<std::size_t>(__builtin_ctzll(special)) / 8;
    }
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (is_special(c) || (StopHigh && c >= 0x80)) return i;
  }
  return n;
}

}  // namespace lambda_bridge::json_text
