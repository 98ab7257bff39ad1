// Reading HTTP messages with limits that hold, from every peer the bridge does not trust to be sane: the app's replies
// (backend_client) and readiness answers (readiness), and the clients of the local emulator and gateway (http_server).
//
// Beast's own reads are not enough for such peers, in two ways. Boost 1.74's header_limit applies to each put()
// alone and forgets the fields an earlier read already parsed, so with http::async_read_header a head arriving in
// pieces grew without bound, and one line longer than the limit left the parser asking for more until a timeout.
// And nothing bounds a chunked body's framing: a trailer is buffered whole, however large, and a trailer field of
// 65,535 bytes or more makes Beast's fields container throw std::length_error from inside its composed read
// operation, where no coroutine can catch it: it left io_context::run() and aborted the process (issue 11). Here the
// parser is fed by hand, every put() is guarded, and what the parser holds unparsed is bounded.
#pragma once

#include <cstddef>
#include <exception>

#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

// parser.put(), with any exception it throws (Beast's fields container refuses a name or value of 64 KB or more)
// turned into http::error::header_limit. need_more is cleared; need_buffer is left for the caller.
template <class Parser>
std::size_t put_guarded(Parser& parser, beast::flat_buffer& buffer, boost::system::error_code& ec) {
  std::size_t used = 0;
  try {
    used = parser.put(buffer.data(), ec);
  } catch (const std::exception&) {
    ec = http::error::header_limit;
  }
  buffer.consume(used);
  if (ec == http::error::need_more) ec = {};
  return used;
}

// One read from the stream into `buffer`; an EOF becomes partial_message (the parser got some of the message) or
// end_of_stream (none), after letting a message delimited by the connection's end complete.
template <class Stream, class Parser>
awaitable<void> read_more(Stream& stream, beast::flat_buffer& buffer, Parser& parser, boost::system::error_code& ec) {
  const auto space = buffer.prepare(beast::read_size(buffer, 65536));
  const std::size_t got = co_await stream.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
  buffer.commit(got);
  if (ec != asio::error::eof) co_return;
  if (!parser.got_some()) {
    ec = http::error::end_of_stream;
    co_return;
  }
  ec = {};
  parser.put_eof(ec);  // completes a body that runs to the end of the connection; anything else is cut short
  if (ec) ec = http::error::partial_message;
}

struct no_hook {
  void operator()() const {}
};

// Reads until `parser` has a complete head, counting every byte it consumes into `consumed` (which the caller may
// carry over several heads, such as 1xx interim replies): the head fails with http::error::header_limit as soon as
// it passes `limit`. Sets `ec`. `in_pieces` is called before each read for a head that has begun to arrive (the
// app's replies: backend_exchange::more_to_come).
template <class Stream, class Parser, class InPieces = no_hook>
awaitable<void> read_head_bounded(Stream& stream, beast::flat_buffer& buffer, Parser& parser, std::size_t limit,
                                  std::size_t& consumed, boost::system::error_code& ec, InPieces in_pieces = {}) {
  while (!ec && !parser.is_header_done()) {
    if (buffer.size() > 0) {
      consumed += put_guarded(parser, buffer, ec);
      if (ec || parser.is_header_done()) break;
    }
    if (consumed + buffer.size() >= limit) {
      ec = http::error::header_limit;
      break;
    }
    if (parser.got_some() || buffer.size() > 0) in_pieces();
    co_await read_more(stream, buffer, parser, ec);
  }
}

// Advances the body of a message whose head is in: returns once the parser has consumed something (body bytes or
// only chunk framing: the caller looks at its body to tell), is done, or failed. What the parser must see whole
// before it can consume it (a chunk-size line, the trailer) may not reach `framing_limit` bytes: past that,
// http::error::header_limit. With a buffer_body the caller must have given the body room.
template <class Stream, class Parser>
awaitable<void> read_body_some_bounded(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                                       std::size_t framing_limit, boost::system::error_code& ec) {
  while (!ec && !parser.is_done()) {
    if (buffer.size() > 0) {
      const std::size_t used = put_guarded(parser, buffer, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec || used > 0 || parser.is_done()) break;
      if (buffer.size() >= framing_limit) {
        ec = http::error::header_limit;
        break;
      }
    }
    co_await read_more(stream, buffer, parser, ec);
  }
}

// The whole body of a message whose head is in, as read_body_some_bounded bounds it.
template <class Stream, class Parser>
awaitable<void> read_body_bounded(Stream& stream, beast::flat_buffer& buffer, Parser& parser, std::size_t framing_limit,
                                  boost::system::error_code& ec) {
  while (!ec && !parser.is_done()) co_await read_body_some_bounded(stream, buffer, parser, framing_limit, ec);
}

}  // namespace lambda_bridge
