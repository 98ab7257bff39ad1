#include "lambda_bridge/local/gateway.hpp"

#include <rapidjson/document.h>

#include <random>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/log.hpp"
#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {
namespace {

backend_reply plain(int status, std::string_view body) {
  return backend_reply{status, {}, {{"Content-Type", "application/json"}}, std::string(body)};
}

}  // namespace

backend_reply make_gateway_reply(gateway_format format, const invoke_result& result) {
  const bool alb = format == gateway_format::alb;
  if (result.status == 413) return plain(413, R"({"message":"Request Too Long"})");
  if (result.function_error || result.status != 200) {
    // Lambda's timeout, or the bridge's own report of a slow app just before it: a developer browsing the app
    // sees a gateway timeout (API Gateway itself answers 502 for a function timeout, 504 past its 29 s limit).
    if (result.body.find("Sandbox.Timedout") != std::string::npos ||
        result.body.find(error_types::backend_timeout) != std::string::npos) {
      return plain(504, R"({"message":"Endpoint request timed out"})");
    }
    return alb ? backend_reply{502, {}, {{"Content-Type", "text/html"}}, "<html><body><h1>502 Bad Gateway</h1></body></html>"}
               : plain(502, R"({"message":"Internal Server Error"})");
  }
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(result.body.data(), result.body.size());
  const bool structured = !d.HasParseError() && d.IsObject() && d.HasMember("statusCode");
  if (!structured) {
    // HTTP API (and Function URLs) take any other result as a 200 JSON body; the others call it malformed.
    if (format == gateway_format::http_api || format == gateway_format::function_url) return plain(200, result.body);
    return alb ? backend_reply{502, {}, {{"Content-Type", "text/html"}}, "<html><body><h1>502 Bad Gateway</h1></body></html>"}
               : plain(502, R"({"message":"Internal server error"})");
  }
  backend_reply r;
  const auto& sc = d["statusCode"];
  r.status = sc.IsInt() ? sc.GetInt() : (sc.IsString() ? std::atoi(sc.GetString()) : 0);
  if (r.status < 100 || r.status > 999) return plain(502, R"({"message":"Internal Server Error"})");
  auto add = [&](std::string_view name, const rapidjson::Value& v) {
    if (v.IsString()) r.headers.push_back({std::string(name), std::string(v.GetString(), v.GetStringLength())});
  };
  std::vector<std::string> from_multi;
  if (d.HasMember("multiValueHeaders") && d["multiValueHeaders"].IsObject()) {
    for (const auto& m : d["multiValueHeaders"].GetObject()) {
      from_multi.emplace_back(m.name.GetString());
      if (m.value.IsArray()) {
        for (const auto& v : m.value.GetArray()) add(m.name.GetString(), v);
      }
    }
  }
  if (d.HasMember("headers") && d["headers"].IsObject()) {
    for (const auto& m : d["headers"].GetObject()) {
      const std::string_view name(m.name.GetString(), m.name.GetStringLength());
      const bool dup = std::any_of(from_multi.begin(), from_multi.end(), [&](const auto& n) { return text::iequals(n, name); });
      if (!dup) add(text::iequals(name, "set-cookie") ? "Set-Cookie" : name, m.value);
    }
  }
  if (d.HasMember("cookies") && d["cookies"].IsArray()) {
    for (const auto& c : d["cookies"].GetArray()) add("Set-Cookie", c);
  }
  if (d.HasMember("body") && d["body"].IsString()) {
    const std::string_view body(d["body"].GetString(), d["body"].GetStringLength());
    const bool b64 = d.HasMember("isBase64Encoded") && d["isBase64Encoded"].IsBool() && d["isBase64Encoded"].GetBool();
    if (!b64) {
      r.body.assign(body);
    } else if (!base64::append_decoded(r.body, body)) {
      return plain(502, R"({"message":"Internal Server Error"})");
    }
  }
  // Framing is the gateway's own business; the result's copies would be wrong after decoding.
  std::erase_if(r.headers, [](const header& h) {
    return is_framing_header(h.name) || !uri::is_token(h.name) || !uri::is_field_value(h.value);
  });
  return r;
}

gateway::gateway(asio::io_context& io, tcp::endpoint endpoint, gateway_format format, emulator& emu)
    : format_(format),
      emulator_(emu),
      server_(
          io, endpoint, max_invoke_request_bytes,
          [this](http_request& r, http_connection& c) { return handle(r, c); }, "gateway emulation", env::gateway_port) {}

void gateway::start() {
  server_.start();
  const auto ep = server_.local_endpoint();
  log::info("", "emulator: gateway ({}) listening on {}", to_string(format_), to_string(ep));
}

void gateway::close() { server_.close(); }

awaitable<std::optional<http_response>> gateway::handle(http_request& req, http_connection& conn) {
  static std::mt19937_64 rng{std::random_device{}()};
  gateway_request g;
  g.method = std::string(req.method_string());
  g.target = std::string(req.target());
  for (const auto& f : req) g.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  // The real gateways tell the app the client's scheme; this one serves plain HTTP, and without the header the
  // bridge would take an API Gateway or Function URL event for HTTPS, so the app's redirects would break locally.
  if (find_header(g.headers, "x-forwarded-proto").empty()) g.headers.push_back({"X-Forwarded-Proto", "http"});
  g.body = std::move(req.body());
  g.source_ip = "127.0.0.1";
  gateway_event_ids ids;
  ids.request_id = std::to_string(rng());
  ids.epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  invoke_request ir;
  ir.event = make_gateway_event(format_, g, ids);
  const invoke_result result = co_await emulator_.invoke(std::move(ir));
  if (result.stream) {
    // A streaming function: the client sees the prelude's status and headers, then the body as it is produced.
    co_await relay_http_stream(*result.stream, conn, result.request_id, false);
    co_return std::nullopt;
  }
  if (result.function_error) log::warn("", "gateway: the invocation failed: {}", result.body);
  backend_reply reply = make_gateway_reply(format_, result);
  http_response res{static_cast<http::status>(reply.status), 11};
  for (const auto& h : reply.headers) res.insert(h.name, h.value);
  res.body() = std::move(reply.body);
  res.prepare_payload();
  co_return res;
}

}  // namespace lambda_bridge
