// The event sources, one file each (events/<source>.cpp), and what every one of them provides. The dispatchers
// (translate.cpp for events, response.cpp for results, gateway_events.cpp for the local gateway) pick a source's
// rules and call them; nothing outside a source's file knows the field names of its events or results.
#pragma once

#include <optional>
#include <string>

#include "lambda_bridge/core/gateway_events.hpp"
#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/core/translate.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "request_builder.hpp"

namespace lambda_bridge::events {

struct source_rules {
  // Reads the event's fields into b's request: method, target, headers and body (the dispatcher adds the headers
  // every source gets, from b.request_context among others).
  void (*build_request)(request_builder& b);
  // Writes the result's members after "statusCode"; null for pass-through, whose result is the reply's body.
  void (*write_result)(json_writer& w, const response_shape& shape, const backend_reply& reply, bool text_body);
  // Writes a stream prelude's members after "statusCode"; null where the invoker cannot take a stream (it would
  // take the prelude's bytes for the body).
  void (*write_prelude)(json_writer& w, const backend_reply& head);
};

// Detection, in the order translate.cpp asks (an earlier source's marks may also appear in a later one's events).
bool is_alb(const json_value& event);                                  // alb.cpp
std::optional<event_source> lattice_version(const json_value& event);  // lattice.cpp
std::optional<event_source> http_api_kind(const json_value& event);    // http_api.cpp: HTTP API v2 or Function URL
bool is_websocket(const json_value& event);                            // pass_through.cpp
bool is_rest(const json_value& event);                                 // rest.cpp

extern const source_rules rest_rules;          // rest.cpp: API Gateway REST, and HTTP API payload 1.0
extern const source_rules http_api_rules;      // http_api.cpp: HTTP API payload 2.0 and Function URLs
extern const source_rules alb_rules;           // alb.cpp: Application Load Balancer
extern const source_rules lattice_rules;       // lattice.cpp: VPC Lattice, v1 and v2
extern const source_rules pass_through_rules;  // pass_through.cpp: SQS, SNS, S3, EventBridge, WebSocket, any other

const source_rules& rules_for(event_source source);

// pass_through.cpp: the result of a non-HTTP event is the app's reply body, JSON as it is or text as a string.
maybe_failure write_pass_through_result(backend_reply& reply, std::string& out);

// The events the local gateway emulation sends for an HTTP request, in each source's file.
void write_http_api_event(json_writer& w, const gateway_request& req, const gateway_event_ids& ids,
                          bool function_url);
void write_rest_event(json_writer& w, const gateway_request& req, const gateway_event_ids& ids);
void write_alb_event(json_writer& w, const gateway_request& req, const gateway_event_ids& ids);

}  // namespace lambda_bridge::events
