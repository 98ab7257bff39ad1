#include "lambda_bridge/local/gateway.hpp"

#include <rapidjson/document.h>

#include <random>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/log.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {
namespace {

using uri::lower;

constexpr std::string_view account_id = "123456789012";
constexpr std::string_view function_url_domain = "local.lambda-url.us-east-1.on.aws";

// Distinct names in order of first appearance, each with its values; names as `name_case` makes them.
std::vector<std::pair<std::string, std::vector<std::string>>> group(const std::vector<header>& hs, bool lower_names,
                                                                    bool skip_cookie) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& h : hs) {
    if (skip_cookie && uri::iequals(h.name, "cookie")) continue;
    const std::string name = lower_names ? lower(h.name) : h.name;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return uri::iequals(g.first, name); });
    if (it == out.end()) {
      out.push_back({name, {h.value}});
    } else {
      it->second.push_back(h.value);
    }
  }
  return out;
}

struct query_pair {
  std::string key;
  std::string value;
};

std::vector<query_pair> split_query(std::string_view q, bool decode) {
  std::vector<query_pair> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view item = q.substr(0, amp);
    if (!item.empty()) {
      const auto eq = item.find('=');
      const std::string_view k = item.substr(0, eq);
      const std::string_view v = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      out.push_back(decode ? query_pair{percent_decode(k), percent_decode(v)} : query_pair{std::string(k), std::string(v)});
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

void write_body(json_writer& w, const gateway_request& req) {
  const bool text = is_text_body(find_header(req.headers, "content-type"), find_header(req.headers, "content-encoding"), req.body);
  w.key("body");
  if (req.body.empty()) {
    w.null();
  } else if (text) {
    w.string(req.body);
  } else {
    w.base64_string(req.body);
  }
  w.key("isBase64Encoded").boolean(!text && !req.body.empty());
}

std::string host_of(const gateway_request& req) {
  const auto h = find_header(req.headers, "host");
  return h.empty() ? std::string("localhost") : std::string(h);
}

struct split_target {
  std::string_view raw_path;
  std::string_view raw_query;
};

split_target split(std::string_view target) {
  const auto qmark = target.find('?');
  return {target.substr(0, qmark), qmark == std::string_view::npos ? "" : target.substr(qmark + 1)};
}

void write_v2(json_writer& w, const gateway_request& req, const gateway_event_ids& ids, bool function_url) {
  const auto [raw_path, raw_query] = split(req.target);
  // API Gateway hands over the decoded path; a Function URL keeps the client's encoding.
  const std::string path = function_url ? std::string(raw_path) : percent_decode(raw_path);
  w.key("version").string("2.0");
  w.key("routeKey").string("$default");
  w.key("rawPath").string(path);
  w.key("rawQueryString").string(raw_query);
  std::vector<std::string> cookies;
  for (const auto& h : req.headers) {
    if (!uri::iequals(h.name, "cookie")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      const auto semi = v.find(';');
      std::string_view c = v.substr(0, semi);
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      if (!c.empty()) cookies.emplace_back(c);
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  if (!cookies.empty()) {
    w.key("cookies").begin_array();
    for (const auto& c : cookies) w.string(c);
    w.end_array();
  }
  w.key("headers").begin_object();
  for (const auto& [name, values] : group(req.headers, true, true)) {
    std::string joined;
    for (const auto& v : values) joined.append(joined.empty() ? "" : ",").append(v);
    w.key(name).string(joined);
  }
  w.end_object();
  const auto pairs = split_query(raw_query, true);
  if (!pairs.empty()) {
    std::vector<std::pair<std::string, std::string>> joined;
    for (const auto& p : pairs) {
      auto it = std::find_if(joined.begin(), joined.end(), [&](const auto& j) { return j.first == p.key; });
      if (it == joined.end()) {
        joined.push_back({p.key, p.value});
      } else {
        it->second.append(",").append(p.value);
      }
    }
    w.key("queryStringParameters").begin_object();
    for (const auto& [k, v] : joined) w.key(k).string(v);
    w.end_object();
  }
  const std::string domain = function_url ? std::string(function_url_domain) : host_of(req);
  w.key("requestContext").begin_object();
  w.key("accountId").string(account_id);
  w.key("apiId").string("local");
  w.key("domainName").string(domain);
  w.key("domainPrefix").string(domain.substr(0, domain.find('.')));
  w.key("http").begin_object();
  w.key("method").string(req.method);
  w.key("path").string(path);
  w.key("protocol").string("HTTP/1.1");
  w.key("sourceIp").string(req.source_ip);
  w.key("userAgent").string(find_header(req.headers, "user-agent"));
  w.end_object();
  w.key("requestId").string(ids.request_id);
  w.key("routeKey").string("$default");
  w.key("stage").string("$default");
  w.key("timeEpoch").integer(ids.epoch_ms);
  w.end_object();
  write_body(w, req);
}

void write_v1(json_writer& w, const gateway_request& req, const gateway_event_ids& ids, bool alb) {
  const auto [raw_path, raw_query] = split(req.target);
  const std::string path = alb ? std::string(raw_path) : percent_decode(raw_path);
  // ALB passes query values as the client encoded them; API Gateway REST decodes them.
  const auto pairs = split_query(raw_query, !alb);
  if (alb) {
    w.key("requestContext").begin_object().key("elb").begin_object();
    w.key("targetGroupArn").string("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/local/0123456789abcdef");
    w.end_object().end_object();
  } else {
    w.key("resource").string("/{proxy+}");
  }
  w.key("path").string(path);
  w.key("httpMethod").string(req.method);
  const auto groups = group(req.headers, alb, false);
  w.key("headers").begin_object();
  for (const auto& [name, values] : groups) w.key(name).string(values.back());
  w.end_object();
  if (!alb) {
    w.key("multiValueHeaders").begin_object();
    for (const auto& [name, values] : groups) {
      w.key(name).begin_array();
      for (const auto& v : values) w.string(v);
      w.end_array();
    }
    w.end_object();
  }
  w.key("queryStringParameters");
  if (pairs.empty()) {
    w.null();
  } else {
    // One value per key, the last one, as the gateways do in their single-value maps.
    w.begin_object();
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const bool later = std::any_of(pairs.begin() + static_cast<std::ptrdiff_t>(i) + 1, pairs.end(),
                                     [&](const query_pair& q) { return q.key == pairs[i].key; });
      if (!later) w.key(pairs[i].key).string(pairs[i].value);
    }
    w.end_object();
  }
  if (!alb) {
    w.key("multiValueQueryStringParameters");
    if (pairs.empty()) {
      w.null();
    } else {
      std::vector<std::pair<std::string, std::vector<std::string>>> multi;
      for (const auto& p : pairs) {
        auto it = std::find_if(multi.begin(), multi.end(), [&](const auto& m) { return m.first == p.key; });
        if (it == multi.end()) {
          multi.push_back({p.key, {p.value}});
        } else {
          it->second.push_back(p.value);
        }
      }
      w.begin_object();
      for (const auto& [k, vs] : multi) {
        w.key(k).begin_array();
        for (const auto& v : vs) w.string(v);
        w.end_array();
      }
      w.end_object();
    }
    w.key("pathParameters").begin_object().key("proxy").string(path.empty() ? path : path.substr(1)).end_object();
    w.key("stageVariables").null();
    w.key("requestContext").begin_object();
    w.key("accountId").string(account_id);
    w.key("apiId").string("local");
    w.key("domainName").string(host_of(req));
    w.key("httpMethod").string(req.method);
    w.key("identity").begin_object();
    w.key("sourceIp").string(req.source_ip);
    w.key("userAgent").string(find_header(req.headers, "user-agent"));
    w.end_object();
    w.key("path").string("/local" + path);
    w.key("protocol").string("HTTP/1.1");
    w.key("requestId").string(ids.request_id);
    w.key("requestTimeEpoch").integer(ids.epoch_ms);
    w.key("resourcePath").string("/{proxy+}");
    w.key("stage").string("local");
    w.end_object();
  }
  write_body(w, req);
}

backend_reply plain(int status, std::string_view body) {
  return backend_reply{status, {}, {{"Content-Type", "application/json"}}, std::string(body)};
}

}  // namespace

std::string_view to_string(gateway_format f) {
  switch (f) {
    case gateway_format::http_api: return "http-api";
    case gateway_format::rest: return "rest";
    case gateway_format::alb: return "alb";
    case gateway_format::function_url: return "function-url";
  }
  return "http-api";
}

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string make_gateway_event(gateway_format format, const gateway_request& req, const gateway_event_ids& ids) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  switch (format) {
    case gateway_format::http_api: write_v2(w, req, ids, false); break;
    case gateway_format::function_url: write_v2(w, req, ids, true); break;
    case gateway_format::rest: write_v1(w, req, ids, false); break;
    case gateway_format::alb: write_v1(w, req, ids, true); break;
  }
  w.end_object();
  return out;
}

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
      const bool dup = std::any_of(from_multi.begin(), from_multi.end(), [&](const auto& n) { return uri::iequals(n, name); });
      if (!dup) add(uri::iequals(name, "set-cookie") ? "Set-Cookie" : name, m.value);
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
      server_(io, endpoint, max_invoke_request_bytes, [this](http_request& r, http_connection& c) { return handle(r, c); }, "gateway emulation") {}

void gateway::start() {
  server_.start();
  const auto ep = server_.local_endpoint();
  log::info("", "emulator: gateway ({}) listening on {}:{}", to_string(format_), ep.address().to_string(), ep.port());
}

void gateway::close() { server_.close(); }

awaitable<std::optional<http_response>> gateway::handle(http_request& req, http_connection& conn) {
  static std::mt19937_64 rng{std::random_device{}()};
  gateway_request g;
  g.method = std::string(req.method_string());
  g.target = std::string(req.target());
  for (const auto& f : req) g.headers.push_back({std::string(f.name_string()), std::string(f.value())});
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
