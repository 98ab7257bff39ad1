// Proves that any reply an app could send turns into a result Lambda accepts, or a clean failure: never a crash,
// a hang, a sanitizer report, or a "successful" result that is not valid JSON.
//
// Input: byte 0 picks the options (response compression and the client's Accept-Encoding, the error-status set, a
// HEAD request, a small result limit); the rest is the app's bytes on the connection, parsed by Beast as the
// backend client parses them (header limit 64 KB, a body limit, 1xx interim replies skipped). The reply then goes
// through convert_reply for every event source, ALB in both header modes, and through append_stream_prelude for
// every source that streams. Invariants: a failure has a known error type and a message; a result is one valid
// UTF-8 JSON document with no raw control bytes — for an HTTP source an object with a numeric statusCode equal to
// the app's status — and a prelude is such an object followed by exactly the 8 NUL delimiter.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "lambda_bridge/core/response.hpp"

using namespace lambda_bridge;

namespace {

constexpr event_source sources[] = {event_source::alb,          event_source::lattice_v1, event_source::lattice_v2,
                                    event_source::http_api_v2,  event_source::function_url, event_source::rest,
                                    event_source::pass_through};

// Parses as backend_exchange::send does: a fresh parser per message, interim 1xx replies skipped.
bool parse_reply(std::string_view bytes, bool head_request, backend_reply& out) {
  for (int interim = 0; interim < 8; ++interim) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    parser.header_limit(64 * 1024);
    if (head_request) parser.skip(true);
    // Only the header first, to find where an interim reply ends.
    http::response_parser<http::string_body> header_probe;
    header_probe.header_limit(64 * 1024);
    header_probe.body_limit(1024 * 1024);
    if (head_request) header_probe.skip(true);
    if (!fuzz::parse_response(bytes, header_probe, true)) return false;
    const int status = header_probe.get().result_int();
    if (status / 100 == 1 && status != 101) {
      // The interim reply has no body: the next message starts right after its header.
      boost::system::error_code ec;
      http::response_parser<http::empty_body> interim_parser;
      interim_parser.eager(false);
      const std::size_t used = interim_parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      if (ec || used == 0 || used > bytes.size()) return false;
      bytes.remove_prefix(used);
      continue;
    }
    if (!fuzz::parse_response(bytes, parser, false)) return false;
    const auto& msg = parser.get();
    out.status = msg.result_int();
    out.reason = std::string(msg.reason());
    for (const auto& f : msg) out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    out.body = msg.body();
    return true;
  }
  return false;
}

void check_result(const response_shape& shape, const backend_reply& reply, const maybe_failure& err, const std::string& out) {
  if (err) {
    fuzz::check_failure(*err);
    return;
  }
  const auto d = fuzz::check_json(out);
  if (shape.source == event_source::pass_through) return;
  FUZZ_CHECK(d.IsObject(), out);
  const auto it = d.FindMember("statusCode");
  FUZZ_CHECK(it != d.MemberEnd() && it->value.IsInt() && it->value.GetInt() == reply.status, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const status_set server_errors = *status_set::parse("500-599");
  static const status_set odd_errors = *status_set::parse("200-204,404,418-451");
  const std::uint8_t pick = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  const bool head = (pick & 0x01) != 0;
  backend_reply reply;
  if (!parse_reply(bytes, head, reply)) return 0;  // a transport failure in the bridge, not a conversion

  response_options opts;
  opts.compression = (pick & 0x02) != 0;
  switch ((pick >> 2) & 0x03) {
    case 0: opts.error_status_codes = nullptr; break;
    case 1: opts.error_status_codes = &server_errors; break;
    case 2: opts.error_status_codes = &odd_errors; break;
    default: opts.error_status_codes = nullptr; break;
  }
  if ((pick & 0x10) != 0) opts.max_result_bytes = 2048;
  std::string accept_encoding;
  switch ((pick >> 5) & 0x03) {
    case 0: accept_encoding = ""; break;
    case 1: accept_encoding = "gzip"; break;
    case 2: accept_encoding = "br;q=1.0, gzip;q=0.5, *;q=0"; break;
    default: accept_encoding = "identity, deflate"; break;
  }

  std::string out;
  for (const auto source : sources) {
    for (const bool multi_value : {false, true}) {
      if (multi_value && source != event_source::alb) continue;
      const response_shape shape{source, multi_value, head, accept_encoding};
      backend_reply copy = reply;  // convert_reply may take the body (compression, pass-through)
      const maybe_failure err = convert_reply(shape, copy, out, opts);
      check_result(shape, reply, err, out);

      if (!can_stream(shape)) continue;
      std::string prelude = "x";  // appended to, not replaced: what was there must stay
      const maybe_failure perr = append_stream_prelude(shape, reply, prelude);
      if (perr) {
        fuzz::check_failure(*perr);
        continue;
      }
      FUZZ_CHECK(prelude.size() >= 1 + stream_prelude_delimiter.size() && prelude[0] == 'x', prelude);
      FUZZ_CHECK(prelude.compare(prelude.size() - 8, 8, stream_prelude_delimiter) == 0, prelude);
      const std::string_view json(prelude.data() + 1, prelude.size() - 1 - 8);
      const auto d = fuzz::check_json(json);
      FUZZ_CHECK(d.IsObject() && d.HasMember("statusCode"), prelude);
    }
  }
  return 0;
}
