// A small HTTP/1.1 server for the local emulator's listeners (invoke API, emulated Runtime API, gateway): one
// coroutine per connection, keep-alive, a fresh parser with a body limit per request, and a handler coroutine per
// request that may park (a /next long-poll waits inside its handler). A body over the limit is answered 413.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lambda_bridge/asio.hpp"

namespace lambda_bridge {

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;
using http_handler = std::function<awaitable<http_response>(http_request&)>;

class http_server {
 public:
  // Binds at once, so a port conflict is reported at start-up; throws boost::system::system_error naming the
  // address on failure.
  http_server(asio::io_context& io, tcp::endpoint endpoint, std::size_t body_limit, http_handler handler,
              std::string name);

  void start();
  void close();
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  // Connections open right now, parked handlers included (the emulator's shutdown waits on its peers leaving).
  std::size_t open_connections() const { return *open_connections_; }

 private:
  awaitable<void> accept_loop();
  awaitable<void> session(tcp::socket socket);

  tcp::acceptor acceptor_;
  std::size_t body_limit_;
  http_handler handler_;
  std::string name_;
  // Shared with the sessions, which may outlive the server when their io_context is torn down.
  std::shared_ptr<std::size_t> open_connections_ = std::make_shared<std::size_t>(0);
};

http_response make_response(http::status status, std::string_view content_type, std::string body);

}  // namespace lambda_bridge
