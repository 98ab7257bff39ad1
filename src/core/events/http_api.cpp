// API Gateway HTTP APIs with payload format 2.0, and Lambda Function URLs, which send the same payload
// (docs/event-mapping.md, "HTTP API v2 and Function URLs").
//   event:  version "2.0" and requestContext.http mark it; a domainName under .lambda-url. makes it a Function
//   URL.
//           requestContext.http.method, rawPath (the stage prefix stripped on request), rawQueryString as the
//           client sent it, headers (repeated values already joined), cookies as an array that is the truth over
//           any cookie header, body and isBase64Encoded.
//   result: statusCode, headers joined with ',', every Set-Cookie in cookies, body and isBase64Encoded.
//   stream: both take the prelude, with the same headers and cookies.
#include <algorithm>

#include "event_writer.hpp"
#include "lambda_bridge/util/uri.hpp"
#include "result_writer.hpp"
#include "sources.hpp"

namespace lambda_bridge::events {
namespace {

constexpr std::string_view function_url_domain = "local.lambda-url.us-east-1.on.aws";

// The cookies array, joined into one cookie header; only an entry that may not appear on the wire is dropped (and
// logged), its neighbours are good cookies.
void add_cookies(request_builder& b) {
  const json_value* cookies = find(b.event(), "cookies");
  if (cookies == nullptr) return;
  if (!cookies->IsArray()) {
    b.type_error("cookies", "an array of strings");
    return;
  }
  auto& headers = b.request().headers;
  std::erase_if(headers, [](const header& h) { return text::iequals(h.name, "cookie"); });
  std::string joined;
  for (const auto& c : cookies->GetArray()) {
    if (!c.IsString()) {
      b.type_error("cookies", "an array of strings");
      break;
    }
    if (!uri::is_field_value(view(c))) {
      b.out().dropped_headers.push_back("cookie");
      continue;
    }
    if (!joined.empty()) joined.append("; ");
    joined.append(view(c));
  }
  if (!joined.empty()) headers.push_back({"cookie", std::move(joined)});
}

void build_request(request_builder& b) {
  const json_value* rc = b.request_context;
  const json_value* http = b.object_member(*rc, "http", "requestContext.http");
  b.set_method(http != nullptr ? b.string_member(*http, "method", "requestContext.http.method") : std::nullopt,
               "requestContext.http.method");
  std::string_view path = b.string_member("rawPath").value_or("/");
  if (b.options().strip_stage) {
    const std::string_view stage = b.string_member(*rc, "stage", "requestContext.stage").value_or("");
    std::string prefix = "/";  // built by append: "/" + std::string trips GCC 12's false -Wrestrict (PR 105329)
    prefix.append(stage);
    if (!stage.empty() && stage != "$default") path = uri::strip_prefix_segment(path, prefix);
  }
  b.set_path(path);
  b.add_raw_query(b.string_member("rawQueryString").value_or(""));
  b.add_headers(b.object_member("headers"), "headers");
  add_cookies(b);
  // API Gateway and Function URLs serve HTTPS only and always say so; a hand-written event that does not still
  // gets it, so the app builds https redirects and absolute URLs from it as from a real event.
  b.add_header_if_absent("x-forwarded-proto", "https");
  b.set_body("body", "isBase64Encoded");
}

void write_headers_and_cookies(json_writer& w, const backend_reply& reply) {
  w.key("headers");
  write_joined_headers(w, reply.headers, keep_header_except_cookies);
  write_cookies(w, reply.headers);
}

void write_result(json_writer& w, const response_shape&, const backend_reply& reply, bool text_body) {
  write_headers_and_cookies(w, reply);
  write_body(w, reply, text_body);
}

// The Cookie headers' cookies, one entry each.
std::vector<std::string> request_cookies(const gateway_request& req) {
  std::vector<std::string> cookies;
  for (const auto& h : req.headers) {
    if (!text::iequals(h.name, "cookie")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      const auto semi = v.find(';');
      std::string_view c = v.substr(0, semi);
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      if (!c.empty()) cookies.emplace_back(c);
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return cookies;
}

// queryStringParameters: repeated keys' values joined with ','; absent when there is no query.
void write_joined_query(json_writer& w, std::string_view raw_query) {
  const auto pairs = split_query(raw_query, true);
  if (pairs.empty()) return;
  std::vector<std::pair<std::string, std::string>> joined;
  for (const auto& p : pairs) {
    auto it = std::find_if(joined.begin(), joined.end(), [&](const auto& j) { return j.first == p.key; });
    if (it == joined.end()) {
      joined.push_back({p.key, p.value});
    } else {
      it->second.append(",").append(p.value);
    }
  }
  w.key("queryStringParameters").begin_object();
  for (const auto& [k, v] : joined) w.key(k).string(v);
  w.end_object();
}

void write_request_context(json_writer& w, const gateway_request& req, const gateway_event_ids& ids,
                           const std::string& path, bool function_url) {
  const std::string domain = function_url ? std::string(function_url_domain) : host_of(req);
  w.key("requestContext").begin_object();
  w.key("accountId").string(local_account_id);
  w.key("apiId").string("local");
  w.key("domainName").string(domain);
  w.key("domainPrefix").string(domain.substr(0, domain.find('.')));
  w.key("http").begin_object();
  w.key("method").string(req.method);
  w.key("path").string(path);
  w.key("protocol").string("HTTP/1.1");
  w.key("sourceIp").string(req.source_ip);
  w.key("userAgent").string(find_header(req.headers, "user-agent"));
  w.end_object();
  w.key("requestId").string(ids.request_id);
  w.key("routeKey").string("$default");
  w.key("stage").string("$default");
  w.key("timeEpoch").integer(ids.epoch_ms);
  w.end_object();
}

}  // namespace

std::optional<event_source> http_api_kind(const json_value& event) {
  const json_value* rc = find(event, "requestContext");
  if (rc == nullptr || find(*rc, "http") == nullptr || !has_string(event, "version", "2.0")) return std::nullopt;
  const json_value* domain = find(*rc, "domainName");
  if (domain != nullptr && domain->IsString() && view(*domain).find(".lambda-url.") != std::string_view::npos) {
    return event_source::function_url;
  }
  return event_source::http_api_v2;
}

const source_rules http_api_rules{build_request, write_result, write_headers_and_cookies};

void write_http_api_event(json_writer& w, const gateway_request& req, const gateway_event_ids& ids,
                          bool function_url) {
  const auto [raw_path, raw_query] = split(req.target);
  // API Gateway hands over the decoded path; a Function URL keeps the client's encoding.
  const std::string path = function_url ? std::string(raw_path) : percent_decode(raw_path);
  w.key("version").string("2.0");
  w.key("routeKey").string("$default");
  w.key("rawPath").string(path);
  w.key("rawQueryString").string(raw_query);
  if (const auto cookies = request_cookies(req); !cookies.empty()) {
    w.key("cookies").begin_array();
    for (const auto& c : cookies) w.string(c);
    w.end_array();
  }
  w.key("headers").begin_object();
  for (const auto& [name, values] : group_headers(req.headers, true, true)) {
    std::string joined;
    for (const auto& v : values) joined.append(joined.empty() ? "" : ",").append(v);
    w.key(name).string(joined);
  }
  w.end_object();
  write_joined_query(w, raw_query);
  write_request_context(w, req, ids, path, function_url);
  write_request_body(w, req);
}

}  // namespace lambda_bridge::events
