#include "lambda_bridge/supervisor.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lambda_bridge/error_types.hpp"
#include "lambda_bridge/log.hpp"

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

supervisor::supervisor(asio::io_context& io) : sigchld_(io, SIGCHLD), exited_event_(io) {
  exited_event_.expires_at(steady_time::max());
  // Orphaned grandchildren are re-parented to the bridge rather than to an init that may not reap them (when
  // the bridge is not PID 1 itself).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  watch_children();
}

supervisor::~supervisor() {
  if (running()) ::kill(-pid_, SIGKILL);
}

status supervisor::start(const std::vector<std::string>& argv) {
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
  // The app inherits stdin, stdout and stderr only: never the bridge's listening sockets or connections
  // (Asio does not mark them close-on-exec), which would keep the emulator's ports open after the bridge is gone.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
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
    exited_event_.cancel();
    if (on_exit_) on_exit_(*exit_);
  }
}

void supervisor::signal(int sig) {
  if (running()) ::kill(-pid_, sig);
}

awaitable<void> supervisor::stop(std::chrono::milliseconds grace, int first_signal) {
  if (!running()) co_return;
  signal(first_signal);
  exited_event_.expires_after(grace);
  boost::system::error_code ec;
  co_await exited_event_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (running()) {
    log::warn("", "the app did not exit within {} ms of signal {}; killing it", grace.count(), first_signal);
    signal(SIGKILL);
    exited_event_.expires_at(steady_time::max());
    co_await exited_event_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace lambda_bridge
