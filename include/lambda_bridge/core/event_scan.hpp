// The event's one pass before the parse (translate.hpp), which can be taken while the event is still arriving: each
// time the runtime client's next read of the body would wait, it feeds what has come to an event_scanner, and the
// translator finishes the scan on the whole event. A large event is then mostly scanned in the waits for its later
// bytes, instead of in one pass over all of it after the last byte (docs/performance.md, "Scanned as it arrives").
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace lambda_bridge::events {

// What the translator checks in an event's text before it parses it, found in one linear pass: the deepest nesting
// of arrays and objects (strings skipped), so that a hostile event is refused before any recursive code (serialising
// requestContext) could meet it; whether its bytes are UTF-8; whether it holds a raw NUL (never valid JSON); and
// whether it holds a backslash (an escape, which the in-place parse decodes by moving bytes: event_text). And its
// longest plain string: no control byte, and no escape but the eight short ones (json_text::short_escape; a JSON
// body's quotes are escaped so), where its text begins (past the opening quote), its length, and how many escapes it
// holds. The parse can leave that string out when it is most of the event, and the body be decoded apart
// (event_text).
struct event_scan {
  std::size_t depth = 0;
  bool valid_utf8 = true;
  bool has_nul = false;
  bool has_backslash = false;
  std::size_t plain_string_offset = 0;
  std::size_t plain_string_size = 0;
  std::size_t plain_string_escapes = 0;

  friend bool operator==(const event_scan&, const event_scan&) = default;
};

// The scan, resumable. feed() may be called any number of times with the bytes received so far (each call a longer
// prefix of the same event, in the same buffer or not: only offsets are kept); it stops short of a UTF-8 sequence
// or an escape that the end of the bytes may have cut, and takes it up on the next call. finish() scans the rest of
// the whole event and gives the same event_scan as one pass over it (tests/unit/test_event_scan.cpp holds
// them equal at every cut). A scanner is used for one event; reset() readies it for the next (a scanner that has
// passed the end of the text it is given starts over by itself, since that text cannot be the one it was fed).
class event_scanner {
 public:
  void feed(std::string_view received) { advance(received, false); }
  event_scan finish(std::string_view event) {
    advance(event, true);
    return found_;
  }
  void reset() { *this = event_scanner{}; }
  // How many bytes the scan has passed (the part of the event finish() need not read again).
  std::size_t scanned() const { return pos_; }

  // Whether the scan takes 64-byte steps (with AVX2, where the CPU has it: the default) or goes a byte at a time;
  // returns what it does now. For the tests, which hold the two to each other; the bridge never calls it.
  static bool use_blocks(bool on);
  static bool using_blocks();

 private:
  void advance(std::string_view json, bool whole);
  std::size_t byte_steps(std::string_view json, std::size_t i, std::size_t limit, bool whole, bool& stalled);
  std::size_t block_step(const char* s, std::size_t i, std::size_t n);
  // A byte that is not a backslash nor non-ASCII, `after` the offset just past it: what it changes.
  void visit(unsigned char c, std::size_t after) {
    if (c < 0x20) {
      if (c == 0) found_.has_nul = true;
      if (in_string_) string_plain_ = false;  // never valid JSON in a string: left for RapidJSON to report
    } else if (c == '"') {
      if (!in_string_) {
        string_begin_ = after;
        string_plain_ = true;
        string_escapes_ = 0;
      } else if (string_plain_ && after - 1 - string_begin_ > found_.plain_string_size) {
        found_.plain_string_size = after - 1 - string_begin_;
        found_.plain_string_offset = string_begin_;
        found_.plain_string_escapes = string_escapes_;
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

  event_scan found_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t string_begin_ = 0;  // just past the opening quote of the string the scan is in
  bool in_string_ = false;
  bool string_plain_ = false;  // that string has no control byte and no escape but short ones so far
  std::size_t string_escapes_ = 0;  // and this many of those
};

// One pass over a whole event.
inline event_scan scan_event_text(std::string_view json) { return event_scanner{}.finish(json); }
// scan_event_text's depth alone.
std::size_t json_nesting_depth(std::string_view json);

}  // namespace lambda_bridge::events
