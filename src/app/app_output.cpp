#include "lambda_bridge/app/app_output.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <poll.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/json_writer.hpp"

namespace lambda_bridge {
namespace {

// At most this much is read per turn of the event loop: an app that writes without pause still leaves the
// invocations their turn (the pipe is readable again at once, so the next turn comes straight after).
constexpr std::size_t max_read_per_turn = 1 << 20;
constexpr std::size_t read_piece = 64 * 1024;

enum class json_shape { other, object, object_with_request_id };

// Tells a JSON object from any other line, and whether it has a top-level "requestId" already. A SAX pass, no DOM,
// iterative so that a line of 100,000 '[' cannot exhaust the stack.
json_shape shape_of(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  // RapidJSON reads a NUL as the end of its input (see is_json in pass_through.cpp).
  if (first == std::string_view::npos || line[first] != '{' || line.find('\0') != std::string_view::npos) {
    return json_shape::other;
  }
  struct handler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, handler> {
    int depth = 0;
    bool has_id = false;
    bool StartObject() { return ++depth, true; }
    bool EndObject(rapidjson::SizeType) { return --depth, true; }
    bool StartArray() { return ++depth, true; }
    bool EndArray(rapidjson::SizeType) { return --depth, true; }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
      if (depth == 1 && std::string_view(s, n) == "requestId") has_id = true;
      return true;
    }
  } h;
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(line.data(), line.size());
  if (reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(ms, h).IsError()) {
    return json_shape::other;
  }
  return h.has_id ? json_shape::object_with_request_id : json_shape::object;
}

// The app's bytes need not be UTF-8; a JSON record must be.
void append_text_as_json(std::string& out, std::string_view s) {
  if (is_valid_utf8(s)) {
    append_json_string(out, s);
  } else {
    append_json_string_ascii(out, s);  // malformed sequences become U+FFFD
  }
}

// Writes all of `bytes` to `fd`. A descriptor someone else made non-blocking is waited on; one whose reader has
// gone (EPIPE: SIGPIPE is ignored) costs these lines, never the bridge.
void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else if (errno != EINTR) {
      return;
    }
  }
}

}  // namespace

void append_app_line(std::string& out, log_format format, std::string_view line, std::string_view request_id,
                     std::string_view timestamp) {
  const json_shape shape = request_id.empty() && format == log_format::text ? json_shape::other : shape_of(line);
  if (shape == json_shape::object && !request_id.empty()) {
    const std::size_t brace = line.find('{');
    const bool empty = line.find_first_not_of(" \t\r\n", brace + 1) == line.find('}', brace + 1);
    out.append(line.substr(0, brace + 1)).append("\"requestId\":");
    append_text_as_json(out, request_id);
    if (!empty) out.push_back(',');
    out.append(line.substr(brace + 1));
  } else if (shape != json_shape::other || format == log_format::text) {
    if (shape == json_shape::other && !request_id.empty()) out.append("[").append(request_id).append("] ");
    out.append(line);
  } else {
    // The keys of the bridge's own JSON lines (log.cpp). The level cannot be known: a stream says nothing about
    // severity (uvicorn writes its INFO lines to stderr).
    out.append("{\"timestamp\":\"").append(timestamp).append("\",\"level\":\"INFO\",");
    if (!request_id.empty()) {
      out.append("\"requestId\":");
      append_text_as_json(out, request_id);
      out.push_back(',');
    }
    out.append("\"message\":");
    append_text_as_json(out, line);
    out.push_back('}');
  }
  out.push_back('\n');
}

std::string timestamp_text(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, ms % 1000);
}

app_output::app_output(asio::io_context& io, log_format format, std::function<std::string_view()> request_id)
    : format_(format), request_id_(std::move(request_id)), out_(io, STDOUT_FILENO), err_(io, STDERR_FILENO) {}

app_output::~app_output() {
  for (stream* s : {&out_, &err_}) {
    if (s->write_end >= 0) ::close(s->write_end);
  }
}

bool app_output::open() {
  for (stream* s : {&out_, &err_}) {
    int fds[2];
    // Close-on-exec both: the app gets the write end as its 1 or 2 (dup2 clears the flag on the copy), and no
    // other child ever holds one. The read end is the bridge's alone, so making it non-blocking affects nobody.
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    s->pipe.assign(fds[0]);
    s->write_end = fds[1];
    s->open = true;
  }
  return true;
}

void app_output::started() {
  for (stream* s : {&out_, &err_}) {
    if (s->write_end >= 0) ::close(s->write_end);
    s->write_end = -1;
    if (s->open) wait(*s);
  }
}

void app_output::wait(stream& s) {
  s.pipe.async_wait(asio::posix::stream_descriptor::wait_read, [this, &s](const boost::system::error_code& ec) {
    if (ec || !s.open) return;
    if (take_in(s) != intake::ended) wait(s);
  });
}

app_output::intake app_output::take_in(stream& s) {
  // One id for everything read now: the invocation in flight when the app's bytes are taken in.
  const std::string_view id = request_id_();
  timestamp_.clear();
  read_buffer_.resize(read_piece);
  for (std::size_t taken = 0; taken < max_read_per_turn;) {
    const ssize_t n = ::read(s.pipe.native_handle(), read_buffer_.data(), read_buffer_.size());
    if (n > 0) {
      split(s, std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)), id);
      taken += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      flush(s);
      return intake::drained;
    }
    // The end of the pipe (every process holding the write end has exited), or an error that is as final.
    if (!s.partial.empty()) emit(s.partial, id);
    s.partial.clear();
    flush(s);
    end(s);
    return intake::ended;
  }
  flush(s);
  return intake::more;
}

void app_output::split(stream& s, std::string_view bytes, std::string_view request_id) {
  for (;;) {
    const auto* nl = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    if (nl == nullptr) break;
    const std::string_view line(bytes.data(), static_cast<std::size_t>(nl - bytes.data()));
    bytes.remove_prefix(line.size() + 1);
    if (s.partial.empty()) {
      emit(line, request_id);
    } else {
      s.partial.append(line);
      cut_long_line(s, request_id);
      emit(s.partial, request_id);
      s.partial.clear();
    }
    // Written as it goes past a bound: one read of a flood holds a megabyte, never the whole of it.
    if (formatted_.size() >= max_read_per_turn) flush(s);
  }
  s.partial.append(bytes);
  cut_long_line(s, request_id);
}

void app_output::cut_long_line(stream& s, std::string_view request_id) {
  while (s.partial.size() > max_app_line_bytes) {
    // Cut where a UTF-8 sequence starts, so that each piece stays valid text.
    std::size_t cut = max_app_line_bytes;
    for (int back = 0; back < 3 && (static_cast<unsigned char>(s.partial[cut]) & 0xC0) == 0x80; ++back) --cut;
    std::string piece = s.partial.substr(0, cut);
    piece.append(split_marker);
    emit(piece, request_id);
    s.partial.erase(0, cut);
    flush(s);
  }
}

void app_output::emit(std::string_view line, std::string_view request_id) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF line ends
  // Read once per read, and only when a JSON record needs it: most drains find nothing to write.
  if (format_ == log_format::json && timestamp_.empty()) {
    timestamp_ = timestamp_text(std::chrono::system_clock::now());
  }
  append_app_line(formatted_, format_, line, request_id, timestamp_);
}

void app_output::flush(stream& s) {
  write_all(s.target_fd, formatted_);
  formatted_.clear();
  // A flood's megabyte is not kept for the life of the process.
  if (formatted_.capacity() > 2 * max_read_per_turn) std::string().swap(formatted_);
}

void app_output::end(stream& s) {
  s.open = false;
  boost::system::error_code ignored;
  s.pipe.close(ignored);
}

void app_output::drain() {
  for (stream* s : {&out_, &err_}) {
    if (s->open) take_in(*s);  // at its end the pipe is closed, and its reader with it
  }
}

void app_output::finish() {
  for (stream* s : {&out_, &err_}) {
    // The app has been stopped: what it wrote is in the pipe. A process that left its group may still hold the
    // write end and write on; a bounded number of turns, then whatever line is unfinished goes out as it is.
    for (int turn = 0; turn < 16 && s->open && take_in(*s) == intake::more;) ++turn;
    if (!s->open) continue;
    if (!s->partial.empty()) emit(s->partial, request_id_());
    s->partial.clear();
    flush(*s);
    end(*s);
  }
}

}  // namespace lambda_bridge
