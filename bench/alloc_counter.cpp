// The counting shim of the bench's second bridge, lambda-bridge-counting (built by the top-level CMakeLists.txt from
// the same libraries and src/main.cpp as lambda-bridge; scripts/bench builds it): the bridge is a static binary, so
// LD_PRELOAD cannot reach its allocator; instead the linker routes every call to malloc, calloc, realloc, free,
// aligned_alloc, posix_memalign and memalign through here (-Wl,--wrap=...). Statically linked, that covers every
// object in the link: operator new/delete (libstdc++ calls malloc/free; the aligned forms aligned_alloc), Asio,
// Beast, RapidJSON, fmt, and glibc's own callers such as fopen or strdup. It misses what glibc's malloc does inside
// one of these calls (realloc's internal allocation is that one realloc) and memory mapped directly (thread stacks,
// mmap by hand): neither is a heap allocation made per invocation.
//
// The counters live in a file the bench creates and names in LAMBDA_BRIDGE_ALLOC_COUNTS; the shim maps it shared at
// start, so the bench reads them at any moment (bench/alloc_count.cpp). Allocations before the mapping (static
// initialisers) are carried over. Without the variable the counters stay private and nothing else changes.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "alloc_counts.hpp"

extern "C" {
void* __real_malloc(std::size_t n);
void* __real_calloc(std::size_t k, std::size_t n);
void* __real_realloc(void* p, std::size_t n);
void __real_free(void* p);
void* __real_aligned_alloc(std::size_t a, std::size_t n);
int __real_posix_memalign(void** p, std::size_t a, std::size_t n);
void* __real_memalign(std::size_t a, std::size_t n);
}

namespace {

bench::alloc_counts early;
std::atomic<bench::alloc_counts*> counts{&early};

void counted(std::size_t bytes) {
  bench::alloc_counts* c = counts.load(std::memory_order_relaxed);
  c->allocations.fetch_add(1, std::memory_order_relaxed);
  c->bytes.fetch_add(bytes, std::memory_order_relaxed);
}

// Runs before the bridge's own static initialisers (priority 101), after glibc's start-up allocations.
__attribute__((constructor(101))) void map_counts() {
  const char* path = std::getenv("LAMBDA_BRIDGE_ALLOC_COUNTS");
  if (path == nullptr) return;
  const int fd = ::open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  void* p = ::mmap(nullptr, sizeof(bench::alloc_counts), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return;
  auto* shared = static_cast<bench::alloc_counts*>(p);
  shared->allocations.store(early.allocations.load());
  shared->frees.store(early.frees.load());
  shared->bytes.store(early.bytes.load());
  counts.store(shared);
}

}  // namespace

extern "C" {

void* __wrap_malloc(std::size_t n) {
  counted(n);
  return __real_malloc(n);
}

void* __wrap_calloc(std::size_t k, std::size_t n) {
  counted(k * n);
  return __real_calloc(k, n);
}

// Counted as an allocation whatever it does: growing in place is the allocator's luck, not the caller's design.
void* __wrap_realloc(void* p, std::size_t n) {
  counted(n);
  return __real_realloc(p, n);
}

void __wrap_free(void* p) {
  if (p != nullptr) counts.load(std::memory_order_relaxed)->frees.fetch_add(1, std::memory_order_relaxed);
  __real_free(p);
}

void* __wrap_aligned_alloc(std::size_t a, std::size_t n) {
  counted(n);
  return __real_aligned_alloc(a, n);
}

int __wrap_posix_memalign(void** p, std::size_t a, std::size_t n) {
  counted(n);
  return __real_posix_memalign(p, a, n);
}

void* __wrap_memalign(std::size_t a, std::size_t n) {
  counted(n);
  return __real_memalign(a, n);
}

}  // extern "C"
