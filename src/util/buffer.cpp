// Compiled as C++23 (CMakeLists.txt) for std::string::resize_and_overwrite, the one way to grow a string without
// writing it; the rest of the project is C++20, and a std::string is the same type under both.
#include "lambda_bridge/util/buffer.hpp"

namespace lambda_bridge {

void resize_uninitialized(std::string& s, std::size_t n) {
#if defined(__cpp_lib_string_resize_and_overwrite)
  // `n`, not the size the operation is handed: libstdc++ 12 hands it the capacity it rounded up to when it had to
  // reallocate, and the string would take that length, stale bytes included.
  s.resize_and_overwrite(n, [n](char*, std::size_t) { return n; });
#else
  s.resize(n);  // correct, only slower
#endif
}

}  // namespace lambda_bridge
