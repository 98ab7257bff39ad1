// A pipe through which a streamed body goes from the app's socket to the Runtime API's without passing through the
// bridge's memory: splice(2) moves the socket's received pages into the pipe and from the pipe into the other
// socket, where read() and write() would copy every byte out of the kernel and back in (issue 14: a 100 MB stream
// cost the bridge about as much CPU as the null forwarder's two copies, on a machine where the app and Lambda's
// reader want the same two cores). Linux only, as the bridge is.
//
// The bytes are in the kernel between the two moves, so the caller knows how many the pipe holds (held()) before
// it writes the chunk-size line that announces them: a piece is moved in whole, then out whole.
#pragma once

#include <cstddef>

#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

class splice_pipe {
 public:
  // A pipe of `capacity` bytes (F_SETPIPE_SZ; where the kernel refuses that size, its default, 64 KB). If no pipe
  // can be made (no descriptors left) the object is not valid() and the caller copies as before.
  explicit splice_pipe(std::size_t capacity);
  ~splice_pipe();
  splice_pipe(const splice_pipe&) = delete;
  splice_pipe& operator=(const splice_pipe&) = delete;

  // False when no pipe could be made, or once the kernel refused to splice (fill_from's operation_not_supported).
  bool valid() const { return read_fd_ >= 0 && !unsupported_; }
  // valid(), after trying once more to make a pipe that could not be made (descriptors run out, then come back); a
  // kernel that refused to splice is not asked again.
  bool ready();
  // Bytes moved in and not yet out.
  std::size_t held() const { return held_; }

  // Moves what has arrived on `from`, up to `max` bytes and at most what the pipe has room for, waiting until
  // something has: the bytes moved, or 0 with `ec` set (asio::error::eof when the peer closed the connection;
  // asio::error::operation_not_supported, with nothing moved, when the kernel cannot splice from it).
  awaitable<std::size_t> fill_from(tcp::socket& from, std::size_t max, boost::system::error_code& ec);
  // Moves all the pipe holds into `to`, waiting while its send buffer is full; sets `ec` on failure.
  awaitable<void> drain_to(tcp::socket& to, boost::system::error_code& ec);
  // Empties the pipe (by making a new one) after a transfer failed half way, so the next piece starts clean.
  void discard();

 private:
  void open();
  void close();

  int read_fd_ = -1, write_fd_ = -1;
  std::size_t wanted_;
  std::size_t capacity_ = 0;
  std::size_t held_ = 0;
  bool unsupported_ = false;
};

}  // namespace lambda_bridge
