// The child under test (lambda-bridge or the null forwarder): started in its own process group, killed on every
// way out of the bench; and what /proc says of its memory, CPU and open descriptors.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// The bench's one clock (CLOCK_MONOTONIC), in nanoseconds.
int64_t now_ns();

// Both end the bench with status 2; fail() kills the children first.
[[noreturn]] void fatal(const std::string& what);
[[noreturn]] void fail(const std::string& what);

// SIGKILL to every child still running and to its process group.
void kill_all_children();

// With two CPUs or more to run on: the bench keeps all of them but the last for itself (and its threads, which
// inherit it), and each child under test that spawn() starts runs on that last one. Both children of a scenario then
// meet the same placement: left to the scheduler, one could stay beside the bench's threads for a whole scenario and
// the other on a CPU of its own, and the same binaries' ratios moved from 0.78x to 1.91x between runs
// (docs/performance.md, "Turns, and one CPU for the children"). Returns the placement in words.
std::string keep_children_apart();

// `binary` with `args`, environment `env`, stdin from /dev/null, stdout and stderr appended to `log_path`; a child
// under test (not the whole stack's app) on the children's CPU (keep_children_apart).
pid_t spawn(const std::string& binary, const std::vector<std::string>& env, const std::string& log_path,
            const std::vector<std::string>& args = {}, bool under_test = true);
void stop_child(pid_t pid);
// The last 2,000 bytes of a child's log, for the message that ends the bench when it misbehaves.
std::string log_tail(const std::string& path);
bool child_alive(pid_t pid);

struct proc_mem {
  long rss_kb = 0;
  long hwm_kb = 0;
};

proc_mem read_mem(pid_t pid);
// The resident part of the child's code: the Rss of its executable mapping of its binary (/proc/PID/smaps), the
// part of the idle RSS that the layout of config/text-order.txt decides.
long read_code_rss_kb(pid_t pid);
double cpu_us_stat(pid_t pid);
double cpu_us_sched(pid_t pid);
int open_fds(pid_t pid);

}  // namespace bench
