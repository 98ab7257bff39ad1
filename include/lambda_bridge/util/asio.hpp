// The one place Boost.Asio and Boost.Beast are included, with the aliases every I/O component uses.
#pragma once

#ifdef LAMBDA_BRIDGE_PURE_CORE
#error "the core library (src/core, src/util, src/config) and its tests do not use Asio or Beast"
#endif

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>; libstdc++ 12 no longer pulls it in.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/version.hpp>

#include "lambda_bridge/util/frame_cache.hpp"

// Asio's awaitable frames come from util/frame_cache.hpp's per-thread cache instead of Asio 1.74's single recycled
// block (why: see there). Asio allocates them through this one function pair, for this one purpose; specialising it
// here, where every source of the bridge gets Asio from, keeps Asio's own recycling for its other purposes (handlers,
// executor functions). Written against Boost 1.74's signatures (Debian 12's): another Boost gets Asio's own recycling.
#if BOOST_VERSION == 107400 && !defined(BOOST_ASIO_DISABLE_AWAITABLE_FRAME_RECYCLING)
namespace boost::asio::detail {
template <>
inline void* thread_info_base::allocate(thread_info_base::awaitable_frame_tag, thread_info_base*, std::size_t size) {
  return lambda_bridge::frame_cache::allocate(size);
}
template <>
inline void thread_info_base::deallocate(thread_info_base::awaitable_frame_tag, thread_info_base*, void* pointer,
                                         std::size_t size) {
  lambda_bridge::frame_cache::deallocate(pointer, size);
}
}  // namespace boost::asio::detail
#endif

namespace lambda_bridge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
template <class T>
using awaitable = boost::asio::awaitable<T>;
using steady_time = std::chrono::steady_clock::time_point;

// Resolves a host once, at start-up. Numeric addresses and "localhost" never touch the resolver, so the static
// binary needs no NSS configuration in an empty image.
tcp::endpoint resolve_endpoint(const std::string& host, std::uint16_t port);

// An address as it stands in a Host header or before ":port": IPv6 in brackets ([::1]), IPv4 as it is.
std::string host_literal(const asio::ip::address& address);
// "127.0.0.1:8080", "[::1]:8080".
std::string to_string(const tcp::endpoint& endpoint);

// Makes the kernel acknowledge what arrives on `socket` as soon as it is read, until the bridge next writes on it.
// A peer that writes a message in pieces with Nagle's algorithm on (Python's http.server sends the head, then the
// body) holds each piece after the first until the one before is acknowledged, and Linux delays that ACK by 40 ms
// or more on a connection that looks interactive, which any request-then-reply connection does once we have
// written on it: 40 ms per message (issue 14). The peer's socket is not ours to change, and TCP_NODELAY on ours
// governs only what we send. Call it after each write, before reading the answer; or, as the app's connection does
// once its replies have come whole for a while, as soon as a read shows that more is to come: the call then sends
// the ACK the kernel is holding for what was read (backend_exchange::more_to_come). One setsockopt, errors ignored
// (the worst case is the delay this avoids).
void acknowledge_at_once(tcp::socket& socket);

// One non-blocking send of `buffers`; returns what the socket did not take, which the caller writes with
// asio::async_write when it is not empty (and `ec` is clear):
//   auto rest = write_at_once(socket, buffers, ec);
//   if (!ec && asio::buffer_size(rest) > 0) co_await asio::async_write(socket, rest, ...);
// A request or result of a few KB is nearly always taken whole, and an asynchronous write that completes at once
// still goes through the scheduler, which polls the reactor first (an epoll_wait with no timeout): a system call per
// write for nothing (issue 14). The socket must be in non-blocking mode (socket.non_blocking(true), set once on
// connecting). Not a coroutine, so that it costs no frame: each caller awaits the rest inline.
template <class Buffers>
beast::buffers_suffix<Buffers> write_at_once(tcp::socket& socket, const Buffers& buffers,
                                             boost::system::error_code& ec) {
  beast::buffers_suffix<Buffers> rest(buffers);
  const std::size_t took = socket.write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (!ec) rest.consume(took);
  return rest;
}

}  // namespace lambda_bridge
