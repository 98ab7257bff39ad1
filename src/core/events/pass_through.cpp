// Every event that is not an HTTP request: SQS, SNS, S3, EventBridge, API Gateway WebSocket, custom invocations
// (docs/event-mapping.md, "Non-HTTP events").
//   event:  forwarded byte for byte as the body of POST AWS_LWA_PASS_THROUGH_PATH (default /events).
//   result: the app's reply body: JSON as it is, other UTF-8 text as a JSON string, nothing as null; the status
//           and headers of the reply are not part of it. No stream.
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/uri.hpp"
#include "sources.hpp"

namespace lambda_bridge::events {
namespace {

void build_request(request_builder& b) {
  auto& req = b.request();
  req.method = "POST";
  req.target.clear();
  uri::append_path(req.target, b.options().pass_through_path);
  req.headers.push_back({"content-type", "application/json"});
  req.body = b.take_raw_event();  // byte for byte as it arrived, though it was parsed in place
}

bool is_json(std::string_view body) {
  // RapidJSON reads a NUL byte as the end of the input, so "5\r\n\0garbage" passed as the JSON "5" and went to
  // Lambda byte for byte, NUL and garbage included (found by fuzz_response). JSON text never holds a raw NUL.
  if (body.find('\0') != std::string_view::npos) return false;
  // Validation only: a SAX pass with a handler that accepts everything, no DOM.
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(body.data(), body.size());
  rapidjson::BaseReaderHandler<> accept_all;
  return !reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(ms, accept_all)
              .IsError();
}

}  // namespace

bool is_websocket(const json_value& event) {
  const json_value* rc = find(event, "requestContext");
  return rc != nullptr && (find(*rc, "connectionId") != nullptr || find(*rc, "eventType") != nullptr);
}

const source_rules pass_through_rules{build_request, nullptr, nullptr};

maybe_failure write_pass_through_result(backend_reply& reply, std::string& out) {
  if (reply.body.empty()) {
    out = "null";
  } else if (is_json(reply.body)) {
    out.swap(reply.body);  // the body is the result, byte for byte
  } else if (is_valid_utf8(reply.body)) {
    append_json_string(out, reply.body);
  } else {
    return failure{error_types::backend_invalid_response,
                   "the app's reply to a non-HTTP event is neither JSON nor UTF-8 text, so it cannot be a Lambda "
                   "result"};
  }
  return std::nullopt;
}

}  // namespace lambda_bridge::events
