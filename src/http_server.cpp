#include "lambda_bridge/http_server.hpp"

#include "lambda_bridge/json_writer.hpp"
#include "lambda_bridge/log.hpp"

namespace lambda_bridge {

http_response make_response(http::status status, std::string_view content_type, std::string body) {
  http_response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http_server::http_server(asio::io_context& io, tcp::endpoint endpoint, std::size_t body_limit, http_handler handler,
                         std::string name)
    : acceptor_(io), body_limit_(body_limit), handler_(std::move(handler)), name_(std::move(name)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  boost::system::error_code ec;
  acceptor_.bind(endpoint, ec);
  if (ec) {
    throw boost::system::system_error(ec, name_ + ": cannot listen on " + endpoint.address().to_string() + ":" +
                                              std::to_string(endpoint.port()));
  }
  acceptor_.listen();
}

void http_server::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), [name = name_](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("", "{}: accept loop ended: {}", name, ex.what());
    }
  });
}

void http_server::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

awaitable<void> http_server::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Out of descriptors, say: back off instead of spinning on an accept that keeps failing.
      log::warn("", "{}: accept failed: {}", name_, ec.message());
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), [name = name_](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::warn("", "{}: connection ended: {}", name, ex.what());
      }
    });
  }
}

awaitable<void> http_server::session(tcp::socket socket) {
  struct counted {
    std::shared_ptr<std::size_t> n;
    explicit counted(std::shared_ptr<std::size_t> c) : n(std::move(c)) { ++*n; }
    ~counted() { --*n; }
  } alive(open_connections_);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit_);
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::body_limit) {
      std::string body;
      json_writer w(body);
      w.begin_object()
          .key("errorType").string("RequestEntityTooLarge")
          .key("errorMessage").string("the request body is over the limit of " + std::to_string(body_limit_) + " bytes")
          .end_object();
      auto res = make_response(http::status::payload_too_large, "application/json", std::move(body));
      res.keep_alive(false);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    if (ec) co_return;  // closed by the client, or garbage: nothing to answer
    http_request req = parser.release();
    http_response res = co_await handler_(req);
    res.version(11);
    res.keep_alive(req.keep_alive());
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

}  // namespace lambda_bridge
