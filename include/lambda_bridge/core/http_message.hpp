// The HTTP request the bridge sends to the app and the reply it gets back, as plain data. The translation core
// produces and consumes these; the backend client puts them on and takes them off the wire.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

namespace lambda_bridge {

struct header {
  std::string name;
  std::string value;
};

// The fields that describe one connection and its framing rather than the message (RFC 9110 §7.6.1, plus the framing
// fields): whoever sends a message frames it itself, so none is ever copied from an event into a request, from the
// app's reply into a result, or from a result into the local gateway's reply.
inline constexpr std::array<std::string_view, 8> framing_headers = {
    "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "trailer", "content-length"};

// Whether `name` is one of framing_headers (case-insensitive).
bool is_framing_header(std::string_view name);

// The first value of header `name` (case-insensitive), or "" when there is none.
std::string_view find_header(const std::vector<header>& headers, std::string_view name);

struct backend_request {
  std::string method;
  std::string target;  // origin-form: path and optional ?query, already safe for a request line
  std::vector<header> headers;
  // The body is `body` from `body_offset` on (payload()). A text body that was most of its event stays where it lay
  // in the event's buffer, after the event's head: moving it to the front was a pass over it (docs/performance.md,
  // "A body served where it lies"). Anything built by hand leaves the offset at 0.
  std::string body;
  std::size_t body_offset = 0;
  std::string_view payload() const { return std::string_view(body).substr(body_offset); }
  // The buffer, for use again elsewhere; the request is then bodiless.
  std::string take_body() {
    body_offset = 0;
    return std::move(body);
  }

  // Appends the request line and header block (ending in the blank line) to `out`. Every piece was validated by
  // the translation, so this only concatenates.
  void append_head(std::string& out) const;
};

struct backend_reply {
  int status = 0;
  std::string reason;
  std::vector<header> headers;  // as received, in order, names in their original case
  std::string body;
};

}  // namespace lambda_bridge
