#include "lambda_bridge/runtime/bridge.hpp"

#include <signal.h>

#include <cerrno>
#include <cstring>

#include "lambda_bridge/app/app_output.hpp"
#include "lambda_bridge/app/backend_client.hpp"
#include "lambda_bridge/app/readiness.hpp"
#include "lambda_bridge/app/supervisor.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/lambda/extensions_api.hpp"
#include "lambda_bridge/lambda/runtime_client.hpp"
#include "lambda_bridge/local/emulator.hpp"
#include "lambda_bridge/local/gateway.hpp"
#include "lambda_bridge/runtime/shutdown.hpp"
#include "lambda_bridge/runtime/worker_loop.hpp"
#include "lambda_bridge/util/asio.hpp"
#include "lambda_bridge/util/log.hpp"

namespace lambda_bridge {
namespace {

// Registered with Lambda as an internal extension: Lambda sends SIGTERM (and a shutdown phase) only to runtimes
// with at least one extension; without one the environment is SIGKILLed and the app never shuts down cleanly.
constexpr std::string_view extension_name = "lambda-bridge";

// Runs `io` until it has no more work. An exception thrown by a completion handler outside any coroutine's reach
// (inside a composed operation, as Beast's parser once threw on a 64 KB trailer field) leaves io_context::run(); it
// costs the operation it came from, never the process: the loop logs it and runs the io_context on.
void run_guarded(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log::error("", "internal error outside any invocation's handling (the bridge keeps serving): {}", e.what());
    } catch (...) {
      log::error("", "internal error outside any invocation's handling (the bridge keeps serving)");
    }
  }
}

class bridge {
 public:
  bridge(const config& cfg, std::vector<std::string> app_argv, std::optional<std::string> extension_name)
      : cfg_(cfg),
        app_argv_(std::move(app_argv)),
        extension_name_(std::move(extension_name)),
        supervisor_(io_),
        signals_(io_, SIGTERM, SIGINT, SIGHUP) {}

  int run() {
    if (!resolve()) return 1;
    asio::co_spawn(io_, main(), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const runtime_api_fatal& f) {
          log::error("", "exiting: {}", f.what());
        } catch (const listen_error& f) {
          log::error("", "exiting: {}", f.what());
        } catch (const std::exception& f) {
          log::error("", "exiting on an unexpected error: {}", f.what());
        }
        exit_status_ = 1;
        supervisor_.signal(SIGKILL);
      }
      io_.stop();
    });
    run_guarded(io_);
    // Also after a fatal error, which ends the io_context without shut_down(): the app's last lines still go out.
    if (app_output_) app_output_->finish();
    return exit_status_;
  }

 private:
  bool resolve() {
    try {
      backend_ = resolve_endpoint(cfg_.backend.host, cfg_.backend.port);
      pool_ = std::make_unique<backend_pool>(io_.get_executor(), backend_, cfg_.pool_idle_timeout);
      if (cfg_.runtime_api) {
        runtime_ = resolve_endpoint(cfg_.invocation_api()->host, cfg_.invocation_api()->port);
        extensions_ = resolve_endpoint(cfg_.runtime_api->host, cfg_.runtime_api->port);
      }
      return true;
    } catch (const std::exception& e) {
      const std::string message = std::string("cannot resolve an address: ") + e.what();
      log::error("", "{}", message);
      report_init_error(cfg_.runtime_api, error_types::invalid_config, message);
      return false;
    }
  }

  awaitable<void> main() {
    watch_signals();
    supervisor_.on_exit([this](const exit_status& s) { on_app_exit(s); });

    if (!cfg_.runtime_api) {
      // Local run: the emulator plays Lambda, on loopback, for the very same loop.
      emulator_ = std::make_unique<emulator>(io_, cfg_);
      emulator_->start();
      runtime_ = extensions_ = emulator_->runtime_endpoint();
      if (cfg_.gateway_port) {
        const tcp::endpoint ep(asio::ip::make_address(cfg_.emulator.host), *cfg_.gateway_port);
        gateway_ = std::make_unique<gateway>(io_, ep, cfg_.gateway, *emulator_);
        gateway_->start();
      }
    }

    if (extension_name_) {
      if (!co_await register_as_extension()) {
        exit_status_ = 1;
        co_return;
      }
    } else {
      asio::co_spawn(io_, keep_extension_registered(), asio::detached);
    }
    if (!app_argv_.empty()) {
      pool_->set_app_supervised(true);
      capture_app_output();
      const int out = app_output_ ? app_output_->app_stdout() : -1;
      const int err_fd = app_output_ ? app_output_->app_stderr() : -1;
      if (auto err = supervisor_.start(app_argv_, out, err_fd)) {
        app_output_.reset();
        co_await fail_init(*err);
        co_return;
      }
      if (app_output_) app_output_->started();
    } else if (cfg_.app_log == app_log_mode::tag) {
      log::warn("", "{}=tag has no effect: the bridge does not start the app (no app command{})", env::app_log,
                extension_name_ ? "; in extension mode Lambda starts it" : "");
    }

    readiness_.emplace(cfg_, tcp::endpoint(backend_.address(), cfg_.readiness_port), [this]() -> std::optional<failure> {
      if (app_exit_failure_) return app_exit_failure_;
      if (forced_stop_) return forced_stop_;
      if (stop_.stopping()) return failure{error_types::app_exited, "the bridge is shutting down"};
      return std::nullopt;
    });
    const bool ready = co_await wait_for_readiness();
    if (!ready && readiness_->failed()) {
      if (!stop_.stopping() || app_exit_failure_) {
        co_await fail_init(*readiness_->failed());
        co_return;
      }
    }
    if (!stop_.stopping()) {
      workers_.emplace(cfg_, runtime_, *pool_, *readiness_, stop_, app_output_ ? &*app_output_ : nullptr);
      co_await workers_->run();
    }
    co_await shut_down();
  }

  // LAMBDA_BRIDGE_APP_LOG=tag: the app's stdout and stderr through pipes, written out again with the request id of
  // the one invocation in flight.
  void capture_app_output() {
    if (cfg_.app_log != app_log_mode::tag) return;
    app_output_.emplace(io_, cfg_.log_fmt,
                        [this]() -> std::string_view { return workers_ ? workers_->sole_in_flight() : ""; });
    if (!app_output_->open()) {
      log::warn("",
                "cannot make pipes for the app's output ({}); it writes to the bridge's stdout and stderr itself, "
                "without request ids",
                std::strerror(errno));
      app_output_.reset();
    }
  }

  // Waits for the app; with async init only until Lambda's init cut-off, leaving the rest to the first invocation.
  awaitable<bool> wait_for_readiness() {
    if (!cfg_.async_init) {
      co_await readiness_->run();
      co_return readiness_->ready();
    }
    asio::co_spawn(io_, [this]() -> awaitable<void> {
      co_await readiness_->run();
      // Past the cut-off nobody awaits the result: a failure must still end the environment, not every
      // invocation one by one.
      if (readiness_->failed() && !stop_.stopping() && start_ + cfg_.async_init_cutoff <= std::chrono::steady_clock::now()) {
        log::error("", "the app never became ready: {}", readiness_->failed()->message);
        app_exit_failure_ = readiness_->failed();
        stop_.stop(app_exit_failure_);
      }
    }, asio::detached);
    const bool ready = co_await readiness_->wait_ready(start_ + cfg_.async_init_cutoff);
    if (!ready && !readiness_->failed()) {
      log::info("", "the app is not ready at the async init cut-off; the first invocation will finish the wait");
    }
    co_return ready;
  }

  awaitable<void> keep_extension_registered() {
    extension_ = std::make_unique<runtime_client>(io_.get_executor(), extensions_, 4096);
    const std::string id = co_await extension_->register_extension(extension_name, R"({"events":[]})");
    if (!id.empty()) {
      log::debug("", "registered the internal extension {} ({})", extension_name, id);
      // Parked for the life of the environment: init completes only when every extension has called next.
      co_await extension_->next_extension_event(id);
    }
    extension_.reset();  // its connection goes with it
  }

  // Extension mode: the bridge is the external extension Lambda launched from /opt/extensions, registered for
  // SHUTDOWN; the app is the function's runtime process, started by Lambda, not by the bridge. Lambda starts
  // the runtime only once every extension has registered, and fails the init when one cannot: so must we.
  awaitable<bool> register_as_extension() {
    extension_ = std::make_unique<runtime_client>(io_.get_executor(), extensions_, 4096);
    const std::string events = R"({"events":["SHUTDOWN"]})";
    extension_id_ = co_await extension_->register_extension(*extension_name_, events);
    if (extension_id_.empty()) {
      log::error("", "cannot register as the Lambda extension '{}' (see the reason above); exiting, and Lambda "
                 "reports the extension's init failure", *extension_name_);
      co_return false;
    }
    log::info("", "registered as the Lambda extension '{}' for SHUTDOWN ({})", *extension_name_, extension_id_);
    // Init completes only when every extension has called event/next: park there at once.
    asio::co_spawn(io_, watch_extension_events(), [this](std::exception_ptr e) {
      if (!e || shutting_down_) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& f) {
        extension_failed(f.what());
      }
    });
    co_return true;
  }

  awaitable<void> watch_extension_events() {
    for (;;) {
      const std::string doc = co_await extension_->next_extension_event(extension_id_);
      if (shutting_down_) co_return;  // cancelled by our own shutdown
      if (doc.empty()) {
        extension_failed("the Extensions API ended event/next without an event");
        co_return;
      }
      auto ev = parse_extension_event(doc);
      if (!ev) {
        log::warn("", "ignoring an unreadable extension event ({}): {}", ev.error().message, doc.substr(0, 512));
      } else if (ev->event_type == "SHUTDOWN") {
        log::info("", "received SHUTDOWN ({}); {}", ev->shutdown_reason,
                  any_in_flight() ? "finishing the invocations in flight, then stopping" : "stopping");
        stop_.stop();
        co_return;
      } else {
        log::debug("", "ignoring the extension event {}", ev->event_type);
      }
    }
  }

  void extension_failed(const std::string& why) {
    log::error("", "the extension lost Lambda's Extensions API: {}; exiting", why);
    stop_.stop(failure{error_types::bridge_stopped, "the extension lost Lambda's Extensions API: " + why});
  }

  bool any_in_flight() const { return workers_ && workers_->in_flight() > 0; }

  void watch_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (stop_signal_ != 0) {
        force_stop(sig);
      } else {
        log::info("", "received signal {} ({}); {}", sig, strsignal(sig),
                  any_in_flight() ? "finishing the invocations in flight, then stopping" : "stopping");
        stop_signal_ = sig;
        stop_.stop();
      }
      watch_signals();
    });
  }

  // A second signal says that whoever stops the bridge will not wait for the invocations in flight (`docker stop`
  // sends SIGKILL after 10 s, Ctrl-C pressed twice); they could hang until their deadline, up to 15 minutes. They
  // fail now, naming why, and the app is stopped while it can still be given SIGTERM and its grace.
  void force_stop(int sig) {
    if (forced_stop_) {
      log::info("", "received signal {} ({}); the forced stop is under way", sig, strsignal(sig));
      return;
    }
    forced_stop_ =
        failure{error_types::bridge_stopped, "the bridge was stopped by a second signal " + std::to_string(sig) +
                                                 " (" + strsignal(sig) + ") before the invocation finished"};
    const std::size_t in_flight = workers_ ? workers_->in_flight() : 0;
    log::warn("",
              "received signal {} ({}) again; forcing the stop: {} invocation(s) in flight fail with {}, and the "
              "app is stopped now",
              sig, strsignal(sig), in_flight, error_types::bridge_stopped);
    if (pool_) pool_->abort_all(*forced_stop_);
    stop_.stop();
  }

  void on_app_exit(const exit_status& s) {
    if (shutting_down_ || (stop_.stopping() && stop_signal_ != 0)) return;  // the exit we asked for
    app_exit_failure_ = failure{error_types::app_exited, "the app " + s.description +
                                                             (any_in_flight() ? " during the invocation" : "")};
    // During init the init failure says it (once); after it, this line is the only one.
    if (workers_) {
      log::error("", "{}; lambda-bridge exits so that Lambda replaces the environment", app_exit_failure_->message);
    }
    if (pool_) pool_->abort_all(*app_exit_failure_);
    stop_.stop(app_exit_failure_);
  }

  awaitable<void> fail_init(const failure& f) {
    log::error("", "init failed: {}: {}", f.type, f.message);
    runtime_client runtime(io_.get_executor(), runtime_, 1024);
    try {
      co_await runtime.post_init_error(f.type, f.message);
    } catch (const runtime_api_fatal& e) {
      log::error("", "could not report the init error: {}", e.what());
    }
    stop_.stop(f);
    co_await shut_down();
  }

  awaitable<void> shut_down() {
    shutting_down_ = true;
    stop_.stop();
    if (emulator_) {
      // Named first: g++ 12 mishandles temporaries in a co_await expression.
      // Invocations still queued: the app's exit when that is why, as the one in flight got it.
      const failure why = app_exit_failure_ ? *app_exit_failure_
                                            : failure{error_types::exit_error, "the function is shutting down"};
      co_await emulator_->shut_down(why.type, why.message);
    }
    if (gateway_) gateway_->close();
    if (extension_) extension_->cancel();
    // Also when the app has exited on its own: what it forked may still run in its group.
    if (supervisor_.has_app()) {
      co_await supervisor_.stop(cfg_.shutdown_grace, stop_signal_ != 0 ? stop_signal_ : SIGTERM);
    }
    // The app's group is gone: all it wrote is in the pipes, and its last line goes out even without a newline.
    if (app_output_) app_output_->finish();
    // The exit status: the app's own after a requested stop or when the app failed; 1 when the bridge stopped for a
    // failure of its own (the status the app got when the bridge stopped it would blame the app).
    const auto& app = supervisor_.app_exit();
    std::string why;
    if (const auto& reason = stop_.reason()) {
      const bool app_failed = reason->type == error_types::app_exited;
      exit_status_ = app_failed && app && app->code != 0 ? app->code : 1;
      why = std::string(reason->type) + ": " + reason->message;
    } else if (app) {
      exit_status_ = app->code;
      why = "the app's status after the stop";
    } else {
      exit_status_ = 0;
      why = "stopped as asked";
    }
    log::info("", "lambda-bridge exits with status {} ({})", exit_status_, why);
  }

  const config& cfg_;
  std::vector<std::string> app_argv_;
  std::optional<std::string> extension_name_;  // set in extension mode
  std::string extension_id_;
  // Before io_, so that they outlive the coroutine frames io_ destroys.
  shutdown_signal stop_;
  std::optional<worker_loop> workers_;
  asio::io_context io_{1};
  supervisor supervisor_;
  std::optional<app_output> app_output_;  // with LAMBDA_BRIDGE_APP_LOG=tag
  asio::signal_set signals_;
  tcp::endpoint backend_, runtime_, extensions_;
  std::unique_ptr<backend_pool> pool_;
  std::unique_ptr<emulator> emulator_;
  std::unique_ptr<gateway> gateway_;
  std::optional<readiness_check> readiness_;
  // The Extensions API client: of the internal extension, or in extension mode the bridge's own; after io_, so
  // destroyed before it.
  std::unique_ptr<runtime_client> extension_;
  steady_time start_ = std::chrono::steady_clock::now();
  bool shutting_down_ = false;  // shut_down() has begun: the app's exit from now on is the one asked for
  int stop_signal_ = 0;
  std::optional<failure> forced_stop_;  // set by a second stop signal
  std::optional<failure> app_exit_failure_;
  int exit_status_ = 0;
};

// An extension can report only once registered: register (for nothing), then post /extension/init/error.
awaitable<void> report_extension_init_error(runtime_client& runtime, std::string name, std::string type,
                                            std::string message) {
  const std::string events = R"({"events":[]})";
  const std::string id = co_await runtime.register_extension(name, events);
  if (!id.empty()) co_await runtime.post_extension_error(id, "init", type, message);
}

}  // namespace

void report_init_error(const std::optional<host_port>& runtime_api, std::string_view type, std::string_view message,
                       const std::optional<std::string>& extension_name) {
  if (!runtime_api) return;
  try {
    asio::io_context io;
    runtime_client runtime(io.get_executor(), resolve_endpoint(runtime_api->host, runtime_api->port), 1024);
    if (!extension_name) {
      asio::co_spawn(io, runtime.post_init_error(type, message), asio::detached);
    } else {
      // Extension errors are shaped Extension.<Reason>.
      std::string ext_type = "Extension." + std::string(type.substr(type.find('.') + 1));
      asio::co_spawn(io, report_extension_init_error(runtime, *extension_name, std::move(ext_type), std::string(message)),
                     asio::detached);
    }
    io.run();
  } catch (const std::exception& e) {
    log::error("", "could not report the init error to the Runtime API: {}", e.what());
  }
}

int run_bridge(const config& cfg, const std::vector<std::string>& app_argv,
               const std::optional<std::string>& extension_name) {
  bridge b(cfg, app_argv, extension_name);
  return b.run();
}

int run_emulator_only(const config& cfg) {
  asio::io_context io{1};
  try {
    emulator emu(io, cfg);
    emu.start();
    std::unique_ptr<gateway> gw;
    if (cfg.gateway_port) {
      const tcp::endpoint ep(asio::ip::make_address(cfg.emulator.host), *cfg.gateway_port);
      gw = std::make_unique<gateway>(io, ep, cfg.gateway, emu);
      gw->start();
    }
    const auto rt = emu.runtime_endpoint();
    log::info("", "emulator only: no app, no worker; start the runtime and extensions with {}={}", env::runtime_api,
              to_string(rt));
    asio::signal_set signals(io, SIGTERM, SIGINT);
    asio::co_spawn(io, [&]() -> awaitable<void> {
      const int sig = co_await signals.async_wait(asio::use_awaitable);
      log::info("", "received signal {} ({}); shutting down", sig, strsignal(sig));
      co_await emu.shut_down(error_types::exit_error, "the function is shutting down");
      if (gw) gw->close();
    }, [&io](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& f) {
          log::error("", "the emulator stopped on an unexpected error: {}", f.what());
        }
      }
      io.stop();
    });
    run_guarded(io);
  } catch (const std::exception& e) {
    log::error("", "the emulator cannot start: {}", e.what());
    return 1;
  }
  log::info("", "lambda-bridge exits with status 0");
  return 0;
}

}  // namespace lambda_bridge
