// A cache of freed coroutine frames, one per thread, that Asio's awaitable frames are allocated from (util/asio.hpp
// routes them here). RapidJSON's parse stacks come from it too (events::parse_stack_allocator): small blocks made
// and freed once per invocation, like the frames.
//
// Why: Asio 1.74 keeps one freed frame per thread for reuse, so below the first level of co_await every nested
// coroutine, and every asynchronous operation awaited with use_awaitable (1.74 starts each one in a coroutine of its
// own), took its frame from the heap: about 20 malloc/free pairs per 1 KB invocation, of the 27 left (issue 14).
// Later Asio keeps more than one (BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE); this does the same for 1.74, with
// size classes so that a small frame does not take the block a large one needs.
//
// Bounded: at most `blocks_per_class` freed frames in each power-of-two class from 128 bytes to 16 KB (about 256 KB
// per thread if every class filled up; an invocation's frames are 100 bytes to 2 KB). Larger frames go to the heap
// as before. What a thread keeps is freed when it exits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lambda_bridge::frame_cache {

inline constexpr std::size_t smallest_class = 128;
inline constexpr std::size_t largest_class = 16 * 1024;
inline constexpr std::size_t blocks_per_class = 8;

// `size` bytes, aligned as operator new aligns them. deallocate takes the same size that allocate was given.
void* allocate(std::size_t size);
void deallocate(void* pointer, std::size_t size) noexcept;

// What this thread's cache has done so far: frames handed out from the cache, and frames taken from the heap.
struct counters {
  std::uint64_t reused = 0;
  std::uint64_t from_heap = 0;
};
counters this_thread_counters() noexcept;

}  // namespace lambda_bridge::frame_cache
