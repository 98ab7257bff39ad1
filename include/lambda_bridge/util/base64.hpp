// Standard base64 (RFC 4648 §4), written straight into an existing buffer: the response body goes from the
// backend's bytes into the result JSON without an intermediate string. Used by the translation core.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambda_bridge::base64 {

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
