#include "lambda_bridge/runtime/buffer_budget.hpp"

#include <malloc.h>

namespace lambda_bridge {

void buffer_budget::settle(kept& k) {
  used_ -= k.counted;
  k.counted = 0;
  const std::size_t capacity = k.buffer.capacity();
  if (capacity <= small_bytes) return;
  if (used_ + capacity <= limit_) {
    used_ += capacity;
    k.counted = capacity;
    return;
  }
  std::string().swap(k.buffer);
#ifdef __GLIBC__
  // main.cpp keeps freed memory in the heap for reuse; what is over the budget goes back to the kernel instead.
  ::malloc_trim(0);
#endif
}

}  // namespace lambda_bridge
