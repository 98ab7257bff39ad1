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

}  // namespace lambda_bridge
