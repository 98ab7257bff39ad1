#include "lambda_bridge/local/http_server.hpp"

#include <array>

#include "lambda_bridge/app/bounded_read.hpp"
#include "lambda_bridge/core/error_document.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/log.hpp"

namespace lambda_bridge {
namespace {

// A client's request head, and what a chunked request body must hold whole (a chunk-size line, the trailer), may
// not reach this: past it the request is answered 400 (bounded_read.hpp; a 64 KB trailer field aborted the process).
constexpr std::size_t max_request_head_bytes = 64 * 1024;

http_response error_response(http::status status, std::string_view type, const std::string& message) {
  std::string body;
  append_error_json(body, type, message, stack_trace::omitted);
  auto res = make_response(status, "application/json", std::move(body));
  res.keep_alive(false);
  return res;
}

// A refused request may still be arriving: closed with unread bytes, the socket would send a reset that can destroy
// the error reply before the client reads it. So, as web servers do, the bridge stops sending and reads what comes
// for a moment (bounded in time and bytes) before it closes.
awaitable<void> drain_before_close(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(2));
  std::array<char, 16 * 1024> sink;
  for (std::size_t total = 0; !ec && total < 4 * 1024 * 1024;) {
    total += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

http_response make_response(http::status status, std::string_view content_type, std::string body) {
  http_response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http_server::http_server(asio::io_context& io, tcp::endpoint endpoint, std::size_t body_limit, http_handler handler,
                         std::string name, std::string_view port_variable, body_stream_predicate streams_body)
    : acceptor_(io),
      body_limit_(body_limit),
      handler_(std::move(handler)),
      name_(std::move(name)),
      streams_body_(std::move(streams_body)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  boost::system::error_code ec;
  acceptor_.bind(endpoint, ec);
  if (ec) {
    throw listen_error("the " + name_ + " cannot listen on " + to_string(endpoint) + ": " + ec.message() + "; set " +
                       std::string(port_variable) + " to a free port");
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
  buffer.reserve(64 * 1024);  // Beast reads at most the free capacity at a time: 512 bytes per read otherwise
  http_connection conn(stream, buffer);
  for (;;) {
    conn.reset();
    http::request_parser<http::empty_body> header_parser;
    header_parser.body_limit(body_limit_);  // a declared Content-Length over the limit fails here already
    boost::system::error_code ec;
    std::size_t head_bytes = 0;
    // A client may send its head and body in two writes with Nagle on; our reply to its last request made the
    // connection look interactive, so the body would wait for a delayed ACK.
    acknowledge_at_once(stream.socket());
    co_await read_head_bounded(stream, buffer, header_parser, max_request_head_bytes, head_bytes, ec);
    std::optional<http_request> req;
    if (!ec) {
      if (streams_body_ && streams_body_(header_parser.get())) {
        req.emplace(header_parser.get().base());
        conn.start_streamed_request(std::move(header_parser));
      } else {
        http::request_parser<http::string_body> parser(std::move(header_parser));
        parser.body_limit(body_limit_);
        co_await read_body_bounded(stream, buffer, parser, max_request_head_bytes, ec);
        if (!ec) req.emplace(parser.release());
      }
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      auto res = ec == http::error::body_limit
                     ? error_response(http::status::payload_too_large, "RequestEntityTooLarge",
                                      "the request body is over the limit of " + std::to_string(body_limit_) + " bytes")
                     : error_response(http::status::bad_request, "RequestHeaderTooLarge",
                                      "the request's header, a chunk-size line or its trailer is over the limit of " +
                                          std::to_string(max_request_head_bytes) + " bytes");
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) co_await drain_before_close(stream);
      co_return;
    }
    if (ec) co_return;  // closed by the client, or garbage: nothing to answer
    const bool keep_alive = req->keep_alive();
    std::optional<http_response> res = co_await handler_(*req, conn);
    if (!res) {
      if (!conn.reusable() || !keep_alive) co_return;
      continue;
    }
    res->version(11);
    res->keep_alive(keep_alive && conn.reusable());
    co_await http::async_write(stream, *res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res->keep_alive()) co_return;
  }
}

void http_connection::reset() {
  body_parser_.reset();
  trailers_.clear();
  replied_ = reply_complete_ = broken_ = no_body_ = false;
}

void http_connection::start_streamed_request(http::request_parser<http::empty_body>&& header_parser) {
  header_field_count_ = static_cast<std::size_t>(std::distance(header_parser.get().begin(), header_parser.get().end()));
  body_parser_.emplace(std::move(header_parser));
  body_parser_->body_limit(boost::none);  // the handler enforces its own limits, piece by piece
}

bool http_connection::reusable() const {
  if (broken_) return false;
  if (body_parser_ && !body_parser_->is_done()) return false;  // unread body bytes would be taken for a request
  return !replied_ || reply_complete_;
}

awaitable<result<std::size_t>> http_connection::read_some(char* buf, std::size_t size) {
  if (!body_parser_) co_return std::size_t{0};
  auto& body = body_parser_->get().body();
  while (!body_parser_->is_done()) {
    body.data = buf;
    body.size = size;
    boost::system::error_code ec;
    stream_.expires_never();
    co_await read_body_some_bounded(stream_, buffer_, *body_parser_, max_request_head_bytes, ec);
    if (ec) {
      broken_ = true;
      co_return failure{error_types::stream_error,
                        ec == http::error::header_limit
                            ? "a chunk-size line or the trailer of the request body is over the limit of " +
                                  std::to_string(max_request_head_bytes) + " bytes"
                            : "the request body ended early: " + ec.message()};
    }
    if (const std::size_t got = size - body.size; got > 0) co_return got;
  }
  // Beast files a chunked body's trailers after the header fields, in order: those past the header's count.
  const auto& fields = body_parser_->get();
  std::size_t index = 0;
  trailers_.clear();
  for (const auto& f : fields) {
    if (index++ >= header_field_count_) trailers_.insert(f.name_string(), f.value());
  }
  co_return std::size_t{0};
}

awaitable<bool> http_connection::write_head(http::response_header<>& head) {
  replied_ = true;
  http::response<http::empty_body> res(std::move(head));
  res.version(11);
  // 1xx, 204 and 304 replies have no body at all, so no chunked framing either.
  const unsigned status = res.result_int();
  no_body_ = status < 200 || status == 204 || status == 304;
  if (!no_body_) res.chunked(true);
  http::response_serializer<http::empty_body> sr(res);
  boost::system::error_code ec;
  stream_.expires_never();
  co_await http::async_write_header(stream_, sr, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) broken_ = true;
  co_return !ec;
}

awaitable<bool> http_connection::write_chunk(std::string_view piece) {
  if (broken_) co_return false;
  if (piece.empty() || no_body_) co_return true;  // an empty chunk would end the body
  boost::system::error_code ec;
  co_await asio::async_write(stream_, http::make_chunk(asio::buffer(piece.data(), piece.size())),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) broken_ = true;
  co_return !ec;
}

awaitable<bool> http_connection::end() {
  if (broken_) co_return false;
  if (no_body_) {
    reply_complete_ = true;
    co_return true;
  }
  boost::system::error_code ec;
  co_await asio::async_write(stream_, http::make_chunk_last(), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) broken_ = true;
  reply_complete_ = !ec;
  co_return !ec;
}

void http_connection::abort() {
  broken_ = true;
  boost::system::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

}  // namespace lambda_bridge
