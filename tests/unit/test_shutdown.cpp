// The bridge's one stop signal and its count of running tasks, on a real io_context.
#include <doctest/doctest.h>

#include "lambda_bridge/runtime/shutdown.hpp"

using namespace lambda_bridge;
using namespace std::chrono_literals;

namespace {

// Runs `io` until it has no more work, within a bound: a wait that never completes fails the test, not the run.
void run_bounded(asio::io_context& io) {
  io.run_for(5s);
  REQUIRE(io.stopped());
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("stop wakes every waiter") {
  asio::io_context io;
  shutdown_signal stop;
  int woken = 0;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await stop.wait();
          ++woken;
        },
        asio::detached);
  }
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await sleep_for(10ms);
        CHECK(woken == 0);
        stop.stop();
      },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  run_bounded(io);
  CHECK(woken == 3);
  CHECK(stop.stopping());
  CHECK_FALSE(stop.reason());
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("a wait that begins after the stop completes at once") {
  asio::io_context io;
  shutdown_signal stop;
  stop.stop(failure{"Runtime.AppExited", "the app exited with status 3"});
  bool woken = false;
  bool stopped = false;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await stop.wait();
        woken = true;
        stopped = co_await stop.wait_until(std::chrono::steady_clock::now() + 1h);
      },
      asio::detached);
  run_bounded(io);
  CHECK(woken);
  CHECK(stopped);
  REQUIRE(stop.reason());
  CHECK(stop.reason()->message == "the app exited with status 3");
}

TEST_CASE("the first reason given is kept, and an orderly stop can be given one later") {
  shutdown_signal stop;
  stop.stop();
  CHECK_FALSE(stop.reason());
  stop.stop(failure{"Runtime.AppExited", "first"});
  stop.stop(failure{"Runtime.AppExited", "second"});
  REQUIRE(stop.reason());
  CHECK(stop.reason()->message == "first");
}

TEST_CASE("a bounded wait ends at its deadline when no stop comes") {
  asio::io_context io;
  shutdown_signal stop;
  std::optional<bool> stopped;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> { stopped = co_await stop.wait_until(std::chrono::steady_clock::now() + 20ms); },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  run_bounded(io);
  REQUIRE(stopped);
  CHECK_FALSE(*stopped);
  CHECK(std::chrono::steady_clock::now() - start >= 20ms);
}

TEST_CASE("a hook is called at the stop while it lives, and at once when the stop came before it") {
  shutdown_signal stop;
  int called = 0;
  {
    const shutdown_signal::hook gone(stop, [&] { called += 100; });
  }
  const shutdown_signal::hook live(stop, [&] { ++called; });
  stop.stop();
  CHECK(called == 1);
  stop.stop();
  CHECK(called == 1);
  const shutdown_signal::hook late(stop, [&] { ++called; });
  CHECK(called == 2);
}

TEST_CASE("wait_all completes when the last task ends") {
  asio::io_context io;
  task_count tasks;
  std::vector<int> ended;
  bool all_done = false;
  for (int i = 1; i <= 3; ++i) {
    asio::co_spawn(
        io,
        [&, i, g = task_count::guard(tasks)]() -> awaitable<void> {
          co_await sleep_for(std::chrono::milliseconds(10 * i));
          ended.push_back(i);
        },
        asio::detached);
  }
  CHECK(tasks.running() == 3);
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await tasks.wait_all();
        CHECK(ended.size() == 3);
        all_done = true;
      },
      asio::detached);
  run_bounded(io);
  CHECK(all_done);
  CHECK(tasks.running() == 0);
}

TEST_CASE("wait_all completes at once when no task runs, and a bounded one reports the tasks left") {
  asio::io_context io;
  task_count tasks;
  bool idle_done = false;
  std::optional<bool> all_ended;
  std::optional<task_count::guard> stuck;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await tasks.wait_all();
        idle_done = true;
        stuck.emplace(tasks);
        all_ended = co_await tasks.wait_all_until(std::chrono::steady_clock::now() + 20ms);
        stuck.reset();
      },
      asio::detached);
  run_bounded(io);
  CHECK(idle_done);
  REQUIRE(all_ended);
  CHECK_FALSE(*all_ended);
}

TEST_CASE("stop, then the tasks that observe it end, then the owner goes on") {
  asio::io_context io;
  shutdown_signal stop;
  task_count tasks;
  int loops_ended = 0;
  bool owner_done = false;
  for (int i = 0; i < 4; ++i) {
    asio::co_spawn(
        io,
        [&, g = task_count::guard(tasks)]() -> awaitable<void> {
          while (!stop.stopping()) co_await stop.wait();
          ++loops_ended;
        },
        asio::detached);
  }
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await sleep_for(5ms);
        stop.stop();
        co_await tasks.wait_all();
        CHECK(loops_ended == 4);
        owner_done = true;
      },
      asio::detached);
  run_bounded(io);
  CHECK(owner_done);
}

TEST_CASE("a waiter left suspended is safe to destroy after the objects it waited on") {
  auto io = std::make_unique<asio::io_context>();
  {
    auto stop = std::make_unique<shutdown_signal>();
    auto tasks = std::make_unique<task_count>();
    asio::co_spawn(
        *io,
        [&s = *stop, &t = *tasks, g = task_count::guard(*tasks)]() -> awaitable<void> {
          co_await s.wait();
          co_await t.wait_all();
        },
        asio::detached);
    io->run_for(10ms);
    stop.reset();
    tasks.reset();
  }
  io.reset();  // destroys the suspended frame: its registration and its guard outlive their owners
}
