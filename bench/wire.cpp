#include "wire.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cctype>

#include "process.hpp"

namespace bench {

namespace {

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool write_all(int fd, std::vector<iovec> iov) {
  size_t i = 0;
  while (i < iov.size()) {
    const ssize_t w = ::writev(fd, iov.data() + i, int(std::min<size_t>(iov.size() - i, 64)));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    size_t left = size_t(w);
    while (i < iov.size() && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (i < iov.size()) {
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return true;
}


}  // namespace

int listen_socket(bool listen_now, int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Fixed buffers for the bench's side of every connection (accepted ones inherit them): left to the kernel's
  // autotuning, each connection settled on its own, so a child's 512 KB events took 205 µs in one run and 280 in the
  // next, and the two children drew independently (the same binary in both places: 202 against 285 µs). 4 MB is this
  // machine's wmem_max and rmem_max; a smaller cap elsewhere only lowers it, for both children alike
  // (docs/performance.md, "The bench's socket buffers").
  const int buffer_bytes = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind 127.0.0.1:0");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  if (listen_now && ::listen(fd, 128) != 0) fail("listen");
  return fd;
}

bool write_str(int fd, std::string_view a, std::string_view b) {
  return write_all(fd, {iovec{const_cast<char*>(a.data()), a.size()}, iovec{const_cast<char*>(b.data()), b.size()}});
}

bool peer_closed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = char(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::optional<std::string> http_head::header(std::string_view name) const {
  const std::string want = lower(name);
  size_t pos = raw.find("\r\n");
  while (pos != std::string::npos && pos + 2 < raw.size()) {
    const size_t start = pos + 2, end = raw.find("\r\n", start);
    if (end == std::string::npos || end == start) break;
    const std::string_view line(raw.data() + start, end - start);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && lower(line.substr(0, colon)) == want) {
      auto v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = end;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------------
// server

server::server(handler h, bool listen_now) : handler_(std::move(h)) {
  fd_ = listen_socket(listen_now, port_);
  if (listen_now) start_accepting();
}

int64_t server::listen_now() {
  const int64_t t = now_ns();
  if (::listen(fd_, 128) != 0) fail("listen");
  start_accepting();
  return t;
}

void server::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lk(m_);
    for (int fd : live_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  ::close(fd_);
}

void server::start_accepting() {
  acceptor_ = std::thread([this] {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      set_nodelay(c);
      std::lock_guard lk(m_);
      live_.insert(c);
      threads_.emplace_back([this, c] {
        handler_(c);
        std::lock_guard lk2(m_);
        live_.erase(c);
        ::close(c);
      });
    }
  });
}

}  // namespace bench
