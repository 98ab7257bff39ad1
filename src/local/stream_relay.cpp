#include "lambda_bridge/local/stream_relay.hpp"

#include <rapidjson/document.h>
#include <zlib.h>

#include "lambda_bridge/core/error_document.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/log.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_string_header(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  out.push_back(static_cast<char>(7));  // header value type: string
  out.push_back(static_cast<char>((value.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(value.size() & 0xff));
  out.append(value);
}

std::uint32_t crc(std::string_view bytes, std::uint32_t seed = 0) {
  return static_cast<std::uint32_t>(
      ::crc32(seed, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

bool add_header(std::vector<header>& out, std::string_view name, const rapidjson::Value& value) {
  if (!value.IsString()) return false;
  const std::string_view v(value.GetString(), value.GetStringLength());
  if (!uri::is_token(name) || !uri::is_field_value(v)) return false;
  out.push_back({std::string(name), std::string(v)});
  return true;
}

std::string invoke_complete(std::string_view error_code, std::string_view error_details) {
  std::string json;
  json_writer w(json);
  w.begin_object();
  if (!error_code.empty()) {
    w.key("ErrorCode").string(error_code);
    w.key("ErrorDetails").string(error_details);
  }
  w.key("LogResult").string("");
  w.end_object();
  return json;
}

}  // namespace

stream_pipe::stream_pipe(asio::any_io_executor ex) : piece_ready_(ex), piece_taken_(ex) {
  piece_ready_.expires_at(steady_time::max());
  piece_taken_.expires_at(steady_time::max());
}

awaitable<bool> stream_pipe::push(std::string_view piece) {
  if (abandoned_ || ended_) co_return false;
  piece_.assign(piece);
  has_piece_ = true;
  piece_ready_.cancel();
  while (has_piece_ && !abandoned_) {
    boost::system::error_code ec;
    co_await piece_taken_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return !abandoned_;
}

void stream_pipe::finish(std::optional<std::string> error_type, std::string error_body) {
  if (ended_) return;
  ended_ = true;
  error_type_ = std::move(error_type);
  error_body_ = std::move(error_body);
  piece_ready_.cancel();
}

awaitable<bool> stream_pipe::pull(std::string& piece) {
  for (;;) {
    if (has_piece_) {
      piece.swap(piece_);
      has_piece_ = false;
      piece_taken_.cancel();
      co_return true;
    }
    if (ended_ || abandoned_) co_return false;
    boost::system::error_code ec;
    co_await piece_ready_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void stream_pipe::abandon() {
  abandoned_ = true;
  has_piece_ = false;
  piece_taken_.cancel();
}

result<stream_prelude> parse_stream_prelude(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return failure{error_types::invalid_stream_prelude, "the prelude is not a JSON object"};
  stream_prelude p;
  if (d.HasMember("statusCode")) {
    const auto& s = d["statusCode"];
    if (!s.IsInt() || s.GetInt() < 100 || s.GetInt() > 999) {
      return failure{error_types::invalid_stream_prelude, "the prelude's statusCode is not an HTTP status"};
    }
    p.status = s.GetInt();
  }
  const failure bad_header{error_types::invalid_stream_prelude, "the prelude has a header that cannot go on the wire"};
  if (d.HasMember("headers") && d["headers"].IsObject()) {
    for (const auto& m : d["headers"].GetObject()) {
      if (!add_header(p.headers, std::string_view(m.name.GetString(), m.name.GetStringLength()), m.value)) return bad_header;
    }
  }
  if (d.HasMember("multiValueHeaders") && d["multiValueHeaders"].IsObject()) {
    for (const auto& m : d["multiValueHeaders"].GetObject()) {
      if (!m.value.IsArray()) return bad_header;
      for (const auto& v : m.value.GetArray()) {
        if (!add_header(p.headers, std::string_view(m.name.GetString(), m.name.GetStringLength()), v)) return bad_header;
      }
    }
  }
  if (d.HasMember("cookies") && d["cookies"].IsArray()) {
    for (const auto& c : d["cookies"].GetArray()) {
      if (!add_header(p.headers, "Set-Cookie", c)) return bad_header;
    }
  }
  return p;
}

void append_event_stream_message(std::string& out, std::string_view event_type, std::string_view content_type,
                                 std::string_view payload) {
  std::string headers;
  put_string_header(headers, ":event-type", event_type);
  put_string_header(headers, ":content-type", content_type);
  put_string_header(headers, ":message-type", "event");
  const std::size_t start = out.size();
  const auto total = static_cast<std::uint32_t>(12 + headers.size() + payload.size() + 4);
  put_u32(out, total);
  put_u32(out, static_cast<std::uint32_t>(headers.size()));
  put_u32(out, crc(std::string_view(out).substr(start, 8)));
  out.append(headers);
  out.append(payload);
  put_u32(out, crc(std::string_view(out).substr(start)));
}

awaitable<void> relay_http_stream(stream_pipe& pipe, http_connection& conn, std::string_view request_id,
                                  bool invoke_api) {
  std::string piece;
  std::string start;  // bytes up to the end of the prelude
  const bool integration = pipe.content_type == stream_content_type;
  http::response_header<> head;
  std::string body_start;
  if (integration) {
    std::size_t cut = std::string::npos;
    while (cut == std::string::npos && start.size() <= max_stream_prelude_bytes + stream_prelude_delimiter.size()) {
      const bool got = co_await pipe.pull(piece);
      if (!got) break;
      start.append(piece);
      cut = start.find(stream_prelude_delimiter);
    }
    result<stream_prelude> prelude = failure{error_types::invalid_stream_prelude,
                                             "the stream ended or passed 16 KB before its prelude's 8 NUL bytes"};
    if (cut != std::string::npos) prelude = parse_stream_prelude(std::string_view(start).substr(0, cut));
    if (!prelude) {
      pipe.abandon();
      log::error(request_id, "emulator: the streamed response is not valid: {}", prelude.error().message);
      http::response_header<> bad;
      bad.result(http::status::bad_gateway);
      bad.set(http::field::content_type, "application/json");
      std::string json;
      append_error_json(json, prelude.error().type, prelude.error().message, stack_trace::omitted);
      bool open = co_await conn.write_head(bad);
      if (open) open = co_await conn.write_chunk(json);
      if (open) co_await conn.end();
      co_return;
    }
    head.result(static_cast<unsigned>(prelude->status));
    for (const auto& h : prelude->headers) head.insert(h.name, h.value);
    body_start = start.substr(cut + stream_prelude_delimiter.size());
  } else {
    head.result(http::status::ok);
    head.set(http::field::content_type, pipe.content_type);
  }
  if (invoke_api) head.set("X-Amz-Executed-Version", "$LATEST");
  bool open = co_await conn.write_head(head);
  if (open && !body_start.empty()) open = co_await conn.write_chunk(body_start);
  while (open) {
    const bool got = co_await pipe.pull(piece);
    if (!got) break;
    open = co_await conn.write_chunk(piece);
  }
  if (!open) {
    pipe.abandon();
    log::info(request_id, "emulator: the caller went away before the stream ended");
    co_return;
  }
  if (pipe.error_type()) {
    log::error(request_id, "emulator: the function failed mid-stream: {}: {}", *pipe.error_type(), pipe.error_body());
    conn.abort();  // as a Function URL does: the client sees the body end early
    co_return;
  }
  co_await conn.end();
}

awaitable<void> relay_event_stream(stream_pipe* pipe, bool function_error, std::string_view buffered_body,
                                   http_connection& conn) {
  http::response_header<> head;
  head.result(http::status::ok);
  head.set(http::field::content_type, "application/vnd.amazon.eventstream");
  head.set("X-Amz-Executed-Version", "$LATEST");
  std::string frame;
  bool open = co_await conn.write_head(head);
  std::string error_code;
  std::string error_details;
  if (pipe == nullptr) {
    if (function_error) {
      const auto doc = parse_error_json(buffered_body);
      error_code = doc && !doc->type.empty() ? doc->type : "Unhandled";
      error_details = std::string(buffered_body);
    } else if (open) {
      append_event_stream_message(frame, "PayloadChunk", "application/octet-stream", buffered_body);
      open = co_await conn.write_chunk(frame);
    }
  } else {
    std::string piece;
    while (open) {
      const bool got = co_await pipe->pull(piece);
      if (!got) break;
      frame.clear();
      append_event_stream_message(frame, "PayloadChunk", "application/octet-stream", piece);
      open = co_await conn.write_chunk(frame);
    }
    if (!open) pipe->abandon();
    if (pipe->error_type()) {
      error_code = *pipe->error_type();
      error_details = pipe->error_body();
    }
  }
  if (!open) co_return;
  frame.clear();
  append_event_stream_message(frame, "InvokeComplete", "application/json", invoke_complete(error_code, error_details));
  open = co_await conn.write_chunk(frame);
  if (open) co_await conn.end();
}

}  // namespace lambda_bridge
