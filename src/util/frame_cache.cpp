#include "lambda_bridge/util/frame_cache.hpp"

#include <bit>
#include <new>

namespace lambda_bridge::frame_cache {
namespace {

constexpr std::size_t class_count = std::bit_width(largest_class / smallest_class);  // 128 B .. 16 KB: 8 classes

// The class whose blocks hold `size` bytes; class_count for a size no class holds.
std::size_t class_of(std::size_t size) {
  if (size > largest_class) return class_count;
  if (size <= smallest_class) return 0;
  return std::bit_width((size - 1) / smallest_class);
}

struct cache {
  void* blocks[class_count][blocks_per_class] = {};
  std::size_t kept[class_count] = {};
  counters done;
  ~cache();
};

// Trivially destructible, so that it can still be read once `frames` is gone: a frame freed on this thread after
// that (a coroutine destroyed by a static object's destructor at exit) goes straight back to the heap.
thread_local bool cache_gone = false;
thread_local cache frames;

cache::~cache() {
  for (std::size_t c = 0; c < class_count; ++c) {
    for (std::size_t i = 0; i < kept[c]; ++i) ::operator delete(blocks[c][i]);
  }
  cache_gone = true;
}

}  // namespace

void* allocate(std::size_t size) {
  const std::size_t c = class_of(size);
  if (c == class_count || cache_gone) return ::operator new(size);
  cache& cached = frames;
  if (cached.kept[c] > 0) {
    ++cached.done.reused;
    return cached.blocks[c][--cached.kept[c]];
  }
  ++cached.done.from_heap;
  return ::operator new(smallest_class << c);
}

void deallocate(void* pointer, std::size_t size) noexcept {
  const std::size_t c = class_of(size);
  if (c < class_count && !cache_gone) {
    cache& cached = frames;
    if (cached.kept[c] < blocks_per_class) {
      cached.blocks[c][cached.kept[c]++] = pointer;
      return;
    }
  }
  ::operator delete(pointer);
}

counters this_thread_counters() noexcept { return cache_gone ? counters{} : frames.done; }

}  // namespace lambda_bridge::frame_cache
