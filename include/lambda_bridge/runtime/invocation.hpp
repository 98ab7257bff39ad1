// One invocation, from the event handed out by /next to the result posted back. The object owns its state
// (request, reply), so any number of them can run at once on one io_context; what it borrows (the event, translator,
// result buffer) belongs to the worker that runs it and is reused across invocations.
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "lambda_bridge/app/app_output.hpp"
#include "lambda_bridge/app/backend_client.hpp"
#include "lambda_bridge/app/readiness.hpp"
#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/core/compression.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/core/translate.hpp"
#include "lambda_bridge/lambda/runtime_client.hpp"
#include "lambda_bridge/runtime/shutdown.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

// A streamed reply moves in pieces of at most this size: the read buffer, and the splice pipe each worker keeps
// (invocation.cpp says why 512 KB).
inline constexpr std::size_t stream_piece_bytes = 512 * 1024;

// What a worker lends each invocation.
struct worker_resources {
  translator& translate;
  const translate_options& options;
  // Kept by the worker across its invocations, so a large reply reuses the same memory every time instead of
  // fragmenting the heap with a fresh block each time (docs/performance.md): the result, and the app's reply body.
  std::string& result_buffer;
  std::string& reply_buffer;
  // The header list of the last reply, given back for the next one to fill (backend_exchange::send).
  std::vector<header>& reply_headers;
  // The app's output when the bridge tags it with request ids (LAMBDA_BRIDGE_APP_LOG=tag), else null.
  app_output* app_log = nullptr;
  // In streaming mode, the pipe a body framed by Content-Length goes through from the app to the Runtime API
  // without a copy (util/splice_pipe.hpp); null otherwise, or when no pipe could be made: the body is then copied.
  splice_pipe* stream_pipe = nullptr;
};

// The translation options a configuration implies; `default_host` must outlive them.
translate_options make_translate_options(const config& cfg, const std::string& default_host);

class invocation {
 public:
  // `readiness` is consulted only when the app was not ready yet at the start of the loop (async init). `stop` is
  // the bridge's: the app's exit stops it, and a broken reply waits for that briefly to report the cause. `event`
  // is the worker's, reused for its next event once this invocation is over (its body may be consumed).
  invocation(next_event& event, const config& cfg, backend_pool& pool, shutdown_signal& stop,
             readiness_check* readiness = nullptr);

  // Runs the invocation to the end, result or error posted. Errors of the event, the app or the result, and any
  // exception of ours, are posted as the invocation's error; only Runtime API failures Lambda calls fatal escape
  // (runtime_api_fatal).
  awaitable<void> run(runtime_client& runtime, worker_resources res);

  // The point in steady time at which the app's answer is given up: the deadline minus the configured reserve.
  static steady_time backend_deadline(const invocation_context& ctx, std::chrono::milliseconds reserve,
                                      std::chrono::system_clock::time_point now_system, steady_time now_steady);

 private:
  // How an invocation ends: its result, in the worker's result buffer; an error; or a stream that has ended
  // already (its end, error trailers included, is part of the stream).
  struct result_ready {};
  struct stream_ended {};
  using outcome = std::variant<result_ready, failure, stream_ended>;

  // Everything but the posting: the outcome, from the event to the app's reply.
  awaitable<outcome> handle(runtime_client& runtime, const worker_resources& res);
  // The one place an outcome is posted (the invocation's error instead of a result Lambda refuses as too large), and
  // so where the access line is written.
  awaitable<void> post(runtime_client& runtime, const outcome& o, std::string_view result);
  steady_time deadline() const;
  // False only during async init, until the app has become ready.
  bool app_ready() const { return readiness_ == nullptr || readiness_->ready(); }
  // Async init: waits (within the deadline) until the app is ready. Called only when !app_ready(), so that the usual
  // invocation makes no coroutine frame (an allocation) for it.
  awaitable<maybe_failure> wait_until_ready(steady_time deadline);
  // Buffered: the whole reply, converted into `result`.
  awaitable<maybe_failure> exchange(translation& t, const worker_resources& res);
  // Buffered, the body read straight into the result after its head (begin_result) and converted there.
  awaitable<maybe_failure> read_into_result(backend_exchange& ex, const backend_reply& head, std::string& result,
                                            const response_options& opts);
  // Buffered with compression: the body encoded as it arrives, within Lambda's limit (AWS_LWA_ENABLE_COMPRESSION).
  awaitable<maybe_failure> read_compressed(backend_exchange& ex, backend_reply& reply, content_coding coding);
  // Streamed (runtime-api.md §2): the prelude, then each piece of the body as it arrives, through `buffer`.
  awaitable<outcome> stream(translation& t, runtime_client& runtime, std::string& buffer, splice_pipe* pipe);
  awaitable<void> post_failure(runtime_client& runtime, const failure& f);
  awaitable<maybe_failure> settle(const failure& f);
  // The access line: one per invocation, once its outcome is posted (docs/troubleshooting.md, "Reading the log").
  void log_access();

  next_event& event_;
  const config& cfg_;
  backend_pool& pool_;
  shutdown_signal& stop_;
  readiness_check* readiness_;

  // What the access line reports, gathered on the way. The translation is kept to the end for its method and path.
  steady_time started_ = std::chrono::steady_clock::now();
  std::optional<translation> translated_;
  int status_ = 0;               // the app's, once its reply's head is in
  std::string_view error_type_;  // the invocation's error, when one was posted (static storage)
  std::size_t bytes_out_ = 0;    // the result posted, or the body streamed
  bool access_logged_ = false;
  app_output* app_log_ = nullptr;  // the worker's, for post()
};

}  // namespace lambda_bridge
