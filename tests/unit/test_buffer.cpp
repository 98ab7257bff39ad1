// Growing a buffer without zero-filling it: what it keeps.
#include <doctest/doctest.h>

#include "lambda_bridge/util/buffer.hpp"

using namespace lambda_bridge;

TEST_CASE("a buffer grown without filling keeps its bytes, in place or moved to a larger block, and can shrink") {
  std::string s = "kept bytes";
  s.reserve(64);
  resize_uninitialized(s, 40);  // within the capacity
  CHECK(s.size() == 40);
  CHECK(s.starts_with("kept bytes"));
  s.replace(10, 30, std::string(30, 'w'));
  resize_uninitialized(s, 1 << 20);  // past it: moved
  CHECK(s.size() == std::size_t{1} << 20);
  CHECK(s.substr(0, 40) == "kept bytes" + std::string(30, 'w'));
  // From a small string to a little more than twice its capacity: libstdc++ 12 rounds the new block up, and the
  // length must still be the one asked for.
  std::string t(20, 't');
  resize_uninitialized(t, 31);
  CHECK(t.size() == 31);
  std::string u(200, 'u');
  resize_uninitialized(u, 201);
  CHECK(u.size() == 201);
  CHECK(u.substr(0, 200) == std::string(200, 'u'));
  resize_uninitialized(s, 4);
  CHECK(s == "kept");
  CHECK(s.c_str()[4] == '\0');
}
