// The Lambda Extensions API (runtime-api.md §3) as both sides of lambda-bridge meet it:
//   - as a client, in extension mode: the bridge is an external extension (/opt/extensions/lambda-bridge) that
//     registers for SHUTDOWN and parks on event/next; the pure pieces it needs (who am I, what event is this)
//     live here so they are testable without sockets;
//   - as a server, in the local emulator: emulated_extensions remembers registrations, queues INVOKE events per
//     extension and delivers SHUTDOWN when the emulator stops. The emulator routes /2020-01-01/extension/* to it.
// The HTTP calls of the client side are in runtime_client (one connection per peer).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/asio.hpp"
#include "lambda_bridge/http_server.hpp"
#include "lambda_bridge/result.hpp"

namespace lambda_bridge {

namespace extension_header {
inline constexpr std::string_view name = "Lambda-Extension-Name";
inline constexpr std::string_view identifier = "Lambda-Extension-Identifier";
inline constexpr std::string_view event_identifier = "Lambda-Extension-Event-Identifier";
inline constexpr std::string_view error_type = "Lambda-Extension-Function-Error-Type";
}  // namespace extension_header

// Where Lambda looks for external extensions; it runs each executable there by this path.
inline constexpr std::string_view extensions_dir = "/opt/extensions";

// The name to register under when this process is a Lambda external extension, else nullopt. `argv0` is taken
// as given (Lambda runs extensions by their full path); `setting` is LAMBDA_BRIDGE_EXTENSION_MODE: true forces
// extension mode, false forbids it, unset decides by whether argv0's directory is /opt/extensions. The name is
// argv0's file name: Lambda accepts an external extension's registration only under its file name.
std::optional<std::string> extension_name_for(std::string_view argv0, std::optional<bool> setting);

// One event from /extension/event/next.
struct extension_event {
  std::string event_type;       // "INVOKE", "SHUTDOWN", or whatever a newer Lambda sends
  std::string shutdown_reason;  // SHUTDOWN: spindown, timeout or failure
  std::int64_t deadline_ms = 0;
  std::string request_id;       // INVOKE
};

// Parses an event document; a failure names what is wrong (not JSON, no eventType). Pure.
result<extension_event> parse_extension_event(std::string_view json);

// The events a /register body subscribes to: {"events":[...]} with INVOKE and SHUTDOWN only. A failure names the
// problem, for the 400 reply. Pure.
result<std::vector<std::string>> parse_register_events(std::string_view json);

// Event documents as Lambda sends them.
std::string shutdown_event_json(std::string_view reason, std::int64_t deadline_ms);
std::string invoke_event_json(std::int64_t deadline_ms, std::string_view request_id, std::string_view function_arn,
                              std::string_view trace_id);

// The emulator's Extensions API: registrations, per-extension event queues, parked event/next calls.
class emulated_extensions {
 public:
  // `new_id` makes identifiers (extension and event ids); `function_name` is reported on registration.
  emulated_extensions(asio::io_context& io, std::function<std::string()> new_id, std::string function_name);
  ~emulated_extensions();

  // Serves /2020-01-01/extension/<what>.
  awaitable<http_response> handle(http_request& req, std::string_view what);

  // An invocation was handed to the runtime: every extension registered for INVOKE gets an INVOKE event.
  void invoke_dispatched(std::int64_t deadline_ms, std::string_view request_id, std::string_view function_arn,
                         std::string_view trace_id);

  // Sends SHUTDOWN to every extension registered for it; returns how many there are.
  std::size_t deliver_shutdown(std::string_view reason, std::int64_t deadline_ms);

  // event/next calls being held open right now with nothing to answer: one whose event was just queued no longer
  // counts, though its coroutine has not resumed yet (the emulator's shutdown waits on this number at once).
  std::size_t parked() const;

 private:
  struct extension;
  awaitable<http_response> next_event(const http_request& req);
  std::shared_ptr<extension> find(const http_request& req) const;

  asio::io_context& io_;
  std::function<std::string()> new_id_;
  std::string function_name_;
  std::map<std::string, std::shared_ptr<extension>, std::less<>> by_id_;
};

}  // namespace lambda_bridge
