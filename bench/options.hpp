// The command line of lambda-bridge-bench (main.cpp parses it; usage() there lists it).
#pragma once

#include <string>

namespace bench {

struct options {
  std::string bridge, null_forwarder, work_dir;
  std::string counting;  // the counting bridge (bench/alloc_counter.cpp); without it no allocation count
  bool json = false, quick = false;
  std::string only;
  int time_limit_s = 115;
  bool startup = true;
  int count = 0;  // > 0: this many measured invocations per scenario, one warm-up (for profiling runs)
  long soak = 0;  // > 0: the soak instead of the benchmark, with this many invocations
  std::string fastapi_dir = "examples/fastapi";  // the sample app of the whole-stack scenario (whole_stack.hpp)
  bool pin = true;  // the children under test on a CPU of their own (process.hpp, keep_children_apart)
};

}  // namespace bench
