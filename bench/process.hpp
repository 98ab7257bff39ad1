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

// `binary` with `args`, environment `env`, stdin from /dev/null, stdout and stderr appended to `log_path`.
pid_t spawn(const std::string& binary, const std::vector<std::string>& env, const std::string& log_path,
            const std::vector<std::string>& args = {});
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
