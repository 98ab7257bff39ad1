#include "lambda_bridge/core/response.hpp"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "events/result_writer.hpp"
#include "events/sources.hpp"
#include "lambda_bridge/core/compression.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/buffer.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge {
namespace {

// Replaces the body with its gzip or br encoding when the client accepts one and the body is worth it; the result
// then goes out base64 (Content-Encoding makes it binary).
void compress_reply(const response_shape& shape, backend_reply& reply) {
  if (reply.body.size() < min_compressible_bytes) return;
  const content_coding coding = reply_coding(shape, reply.headers);
  if (coding == content_coding::identity) return;
  std::string compressed;
  if (!compress(coding, reply.body, compressed) || !worth_compressing(reply.body.size(), compressed.size())) return;
  use_compressed(reply, coding, compressed);
}

std::string too_large_message(std::size_t size, std::size_t limit) {
  return "the result is " + std::to_string(size) + " bytes, over Lambda's limit of " + std::to_string(limit) +
         " bytes for a buffered response";
}

maybe_failure check_result_size(std::size_t size, std::size_t limit) {
  if (size <= limit) return std::nullopt;
  return failure{error_types::response_too_large, too_large_message(size, limit)};
}

// Function.ErrorStatus, with the body (its first 64 KB) in the message.
failure error_status_failure(const backend_reply& reply) {
  constexpr std::size_t max_quoted = 64 * 1024;
  std::string message = "the app answered HTTP " + std::to_string(reply.status) +
                        ", a status listed in AWS_LWA_ERROR_STATUS_CODES; body: ";
  std::string scratch;
  message.append(events::utf8_or_latin1(std::string_view(reply.body).substr(0, max_quoted), scratch));
  if (reply.body.size() > max_quoted) message.append("… (truncated)");
  return failure{error_types::error_status, std::move(message)};
}

}  // namespace

content_coding reply_coding(const response_shape& shape, const std::vector<header>& reply_headers) {
  if (shape.head) return content_coding::identity;
  const content_coding coding = choose_coding(shape.accept_encoding);
  if (coding == content_coding::identity) return coding;
  const bool worth_it =
      is_compressible_type(find_header(reply_headers, "content-type"), find_header(reply_headers, "content-encoding"));
  return worth_it ? coding : content_coding::identity;
}

bool worth_compressing(std::size_t original_size, std::size_t compressed_size) {
  return original_size >= min_compressible_bytes && compressed_size < original_size;
}

void use_compressed(backend_reply& reply, content_coding coding, std::string& compressed) {
  reply.body.swap(compressed);
  reply.headers.push_back({"Content-Encoding", std::string(to_string(coding))});
  reply.headers.push_back({"Vary", "Accept-Encoding"});
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII fast path, 64, 16 or 8 bytes at a time (a reply body is checked whole before it goes out as text, and
    // most of a large one is ASCII: 64 bytes per step took it from 0.58 to about 0.2 instructions a byte).
#if defined(__SSE2__)
    if (end - p >= 64) {
      const auto* v = reinterpret_cast<const __m128i*>(p);
      const __m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                                       _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
      if (_mm_movemask_epi8(any) == 0) {
        p += 64;
        continue;
      }
    }
    if (end - p >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      if (_mm_movemask_epi8(x) == 0) {
        p += 16;
        continue;
      }
    }
#endif
    if (end - p >= 8) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      if ((chunk & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const std::size_t n = text::utf8_sequence_length(p, static_cast<std::size_t>(end - p));
    if (n == 0) return false;
    p += n;
  }
  return true;
}

bool is_text_type(std::string_view content_type, std::string_view content_encoding) {
  content_encoding = text::trim(content_encoding);
  if (!content_encoding.empty() && !text::iequals(content_encoding, "identity")) return false;
  std::string_view media = text::trim(content_type.substr(0, content_type.find(';')));
  if (media.empty()) return true;
  static constexpr std::string_view text_types[] = {
      "application/json", "application/javascript", "application/xml", "application/yaml",
      "application/x-www-form-urlencoded", "application/graphql"};
  bool text = text::starts_with_ci(media, "text/") || text::ends_with_ci(media, "+json") ||
              text::ends_with_ci(media, "+xml") || text::ends_with_ci(media, "+yaml");
  for (auto t : text_types) text = text || text::iequals(media, t);
  return text;
}

bool is_text_body(std::string_view content_type, std::string_view content_encoding, std::string_view body) {
  return is_text_type(content_type, content_encoding) && is_valid_utf8(body);
}

// Beast's obsolete_reason table (Boost 1.74), here so that the core needs no Beast; a unit test compares the two
// for every code.
std::string_view reason_phrase(int status) {
  switch (status) {
    // clang-format off
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 444: return "Connection Closed Without Response";
    case 451: return "Unavailable For Legal Reasons";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    case 599: return "Network Connect Timeout Error";
    // clang-format on
    default:
      return {};
  }
}

bool begin_result(const response_shape& shape, const backend_reply& head, std::string& out,
                  const response_options& opts) {
  out.clear();
  if (opts.error_status_codes != nullptr && opts.error_status_codes->contains(head.status)) return false;
  const auto& rules = events::rules_for(shape.source);
  if (rules.write_result == nullptr || opts.compression) return false;
  // Every source writes the body last (result_writer.hpp, write_body): the result is written with an empty text body,
  // whose value and what follows it are then cut off for the body to take their place.
  json_writer w(out);
  w.begin_object();
  w.key("statusCode").integer(head.status);
  rules.write_result(w, shape, head, true);
  w.end_object();
  constexpr std::string_view empty_tail = R"("body":"","isBase64Encoded":false})";
  if (!out.ends_with(empty_tail)) {  // a source that broke the rule; unit tests hold every source to it
    out.clear();
    return false;
  }
  out.resize(out.size() - empty_tail.size() + std::string_view(R"("body":")").size());
  return true;
}

maybe_failure finish_result(const backend_reply& head, std::string& out, std::size_t body_start,
                            const response_options& opts) {
  const std::size_t n = out.size() - body_start;
  const std::string_view body(out.data() + body_start, n);
  // Text when the media type says so and the bytes are UTF-8 (one pass finds both that and what escaping adds);
  // otherwise base64. Either way the body is converted where it lies.
  std::optional<std::size_t> growth;
  if (is_text_type(find_header(head.headers, "content-type"), find_header(head.headers, "content-encoding"))) {
    growth = json_escape_growth(body);
  }
  const bool text = growth.has_value();
  // Refused before the body is converted: a result that cannot be sent is not worth the memory.
  const std::size_t body_bytes = text ? n + *growth : base64::encoded_size(n);
  if (body_bytes > opts.max_result_bytes) {
    out.clear();
    return failure{error_types::response_too_large,
                   too_large_message(body_bytes, opts.max_result_bytes) + " (body alone, before headers)"};
  }
  constexpr std::string_view text_tail = R"(","isBase64Encoded":false})";
  constexpr std::string_view binary_tail = R"(","isBase64Encoded":true})";
  const std::string_view tail = text ? text_tail : binary_tail;
  resize_uninitialized(out, body_start + body_bytes + tail.size());  // every added byte is written next
  if (text) {
    if (*growth > 0) escape_json_in_place(out.data() + body_start, n, *growth);
  } else {
    base64::encode_in_place(out.data() + body_start, n);
  }
  std::memcpy(out.data() + body_start + body_bytes, tail.data(), tail.size());
  if (auto failed = check_result_size(out.size(), opts.max_result_bytes)) {
    out.clear();
    return failed;
  }
  return std::nullopt;
}

maybe_failure convert_reply(const response_shape& shape, backend_reply& reply, std::string& out,
                            const response_options& opts) {
  out.clear();
  if (opts.error_status_codes != nullptr && opts.error_status_codes->contains(reply.status)) {
    return error_status_failure(reply);
  }
  if (events::rules_for(shape.source).write_result == nullptr) {
    if (auto failed = events::write_pass_through_result(reply, out)) return failed;
    return check_result_size(out.size(), opts.max_result_bytes);
  }
  if (opts.compression) compress_reply(shape, reply);
  // The same two steps as a body read straight into the result (invocation.cpp), the body copied in between.
  response_options rest = opts;
  rest.compression = false;
  {
    std::string body;
    body.swap(reply.body);  // the head alone: begin_result writes an empty body
    struct swap_back {
      std::string& a;
      std::string& b;
      ~swap_back() { a.swap(b); }
    } restore{body, reply.body};
    if (!begin_result(shape, reply, out, rest)) {
      return failure{error_types::internal_error, "the " + std::string(to_string(shape.source)) +
                                                      " result does not end with its body"};
    }
  }
  // Converted in place: reserve the room the larger encoding (base64) needs, so it does not move.
  const std::size_t body_start = out.size();
  out.reserve(body_start + base64::encoded_size(reply.body.size()) + 32);
  out.append(reply.body);
  return finish_result(reply, out, body_start, rest);
}

bool can_stream(const response_shape& shape) { return events::rules_for(shape.source).write_prelude != nullptr; }

maybe_failure append_stream_prelude(const response_shape& shape, const backend_reply& head, std::string& out) {
  const auto write_prelude = events::rules_for(shape.source).write_prelude;
  if (write_prelude == nullptr) {  // callers ask can_stream first
    return failure{error_types::internal_error,
                   "a " + std::string(to_string(shape.source)) + " result cannot be streamed"};
  }
  const std::size_t start = out.size();
  json_writer w(out);
  w.begin_object();
  w.key("statusCode").integer(head.status);
  write_prelude(w, head);
  w.end_object();
  // The JSON writer escapes every control character, so the prelude cannot contain the NUL delimiter itself.
  const std::size_t prelude = out.size() - start;
  if (prelude > max_stream_prelude_bytes) {
    out.resize(start);
    return failure{error_types::backend_invalid_response,
                   "the app's reply headers make a " + std::to_string(prelude) +
                       "-byte stream prelude, over Lambda's limit of " + std::to_string(max_stream_prelude_bytes) +
                       " bytes"};
  }
  out.append(stream_prelude_delimiter);
  return std::nullopt;
}

}  // namespace lambda_bridge
