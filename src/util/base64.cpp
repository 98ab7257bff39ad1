#include "lambda_bridge/util/base64.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

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

#if !defined(__x86_64__)
namespace {
constexpr vectors best_vectors = vectors::baseline;
vectors current_vectors = best_vectors;
}  // namespace
#endif

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

// ---- Vector steps. Base64 is the largest cost of a binary body either way (a base64 ALB event, a binary reply),
// and its characters map to values by ranges, so a vector register takes 32 (x86-64 AVX2), 64 (x86-64 AVX-512 VBMI)
// or 64 (arm64, four registers) of them a step. On x86-64, AVX2, which every CPU Lambda runs on has but the
// baseline (SSE2) does not, and AVX-512 VBMI, which newer ones have: their loops are compiled for them and taken
// where the CPU has them. arm64's NEON is baseline. The scalar steps above and below stay for the tails and for CPUs
// without AVX2.
#if defined(__x86_64__)
#define LAMBDA_BRIDGE_AVX2 __attribute__((target("avx2")))

// The best steps the CPU has, read once at start; __builtin_cpu_init first, since this may run before libgcc's own
// constructor has filled in the CPU model. (libgcc counts AVX-512 only where the kernel saves its registers.)
const vectors best_vectors =
    (__builtin_cpu_init(),
     __builtin_cpu_supports("avx512vbmi") != 0 && __builtin_cpu_supports("avx512bw") != 0 ? vectors::avx512vbmi
     : __builtin_cpu_supports("avx2") != 0                                                 ? vectors::avx2
                                                                                           : vectors::baseline);
vectors current_vectors = best_vectors;
bool use_avx2() { return current_vectors >= vectors::avx2; }
bool use_vbmi() { return current_vectors >= vectors::avx512vbmi; }

// The loops are the AVX2 functions, not their steps, so that the constants stay in registers: a step of its own
// could not be inlined into a caller compiled for the baseline, nor take or return 32-byte values through one.
// AVX2's byte shuffles work within each 16-byte half, so every table is 16 bytes repeated in both halves.
LAMBDA_BRIDGE_AVX2 inline __m256i in_both_halves(__m128i half) { return _mm256_broadcastsi128_si256(half); }

// Decodes 32 characters per step from p[i] while 48 or more are left, storing 32 bytes at out + 3i/4 of which 24 are
// kept (the last eight are zeros, written over by the next step): 3i/4 + 32 stays below the decoded size, and in
// place below i + 32, the end of what was just read. Returns the characters decoded, or nullopt if one is outside
// the alphabet.
LAMBDA_BRIDGE_AVX2 std::optional<std::size_t> decode_vectors(const unsigned char* p, std::size_t len, char* out) {
  // Each character is classified by its two nibbles: a byte of the low nibble's table and one of the high nibble's
  // share a bit exactly where the character is outside the alphabet (every byte of 0x80 or more included). The high
  // nibble then tells the range, hence what to add to give the 6-bit value: 'A'-'Z' -> 0-25, 'a'-'z' -> 26-51,
  // '0'-'9' -> 52-61, '+' -> 62; '/' shares its high nibble with '+' and is told apart by a compare.
  const __m256i low_table = in_both_halves(_mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                                         0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a));
  const __m256i high_table = in_both_halves(_mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                                                          0x10, 0x10, 0x10, 0x10, 0x10, 0x10));
  const __m256i add_table = in_both_halves(_mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0));
  const __m256i nibble = _mm256_set1_epi8(0x0f), slash = _mm256_set1_epi8('/');
  // Pairs of values into 12 bits (first * 64 + second), pairs of those into 24 (first * 4096 + second), then the
  // three bytes of each 32-bit lane, most significant first, packed in each half, and the halves' 12 bytes joined.
  const __m256i pair_weights = _mm256_set1_epi32(0x01400140), quad_weights = _mm256_set1_epi32(0x00011000);
  const __m256i pack = in_both_halves(_mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
  const __m256i join_halves = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  std::size_t i = 0;
  for (char* o = out; i + 48 <= len; i += 32, o += 24) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i high = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
    const __m256i flags = _mm256_and_si256(_mm256_shuffle_epi8(low_table, _mm256_and_si256(c, nibble)),
                                           _mm256_shuffle_epi8(high_table, high));
    if (!_mm256_testz_si256(flags, flags)) return std::nullopt;
    const __m256i add = _mm256_shuffle_epi8(add_table, _mm256_add_epi8(high, _mm256_cmpeq_epi8(c, slash)));
    const __m256i v = _mm256_add_epi8(c, add);
    const __m256i bytes = _mm256_madd_epi16(_mm256_maddubs_epi16(v, pair_weights), quad_weights);
    const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, pack), join_halves);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), packed);
  }
  return i;
}

// 24 bytes at `in` (28 are read) as 32 characters at `out`, 12 bytes in each half: each group of three bytes
// b0 b1 b2 goes into a 32-bit lane as b1 b0 b2 b1, where two multiplies move each of its four 6-bit fields into a byte
// of its own; then each value's range (0-25, 26-51, 52-61, 62, 63) adds its own offset, found by a shuffle on the
// value's rank above 51 (0 below it), 0-25 told apart by a compare and sent to entry 13.
struct encoder {
  __m256i spread, first_third_mask, first_third_shift, second_fourth_mask, second_fourth_shift, fifty_one, twenty_six,
      thirteen, offsets;

  LAMBDA_BRIDGE_AVX2 encoder()
      : spread(in_both_halves(_mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10))),
        first_third_mask(_mm256_set1_epi32(0x0fc0fc00)),
        first_third_shift(_mm256_set1_epi32(0x04000040)),
        second_fourth_mask(_mm256_set1_epi32(0x003f03f0)),
        second_fourth_shift(_mm256_set1_epi32(0x01000010)),
        fifty_one(_mm256_set1_epi8(51)),
        twenty_six(_mm256_set1_epi8(26)),
        thirteen(_mm256_set1_epi8(13)),
        offsets(in_both_halves(_mm_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                             '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0))) {}

  LAMBDA_BRIDGE_AVX2 void operator()(const unsigned char* in, char* out) const {
    const __m256i raw = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 12)), 1);
    const __m256i x = _mm256_shuffle_epi8(raw, spread);
    const __m256i values =
        _mm256_or_si256(_mm256_mulhi_epu16(_mm256_and_si256(x, first_third_mask), first_third_shift),
                        _mm256_mullo_epi16(_mm256_and_si256(x, second_fourth_mask), second_fourth_shift));
    const __m256i rank = _mm256_or_si256(_mm256_subs_epu8(values, fifty_one),
                                         _mm256_and_si256(_mm256_cmpgt_epi8(twenty_six, values), thirteen));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi8(values, _mm256_shuffle_epi8(offsets, rank)));
  }
};

// Forward, 24 bytes per step while 28 are left to read: advances `in`, `n` and `out`.
LAMBDA_BRIDGE_AVX2 void encode_vectors(const unsigned char*& in, std::size_t& n, char*& out) {
  const encoder encode;
  for (; n >= 28; n -= 24, in += 24, out += 32) encode(in, out);
}

// In place from the end, eight groups per step while eight are left: their 28 bytes read (24 used) end at
// 3j + 4 <= 4j, within the buffer and over characters written already. Returns the groups left.
LAMBDA_BRIDGE_AVX2 std::size_t encode_vectors_backward(unsigned char* b, std::size_t groups) {
  const encoder encode;
  for (; groups >= 8; groups -= 8) encode(b + (groups - 8) * 3, reinterpret_cast<char*>(b) + (groups - 8) * 4);
  return groups;
}

// ---- AVX-512 VBMI (Ice Lake and later, Zen 4): a byte permute across all 64 bytes of a register looks up any of 64
// (or, from two registers, 128) table entries at once, so a step handles 64 characters in a few instructions where AVX2
// classifies by nibbles and adds per range. Taken where the CPU has it, before the AVX2 steps.
#define LAMBDA_BRIDGE_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_epi32() as the unused merge source of their unmasked forms, which
// -Wmaybe-uninitialized takes for a read of an uninitialised value (GCC bug 105593). Off for these loops only.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Each ASCII character's 6-bit value, or 0x80 outside the alphabet: the table of decode_vectors_vbmi's lookup.
constexpr std::array<char, 128> make_value_table() {
  std::array<char, 128> t{};
  for (std::size_t c = 0; c < t.size(); ++c) t[c] = static_cast<char>(decode_table[c] < 0 ? 0x80 : decode_table[c]);
  return t;
}
alignas(64) constexpr auto value_table = make_value_table();

// Where each of a step's 48 bytes is in the 32-bit lanes the multiplies leave (a group's 24 bits, least significant
// byte first): lane j's three bytes, most significant first. The last 16 entries are not stored.
constexpr std::array<char, 64> make_decode_pack() {
  std::array<char, 64> t{};
  for (std::size_t k = 0; k < 48; ++k) t[k] = static_cast<char>(k / 3 * 4 + 2 - k % 3);
  return t;
}
alignas(64) constexpr auto decode_pack = make_decode_pack();

// Decodes 64 characters per step from p[i] while 64 are left, storing exactly their 48 bytes (a masked store) at
// out + 3i/4: in place, that ends below i + 64, within what was just read. Returns the characters decoded, or
// nullopt if one is outside the alphabet.
LAMBDA_BRIDGE_VBMI std::optional<std::size_t> decode_vectors_vbmi(const unsigned char* p, std::size_t len, char* out) {
  const __m512i low_half = _mm512_load_si512(value_table.data()), high_half = _mm512_load_si512(value_table.data() + 64);
  const __m512i pair_weights = _mm512_set1_epi32(0x01400140), quad_weights = _mm512_set1_epi32(0x00011000);
  const __m512i pack = _mm512_load_si512(decode_pack.data());
  constexpr __mmask64 first_48 = (__mmask64{1} << 48) - 1;
  std::size_t i = 0;
  for (char* o = out; i + 64 <= len; i += 64, o += 48) {
    const __m512i c = _mm512_loadu_si512(p + i);
    // The lookup reads a character's low seven bits; one of 0x80 or more is caught by its own high bit.
    const __m512i v = _mm512_permutex2var_epi8(low_half, c, high_half);
    if (_mm512_movepi8_mask(_mm512_or_si512(v, c)) != 0) return std::nullopt;
    // As decode_vectors: pairs of values into 12 bits, pairs of those into a group's 24.
    const __m512i bytes = _mm512_madd_epi16(_mm512_maddubs_epi16(v, pair_weights), quad_weights);
    _mm512_mask_storeu_epi8(o, first_48, _mm512_permutexvar_epi8(pack, bytes));
  }
  return i;
}

// For each 32-bit lane of an encoding step, the bytes of its group in the order b1 b0 b2 b1 (as encoder's spread),
// where each of the four 6-bit fields is a contiguous run of bits: b0 >> 2 at bit 10, (b0 << 4 | b1 >> 4) at bit 4,
// (b1 << 2 | b2 >> 6) at bit 22, b2 & 63 at bit 16. A multishift takes the eight bits at each of those offsets (and
// +32 in the lane above); the permute that follows reads only the low six, as the alphabet's index.
constexpr std::array<char, 64> make_encode_spread() {
  std::array<char, 64> t{};
  for (std::size_t lane = 0; lane < 16; ++lane) {
    const auto b = static_cast<char>(lane * 3);
    t[lane * 4] = static_cast<char>(b + 1);
    t[lane * 4 + 1] = b;
    t[lane * 4 + 2] = static_cast<char>(b + 2);
    t[lane * 4 + 3] = static_cast<char>(b + 1);
  }
  return t;
}
alignas(64) constexpr auto encode_spread = make_encode_spread();
constexpr long long field_offsets = 0x3036242a1016040a;  // bytes: 10, 4, 22, 16, then each + 32

// The 48 bytes at `in` (64 are read) as 64 characters at `out`.
struct encoder_vbmi {
  __m512i spread, offsets, letters;
  LAMBDA_BRIDGE_VBMI encoder_vbmi()
      : spread(_mm512_load_si512(encode_spread.data())),
        offsets(_mm512_set1_epi64(field_offsets)),
        letters(_mm512_loadu_si512(alphabet)) {}
  LAMBDA_BRIDGE_VBMI void operator()(const unsigned char* in, char* out) const {
    const __m512i groups = _mm512_permutexvar_epi8(spread, _mm512_loadu_si512(in));
    const __m512i fields = _mm512_multishift_epi64_epi8(offsets, groups);
    _mm512_storeu_si512(out, _mm512_permutexvar_epi8(fields, letters));
  }
};

// Forward, 48 bytes per step while 64 are left to read: advances `in`, `n` and `out`.
LAMBDA_BRIDGE_VBMI void encode_vectors_vbmi(const unsigned char*& in, std::size_t& n, char*& out) {
  const encoder_vbmi encode;
  for (; n >= 64; n -= 48, in += 48, out += 64) encode(in, out);
}

// In place from the end, sixteen groups per step while sixteen are left: their 64 bytes read (48 used) end at
// 3j + 64 <= 4j + 64, within the buffer (it holds 4 per group) and over characters written already; the step's 64
// characters, written after its read, start at 4j, past every byte of the groups before. Returns the groups left.
LAMBDA_BRIDGE_VBMI std::size_t encode_vectors_backward_vbmi(unsigned char* b, std::size_t groups) {
  const encoder_vbmi encode;
  for (; groups >= 16; groups -= 16) encode(b + (groups - 16) * 3, reinterpret_cast<char*>(b) + (groups - 16) * 4);
  return groups;
}
#pragma GCC diagnostic pop

#elif defined(__aarch64__)

// The 16 characters in `c` as their 6-bit values; `bad` gains 0xff where one is outside the alphabet.
inline uint8x16_t values_of(uint8x16_t c, uint8x16_t& bad) {
  const auto in_range = [c](unsigned char lo, unsigned char hi) {
    return vandq_u8(vcgeq_u8(c, vdupq_n_u8(lo)), vcleq_u8(c, vdupq_n_u8(hi)));
  };
  const uint8x16_t upper = in_range('A', 'Z'), lower = in_range('a', 'z'), digit = in_range('0', '9');
  const uint8x16_t plus = vceqq_u8(c, vdupq_n_u8('+')), slash = vceqq_u8(c, vdupq_n_u8('/'));
  bad = vorrq_u8(bad, vmvnq_u8(vorrq_u8(vorrq_u8(upper, lower), vorrq_u8(digit, vorrq_u8(plus, slash)))));
  // What each range adds (modulo 256) to give the value: 'A' -> 0, 'a' -> 26, '0' -> 52, '+' -> 62, '/' -> 63.
  const uint8x16_t shift = vorrq_u8(
      vorrq_u8(vandq_u8(upper, vdupq_n_u8(256 - 65)), vandq_u8(lower, vdupq_n_u8(256 - 71))),
      vorrq_u8(vandq_u8(digit, vdupq_n_u8(4)),
               vorrq_u8(vandq_u8(plus, vdupq_n_u8(19)), vandq_u8(slash, vdupq_n_u8(16)))));
  return vaddq_u8(c, shift);
}

// The 64 characters at `in` as 48 bytes at `out`: the loads deinterleave the four positions of each group and the
// store interleaves the three bytes, so nothing is written past the 48. False, with `out` untouched, if a
// character is outside the alphabet.
inline bool decode64(const unsigned char* in, char* out) {
  const uint8x16x4_t c = vld4q_u8(in);
  uint8x16_t bad = vdupq_n_u8(0);
  const uint8x16_t a = values_of(c.val[0], bad), b = values_of(c.val[1], bad), d2 = values_of(c.val[2], bad),
                   d3 = values_of(c.val[3], bad);
  if (vmaxvq_u8(bad) != 0) return false;
  uint8x16x3_t o;
  o.val[0] = vorrq_u8(vshlq_n_u8(a, 2), vshrq_n_u8(b, 4));
  o.val[1] = vorrq_u8(vshlq_n_u8(b, 4), vshrq_n_u8(d2, 2));
  o.val[2] = vorrq_u8(vshlq_n_u8(d2, 6), d3);
  vst3q_u8(reinterpret_cast<unsigned char*>(out), o);
  return true;
}

// The 48 bytes at `in` as 64 characters at `out`, reading and writing nothing else.
inline void encode48(const unsigned char* in, char* out) {
  const uint8x16x3_t b = vld3q_u8(in);
  const uint8x16_t mask6 = vdupq_n_u8(63);
  uint8x16x4_t v;
  v.val[0] = vshrq_n_u8(b.val[0], 2);
  v.val[1] = vandq_u8(vorrq_u8(vshlq_n_u8(b.val[0], 4), vshrq_n_u8(b.val[1], 4)), mask6);
  v.val[2] = vandq_u8(vorrq_u8(vshlq_n_u8(b.val[1], 2), vshrq_n_u8(b.val[2], 6)), mask6);
  v.val[3] = vandq_u8(b.val[2], mask6);
  const uint8x16x4_t table = vld1q_u8_x4(reinterpret_cast<const unsigned char*>(alphabet));
  uint8x16x4_t o;
  for (int k = 0; k < 4; ++k) o.val[k] = vqtbl4q_u8(table, v.val[k]);
  vst4q_u8(reinterpret_cast<unsigned char*>(out), o);
}
#endif
}  // namespace

void append_encoded(std::string& out, std::string_view in) {
  const std::size_t start = out.size();
  out.resize(start + encoded_size(in.size()));
  char* o = out.data() + start;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
#if defined(__x86_64__)
  if (use_vbmi()) encode_vectors_vbmi(p, n, o);
  if (use_avx2()) encode_vectors(p, n, o);
#elif defined(__aarch64__)
  for (; n >= 48; n -= 48, p += 48, o += 64) encode48(p, o);
#endif
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
  // Many groups per step where vectors are: each step reads its bytes before writing its characters, over bytes of
  // groups encoded already (arm64: sixteen groups, reading and writing exactly theirs).
#if defined(__x86_64__)
  if (use_vbmi()) groups = encode_vectors_backward_vbmi(b, groups);
  if (use_avx2()) groups = encode_vectors_backward(b, groups);
#elif defined(__aarch64__)
  for (; groups >= 16; groups -= 16) encode48(b + (groups - 16) * 3, buf + (groups - 16) * 4);
#endif
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
  // Vector steps while well inside the input (x86-64: the VBMI loop, then the AVX2 one on what it left, each where the
  // CPU has it; arm64: 64 characters, exactly 48 bytes written).
#if defined(__x86_64__)
  const auto vector_steps = [&](auto decode_loop) {
    const auto decoded = decode_loop(p + i, len - i, o);
    if (decoded) {
      i += *decoded;
      o += *decoded / 4 * 3;
    }
    return decoded.has_value();
  };
  if (use_vbmi() && !vector_steps(decode_vectors_vbmi)) return std::nullopt;
  if (use_avx2() && !vector_steps(decode_vectors)) return std::nullopt;
#elif defined(__aarch64__)
  for (; i + 64 <= len; i += 64, o += 48) {
    if (!decode64(p + i, o)) return std::nullopt;
  }
#endif
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

std::vector<vectors> vectors_available() {
  std::vector<vectors> levels;
  for (const auto v : {vectors::baseline, vectors::avx2, vectors::avx512vbmi}) {
    if (v <= best_vectors) levels.push_back(v);
  }
  return levels;
}

void use_vectors(vectors v) { current_vectors = std::min(v, best_vectors); }

vectors vectors_in_use() { return current_vectors; }

}  // namespace lambda_bridge::base64
