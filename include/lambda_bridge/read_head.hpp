// Reading an HTTP head with a limit that holds, for every peer whose heads the bridge reads from a socket it does not
// trust to be sane: the app's replies (backend_client) and its readiness answers (readiness).
#pragma once

#include <cstddef>

#include "lambda_bridge/asio.hpp"

namespace lambda_bridge {

// Reads until `parser` has a complete head, feeding it by hand and counting every byte it consumes into `consumed`
// (which the caller may carry over several heads, such as 1xx interim replies). Boost 1.74's header_limit applies to
// each put() alone and forgets the fields an earlier read already parsed, so with http::async_read_header a head
// arriving in pieces grew without bound, and one line longer than the limit left the parser asking for more until a
// timeout. Here the head fails with http::error::header_limit as soon as it passes `limit`. Sets `ec`; an EOF becomes
// partial_message (some bytes came) or end_of_stream (none).
template <class Stream, class Parser>
awaitable<void> read_head_bounded(Stream& stream, beast::flat_buffer& buffer, Parser& parser, std::size_t limit,
                                  std::size_t& consumed, boost::system::error_code& ec) {
  while (!ec && !parser.is_header_done()) {
    if (buffer.size() > 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      consumed += used;
      if (ec == http::error::need_more) ec = {};
      if (ec || parser.is_header_done()) break;
    }
    if (consumed + buffer.size() >= limit) {
      ec = http::error::header_limit;
      break;
    }
    const auto space = buffer.prepare(beast::read_size(buffer, 65536));
    const std::size_t got = co_await stream.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
    buffer.commit(got);
    if (ec == asio::error::eof) ec = parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
  }
}

}  // namespace lambda_bridge
