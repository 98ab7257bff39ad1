#include "lambda_bridge/util/asio.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace lambda_bridge {

tcp::endpoint resolve_endpoint(const std::string& host, std::uint16_t port) {
  if (host == "localhost") return {asio::ip::address_v4::loopback(), port};
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (!ec) return {addr, port};
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port));  // throws with the resolver's reason
  return *results.begin();
}

std::string host_literal(const asio::ip::address& address) {
  if (!address.is_v6()) return address.to_string();
  std::string out = "[";  // by append: "[" + std::string trips GCC 12's false -Wrestrict (PR 105329)
  out.append(address.to_string()).push_back(']');
  return out;
}

std::string to_string(const tcp::endpoint& endpoint) {
  return host_literal(endpoint.address()) + ":" + std::to_string(endpoint.port());
}

void acknowledge_at_once(tcp::socket& socket) {
  const int on = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
}

}  // namespace lambda_bridge
