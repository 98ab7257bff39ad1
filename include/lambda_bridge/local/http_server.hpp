// A small HTTP/1.1 server for the local emulator's listeners (invoke API, emulated Runtime API, gateway): one
// coroutine per connection, keep-alive, the header read first, then a body limit per request, and a handler
// coroutine per request that may park (a /next long-poll waits inside its handler). A body over the limit is
// answered 413.
//
// Streaming both ways, for response streaming: a request the server's `streams_body` predicate picks is handed
// over with its body unread, for the handler to take piece by piece (http_connection::read_some); and a handler
// may write its reply itself, chunk by chunk, instead of returning one.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

// A listener that could not bind its port (in use, or not allowed): what failed and how to change it.
struct listen_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

// The connection a request arrived on, for handlers that stream.
class http_connection {
 public:
  http_connection(beast::tcp_stream& stream, beast::flat_buffer& buffer) : stream_(stream), buffer_(buffer) {}

  // The next piece of a request body handed over unread; 0 at its end, when trailers() holds its trailers.
  awaitable<result<std::size_t>> read_some(char* buf, std::size_t size);
  const http::fields& trailers() const { return trailers_; }

  // A reply written by the handler: the head (sent chunked), the body's pieces, then end() — or abort(), which
  // closes the connection without the last chunk so the client sees an incomplete body. Each returns false
  // once the client has gone away.
  awaitable<bool> write_head(http::response_header<>& head);
  awaitable<bool> write_chunk(std::string_view piece);
  awaitable<bool> end();
  void abort();

  // Set up by the server per request.
  void start_streamed_request(http::request_parser<http::empty_body>&& header_parser);
  bool replied() const { return replied_; }
  bool reusable() const;
  void reset();

 private:
  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  std::optional<http::request_parser<http::buffer_body>> body_parser_;
  http::fields trailers_;
  std::size_t header_field_count_ = 0;
  bool replied_ = false;
  bool reply_complete_ = false;
  bool broken_ = false;
  bool no_body_ = false;
};

// Returns the reply, or nullopt when the handler wrote it through the connection.
using http_handler = std::function<awaitable<std::optional<http_response>>(http_request&, http_connection&)>;
using body_stream_predicate = std::function<bool(const http::request_header<>&)>;

class http_server {
 public:
  // Binds at once, so a port conflict is reported at start-up; throws boost::system::system_error naming the
  // address on failure.
  // Binds at once: a port that cannot be had throws listen_error, naming `name` and `port_variable`, the setting that
  // changes it.
  http_server(asio::io_context& io, tcp::endpoint endpoint, std::size_t body_limit, http_handler handler,
              std::string name, std::string_view port_variable, body_stream_predicate streams_body = {});

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
  body_stream_predicate streams_body_;
};

http_response make_response(http::status status, std::string_view content_type, std::string body);

}  // namespace lambda_bridge
