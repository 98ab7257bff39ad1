#include "lambda_bridge/extensions_api.hpp"

#include <rapidjson/document.h>

#include "lambda_bridge/emulator.hpp"
#include "lambda_bridge/json_writer.hpp"
#include "lambda_bridge/log.hpp"

namespace lambda_bridge {
namespace {

// Extension error types have the shape Extension.<Reason>; the emulator answers with the same shape.
constexpr std::string_view invalid_request = "Extension.InvalidRequest";
constexpr std::string_view unknown_identifier = "Extension.UnknownExtensionIdentifier";

// Events an extension that never polls can pile up in the emulator before the oldest are dropped.
constexpr std::size_t max_queued_events = 1000;

http_response error_reply(http::status status, std::string_view type, std::string_view message) {
  return make_response(status, "application/json", invoke_error_json(type, message));
}

std::string field(const http_request& req, std::string_view name) {
  const auto it = req.find(boost::beast::string_view(name.data(), name.size()));
  return it == req.end() ? std::string() : std::string(it->value());
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "no events" : out;
}

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

struct emulated_extensions::extension {
  explicit extension(asio::io_context& io) : wake(io) { wake.expires_at(steady_time::max()); }
  std::string name;
  bool invoke = false;
  bool shutdown = false;
  std::deque<std::string> events;
  asio::steady_timer wake;  // cancelled when an event is queued, waking a parked event/next
  std::size_t waiting = 0;  // event/next calls parked on `wake`
};

emulated_extensions::emulated_extensions(asio::io_context& io, std::function<std::string()> new_id,
                                         std::string function_name)
    : io_(io), new_id_(std::move(new_id)), function_name_(std::move(function_name)) {}

emulated_extensions::~emulated_extensions() = default;

std::shared_ptr<emulated_extensions::extension> emulated_extensions::find(const http_request& req) const {
  const auto it = by_id_.find(field(req, extension_header::identifier));
  return it == by_id_.end() ? nullptr : it->second;
}

awaitable<http_response> emulated_extensions::handle(http_request& req, std::string_view what) {
  if (what == "register" && req.method() == http::verb::post) {
    const std::string name = field(req, extension_header::name);
    if (name.empty()) {
      co_return error_reply(http::status::bad_request, invalid_request,
                            "the Lambda-Extension-Name header is required");
    }
    auto events = parse_register_events(req.body());
    if (!events) {
      log::warn("", "emulator: refused the registration of extension {}: {}", name, events.error().message);
      co_return error_reply(http::status::bad_request, events.error().type, events.error().message);
    }
    auto ext = std::make_shared<extension>(io_);
    ext->name = name;
    for (const auto& e : *events) (e == "INVOKE" ? ext->invoke : ext->shutdown) = true;
    const std::string id = new_id_();
    by_id_.emplace(id, ext);
    log::info("", "emulator: extension {} registered for {} ({})", name, joined(*events), id);
    std::string body;
    json_writer w(body);
    w.begin_object().key("functionName").string(function_name_).key("functionVersion").string("$LATEST");
    w.key("handler").string("").end_object();
    http_response res = make_response(http::status::ok, "application/json", std::move(body));
    res.set(extension_header::identifier, id);
    co_return res;
  }
  if (what == "event/next" && req.method() == http::verb::get) co_return co_await next_event(req);
  if ((what == "init/error" || what == "exit/error") && req.method() == http::verb::post) {
    const auto ext = find(req);
    if (!ext) co_return error_reply(http::status::forbidden, unknown_identifier, "unknown extension identifier");
    log::error("", "emulator: extension {} reported an {} error: {}: {}", ext->name,
               what == "init/error" ? "init" : "exit", field(req, extension_header::error_type),
               req.body().substr(0, 1024));
    co_return make_response(http::status::accepted, "application/json", R"({"status":"OK"})");
  }
  co_return error_reply(http::status::not_found, invalid_request, "unknown Extensions API call");
}

awaitable<http_response> emulated_extensions::next_event(const http_request& req) {
  const auto ext = find(req);
  if (!ext) {
    co_return error_reply(http::status::forbidden, unknown_identifier,
                          "unknown or missing Lambda-Extension-Identifier: register first");
  }
  while (ext->events.empty()) {
    ++ext->waiting;
    boost::system::error_code ec;
    co_await ext->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    --ext->waiting;
    ext->wake.expires_at(steady_time::max());
  }
  http_response res = make_response(http::status::ok, "application/json", std::move(ext->events.front()));
  ext->events.pop_front();
  res.set(extension_header::event_identifier, new_id_());
  co_return res;
}

void emulated_extensions::invoke_dispatched(std::int64_t deadline_ms, std::string_view request_id,
                                            std::string_view function_arn, std::string_view trace_id) {
  for (auto& [id, ext] : by_id_) {
    if (!ext->invoke) continue;
    if (ext->events.size() >= max_queued_events) {
      log::warn("", "emulator: extension {} does not poll its events; dropping the oldest", ext->name);
      ext->events.pop_front();
    }
    ext->events.push_back(invoke_event_json(deadline_ms, request_id, function_arn, trace_id));
    ext->wake.cancel();
  }
}

std::size_t emulated_extensions::parked() const {
  std::size_t n = 0;
  for (const auto& [id, ext] : by_id_) {
    if (ext->events.empty()) n += ext->waiting;
  }
  return n;
}

std::size_t emulated_extensions::deliver_shutdown(std::string_view reason, std::int64_t deadline_ms) {
  std::size_t count = 0;
  for (auto& [id, ext] : by_id_) {
    if (!ext->shutdown) continue;
    ext->events.push_back(shutdown_event_json(reason, deadline_ms));
    ext->wake.cancel();
    ++count;
  }
  return count;
}

}  // namespace lambda_bridge
