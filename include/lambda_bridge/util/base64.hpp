// Standard base64 (RFC 4648 §4), written straight into an existing buffer: the response body goes from the
// backend's bytes into the result JSON without an intermediate string. Used by the translation core.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambda_bridge::base64 {

// The vector steps the functions below take, the best the CPU has unless set: on x86-64 AVX-512 VBMI (64 characters
// a step), AVX2 (32), or the baseline's table steps; arm64 has NEON as its baseline. Results are the same at every
// level: the tests run each case at every level in vectors_available(), and lambda-bridge-translate-timing times
// each; the bridge itself never calls use_vectors.
enum class vectors { baseline, avx2, avx512vbmi };
std::vector<vectors> vectors_available();
void use_vectors(vectors v);
vectors vectors_in_use();

std::size_t encoded_size(std::size_t n);

// Appends the encoding of `in` to `out`.
void append_encoded(std::string& out, std::string_view in);

// Replaces the `n` bytes at `buf` by their encoding, which the buffer must have room for (encoded_size(n) bytes from
// `buf`): a body read straight into the result is encoded where it lies, with no second buffer.
void encode_in_place(char* buf, std::size_t n);

// Appends the decoding of `in` to `out`. Padding may be omitted (some clients do); any other deviation — a byte
// outside the alphabet, misplaced '=', an impossible length — returns false and leaves `out` unspecified.
bool append_decoded(std::string& out, std::string_view in);

// Decodes `in` into `out` and returns the decoded size, or nullopt where append_decoded fails (`out` then holds
// garbage). `out` may be in.data() itself: the output never overtakes the input, so a body is decoded where it
// lies, or anywhere before it in the same buffer.
// Otherwise it needs room for the decoded size.
std::optional<std::size_t> decode_into(std::string_view in, char* out);

// The size `in` decodes to, or nullopt for a length or padding no encoding has; its characters are not looked at.
std::optional<std::size_t> decoded_size(std::string_view in);

}  // namespace lambda_bridge::base64
