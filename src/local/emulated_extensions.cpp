#include "emulated_extensions.hpp"

#include <deque>
#include <string>
#include <vector>

#include "lambda_bridge/lambda/extensions_api.hpp"
#include "lambda_bridge/local/emulator.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/log.hpp"

namespace lambda_bridge {
namespace {

constexpr std::string_view invalid_request = extension_invalid_request;
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
    // The bridge's own internal extension registers for no events on every local run: not news.
    if (events->empty()) {
      log::debug("", "emulator: extension {} registered for no events ({})", name, id);
    } else {
      log::info("", "emulator: extension {} registered for {} ({})", name, joined(*events), id);
    }
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
