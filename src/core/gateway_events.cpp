#include "lambda_bridge/core/gateway_events.hpp"

#include "events/sources.hpp"
#include "lambda_bridge/util/json_writer.hpp"

namespace lambda_bridge {

std::string_view to_string(gateway_format f) {
  static constexpr std::string_view names[] = {"http-api", "rest", "alb", "function-url"};  // enum order
  static_assert(std::size(names) == static_cast<std::size_t>(gateway_format::function_url) + 1);
  const auto i = static_cast<std::size_t>(f);
  return i < std::size(names) ? names[i] : "http-api";
}

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string make_gateway_event(gateway_format format, const gateway_request& req, const gateway_event_ids& ids) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  switch (format) {
    case gateway_format::http_api:
      events::write_http_api_event(w, req, ids, false);
      break;
    case gateway_format::function_url:
      events::write_http_api_event(w, req, ids, true);
      break;
    case gateway_format::rest:
      events::write_rest_event(w, req, ids);
      break;
    case gateway_format::alb:
      events::write_alb_event(w, req, ids);
      break;
  }
  w.end_object();
  return out;
}

}  // namespace lambda_bridge
