#include "lambda_bridge/core/response.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lambda_bridge/core/compression.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {
namespace {

using uri::trim;
using uri::starts_with_ci;
using uri::ends_with_ci;


// Visits the distinct header names (case-insensitively, in order of first appearance) that pass `keep`, with
// every value of each: f(name, first_index).
template <class Keep, class F>
void for_each_name(const std::vector<header>& hs, Keep&& keep, F&& f) {
  for (std::size_t i = 0; i < hs.size(); ++i) {
    if (!keep(hs[i].name)) continue;
    bool seen = false;
    for (std::size_t j = 0; j < i && !seen; ++j) seen = uri::iequals(hs[j].name, hs[i].name);
    if (!seen) f(hs[i].name, i);
  }
}

// Header bytes from the app may be Latin-1 (obs-text), which a JSON result cannot carry raw: invalid UTF-8 is
// read as Latin-1 and re-encoded, so the result stays valid JSON and no byte is silently lost.
std::string_view utf8_or_latin1(std::string_view s, std::string& scratch) {
  if (is_valid_utf8(s)) return s;
  scratch.clear();
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      scratch.push_back(ch);
    } else {
      scratch.push_back(static_cast<char>(0xc0 | (c >> 6)));
      scratch.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return scratch;
}

void write_text(json_writer& w, std::string_view s) {
  std::string scratch;
  w.string(utf8_or_latin1(s, scratch));
}

void write_key(json_writer& w, std::string_view s) {
  std::string scratch;
  w.key(utf8_or_latin1(s, scratch));
}

// One member per header name, repeated values joined with ',' (never dropping all but the first).
template <class Keep>
void write_joined_members(json_writer& w, const std::vector<header>& hs, Keep&& keep) {
  std::string joined;
  for_each_name(hs, keep, [&](std::string_view name, std::size_t first) {
    joined.clear();
    for (std::size_t j = first; j < hs.size(); ++j) {
      if (!uri::iequals(hs[j].name, name)) continue;
      if (!joined.empty()) joined.push_back(',');
      joined.append(hs[j].value);
    }
    write_key(w, name);
    write_text(w, joined);
  });
}

template <class Keep>
void write_joined_headers(json_writer& w, const std::vector<header>& hs, Keep&& keep) {
  w.begin_object();
  write_joined_members(w, hs, keep);
  w.end_object();
}

template <class Keep>
void write_multi_value_headers(json_writer& w, const std::vector<header>& hs, Keep&& keep) {
  w.begin_object();
  for_each_name(hs, keep, [&](std::string_view name, std::size_t first) {
    write_key(w, name);
    w.begin_array();
    for (std::size_t j = first; j < hs.size(); ++j) {
      if (uri::iequals(hs[j].name, name)) write_text(w, hs[j].value);
    }
    w.end_array();
  });
  w.end_object();
}

// ALB's single-value mode keeps one value per name, so several cookies survive only under names that differ in
// case: set-cookie, Set-cookie, sEt-cookie, SEt-cookie … (bit k of the index upper-cases letter k).
std::string cookie_header_name(std::size_t index) {
  std::string name = "set-cookie";
  std::size_t bit = 0;
  for (auto& c : name) {
    if (c == '-') continue;
    if (index & (std::size_t{1} << bit)) c = static_cast<char>(c - 'a' + 'A');
    ++bit;
  }
  return name;
}

bool is_set_cookie(std::string_view name) { return uri::iequals(name, "set-cookie"); }

// "cookies": every Set-Cookie value, in order (HTTP API 2.0 and Function URL results and stream preludes).
void write_cookies(json_writer& w, const std::vector<header>& hs) {
  w.key("cookies").begin_array();
  for (const auto& h : hs) {
    if (is_set_cookie(h.name)) write_text(w, h.value);
  }
  w.end_array();
}

void write_status_description(json_writer& w, const backend_reply& r) {
  std::string description = std::to_string(r.status);
  description.push_back(' ');
  const std::string_view reason = reason_phrase(r.status);
  description.append(!reason.empty() ? reason : (!r.reason.empty() && uri::is_field_value(r.reason) ? std::string_view(r.reason) : "Unknown"));
  // The app's own reason phrase may hold obs-text (Latin-1) bytes, as header values may: written raw they made the
  // whole result invalid UTF-8, which Lambda refuses (found by fuzz_response).
  w.key("statusDescription");
  write_text(w, description);
}

void write_body(json_writer& w, const backend_reply& r, bool text) {
  w.key("body");
  if (text) {
    w.string(r.body);
  } else {
    w.base64_string(r.body);
  }
  w.key("isBase64Encoded").boolean(!text);
}

bool is_json(std::string_view body);
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
    // ASCII fast path, sixteen or eight bytes at a time.
#if defined(__SSE2__)
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
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
    else return false;
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

bool is_text_body(std::string_view content_type, std::string_view content_encoding, std::string_view body) {
  content_encoding = trim(content_encoding);
  if (!content_encoding.empty() && !uri::iequals(content_encoding, "identity")) return false;
  std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  if (!media.empty()) {
    static constexpr std::string_view text_types[] = {
        "application/json", "application/javascript", "application/xml", "application/yaml",
        "application/x-www-form-urlencoded", "application/graphql"};
    bool text = starts_with_ci(media, "text/") || ends_with_ci(media, "+json") || ends_with_ci(media, "+xml") ||
                ends_with_ci(media, "+yaml");
    for (auto t : text_types) text = text || uri::iequals(media, t);
    if (!text) return false;
  }
  return is_valid_utf8(body);
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

namespace {

bool is_json(std::string_view body) {
  // RapidJSON reads a NUL byte as the end of the input, so "5\r\n\0garbage" passed as the JSON "5" and went to
  // Lambda byte for byte, NUL and garbage included (found by fuzz_response). JSON text never holds a raw NUL.
  if (body.find('\0') != std::string_view::npos) return false;
  // Validation only: a SAX pass with a handler that accepts everything, no DOM.
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(body.data(), body.size());
  rapidjson::BaseReaderHandler<> accept_all;
  return !reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(ms, accept_all).IsError();
}

}  // namespace

maybe_failure convert_reply(const response_shape& shape, backend_reply& reply, std::string& out,
                     const response_options& opts) {
  out.clear();
  if (opts.error_status_codes != nullptr && opts.error_status_codes->contains(reply.status)) {
    constexpr std::size_t max_quoted = 64 * 1024;
    std::string message = "the app answered HTTP " + std::to_string(reply.status) +
                          ", a status listed in AWS_LWA_ERROR_STATUS_CODES; body: ";
    std::string scratch;
    message.append(utf8_or_latin1(std::string_view(reply.body).substr(0, max_quoted), scratch));
    if (reply.body.size() > max_quoted) message.append("… (truncated)");
    return failure{error_types::error_status, std::move(message)};
  }

  if (shape.source == event_source::pass_through) {
    if (reply.body.empty()) {
      out = "null";
    } else if (is_json(reply.body)) {
      out.swap(reply.body);  // the body is the result, byte for byte
    } else if (is_valid_utf8(reply.body)) {
      append_json_string(out, reply.body);
    } else {
      return failure{error_types::backend_invalid_response,
                     "the app's reply to a non-HTTP event is neither JSON nor UTF-8 text, so it cannot be a Lambda "
                     "result"};
    }
    if (out.size() > opts.max_result_bytes) {
      return failure{error_types::response_too_large, too_large_message(out.size(), opts.max_result_bytes)};
    }
    return std::nullopt;
  }

  if (opts.compression) compress_reply(shape, reply);
  const bool text =
      is_text_body(find_header(reply.headers, "content-type"), find_header(reply.headers, "content-encoding"), reply.body);
  // Refuse before writing megabytes that cannot be sent anyway.
  const std::size_t body_bytes = text ? reply.body.size() : base64::encoded_size(reply.body.size());
  if (body_bytes > opts.max_result_bytes) {
    return failure{error_types::response_too_large,
                   too_large_message(body_bytes, opts.max_result_bytes) + " (body alone, before headers)"};
  }
  out.reserve(body_bytes + 1024);

  auto keep = [](std::string_view name) { return !is_framing_header(name); };
  auto keep_except_cookies = [](std::string_view name) { return !is_framing_header(name) && !is_set_cookie(name); };

  json_writer w(out);
  w.begin_object();
  w.key("statusCode").integer(reply.status);
  switch (shape.source) {
    case event_source::rest:
      // API Gateway merges the two maps; filling both would duplicate every header.
      w.key("headers").begin_object().end_object();
      w.key("multiValueHeaders");
      write_multi_value_headers(w, reply.headers, keep);
      write_body(w, reply, text);
      break;
    case event_source::http_api_v2:
    case event_source::function_url:
      w.key("headers");
      write_joined_headers(w, reply.headers, keep_except_cookies);
      write_cookies(w, reply.headers);
      write_body(w, reply, text);
      break;
    case event_source::alb:
      write_status_description(w, reply);
      if (shape.multi_value) {
        w.key("multiValueHeaders");
        write_multi_value_headers(w, reply.headers, keep);
      } else {
        w.key("headers").begin_object();
        write_joined_members(w, reply.headers, keep_except_cookies);
        std::size_t cookie_index = 0;
        for (const auto& h : reply.headers) {
          if (is_set_cookie(h.name)) {
            w.key(cookie_header_name(cookie_index++));
            write_text(w, h.value);
          }
        }
        w.end_object();
      }
      write_body(w, reply, text);
      break;
    case event_source::lattice_v1:
    case event_source::lattice_v2:
      write_status_description(w, reply);
      w.key("headers");
      write_joined_headers(w, reply.headers, keep);
      write_body(w, reply, text);
      break;
    case event_source::pass_through:
      break;  // handled above
  }
  w.end_object();
  if (out.size() > opts.max_result_bytes) {
    return failure{error_types::response_too_large, too_large_message(out.size(), opts.max_result_bytes)};
  }
  return std::nullopt;
}

bool can_stream(const response_shape& shape) {
  switch (shape.source) {
    case event_source::function_url:
    case event_source::http_api_v2:
    case event_source::rest:
      return true;
    case event_source::alb:
    case event_source::lattice_v1:
    case event_source::lattice_v2:
    case event_source::pass_through:
      return false;
  }
  return false;
}

maybe_failure append_stream_prelude(const response_shape& shape, const backend_reply& head, std::string& out) {
  auto keep = [](std::string_view name) { return !is_framing_header(name); };
  auto keep_except_cookies = [](std::string_view name) { return !is_framing_header(name) && !is_set_cookie(name); };
  const std::size_t start = out.size();
  json_writer w(out);
  w.begin_object();
  w.key("statusCode").integer(head.status);
  if (shape.source == event_source::rest) {
    // API Gateway merges the two maps: each name goes into exactly one, repeated ones (cookies among them) into
    // multiValueHeaders so no value is lost.
    auto repeated = [&](std::string_view name) {
      std::size_t count = 0;
      for (const auto& h : head.headers) count += uri::iequals(h.name, name) ? 1 : 0;
      return count > 1 || is_set_cookie(name);
    };
    w.key("headers");
    write_joined_headers(w, head.headers, [&](std::string_view n) { return keep(n) && !repeated(n); });
    w.key("multiValueHeaders");
    write_multi_value_headers(w, head.headers, [&](std::string_view n) { return keep(n) && repeated(n); });
  } else {
    w.key("headers");
    write_joined_headers(w, head.headers, keep_except_cookies);
    write_cookies(w, head.headers);
  }
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
