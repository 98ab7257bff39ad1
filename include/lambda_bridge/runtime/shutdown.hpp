// One stop for the whole bridge and one count of the tasks that must end before it exits, as tokio's mini-redis
// has them (src/shutdown.rs): whoever decides that the bridge stops (a signal, Lambda's SHUTDOWN, the app's exit,
// a lost Runtime or Extensions API) calls shutdown_signal::stop(); every loop observes that one signal, by
// awaiting it or through a hook that ends what it is parked on; and the owner of a group of tasks awaits its
// task_count until the last of them has ended. Single-threaded: everything runs on the bridge's one io_context.
//
// Both keep their state behind a shared pointer, so a waiter or a guard on a coroutine frame that is destroyed
// after its owner (frames left suspended when the io_context goes) still finds it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

struct shutdown_state;
struct task_count_state;

class shutdown_signal {
 public:
  shutdown_signal();

  // Starts the stop; calls after the first only add a reason when there was none. The reason is why the
  // environment must be replaced (the app's exit, a failed init); an orderly stop (a signal, SHUTDOWN) has none.
  void stop(std::optional<failure> reason = std::nullopt);
  bool stopping() const;
  const std::optional<failure>& reason() const;

  // Completes once stop() has been called, at once when it has been already.
  awaitable<void> wait();
  // Completes at stop() or at `until`, whichever comes first; true when the stop came.
  awaitable<bool> wait_until(steady_time until);

  // Calls a function at stop() (at once when stopping already) for as long as the hook lives: it ends what a loop
  // is parked on and cannot race with the stop itself (a long poll on a socket), without a pointer to the loop's
  // frame living on anywhere once the loop has ended.
  class hook {
   public:
    hook(shutdown_signal& s, std::function<void()> on_stop);
    ~hook();
    hook(const hook&) = delete;
    hook& operator=(const hook&) = delete;

   private:
    friend class shutdown_signal;
    std::shared_ptr<shutdown_state> state_;
    std::function<void()> on_stop_;
  };

 private:
  std::shared_ptr<shutdown_state> state_;
};

// Tasks that must all end before their owner goes on: each holds a guard while it runs; wait_all() completes when
// the last guard is gone.
class task_count {
 public:
  task_count();

  class guard {
   public:
    explicit guard(task_count& count);
    ~guard();
    guard(guard&& other) noexcept : state_(std::move(other.state_)) {}
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    guard& operator=(guard&&) = delete;

   private:
    std::shared_ptr<task_count_state> state_;
  };

  std::size_t running() const;
  // Completes once no task is running, at once when none is.
  awaitable<void> wait_all();
  // Completes when no task is running or at `until`, whichever comes first; true when none is.
  awaitable<bool> wait_all_until(steady_time until);

 private:
  std::shared_ptr<task_count_state> state_;
};

}  // namespace lambda_bridge
