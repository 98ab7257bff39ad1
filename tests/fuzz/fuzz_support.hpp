// Shared by the libFuzzer targets: an invariant check that aborts (so libFuzzer records the input as a crash),
// the known error types, a byte-level HTTP/1.1 response parser over a buffer (no sockets), and the wire checks
// every request the translation produces must pass. The checks are written here from RFC 9110 on purpose, not
// taken from lambda_bridge::uri: a fuzzer that trusts the code under test proves nothing about it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/util/asio.hpp"

namespace fuzz {

[[noreturn]] inline void violated(const char* what, const char* file, int line, std::string_view detail) {
  std::fprintf(stderr, "\n==fuzz invariant violated: %s (%s:%d)\n", what, file, line);
  if (!detail.empty()) {
    std::fprintf(stderr, "  detail: %.*s\n", static_cast<int>(std::min<std::size_t>(detail.size(), 2000)),
                 detail.data());
  }
  std::abort();
}

#define FUZZ_CHECK(cond, detail) \
  do {                             \
    if (!(cond)) ::fuzz::violated(#cond, __FILE__, __LINE__, (detail)); \
  } while (0)

inline bool is_known_error_type(std::string_view t) {
  namespace e = lambda_bridge::error_types;
  for (auto k : {e::invalid_event, e::unsupported_event, e::event_too_large, e::backend_unreachable, e::backend_timeout,
                 e::backend_invalid_response, e::response_too_large, e::error_status, e::invalid_config, e::app_exited,
                 e::internal_error, e::backend_not_ready, e::stream_error, e::invalid_stream_prelude, e::bridge_stopped}) {
    if (t == k) return true;
  }
  return false;
}

inline void check_failure(const lambda_bridge::failure& f) {
  FUZZ_CHECK(is_known_error_type(f.type), f.type);
  FUZZ_CHECK(!f.message.empty(), f.type);
}

// RFC 9110 tchar.
inline bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

inline bool has_cr_lf_nul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

// The request as it goes to the app: a token method, an origin-form target of visible ASCII, token header names,
// field values without CR/LF/NUL, and a head whose only line breaks are the CRLFs that end its lines.
inline void check_request(const lambda_bridge::backend_request& r) {
  FUZZ_CHECK(is_token(r.method), r.method);
  FUZZ_CHECK(!r.target.empty() && r.target.front() == '/', r.target);
  for (unsigned char c : r.target) FUZZ_CHECK(c > 0x20 && c < 0x7f, r.target);  // no space, CR, LF, NUL, DEL, 8-bit
  std::size_t content_lengths = 0;
  for (const auto& h : r.headers) {
    FUZZ_CHECK(is_token(h.name), h.name);
    FUZZ_CHECK(!has_cr_lf_nul(h.value), h.name + ": " + h.value);
    std::string lower;
    for (char c : h.name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    FUZZ_CHECK(lower != "transfer-encoding", h.value);  // the body is always framed by Content-Length
    if (lower == "content-length") {
      ++content_lengths;
      FUZZ_CHECK(h.value == std::to_string(r.payload().size()), h.value);
    }
  }
  FUZZ_CHECK(content_lengths == 1, r.target);

  std::string head;
  r.append_head(head);
  std::size_t crlf = 0;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n') FUZZ_CHECK(i > 0 && head[i - 1] == '\r', head);
    if (head[i] == '\r') {
      FUZZ_CHECK(i + 1 < head.size() && head[i + 1] == '\n', head);
      ++crlf;
    }
    FUZZ_CHECK(head[i] != '\0', head);
  }
  // The request line, one line per header, the blank line: nothing else on the wire before the body.
  FUZZ_CHECK(crlf == r.headers.size() + 2, head);
  FUZZ_CHECK(head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0, head);
}

// A JSON document Lambda accepts as a result: valid UTF-8, no raw control bytes (JSON escapes them all; a raw NUL
// would also end RapidJSON's parse early and hide what follows), one value and nothing after it.
inline rapidjson::Document check_json(std::string_view text) {
  for (unsigned char c : text) FUZZ_CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r', text);
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  FUZZ_CHECK(!d.HasParseError(), std::string(rapidjson::GetParseError_En(d.GetParseError())) + " in " + std::string(text));
  return d;
}

// Parses an HTTP/1.1 response from `bytes` as a connection would deliver it; fills `parser` and returns whether
// a complete message (or, with `header_only`, a complete header) was read. Interim 1xx replies are not skipped.
//
// The header is parsed on its own first, as the bridge reads it (async_read_header), and only then the body
// eagerly: Boost 1.74's parser, when eager from the start, drops the body_limit error of a too-large
// Content-Length and goes on to size the body for it (see docs/fuzzing.md).
template <class Parser>
bool parse_response(std::string_view bytes, Parser& parser, bool header_only) {
  namespace asio = lambda_bridge::asio;
  namespace http = lambda_bridge::http;
  boost::system::error_code ec;
  while (!parser.is_done()) {
    if (parser.is_header_done()) {
      if (header_only) return true;
      parser.eager(true);
    }
    const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (ec == http::error::need_more) {
      if (!bytes.empty() && used != 0) continue;
      // The connection ends here: a body delimited by the close is complete, anything else is cut short.
      ec = {};
      parser.put_eof(ec);
      return !ec && (parser.is_done() || (header_only && parser.is_header_done()));
    }
    if (ec) return false;
    if (used == 0 && !parser.is_done()) {
      if (bytes.empty()) {
        parser.put_eof(ec);
        return !ec && parser.is_done();
      }
      return false;
    }
  }
  return true;
}

}  // namespace fuzz
