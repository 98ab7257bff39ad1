// Sockets and HTTP/1.1 framing, only what the two peers need (Content-Length and chunked bodies), and the loopback
// server that carries both.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {

// A TCP socket bound to 127.0.0.1 on a port the kernel picks (returned in `port`), listening if `listen_now`.
int listen_socket(bool listen_now, int& port);
bool write_str(int fd, std::string_view a, std::string_view b = {});

// True when the peer has closed (or reset) a connection we are holding open without reading.
bool peer_closed(int fd);

std::string lower(std::string_view s);

struct http_head {
  std::string raw;
  std::string method, target;  // requests
  std::optional<uint64_t> content_length;
  bool chunked = false;

  std::optional<std::string> header(std::string_view name) const;
};

// One connection's receive side: a buffer kept across messages.
class reader {
 public:
  explicit reader(int fd) : fd_(fd), buf_(256 * 1024) {}

  bool read_head(http_head& h) {
    for (;;) {
      const std::string_view v(buf_.data() + pos_, end_ - pos_);
      const auto k = v.find("\r\n\r\n");
      if (k != std::string_view::npos) {
        h = http_head{};
        h.raw.assign(v.substr(0, k + 4));
        pos_ += k + 4;
        const auto sp1 = h.raw.find(' '), sp2 = h.raw.find(' ', sp1 + 1);
        if (sp1 != std::string::npos && sp2 != std::string::npos) {
          h.method = h.raw.substr(0, sp1);
          h.target = h.raw.substr(sp1 + 1, sp2 - sp1 - 1);
        }
        if (auto cl = h.header("content-length")) h.content_length = std::stoull(*cl);
        if (auto te = h.header("transfer-encoding")) h.chunked = lower(*te).find("chunked") != std::string::npos;
        return true;
      }
      if (end_ - pos_ > 1024 * 1024) return false;
      if (!fill()) return false;
    }
  }

  // The body of a message whose head was just read; the first `keep` bytes are appended to `kept`.
  bool read_body(const http_head& h, uint64_t& total, std::string* kept, size_t keep) {
    total = 0;
    if (!h.chunked) return read_exact(h.content_length.value_or(0), total, kept, keep);
    for (;;) {
      std::string line;
      if (!read_line(line)) return false;
      const uint64_t size = std::strtoull(line.c_str(), nullptr, 16);
      if (size == 0) {
        for (;;) {  // trailers, up to the empty line
          if (!read_line(line)) return false;
          if (line.empty()) return true;
        }
      }
      if (!read_exact(size, total, kept, keep)) return false;
      if (!read_line(line) || !line.empty()) return false;
    }
  }

 private:
  bool fill() {
    if (pos_ == end_) pos_ = end_ = 0;
    if (end_ == buf_.size()) {
      if (pos_ > 0) {
        std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
        end_ -= pos_;
        pos_ = 0;
      } else {
        buf_.resize(buf_.size() * 2);
      }
    }
    for (;;) {
      const ssize_t n = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      end_ += size_t(n);
      return true;
    }
  }

  bool read_line(std::string& line) {
    for (;;) {
      const std::string_view v(buf_.data() + pos_, end_ - pos_);
      const auto k = v.find("\r\n");
      if (k != std::string_view::npos) {
        line.assign(v.substr(0, k));
        pos_ += k + 2;
        return true;
      }
      if (!fill()) return false;
    }
  }

  bool read_exact(uint64_t n, uint64_t& total, std::string* kept, size_t keep) {
    while (n > 0) {
      if (pos_ == end_ && !fill()) return false;
      const size_t take = size_t(std::min<uint64_t>(n, end_ - pos_));
      if (kept && kept->size() < keep) kept->append(buf_.data() + pos_, std::min(take, keep - kept->size()));
      pos_ += take;
      n -= take;
      total += take;
    }
    return true;
  }

  int fd_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
};

// A TCP server on 127.0.0.1 with a thread per connection; stop() cuts every connection and joins every thread.
class server {
 public:
  using handler = std::function<void(int fd)>;

  server(handler h, bool listen_now = true);
  ~server() { stop(); }

  int port() const { return port_; }

  // For the readiness scenario: bound since construction (connections refused), listening from now on.
  int64_t listen_now();

  void stop();

 private:
  void start_accepting();

  handler handler_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex m_;
  std::set<int> live_;
  std::vector<std::thread> threads_;
};

}  // namespace bench
