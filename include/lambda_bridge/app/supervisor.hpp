// The child-process supervisor: starts the app (the image's CMD) in its own process group, reaps every child
// (the bridge is a child subreaper, and PID 1 in a container), and tells its owner when the app exits.
//
// The app gets its own process group so that a shutdown signal reaches it only when the bridge says so: Lambda
// signals the whole group, and the in-flight invocation must finish before the app is told to stop. The group is
// also what is stopped: workers the app forked (a pre-forking server's, a child that ignores SIGTERM) hold its
// port and outlive its main process, so they are signalled, waited for and killed with it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/types.h>

#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

// How a process ended, as a shell reports it: the exit code, or 128 + the signal number.
struct exit_status {
  int code = 0;
  std::string description;  // "exited with status 3", "killed by signal 9 (Killed)"
};

exit_status describe_wait_status(int wait_status);

class supervisor {
 public:
  explicit supervisor(asio::io_context& io);
  ~supervisor();

  // Starts `argv` with the bridge's environment and standard streams, or with `stdout_fd` and `stderr_fd` as its
  // stdout and stderr when they are given (app_output's pipes). Fails with Runtime.AppExited when the command
  // cannot be started (not found, not executable).
  maybe_failure start(const std::vector<std::string>& argv, int stdout_fd = -1, int stderr_fd = -1);

  // Called once when the app has exited (and been reaped).
  void on_exit(std::function<void(const exit_status&)> f) { on_exit_ = std::move(f); }

  // The app's main process has not been reaped yet.
  bool running() const { return pid_ > 0 && !exited_; }
  bool has_app() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::optional<exit_status>& app_exit() const { return exit_; }

  // Some process of the app's group still exists (a zombie not yet reaped counts), even when the main process
  // has exited.
  bool group_alive();

  // Sends `sig` to what is left of the app's process group (and to the main process if it left the group).
  void signal(int sig);

  // `first_signal` to the app's process group, then SIGKILL to whatever of the group is left after `grace`,
  // whether or not the main process has exited already. Completes when the main process and every process of its
  // group have exited and been reaped, or, should some survive SIGKILL, 1 s after it (at once when nothing is
  // left).
  awaitable<void> stop(std::chrono::milliseconds grace, int first_signal = SIGTERM);

 private:
  void watch_children();
  void reap();
  awaitable<bool> wait_until_gone(steady_time deadline);

  asio::signal_set sigchld_;
  pid_t pid_ = -1;
  bool exited_ = false;
  bool group_gone_ = false;  // once set, the group id may be another group's: it is never signalled again
  std::optional<exit_status> exit_;
  std::function<void(const exit_status&)> on_exit_;
};

}  // namespace lambda_bridge
