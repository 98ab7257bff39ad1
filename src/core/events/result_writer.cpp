#include "result_writer.hpp"

#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge::events {

std::string_view utf8_or_latin1(std::string_view s, std::string& scratch) {
  if (is_valid_utf8(s)) return s;
  scratch.clear();
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      scratch.push_back(ch);
    } else {
      scratch.push_back(static_cast<char>(0xc0 | (c >> 6)));
      scratch.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return scratch;
}

void write_text(json_writer& w, std::string_view s) {
  std::string scratch;
  w.string(utf8_or_latin1(s, scratch));
}

void write_cookies(json_writer& w, const std::vector<header>& hs) {
  w.key("cookies").begin_array();
  for (const auto& h : hs) {
    if (is_set_cookie(h.name)) write_text(w, h.value);
  }
  w.end_array();
}

void write_status_description(json_writer& w, const backend_reply& r) {
  std::string description = std::to_string(r.status);
  description.push_back(' ');
  const std::string_view reason = reason_phrase(r.status);
  const bool own_reason_usable = !r.reason.empty() && uri::is_field_value(r.reason);
  description.append(!reason.empty() ? reason : (own_reason_usable ? std::string_view(r.reason) : "Unknown"));
  // The app's own reason phrase may hold obs-text (Latin-1) bytes, as header values may: written raw they made the
  // whole result invalid UTF-8, which Lambda refuses (found by fuzz_response).
  w.key("statusDescription");
  write_text(w, description);
}

void write_body(json_writer& w, const backend_reply& r, bool text_body) {
  w.key("body");
  if (text_body) {
    w.string(r.body);
  } else {
    w.base64_string(r.body);
  }
  w.key("isBase64Encoded").boolean(!text_body);
}

}  // namespace lambda_bridge::events
