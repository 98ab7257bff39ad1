#include "process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace bench {

using namespace std::chrono_literals;

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void fatal(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(2);  // the atexit-free path; children are killed by kill_all_children() before callers get here
}

// ---------------------------------------------------------------------------------------------------------------
// Children: every one in its own process group, killed on every way out.

namespace {

std::mutex children_mutex;
std::set<pid_t> children;

}  // namespace

void kill_all_children() {
  std::lock_guard lk(children_mutex);
  for (pid_t pid : children) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
}

[[noreturn]] void fail(const std::string& what) {
  kill_all_children();
  fatal(what);
}

namespace {

cpu_set_t children_cpus;
bool children_apart = false;

}  // namespace

std::string keep_children_apart() {
  cpu_set_t all;
  CPU_ZERO(&all);
  if (::sched_getaffinity(0, sizeof all, &all) != 0 || CPU_COUNT(&all) < 2) return "the scheduler's (one CPU)";
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &all)) last = c;
  CPU_ZERO(&children_cpus);
  CPU_SET(last, &children_cpus);
  CPU_CLR(last, &all);
  if (::sched_setaffinity(0, sizeof all, &all) != 0) return "the scheduler's (sched_setaffinity failed)";
  children_apart = true;
  return "the children under test on CPU " + std::to_string(last) + ", the bench and the whole stack's app on the " +
         std::to_string(CPU_COUNT(&all)) + " other" + (CPU_COUNT(&all) > 1 ? "s" : "");
}

pid_t spawn(const std::string& binary, const std::vector<std::string>& env, const std::string& log_path,
            const std::vector<std::string>& args, bool under_test) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv{const_cast<char*>(binary.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  std::lock_guard lk(children_mutex);
  const int rc = posix_spawn(&pid, binary.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) fatal("cannot start " + binary + ": " + std::strerror(rc));
  // From the parent, as posix_spawn has no attribute for it: the child's first instructions may run on the bench's
  // CPUs, none of what it is measured on.
  if (under_test && children_apart) ::sched_setaffinity(pid, sizeof children_cpus, &children_cpus);
  children.insert(pid);
  return pid;
}

// SIGTERM first (so a profiler wrapping the child, such as valgrind, writes its output), SIGKILL after 3 s.
void stop_child(pid_t pid) {
  ::kill(-pid, SIGTERM);
  bool gone = false;
  for (int sig : {SIGTERM, SIGKILL}) {
    if (sig == SIGKILL) ::kill(-pid, SIGKILL);
    const int64_t deadline = now_ns() + 3'000'000'000;
    while (!gone && now_ns() < deadline) {
      const pid_t r = ::waitpid(pid, nullptr, WNOHANG);
      gone = r == pid || (r < 0 && errno == ECHILD);
      if (!gone) std::this_thread::sleep_for(1ms);
    }
    if (gone) break;
  }
  ::kill(-pid, SIGKILL);  // anything the child left in its group
  std::lock_guard lk(children_mutex);
  children.erase(pid);
}

bool child_alive(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == 0; }

// ---------------------------------------------------------------------------------------------------------------
// /proc readings

proc_mem read_mem(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  proc_mem m;
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::atol(line.c_str() + 6);
  }
  return m;
}

long read_code_rss_kb(pid_t pid) {
  // The binary's own mapping (a dynamic build also maps its shared libraries' code).
  char exe[4096];
  const ssize_t len = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
  if (len <= 0) return 0;
  const std::string binary(exe, static_cast<std::size_t>(len));
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  bool code = false;
  long kb = 0;
  while (std::getline(f, line)) {
    // A mapping's line: "start-end perms offset dev inode [path]"; its fields' lines ("Rss:   964 kB") follow it.
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, path;
    if (fields >> range >> perms >> offset >> dev >> inode && range.find('-') != std::string::npos) {
      fields >> path;
      code = perms == "r-xp" && path == binary;
    } else if (code && line.rfind("Rss:", 0) == 0) {
      kb += std::atol(line.c_str() + 4);
    }
  }
  return kb;
}

// utime + stime of the whole process (all threads), in microseconds; the clock-tick resolution (10 ms) is why the
// scenarios run enough invocations for the delta to span many ticks.
double cpu_us_stat(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), {});
  const auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) * 1e6 / double(sysconf(_SC_CLK_TCK));
}

// The same accounting at nanosecond resolution: the scheduler's run time of every thread.
double cpu_us_sched(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  double total = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/schedstat");
    unsigned long long ns = 0;
    if (f >> ns) total += double(ns) / 1e3;
  }
  closedir(d);
  return total;
}

// The entries of /proc/PID/fd (the soak's descriptor count).
int open_fds(pid_t pid) {
  int n = 0;
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

std::string log_tail(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  if (s.size() > 2000) s = "..." + s.substr(s.size() - 2000);
  return s;
}

}  // namespace bench
