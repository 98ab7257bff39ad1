// Amazon VPC Lattice, event formats v1 and v2 (docs/event-mapping.md, "VPC Lattice").
//   event:  v2 has requestContext.serviceNetworkArn (or version "2.0" with a method and no requestContext.http);
//           v1 has raw_path and method. The method, the path (raw_path in v1), which may carry the raw query
//           itself, else query_string_parameters (v1) or queryStringParameters (v2), headers, body and
//           is_base64_encoded (v1) or isBase64Encoded (v2).
//   result: statusCode, statusDescription, headers joined with ',', body and isBase64Encoded. Lattice buffers.
#include "result_writer.hpp"
#include "sources.hpp"

namespace lambda_bridge::events {
namespace {

void build_request(request_builder& b) {
  const bool v1 = b.out().shape.source == event_source::lattice_v1;
  b.set_method(b.string_member("method"), "method");
  const std::string_view path = b.string_member(v1 ? "raw_path" : "path").value_or("/");
  const auto qmark = path.find('?');
  b.set_path(path.substr(0, qmark));
  if (qmark != std::string_view::npos) {
    b.add_raw_query(path.substr(qmark + 1));  // as the client sent it
  } else {
    const std::string_view query = v1 ? "query_string_parameters" : "queryStringParameters";
    b.add_pairs(b.object_member(query), query, request_builder::query_encoding::decoded);
  }
  b.add_headers(b.object_member("headers"), "headers");
  b.set_body("body", v1 ? "is_base64_encoded" : "isBase64Encoded");
}

void write_result(json_writer& w, const response_shape&, const backend_reply& reply, bool text_body) {
  write_status_description(w, reply);
  w.key("headers");
  write_joined_headers(w, reply.headers, keep_header);
  write_body(w, reply, text_body);
}

}  // namespace

std::optional<event_source> lattice_version(const json_value& event) {
  const json_value* rc = find(event, "requestContext");
  const bool method_without_http =
      find(event, "method") != nullptr && (rc == nullptr || find(*rc, "http") == nullptr);
  if ((rc != nullptr && find(*rc, "serviceNetworkArn") != nullptr) ||
      (has_string(event, "version", "2.0") && method_without_http)) {
    return event_source::lattice_v2;
  }
  if (find(event, "raw_path") != nullptr && find(event, "method") != nullptr) return event_source::lattice_v1;
  return std::nullopt;
}

const source_rules lattice_rules{build_request, write_result, nullptr};

}  // namespace lambda_bridge::events
