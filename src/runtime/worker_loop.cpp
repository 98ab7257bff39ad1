#include "lambda_bridge/runtime/worker_loop.hpp"

#include <array>
#include <optional>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/lambda/runtime_client.hpp"
#include "lambda_bridge/runtime/invocation.hpp"
#include "lambda_bridge/util/log.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {

worker_loop::worker_loop(const config& cfg, tcp::endpoint runtime_api, backend_pool& pool,
                         readiness_check& readiness, shutdown_signal& stop, app_output* app_log)
    : cfg_(cfg),
      runtime_api_(runtime_api),
      pool_(pool),
      readiness_(readiness),
      stop_(stop),
      app_log_(app_log),
      // Enough for one worker's result and reply at Lambda's limit, so a single worker never frees them.
      budget_(4 * max_buffered_result_bytes) {}

awaitable<void> worker_loop::run() {
  const auto ex = co_await asio::this_coro::executor;
  // The timer bounding the app's exchanges stays armed between invocations (deadline_watch.hpp), and stops when the
  // workers have all ended, so that nothing of theirs outlives them.
  struct keep_armed {
    deadline_watch& watch;
    explicit keep_armed(deadline_watch& w) : watch(w) { watch.keep_armed(true); }
    ~keep_armed() { watch.keep_armed(false); }
  } armed{pool_.watch()};
  for (std::size_t i = 0; i < cfg_.max_concurrency; ++i) {
    asio::co_spawn(ex, worker(), [this, running = task_count::guard(workers_)](std::exception_ptr e) {
      if (e && !fatal_) {
        fatal_ = e;
        stop_.stop();
      }
    });
  }
  co_await workers_.wait_all();
  if (fatal_) std::rethrow_exception(fatal_);
}

awaitable<void> worker_loop::worker() {
  runtime_client runtime(co_await asio::this_coro::executor, runtime_api_, cfg_.max_event_bytes);
  runtime.keep_timer_armed(true);  // a post then costs no timer system call (deadline_watch.hpp)
  bool in_flight = false;
  // A worker parked in /next stops at once; one with an invocation in flight finishes it first.
  const shutdown_signal::hook leave_next(stop_, [&] {
    if (!in_flight) runtime.cancel();
  });
  translator translate;
  // The event's memory is lent to the runtime client between invocations (it reads the next event into it), and
  // stays counted meanwhile.
  buffer_budget::kept result_buffer, reply_buffer, event_memory;
  struct return_to_budget {
    buffer_budget& budget;
    std::array<buffer_budget::kept*, 3> kept;
    ~return_to_budget() {  // a worker that ends gives back what it counted
      for (auto* k : kept) {
        std::string().swap(k->buffer);  // assigning an empty string would keep the capacity
        budget.settle(*k);
      }
    }
  } budget_guard{budget_, {&result_buffer, &reply_buffer, &event_memory}};
  // Two descriptors per worker, only where replies are streamed (issue 14: a streamed download costs no copies).
  std::optional<splice_pipe> stream_pipe;
  if (cfg_.response_stream) stream_pipe.emplace(stream_piece_bytes);
  const std::string default_host = cfg_.backend.to_string();
  const translate_options options = make_translate_options(cfg_, default_host);
  readiness_check* pending_readiness = readiness_.ready() ? nullptr : &readiness_;
  in_flight_.reserve(cfg_.max_concurrency);
  std::string request_id;  // of the invocation in flight, for in_flight_; its capacity is reused
  std::vector<header> reply_headers;  // the last reply's, filled again by the next (worker_resources)
  next_event ev;           // each event in turn, read into the same strings: their capacity is reused too
  while (!stop_.stopping()) {
    const bool got = co_await runtime.next(ev);
    if (!got) break;
    // The id goes into the /response URL; one that could not be echoed safely cannot be answered at all. A token
    // made only of dots would be a "." or ".." path segment, which a normalising server resolves elsewhere.
    const auto& id = ev.ctx.request_id;
    if (!uri::is_token(id) || id.find_first_not_of('.') == std::string::npos) {
      log::error("", "the Runtime API sent an event without a usable {} header; it cannot be answered",
                 runtime_header::request_id);
      continue;
    }
    // Counted however the invocation ends, a fatal exception included.
    request_id = id;
    struct count_in_flight {
      bool& flag;
      std::vector<const std::string*>& ids;
      const std::string* id;
      count_in_flight(bool& f, std::vector<const std::string*>& all, const std::string* mine)
          : flag(f), ids(all), id(mine) {
        flag = true;
        ids.push_back(id);
      }
      ~count_in_flight() {
        flag = false;
        std::erase(ids, id);
      }
    } counted{in_flight, in_flight_, &request_id};
    {
      invocation inv(ev, cfg_, pool_, stop_, pending_readiness);
      splice_pipe* const pipe = stream_pipe ? &*stream_pipe : nullptr;
      const worker_resources resources{translate,     options,  result_buffer.buffer, reply_buffer.buffer,
                                       reply_headers, app_log_, pipe};
      co_await inv.run(runtime, resources);
    }
    budget_.settle(result_buffer);
    budget_.settle(reply_buffer);
    event_memory.buffer = runtime.take_event_memory(ev);
    budget_.settle(event_memory);
    runtime.recycle_event_buffer(std::move(event_memory.buffer));
    if (pending_readiness != nullptr && readiness_.ready()) pending_readiness = nullptr;
  }
}

}  // namespace lambda_bridge
