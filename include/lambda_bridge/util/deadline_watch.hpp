// One timer for every deadline of a peer's operations: the app's connection pool bounds each exchange by its
// invocation's deadline, the Runtime API client bounds each post and each streamed piece by a minute.
//
// Beast's tcp_stream arms a timer per operation: a timerfd_settime for each read and write, and a cancelled wait
// handed back through the scheduler when the operation ends (issue 14: 4 of the ~20 system calls of a 1 KB
// invocation, and in a 100 MB stream one per partial write). Here an entry is registered for the life of what it
// bounds, and the one timer is reprogrammed only when an entry's deadline is earlier than what it is armed for.
// With keep_armed (the workers' loop), the timer is not cancelled when the last entry goes: the next invocation's
// deadline is later, so it usually needs nothing, and the timer, once it fires, re-arms for the earliest entry
// left, or stops when there is none. Between invocations it may fire once and find nothing (on thaw, say): it
// then stops; it never bounds the /next poll, which registers no entry.
//
// On expiry an entry's callback runs (it closes the socket, as Beast does on a timeout); its owner then reports
// the operation that failed as timed out (expired()).
#pragma once

#include <vector>

#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

class deadline_watch {
 public:
  explicit deadline_watch(asio::any_io_executor ex) : timer_(std::move(ex)) {}
  deadline_watch(const deadline_watch&) = delete;
  deadline_watch& operator=(const deadline_watch&) = delete;

  // Something bounded by a deadline, registered by its owner for as long as it runs. Not copyable: the watch keeps
  // its address.
  class entry {
   public:
    // `on_expiry(context)` runs once, from the timer, when the deadline passes while the entry is registered.
    entry(void (*on_expiry)(void*), void* context) : on_expiry_(on_expiry), context_(context) {}
    entry(const entry&) = delete;
    entry& operator=(const entry&) = delete;
    steady_time deadline() const { return deadline_; }
    // True once the deadline has passed: the timer fired for it, or an operation is about to start too late.
    bool expired() const { return expired_ || std::chrono::steady_clock::now() >= deadline_; }

   private:
    friend class deadline_watch;
    void (*on_expiry_)(void*);
    void* context_;
    steady_time deadline_{};
    bool expired_ = false;
    bool registered_ = false;
  };

  // Registers `e` until `deadline` (again, with a new deadline, if it is registered already).
  void add(entry& e, steady_time deadline);
  void remove(entry& e);
  // Whether the timer stays armed when the last entry goes (see the top of the file). Turning it off with no entry
  // left cancels the timer, so that an io_context with nothing else to do can return from run().
  void keep_armed(bool on);

 private:
  void arm(steady_time at);
  void disarm();
  void fired();

  asio::steady_timer timer_;
  std::vector<entry*> entries_;
  steady_time armed_at_{};
  bool armed_ = false;
  bool keep_armed_ = false;
  std::uint64_t generation_ = 0;  // of the wait in flight: a cancelled or superseded one is ignored
};

}  // namespace lambda_bridge
