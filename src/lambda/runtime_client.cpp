#include "lambda_bridge/lambda/runtime_client.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <limits>

#include "lambda_bridge/app/bounded_read.hpp"
#include "lambda_bridge/core/error_document.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/lambda/protocol.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/buffer.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/log.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {
namespace {

// Posts go to a local endpoint that answers at once; a minute means it is gone.
constexpr auto post_timeout = std::chrono::seconds(60);
// Reconnection attempts for /next before the Runtime API is declared unreachable.
constexpr int next_attempts = 3;
// What a chunked answer's framing (a chunk-size line, the trailer) may hold: Lambda's answers have none.
constexpr std::size_t max_trailer_bytes = 64 * 1024;

// The body of an event whose length is declared, read straight into the event's string: Beast's string_body grows
// the string piece by piece, zero-filling each piece before copying it in from the connection's buffer, which was
// a quarter of a 256 KB event's instructions (docs/performance.md). Whatever `body` held (a recycled buffer) is
// overwritten, so it is not zero-filled first (a base64 event's buffer comes back as its shorter decoded body, and
// growing it again by resize was 6 % of the instructions of a 512 KB one). A connection that ends early is reported
// as Beast reports it, as a partial message, and the body is then not used.
//
// Each read takes all that has arrived (asio::async_read's default completion condition reads at most 64 KB at a
// time: eight system calls for a 512 KB event where one or two do; "Reads of any size"). The body is read without
// waiting for as long as bytes are there (the socket is non-blocking), and only when the next read would wait is what
// has come scanned, in the time the wait would have idled (event_scan.hpp; "Scanned as it arrives"): a scan between
// reads that found bytes waiting held the sender back and made a 6 MB event slower to arrive than the scan saved.
awaitable<void> read_sized_body(tcp::socket& socket, beast::flat_buffer& buffer, std::string& body,
                                std::size_t size, events::event_scanner& scan, boost::system::error_code& ec) {
  resize_uninitialized(body, size);
  std::size_t have = std::min(buffer.size(), size);
  asio::buffer_copy(asio::buffer(body.data(), have), buffer.data());
  buffer.consume(have);
  while (have < size && !ec) {
    have += socket.read_some(asio::buffer(body.data() + have, size - have), ec);
    if (ec != asio::error::would_block && ec != asio::error::try_again) continue;
    ec = {};
    scan.feed({body.data(), have});
    have += co_await socket.async_read_some(asio::buffer(body.data() + have, size - have),
                                            asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec == asio::error::eof) ec = http::error::partial_message;
}

bool is_expected_close(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == beast::error::timeout;
}

// An answer of the Runtime API read without Beast's response_parser, which would allocate a fields node per header
// and a fresh body per answer: the body goes into a string the caller keeps, and for /next the Lambda-Runtime-*
// headers straight into the worker's event (`context`); other headers are not kept.
class lean_answer_parser : public http::basic_parser<false> {
 public:
  // keep_old_body: the caller overwrites or clears the body itself. A recycled event buffer is read into with one
  // resize to the declared length, which zero-fills only what it adds; clearing it first would zero-fill it all.
  static constexpr bool keep_old_body = true;
  lean_answer_parser(std::string& body, invocation_context* context, bool keep_old = false) : body_(body) {
    if (!keep_old) body_.clear();
    if (context != nullptr) context_.emplace(*context);
  }
  int status() const { return status_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override { status_ = code; }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value, beast::error_code&) override {
    if (context_) context_->field(std::string_view(name.data(), name.size()), std::string_view(value.data(), value.size()));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, beast::error_code&) override {
    // Called only once the body is read, after the header: next() has refused a declared length over the event
    // limit by then, and a post's answer has its 64 KB limit from the start.
    if (length) body_.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view piece, beast::error_code&) override {
    body_.append(piece.data(), piece.size());
    return piece.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view piece, beast::error_code&) override {
    body_.append(piece.data(), piece.size());
    return piece.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  std::string& body_;
  std::optional<invocation_context_reader> context_;
  int status_ = 0;
};

}  // namespace

runtime_client::runtime_client(asio::any_io_executor ex, tcp::endpoint endpoint, std::size_t max_event_bytes)
    : stream_(std::move(ex)),
      endpoint_(endpoint),
      max_event_bytes_(max_event_bytes),
      common_fields_("Host: " + host_literal(endpoint.address()) +
                     "\r\nUser-Agent: lambda-bridge/" LAMBDA_BRIDGE_VERSION "\r\n"),
      // The same bytes every time. Beast's generic request serializer cost more instructions than the rest of the
      // poll (docs/performance.md), so every request here is written from a head built by hand.
      next_request_("GET " + std::string(api_path::runtime) + "invocation/next HTTP/1.1\r\n" + common_fields_ +
                    "\r\n"),
      watch_(stream_.get_executor()),
      post_entry_(
          [](void* self) {
            boost::system::error_code ignored;
            static_cast<runtime_client*>(self)->stream_.socket().close(ignored);
          },
          this) {
  buffer_.reserve(64 * 1024);  // Beast reads at most the free capacity at a time: 512 bytes per read otherwise
}

void runtime_client::disconnect() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

awaitable<void> runtime_client::ensure_connected() {
  if (connected_) co_return;
  stream_.expires_after(std::chrono::seconds(10));
  boost::system::error_code ec;
  co_await stream_.async_connect(endpoint_, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    throw runtime_api_fatal("cannot connect to the Runtime API at " + to_string(endpoint_) + ": " + ec.message());
  }
  stream_.socket().set_option(tcp::no_delay(true));
  stream_.socket().non_blocking(true);  // for write_at_once
  stream_.expires_never();  // Beast's timer bounded the connect; posts are bounded by watch_
  connected_ = true;
}

void runtime_client::cancel() {
  cancelled_ = true;
  boost::system::error_code ignored;
  stream_.socket().cancel(ignored);
  stream_.socket().close(ignored);
  connected_ = false;
}

awaitable<std::optional<next_event>> runtime_client::next() {
  next_event ev;
  const bool got = co_await next(ev);
  if (!got) co_return std::nullopt;
  co_return std::move(ev);
}

awaitable<bool> runtime_client::next(next_event& ev) {
  for (int attempt = 1;; ++attempt) {
    if (cancelled_) co_return false;
    if (!connected_) co_await ensure_connected();  // no coroutine frame when connected
    boost::system::error_code ec;
    // The long poll may last as long as the process is frozen: no timer. Written and read on the socket, not through
    // Beast's tcp_stream, whose per-operation layer (its timer's bookkeeping, a handler and a work guard more per read)
    // was on the way in of every event for nothing.
    stream_.expires_never();
    const auto rest = write_at_once(stream_.socket(), asio::buffer(next_request_), ec);
    if (!ec && asio::buffer_size(rest) > 0) {
      co_await asio::async_write(stream_.socket(), rest, asio::redirect_error(asio::use_awaitable, ec));
    }

    // The body limit is set only once the header is in: Beast checks Content-Length against it while parsing
    // the fields, which would fail the read before the request id is known and the event could be refused.
    // The last event's memory comes back through recycle_event_buffer (it became the last request's body).
    if (spare_event_.capacity() > ev.body.capacity()) ev.body.swap(spare_event_);
    ev.scan.reset();
    lean_answer_parser parser(ev.body, &ev.ctx, lean_answer_parser::keep_old_body);
    ev.problem.reset();
    parser.body_limit((std::numeric_limits<std::uint64_t>::max)());  // not Beast's 8 MiB default either
    if (!ec) {
      co_await http::async_read_header(stream_.socket(), buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (cancelled_) co_return false;
    if (ec) {
      // A dropped keep-alive connection is reconnected; a Runtime API that stays away ends the process.
      disconnect();
      if (attempt >= next_attempts) {
        throw runtime_api_fatal("the Runtime API connection failed while waiting for /next: " + ec.message());
      }
      log::warn("", "the Runtime API connection failed while waiting for /next ({}); reconnecting", ec.message());
      continue;
    }

    const int status = parser.status();
    const auto declared = parser.content_length();
    if (declared && *declared > max_event_bytes_) {
      ev.problem = failure{error_types::event_too_large,
                           "the event is " + std::to_string(*declared) + " bytes, over the bridge's limit of " +
                               std::to_string(max_event_bytes_) + " bytes (LAMBDA_BRIDGE_MAX_EVENT_BYTES)"};
      disconnect();  // the unread body makes the connection unusable
      if (status == 200) co_return true;
    }
    parser.body_limit(max_event_bytes_);
    const bool sized = declared && !parser.chunked();
    if (ev.problem || !sized) ev.body.clear();  // a recycled buffer's old event; the parser appends to what is there
    if (!ev.problem && sized) {
      co_await read_sized_body(stream_.socket(), buffer_, ev.body, static_cast<std::size_t>(*declared), ev.scan, ec);
    } else if (!ev.problem) {
      // Read by hand, bounded (bounded_read.hpp): a chunked event's trailer could otherwise throw out of Beast's
      // read.
      co_await read_body_bounded(stream_.socket(), buffer_, parser, max_trailer_bytes, ec);
    }
    if (ec == http::error::body_limit) {
      ev.problem = failure{error_types::event_too_large, "the event is over the bridge's limit of " +
                                                             std::to_string(max_event_bytes_) +
                                                             " bytes (LAMBDA_BRIDGE_MAX_EVENT_BYTES)"};
      disconnect();
      if (status == 200) co_return true;
    } else if (ec) {
      disconnect();
      if (cancelled_) co_return false;
      if (attempt >= next_attempts) {
        throw runtime_api_fatal("the Runtime API connection failed while reading an event: " + ec.message());
      }
      log::warn("", "the Runtime API connection failed while reading an event ({}); reconnecting", ec.message());
      continue;
    }
    if (!parser.keep_alive()) disconnect();
    if (status != 200) {
      throw runtime_api_fatal("the Runtime API answered /next with HTTP " + std::to_string(status) + ": " +
                              ev.body.substr(0, 1024));
    }
    co_return true;
  }
}

awaitable<post_outcome> runtime_client::post(std::string_view target, const invocation_context* ctx,
                                             std::string_view content_type, std::string_view error_type,
                                             std::string_view body) {
  // The head is written by hand into a buffer kept across posts, and goes out with the body in one gathered write.
  // Every value is ours or came through Beast's parser from the Runtime API; one that could still break the head
  // is left out rather than sent.
  auto field = [this](std::string_view name, std::string_view value) {
    if (!value.empty() && uri::is_field_value(value)) post_head_.append(name).append(": ").append(value).append("\r\n");
  };
  post_head_.assign("POST ").append(target).append(" HTTP/1.1\r\n").append(common_fields_);
  field("Content-Type", content_type);
  field(runtime_header::function_error_type, error_type);
  if (ctx != nullptr) field(runtime_header::invocation_id, ctx->invocation_id);
  post_head_.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  const std::array<asio::const_buffer, 2> wire{asio::buffer(post_head_), asio::buffer(body)};

  boost::system::error_code ec;
  int status = 0;
  bool keep_alive = false;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    if (!connected_) co_await ensure_connected();  // no coroutine frame when connected
    bounded();
    // Written at once when the socket takes it all (write_at_once); the socket, not Beast's tcp_stream, which would
    // arm its timer for each write. Inline rather than a helper coroutine, which would cost a frame per post.
    const auto rest = write_at_once(stream_.socket(), wire, ec);
    if (!ec && asio::buffer_size(rest) > 0) {
      co_await asio::async_write(stream_.socket(), rest, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) co_await read_lean_answer(status, keep_alive, ec);
    settled(ec);
    if (!ec) break;
    disconnect();
    // A kept-alive connection the Runtime API closed in between is retried once on a fresh one.
    if (attempt == 2 || !is_expected_close(ec)) {
      std::string what = "posting to the Runtime API (";
      what.append(target).append(") failed: ").append(ec.message());
      throw runtime_api_fatal(what);
    }
  }
  if (!keep_alive) disconnect();
  co_return outcome_of(status, answer_body_, target, ctx);
}

post_outcome runtime_client::outcome_of(int status, std::string_view body, std::string_view target,
                                        const invocation_context* ctx) {
  if (status >= 200 && status < 300) return post_outcome::accepted;
  if (status == 413) return post_outcome::too_large;
  if (status == 410) return post_outcome::gone;
  if (status >= 500) {
    throw runtime_api_fatal("the Runtime API answered " + std::string(target) + " with HTTP " +
                            std::to_string(status) + ": " + std::string(body.substr(0, 1024)));
  }
  log::warn(ctx != nullptr ? std::string_view(ctx->request_id) : std::string_view{},
            "the Runtime API refused {} with HTTP {}: {}", std::string(target), status, body.substr(0, 1024));
  return post_outcome::refused;
}

void runtime_client::begin_stream(const invocation_context& ctx) {
  stream_target_ = std::string(api_path::runtime) + "invocation/" + ctx.request_id + "/response";
  stream_ctx_ = &ctx;
  stream_failed_ = false;
  // Sent together with the first piece: the prelude follows at once, and one write is one segment.
  stream_head_.assign("POST ").append(stream_target_).append(" HTTP/1.1\r\n").append(common_fields_);
  stream_head_.append("Content-Type: ").append(stream_content_type);
  stream_head_.append("\r\n").append(runtime_header::response_mode).append(": streaming\r\n");
  stream_head_.append("Transfer-Encoding: chunked\r\nTrailer: ").append(runtime_header::function_error_type);
  stream_head_.append(", ").append(runtime_header::function_error_body).append("\r\n");
  if (!ctx.invocation_id.empty()) {
    stream_head_.append(runtime_header::invocation_id).append(": ").append(ctx.invocation_id).append("\r\n");
  }
  stream_head_.append("\r\n");
}

awaitable<bool> runtime_client::write_stream(std::string_view piece) {
  if (stream_failed_) co_return false;
  if (piece.empty()) co_return true;  // an empty chunk would end the body
  char size_line[24];
  const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
  const std::array<asio::const_buffer, 4> wire{asio::buffer(stream_head_), asio::buffer(size_line, static_cast<std::size_t>(n)),
                                               asio::buffer(piece.data(), piece.size()), asio::buffer("\r\n", 2)};
  boost::system::error_code ec;
  // The first write may meet a kept-alive connection the Runtime API closed in between: nothing of the
  // response has arrived anywhere yet, so it is sent once more on a fresh connection.
  const int attempts = stream_head_.empty() ? 1 : 2;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (!connected_) co_await ensure_connected();
    bounded();
    const auto rest = write_at_once(stream_.socket(), wire, ec);
    if (!ec && asio::buffer_size(rest) > 0) {
      co_await asio::async_write(stream_.socket(), rest, asio::redirect_error(asio::use_awaitable, ec));
    }
    settled(ec);
    if (!ec || !is_expected_close(ec)) break;
    disconnect();
  }
  stream_head_.clear();
  co_return stream_written(ec);
}

awaitable<bool> runtime_client::write_stream(splice_pipe& pipe) {
  if (stream_failed_) {
    pipe.discard();
    co_return false;
  }
  if (pipe.held() == 0) co_return true;  // an empty chunk would end the body
  char size_line[24];
  const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", pipe.held());
  // stream_head_ is empty here (the prelude went first, as bytes); were it not, it goes out first, with no retry.
  const std::array<asio::const_buffer, 2> head{asio::buffer(stream_head_),
                                               asio::buffer(size_line, static_cast<std::size_t>(n))};
  const std::array<asio::const_buffer, 1> tail{asio::buffer("\r\n", 2)};
  boost::system::error_code ec;
  if (!connected_) co_await ensure_connected();
  bounded();
  auto rest = write_at_once(stream_.socket(), head, ec);
  if (!ec && asio::buffer_size(rest) > 0) {
    co_await asio::async_write(stream_.socket(), rest, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) co_await pipe.drain_to(stream_.socket(), ec);
  if (!ec) {
    auto crlf = write_at_once(stream_.socket(), tail, ec);
    if (!ec && asio::buffer_size(crlf) > 0) {
      co_await asio::async_write(stream_.socket(), crlf, asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  settled(ec);
  stream_head_.clear();
  if (ec) pipe.discard();  // what it still holds belongs to a request that has failed
  co_return stream_written(ec);
}

bool runtime_client::stream_written(const boost::system::error_code& ec) {
  if (!ec) return true;
  log::error(stream_ctx_->request_id, "streaming the response to the Runtime API failed: {}", ec.message());
  stream_failed_ = true;
  disconnect();
  return false;
}

awaitable<post_outcome> runtime_client::end_stream(const failure* error) {
  if (stream_failed_) co_return post_outcome::refused;
  // The head is still pending only when no piece was written (callers always send a prelude first).
  if (!stream_head_.empty()) co_await ensure_connected();
  std::string last = std::move(stream_head_);
  stream_head_.clear();
  last.append("0\r\n");
  if (error != nullptr) {
    // Real HTTP/1.1 trailers: the body already sent stays intact, and Lambda learns the invocation failed.
    std::string error_json;
    append_error_json(error_json, error->type, error->message);
    last.append(runtime_header::function_error_type).append(": ").append(error_types::stream_error).append("\r\n");
    last.append(runtime_header::function_error_body).append(": ");
    base64::append_encoded(last, error_json);
    last.append("\r\n");
  }
  last.append("\r\n");
  boost::system::error_code ec;
  bounded();
  const auto rest = write_at_once(stream_.socket(), asio::buffer(last), ec);
  if (!ec && asio::buffer_size(rest) > 0) {
    co_await asio::async_write(stream_.socket(), rest, asio::redirect_error(asio::use_awaitable, ec));
  }
  int status = 0;
  bool keep_alive = false;
  if (!ec) co_await read_lean_answer(status, keep_alive, ec);
  settled(ec);
  if (ec) {
    log::error(stream_ctx_->request_id, "ending the streamed response failed: {}", ec.message());
    disconnect();
    co_return post_outcome::refused;
  }
  if (!keep_alive) disconnect();
  co_return outcome_of(status, answer_body_, stream_target_, stream_ctx_);
}

awaitable<http::response<http::string_body>> runtime_client::extension_call(http::request<http::string_body>& req,
                                                                            boost::system::error_code& ec) {
  req.set(http::field::host, host_literal(endpoint_.address()));
  req.set(http::field::content_type, "application/json");
  req.prepare_payload();
  http::response<http::string_body> res;
  try {
    co_await ensure_connected();
  } catch (const runtime_api_fatal&) {
    ec = asio::error::connection_refused;
    co_return res;
  }
  stream_.expires_after(post_timeout);
  co_await http::async_write(stream_, req, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) res = co_await read_answer(ec);
  if (ec || !res.keep_alive()) disconnect();
  co_return res;
}

awaitable<std::string> runtime_client::register_extension(std::string_view name, std::string_view events_json) {
  http::request<http::string_body> req{http::verb::post, std::string(api_path::extension) + "register", 11};
  req.set(extension_header::name, name);
  req.body() = std::string(events_json);
  boost::system::error_code ec;
  const auto res = co_await extension_call(req, ec);
  if (ec || res.result_int() != 200 || res[extension_header::identifier].empty()) {
    log::warn("", "the Extensions API at {} refused the registration of {} ({}): {}", to_string(endpoint_), name,
              ec ? ec.message() : "HTTP " + std::to_string(res.result_int()), res.body().substr(0, 512));
    disconnect();
    co_return std::string();
  }
  co_return std::string(res[extension_header::identifier]);
}

awaitable<void> runtime_client::post_extension_error(const std::string& identifier, std::string_view phase,
                                                     std::string_view type, std::string_view message) {
  // Named first: g++ 12 mishandles temporaries in a coroutine's braced initialisers.
  std::string target = std::string(api_path::extension) + std::string(phase) + "/error";
  http::request<http::string_body> req{http::verb::post, std::move(target), 11};
  req.set(extension_header::identifier, identifier);
  req.set(extension_header::error_type, type);
  append_error_json(req.body(), type, message);
  boost::system::error_code ec;
  const auto res = co_await extension_call(req, ec);
  if (ec || res.result_int() != 202) {
    log::warn("", "could not report the extension {} error ({})", phase,
              ec ? ec.message() : "HTTP " + std::to_string(res.result_int()));
  }
}

awaitable<std::string> runtime_client::next_extension_event(const std::string& identifier) {
  http::request<http::empty_body> req{http::verb::get, std::string(api_path::extension) + "event/next", 11};
  req.set(http::field::host, host_literal(endpoint_.address()));
  req.set(extension_header::identifier, identifier);
  boost::system::error_code ec;
  if (cancelled_) co_return std::string();
  co_await ensure_connected();
  stream_.expires_never();  // parked for the life of the environment
  co_await http::async_write(stream_, req, asio::redirect_error(asio::use_awaitable, ec));
  http::response<http::string_body> res;
  if (!ec) res = co_await read_answer(ec);
  if (ec || res.result_int() != 200) {
    disconnect();
    co_return std::string();
  }
  co_return std::move(res.body());
}

awaitable<http::response<http::string_body>> runtime_client::read_answer(boost::system::error_code& ec) {
  // Header first: Boost 1.74's parser, handed a whole message by one eager read, skips the body limit and sizes a
  // body for whatever Content-Length declares (docs/fuzzing.md, finds 3 and 4). Answers to posts and Extensions
  // API calls are small JSON documents.
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  co_await http::async_read_header(stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await read_body_bounded(stream_, buffer_, parser, max_trailer_bytes, ec);
  co_return parser.release();
}

void runtime_client::bounded() { watch_.add(post_entry_, std::chrono::steady_clock::now() + post_timeout); }

void runtime_client::settled(boost::system::error_code& ec) {
  if (ec && post_entry_.expired()) ec = beast::error::timeout;
  watch_.remove(post_entry_);
}

awaitable<void> runtime_client::read_lean_answer(int& status, bool& keep_alive, boost::system::error_code& ec) {
  // Header first, as read_answer does; the body into answer_body_, whose capacity stays. On the socket: the post
  // timeout is watch_'s, and Beast's tcp_stream would add its per-operation work for nothing.
  lean_answer_parser parser(answer_body_, nullptr);
  parser.body_limit(64 * 1024);
  co_await http::async_read_header(stream_.socket(), buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await read_body_bounded(stream_.socket(), buffer_, parser, max_trailer_bytes, ec);
  status = parser.status();
  keep_alive = parser.keep_alive();
}

awaitable<post_outcome> runtime_client::post_response(const invocation_context& ctx, std::string_view body) {
  // Built in a string the client keeps, as the head is: no allocation per result. Not a coroutine itself, so it adds
  // no frame (each nested frame is an allocation: Asio 1.74 recycles one per thread).
  post_target_.assign(api_path::runtime).append("invocation/").append(ctx.request_id).append("/response");
  return post(post_target_, &ctx, "application/json", {}, body);
}

awaitable<post_outcome> runtime_client::post_error(const invocation_context& ctx, std::string_view type,
                                                   std::string_view message) {
  std::string body;
  append_error_json(body, type, message);
  std::string target = std::string(api_path::runtime) + "invocation/" + ctx.request_id + "/error";
  const post_outcome outcome = co_await post(target, &ctx, "application/vnd.aws.lambda.error+json", type, body);
  co_return outcome;
}

awaitable<void> runtime_client::post_init_error(std::string_view type, std::string_view message) {
  std::string body;
  append_error_json(body, type, message);
  std::string target = std::string(api_path::runtime) + "init/error";
  co_await post(target, nullptr, "application/vnd.aws.lambda.error+json", type, body);
}

}  // namespace lambda_bridge
