#include "event_writer.hpp"

#include <algorithm>

#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge::events {

split_target split(std::string_view target) {
  const auto qmark = target.find('?');
  return {target.substr(0, qmark), qmark == std::string_view::npos ? "" : target.substr(qmark + 1)};
}

header_groups group_headers(const std::vector<header>& hs, bool lower_names, bool skip_cookie) {
  header_groups out;
  for (const auto& h : hs) {
    if (skip_cookie && text::iequals(h.name, "cookie")) continue;
    const std::string name = lower_names ? text::lower(h.name) : h.name;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return text::iequals(g.first, name); });
    if (it == out.end()) {
      out.push_back({name, {h.value}});
    } else {
      it->second.push_back(h.value);
    }
  }
  return out;
}

std::vector<query_pair> split_query(std::string_view q, bool decode) {
  std::vector<query_pair> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view item = q.substr(0, amp);
    if (!item.empty()) {
      const auto eq = item.find('=');
      const std::string_view k = item.substr(0, eq);
      const std::string_view v = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      out.push_back(decode ? query_pair{percent_decode(k), percent_decode(v)}
                           : query_pair{std::string(k), std::string(v)});
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

void write_single_value_headers(json_writer& w, const header_groups& groups) {
  w.key("headers").begin_object();
  for (const auto& [name, values] : groups) w.key(name).string(values.back());
  w.end_object();
}

void write_single_value_query(json_writer& w, const std::vector<query_pair>& pairs) {
  w.key("queryStringParameters");
  if (pairs.empty()) {
    w.null();
    return;
  }
  w.begin_object();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const bool later = std::any_of(pairs.begin() + static_cast<std::ptrdiff_t>(i) + 1, pairs.end(),
                                   [&](const query_pair& q) { return q.key == pairs[i].key; });
    if (!later) w.key(pairs[i].key).string(pairs[i].value);
  }
  w.end_object();
}

std::string host_of(const gateway_request& req) {
  const auto h = find_header(req.headers, "host");
  return h.empty() ? std::string("localhost") : std::string(h);
}

void write_request_body(json_writer& w, const gateway_request& req) {
  const bool text = is_text_body(find_header(req.headers, "content-type"),
                                 find_header(req.headers, "content-encoding"), req.body);
  w.key("body");
  if (req.body.empty()) {
    w.null();
  } else if (text) {
    w.string(req.body);
  } else {
    w.base64_string(req.body);
  }
  w.key("isBase64Encoded").boolean(!text && !req.body.empty());
}

}  // namespace lambda_bridge::events
