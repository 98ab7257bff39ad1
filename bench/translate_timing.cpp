// The translation alone, in process: translator::translate on the bench's ALB events (text, base64, text in lines
// and JSON bodies of 64 KB, 512 KB and 4 MB; the line feeds and a JSON body's quotes are escaped in the event), best
// of 200, the event copied in just before each call as it arrives from the socket; and
// the same with the scan fed all but the event's last 64 KB first, as the runtime client feeds it in the waits for
// the event's later bytes (what is left after the last byte: "Scanned as it arrives").
// Then the scan alone (events::scan_event_text) on three small fixture events, as published (indented) and compacted
// (as Lambda sends them), best of 50 rounds of 1,000: the
// figures of docs/performance.md, "Short strings". And the JSON writer's escaping of a 5 MB text reply and of a
// header value (append_json_string_if_utf8, append_json_string), which share the scan's classifier
// ("One classifier for both directions"). And base64 both ways at each vector level the CPU has ("AVX-512 VBMI for
// base64"). Run from the repository's root (tests/fixtures).
// Built by scripts/bench (target lambda-bridge-translate-timing, not in the default build), which prints its lines
// after the bench's table. The figures of docs/performance.md, "One pass before the parse", come from this program.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "lambda_bridge/core/event_scan.hpp"
#include "lambda_bridge/core/translate.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/json_writer.hpp"

namespace {

// The shape of bench/scenarios.cpp's alb_event.
enum class body_kind { text, base64, lines, json };
const char* name(body_kind k) {
  return k == body_kind::text ? "text" : k == body_kind::base64 ? "base64" : k == body_kind::lines ? "lines" : "JSON";
}

// A text body of about n bytes in lines of 100 (CSV, a log): a line feed escaped every 101 bytes.
std::string escaped_lines_body(std::size_t n) {
  std::string body;
  for (int i = 0; body.size() < n; ++i) {
    std::string line = std::to_string(i) + ",";
    line.resize(99, 'x');
    body += line + "\\n";
  }
  return body;
}

// A JSON body of about n bytes as its event carries it: records of a few fields, every quote escaped.
std::string escaped_json_body(std::size_t n) {
  std::string body = "[";
  for (int i = 0; body.size() < n; ++i) {
    body += R"({\"id\":)" + std::to_string(i) + R"(,\"name\":\"item )" + std::to_string(i) +
            R"(\",\"tags\":[\"a\",\"b\"],\"price\":12.5},)";
  }
  body.back() = ']';
  return body;
}

std::string alb_event(const std::string& body, bool b64) {
  std::string e =
      R"({"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/bench/0123456789abcdef"}},)";
  e += R"("httpMethod":"POST","path":"/bench/1","queryStringParameters":{},)";
  e += R"("headers":{"content-type":")";
  e += b64 ? "application/octet-stream" : "text/plain";
  e += R"(","host":"bench.example.com","user-agent":"lambda-bridge-bench","x-forwarded-for":"127.0.0.1",)";
  e += R"("x-forwarded-port":"443","x-forwarded-proto":"https"},)";
  e += R"("body":")" + body + R"(","isBase64Encoded":)" + (b64 ? "true" : "false") + "}";
  return e;
}

}  // namespace

int main() {
  using namespace lambda_bridge;
  for (const body_kind kind : {body_kind::text, body_kind::base64, body_kind::lines, body_kind::json}) {
    const bool b64 = kind == body_kind::base64;
    for (std::size_t size : {std::size_t(64) << 10, std::size_t(512) << 10, std::size_t(4) << 20}) {
      std::string body;
      if (b64) {
        base64::append_encoded(body, std::string(size * 3 / 4, char(0xAB)));
      } else if (kind == body_kind::lines) {
        body = escaped_lines_body(size);
      } else if (kind == body_kind::json) {
        body = escaped_json_body(size);
      } else {
        body.assign(size, 'x');
      }
      const std::string event = alb_event(body, b64);
      translator t;
      invocation_context ctx;
      ctx.request_id = "timing";
      const translate_options opts;
      // Twice: the scan taken whole by translate, and the scan fed as the runtime client feeds it in the waits for
      // the event's later bytes (all of it but the last 64 KB before the call, the last piece left to translate).
      double best = 1e18, best_fed = 1e18;
      for (int i = 0; i < 400; ++i) {
        const bool fed = i % 2 == 1;
        std::string copy = event;
        events::event_scanner scanner;
        if (fed) scanner.feed(std::string_view(copy).substr(0, copy.size() - std::min(copy.size(), std::size_t{64} << 10)));
        const auto t0 = std::chrono::steady_clock::now();
        auto r = t.translate(std::move(copy), ctx, opts, fed ? &scanner : nullptr);
        const auto t1 = std::chrono::steady_clock::now();
        if (!r) {
          std::fprintf(stderr, "translate-timing: the event was refused: %s\n", r.error().message.c_str());
          return 1;
        }
        double& b = fed ? best_fed : best;
        b = std::min(b, std::chrono::duration<double, std::micro>(t1 - t0).count());
        t.recycle(std::move(r->request));
      }
      std::printf("translate: ALB %s body of %zu KB: best of 200 %.1f us (%.2f GB/s of event); scanned as it arrived, "
                  "the last 64 KB left: %.1f us\n",
                  name(kind), size >> 10, best, double(event.size()) / best / 1e3, best_fed);
    }
  }
  // Small events: their many short strings, not a long body, are what the scan meets.
  for (const char* path : {"tests/fixtures/aws__aws-lambda-go/apigw-v2-request-iam.json",
                           "tests/fixtures/aws__aws-lambda-go/apigw-request.json",
                           "tests/fixtures/aws__aws-lambda-rust-runtime/alb_request.json"}) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const std::string pretty = text.str();
    if (!in || pretty.empty()) {
      std::fprintf(stderr, "translate-timing: cannot read %s (run from the repository's root)\n", path);
      return 1;
    }
    // As published (indented), and compact, as Lambda sends its events.
    rapidjson::Document doc;
    doc.Parse(pretty.data(), pretty.size());
    rapidjson::StringBuffer compact_text;
    rapidjson::Writer<rapidjson::StringBuffer> writer(compact_text);
    doc.Accept(writer);
    const std::string compact(compact_text.GetString(), compact_text.GetSize());
    for (const std::string* event : {&pretty, &compact}) {
      double best = 1e18;
      std::size_t depth = 0;
      for (int round = 0; round < 50; ++round) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 1000; ++i) depth += events::scan_event_text(*event).depth;
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / 1000);
      }
      std::printf("scan: %s%s, %zu bytes: best of 50 x 1000 %.0f ns (depth %zu)\n", path,
                  event == &compact ? " compacted" : "", event->size(), best, depth / 50000);
    }
  }
  // The way out: a text reply body (ASCII, a space every 97 bytes) and a header value, escaped into a result.
  std::string reply(std::size_t(5) << 20, 'a');
  for (std::size_t i = 0; i < reply.size(); i += 97) reply[i] = ' ';
  const std::string value = "text/html; charset=utf-8";
  std::string out;
  double best_reply = 1e18, best_value = 1e18;
  for (int round = 0; round < 50; ++round) {
    out.clear();
    out.reserve(reply.size() + 2);
    const auto t0 = std::chrono::steady_clock::now();
    const bool text = append_json_string_if_utf8(out, reply);
    const auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) {
      out.clear();
      append_json_string(out, value);
    }
    const auto t2 = std::chrono::steady_clock::now();
    if (!text) return 1;
    best_reply = std::min(best_reply, std::chrono::duration<double, std::micro>(t1 - t0).count());
    best_value = std::min(best_value, std::chrono::duration<double, std::nano>(t2 - t1).count() / 1000);
  }
  std::printf("escape: 5 MB text reply: best of 50 %.0f us (%.2f GB/s); a 25-byte header value %.1f ns\n", best_reply,
              double(reply.size()) / best_reply / 1e3, best_value);

  // base64 at each vector level the CPU has: 1 MB of bytes encoded (a binary reply, in place as the result writer
  // does) and its characters decoded in place (a base64 event's body), best of 50.
  const char* const level_names[] = {"baseline", "avx2", "avx512vbmi"};
  std::string bytes(std::size_t(1) << 20, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::string encoded;
  base64::append_encoded(encoded, bytes);
  for (const auto level : base64::vectors_available()) {
    base64::use_vectors(level);
    double best_encode = 1e18, best_decode = 1e18;
    std::string buf(encoded.size(), '\0');
    for (int round = 0; round < 50; ++round) {
      std::copy(bytes.begin(), bytes.end(), buf.begin());
      const auto t0 = std::chrono::steady_clock::now();
      base64::encode_in_place(buf.data(), bytes.size());
      const auto t1 = std::chrono::steady_clock::now();
      if (buf != encoded) {
        std::fprintf(stderr, "translate-timing: base64 (%s) encoded 1 MB in place wrongly\n",
                     level_names[static_cast<int>(level)]);
        return 1;
      }
      const auto decoded = base64::decode_into(buf, buf.data());
      const auto t2 = std::chrono::steady_clock::now();
      if (!decoded || buf.compare(0, *decoded, bytes) != 0) {
        std::fprintf(stderr, "translate-timing: base64 (%s) did not decode its own encoding back\n",
                     level_names[static_cast<int>(level)]);
        return 1;
      }
      best_encode = std::min(best_encode, std::chrono::duration<double, std::micro>(t1 - t0).count());
      best_decode = std::min(best_decode, std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
    std::printf("base64 (%s): 1 MB encoded in place best of 50 %.1f us (%.2f GB/s of bytes), decoded in place %.1f us\n",
                level_names[static_cast<int>(level)], best_encode, double(bytes.size()) / best_encode / 1e3,
                best_decode);
  }
  return 0;
}
