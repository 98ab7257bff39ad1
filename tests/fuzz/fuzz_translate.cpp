// Proves that any bytes Lambda could hand over as an event turn into either a request that is safe to put on the
// wire to the app, or a clean failure: never a crash, a hang, a sanitizer report, or a request that smuggles bytes.
//
// Input: byte 0 picks the translate_options (pass-through path, base path stripping, stage stripping,
// authorization source, default host, function environment); the rest is the event. Invariants: a failure has a
// known error type and a message; a request has a token method, an origin-form target of visible ASCII, token
// header names, values without CR/LF/NUL, exactly one Content-Length matching the body, no Transfer-Encoding, and
// a head (backend_request::append_head) with exactly one CRLF per line. One translator serves every input, as one
// serves every invocation of a worker, so its reused parse buffers are exercised too.
//
// With byte 0's top bit set, an event that opens an object gets a long plain "body", in front or last, so that it is
// parsed around that body (events::event_text), and its translation must equal that of the same event with the body
// ending in an escaped slash (parsed around too, its short escape decoded apart) and in \u002f (parsed whole, in
// place, by RapidJSON): the same text once decoded. The fuzzer's own inputs are too short to reach that path.
//
// Every event's scan is also fed in pieces first, as the runtime client feeds it while the event arrives
// (core/event_scan.hpp), and must agree with one pass over the whole event, taken both ways the scan has (64-byte
// steps and a byte at a time).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "lambda_bridge/core/translate.hpp"

using namespace lambda_bridge;

namespace {

invocation_context context() {
  invocation_context c;
  c.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
  c.deadline_ms = 1542409706888;
  c.invoked_function_arn = "arn:aws:lambda:us-east-2:123456789012:function:fuzz";
  c.trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
  return c;
}

translate_options options(std::uint8_t pick, const function_environment& fn) {
  translate_options o;
  o.pass_through_path = (pick & 0x01) != 0 ? "/custom path/ünïcode?x=1#frag" : "/events";
  switch ((pick >> 1) & 0x03) {
    case 0: o.remove_base_path = ""; break;
    case 1: o.remove_base_path = "/api"; break;
    case 2: o.remove_base_path = "/"; break;
    default: o.remove_base_path = "/prod/v1"; break;
  }
  o.strip_stage = (pick & 0x08) != 0;
  o.authorization_source = (pick & 0x10) != 0 ? "X-Auth-Token" : "";
  o.default_host = (pick & 0x20) != 0 ? "localhost" : "127.0.0.1:8080";
  o.function = (pick & 0x40) != 0 ? &fn : nullptr;
  return o;
}

void same_translation(const result<translation>& a, const std::string& around, const std::string& around_body,
                      const result<translation>& w, const std::string& whole);

// The same event, with a long body that is parsed around, one parsed around with an escape, and one parsed in
// place: the same result. The body (5,000 characters: base64 too, for the events that say so) goes in front, or last when the event's length
// is odd: then the event's own body, if it has one, comes first and is the one read.
int parsed_around(const std::string& event, const translate_options& opts, const invocation_context& ctx) {
  static translator t;
  const std::string text(4999, 'b');
  const bool last = event.size() % 2 == 1 && event.size() >= 2 && event.back() == '}';
  auto with_body = [&](const std::string& body) {
    const std::string member = R"("body":")" + body + R"(")";
    return last ? event.substr(0, event.size() - 1) + "," + member + "}" : "{" + member + "," + event.substr(1);
  };
  const std::string around = with_body(text + "/");
  auto a = t.translate(std::string(around), ctx, opts);
  if (a) fuzz::check_request(a->request);
  if (!a) fuzz::check_failure(a.error());
  const std::string around_body = a ? std::string(a->request.payload()) : std::string();
  const result<translation> got = std::move(a);
  for (const std::string& escape : {std::string("\\/"), std::string("\\u002f")}) {
    const std::string other = with_body(text + escape);
    same_translation(got, around, around_body, t.translate(std::string(other), ctx, opts), other);
  }
  return 0;
}

// `w`, the translation of `whole`, against `got`, that of `around` (whose body `around_body` is): the same, but for
// a forwarded event's own text.
void same_translation(const result<translation>& a, const std::string& around, const std::string& around_body,
                      const result<translation>& w, const std::string& whole) {
  if (!a) {
    FUZZ_CHECK(!w, around);
    FUZZ_CHECK(w.error().type == a.error().type, a.error().message + " | " + w.error().message);
    return;
  }
  const translation& got = *a;
  FUZZ_CHECK(static_cast<bool>(w), around);
  FUZZ_CHECK(w->request.method == got.request.method, got.request.method);
  FUZZ_CHECK(w->request.target == got.request.target, got.request.target);
  FUZZ_CHECK(w->shape.source == got.shape.source, around);
  const bool forwarded = got.shape.source == event_source::pass_through;
  FUZZ_CHECK(w->request.headers.size() == got.request.headers.size(), got.request.target);
  for (std::size_t i = 0; i < got.request.headers.size(); ++i) {
    FUZZ_CHECK(w->request.headers[i].name == got.request.headers[i].name, got.request.headers[i].name);
    // A forwarded event's length differs by the escape's extra characters.
    if (forwarded && got.request.headers[i].name == "content-length") continue;
    FUZZ_CHECK(w->request.headers[i].value == got.request.headers[i].value, got.request.headers[i].name);
  }
  if (forwarded) {
    FUZZ_CHECK(around_body == around, around);  // forwarded as it came, each as it came
    FUZZ_CHECK(w->request.payload() == whole, whole);
  } else {
    FUZZ_CHECK(w->request.payload() == around_body, around);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static translator t;
  static const invocation_context ctx = context();
  static const function_environment fn{"fuzz-function", "$LATEST", 512, "/aws/lambda/fuzz", "2026/01/01/[$LATEST]x"};

  const translate_options opts = options(data[0], fn);
  std::string event(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The scan fed twice before it is finished (three pieces, cut where the last and the middle bytes say), each feed
  // a copy holding only the bytes so far, as the runtime client feeds it while an event arrives, finds what one pass
  // finds, both ways the scan has (64-byte steps and a byte at a time); the translation below then finishes it.
  events::event_scanner pieces;
  const std::size_t cut = event.empty() ? 0 : (std::size_t{data[size - 1]} * 131 + data[size / 2]) % event.size();
  pieces.feed(std::string(event, 0, cut));
  pieces.feed(std::string(event, 0, cut + (event.size() - cut) / 2));
  events::event_scanner check = pieces;
  const events::event_scan whole = events::scan_event_text(event);
  FUZZ_CHECK(check.finish(event) == whole, event);
  events::event_scanner::use_blocks(false);
  FUZZ_CHECK(events::scan_event_text(event) == whole, event);
  events::event_scanner::use_blocks(true);
  if ((data[0] & 0x80) != 0 && !event.empty() && event.front() == '{') return parsed_around(event, opts, ctx);
  const std::string original = event;
  auto r = t.translate(std::move(event), ctx, opts, &pieces);
  if (!r) {
    fuzz::check_failure(r.error());
    return 0;
  }
  fuzz::check_request(r->request);
  if (r->shape.source == event_source::pass_through) {
    // A non-HTTP event goes to the app unchanged, as a POST to the pass-through path.
    FUZZ_CHECK(r->request.payload() == original, r->request.target);
    FUZZ_CHECK(r->request.method == "POST", r->request.method);
  }
  return 0;
}
