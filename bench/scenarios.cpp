#include "scenarios.hpp"

namespace bench {

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Payloads

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string text_of(size_t n) {  // JSON-safe text: nothing the bridge has to escape
  std::string s(n, 'x');
  for (size_t i = 0; i < n; ++i) s[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
  return s;
}

std::string binary_of(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = char(x);
  }
  return s;
}

std::string json_of_size(size_t n) {  // a JSON document of exactly n bytes (n >= 12)
  std::string s = R"({"data":")";
  s += text_of(n - s.size() - 2);
  s += R"("})";
  return s;
}

// A JSON document of about n bytes as an API returns or takes one: records of a few fields, a quote every 5 bytes
// or so (each escaped in the event that carries it).
std::string records_json(size_t n) {
  std::string s = "[";
  for (int i = 0; s.size() < n; ++i) {
    s += R"({"id":)" + std::to_string(i) + R"(,"name":"item )" + std::to_string(i) +
         R"(","tags":["a","b"],"price":12.5},)";
  }
  s.back() = ']';
  return s;
}

// A JSON document as a JSON string's contents (json_of_size's and records_json's documents have no other character
// to escape).
std::string quotes_escaped(const std::string& body) {
  std::string escaped;
  for (char c : body) {
    if (c == '"') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

// ---------------------------------------------------------------------------------------------------------------
// Events, with id_marker where the invocation id goes

std::string apigw_v2_event(std::string_view method, std::string_view body, bool b64,
                           std::string_view content_type = "application/json",
                           std::string_view domain = "bench.execute-api.us-east-1.amazonaws.com",
                           std::string_view path = "/bench/@ID@") {
  std::string e = R"({"version":"2.0","routeKey":"$default","rawPath":")";
  e += path;
  e += R"(","rawQueryString":"a=1",)";
  e += R"("headers":{"accept":"application/json","host":")" + std::string(domain) +
       R"(","user-agent":"lambda-bridge-bench","content-type":")" + std::string(content_type) + R"("},)";
  e += R"("queryStringParameters":{"a":"1"},"requestContext":{"accountId":"123456789012","apiId":"bench",)";
  e += R"("domainName":")" + std::string(domain) + R"(","domainPrefix":"bench","http":{"method":")" +
       std::string(method) + R"(","path":")" + std::string(path) + R"(","protocol":"HTTP/1.1","sourceIp":"127.0.0.1",)";
  e += R"("userAgent":"lambda-bridge-bench"},"requestId":"@ID@","routeKey":"$default","stage":"$default",)";
  e += R"("time":"12/Mar/2024:19:03:58 +0000","timeEpoch":1710270238000},)";
  if (!body.empty()) e += R"("body":")" + std::string(body) + R"(",)";
  e += std::string(R"("isBase64Encoded":)") + (b64 ? "true" : "false") + "}";
  return e;
}

std::string alb_event(std::string_view body, bool b64, std::string_view content_type) {
  std::string e =
      R"({"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/bench/0123456789abcdef"}},)";
  e += R"("httpMethod":"POST","path":"/bench/@ID@","queryStringParameters":{},)";
  e += R"("headers":{"content-type":")" + std::string(content_type) +
       R"(","host":"bench.example.com","user-agent":"lambda-bridge-bench","x-forwarded-for":"127.0.0.1",)";
  e += R"("x-forwarded-port":"443","x-forwarded-proto":"https"},)";
  e += R"("body":")" + std::string(body) + R"(","isBase64Encoded":)" + (b64 ? "true" : "false") + "}";
  return e;
}

std::string rest_event(std::string_view method, std::string_view body, bool b64) {
  std::string e = R"({"resource":"/{proxy+}","path":"/bench/@ID@","httpMethod":")" + std::string(method) + R"(",)";
  e += R"("headers":{"Accept":"*/*","Host":"bench.execute-api.us-east-1.amazonaws.com","X-Repeated":"b"},)";
  e += R"("multiValueHeaders":{"Accept":["*/*"],"Host":["bench.execute-api.us-east-1.amazonaws.com"],)";
  e += R"("X-Repeated":["a","b"]},"queryStringParameters":{"k":"2"},"multiValueQueryStringParameters":{"k":["1","2"]},)";
  e += R"("pathParameters":{"proxy":"bench/@ID@"},"stageVariables":null,"requestContext":{"accountId":"123456789012",)";
  e += R"("resourcePath":"/{proxy+}","httpMethod":")" + std::string(method) + R"(","requestId":"@ID@","stage":"prod",)";
  e += R"("identity":{"sourceIp":"127.0.0.1","userAgent":"lambda-bridge-bench"},"apiId":"bench"},)";
  e += R"("body":)" + (body.empty() ? std::string("null") : "\"" + std::string(body) + "\"") +
       R"(,"isBase64Encoded":)" + (b64 ? "true" : "false") + "}";
  return e;
}

std::string lattice_v2_event(std::string_view method, std::string_view body) {
  std::string e = R"({"version":"2.0","path":"/bench/@ID@?a=1","method":")" + std::string(method) + R"(",)";
  e += R"("headers":{"host":["bench.example.com"],"user-agent":["lambda-bridge-bench"],"x-repeated":["a","b"]},)";
  e += R"("queryStringParameters":{"a":["1"]},"body":")" + std::string(body) + R"(","isBase64Encoded":false,)";
  e += R"("requestContext":{"serviceNetworkArn":"arn:aws:vpc-lattice:us-east-1:123456789012:servicenetwork/sn-0bench",)";
  e += R"("serviceArn":"arn:aws:vpc-lattice:us-east-1:123456789012:service/svc-0bench","region":"us-east-1",)";
  e += R"("targetGroupArn":"arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-0bench","timeEpoch":"1696331543569073"}})";
  return e;
}

std::string sqs_event() {
  return R"({"Records":[{"messageId":"@ID@","receiptHandle":"AQEBbench","body":"{\"order\":42}","attributes":)"
         R"({"ApproximateReceiveCount":"1","SentTimestamp":"1545082649183"},"messageAttributes":{},)"
         R"("md5OfBody":"e4e68fb7bd0e697a0ae8f1bb342846b3","eventSource":"aws:sqs",)"
         R"("eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:bench","awsRegion":"us-east-1"}]})";
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark's scenarios, one maker each; `k` divides the invocation counts of a quick run.

// A GET answered with `body`; the result must carry at least its size.
scenario get_reply(std::string name, std::string content_type, std::string body, int warmup, int measured) {
  scenario s;
  s.name = std::move(name);
  s.event_template = apigw_v2_event("GET", "", false);
  s.reply_content_type = std::move(content_type);
  s.reply_body = std::move(body);
  s.warmup = warmup;
  s.measured = measured;
  s.payload = s.reply_body.size();
  s.expect_min_result = s.reply_body.size();
  return s;
}

scenario get_1k(int k) { return get_reply("get-1k", "application/json", json_of_size(1024), 200, 3000 / k); }

scenario post_64k(int k) {
  scenario s;
  s.name = "post-64k";
  const std::string body = json_of_size(64 * 1024);
  s.event_template = apigw_v2_event("POST", quotes_escaped(body), false);
  s.reply_body = R"({"ok":true})";
  s.warmup = 50;
  s.measured = 1000 / k;
  s.payload = body.size();
  s.expect_request_body = body.size();
  return s;
}

// post-64k with a body as APIs see them: a document of records, its quotes escaped in the event every few bytes
// (post-64k's body has four).
scenario post_json_64k(int k) {
  scenario s = post_64k(k);
  s.name = "post-json-64k";
  const std::string body = records_json(64 * 1024);
  s.event_template = apigw_v2_event("POST", quotes_escaped(body), false);
  s.payload = body.size();
  s.expect_request_body = body.size();
  return s;
}

scenario binary_1m(int k) {
  scenario s = get_reply("binary-1m", "application/octet-stream", binary_of(1024 * 1024), 10, 400 / k);
  s.expect_min_result = s.reply_body.size() * 4 / 3;  // base64 in the result
  return s;
}

scenario reply_5m(bool quick) {
  return get_reply("reply-5m", "text/plain", text_of(5 * 1024 * 1024), 5, quick ? 20 : 100);
}

scenario stream_100m(bool quick) {
  scenario s;
  s.name = "stream-100m";
  s.event_template = apigw_v2_event("GET", "", false, "application/json", "bench.lambda-url.us-east-1.on.aws");
  s.reply_content_type = "application/octet-stream";
  s.reply_body = binary_of(1024 * 1024);
  s.stream_bytes = 100ull * 1024 * 1024;
  s.env = {"AWS_LWA_INVOKE_MODE=response_stream"};
  s.stream = true;
  // Unmeasured streams first, for either child. The first few 100 MB streams of a bench run are slow (225, 195,
  // 154, 133 ms, then 70-100) and they fell on the bridge, measured first: run again after the null forwarder, in
  // the same bench process, the same bridge streamed at 1.14x instead of 1.79x (docs/performance.md, "Streams: a
  // splice, and a fair start").
  s.warmup = quick ? 1 : 4;
  s.measured = quick ? 1 : 4;
  s.payload = s.stream_bytes;
  s.expect_min_result = s.stream_bytes;
  s.targets_rss = false;
  return s;
}

scenario sleep_20ms(int c, int k) {
  scenario s;
  s.name = "sleep20ms-c" + std::to_string(c);
  s.event_template = apigw_v2_event("GET", "", false);
  s.reply_body = json_of_size(1024);
  s.app_sleep_ms = 20;
  s.concurrency = c;
  s.env = {"AWS_LAMBDA_MAX_CONCURRENCY=" + std::to_string(c)};
  s.warmup = c * 2;
  s.measured = (c == 1 ? 40 : 320) / k;
  s.payload = 1024;
  s.with_null = false;
  s.expect_min_result = 1024;
  return s;
}

// The ALB scenario of aws-lambda-web-adapter's benches/e2e_body_forwarding.rs: a POST whose body is text, or
// base64 of the same encoded size, the app answering "OK". A 6 MB body makes an event over Lambda's 6 MB
// invocation limit, so the bridge's event limit is raised for it (as that benchmark has no limit either).
scenario alb_body(bool b64, size_t size, int k) {
  scenario s;
  std::string body;
  if (b64) {
    const std::string raw(size * 3 / 4, char(0xAB));
    body = base64(raw);
    s.expect_request_body = raw.size();
  } else {
    body = std::string(size, 'x');
    s.expect_request_body = size;
  }
  s.name = std::string("alb-") + (b64 ? "b64-" : "text-") +
           (size >= (1 << 20) ? std::to_string(size >> 20) + "m"
                              : size >= 1024 ? std::to_string(size >> 10) + "k" : std::to_string(size));
  s.event_template = alb_event(body, b64, b64 ? "application/octet-stream" : "text/plain");
  s.reply_content_type = "text/plain";
  s.reply_body = "OK";
  s.env = {"LAMBDA_BRIDGE_MAX_EVENT_BYTES=16777216"};
  s.payload = body.size();
  // Enough invocations for a p50 that holds from run to run: with 40 of 512 KB and 10 of 2-6 MB, the ratio to the
  // null forwarder moved by up to 0.9 between runs of the same binaries (docs/performance.md, "Taking turns").
  s.warmup = size <= (64 << 10) ? 20 : 5;
  s.measured = (size <= (64 << 10) ? 1000 : size <= (1 << 20) ? 400 : 100) / k;
  s.targets_rss = false;
  return s;
}

// The whole stack: get-1k's HTTP API GET, to the sample FastAPI app's GET /test1 under uvicorn
// (examples/fastapi), end to end. The in-process app's canned reply is only for the capture run (whole_stack.cpp).
scenario fastapi_get(int k) {
  scenario s;
  s.name = "fastapi-get";
  s.app_route = "/test1";
  s.real_app = true;
  s.event_template = apigw_v2_event("GET", "", false, "application/json", "bench.execute-api.us-east-1.amazonaws.com",
                                    s.app_route);
  s.reply_body = R"({"message":"test"})";
  s.warmup = 200;
  s.measured = 2000 / k;
  s.payload = s.reply_body.size();
  s.expect_min_result = s.reply_body.size();
  s.targets_rss = false;
  return s;
}

}  // namespace

// get-1k's event and reply, with the app writing its head and then its body in `writes` pieces, Nagle on: a peer
// that delays its ACK makes each piece after the first wait (issue 14: 40 ms per invocation). Compared with get-1k.
scenario split_writes(std::string name, int writes, int k) {
  scenario s = get_1k(k);
  s.name = std::move(name);
  s.app_body_writes = writes;
  s.measured = 300 / k;
  s.with_null = false;  // the null forwarder acknowledges like any blocking reader: it shows the stall, not a floor
  return s;
}

std::vector<scenario> make_scenarios(bool quick) {
  const int k = quick ? 5 : 1;
  std::vector<scenario> v{get_1k(k), split_writes("split-head-body-1k", 1, k), split_writes("split-pieces-1k", 4, k),
                          post_64k(k), post_json_64k(k), binary_1m(k), reply_5m(quick), stream_100m(quick)};
  for (int c : {1, 8}) v.push_back(sleep_20ms(c, k));
  v.push_back(fastapi_get(k));
  for (bool b64 : {false, true}) {
    for (size_t size : {size_t(0), size_t(1024), size_t(64 << 10), size_t(128 << 10), size_t(256 << 10),
                        size_t(512 << 10), size_t(1 << 20), size_t(2 << 20), size_t(4 << 20), size_t(6 << 20)})
      v.push_back(alb_body(b64, size, k));
  }
  return v;
}

std::vector<scenario> soak_mix() {
  std::vector<scenario> v;
  auto add = [&](std::string name, std::string event, int weight, std::string reply_type, std::string reply) {
    scenario s;
    s.name = std::move(name);
    s.event_template = std::move(event);
    s.weight = weight;
    s.reply_content_type = std::move(reply_type);
    s.reply_body = std::move(reply);
    v.push_back(std::move(s));
    return &v.back();
  };
  const std::string small_json = json_of_size(1024);
  const std::string post_body = json_of_size(64 * 1024);
  add("http-api-get-1k", apigw_v2_event("GET", "", false), 30, "application/json", small_json);
  add("http-api-post-64k", apigw_v2_event("POST", quotes_escaped(post_body), false), 4, "application/json",
      R"({"ok":true})")
      ->expect_request_body = post_body.size();
  add("rest-get-multi", rest_event("GET", "", false), 20, "application/json", small_json);
  add("rest-post-b64-16k", rest_event("POST", base64(binary_of(12 * 1024)), true), 6, "text/plain", "OK")
      ->expect_request_body = 12 * 1024;
  add("function-url-binary-64k", apigw_v2_event("GET", "", false, "application/json", "bench.lambda-url.us-east-1.on.aws"),
      8, "application/octet-stream", binary_of(64 * 1024));
  add("alb-text-1k", alb_event(std::string(1024, 'x'), false, "text/plain"), 12, "text/plain", "OK")
      ->expect_request_body = 1024;
  add("alb-b64-256k", alb_event(base64(binary_of(192 * 1024)), true, "application/octet-stream"), 1, "text/plain", "OK")
      ->expect_request_body = 192 * 1024;
  add("lattice-v2-post", lattice_v2_event("POST", "lattice body"), 8, "application/json", small_json)
      ->expect_request_body = 12;
  // Pass-through: the event itself is the body, the app's JSON the result (AWS_LWA_PASS_THROUGH_PATH points at the app).
  add("sqs-pass-through", sqs_event(), 6, "application/json", R"({"batchItemFailures":[]})")->expect_in_result =
      "batchItemFailures";
  add("http-api-binary-1m", apigw_v2_event("GET", "", false), 1, "application/octet-stream", binary_of(1 << 20));
  // A header value carrying CR LF: the header is dropped, the rest served.
  std::string injected = apigw_v2_event("GET", "", false);
  const std::string_view plain = R"("accept":"application/json")";
  injected.replace(injected.find(plain), plain.size(), R"("accept":"a\r\nX-Injected: 1")");
  add("http-api-crlf-header", injected, 2, "application/json", small_json);
  // Not JSON at all: an error post, and the bridge goes on.
  add("invalid-json", R"({"httpMethod":"GET","path":"/bench/@ID@","headers":)", 2, "text/plain", "unused")->expect_error =
      true;
  return v;
}

}  // namespace bench
