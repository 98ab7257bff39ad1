// The local emulator's side of response streaming (runtime-api.md §2, §5): a streamed result travels from the
// runtime's chunked POST to the invoker through a stream_pipe, one piece at a time, and is relayed live —
//   - as the HTTP reply a Function URL client would see (status, headers and cookies from the prelude, then the
//     body) on the plain invoke path and the gateway emulation;
//   - as the AWS event stream InvokeWithResponseStream returns (PayloadChunk … InvokeComplete) on
//     POST /2021-11-15/functions/function/response-streaming-invocations, so AWS SDKs can read it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/local/http_server.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace lambda_bridge {

// One producer, one consumer. push() returns only once the consumer has taken the piece, so memory stays at one
// piece whatever the size, and a slow caller slows the function rather than filling the emulator.
class stream_pipe {
 public:
  explicit stream_pipe(asio::any_io_executor ex);

  std::string content_type;  // of the runtime's streamed response

  // Producer. push() is false once the consumer is gone (the rest can be drained and dropped).
  awaitable<bool> push(std::string_view piece);
  // The end; `error_type` set when the function reported a failure (the trailers), with its error body.
  void finish(std::optional<std::string> error_type = std::nullopt, std::string error_body = {});

  // Consumer. pull() is false at the end, when error_type()/error_body() tell how it ended.
  awaitable<bool> pull(std::string& piece);
  void abandon();
  const std::optional<std::string>& error_type() const { return error_type_; }
  const std::string& error_body() const { return error_body_; }

 private:
  asio::steady_timer piece_ready_;
  asio::steady_timer piece_taken_;
  std::string piece_;
  bool has_piece_ = false;
  bool ended_ = false;
  bool abandoned_ = false;
  std::optional<std::string> error_type_;
  std::string error_body_;
};

// The HTTP response a streamed result's prelude describes.
struct stream_prelude {
  int status = 200;
  std::vector<header> headers;  // cookies as Set-Cookie lines
};

// Parses the JSON prelude ({"statusCode", "headers", "multiValueHeaders", "cookies"}); every header must be safe to
// put on the wire. Pure, for tests.
result<stream_prelude> parse_stream_prelude(std::string_view json);

// Appends one message of the AWS event stream encoding (prelude with CRC, string headers :event-type,
// :content-type and :message-type=event, payload, message CRC). Pure, for tests.
void append_event_stream_message(std::string& out, std::string_view event_type, std::string_view content_type,
                                 std::string_view payload);

// Relays a streamed result as the HTTP reply of its prelude (or, without the HTTP-integration content type, as
// 200 with the raw bytes). A failure after the head is sent closes the connection without the last chunk, as a
// Function URL does; before, it is answered 502. `invoke_api`: the reply also says which version ran.
awaitable<void> relay_http_stream(stream_pipe& pipe, http_connection& conn, std::string_view request_id,
                                  bool invoke_api);

// Relays a result (streamed or not) as an InvokeWithResponseStream event stream.
awaitable<void> relay_event_stream(stream_pipe* pipe, bool function_error, std::string_view buffered_body,
                                   http_connection& conn);

}  // namespace lambda_bridge
