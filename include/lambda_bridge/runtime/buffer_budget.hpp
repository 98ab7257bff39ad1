// What the workers may keep of their large buffers between invocations, shared by all of them.
//
// A worker reuses its result and reply buffers across invocations, so that a large event does not page-fault its
// memory in again every time (docs/performance.md). Kept per worker without a bound, 64 workers that once carried
// 5 MB replies held 668 MB for the life of the process (issue 11). So small buffers are always kept, and large ones
// only while the capacity all workers keep stays within one budget; past it a buffer is freed and its memory given
// back to the kernel, which only a burst of large invocations at high concurrency ever reaches.
#pragma once

#include <cstddef>
#include <string>

namespace lambda_bridge {

class buffer_budget {
 public:
  explicit buffer_budget(std::size_t limit) : limit_(limit) {}

  // Buffers up to this capacity are kept whatever the budget: they are what every small invocation needs.
  static constexpr std::size_t small_bytes = 256 * 1024;

  // One buffer a worker keeps across invocations, with what the budget counts for it.
  struct kept {
    std::string buffer;
    std::size_t counted = 0;
  };

  // Called after each invocation: keeps `k`'s buffer if it is small or fits the budget, or frees it.
  void settle(kept& k);

  std::size_t used() const { return used_; }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
};

}  // namespace lambda_bridge
