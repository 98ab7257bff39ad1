// One invocation's time budget: the app's deadline keeps a reserve before Lambda's.
#include <doctest/doctest.h>

#include "lambda_bridge/runtime/invocation.hpp"

using namespace lambda_bridge;

TEST_CASE("the backend deadline keeps a reserve before Lambda's and never lies in the past") {
  invocation_context ctx;
  const auto sys = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'000'000));
  const auto steady = std::chrono::steady_clock::time_point(std::chrono::seconds(50));
  ctx.deadline_ms = 1'003'000;  // 3 s from now
  CHECK(invocation::backend_deadline(ctx, std::chrono::milliseconds(50), sys, steady) == steady + std::chrono::milliseconds(2950));
  ctx.deadline_ms = 1'000'060;  // too close for the reserve: all of it goes to the app
  CHECK(invocation::backend_deadline(ctx, std::chrono::milliseconds(50), sys, steady) == steady + std::chrono::milliseconds(60));
  ctx.deadline_ms = 999'000;  // already past
  CHECK(invocation::backend_deadline(ctx, std::chrono::milliseconds(50), sys, steady) == steady + std::chrono::milliseconds(1));
  ctx.deadline_ms.reset();
  CHECK(invocation::backend_deadline(ctx, std::chrono::milliseconds(50), sys, steady) == steady + std::chrono::minutes(15));
}

TEST_CASE("a deadline centuries away is clamped instead of overflowing the clock") {
  invocation_context ctx;
  ctx.deadline_ms = 9'999'999'999'999'999;
  const auto steady = std::chrono::steady_clock::time_point(std::chrono::seconds(50));
  const auto d = invocation::backend_deadline(ctx, std::chrono::milliseconds(50), std::chrono::system_clock::now(), steady);
  CHECK(d > steady);
  CHECK(d <= steady + std::chrono::minutes(15));
}
