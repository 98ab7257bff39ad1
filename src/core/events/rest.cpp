// API Gateway REST APIs, and HTTP APIs sending payload format 1.0 (docs/event-mapping.md, "REST").
//   event:  httpMethod, path, multiValueQueryStringParameters or queryStringParameters (decoded: encoded here),
//           multiValueHeaders with headers adding only the names it lacks (X-Forwarded-Proto: https when neither
//           has one), body and isBase64Encoded.
//   result: statusCode, every header in multiValueHeaders (API Gateway merges the two maps, so filling both would
//           duplicate every header), body and isBase64Encoded.
//   stream: REST in stream transfer mode takes the prelude, single headers in headers, repeated ones in
//           multiValueHeaders.
#include <algorithm>

#include "event_writer.hpp"
#include "result_writer.hpp"
#include "sources.hpp"

namespace lambda_bridge::events {
namespace {

void build_request(request_builder& b) {
  const auto query = b.read_v1_request_line();
  b.add_pairs(query.map, query.field, request_builder::query_encoding::decoded);
  b.add_v1_headers();
  // API Gateway serves HTTPS only and always says so; a hand-written event that does not still gets it, so the app
  // builds https redirects and absolute URLs from it as from a real event.
  b.add_header_if_absent("X-Forwarded-Proto", "https");
  b.set_body("body", "isBase64Encoded");
}

void write_result(json_writer& w, const response_shape&, const backend_reply& reply, bool text_body) {
  w.key("headers").begin_object().end_object();
  w.key("multiValueHeaders");
  write_multi_value_headers(w, reply.headers, keep_header);
  write_body(w, reply, text_body);
}

// Each name goes into exactly one map: repeated ones (cookies among them) into multiValueHeaders, so no value is
// lost.
void write_prelude(json_writer& w, const backend_reply& head) {
  auto repeated = [&](std::string_view name) {
    std::size_t count = 0;
    for (const auto& h : head.headers) count += text::iequals(h.name, name) ? 1 : 0;
    return count > 1 || is_set_cookie(name);
  };
  w.key("headers");
  write_joined_headers(w, head.headers, [&](std::string_view n) { return keep_header(n) && !repeated(n); });
  w.key("multiValueHeaders");
  write_multi_value_headers(w, head.headers, [&](std::string_view n) { return keep_header(n) && repeated(n); });
}

void write_multi_value_query(json_writer& w, const std::vector<query_pair>& pairs) {
  w.key("multiValueQueryStringParameters");
  if (pairs.empty()) {
    w.null();
    return;
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> multi;
  for (const auto& p : pairs) {
    auto it = std::find_if(multi.begin(), multi.end(), [&](const auto& m) { return m.first == p.key; });
    if (it == multi.end()) {
      multi.push_back({p.key, {p.value}});
    } else {
      it->second.push_back(p.value);
    }
  }
  w.begin_object();
  for (const auto& [k, vs] : multi) {
    w.key(k).begin_array();
    for (const auto& v : vs) w.string(v);
    w.end_array();
  }
  w.end_object();
}

void write_request_context(json_writer& w, const gateway_request& req, const gateway_event_ids& ids,
                           const std::string& path) {
  w.key("requestContext").begin_object();
  w.key("accountId").string(local_account_id);
  w.key("apiId").string("local");
  w.key("domainName").string(host_of(req));
  w.key("httpMethod").string(req.method);
  w.key("identity").begin_object();
  w.key("sourceIp").string(req.source_ip);
  w.key("userAgent").string(find_header(req.headers, "user-agent"));
  w.end_object();
  w.key("path").string("/local" + path);
  w.key("protocol").string("HTTP/1.1");
  w.key("requestId").string(ids.request_id);
  w.key("requestTimeEpoch").integer(ids.epoch_ms);
  w.key("resourcePath").string("/{proxy+}");
  w.key("stage").string("local");
  w.end_object();
}

}  // namespace

bool is_rest(const json_value& event) {
  const json_value* method = find(event, "httpMethod");
  return method != nullptr && method->IsString();
}

const source_rules rest_rules{build_request, write_result, write_prelude};

// API Gateway decodes the path and the query before handing them over.
void write_rest_event(json_writer& w, const gateway_request& req, const gateway_event_ids& ids) {
  const auto [raw_path, raw_query] = split(req.target);
  const std::string path = percent_decode(raw_path);
  const auto pairs = split_query(raw_query, true);
  const auto groups = group_headers(req.headers, false, false);
  w.key("resource").string("/{proxy+}");
  w.key("path").string(path);
  w.key("httpMethod").string(req.method);
  write_single_value_headers(w, groups);
  w.key("multiValueHeaders").begin_object();
  for (const auto& [name, values] : groups) {
    w.key(name).begin_array();
    for (const auto& v : values) w.string(v);
    w.end_array();
  }
  w.end_object();
  write_single_value_query(w, pairs);
  write_multi_value_query(w, pairs);
  w.key("pathParameters").begin_object().key("proxy").string(path.empty() ? path : path.substr(1)).end_object();
  w.key("stageVariables").null();
  write_request_context(w, req, ids, path);
  write_request_body(w, req);
}

}  // namespace lambda_bridge::events
