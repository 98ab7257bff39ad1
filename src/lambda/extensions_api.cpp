#include "lambda_bridge/lambda/extensions_api.hpp"

#include <algorithm>

#include <rapidjson/document.h>

#include "lambda_bridge/util/json_writer.hpp"

namespace lambda_bridge {
namespace {

constexpr std::string_view invalid_request = extension_invalid_request;

}  // namespace

std::optional<std::string> extension_name_for(std::string_view argv0, std::optional<bool> setting) {
  const auto slash = argv0.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  const std::string_view dir = slash == std::string_view::npos ? std::string_view{} : argv0.substr(0, slash);
  const bool in_extensions_dir = dir == extensions_dir;
  if (!setting.value_or(in_extensions_dir) || name.empty()) return std::nullopt;
  return std::string(name);
}

result<extension_event> parse_extension_event(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return failure{invalid_request, "the event is not a JSON object"};
  const auto text = [&d](const char* key) -> std::string {
    const auto it = d.FindMember(key);
    return it != d.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
  };
  extension_event ev;
  ev.event_type = text("eventType");
  if (ev.event_type.empty()) return failure{invalid_request, "the event has no eventType"};
  ev.shutdown_reason = text("shutdownReason");
  ev.request_id = text("requestId");
  if (const auto it = d.FindMember("deadlineMs"); it != d.MemberEnd() && it->value.IsInt64()) {
    ev.deadline_ms = it->value.GetInt64();
  }
  return ev;
}

result<std::vector<std::string>> parse_register_events(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) {
    return failure{invalid_request, "the body must be a JSON object such as {\"events\":[\"SHUTDOWN\"]}"};
  }
  const auto it = d.FindMember("events");
  if (it == d.MemberEnd() || !it->value.IsArray()) {
    return failure{invalid_request, "the body must have an \"events\" array, e.g. {\"events\":[\"SHUTDOWN\"]}"};
  }
  std::vector<std::string> events;
  for (const auto& e : it->value.GetArray()) {
    const std::string name = e.IsString() ? e.GetString() : std::string("(not a string)");
    if (name != "INVOKE" && name != "SHUTDOWN") {
      return failure{invalid_request, "unknown event \"" + name + "\": the events are INVOKE and SHUTDOWN"};
    }
    if (std::find(events.begin(), events.end(), name) == events.end()) events.push_back(name);
  }
  return events;
}

std::string shutdown_event_json(std::string_view reason, std::int64_t deadline_ms) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("eventType").string("SHUTDOWN").key("shutdownReason").string(reason);
  w.key("deadlineMs").integer(deadline_ms).end_object();
  return out;
}

std::string invoke_event_json(std::int64_t deadline_ms, std::string_view request_id, std::string_view function_arn,
                              std::string_view trace_id) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("eventType").string("INVOKE").key("deadlineMs").integer(deadline_ms);
  w.key("requestId").string(request_id).key("invokedFunctionArn").string(function_arn);
  w.key("tracing").begin_object().key("type").string("X-Amzn-Trace-Id").key("value").string(trace_id).end_object();
  w.end_object();
  return out;
}

}  // namespace lambda_bridge
