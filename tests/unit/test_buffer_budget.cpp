// What workers keep of their buffers between invocations: small ones always, large ones within one shared budget.
#include <doctest/doctest.h>

#include "lambda_bridge/runtime/buffer_budget.hpp"

using namespace lambda_bridge;

namespace {

buffer_budget::kept holding(std::size_t bytes) {
  buffer_budget::kept k;
  k.buffer.reserve(bytes);
  return k;
}

}  // namespace

TEST_CASE("small buffers are always kept and never counted") {
  buffer_budget budget(0);
  auto k = holding(buffer_budget::small_bytes);
  budget.settle(k);
  CHECK(k.buffer.capacity() >= buffer_budget::small_bytes);
  CHECK(budget.used() == 0);
}

TEST_CASE("large buffers are kept while they fit the shared budget, then freed") {
  buffer_budget budget(10 << 20);
  auto a = holding(6 << 20);
  auto b = holding(6 << 20);
  budget.settle(a);
  budget.settle(b);
  CHECK(a.buffer.capacity() >= (6u << 20));
  CHECK(b.buffer.capacity() == std::string().capacity());  // over the budget: freed
  CHECK(budget.used() == a.counted);
}

TEST_CASE("a buffer settled again is counted once, and what a worker gives up is given back to the budget") {
  buffer_budget budget(10 << 20);
  auto a = holding(6 << 20);
  budget.settle(a);
  budget.settle(a);  // the next invocation of the same worker
  CHECK(budget.used() == a.counted);
  std::string().swap(a.buffer);
  budget.settle(a);
  CHECK(budget.used() == 0);
  auto b = holding(8 << 20);
  budget.settle(b);
  CHECK(b.counted >= (8u << 20));
}
