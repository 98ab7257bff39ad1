// The inverse translation, for local runs: an ordinary HTTP request made into the event API Gateway (HTTP API v2
// or REST), an ALB or a Function URL would send for it. The local gateway emulation (local/gateway.hpp) feeds
// these to the invocation path; each source's file in src/core/events writes its own kind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/core/http_message.hpp"

namespace lambda_bridge {

enum class gateway_format { http_api, rest, alb, function_url };

std::string_view to_string(gateway_format f);

struct gateway_request {
  std::string method;
  std::string target;  // as received: path and optional query
  std::vector<header> headers;
  std::string body;
  std::string source_ip;
};

struct gateway_event_ids {
  std::string request_id;
  std::int64_t epoch_ms = 0;
};

// The event the gateway would send for this request.
std::string make_gateway_event(gateway_format format, const gateway_request& req, const gateway_event_ids& ids);

std::string percent_decode(std::string_view s);

}  // namespace lambda_bridge
