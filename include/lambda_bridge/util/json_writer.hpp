// A minimal append-only JSON writer into a caller's std::string. The result JSON is written in one pass straight
// into a buffer the worker reuses across invocations; base64 bodies are encoded in place (no JSON DOM, no
// temporary strings). Used by the response conversion and the context headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lambda_bridge {

// Appends `s` as a quoted JSON string. Invalid UTF-8 is not checked here; control bytes are escaped.
void append_json_string(std::string& out, std::string_view s);
// The same with every byte of the output ASCII: non-ASCII code points as \u escapes (surrogate pairs above U+FFFF),
// malformed UTF-8 as U+FFFD. For JSON that travels in an HTTP header value.
void append_json_string_ascii(std::string& out, std::string_view s);

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
