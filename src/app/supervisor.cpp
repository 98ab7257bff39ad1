#include "lambda_bridge/app/supervisor.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/log.hpp"

extern char** environ;

namespace lambda_bridge {

exit_status describe_wait_status(int ws) {
  if (WIFEXITED(ws)) return {WEXITSTATUS(ws), "exited with status " + std::to_string(WEXITSTATUS(ws))};
  if (WIFSIGNALED(ws)) {
    const int sig = WTERMSIG(ws);
    return {128 + sig, "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")"};
  }
  return {1, "ended with wait status " + std::to_string(ws)};
}

supervisor::supervisor(asio::io_context& io) : sigchld_(io, SIGCHLD) {
  // Orphaned grandchildren are re-parented to the bridge rather than to an init that may not reap them (when
  // the bridge is not PID 1 itself).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  watch_children();
}

supervisor::~supervisor() { signal(SIGKILL); }

maybe_failure supervisor::start(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  // Asio's signal handling must not leak into the app: default dispositions and an empty mask.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  // The app inherits stdin, stdout and stderr only (stdout and stderr the pipes, when given): never the bridge's
  // listening sockets or connections (Asio does not mark them close-on-exec), which would keep the emulator's
  // ports open after the bridge is gone.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&files, stdout_fd, STDOUT_FILENO);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&files, stderr_fd, STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &files, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return failure{error_types::app_exited, "cannot start the app '" + argv[0] + "': " + std::strerror(rc)};
  }
  pid_ = pid;
  log::info("", "started the app (pid {}): {}", pid_, argv[0]);
  return std::nullopt;
}

void supervisor::watch_children() {
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reap();
    watch_children();
  });
}

void supervisor::reap() {
  // One SIGCHLD may stand for several children; reap every one that has ended, the app's own exit included.
  for (;;) {
    int ws = 0;
    const pid_t p = ::waitpid(-1, &ws, WNOHANG);
    if (p <= 0) return;
    if (p != pid_ || exited_) continue;
    exited_ = true;
    exit_ = describe_wait_status(ws);
    log::info("", "the app (pid {}) {}", pid_, exit_->description);
    if (on_exit_) on_exit_(*exit_);
  }
}

bool supervisor::group_alive() {
  if (pid_ <= 0 || group_gone_) return false;
  // kill(-pgid, 0) succeeds while any member of the group exists, the leader reaped or not.
  if (::kill(-pid_, 0) == 0 || errno == EPERM) return true;
  // Only once the main process is reaped can its pid, the group's id, be given to another process.
  if (exited_) group_gone_ = true;
  return false;
}

void supervisor::signal(int sig) {
  if (group_alive()) ::kill(-pid_, sig);
  // An app that made itself a session or group leader of its own (setsid) is not reached through the group.
  if (running() && ::getpgid(pid_) != pid_) ::kill(pid_, sig);
}

awaitable<bool> supervisor::wait_until_gone(steady_time deadline) {
  // Polled: the group's other members need not be the bridge's children (a worker's own child is reaped by that
  // worker), so no SIGCHLD says when the last of them is gone. It runs only while the app is being stopped.
  asio::steady_timer poll(co_await asio::this_coro::executor);
  for (;;) {
    reap();  // the group counts zombies too: the ones re-parented to the bridge are reaped here
    if (!running() && !group_alive()) co_return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) co_return false;
    poll.expires_at(std::min(deadline, now + std::chrono::milliseconds(5)));
    boost::system::error_code ec;
    co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

awaitable<void> supervisor::stop(std::chrono::milliseconds grace, int first_signal) {
  // The main process may have exited already and left workers in its group (a child that ignores SIGTERM, the
  // workers of a master that crashed): they hold the app's port and must not outlive the bridge either.
  if (!running() && !group_alive()) co_return;
  signal(first_signal);
  if (co_await wait_until_gone(std::chrono::steady_clock::now() + grace)) co_return;
  if (running()) {
    log::warn("", "the app did not exit within {} ms of signal {}; killing it and its process group",
              grace.count(), first_signal);
  } else {
    log::warn("",
              "the app has exited but processes of its group (pgid {}) were still running {} ms after signal {}; "
              "killing them",
              pid_, grace.count(), first_signal);
  }
  signal(SIGKILL);
  // Only a process stuck in the kernel (uninterruptible sleep) survives SIGKILL; the bridge must exit even then.
  constexpr auto kill_wait = std::chrono::seconds(1);
  if (!co_await wait_until_gone(std::chrono::steady_clock::now() + kill_wait)) {
    log::error("",
               "processes of the app's group (pgid {}) were still there {} ms after SIGKILL; exiting without "
               "them",
               pid_, std::chrono::milliseconds(kill_wait).count());
  }
}

}  // namespace lambda_bridge
