// The child-process supervisor: starts the app (the image's CMD) in its own process group, reaps every child
// (the bridge is a child subreaper, and PID 1 in a container), and tells its owner when the app exits.
//
// The app gets its own process group so that a shutdown signal reaches it only when the bridge says so: Lambda
// signals the whole group, and the in-flight invocation must finish before the app is told to stop.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/types.h>

#include "lambda_bridge/asio.hpp"
#include "lambda_bridge/result.hpp"

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

  // Starts `argv` with the bridge's environment and standard streams. Fails with Runtime.AppExited when the
  // command cannot be started (not found, not executable).
  status start(const std::vector<std::string>& argv);

  // Called once when the app has exited (and been reaped).
  void on_exit(std::function<void(const exit_status&)> f) { on_exit_ = std::move(f); }

  bool running() const { return pid_ > 0 && !exited_; }
  bool has_app() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::optional<exit_status>& app_exit() const { return exit_; }

  // Sends `sig` to the app's process group.
  void signal(int sig);

  // SIGTERM to the app, then SIGKILL if it has not exited after `grace`. Completes when the app has exited
  // (at once when there is no app).
  awaitable<void> stop(std::chrono::milliseconds grace, int first_signal = SIGTERM);

 private:
  void watch_children();
  void reap();

  asio::signal_set sigchld_;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::optional<exit_status> exit_;
  std::function<void(const exit_status&)> on_exit_;
  asio::steady_timer exited_event_;  // cancelled when the app exits, to wake stop()
};

}  // namespace lambda_bridge
