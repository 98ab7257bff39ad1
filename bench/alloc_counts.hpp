// The counters of lambda-bridge-counting (alloc_counter.cpp), as laid out in the file the bench maps: shared by the
// shim, which writes them, and the bench, which reads them (alloc_count.cpp).
#pragma once

#include <atomic>
#include <cstdint>

namespace bench {

struct alloc_counts {
  std::atomic<std::uint64_t> allocations{0};  // malloc, calloc, realloc and the aligned forms
  std::atomic<std::uint64_t> frees{0};        // free of a non-null pointer
  std::atomic<std::uint64_t> bytes{0};        // requested by those allocations
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the counters are shared between two processes");

}  // namespace bench
