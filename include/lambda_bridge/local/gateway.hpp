// Gateway emulation for local runs: ordinary HTTP requests on a second port become API Gateway (HTTP API v2 or
// REST), ALB or Function URL events, go through the full invocation path, and the result is answered as that
// gateway would — so a developer can browse the app through real event conversion, as `sam local start-api`
// does, without Docker or SAM. The event and reply conversions are pure and unit-tested; the listener feeds
// the emulator's invoke queue.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lambda_bridge/core/gateway_events.hpp"
#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/local/emulator.hpp"

namespace lambda_bridge {

// The HTTP reply the gateway would send for this invocation outcome.
backend_reply make_gateway_reply(gateway_format format, const invoke_result& result);

class gateway {
 public:
  gateway(asio::io_context& io, tcp::endpoint endpoint, gateway_format format, emulator& emu);
  void start();
  void close();
  tcp::endpoint local_endpoint() const { return server_.local_endpoint(); }

 private:
  awaitable<std::optional<http_response>> handle(http_request& req, http_connection& conn);

  gateway_format format_;
  emulator& emulator_;
  http_server server_;
};

}  // namespace lambda_bridge
