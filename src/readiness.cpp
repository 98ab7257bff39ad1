#include "lambda_bridge/readiness.hpp"

#include "lambda_bridge/error_types.hpp"
#include "lambda_bridge/log.hpp"

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
  co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return probe_result{false, "reading the reply to GET " + cfg.readiness_path + ": " + ec.message()};
  const int status = parser.get().result_int();
  const bool healthy = cfg.readiness_healthy.contains(status);
  co_return probe_result{healthy, "GET " + cfg.readiness_path + " answered HTTP " + std::to_string(status)};
}

awaitable<status> wait_until_ready(const config& cfg, tcp::endpoint endpoint,
                                   std::optional<std::chrono::milliseconds> timeout) {
  const auto start = std::chrono::steady_clock::now();
  auto next_report = start + std::chrono::seconds(2);
  auto delay = std::chrono::milliseconds(1);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto probe = co_await probe_once(cfg, endpoint);
    const auto now = std::chrono::steady_clock::now();
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    if (probe.healthy) {
      log::info("", "app ready after {} ms ({})", waited.count(), probe.description);
      co_return std::nullopt;
    }
    if (timeout && waited >= *timeout) {
      co_return failure{error_types::backend_not_ready,
                        "the app at " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) +
                            " was not ready after " + std::to_string(waited.count()) + " ms (" +
                            std::string(env::readiness_timeout) + "); last probe: " + probe.description};
    }
    if (now >= next_report) {
      log::info("", "waiting for the app at {}:{} for {} ms; last probe: {}", endpoint.address().to_string(),
                endpoint.port(), waited.count(), probe.description);
      next_report = now + std::chrono::seconds(2);
    }
    timer.expires_after(delay);
    co_await timer.async_wait(asio::use_awaitable);
    delay = std::min(delay * 2, std::chrono::milliseconds(10));
  }
}

}  // namespace lambda_bridge
