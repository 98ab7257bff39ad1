// The pure translation core, event side: a Lambda event (JSON bytes) and its invocation context in, the HTTP
// request for the app out. No sockets, clocks or environment: everything it needs arrives as arguments, so it is
// tested on fixtures alone. The rules it implements, and why each exists, are in docs/event-mapping.md.
//
// Called by the invocation (one per event); the translator object only keeps parse buffers for reuse, so one
// translator per worker serves every invocation of that worker.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/core/event_scan.hpp"
#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/core/invocation_context.hpp"
#include "lambda_bridge/core/result.hpp"

namespace lambda_bridge {

enum class event_source {
  alb,
  lattice_v1,
  lattice_v2,
  http_api_v2,
  function_url,
  rest,          // API Gateway REST, and HTTP API payload 1.0
  pass_through,  // SQS, SNS, S3, EventBridge, WebSocket, anything else
};

std::string_view to_string(event_source s);

// What the response conversion needs to know about the request.
struct response_shape {
  event_source source = event_source::pass_through;
  bool multi_value = false;  // ALB multi-value headers mode
  bool head = false;         // a HEAD request: the reply has no body whatever it says
  std::string accept_encoding;  // the client's, for response compression
};

struct translation {
  response_shape shape;
  backend_request request;
  std::vector<std::string> dropped_headers;  // names refused for the wire, reported in the log
};

struct translate_options {
  std::string_view pass_through_path = "/events";
  std::string_view remove_base_path;
  bool strip_stage = false;
  std::string_view authorization_source;
  std::string_view default_host = "127.0.0.1";  // Host when the event has neither a Host header nor a domainName
  const function_environment* function = nullptr;
};

class translator {
 public:
  translator();
  ~translator();
  translator(const translator&) = delete;
  translator& operator=(const translator&) = delete;

  // `event` is consumed: a pass-through event moves into the request body unchanged. `scanned`, when given, has been
  // fed the event as it arrived (event_scan.hpp): the scan is finished from where it stopped rather than taken
  // from the start, and the scanner is then spent (reset it before it is fed another event).
  result<translation> translate(std::string&& event, const invocation_context& ctx, const translate_options& opts,
                                events::event_scanner* scanned = nullptr);
  // A served request's strings and lists, kept for the next translate: a steady stream of similar events then
  // translates without allocating (its body goes back to the runtime client instead, as the next event's buffer).
  void recycle(backend_request&& used);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace lambda_bridge
