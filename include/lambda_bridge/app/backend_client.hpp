// The backend client: HTTP/1.1 to the app over loopback through a keep-alive pool shared by every worker.
//
// A pooled connection idle longer than the idle timeout is not reused (a Lambda freeze can leave the app's side
// closed), and a request that fails on a reused connection before any response byte arrives is sent once more
// on a fresh connection — aws-lambda-web-adapter sends each request once and turns a stale socket into a 5xx.
// Every operation is bounded by the invocation's deadline: one entry per exchange in the pool's deadline_watch, not
// Beast's timer per operation (a timerfd_settime each, issue 14); the connection's tcp_stream times the connect alone.
//
// A connection goes back to the pool only when its reply ended exactly at its framing, with no byte left over, and a
// pooled connection with anything to read (a byte, or its end) is closed rather than reused: a reply can never be
// taken for another request's (issue 11; hyper's rule under aws-lambda-web-adapter).
//
// An exchange is split so that the reply body can be consumed whole (buffered mode) or piece by piece
// (streaming): send() returns once the reply's header is in, then read_body() or read_some() takes the body.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/util/asio.hpp"
#include "lambda_bridge/util/deadline_watch.hpp"
#include "lambda_bridge/util/splice_pipe.hpp"

namespace lambda_bridge {

struct backend_connection {
  // Beast reads at most the buffer's free capacity at a time, and a buffer that is drained after every read never
  // grows: without the reserve every read would be 512 bytes.
  explicit backend_connection(asio::any_io_executor ex) : stream(std::move(ex)) { buffer.reserve(read_buffer_bytes); }
  static constexpr std::size_t read_buffer_bytes = 64 * 1024;
  // The most the app's reply head may take, 1xx interim heads included: past it the reply is refused.
  static constexpr std::size_t max_header_bytes = 64 * 1024;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  // The head of the request in flight, built here so that its capacity stays with the pooled connection: a request
  // head costs no allocation once the connection has carried one.
  std::string head;
  steady_time idle_since{};
  std::uint64_t uses = 0;
  // Replies in a row that came whole: no read was needed once some of them had arrived, and no chunked body (which
  // always counts as in pieces). From whole_replies_for_lazy_acks on, quick ACKs are armed only once a reply shows
  // it comes in pieces, not after every request (backend_exchange::send, more_to_come).
  static constexpr std::uint32_t whole_replies_for_lazy_acks = 8;
  std::uint32_t whole_replies = 0;
};

class backend_exchange;

class backend_pool {
 public:
  backend_pool(asio::any_io_executor ex, tcp::endpoint endpoint, std::chrono::milliseconds idle_timeout);

  // An idle connection young enough to reuse, or null; stale ones are closed on the way.
  std::unique_ptr<backend_connection> take_idle();
  void put_back(std::unique_ptr<backend_connection> c);
  // Connects a fresh connection, bounded by `deadline`.
  awaitable<result<std::unique_ptr<backend_connection>>> connect(steady_time deadline);

  const tcp::endpoint& endpoint() const { return endpoint_; }

  // Ends every exchange in progress with `why` (the app exited): their sockets are closed and they report it.
  void abort_all(failure why);
  const std::optional<failure>& aborted() const { return aborted_; }
  // Set when the bridge supervises the app, so a broken connection may be its exit, reported a moment later.
  void set_app_supervised(bool v) { app_supervised_ = v; }
  bool app_supervised() const { return app_supervised_; }
  std::size_t idle_count() const { return idle_.size(); }
  std::uint64_t connections_opened() const { return opened_; }
  // The timer that bounds the exchanges; the workers' loop keeps it armed between invocations (deadline_watch.hpp).
  deadline_watch& watch() { return watch_; }

 private:
  asio::any_io_executor ex_;
  tcp::endpoint endpoint_;
  std::chrono::milliseconds idle_timeout_;
  std::vector<std::unique_ptr<backend_connection>> idle_;
  std::uint64_t opened_ = 0;
  std::vector<backend_exchange*> active_;
  std::optional<failure> aborted_;
  bool app_supervised_ = false;
  deadline_watch watch_;
  friend class backend_exchange;
};

struct reply_head {
  int status = 0;
  std::string reason;
  std::vector<header> headers;
};

// Where Beast's parser keeps the fields of the app's reply head (the reason phrase and one element per field): a
// block inside the exchange, so that a usual head costs no heap allocation (issue 14: three per 1 KB invocation
// before). Bump allocation; the block is used again from its start once everything in it has been freed (a parser is
// destroyed before the next is made). What does not fit comes from the heap, as before.
class reply_fields_arena {
 public:
  static constexpr std::size_t capacity = 2048;
  void* allocate(std::size_t bytes);
  void deallocate(void* pointer, std::size_t bytes) noexcept;

 private:
  alignas(std::max_align_t) unsigned char block_[capacity];
  std::size_t used_ = 0;
  std::size_t live_ = 0;  // allocations in the block not yet freed
};

template <class T>
struct reply_fields_allocator {
  using value_type = T;
  reply_fields_arena* arena;
  explicit reply_fields_allocator(reply_fields_arena& a) noexcept : arena(&a) {}
  template <class U>
  reply_fields_allocator(const reply_fields_allocator<U>& other) noexcept : arena(other.arena) {}
  T* allocate(std::size_t n) { return static_cast<T*>(arena->allocate(n * sizeof(T))); }
  void deallocate(T* pointer, std::size_t n) noexcept { arena->deallocate(pointer, n * sizeof(T)); }
  template <class U>
  bool operator==(const reply_fields_allocator<U>& other) const noexcept {
    return arena == other.arena;
  }
};

using reply_fields = http::basic_fields<reply_fields_allocator<char>>;
using reply_parser = http::response_parser<http::buffer_body, reply_fields_allocator<char>>;

class backend_exchange {
 public:
  backend_exchange(backend_pool& pool, steady_time deadline, std::size_t max_body_bytes);
  ~backend_exchange();

  // Sends the request and reads the reply's status line and headers (skipping 1xx interim replies). The head's header
  // list is built in `spare`, a list an earlier reply left (its strings are assigned again, not allocated: issue 14).
  awaitable<result<reply_head>> send(const backend_request& req, std::vector<header> spare = {});
  // Appends the whole body to `out`; a body over `limit` bytes fails with Runtime.ResponseTooLarge.
  awaitable<maybe_failure> read_body(std::string& out, std::size_t limit);
  // Reads the next piece of the body into `buf`, as much as has arrived up to `size`; 0 bytes means the body is
  // complete.
  awaitable<result<std::size_t>> read_some(char* buf, std::size_t size);
  // Whether the rest of the body can go by splice_some: it is framed by Content-Length and the connection's buffer
  // holds none of it (read_some hands on what it does hold first). Once true, stays true for the exchange.
  bool direct_body();
  // The next piece of a direct_body() into `pipe` (empty), up to `size` bytes and without copying it: as read_some.
  // If the kernel refuses to splice, nothing moves, 0 is returned and the pipe is no longer valid(): read_some then.
  awaitable<result<std::size_t>> splice_some(splice_pipe& pipe, std::size_t size);
  // The reply's Content-Length, once send() has its head: for sizing the buffer its body goes into.
  std::optional<std::uint64_t> declared_length() const;

  void abort();

 private:
  // The operations on the app's connection go to its socket: Beast's tcp_stream would arm its timer for each.
  tcp::socket& socket() { return conn_->stream.socket(); }
  // Before an operation: beast::error::timeout once the deadline has passed. After one: an error of an operation
  // the deadline ended (the watch closed the socket) becomes beast::error::timeout, as Beast reports it.
  bool past_deadline(boost::system::error_code& ec) const;
  void timed(boost::system::error_code& ec) const;

  failure transport_failure(const boost::system::error_code& ec, std::string_view step) const;
  failure body_too_large(std::size_t limit, std::string_view step) const;
  // Why a reply head cannot be relayed at all (101, a status outside 100-599, a transfer coding other than chunked).
  static std::optional<std::string> refuse_framing(const http::response_header<reply_fields>& msg);
  // Some of the reply is in and more may have to be read (a chunked body counts, even when it is all in): it comes
  // in pieces, and a Nagle app may hold the rest until what came is acknowledged, so quick ACKs are armed if they are
  // not yet. The setsockopt itself sends the ACK the kernel is holding for what was read.
  void more_to_come();
  // Ends the exchange once the reply is complete: the connection is pooled, or closed if it may hold stray bytes.
  void finish();
  bool body_done() const;
  // For a direct_body(): how much of `size` the body still has, and the outcome of a move of `got` bytes (the
  // pooling at the end of the body, a failure when the connection ended or failed before it).
  std::size_t direct_want(std::size_t size) const;
  result<std::size_t> direct_moved(std::size_t got, boost::system::error_code ec);

  backend_pool& pool_;
  steady_time deadline_;
  std::size_t max_body_bytes_;
  std::unique_ptr<backend_connection> conn_;
  reply_fields_arena fields_arena_;  // before parser_: outlives it
  std::optional<reply_parser> parser_;
  bool reusable_ = true;  // false once the reply showed the connection cannot serve another (an odd 1xx, Upgrade)
  bool acks_armed_ = false;  // acknowledge_at_once was called since the request was written
  bool in_pieces_ = false;   // more_to_come was called for this reply (or an interim reply before it)
  // Past the parser: the rest of a Content-Length body read from the socket straight into the caller's buffer.
  bool direct_ = false;
  std::uint64_t direct_remaining_ = 0;
  deadline_watch::entry deadline_entry_;  // registered for the exchange's life
};

}  // namespace lambda_bridge
