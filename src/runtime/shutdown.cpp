#include "lambda_bridge/runtime/shutdown.hpp"

#include <algorithm>

namespace lambda_bridge {

struct shutdown_state {
  bool stopping = false;
  std::optional<failure> reason;
  std::vector<asio::steady_timer*> waiters;
  std::vector<shutdown_signal::hook*> hooks;
};

struct task_count_state {
  std::size_t running = 0;
  std::vector<asio::steady_timer*> waiters;
};

namespace {

// Waits on a timer of its own at `until`, registered in the state's waiters so that whoever fires the event
// cancels it. The frame holds the state; the registration is undone however the frame ends, destroyed while
// suspended too.
template <class State>
awaitable<void> wait_registered(std::shared_ptr<State> state, steady_time until) {
  auto& waiters = state->waiters;
  asio::steady_timer timer(co_await asio::this_coro::executor, until);
  waiters.push_back(&timer);
  struct unregister {
    std::vector<asio::steady_timer*>& from;
    asio::steady_timer* timer;
    ~unregister() { std::erase(from, timer); }
  } registration{waiters, &timer};
  boost::system::error_code ec;  // operation_aborted: woken by the event rather than by `until`
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void wake(const std::vector<asio::steady_timer*>& waiters) {
  for (auto* t : waiters) t->cancel();
}

}  // namespace

shutdown_signal::shutdown_signal() : state_(std::make_shared<shutdown_state>()) {}

bool shutdown_signal::stopping() const { return state_->stopping; }

const std::optional<failure>& shutdown_signal::reason() const { return state_->reason; }

void shutdown_signal::stop(std::optional<failure> reason) {
  if (reason && !state_->reason) state_->reason = std::move(reason);
  if (state_->stopping) return;
  state_->stopping = true;
  wake(state_->waiters);
  // A copy: a hook may end the loop that owns another one.
  const auto hooks = state_->hooks;
  for (auto* h : hooks) {
    if (std::find(state_->hooks.begin(), state_->hooks.end(), h) != state_->hooks.end()) h->on_stop_();
  }
}

awaitable<void> shutdown_signal::wait() { co_await wait_until(steady_time::max()); }

awaitable<bool> shutdown_signal::wait_until(steady_time until) {
  const auto state = state_;  // `this` may be gone when the wait ends
  if (!state->stopping && std::chrono::steady_clock::now() < until) co_await wait_registered(state, until);
  co_return state->stopping;
}

shutdown_signal::hook::hook(shutdown_signal& s, std::function<void()> on_stop)
    : state_(s.state_), on_stop_(std::move(on_stop)) {
  state_->hooks.push_back(this);
  if (state_->stopping) on_stop_();
}

shutdown_signal::hook::~hook() { std::erase(state_->hooks, this); }

task_count::task_count() : state_(std::make_shared<task_count_state>()) {}

task_count::guard::guard(task_count& count) : state_(count.state_) { ++state_->running; }

task_count::guard::~guard() {
  if (!state_) return;  // moved from
  if (--state_->running == 0) wake(state_->waiters);
}

std::size_t task_count::running() const { return state_->running; }

awaitable<void> task_count::wait_all() { co_await wait_all_until(steady_time::max()); }

awaitable<bool> task_count::wait_all_until(steady_time until) {
  const auto state = state_;  // `this` may be gone when the wait ends
  // A loop: a task started after the last one ended (and woke this) keeps the wait going.
  while (state->running > 0 && std::chrono::steady_clock::now() < until) co_await wait_registered(state, until);
  co_return state->running == 0;
}

}  // namespace lambda_bridge
