// The local Lambda emulator, used when AWS_LAMBDA_RUNTIME_API is not set (docker run on a laptop). It plays
// both sides of Lambda that the bridge meets:
//   - the invoke API (POST /2015-03-31/functions/{function or AWS_LAMBDA_FUNCTION_NAME}/invocations, and the
//     response-streaming path), answering as Lambda's Invoke API does —
//     function errors with X-Amz-Function-Error, timeouts, oversized events and results, concurrent invokes
//     queued (AWS's emulator crashes on them);
//   - an emulated Runtime and Extensions API on loopback, which the very same invocation loop as on Lambda polls.
// So local runs exercise the real invocation path, never a second implementation of the translation.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/core/lambda_limits.hpp"
#include "lambda_bridge/local/http_server.hpp"
#include "lambda_bridge/local/stream_relay.hpp"
#include "lambda_bridge/runtime/shutdown.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

class emulated_extensions;  // src/local/emulated_extensions.hpp

struct invoke_result {
  int status = 200;  // of the Invoke API reply
  bool function_error = false;
  std::string content_type = "application/json";
  std::string body;
  std::shared_ptr<stream_pipe> stream;  // set instead of body when the function streams its response
  std::string request_id;
};

struct invoke_request {
  std::string event;
  std::string client_context;  // decoded JSON text
  std::string tenant_id;
};

class emulator {
 public:
  emulator(asio::io_context& io, const config& cfg);
  ~emulator();

  // Binds the invoke API (as configured) and the Runtime API (127.0.0.1, LAMBDA_BRIDGE_RUNTIME_API_PORT or a free
  // port) and starts serving.
  void start();
  tcp::endpoint runtime_endpoint() const;
  tcp::endpoint invoke_endpoint() const;

  // Queues an invocation and waits for its outcome; the gateway emulation calls it too.
  awaitable<invoke_result> invoke(invoke_request req);

  // Ends every invocation not answered yet with an error (init failure, shutdown), stops accepting, and waits
  // (bounded) until their replies are written. Extensions registered for SHUTDOWN get it first, and up to
  // extension_shutdown_time to finish their invocations and disconnect, as Lambda's shutdown phase allows.
  awaitable<void> shut_down(std::string_view error_type, std::string_view message);

 private:
  struct pending;
  awaitable<std::optional<http_response>> handle_invoke(http_request& req, http_connection& conn);
  awaitable<std::optional<http_response>> handle_runtime(http_request& req, http_connection& conn);
  awaitable<std::optional<http_response>> receive_stream(std::shared_ptr<pending> p, http_request& req,
                                                         http_connection& conn);
  awaitable<http_response> next_invocation();
  void complete(pending& p, invoke_result r);
  void fail_all(const invoke_result& r);

  asio::io_context& io_;
  const config& cfg_;
  std::unique_ptr<http_server> invoke_server_;
  std::unique_ptr<http_server> runtime_server_;
  std::deque<std::shared_ptr<pending>> queue_;
  std::map<std::string, std::shared_ptr<pending>, std::less<>> dispatched_;
  asio::steady_timer work_available_;   // cancelled when an invocation is queued, waking parked /next calls
  std::unique_ptr<emulated_extensions> extensions_;
  std::size_t parked_next_ = 0;  // /next long-polls being held open right now
  std::optional<invoke_result> init_failure_;
  bool shutting_down_ = false;
  task_count replies_;  // invocations whose outcome has not been handed to their caller yet
};

// Lambda's shutdown phase: the time extensions get after SHUTDOWN.
inline constexpr std::chrono::milliseconds extension_shutdown_time{2000};

// Error document of the Invoke API: {"errorMessage":…,"errorType":…}.
std::string invoke_error_json(std::string_view type, std::string_view message);

// The emulated function's name: AWS_LAMBDA_FUNCTION_NAME, else "function" (as AWS's emulator), and its ARN.
std::string emulated_function_name(const config& cfg);
std::string emulated_function_arn(std::string_view name);

// An Invoke API path, /2015-03-31/functions/{FunctionName}/invocations or the response-streaming one: which it is,
// and the function it names as sent (percent-encoded); nullopt for any other path.
struct invoke_path {
  bool streaming = false;
  std::string_view function;
};
std::optional<invoke_path> parse_invoke_path(std::string_view path);

// The function name in a FunctionName as Lambda takes it — a name, an ARN or a partial ARN (123456789012:function:
// name), any of them with a version or alias after a ':' — percent-decoded; empty when it has none of these forms.
std::string function_name_of(std::string_view requested);

}  // namespace lambda_bridge
