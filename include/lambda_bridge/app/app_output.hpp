// The app's own output with the request id (LAMBDA_BRIDGE_APP_LOG=tag), as Lambda's managed runtimes write it: the
// supervisor starts the app with its stdout and stderr on pipes, and this reads them on the bridge's io_context
// and writes every line out again — the app's stdout to the bridge's stdout, its stderr to the bridge's stderr —
// with the id of the invocation in flight when there is exactly one (with none or several the line cannot be
// placed, and goes out without one). The bridge owns it; the worker loop names the invocation in flight; each
// invocation drains the pipes just before its outcome is posted, so that what the app wrote while serving it is
// not read after it has ended and given no id, or the next one's.
//
// Lines are never lost, merged or reordered within a stream: the pipes are read as they become readable (never
// blocking the invocations), each read's complete lines are written out in one write, a line longer than
// max_app_line_bytes goes out in pieces that each end in split_marker, and a last line without its newline goes
// out when the app's end of the pipe closes (or the bridge exits). The writes themselves block, as the bridge's
// own log lines do: a stdout nobody reads slows the bridge and, through the full pipe, the app, as it would
// without the bridge.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "lambda_bridge/util/asio.hpp"
#include "lambda_bridge/util/log_options.hpp"

namespace lambda_bridge {

// Longer lines are written in pieces of this size, each but the last ending in split_marker.
inline constexpr std::size_t max_app_line_bytes = 256 * 1024;
inline constexpr std::string_view split_marker = " [lambda-bridge: line split, continued on the next line]";

// Appends one line of the app's output (without its newline) to `out` as the log format wants it, newline
// included: in text `[request-id] line`; in JSON the record {"timestamp","level":"INFO","requestId","message"}
// that the bridge's own lines also have; in either format a line that is a JSON object keeps its shape and gets
// "requestId" added (when it has none), so CloudWatch still reads its fields. Without a request id a text line
// goes out as it came. `timestamp` is the JSON records' (timestamp_text).
void append_app_line(std::string& out, log_format format, std::string_view line, std::string_view request_id,
                     std::string_view timestamp);

// The time as JSON log records write it, in UTC to the millisecond: 2026-11-23T10:24:28.311Z.
std::string timestamp_text(std::chrono::system_clock::time_point t);

class app_output {
 public:
  // `request_id` names the invocation to tag the app's lines with, or "" when there is none to name.
  app_output(asio::io_context& io, log_format format, std::function<std::string_view()> request_id);
  ~app_output();
  app_output(const app_output&) = delete;
  app_output& operator=(const app_output&) = delete;

  // Makes the two pipes; false (errno set) when the process cannot have more descriptors.
  bool open();
  // The pipes' write ends, for the app's stdout and stderr (the supervisor's posix_spawn makes them its 1 and 2).
  int app_stdout() const { return out_.write_end; }
  int app_stderr() const { return err_.write_end; }
  // After the app has started: closes the bridge's copies of the write ends (so that the app's exit is the end of
  // the pipes) and starts reading.
  void started();
  // Reads, without waiting, what the app has written so far and writes it out: before an invocation's outcome is
  // posted, while the id still names it.
  void drain();
  // When the bridge exits: the rest, and a last line without its newline, written out; the pipes closed.
  void finish();

 private:
  struct stream {
    stream(asio::io_context& io, int target) : pipe(io), target_fd(target) {}
    asio::posix::stream_descriptor pipe;
    int write_end = -1;
    int target_fd;        // the bridge's own stdout or stderr
    std::string partial;  // the start of a line whose newline has not come yet
    bool open = false;
  };

  // What a take_in() left: more to read (it stopped at its bound), nothing for now, or the end of the pipe.
  enum class intake { more, drained, ended };

  void wait(stream& s);
  // Reads what is there, up to a bound, so that an app writing without pause still lets the invocations run.
  intake take_in(stream& s);
  void split(stream& s, std::string_view bytes, std::string_view request_id);
  // Writes out the pieces of a line grown past max_app_line_bytes, leaving its rest in `partial`.
  void cut_long_line(stream& s, std::string_view request_id);
  void emit(std::string_view line, std::string_view request_id);
  void flush(stream& s);
  void end(stream& s);

  log_format format_;
  std::function<std::string_view()> request_id_;
  stream out_, err_;
  std::string read_buffer_;
  std::string formatted_;  // the complete lines of one read, as they are written out
  std::string timestamp_;  // of the read being written out (JSON only; "" until a line needs it)
};

}  // namespace lambda_bridge
