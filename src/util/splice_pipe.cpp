#include "lambda_bridge/util/splice_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace lambda_bridge {

namespace {

boost::system::error_code last_error() { return {errno, boost::system::system_category()}; }

}  // namespace

splice_pipe::splice_pipe(std::size_t capacity) : wanted_(capacity) { open(); }

splice_pipe::~splice_pipe() { close(); }

void splice_pipe::open() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;  // not valid(): the caller copies
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  // Sizes are rounded up to a power of two pages; an unprivileged process may go up to fs.pipe-max-size (1 MB by
  // default). Refused, the pipe keeps the kernel's default: smaller pieces, still no copies.
  const int got = ::fcntl(write_fd_, F_SETPIPE_SZ, static_cast<int>(wanted_));
  capacity_ = static_cast<std::size_t>(got > 0 ? got : ::fcntl(write_fd_, F_GETPIPE_SZ));
  held_ = 0;
}

void splice_pipe::close() {
  if (read_fd_ >= 0) ::close(read_fd_);
  if (write_fd_ >= 0) ::close(write_fd_);
  read_fd_ = write_fd_ = -1;
  capacity_ = held_ = 0;
}

bool splice_pipe::ready() {
  if (read_fd_ < 0 && !unsupported_) open();
  return valid();
}

void splice_pipe::discard() {
  close();
  open();
}

awaitable<std::size_t> splice_pipe::fill_from(tcp::socket& from, std::size_t max, boost::system::error_code& ec) {
  // Only into an empty pipe: a pipe's room is counted in pages, not bytes, so a partly full one could refuse with
  // EAGAIN while the socket is readable, and the wait below would spin. Every caller drains a piece before the
  // next.
  if (held_ > 0) discard();
  const std::size_t want = std::min(max, capacity_);
  for (;;) {
    const ssize_t moved =
        ::splice(from.native_handle(), nullptr, write_fd_, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (moved > 0) {
      held_ = static_cast<std::size_t>(moved);
      co_return held_;
    }
    if (moved == 0) {
      ec = asio::error::eof;
      co_return std::size_t{0};
    }
    if (errno == EINTR) continue;
    if (errno == EINVAL || errno == ENOSYS || errno == EPERM || errno == EOPNOTSUPP) {
      // A kernel or sandbox that cannot splice these sockets (a filter refusing the call, an emulated kernel):
      // nothing has moved, and the caller copies from now on.
      unsupported_ = true;
      ec = asio::error::operation_not_supported;
      co_return std::size_t{0};
    }
    if (errno != EAGAIN) {
      ec = last_error();
      co_return std::size_t{0};
    }
    // Nothing has arrived yet (the socket is non-blocking): wait for it. A deadline closes the socket, which ends
    // this wait with an error.
    co_await from.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::size_t{0};
  }
}

awaitable<void> splice_pipe::drain_to(tcp::socket& to, boost::system::error_code& ec) {
  while (held_ > 0) {
    const ssize_t moved =
        ::splice(read_fd_, nullptr, to.native_handle(), nullptr, held_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (moved > 0) {
      held_ -= static_cast<std::size_t>(moved);
      continue;
    }
    if (moved < 0 && errno == EINTR) continue;
    if (moved < 0 && errno != EAGAIN) {
      ec = last_error();  // EPIPE, ECONNRESET: SIGPIPE is ignored (main.cpp)
      co_return;
    }
    if (moved == 0) {  // a pipe that claims bytes and gives none: never seen, but it must not spin
      ec = asio::error::broken_pipe;
      co_return;
    }
    co_await to.async_wait(tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace lambda_bridge
