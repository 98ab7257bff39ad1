#include "lambda_bridge/app/readiness.hpp"

#include "lambda_bridge/app/backend_client.hpp"
#include "lambda_bridge/app/bounded_read.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/log.hpp"

namespace lambda_bridge {

awaitable<probe_result> probe_once(const config& cfg, tcp::endpoint endpoint) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(1));
  co_await stream.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return probe_result{false, "connect: " + ec.message()};
  if (cfg.readiness == readiness_protocol::tcp) co_return probe_result{true, "TCP connect succeeded"};

  http::request<http::empty_body> req{http::verb::get, cfg.readiness_path, 11};
  req.set(http::field::host, cfg.backend.host + ":" + std::to_string(endpoint.port()));
  req.set(http::field::user_agent, "lambda-bridge/" LAMBDA_BRIDGE_VERSION " (readiness check)");
  req.set(http::field::connection, "close");
  stream.expires_after(std::chrono::seconds(2));
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return probe_result{false, "sending GET " + cfg.readiness_path + ": " + ec.message()};
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  std::size_t head_bytes = 0;
  // Bounded like the app's replies (bounded_read.hpp): Boost's own limit would let a flood of header lines grow the
  // parsed fields until the probe's timeout.
  co_await read_head_bounded(stream, buffer, parser, backend_connection::max_header_bytes, head_bytes, ec);
  if (ec) co_return probe_result{false, "reading the reply to GET " + cfg.readiness_path + ": " + ec.message()};
  const int status = parser.get().result_int();
  const bool healthy = cfg.readiness_healthy.contains(status);
  co_return probe_result{healthy, "GET " + cfg.readiness_path + " answered HTTP " + std::to_string(status)};
}

readiness_check::readiness_check(const config& cfg, tcp::endpoint endpoint,
                                 std::function<std::optional<failure>()> abandon)
    : cfg_(cfg), endpoint_(endpoint), abandon_(std::move(abandon)) {}

awaitable<maybe_failure> readiness_check::run() {
  const auto start = std::chrono::steady_clock::now();
  auto next_report = start + std::chrono::seconds(2);
  auto delay = std::chrono::milliseconds(1);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const std::string where = to_string(endpoint_);
  probe_result probe{false, "no probe yet"};
  for (;;) {
    if (auto why = abandon_()) {
      failed_ = failure{why->type, why->message + " (last readiness probe: " + probe.description + ")"};
      break;
    }
    probe = co_await probe_once(cfg_, endpoint_);
    const auto now = std::chrono::steady_clock::now();
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    if (probe.healthy) {
      log::info("", "app ready after {} ms ({})", waited.count(), probe.description);
      ready_ = true;
      break;
    }
    if (cfg_.readiness_timeout && waited >= *cfg_.readiness_timeout) {
      failed_ = failure{error_types::backend_not_ready,
                        "the app at " + where + " was not ready after " + std::to_string(waited.count()) + " ms (" +
                            std::string(env::readiness_timeout) + "); last probe: " + probe.description};
      break;
    }
    if (now >= next_report) {
      log::info("", "waiting for the app at {} for {} ms; last probe: {}", where, waited.count(), probe.description);
      next_report = now + std::chrono::seconds(2);
    }
    timer.expires_after(delay);
    co_await timer.async_wait(asio::use_awaitable);
    delay = std::min(delay * 2, std::chrono::milliseconds(4));
  }
  co_return failed_;
}

awaitable<bool> readiness_check::wait_ready(steady_time until) {
  // Polled at the probes' own pace: this only runs for the first invocations of an async init.
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!ready_ && !failed_ && std::chrono::steady_clock::now() < until) {
    t.expires_at(std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(2)));
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return ready_;
}

}  // namespace lambda_bridge
