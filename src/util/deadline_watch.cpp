#include "lambda_bridge/util/deadline_watch.hpp"

#include <algorithm>

namespace lambda_bridge {

void deadline_watch::add(entry& e, steady_time deadline) {
  e.deadline_ = deadline;
  e.expired_ = false;
  if (!e.registered_) {
    e.registered_ = true;
    entries_.push_back(&e);
  }
  arm(deadline);
}

void deadline_watch::remove(entry& e) {
  if (!e.registered_) return;
  e.registered_ = false;
  std::erase(entries_, &e);
  if (entries_.empty() && !keep_armed_) disarm();
}

void deadline_watch::keep_armed(bool on) {
  keep_armed_ = on;
  if (!on && entries_.empty()) disarm();
}

void deadline_watch::arm(steady_time at) {
  // A timer armed for an earlier time covers this deadline too: when it fires, it re-arms for what is left.
  if (armed_ && armed_at_ <= at) return;
  armed_ = true;
  armed_at_ = at;
  const std::uint64_t generation = ++generation_;
  timer_.expires_at(at);  // cancels the wait armed for later, whose handler then does nothing
  timer_.async_wait([this, generation](const boost::system::error_code& ec) {
    // Aborted: cancelled, or the watch is being destroyed; `this` may be gone then.
    if (ec == asio::error::operation_aborted || generation != generation_) return;
    fired();
  });
}

void deadline_watch::disarm() {
  if (!armed_) return;
  armed_ = false;
  ++generation_;
  timer_.cancel();
}

void deadline_watch::fired() {
  armed_ = false;
  const auto now = std::chrono::steady_clock::now();
  auto next = steady_time::max();
  // The callbacks only close sockets: the operations they end complete later, through the scheduler, so the list
  // does not change under this loop.
  for (entry* e : entries_) {
    if (e->expired_) continue;
    if (e->deadline_ <= now) {
      e->expired_ = true;
      e->on_expiry_(e->context_);
    } else {
      next = std::min(next, e->deadline_);
    }
  }
  if (next != steady_time::max()) arm(next);
}

}  // namespace lambda_bridge
