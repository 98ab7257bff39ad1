// The reply side shared by the HTTP sources: the pieces of a result JSON (and of a stream prelude) that the
// sources combine in their own way — headers joined or multi-valued, cookies, the status description, the body.
// Header names and values from the app may be Latin-1 (obs-text); they are written as valid UTF-8 either way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge::events {

// Which of the reply's headers a result may carry: never the framing ones (the invoker frames the response).
inline bool keep_header(std::string_view name) { return !is_framing_header(name); }
inline bool is_set_cookie(std::string_view name) { return text::iequals(name, "set-cookie"); }
inline bool keep_header_except_cookies(std::string_view name) { return keep_header(name) && !is_set_cookie(name); }
using header_filter = bool (*)(std::string_view name);

// `s` as UTF-8: itself when it is valid, else read as Latin-1 and re-encoded into `scratch`.
std::string_view utf8_or_latin1(std::string_view s, std::string& scratch);
void write_text(json_writer& w, std::string_view s);

// Visits the distinct header names (case-insensitively, in order of first appearance) that pass `keep`:
// f(name, index of its first value).
template <class Keep, class F>
void for_each_name(const std::vector<header>& hs, Keep&& keep, F&& f) {
  for (std::size_t i = 0; i < hs.size(); ++i) {
    if (!keep(hs[i].name)) continue;
    bool seen = false;
    for (std::size_t j = 0; j < i && !seen; ++j) seen = text::iequals(hs[j].name, hs[i].name);
    if (!seen) f(hs[i].name, i);
  }
}

// One member per header name, repeated values joined with ',' (never dropping all but the first): the members
// alone, or a whole object.
template <class Keep>
void write_joined_members(json_writer& w, const std::vector<header>& hs, Keep&& keep);
template <class Keep>
void write_joined_headers(json_writer& w, const std::vector<header>& hs, Keep&& keep) {
  w.begin_object();
  write_joined_members(w, hs, keep);
  w.end_object();
}
// One member per header name, every value in an array.
template <class Keep>
void write_multi_value_headers(json_writer& w, const std::vector<header>& hs, Keep&& keep);

// "cookies": every Set-Cookie value, in order (payload 2.0 results and stream preludes).
void write_cookies(json_writer& w, const std::vector<header>& hs);
// "statusDescription": "404 Not Found" (ALB and VPC Lattice).
void write_status_description(json_writer& w, const backend_reply& r);
// "body" and "isBase64Encoded".
void write_body(json_writer& w, const backend_reply& r, bool text_body);

template <class Keep>
void write_joined_members(json_writer& w, const std::vector<header>& hs, Keep&& keep) {
  std::string joined, scratch;
  for_each_name(hs, keep, [&](std::string_view name, std::size_t first) {
    w.key(utf8_or_latin1(name, scratch));
    std::size_t next = first + 1;
    while (next < hs.size() && !text::iequals(hs[next].name, name)) ++next;
    if (next == hs.size()) {  // the usual case, one value: written from where it is (issue 14: no copy, no allocation)
      write_text(w, hs[first].value);
      return;
    }
    joined.clear();
    for (std::size_t j = first; j < hs.size(); ++j) {
      if (!text::iequals(hs[j].name, name)) continue;
      if (!joined.empty()) joined.push_back(',');
      joined.append(hs[j].value);
    }
    write_text(w, joined);
  });
}

template <class Keep>
void write_multi_value_headers(json_writer& w, const std::vector<header>& hs, Keep&& keep) {
  std::string scratch;
  w.begin_object();
  for_each_name(hs, keep, [&](std::string_view name, std::size_t first) {
    w.key(utf8_or_latin1(name, scratch));
    w.begin_array();
    for (std::size_t j = first; j < hs.size(); ++j) {
      if (text::iequals(hs[j].name, name)) write_text(w, hs[j].value);
    }
    w.end_array();
  });
  w.end_object();
}

}  // namespace lambda_bridge::events
