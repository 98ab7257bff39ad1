#include "lambda_bridge/app/backend_client.hpp"

#include <algorithm>
#include <functional>
#include <iterator>

#include <poll.h>

#include "lambda_bridge/app/bounded_read.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/buffer.hpp"
#include "lambda_bridge/util/log.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge {
namespace {

constexpr std::string_view body_step = "reading the reply's body";


// True when the app has sent something on an idle connection: a byte, its end, or an error. Any of them means the
// connection is not where the next request expects it, since HTTP/1.1 gives a reply nothing to name its request by:
// bytes left over from a reply longer than its framing, or a 408 the app wrote before closing an idle connection,
// would be read as the next request's reply (issue 11). Such a connection is closed, never reused.
bool has_unsolicited_input(tcp::socket& s) {
  pollfd p{s.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

void close_quietly(beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().close(ignored);
}

}  // namespace

backend_pool::backend_pool(asio::any_io_executor ex, tcp::endpoint endpoint, std::chrono::milliseconds idle_timeout)
    : ex_(ex), endpoint_(endpoint), idle_timeout_(idle_timeout), watch_(ex) {}

std::unique_ptr<backend_connection> backend_pool::take_idle() {
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (now - c->idle_since > idle_timeout_) {
      close_quietly(c->stream);
      continue;
    }
    if (!has_unsolicited_input(c->stream.socket())) return c;
    log::debug("", "a pooled connection to the app has bytes to read or was closed by the app; not reusing it");
    close_quietly(c->stream);
  }
  return nullptr;
}

void backend_pool::put_back(std::unique_ptr<backend_connection> c) {
  c->idle_since = std::chrono::steady_clock::now();
  c->stream.expires_never();
  idle_.push_back(std::move(c));
}

awaitable<result<std::unique_ptr<backend_connection>>> backend_pool::connect(steady_time deadline) {
  auto c = std::make_unique<backend_connection>(ex_);
  c->stream.expires_at(deadline);
  boost::system::error_code ec;
  co_await c->stream.async_connect(endpoint_, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) {
    co_return failure{error_types::backend_timeout,
                      "connecting to the app at " + to_string(endpoint_) + " did not finish before the deadline"};
  }
  if (ec) {
    co_return failure{error_types::backend_unreachable,
                      "cannot connect to the app at " + to_string(endpoint_) + ": " + ec.message()};
  }
  c->stream.socket().set_option(tcp::no_delay(true));
  c->stream.socket().non_blocking(true);  // for write_at_once
  c->stream.expires_never();  // Beast's timer bounded the connect only: the exchange's deadline bounds the rest
  ++opened_;
  co_return std::move(c);
}

void backend_pool::abort_all(failure why) {
  aborted_ = std::move(why);
  for (auto* ex : active_) ex->abort();
  for (auto& c : idle_) close_quietly(c->stream);
  idle_.clear();
}

backend_exchange::backend_exchange(backend_pool& pool, steady_time deadline, std::size_t max_body_bytes)
    : pool_(pool),
      deadline_(deadline),
      max_body_bytes_(max_body_bytes),
      deadline_entry_([](void* self) { static_cast<backend_exchange*>(self)->abort(); }, this) {
  pool_.active_.push_back(this);
  pool_.watch_.add(deadline_entry_, deadline_);
}

bool backend_exchange::past_deadline(boost::system::error_code& ec) const {
  if (!deadline_entry_.expired()) return false;
  ec = beast::error::timeout;
  return true;
}

void backend_exchange::timed(boost::system::error_code& ec) const {
  if (ec && deadline_entry_.expired()) ec = beast::error::timeout;
}

void backend_exchange::abort() {
  if (conn_) close_quietly(conn_->stream);
}

backend_exchange::~backend_exchange() {
  pool_.watch_.remove(deadline_entry_);
  std::erase(pool_.active_, this);
  // An exchange abandoned half way leaves unread bytes: the connection is closed, never pooled.
  if (conn_) close_quietly(conn_->stream);
}

failure backend_exchange::body_too_large(std::size_t limit, std::string_view step) const {
  return failure{error_types::response_too_large, "the app's reply body is over " + std::to_string(limit) +
                                                      " bytes, more than a buffered Lambda result can carry (" +
                                                      std::string(step) + ", app at " + to_string(pool_.endpoint()) +
                                                      ")"};
}

failure backend_exchange::transport_failure(const boost::system::error_code& ec, std::string_view step) const {
  if (pool_.aborted_) return *pool_.aborted_;
  const std::string where = " (" + std::string(step) + ", app at " + to_string(pool_.endpoint()) + ")";
  if (ec == beast::error::timeout) {
    return failure{error_types::backend_timeout, "the app did not answer before the invocation deadline" + where};
  }
  if (ec == http::error::body_limit) return body_too_large(max_body_bytes_, step);
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == http::error::partial_message) {
    return failure{error_types::backend_invalid_response,
                   "the app closed the connection before its reply was complete" + where};
  }
  if (ec == http::error::header_limit) {
    // Past the head, what the parser must hold whole is a chunk-size line or the trailer.
    const std::string what = step == body_step ? "a chunk-size line or the trailer of the app's chunked reply"
                                               : "the app's reply header";
    return failure{error_types::backend_invalid_response,
                   what + " is over the bridge's limit of " + std::to_string(backend_connection::max_header_bytes) +
                       " bytes" + where};
  }
  if (ec.category() == make_error_code(http::error::bad_version).category()) {
    return failure{error_types::backend_invalid_response, "the app's reply is not valid HTTP/1.1: " + ec.message() + where};
  }
  return failure{error_types::backend_invalid_response, "the connection to the app failed: " + ec.message() + where};
}

void* reply_fields_arena::allocate(std::size_t bytes) {
  constexpr std::size_t align = alignof(std::max_align_t);
  const std::size_t rounded = (bytes + align - 1) / align * align;
  if (live_ == 0) used_ = 0;
  if (rounded <= capacity - used_) {
    void* pointer = block_ + used_;
    used_ += rounded;
    ++live_;
    return pointer;
  }
  return ::operator new(bytes);
}

void reply_fields_arena::deallocate(void* pointer, std::size_t) noexcept {
  auto* p = static_cast<unsigned char*>(pointer);
  if (!std::less<>{}(p, block_) && std::less<>{}(p, block_ + capacity)) {  // std::less: pointers of any two objects
    --live_;
    return;
  }
  ::operator delete(pointer);
}

awaitable<result<reply_head>> backend_exchange::send(const backend_request& req, std::vector<header> spare) {
  const bool head_request = req.method == "HEAD";

  for (int attempt = 1;; ++attempt) {
    bool reused = false;
    if (attempt == 1) conn_ = pool_.take_idle();
    if (conn_) {
      reused = true;
    } else {
      auto fresh = co_await pool_.connect(deadline_);
      if (!fresh) co_return pool_.aborted_ ? *pool_.aborted_ : fresh.error();
      conn_ = std::move(fresh.value());
    }
    ++conn_->uses;
    conn_->head.clear();
    req.append_head(conn_->head);
    const std::array<asio::const_buffer, 2> wire{asio::buffer(conn_->head), asio::buffer(req.payload())};
    boost::system::error_code ec;
    if (!past_deadline(ec)) {
      const auto rest = write_at_once(socket(), wire, ec);
      if (!ec && asio::buffer_size(rest) > 0) {
        co_await asio::async_write(socket(), rest, asio::redirect_error(asio::use_awaitable, ec));
      }
      timed(ec);
    }
    // The app may write its reply in pieces with Nagle on (Python's http.server: head, then body); see
    // acknowledge_at_once. Armed here, because writing the request is what made the connection look interactive,
    // unless the connection's last replies all came whole: then only once this one shows it comes in pieces
    // (more_to_come). Quick-ACK mode acknowledges a reply as it is read, a packet the bridge sends and the app's side
    // takes in on every exchange; left to the kernel, the ACK rides on the next request.
    acks_armed_ = false;
    in_pieces_ = false;
    if (!ec && conn_->whole_replies < backend_connection::whole_replies_for_lazy_acks) {
      acknowledge_at_once(conn_->stream.socket());
      acks_armed_ = true;
    }
    // A head of unusual size (an event with large headers) is not kept for the connection's life.
    if (conn_->head.capacity() > backend_connection::read_buffer_bytes) std::string().swap(conn_->head);
    std::string_view step = "sending the request";
    reply_head head;
    std::size_t header_bytes = 0;  // consumed by the parser, over every head of this reply
    if (!ec) {
      step = "reading the reply's header";
      // 1xx interim replies (100 Continue, 103 Early Hints) precede the real one; each needs a fresh parser, and
      // the head limit counts them all (bounded_read.hpp: with Boost's own limit, 100 KB of header lines were accepted
      // and one over-long line hung until the deadline).
      reusable_ = true;
      direct_ = false;
      for (;;) {
        parser_.emplace(std::piecewise_construct, std::make_tuple(),
                        std::make_tuple(reply_fields_allocator<char>(fields_arena_)));
        parser_->body_limit(max_body_bytes_);
        parser_->header_limit(static_cast<std::uint32_t>(backend_connection::max_header_bytes));
        if (head_request) parser_->skip(true);
        if (past_deadline(ec)) break;
        co_await read_head_bounded(socket(), conn_->buffer, *parser_, backend_connection::max_header_bytes,
                                   header_bytes, ec, [this] { more_to_come(); });
        timed(ec);
        const int code = ec ? 0 : parser_->get().result_int();
        if (code / 100 != 1 || code == 101) break;
        // 100 Continue and 103 Early Hints are what a well-behaved app sends; after any other interim reply the
        // connection's state is the app's secret, so it serves this reply and no other.
        if (code != 100 && code != 103) reusable_ = false;
        // Nothing of the reply itself is in yet, and the app may hold it until the interim one is acknowledged.
        if (conn_->buffer.size() == 0) more_to_come();
      }
    }
    if (ec) {
      const bool nothing_received = header_bytes == 0 && (!parser_ || !parser_->got_some());
      if (reused && nothing_received && ec != beast::error::timeout && !pool_.aborted_) {
        // The app (or a freeze) closed the pooled connection in between: once more on a fresh one.
        log::debug("", "a reused connection to the app failed ({}) before any reply byte; retrying on a new one",
                   ec.message());
        close_quietly(conn_->stream);
        conn_.reset();
        parser_.reset();
        continue;
      }
      co_return transport_failure(ec, step);
    }
    const auto& msg = parser_->get();
    if (auto refused = refuse_framing(msg)) {
      close_quietly(conn_->stream);
      conn_.reset();
      co_return failure{error_types::backend_invalid_response, *refused + " (app at " + to_string(pool_.endpoint()) + ")"};
    }
    if (parser_->upgrade()) reusable_ = false;  // the app means to speak something else on it next
    // Some of the body still to come? The parser has not looked at the body yet: what is buffered is compared with
    // what is declared, and a chunked body counts as still to come.
    const auto remaining = parser_->content_length_remaining();
    if (!parser_->is_done() && (!remaining || *remaining > conn_->buffer.size())) more_to_come();
    head.status = msg.result_int();
    head.reason = std::string(msg.reason());
    // Sized once, in the list an earlier reply left: its strings are assigned again, not allocated (issue 14).
    head.headers = std::move(spare);
    head.headers.resize(static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
    auto out = head.headers.begin();
    for (const auto& f : msg) {
      out->name.assign(f.name_string());
      out->value.assign(f.value());
      ++out;
    }
    co_return head;
  }
}

std::optional<std::string> backend_exchange::refuse_framing(const http::response_header<reply_fields>& msg) {
  const int code = msg.result_int();
  if (code == 101) {
    return std::string("the app answered 101 Switching Protocols: a Lambda result cannot carry an upgraded "
                       "connection");
  }
  if (code < 100 || code > 599) {
    return "the app answered with status " + std::to_string(code) + ", outside HTTP's 100-599";
  }
  // Beast decodes the chunked coding alone and would pass the rest (gzip, say) on as if it were the body.
  for (auto [te, end] = msg.equal_range(http::field::transfer_encoding); te != end; ++te) {
    if (!text::iequals(text::trim(te->value()), "chunked")) {
      return "the app's reply has 'Transfer-Encoding: " + std::string(te->value()) +
             "'; only 'chunked' is understood, and the body would reach the client still encoded";
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> backend_exchange::declared_length() const {
  if (!parser_ || !parser_->content_length()) return std::nullopt;
  return *parser_->content_length();
}

bool backend_exchange::body_done() const { return direct_ ? direct_remaining_ == 0 : parser_->is_done(); }

awaitable<maybe_failure> backend_exchange::read_body(std::string& out, std::size_t limit) {
  // The string is sized ahead of the reads (once, to Content-Length when it is known) and trimmed at the end: sizing
  // it to its capacity before every read would zero-fill the spare room again each time, quadratic in the body. The
  // room is not zero-filled at all: the reads write it.
  std::size_t used = out.size();
  const std::size_t start = used;
  // Up front at most 8 MB: a declared length is a claim, and memory is taken only as bytes arrive past that.
  constexpr std::uint64_t max_presize = 8 * 1024 * 1024;
  if (const auto len = parser_->content_length()) {
    if (*len > limit) co_return body_too_large(limit, body_step);
    resize_uninitialized(out, used + static_cast<std::size_t>(std::min(*len, max_presize)));
  }
  while (!body_done()) {
    // Grown only when full: with a Content-Length the first sizing already fits the whole body.
    if (out.size() == used) resize_uninitialized(out, std::max<std::size_t>(out.size() * 2, used + 64 * 1024));
    auto read = co_await read_some(out.data() + used, out.size() - used);
    if (!read) {
      out.resize(used);
      co_return read.error();
    }
    used += *read;
    if (used - start > limit) {
      out.resize(used);
      co_return body_too_large(limit, body_step);
    }
  }
  out.resize(used);
  finish();
  co_return std::nullopt;
}

bool backend_exchange::direct_body() {
  // Once the parser has what the connection's buffer held of a body framed by Content-Length, the rest comes from
  // the socket straight to its destination: no copy through that buffer, and never a byte read past the body.
  if (!direct_ && conn_ && parser_ && !parser_->is_done() && conn_->buffer.size() == 0 && !parser_->chunked()) {
    if (const auto remaining = parser_->content_length_remaining()) {
      direct_ = true;
      direct_remaining_ = *remaining;
    }
  }
  return direct_;
}

awaitable<result<std::size_t>> backend_exchange::read_some(char* buf, std::size_t size) {
  auto& body = parser_->get().body();
  // Whatever has arrived is handed on at once (a streamed reply must not wait for a full buffer); a read that
  // parsed only chunk framing is repeated, as 0 bytes would mean the end.
  while (!direct_body() && !parser_->is_done()) {
    body.data = buf;
    body.size = size;
    boost::system::error_code ec;
    if (!past_deadline(ec)) {
      co_await read_body_some_bounded(socket(), conn_->buffer, *parser_, backend_connection::max_header_bytes, ec);
      timed(ec);
    }
    if (ec) co_return transport_failure(ec, body_step);
    if (const std::size_t got = size - body.size; got > 0) co_return got;
  }
  if (!direct_) {
    finish();
    co_return std::size_t{0};
  }
  boost::system::error_code ec;
  std::size_t got = 0;
  const std::size_t want = direct_want(size);
  if (want > 0 && !past_deadline(ec)) {
    got = co_await socket().async_read_some(asio::buffer(buf, want), asio::redirect_error(asio::use_awaitable, ec));
    timed(ec);
  }
  co_return direct_moved(got, ec);
}

awaitable<result<std::size_t>> backend_exchange::splice_some(splice_pipe& pipe, std::size_t size) {
  boost::system::error_code ec;
  std::size_t got = 0;
  const std::size_t want = direct_want(size);
  if (want > 0 && !past_deadline(ec)) {
    got = co_await pipe.fill_from(socket(), want, ec);
    if (!pipe.valid()) co_return std::size_t{0};  // the kernel cannot splice here: nothing moved, the caller reads
    timed(ec);
  }
  co_return direct_moved(got, ec);
}

std::size_t backend_exchange::direct_want(std::size_t size) const {
  return static_cast<std::size_t>(std::min<std::uint64_t>(size, direct_remaining_));
}

result<std::size_t> backend_exchange::direct_moved(std::size_t got, boost::system::error_code ec) {
  direct_remaining_ -= got;
  if (got > 0) return got;
  if (direct_remaining_ == 0) {
    finish();
    return std::size_t{0};
  }
  // The body is cut short: the app closed the connection (or it failed) before its Content-Length was in.
  if (ec == asio::error::eof || !ec) ec = http::error::partial_message;
  return transport_failure(ec, body_step);
}

void backend_exchange::more_to_come() {
  in_pieces_ = true;
  if (acks_armed_) return;
  acknowledge_at_once(socket());
  acks_armed_ = true;
}

void backend_exchange::finish() {
  if (!conn_ || !parser_ || !body_done()) return;
  const std::uint32_t whole = in_pieces_ ? 0 : conn_->whole_replies + 1;
  conn_->whole_replies = std::min(whole, backend_connection::whole_replies_for_lazy_acks);
  // Pooled only when the reply ended exactly at its framing: a byte already read past it belongs to no request, and
  // the next one would take it for its reply. Bytes still on the socket are looked for when the connection is taken
  // (take_idle), which also sees those that arrive while it is idle.
  const bool clean = reusable_ && parser_->get().keep_alive() && conn_->buffer.size() == 0;
  if (clean) {
    pool_.put_back(std::move(conn_));
  } else {
    close_quietly(conn_->stream);
    conn_.reset();
  }
}

}  // namespace lambda_bridge
