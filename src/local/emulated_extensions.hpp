// The local emulator's Extensions API (runtime-api.md §3): emulated_extensions remembers registrations, queues
// INVOKE events per extension and delivers SHUTDOWN when the emulator stops. The emulator routes
// /2020-01-01/extension/* to it. The documents it exchanges are built and read by lambda/extensions_api.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "lambda_bridge/local/http_server.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

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
