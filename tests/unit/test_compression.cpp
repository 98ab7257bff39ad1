// Response compression: the coding a client accepts, which bodies are worth it, and results that decode back to
// the app's bytes.
#include <doctest/doctest.h>

#include <brotli/decode.h>
#include <rapidjson/document.h>
#include <zlib.h>

#include "lambda_bridge/core/compression.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/core/translate.hpp"
#include "lambda_bridge/util/base64.hpp"

using namespace lambda_bridge;

namespace {

std::string gunzip(std::string_view in) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

std::string unbrotli(std::string_view in) {
  std::string out(1 << 20, '\0');
  std::size_t size = out.size();
  REQUIRE(BrotliDecoderDecompress(in.size(), reinterpret_cast<const uint8_t*>(in.data()), &size,
                                  reinterpret_cast<uint8_t*>(out.data())) == BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(size);
  return out;
}

std::string json_body(std::size_t n) {
  std::string s = "[";
  for (std::size_t i = 0; s.size() < n; ++i) s += R"({"id":)" + std::to_string(i) + R"(,"name":"item","tags":["a","b"]},)";
  s.back() = ']';
  return s;
}

}  // namespace

TEST_CASE("the coding follows the client's weights, br on a tie, nothing when neither is acceptable") {
  CHECK(choose_coding("gzip, deflate, br") == content_coding::br);
  CHECK(choose_coding("gzip") == content_coding::gzip);
  CHECK(choose_coding("br;q=0.5, gzip;q=0.8") == content_coding::gzip);
  CHECK(choose_coding("br;q=0, gzip") == content_coding::gzip);
  CHECK(choose_coding("*") == content_coding::br);
  CHECK(choose_coding("*;q=0.1, br;q=0") == content_coding::gzip);
  CHECK(choose_coding("identity") == content_coding::identity);
  CHECK(choose_coding("") == content_coding::identity);
  CHECK(choose_coding("gzip;q=banana") == content_coding::identity);
  CHECK(choose_coding("deflate") == content_coding::identity);
}

TEST_CASE("images, media, event streams, encoded and small bodies are not compressed") {
  CHECK(is_compressible("application/json", "", 5000));
  CHECK(is_compressible("text/html; charset=utf-8", "identity", 5000));
  CHECK(is_compressible("image/svg+xml", "", 5000));
  CHECK(is_compressible("", "", 5000));
  CHECK_FALSE(is_compressible("application/json", "", 100));
  CHECK_FALSE(is_compressible("image/png", "", 5000));
  CHECK_FALSE(is_compressible("video/mp4", "", 5000));
  CHECK_FALSE(is_compressible("text/event-stream", "", 5000));
  CHECK_FALSE(is_compressible("application/json", "gzip", 5000));
  CHECK_FALSE(is_compressible("application/zip", "", 5000));
}

TEST_CASE("gzip and br round-trip") {
  const std::string body = json_body(50'000);
  std::string z, b;
  REQUIRE(compress(content_coding::gzip, body, z));
  REQUIRE(compress(content_coding::br, body, b));
  CHECK(z.size() < body.size() / 4);
  CHECK(b.size() < body.size() / 4);
  CHECK(gunzip(z) == body);
  CHECK(unbrotli(b) == body);
}

TEST_CASE("a compressed result is base64 with Content-Encoding and decodes to the app's body") {
  const std::string body = json_body(20'000);
  for (const auto& accept_and_coding : {std::pair{"gzip", "gzip"}, std::pair{"br, gzip", "br"}}) {
    // Named, not a structured binding: CAPTURE's lambda may not capture one before C++20 as clang 14 implements it.
    const char* accept = accept_and_coding.first;
    const char* coding = accept_and_coding.second;
    CAPTURE(accept);
    backend_reply reply{200, "OK", {{"Content-Type", "application/json"}}, body};
    response_shape shape{event_source::http_api_v2, false, false, accept};
    std::string out;
    REQUIRE_FALSE(convert_reply(shape, reply, out, response_options{nullptr, max_buffered_result_bytes, true}));
    rapidjson::Document d;
    d.Parse(out.c_str());
    CHECK(d["isBase64Encoded"].GetBool());
    CHECK(std::string(d["headers"]["Content-Encoding"].GetString()) == coding);
    CHECK(std::string(d["headers"]["Vary"].GetString()) == "Accept-Encoding");
    std::string raw;
    REQUIRE(base64::append_decoded(raw, d["body"].GetString()));
    CHECK((std::string(coding) == "gzip" ? gunzip(raw) : unbrotli(raw)) == body);
  }
}

TEST_CASE("without the option, an Accept-Encoding, or for non-HTTP events, the body is left alone") {
  const std::string body = json_body(20'000);
  std::string out;
  backend_reply off{200, "OK", {{"Content-Type", "application/json"}}, body};
  REQUIRE_FALSE(convert_reply(response_shape{event_source::rest, false, false, "gzip"}, off, out, {}));
  CHECK(out.find("Content-Encoding") == std::string::npos);
  backend_reply no_accept{200, "OK", {{"Content-Type", "application/json"}}, body};
  REQUIRE_FALSE(convert_reply(response_shape{event_source::rest, false, false, ""}, no_accept, out,
                              response_options{nullptr, max_buffered_result_bytes, true}));
  CHECK(out.find("Content-Encoding") == std::string::npos);
  backend_reply sqs{200, "OK", {{"Content-Type", "application/json"}}, R"({"batchItemFailures":[]})" + std::string(2000, ' ')};
  REQUIRE_FALSE(convert_reply(response_shape{event_source::pass_through, false, false, "gzip"}, sqs, out,
                              response_options{nullptr, max_buffered_result_bytes, true}));
  CHECK(out.starts_with(R"({"batchItemFailures":[]})"));
}

TEST_CASE("compression lets a reply over the buffered limit fit") {
  const std::string body = json_body(7'000'000);
  backend_reply reply{200, "OK", {{"Content-Type", "application/json"}}, body};
  std::string out;
  REQUIRE_FALSE(convert_reply(response_shape{event_source::http_api_v2, false, false, "br"}, reply, out,
                              response_options{nullptr, max_buffered_result_bytes, true}));
  CHECK(out.size() < max_buffered_result_bytes);
}

TEST_CASE("the event's Accept-Encoding reaches the response shape") {
  translator t;
  auto r = t.translate(R"({"httpMethod":"GET","path":"/","headers":{"Accept-Encoding":"gzip, br"}})", {}, {});
  REQUIRE(r);
  CHECK(r->shape.accept_encoding == "gzip, br");
}

TEST_CASE("a body compressed piece by piece decodes to the whole body, in both codings, whatever the piece size") {
  const std::string body = json_body(300'000);
  for (const auto coding : {content_coding::gzip, content_coding::br}) {
    for (const std::size_t piece : {std::size_t{1}, std::size_t{777}, std::size_t{65'536}, body.size()}) {
      CAPTURE(to_string(coding));
      CAPTURE(piece);
      compressor c(coding);
      std::string out;
      for (std::size_t at = 0; at < body.size(); at += piece) {
        REQUIRE(c.feed(std::string_view(body).substr(at, piece), out));
      }
      REQUIRE(c.feed({}, out, true));
      CHECK(out.size() < body.size() / 4);
      CHECK((coding == content_coding::gzip ? gunzip(out) : unbrotli(out)) == body);
    }
  }
}

TEST_CASE("the compressed size is known as the pieces go in, so a reply can be refused before it is whole") {
  // Incompressible bytes: the output grows with the input, long before the last piece. brotli holds up to its
  // window (4 MB) before it writes; gzip writes as it goes.
  std::string noise(8 << 20, '\0');
  std::uint32_t x = 12345;
  for (char& ch : noise) {
    x = x * 1664525u + 1013904223u;
    ch = static_cast<char>(x >> 24);
  }
  for (const auto coding : {content_coding::gzip, content_coding::br}) {
    CAPTURE(to_string(coding));
    compressor c(coding);
    std::string out;
    for (std::size_t at = 0; at < noise.size(); at += 65'536) {
      REQUIRE(c.feed(std::string_view(noise).substr(at, 65'536), out));
    }
    CHECK(out.size() > (2u << 20));
  }
}

TEST_CASE("a reply's coding is decided from its head alone") {
  const response_shape gzip_client{event_source::http_api_v2, false, false, "gzip"};
  CHECK(reply_coding(gzip_client, {{"Content-Type", "application/json"}}) == content_coding::gzip);
  CHECK(reply_coding(gzip_client, {{"Content-Type", "image/png"}}) == content_coding::identity);
  CHECK(reply_coding(gzip_client, {{"Content-Type", "text/html"}, {"Content-Encoding", "br"}}) ==
        content_coding::identity);
  CHECK(reply_coding(response_shape{event_source::http_api_v2, false, true, "gzip"}, {{"Content-Type", "text/html"}}) ==
        content_coding::identity);  // HEAD
  CHECK(reply_coding(response_shape{event_source::http_api_v2, false, false, "identity"},
                     {{"Content-Type", "text/html"}}) == content_coding::identity);
  CHECK_FALSE(worth_compressing(min_compressible_bytes - 1, 10));
  CHECK_FALSE(worth_compressing(5000, 5000));
  CHECK(worth_compressing(5000, 4999));
}
