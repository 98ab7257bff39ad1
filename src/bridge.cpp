#include "lambda_bridge/bridge.hpp"

#include "lambda_bridge/asio.hpp"
#include "lambda_bridge/backend_client.hpp"
#include "lambda_bridge/error_types.hpp"
#include "lambda_bridge/invocation.hpp"
#include "lambda_bridge/log.hpp"
#include "lambda_bridge/readiness.hpp"
#include "lambda_bridge/runtime_client.hpp"
#include "lambda_bridge/uri.hpp"

namespace lambda_bridge {
namespace {

awaitable<void> worker(const config& cfg, tcp::endpoint runtime_endpoint, backend_pool& pool) {
  runtime_client runtime(co_await asio::this_coro::executor, runtime_endpoint, cfg.max_event_bytes);
  translator translate;
  std::string result_buffer;
  for (;;) {
    auto ev = co_await runtime.next();
    // The id goes into the /response URL; one that could not be echoed safely cannot be answered at all.
    if (!uri::is_token(ev.ctx.request_id)) {
      log::error("", "the Runtime API sent an event without a usable {} header; it cannot be answered",
                 runtime_header::request_id);
      continue;
    }
    const invocation_context ctx = ev.ctx;
    std::optional<std::string> unexpected;
    try {
      invocation inv(std::move(ev), cfg, pool);
      co_await inv.run(runtime, {translate, result_buffer});
    } catch (const runtime_api_fatal&) {
      throw;
    } catch (const std::exception& e) {
      // A bug of ours must cost one invocation, not the environment.
      unexpected = e.what();
    }
    if (unexpected) {
      log::error(ctx.request_id, "internal error: {}", *unexpected);
      const std::string message = "lambda-bridge internal error: " + *unexpected;
      co_await runtime.post_error(ctx, error_types::internal_error, message);
    }
  }
}

}  // namespace

void report_init_error(const std::optional<host_port>& runtime_api, std::string_view type, std::string_view message) {
  if (!runtime_api) return;
  try {
    asio::io_context io;
    runtime_client runtime(io.get_executor(), resolve_endpoint(runtime_api->host, runtime_api->port), 1024);
    asio::co_spawn(io, runtime.post_init_error(type, message), asio::detached);
    io.run();
  } catch (const std::exception& e) {
    log::error("", "could not report the init error to the Runtime API: {}", e.what());
  }
}

void report_init_error(const config& cfg, std::string_view type, std::string_view message) {
  report_init_error(cfg.runtime_api, type, message);
}

int run_bridge(const config& cfg) {
  asio::io_context io(1);
  int exit_status = 0;

  tcp::endpoint runtime_endpoint;
  tcp::endpoint backend_endpoint;
  tcp::endpoint readiness_endpoint;
  try {
    runtime_endpoint = resolve_endpoint(cfg.invocation_api()->host, cfg.invocation_api()->port);
    backend_endpoint = resolve_endpoint(cfg.backend.host, cfg.backend.port);
    readiness_endpoint = tcp::endpoint(backend_endpoint.address(), cfg.readiness_port);
  } catch (const std::exception& e) {
    const std::string message = std::string("cannot resolve an address: ") + e.what();
    log::error("", "{}", message);
    report_init_error(cfg, error_types::invalid_config, message);
    return 1;
  }
  backend_pool pool(io.get_executor(), backend_endpoint, cfg.pool_idle_timeout);

  auto main_task = [&]() -> awaitable<void> {
    if (auto err = co_await wait_until_ready(cfg, readiness_endpoint, cfg.readiness_timeout)) {
      log::error("", "{}", err->message);
      runtime_client runtime(co_await asio::this_coro::executor, runtime_endpoint, 1024);
      co_await runtime.post_init_error(err->type, err->message);
      exit_status = 1;
      co_return;
    }
    co_await worker(cfg, runtime_endpoint, pool);
  };
  asio::co_spawn(io, main_task(), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const runtime_api_fatal& f) {
      log::error("", "exiting: {}", f.what());
    } catch (const std::exception& f) {
      log::error("", "exiting on an unexpected error: {}", f.what());
    }
    exit_status = 1;
    io.stop();
  });
  io.run();
  return exit_status;
}

}  // namespace lambda_bridge
