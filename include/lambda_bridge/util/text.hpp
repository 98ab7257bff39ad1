// ASCII text helpers for protocol names and values: header names, media types, codings and environment values are
// compared without regard to case and with optional whitespace (RFC 9110 OWS) around them. And the one UTF-8 rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lambda_bridge::text {

bool iequals(std::string_view a, std::string_view b);
bool starts_with_ci(std::string_view s, std::string_view prefix);
bool ends_with_ci(std::string_view s, std::string_view suffix);
// Without leading and trailing spaces and tabs (RFC 9110 OWS).
std::string_view trim(std::string_view s);
std::string lower(std::string_view s);

// The length of the UTF-8 sequence that starts at `p` with a byte of 0x80 or more, `avail` bytes being readable
// from `p`, its code point stored in `*code_point` when asked; 0 when it is not UTF-8 (a stray continuation byte, a
// truncated sequence, an overlong form, a surrogate, a value past U+10FFFF, a lead byte of 0xF5 or more). The one
// definition behind is_valid_utf8 (core/response.hpp), the event's one-pass scan (events::scan_event_text) and the
// JSON writer's escaping (json_writer.cpp), which decides whether a reply goes out as text or as base64.
inline std::size_t utf8_sequence_length(const unsigned char* p, std::size_t avail,
                                        std::uint32_t* code_point = nullptr) {
  const unsigned char c = *p;
  std::size_t n;
  std::uint32_t cp;
  if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
  else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
  else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
  else return 0;
  if (avail <= n) return 0;
  for (std::size_t i = 1; i <= n; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  if (code_point != nullptr) *code_point = cp;
  return n + 1;
}

}  // namespace lambda_bridge::text
