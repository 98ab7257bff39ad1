// Application Load Balancer target-group events (docs/event-mapping.md, "ALB").
//   event:  requestContext.elb marks it. Payload 1.0 fields as REST, but the query keys and values arrive as the
//           client encoded them (re-encoding would turn %3A into %253A), and the target group's multi-value
//           setting shows in the event (multiValueHeaders or multiValueQueryStringParameters present).
//   result: statusCode and statusDescription; in multi-value mode multiValueHeaders, else one value per name in
//           headers, where several cookies survive only under names that differ in case. ALB buffers: no stream.
#include "event_writer.hpp"
#include "result_writer.hpp"
#include "sources.hpp"

namespace lambda_bridge::events {
namespace {

void build_request(request_builder& b) {
  const auto query = b.read_v1_request_line();
  b.out().shape.multi_value = find(b.event(), "multiValueHeaders") != nullptr || query.multi_value_present;
  b.add_pairs(query.map, query.field, request_builder::query_encoding::as_sent);
  b.add_v1_headers();
  b.set_body("body", "isBase64Encoded");
}

// set-cookie, Set-cookie, sEt-cookie, SEt-cookie … (bit k of the index upper-cases letter k).
std::string cookie_header_name(std::size_t index) {
  std::string name = "set-cookie";
  std::size_t bit = 0;
  for (auto& c : name) {
    if (c == '-') continue;
    if (index & (std::size_t{1} << bit)) c = static_cast<char>(c - 'a' + 'A');
    ++bit;
  }
  return name;
}

void write_result(json_writer& w, const response_shape& shape, const backend_reply& reply, bool text_body) {
  write_status_description(w, reply);
  if (shape.multi_value) {
    w.key("multiValueHeaders");
    write_multi_value_headers(w, reply.headers, keep_header);
  } else {
    w.key("headers").begin_object();
    write_joined_members(w, reply.headers, keep_header_except_cookies);
    std::size_t cookie_index = 0;
    for (const auto& h : reply.headers) {
      if (is_set_cookie(h.name)) {
        w.key(cookie_header_name(cookie_index++));
        write_text(w, h.value);
      }
    }
    w.end_object();
  }
  write_body(w, reply, text_body);
}

}  // namespace

bool is_alb(const json_value& event) {
  const json_value* rc = find(event, "requestContext");
  return rc != nullptr && find(*rc, "elb") != nullptr;
}

const source_rules alb_rules{build_request, write_result, nullptr};

// ALB passes the path and the query as the client encoded them, and lower-cases header names.
void write_alb_event(json_writer& w, const gateway_request& req,
                     const gateway_event_ids& /*no id or time in ALB's*/) {
  const auto [raw_path, raw_query] = split(req.target);
  w.key("requestContext").begin_object().key("elb").begin_object();
  w.key("targetGroupArn")
      .string("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/local/0123456789abcdef");
  w.end_object().end_object();
  w.key("path").string(raw_path);
  w.key("httpMethod").string(req.method);
  write_single_value_headers(w, group_headers(req.headers, true, false));
  write_single_value_query(w, split_query(raw_query, false));
  write_request_body(w, req);
}

}  // namespace lambda_bridge::events
