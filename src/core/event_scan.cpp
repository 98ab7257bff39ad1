#include "lambda_bridge/core/event_scan.hpp"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "lambda_bridge/util/json_text.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge::events {

namespace {
// The tests' switch (use_blocks). Constant-initialised, and the CPU's answer read only when the scan runs: read at
// start-up from json_text::have_avx2, another file's dynamic initialisation, it could still be false here (it was,
// in the linked bridge, once).
bool blocks_wanted = true;
bool blocks_on() {
#if defined(__x86_64__)
  return blocks_wanted && json_text::have_avx2;
#else
  return false;
#endif
}
}  // namespace

bool event_scanner::using_blocks() { return blocks_on(); }

bool event_scanner::use_blocks(bool on) {
  blocks_wanted = on;
  return blocks_on();
}

// One pass for the four things the translator must know before it parses: the nesting depth, UTF-8, a NUL, a
// backslash. They were four passes over the whole event; a large event is read from memory once instead of four
// times (a 4 MB one translates in 325 instead of 405 µs; docs/performance.md, "One pass before the parse"). On the
// way it notes the longest plain string (no control byte, only short escapes): the parse can leave that one out
// (event_text).
//
// The scan goes 64 bytes a step (block_step, with AVX2) and visits only the bytes that change its state: quotes,
// control bytes, brackets, backslashes. A step holding a non-ASCII byte is left to the byte-by-byte loop
// (byte_steps), which knows UTF-8; so is the tail under 64 bytes, and every step on a CPU without AVX2
// or on arm64. Inside a string, a stretch with none of those is skipped at once (json_text.hpp), which is nearly all
// of a large body. Both visit the bytes in order with the same rule, so they agree wherever one hands over to the
// other (tests/unit/test_event_scan.cpp holds them to each other and to every cut).
void event_scanner::advance(std::string_view json, bool whole) {
  // A scanner that has passed the end of these bytes was fed another, longer text: its findings are not this
  // one's, so it starts over rather than answer for the wrong event.
  if (pos_ > json.size()) reset();
  std::size_t i = pos_;
  bool stalled = false;
#if defined(__x86_64__)
  if (blocks_on()) {
    while (i + 64 <= json.size() && !stalled) {
      const std::size_t next = block_step(json.data(), i, json.size());
      i = next != i ? next : byte_steps(json, i, i + 64, whole, stalled);
    }
  }
#endif
  if (!stalled) i = byte_steps(json, i, json.size(), whole, stalled);
  pos_ = i;
}

// The scan a byte at a time from `i` until it passes `limit` (it may pass it by a UTF-8 sequence, an escape, or a
// plain stretch of a string), or up to where the verdict could depend on a byte not yet received when the event is
// not whole (`stalled`): a non-ASCII byte whose sequence is invalid with fewer than four bytes left (it may be cut,
// not wrong), and a backslash that is the last byte (what it escapes decides whether the string ends there).
std::size_t event_scanner::byte_steps(std::string_view json, std::size_t i, std::size_t limit, bool whole,
                                      bool& stalled) {
  const auto* const begin = reinterpret_cast<const unsigned char*>(json.data());
  const auto* p = begin + i;
  const auto* const stop = begin + limit;
  const auto* const end = begin + json.size();
  while (p < stop) {
    if (in_string_) {
      p = begin + json_text::first_special<true>(json.data(), static_cast<std::size_t>(p - begin), json.size());
      if (p == end) break;
    }
    const unsigned char c = *p;
    if (c >= 0x80) {
      const auto left = static_cast<std::size_t>(end - p);
      const std::size_t n = text::utf8_sequence_length(p, left);
      if (n == 0) {
        if (!whole && left < 4) {
          stalled = true;
          break;
        }
        found_.valid_utf8 = false;
        ++p;
      } else {
        p += n;
      }
      continue;
    }
    if (c == '\\' && !whole && p + 1 == end) {
      stalled = true;
      break;
    }
    ++p;
    if (c == '\\') {
      found_.has_backslash = true;
      if (in_string_) {
        // An escaped quote or backslash does not end the string, nor start an escape of its own: passed over. A
        // short escape keeps the string plain (its count is what the decoding apart will remove); any other (\u,
        // which RapidJSON decodes, or an invalid one, which it reports) leaves the string to the parse.
        const unsigned char letter = p < end ? *p : 0;
        string_plain_ = string_plain_ && json_text::short_escape(letter) != 0;
        ++string_escapes_;
        if (letter == '"' || letter == '\\') ++p;
      }
    } else {
      visit(c, static_cast<std::size_t>(p - begin));
    }
  }
  return static_cast<std::size_t>(p - begin);
}

#if defined(__x86_64__)
namespace {
using json_text::equal64;
using json_text::mask64;
// The 32 bytes' brackets ('[' and '{' fold to '{', ']' and '}' to '}').
__attribute__((target("avx2"))) inline __m256i brackets(__m256i v) {
  const __m256i folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
  return _mm256_or_si256(_mm256_cmpeq_epi8(folded, _mm256_set1_epi8('{')),
                         _mm256_cmpeq_epi8(folded, _mm256_set1_epi8('}')));
}
// The 32 bytes that are letters of a short escape (json_text::short_escape).
__attribute__((target("avx2"))) inline __m256i short_letters(__m256i v) {
  __m256i m = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'));
  for (const char c : {'\\', '/', 'b', 'f', 'n', 'r', 't'}) {
    m = _mm256_or_si256(m, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c)));
  }
  return m;
}
// Each bit set from a set bit of `x` until the next (the bytes from an opening quote up to its closing one).
inline std::uint64_t prefix_xor(std::uint64_t x) {
  for (int shift = 1; shift < 64; shift *= 2) x ^= x << shift;
  return x;
}
inline std::uint64_t below(std::size_t at) { return (std::uint64_t{1} << at) - 1; }
}  // namespace

// The 64 bytes at `i`, when none is non-ASCII. The step works out, a mask at a time, which bytes its backslashes
// escape and which bytes lie inside strings (from the string the step begins in and the quotes not escaped), then
// visits in order what changes the scan's state: those quotes, control bytes, and brackets outside strings. A
// string's escapes are counted, and a letter not of a short escape noted, as its closing quote is visited (and at
// the step's end for the string it ends in). The rest is passed over, since the byte loop would change nothing for
// it. A step wholly inside a string with nothing to visit is the start of a long stretch, skipped at once. Returns
// where the scan got to: short of a last byte that begins an escape (the next step takes the escape whole), or `i`
// when the step is the byte loop's (a non-ASCII byte; a backslash outside a string, which is not JSON and which
// the byte loop reads its own way). A step without a backslash takes the short way: its quotes all count.
//
// Backslashes were the byte loop's too, and a JSON document sent as a body (an escaped quote every few bytes) went
// through it all: half its translation (docs/performance.md, "Escaped bodies").
__attribute__((target("avx2,bmi,popcnt"))) std::size_t event_scanner::block_step(const char* s, std::size_t i,
                                                                                 std::size_t n) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i + 32));
  if (mask64(lo, hi) != 0) return i;  // the sign bit: a byte of 0x80 or more
  const __m256i low = _mm256_set1_epi8(0x20);
  const std::uint64_t controls = mask64(_mm256_cmpgt_epi8(low, lo), _mm256_cmpgt_epi8(low, hi));
  const std::uint64_t bracket_bytes = mask64(brackets(lo), brackets(hi));
  std::uint64_t quotes = equal64(lo, hi, '"');
  const std::uint64_t backslashes = equal64(lo, hi, '\\');
  if (backslashes == 0) {
    // Most steps: every quote ends or begins a string, and a bracket inside one is visited and ignored there (the
    // masks below would cost a small event's many short strings more than those visits).
    std::uint64_t events = quotes | controls | bracket_bytes;
    if (events == 0 && in_string_) return json_text::first_special<true>(s, i + 64, n);
    while (events != 0) {
      const auto at = static_cast<std::size_t>(_tzcnt_u64(events));
      events &= events - 1;
      visit(static_cast<unsigned char>(s[i + at]), i + at + 1);
    }
    return i + 64;
  }
  std::uint64_t carry = 0;  // the step begins after any escape (byte_steps and the steps end past them)
  std::uint64_t escaped = json_text::escaped_bytes(backslashes, carry);
  quotes &= ~escaped;
  std::uint64_t not_short = escaped & ~mask64(short_letters(lo), short_letters(hi));
  const std::uint64_t inside = prefix_xor(quotes) ^ (in_string_ ? ~std::uint64_t{0} : 0);
  if ((backslashes & ~inside) != 0) return i;
  found_.has_backslash = true;
  std::uint64_t events = quotes | controls | (bracket_bytes & ~inside);
  while (events != 0) {
    const auto at = static_cast<std::size_t>(_tzcnt_u64(events));
    events &= events - 1;
    const auto c = static_cast<unsigned char>(s[i + at]);
    if (c == '"' && in_string_) {
      // The string's escapes up to its closing quote (those before its opening quote were the last string's).
      string_escapes_ += static_cast<std::size_t>(_mm_popcnt_u64(escaped & below(at)));
      string_plain_ = string_plain_ && (not_short & below(at)) == 0;
      escaped &= ~below(at);
      not_short &= ~below(at);
    }
    visit(c, i + at + 1);
  }
  string_escapes_ += static_cast<std::size_t>(_mm_popcnt_u64(escaped));
  string_plain_ = string_plain_ && not_short == 0;
  return i + 64 - carry;  // a last byte that begins an escape waits for the next step
}
#endif

std::size_t json_nesting_depth(std::string_view json) { return scan_event_text(json).depth; }

}  // namespace lambda_bridge::events
