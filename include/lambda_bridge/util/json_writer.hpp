// A minimal append-only JSON writer into a caller's std::string. The result JSON is written in one pass straight
// into a buffer the worker reuses across invocations; base64 bodies are encoded in place (no JSON DOM, no
// temporary strings). Used by the response conversion and the context headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lambda_bridge {

// Appends `s` as a quoted JSON string. Invalid UTF-8 is not checked here; control bytes are escaped.
void append_json_string(std::string& out, std::string_view s);
// The same with every byte of the output ASCII: non-ASCII code points as \u escapes (surrogate pairs above U+FFFF),
// malformed UTF-8 as U+FFFD. For JSON that travels in an HTTP header value.
void append_json_string_ascii(std::string& out, std::string_view s);
// Appends `s` as a quoted JSON string if it is valid UTF-8 (no overlong form, surrogate or code point past
// U+10FFFF) and returns true; otherwise returns false with `out` as it was. One pass checks and escapes: a reply body
// is text only if it is UTF-8, and scanning it twice cost as much as the escaping.
bool append_json_string_if_utf8(std::string& out, std::string_view s);

// Escaping in place, for a body read straight into the result: first how many bytes escaping `s` as a JSON
// string's contents adds (nullopt when `s` is not valid UTF-8), then the escaping itself, of the `n` bytes at `buf`
// with `growth` that count, into the n + growth bytes from `buf`.
std::optional<std::size_t> json_escape_growth(std::string_view s);
void escape_json_in_place(char* buf, std::size_t n, std::size_t growth);

class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& string(std::string_view v);
  json_writer& integer(std::int64_t v);
  json_writer& boolean(bool v);
  json_writer& null();
  // Already-serialised JSON, inserted verbatim (the caller guarantees it is valid).
  json_writer& raw(std::string_view json);
  // A JSON string holding the base64 encoding of `bytes`.
  json_writer& base64_string(std::string_view bytes);

  std::string& out() { return out_; }

 private:
  void separate();

  std::string& out_;
  // One bit per nesting level: whether the next value at that level needs a leading comma.
  std::uint64_t needs_comma_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace lambda_bridge
