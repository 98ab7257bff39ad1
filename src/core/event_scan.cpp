#include "lambda_bridge/core/event_scan.hpp"

#include <algorithm>

#include "lambda_bridge/util/json_text.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge::events {

// One pass for the four things the translator must know before it parses: the nesting depth, UTF-8, a NUL, a
// backslash. They were four passes over the whole event; a large event is read from memory once instead of four
// times (a 4 MB one translates in 325 instead of 405 µs; docs/performance.md, "One pass before the parse"). Inside a
// string, the plain stretch (no quote, backslash, control byte or non-ASCII byte) is skipped at once (json_text.hpp),
// which is nearly all of a large body. On the way it notes the longest string with no escape and no control byte:
// the parse can leave that one out (event_text).
//
// Before the whole event is there (`whole` false), it stops where the verdict could depend on a byte not yet
// received: at a non-ASCII byte whose sequence is invalid with fewer than four bytes left (it may be cut, not wrong),
// and at a backslash that is the last byte (what it escapes decides whether the string ends there).
void event_scanner::advance(std::string_view json, bool whole) {
  const auto* const begin = reinterpret_cast<const unsigned char*>(json.data());
  const auto* p = begin + std::min(pos_, json.size());
  const auto* const end = begin + json.size();
  while (p < end) {
    if (in_string_) {
      p = begin + json_text::first_special<true>(json.data(), static_cast<std::size_t>(p - begin), json.size());
      if (p == end) break;
    }
    const unsigned char c = *p;
    if (c >= 0x80) {
      const auto left = static_cast<std::size_t>(end - p);
      const std::size_t n = text::utf8_sequence_length(p, left);
      if (n == 0) {
        if (!whole && left < 4) break;
        found_.valid_utf8 = false;
        ++p;
      } else {
        p += n;
      }
      continue;
    }
    if (c == '\\' && !whole && p + 1 == end) break;
    ++p;
    if (c < 0x20) {
      if (c == 0) found_.has_nul = true;
      if (in_string_) string_plain_ = false;  // never valid JSON in a string: left for RapidJSON to report
    } else if (c == '\\') {
      found_.has_backslash = true;
      if (in_string_) {
        string_plain_ = false;
        // An escaped quote or backslash does not end the string, nor start an escape of its own.
        if (p < end && (*p == '"' || *p == '\\')) ++p;
      }
    } else if (c == '"') {
      const auto at = static_cast<std::size_t>(p - begin);
      if (!in_string_) {
        string_begin_ = at;
        string_plain_ = true;
      } else if (string_plain_ && at - 1 - string_begin_ > found_.plain_string_size) {
        found_.plain_string_size = at - 1 - string_begin_;
        found_.plain_string_offset = string_begin_;
      }
      in_string_ = !in_string_;
    } else if (!in_string_) {
      if (c == '{' || c == '[') {
        found_.depth = std::max(found_.depth, ++depth_);
      } else if ((c == '}' || c == ']') && depth_ > 0) {
        --depth_;
      }
    }
  }
  pos_ = static_cast<std::size_t>(p - begin);
}

std::size_t json_nesting_depth(std::string_view json) { return scan_event_text(json).depth; }

}  // namespace lambda_bridge::events
