// The Lambda Runtime API client (runtime-api.md §1): one keep-alive connection that long-polls /next and posts
// results and errors. One per worker, so concurrent workers never share a connection. The /next poll has no
// timeout on purpose: Lambda freezes the process between invocations and a timer would fire on thaw.
//
// Outcomes Lambda defines as fatal (500 on any call, 403 on /next) throw runtime_api_fatal; the bridge then exits
// non-zero. Everything else is returned for the caller to act on.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "lambda_bridge/core/event_scan.hpp"
#include "lambda_bridge/core/invocation_context.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/lambda/runtime_headers.hpp"
#include "lambda_bridge/util/asio.hpp"
#include "lambda_bridge/util/deadline_watch.hpp"
#include "lambda_bridge/util/splice_pipe.hpp"

namespace lambda_bridge {

class runtime_api_fatal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct next_event {
  invocation_context ctx;
  std::string body;
  // The body's scan, taken as far as the pieces read had gone (event_scan.hpp); the translator finishes it.
  events::event_scanner scan;
  // Set when the event cannot be handled at all (too large); the caller posts it as the invocation's error.
  std::optional<failure> problem;
};

enum class post_outcome {
  accepted,   // 202
  too_large,  // 413: the result exceeded Lambda's limit
  gone,       // 410: the invocation already timed out
  refused,    // 400/403/…: logged, nothing more to do
};

class runtime_client {
 public:
  runtime_client(asio::any_io_executor ex, tcp::endpoint endpoint, std::size_t max_event_bytes);

  // The next event; nullopt once cancel() was called (shutdown), whether parked or not.
  awaitable<std::optional<next_event>> next();
  // Gives the next event a string to be read into: the last request's body, which holds the last event's memory. A
  // fresh block for every large event fragmented the heap around the one just freed (small allocations split it),
  // so a 6 MB event kept two 6 MB blocks resident. Its contents are left for the next event to overwrite: resizing
  // a string zero-fills only what it adds.
  void recycle_event_buffer(std::string&& buffer) {
    if (buffer.capacity() > spare_event_.capacity()) spare_event_ = std::move(buffer);
  }
  // After an invocation: the larger of the two strings that hold event memory (`ev`'s body and the recycled one),
  // the other freed. The worker settles it with the buffer budget and lends it back (recycle_event_buffer), so a
  // worker keeps one event's memory, and large ones only within the budget all workers share (buffer_budget.hpp).
  std::string take_event_memory(next_event& ev) {
    std::string kept = std::move(ev.body.capacity() >= spare_event_.capacity() ? ev.body : spare_event_);
    std::string().swap(ev.body);
    std::string().swap(spare_event_);
    return kept;
  }
  // The same into `ev`, whose strings keep their capacity from the last event (a worker's loop reuses one
  // next_event: no allocation per invocation for the event's head or a body that fits); false once cancelled.
  awaitable<bool> next(next_event& ev);
  // Ends a parked /next (or extension event/next) at once and refuses further polls.
  void cancel();
  // Keeps the timer that bounds posts armed between them (deadline_watch.hpp): set by the worker that owns the
  // client, so that a post costs no timer system call.
  void keep_timer_armed(bool on) { watch_.keep_armed(on); }
  // `body` is only read: the caller keeps its buffer for the next result.
  awaitable<post_outcome> post_response(const invocation_context& ctx, std::string_view body);
  awaitable<post_outcome> post_error(const invocation_context& ctx, std::string_view type, std::string_view message);
  awaitable<void> post_init_error(std::string_view type, std::string_view message);

  // A streamed response (runtime-api.md §2), on the same connection: begin_stream() prepares the request head,
  // write_stream() sends each piece as one chunk as soon as it is given, end_stream() sends the last chunk —
  // with the error trailers when `error` is set — and reads Lambda's answer. A broken connection is logged,
  // makes write_stream() return false, and end_stream() then returns refused. `ctx` must outlive the stream.
  void begin_stream(const invocation_context& ctx);
  awaitable<bool> write_stream(std::string_view piece);
  // The same for a piece waiting in `pipe` (util/splice_pipe.hpp): it goes to the socket without being copied, and
  // the pipe is empty afterwards, whatever happened. Only after a first piece given as bytes (the prelude).
  awaitable<bool> write_stream(splice_pipe& pipe);
  awaitable<post_outcome> end_stream(const failure* error);

  // Extensions API (runtime-api.md §3). Registers `name` for `events_json` and returns the identifier, or ""
  // when the API refuses (the caller logs and goes on without one).
  awaitable<std::string> register_extension(std::string_view name, std::string_view events_json);
  // Parks on /extension/event/next; returns the event JSON, or "" when cancelled or refused.
  awaitable<std::string> next_extension_event(const std::string& identifier);
  // Reports an extension's failure: `phase` is "init" or "exit"; `type` is shaped Extension.<Reason>. Best effort.
  awaitable<void> post_extension_error(const std::string& identifier, std::string_view phase, std::string_view type,
                                       std::string_view message);

 private:
  awaitable<void> ensure_connected();
  void disconnect();
  // One Extensions API exchange; a transport failure is returned in `ec`.
  awaitable<http::response<http::string_body>> extension_call(http::request<http::string_body>& req,
                                                              boost::system::error_code& ec);
  // Reads one answer of the Runtime API (to a post or an Extensions API call), header first, its body at most 64 KB.
  awaitable<http::response<http::string_body>> read_answer(boost::system::error_code& ec);
  // `target` must outlive the post (a member, or a string of the awaiting caller's frame).
  awaitable<post_outcome> post(std::string_view target, const invocation_context* ctx, std::string_view content_type,
                               std::string_view error_type, std::string_view body);

  // After a piece was written: true, or on failure false with the stream marked failed and the connection closed.
  bool stream_written(const boost::system::error_code& ec);
  // The answer to a post or a stream's end: its status and whether the connection stays, the body in answer_body_.
  awaitable<void> read_lean_answer(int& status, bool& keep_alive, boost::system::error_code& ec);
  // Bounds what follows by the post timeout, until settled() (which turns the error of an operation the timeout
  // ended into beast::error::timeout, as Beast reports it).
  void bounded();
  void settled(boost::system::error_code& ec);

  static post_outcome outcome_of(int status, std::string_view body, std::string_view target,
                                 const invocation_context* ctx);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  tcp::endpoint endpoint_;
  std::size_t max_event_bytes_;
  bool connected_ = false;
  bool cancelled_ = false;
  std::string common_fields_;  // "Host: …\r\nUser-Agent: …\r\n", in every request's head
  std::string next_request_;   // the /next request, the same bytes every time
  std::string spare_event_;    // recycle_event_buffer's
  std::string post_head_;      // the head of the last post, its capacity reused
  std::string post_target_;    // the target of the last post, its capacity reused
  std::string answer_body_;    // the body of the last post's answer, its capacity reused
  std::string stream_head_;  // the streamed request's head, until the first piece goes out with it
  std::string stream_target_;
  const invocation_context* stream_ctx_ = nullptr;
  bool stream_failed_ = false;
  // Bounds each post, stream piece and stream end (the post timeout); the /next poll is never bounded.
  deadline_watch watch_;
  deadline_watch::entry post_entry_;
};


}  // namespace lambda_bridge
