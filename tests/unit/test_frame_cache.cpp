// The per-thread cache of coroutine frames (frame_cache.hpp) and Asio's awaitable frames taken from it
// (util/asio.hpp): nested coroutines in steady state allocate no frame from the heap.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <vector>

#include "lambda_bridge/util/asio.hpp"
#include "lambda_bridge/util/frame_cache.hpp"

using namespace lambda_bridge;
using namespace std::chrono_literals;

namespace {

awaitable<int> leaf(asio::steady_timer& timer) {
  // A real asynchronous wait: Asio 1.74 starts it in a coroutine frame of its own.
  timer.expires_after(0ms);
  co_await timer.async_wait(asio::use_awaitable);
  co_return 1;
}

awaitable<int> middle(asio::steady_timer& timer) {
  int sum = co_await leaf(timer);
  sum += co_await leaf(timer);
  co_return sum;
}

awaitable<int> top(asio::steady_timer& timer) {
  char big[3000] = {};  // a frame in a larger class than the others
  big[0] = static_cast<char>(co_await middle(timer));
  co_return big[0] + co_await middle(timer);
}

// Runs `rounds` of three levels of nested coroutines and awaited waits in one coroutine, as a worker runs invocations.
int run_rounds(int rounds) {
  asio::io_context io;
  asio::steady_timer timer(io);
  int total = 0;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        for (int i = 0; i < rounds; ++i) total += co_await top(timer);
      },
      asio::detached);
  io.run();
  return total;
}

}  // namespace

TEST_CASE("a freed frame is handed out again for a frame of its size class, and a larger one is not") {
  const auto before = frame_cache::this_thread_counters();
  void* a = frame_cache::allocate(200);
  frame_cache::deallocate(a, 200);
  CHECK(frame_cache::allocate(256) == a);  // same class (129-256 bytes)
  void* b = frame_cache::allocate(300);    // the next class: not the block just taken, nor a new one of 256
  CHECK(b != a);
  frame_cache::deallocate(a, 256);
  frame_cache::deallocate(b, 300);
  const auto after = frame_cache::this_thread_counters();
  CHECK(after.reused - before.reused >= 1);
}

TEST_CASE("the cache keeps at most blocks_per_class frames of a class, and none above the largest class") {
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 2 * frame_cache::blocks_per_class; ++i) blocks.push_back(frame_cache::allocate(1000));
  for (void* block : blocks) frame_cache::deallocate(block, 1000);
  std::set<void*> handed_out;
  const auto before = frame_cache::this_thread_counters();
  for (std::size_t i = 0; i < 2 * frame_cache::blocks_per_class; ++i) handed_out.insert(frame_cache::allocate(1000));
  const auto after = frame_cache::this_thread_counters();
  CHECK(after.reused - before.reused == frame_cache::blocks_per_class);
  CHECK(after.from_heap - before.from_heap == frame_cache::blocks_per_class);
  for (void* block : handed_out) frame_cache::deallocate(block, 1000);

  const std::size_t huge = frame_cache::largest_class + 1;
  void* h = frame_cache::allocate(huge);
  frame_cache::deallocate(h, huge);
  const auto before_huge = frame_cache::this_thread_counters();
  void* h2 = frame_cache::allocate(huge);
  frame_cache::deallocate(h2, huge);
  const auto after_huge = frame_cache::this_thread_counters();
  CHECK(after_huge.reused == before_huge.reused);  // straight from and to the heap, not counted as the cache's
  CHECK(after_huge.from_heap == before_huge.from_heap);
}

TEST_CASE("nested coroutines and awaited operations take no frame from the heap once warm") {
  REQUIRE(run_rounds(3) == 12);  // warm-up: the first rounds fill the cache
  const auto before = frame_cache::this_thread_counters();
  REQUIRE(run_rounds(200) == 800);
  const auto after = frame_cache::this_thread_counters();
  // Each round awaits 3 coroutines, 4 more below them and 4 waits: Asio's frames come from the cache (the routing in
  // util/asio.hpp is in effect; without it none would be), and after the warm-up every one is a reused block.
  CHECK(after.reused - before.reused >= 200 * 11);
  CHECK(after.from_heap - before.from_heap == 0);
}
