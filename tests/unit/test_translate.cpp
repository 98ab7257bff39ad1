// Event → HTTP request: one case per pitfall of docs/event-mapping.md (each a bug some adapter shipped) that every
// source shares, and detection across sources; the pitfalls of one source are in events/test_<source>.cpp.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/frame_cache.hpp"
#include "core_test_support.hpp"

using namespace lambda_bridge;
using test_support::header_value;
using test_support::header_values;
using test_support::must_fail;
using test_support::must_translate;
using test_support::translate;

TEST_CASE("header values with CR, LF or NUL and names that are not tokens never reach the wire") {
  const auto t = must_translate(
      R"({"httpMethod":"GET","path":"/","headers":{"x-ok":"fine","x-crlf":"a\r\nInjected: 1","x-nul":"a\u0000b",
          "bad name":"v","x-lf":"a\nb"}})");
  CHECK(header_value(t.request, "x-ok") == "fine");
  CHECK(header_values(t.request, "x-crlf").empty());
  CHECK(header_values(t.request, "x-nul").empty());
  CHECK(header_values(t.request, "x-lf").empty());
  CHECK(header_values(t.request, "injected").empty());
  CHECK(t.dropped_headers.size() == 4);
  std::string head;
  t.request.append_head(head);
  CHECK(head.find("Injected") == std::string::npos);
}

TEST_CASE("framing headers from the event are dropped and Content-Length is recomputed") {
  const auto t = must_translate(
      R"({"httpMethod":"POST","path":"/","body":"abc","headers":{"Content-Length":"999","Transfer-Encoding":"chunked",
          "Connection":"close","TE":"trailers","Upgrade":"h2c","Keep-Alive":"5","Proxy-Connection":"x","Trailer":"y"}})");
  for (auto name : {"transfer-encoding", "connection", "te", "upgrade", "keep-alive", "proxy-connection", "trailer"}) {
    CHECK_MESSAGE(header_values(t.request, name).empty(), name);
  }
  CHECK(header_values(t.request, "content-length") == std::vector<std::string>{"3"});
}

TEST_CASE("context headers overwrite spoofed copies from the client") {
  invocation_context ctx = test_support::sample_context();
  ctx.tenant_id = "tenant-7";
  auto r = translate(
      R"({"httpMethod":"GET","path":"/","requestContext":{"stage":"prod"},"headers":{"x-amzn-request-context":"{\"spoof\":1}",
          "X-Amzn-Lambda-Context":"spoof","x-amzn-trace-id":"spoof","x-amz-tenant-id":"spoof"}})",
      {}, ctx);
  REQUIRE(r);
  const auto& req = r->request;
  CHECK(header_values(req, "x-amzn-request-context") == std::vector<std::string>{R"({"stage":"prod"})"});
  CHECK(header_values(req, "x-amzn-trace-id") == std::vector<std::string>{ctx.trace_id});
  CHECK(header_values(req, "x-amz-tenant-id") == std::vector<std::string>{"tenant-7"});
  const auto lambda_ctx = header_values(req, "x-amzn-lambda-context");
  REQUIRE(lambda_ctx.size() == 1);
  rapidjson::Document d;
  d.Parse(lambda_ctx[0].c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["request_id"].GetString()) == ctx.request_id);
  CHECK(d["deadline"].GetInt64() == *ctx.deadline_ms);
  CHECK(std::string(d["invoked_function_arn"].GetString()) == ctx.invoked_function_arn);
  CHECK(std::string(d["xray_trace_id"].GetString()) == ctx.trace_id);
  CHECK(std::string(d["tenant_id"].GetString()) == "tenant-7");
  CHECK(d["env_config"].IsObject());
}

TEST_CASE("context and framing headers spelt with underscores cannot spoof them for CGI-style apps") {
  // WSGI, PHP and CGI servers read x_amzn_lambda_context as HTTP_X_AMZN_LAMBDA_CONTEXT, the bridge's own header.
  auto r = translate(
      R"({"httpMethod":"POST","path":"/","body":"abc","requestContext":{"stage":"prod"},
          "multiValueHeaders":{"x_amzn_request_context":["{\"spoof\":1}"],"X_Amzn_Lambda_Context":["spoof"],
          "x_amzn_trace_id":["spoof"],"x-amz_tenant-id":["spoof"],"x_amz_tenant_id":["spoof"],
          "transfer_encoding":["chunked"],"content_length":["999"],"x_fine":["kept"]}})");
  REQUIRE(r);
  for (const auto& h : r->request.headers) {
    CHECK_MESSAGE(h.value != "spoof", h.name);
    CHECK_MESSAGE(h.value.find("spoof") == std::string::npos, h.name);
    CHECK_MESSAGE(h.name.find("encoding") == std::string::npos, h.name);
  }
  CHECK(header_values(r->request, "x-amzn-request-context") == std::vector<std::string>{R"({"stage":"prod"})"});
  CHECK(header_values(r->request, "content-length") == std::vector<std::string>{"3"});
  CHECK(header_values(r->request, "content_length").empty());
  CHECK(header_values(r->request, "x_fine") == std::vector<std::string>{"kept"});
}

TEST_CASE("client context and identity are embedded as JSON objects on one header line") {
  invocation_context ctx = test_support::sample_context();
  ctx.client_context = "{\n \"custom\": {\"k\": \"v\"}\n}";
  ctx.cognito_identity = "not json";
  auto r = translate(R"({"httpMethod":"GET","path":"/"})", {}, ctx);
  REQUIRE(r);
  const auto v = header_value(r->request, "x-amzn-lambda-context");
  CHECK(v.find('\n') == std::string::npos);
  rapidjson::Document d;
  d.Parse(v.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["client_context"]["custom"]["k"].GetString()) == "v");
  CHECK(d["identity"].IsNull());
}

TEST_CASE("the request context header is the event's requestContext as one line of ASCII JSON") {
  const auto t = must_translate(
      R"({"httpMethod":"GET","path":"/","requestContext":{"stage":"caf\u00e9 \ud83d\ude00","n":-3,"big":18446744073709551615,
          "f":0.5,"e":1e300,"list":[true,false,null,{"k":"line\nbreak"}],"empty":{}}})");
  const auto v = header_value(t.request, "x-amzn-request-context");
  CHECK(v == R"({"stage":"caf\u00e9 \ud83d\ude00","n":-3,"big":18446744073709551615,"f":0.5,"e":1e300,)"
             R"("list":[true,false,null,{"k":"line\nbreak"}],"empty":{}})");
}

TEST_CASE("the authorization source header replaces Authorization") {
  translate_options opts;
  opts.authorization_source = "x-original-auth";
  const auto t = must_translate(
      R"({"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}},
          "headers":{"authorization":"AWS4-HMAC-SHA256 sigv4","x-original-auth":"Bearer app-token"}})",
      opts);
  CHECK(header_values(t.request, "authorization") == std::vector<std::string>{"Bearer app-token"});
  CHECK(header_values(t.request, "x-original-auth").empty());
}

TEST_CASE("without the source header Authorization is left alone") {
  translate_options opts;
  opts.authorization_source = "x-original-auth";
  const auto t = must_translate(R"({"httpMethod":"GET","path":"/","headers":{"Authorization":"Basic abc"}})", opts);
  CHECK(header_values(t.request, "authorization") == std::vector<std::string>{"Basic abc"});
}

TEST_CASE("base path removal strips one leading segment-aligned prefix") {
  translate_options opts;
  opts.remove_base_path = "/api";
  CHECK(must_translate(R"({"httpMethod":"GET","path":"/api/x"})", opts).request.target == "/x");
  CHECK(must_translate(R"({"httpMethod":"GET","path":"/api"})", opts).request.target == "/");
  CHECK(must_translate(R"({"httpMethod":"GET","path":"/apix"})", opts).request.target == "/apix");
  CHECK(must_translate(R"({"httpMethod":"GET","path":"/api/api/x"})", opts).request.target == "/api/x");
}

TEST_CASE("a base64 body is decoded, binary bytes intact") {
  const auto t = must_translate(R"({"httpMethod":"POST","path":"/","body":"AAEC/w==","isBase64Encoded":true})");
  CHECK(t.request.payload() == std::string("\x00\x01\x02\xff", 4));
  CHECK(header_value(t.request, "content-length") == "4");
}

TEST_CASE("invalid base64 is an invocation error naming the field") {
  const auto f = must_fail(R"({"httpMethod":"POST","path":"/","body":"not base64!","isBase64Encoded":true})");
  CHECK(f.type == error_types::invalid_event);
  CHECK(f.message.find("'body'") != std::string::npos);
  CHECK(f.message.find("base64") != std::string::npos);
}

TEST_CASE("invalid JSON is an invocation error, not a crash") {
  for (std::string bad : {"", "{", "{\"httpMethod\":", "nul", "{\"a\":1}garbage", "\xff\xfe"}) {
    const auto f = must_fail(bad);
    CHECK(f.type == error_types::invalid_event);
    CHECK(f.message.find("not valid JSON") != std::string::npos);
  }
}

TEST_CASE("a value of the wrong type is an error naming the field") {
  auto f = must_fail(R"({"httpMethod":"GET","path":42})");
  CHECK(f.message.find("'path'") != std::string::npos);
  f = must_fail(R"({"httpMethod":"GET","path":"/","headers":{"x":{}}})");
  CHECK(f.message.find("'headers.x'") != std::string::npos);
  f = must_fail(R"({"httpMethod":"GET","path":"/","multiValueQueryStringParameters":{"a":[[1]]}})");
  CHECK(f.message.find("'multiValueQueryStringParameters.a'") != std::string::npos);
  f = must_fail(R"({"version":"2.0","rawPath":"/","requestContext":{"http":{"method":7}}})");
  CHECK(f.message.find("'requestContext.http.method'") != std::string::npos);
  f = must_fail(R"({"httpMethod":"GET","path":"/","requestContext":[]})");
  CHECK(f.message.find("'requestContext'") != std::string::npos);
}

TEST_CASE("a method that is not an HTTP token is refused") {
  for (auto m : {"GET /x HTTP/1.1\\r\\n", "GE T", "", "G\\u0000T"}) {
    const auto f = must_fail(std::string(R"({"httpMethod":")") + m + R"(","path":"/"})");
    CHECK(f.type == error_types::invalid_event);
    CHECK(f.message.find("httpMethod") != std::string::npos);
  }
}

TEST_CASE("a HEAD request is marked so the reply body is not awaited") {
  CHECK(must_translate(R"({"httpMethod":"HEAD","path":"/"})").shape.head);
  CHECK_FALSE(must_translate(R"({"httpMethod":"GET","path":"/"})").shape.head);
}

TEST_CASE("no input puts a space, CR, LF or NUL into the request line") {
  const auto t = must_translate(
      R"({"httpMethod":"GET","path":"/a\r\nHost: evil\u0000 x","multiValueQueryStringParameters":{"k\r\n":["v \u0000"]}})");
  const auto& target = t.request.target;
  CHECK(target.find_first_of(std::string(" \r\n\0", 4)) == std::string::npos);
  CHECK(target == "/a%0D%0AHost:%20evil%00%20x?k%0D%0A=v%20%00");
  const auto alb = must_translate(
      R"({"requestContext":{"elb":{}},"httpMethod":"GET","path":"/","queryStringParameters":{"a b":"c\r\nd%zz"}})");
  CHECK(alb.request.target == "/?a%20b=c%0D%0Ad%25zz");
}

TEST_CASE("Lambda@Edge events are refused with a clear error") {
  auto r = translate(R"({"Records":[{"cf":{"config":{},"request":{"method":"GET","uri":"/"}}}]})");
  REQUIRE_FALSE(r);
  CHECK(r.error().type == error_types::unsupported_event);
  CHECK(r.error().message.find("Lambda@Edge") != std::string::npos);
}

TEST_CASE("detection follows the spec's order, most specific first") {
  // An ALB event that also looks like REST is ALB.
  CHECK(must_translate(R"({"requestContext":{"elb":{}},"httpMethod":"GET","path":"/"})").shape.source == event_source::alb);
  // Lattice v2 without serviceNetworkArn: version 2.0, top-level method, no requestContext.http.
  CHECK(must_translate(R"({"version":"2.0","method":"GET","path":"/"})").shape.source == event_source::lattice_v2);
  CHECK(must_translate(R"({"raw_path":"/","method":"GET"})").shape.source == event_source::lattice_v1);
  // A WebSocket event that carries httpMethod is still WebSocket.
  CHECK(must_translate(R"({"httpMethod":"GET","path":"/","requestContext":{"connectionId":"x"}})").shape.source ==
        event_source::pass_through);
  // httpMethod that is not a string is not REST.
  CHECK(must_translate(R"({"httpMethod":1})").shape.source == event_source::pass_through);
}

TEST_CASE("a translator reused across events carries nothing over") {
  lambda_bridge::translator tr;
  translate_options opts;
  auto first = tr.translate(R"({"httpMethod":"GET","path":"/one","headers":{"x-first":"1"}})", test_support::sample_context(), opts);
  auto second = tr.translate(R"({"httpMethod":"POST","path":"/two","body":"b"})", test_support::sample_context(), opts);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(second->request.target == "/two");
  CHECK(header_values(second->request, "x-first").empty());
  CHECK(second->request.payload() == "b");
}

TEST_CASE("a translator given back its requests translates each next event exactly as a fresh one") {
  // recycle() hands the strings of a served request to the next translation; none of their old text may show.
  std::string many_headers = R"({"httpMethod":"GET","path":"/many","headers":{)";
  for (int i = 0; i < 80; ++i) {
    if (i > 0) many_headers += ',';
    many_headers.append("\"x-h").append(std::to_string(i)).append("\":\"").append(std::string(i, 'v')).append("\"");
  }
  many_headers += "}}";
  const std::string events[] = {
      R"({"httpMethod":"GET","path":"/first/path/that/is/long","queryStringParameters":{"q":"a long query value"},
          "headers":{"user-agent":"Mozilla/5.0 (X11; Linux x86_64) a long header value","x-short":"1"},
          "requestContext":{"stage":"prod","requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}})",
      R"({"httpMethod":"POST","path":"/2","body":"b","headers":{"x-crlf":"a\r\nInjected: 1","x-ok":"ok"}})",
      many_headers,
      R"({"httpMethod":"PUT","path":"/big","headers":{"x-big":")" + std::string(10'000, 'z') + R"("}})",
      R"({"version":"2.0","rawPath":"/v2","rawQueryString":"a=1&b=2","headers":{"content-type":"text/plain"},
          "requestContext":{"http":{"method":"PATCH"}},"body":"aGVsbG8=","isBase64Encoded":true})",
      R"({"httpMethod":"GET","path":"/"})",
  };
  lambda_bridge::translator reused;
  translate_options opts;
  for (int round = 0; round < 2; ++round) {
    for (const auto& event : events) {
      CAPTURE(event.substr(0, 60));
      lambda_bridge::translator fresh;
      auto want = fresh.translate(std::string(event), test_support::sample_context(), opts);
      auto got = reused.translate(std::string(event), test_support::sample_context(), opts);
      REQUIRE(want);
      REQUIRE(got);
      CHECK(got->request.method == want->request.method);
      CHECK(got->request.target == want->request.target);
      CHECK(got->request.payload() == want->request.payload());
      CHECK(got->dropped_headers == want->dropped_headers);
      REQUIRE(got->request.headers.size() == want->request.headers.size());
      for (std::size_t i = 0; i < want->request.headers.size(); ++i) {
        CHECK(got->request.headers[i].name == want->request.headers[i].name);
        CHECK(got->request.headers[i].value == want->request.headers[i].value);
      }
      reused.recycle(std::move(got->request));
    }
  }
}

TEST_CASE("a usual event's parse stacks come from the block cache once warm, and a large one's from the heap") {
  // RapidJSON makes two stacks per parse (the document's and the reader's); with the C allocator they were two heap
  // allocations per invocation (issue 14). Wide and deep enough that both stacks are used, within 16 KB.
  std::string event = R"({"httpMethod":"POST","path":"/p","headers":{)";
  for (int i = 0; i < 40; ++i) event.append(i ? "," : "").append("\"x-h").append(std::to_string(i)).append("\":\"v\"");
  event += R"(},"requestContext":{"a":{"b":{"c":[1,2,3,{"d":[4.5,null,true]}]}}},"body":"x"})";
  lambda_bridge::translator tr;
  translate_options opts;
  for (int i = 0; i < 3; ++i) REQUIRE(tr.translate(std::string(event), test_support::sample_context(), opts));
  const auto before = frame_cache::this_thread_counters();
  for (int i = 0; i < 20; ++i) {
    auto t = tr.translate(std::string(event), test_support::sample_context(), opts);
    REQUIRE(t);
    CHECK(t->request.headers.size() >= 40);
    tr.recycle(std::move(t->request));
  }
  const auto after = frame_cache::this_thread_counters();
  CHECK(after.from_heap == before.from_heap);
  CHECK(after.reused - before.reused >= 40);  // two stacks for each of the 20
  // An event whose document stack outgrows the cache's sizes (200,000 members) parses whole, on the heap.
  std::string wide = R"({"httpMethod":"GET","path":"/","stageVariables":{)";
  for (int i = 0; i < 200'000; ++i) wide.append(i ? "," : "").append("\"k").append(std::to_string(i)).append("\":0");
  wide += "}}";
  CHECK(must_translate(wide).request.method == "GET");
}

TEST_CASE("an event nested deeper than any real one is refused before it can exhaust the stack") {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto f = must_fail(deep);
  CHECK(f.type == error_types::invalid_event);
  CHECK(f.message.find("levels deep") != std::string::npos);
  const std::string nested_context = R"({"httpMethod":"GET","path":"/","requestContext":)" + std::string(5000, '[') +
                                     std::string(5000, ']') + "}";
  CHECK(must_fail(nested_context).type == error_types::invalid_event);
  // Brackets inside strings do not count.
  CHECK(must_translate(R"({"httpMethod":"GET","path":"/","body":")" + std::string(1000, '[') + R"("})").request.method == "GET");
  // The scan skips sixteen bytes at a time inside a string: escaped quotes and brackets at every offset of a block
  // (and of the next) keep their meaning.
  for (std::size_t pad = 0; pad < 32; ++pad) {
    const std::string filler(pad, 'a');
    const std::string escaped = R"({"httpMethod":"GET","path":"/","body":")" + filler + R"(\"[[[\\" ,"x":)";
    // With the outer object, 128 arrays are 129 levels: one too many.
    std::string nested = escaped + std::string(128, '[') + std::string(128, ']') + "}";
    CHECK(must_fail(nested).message.find("129 levels") != std::string::npos);
    std::string shallow = escaped + std::string(127, '[') + std::string(127, ']') + "}";
    CHECK(must_translate(shallow).request.payload() == filler + R"("[[[\)");
  }
}

TEST_CASE("a NUL, a byte that is not UTF-8 or an escape is found at any offset of a long string") {
  // The event is scanned once before the parse, 64 or 16 bytes at a time inside strings (scan_event_text); each of
  // these at each offset of the first 140 bytes of a body (past two 64-byte steps), in an HTTP event and in a
  // pass-through event forwarded as it came.
  const std::string plain(200, 'a');
  auto http = [](const std::string& body) { return R"({"httpMethod":"POST","path":"/","body":")" + body + R"("})"; };
  for (std::size_t at = 0; at < 140; ++at) {
    CAPTURE(at);
    std::string b = plain;
    b[at] = '\0';
    CHECK(must_fail(http(b)).message.find("NUL byte") != std::string::npos);
    b = plain;
    b[at] = '\x80';  // a continuation byte with no lead
    CHECK(must_fail(http(b)).message.find("UTF-8") != std::string::npos);
    b = plain;
    b.replace(at, 2, "\xe2\x82");  // a three-byte sequence cut short
    CHECK(must_fail(http(b)).message.find("UTF-8") != std::string::npos);
    b = plain;
    b.replace(at, 3, "\xe2\x82\xac");  // a whole one (the euro sign), across a block's end at some offsets
    CHECK(must_translate(http(b)).request.payload() == b);
    b = plain;
    b.replace(at, 2, "\\\"");  // an escaped quote: the string goes on
    std::string decoded = plain;
    decoded.replace(at, 2, "\"");
    CHECK(must_translate(http(b)).request.payload() == decoded);
    const std::string sqs = R"({"Records":[{"eventSource":"aws:sqs","body":")" + b + R"("}]})";
    CHECK(must_translate(sqs).request.payload() == sqs);
  }
}

TEST_CASE("an event that is not UTF-8 is refused as invalid") {
  const auto f = must_fail("{\"httpMethod\":\"GET\",\"path\":\"/\xc3\x28\"}");
  CHECK(f.type == error_types::invalid_event);
  CHECK(f.message.find("UTF-8") != std::string::npos);
}

TEST_CASE("a domainName that is not a plain host never becomes the Host header") {
  const auto t = must_translate(
      R"({"version":"2.0","rawPath":"/","requestContext":{"domainName":"x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1","http":{"method":"GET"}}})");
  CHECK(header_values(t.request, "host") == std::vector<std::string>{"127.0.0.1:8080"});
  CHECK(header_values(t.request, "transfer-encoding").empty());
}

TEST_CASE("only the first Host header is forwarded") {
  const auto t = must_translate(R"({"httpMethod":"GET","path":"/","multiValueHeaders":{"Host":["a.example","b.example"]}})");
  CHECK(header_values(t.request, "host") == std::vector<std::string>{"a.example"});
}

TEST_CASE("numbers and booleans where a header or query value belongs are sent as the event wrote them") {
  // Published test events write "Content-Length": 13 and numeric query values.
  const auto t = must_translate(
      R"({"httpMethod":"POST","path":"/","body":"hello","headers":{"Content-Length":13,"X-Ratio":1.50,"X-Exp":1e3,
          "X-Id":12345678901234567890123,"X-Neg":-0,"X-Flag":true,"X-Off":false},
          "multiValueHeaders":{"X-Multi":[1,"two",false,-2.5E-3]},
          "multiValueQueryStringParameters":{"page":[2],"v":1.10,"on":[true,null]},
          "pathParameters":{"id":42},"stageVariables":{"n":1},"requestContext":{"requestTimeEpoch":1583348638390}})");
  CHECK(header_value(t.request, "x-ratio") == "1.50");
  CHECK(header_value(t.request, "x-exp") == "1e3");
  CHECK(header_value(t.request, "x-id") == "12345678901234567890123");
  CHECK(header_value(t.request, "x-neg") == "-0");
  CHECK(header_value(t.request, "x-flag") == "true");
  CHECK(header_value(t.request, "x-off") == "false");
  CHECK(header_values(t.request, "x-multi") == std::vector<std::string>{"1", "two", "false", "-2.5E-3"});
  CHECK(header_values(t.request, "content-length") == std::vector<std::string>{"5"});  // the body's, as always
  CHECK(t.request.target == "/?page=2&v=1.10&on=true");
  // The request context keeps its numbers as numbers.
  CHECK(header_value(t.request, "x-amzn-request-context") == R"({"requestTimeEpoch":1583348638390})");
}

TEST_CASE("numbers where a header or query value belongs are kept as written by every source") {
  auto t = must_translate(R"({"version":"2.0","rawPath":"/","rawQueryString":"","headers":{"x-n":0.10},
                              "requestContext":{"http":{"method":"GET"}}})");
  CHECK(header_value(t.request, "x-n") == "0.10");
  t = must_translate(R"({"requestContext":{"elb":{}},"httpMethod":"GET","path":"/","headers":{"x-n":7},
                         "queryStringParameters":{"a":1.0}})");
  CHECK(header_value(t.request, "x-n") == "7");
  CHECK(t.request.target == "/?a=1.0");
  t = must_translate(R"({"version":"2.0","method":"GET","path":"/","headers":{"x-n":[3,4.0]},
                         "queryStringParameters":{"q":5e-1},"requestContext":{"serviceNetworkArn":"arn"}})");
  CHECK(header_values(t.request, "x-n") == std::vector<std::string>{"3", "4.0"});
  CHECK(t.request.target == "/?q=5e-1");
  t = must_translate(
      R"({"raw_path":"/","method":"GET","headers":{"x-n":false},"query_string_parameters":{"q":-1}})");
  CHECK(header_value(t.request, "x-n") == "false");
  CHECK(t.request.target == "/?q=-1");
}

TEST_CASE("an object or array where a header or query string belongs is still an error naming the field") {
  auto f = must_fail(R"({"httpMethod":"GET","path":"/","headers":{"x":[1]}})");
  CHECK(f.type == error_types::invalid_event);
  CHECK(f.message == "event field 'headers.x' must be a string, number or boolean");
  f = must_fail(R"({"httpMethod":"GET","path":"/","queryStringParameters":{"a":{"b":1}}})");
  CHECK(f.message ==
        "event field 'queryStringParameters.a' must be a string, number or boolean, or an array of them");
  f = must_fail(R"({"httpMethod":"GET","path":"/","multiValueHeaders":{"x":[1,{}]}})");
  CHECK(f.message == "event field 'multiValueHeaders.x' must be an array of strings, numbers or booleans");
}

TEST_CASE("a body goes to the app decoded from the event's bytes, whatever its size and place") {
  // Small bodies in an event are copied out; one that is most of the event takes the event's memory.
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{300000}}) {
    const std::string text(n, 'z');
    auto t = must_translate(R"({"body":")" + text + R"(","httpMethod":"POST","path":"/","headers":{"a":"b"}})");
    CHECK(t.request.payload() == text);
    CHECK(header_value(t.request, "content-length") == std::to_string(n));
    CHECK(header_value(t.request, "a") == "b");
    t = must_translate(R"({"httpMethod":"POST","path":"/","headers":{"a":"b"},"body":")" + text + R"("})");
    CHECK(t.request.payload() == text);
  }
  const std::string escaped = R"({"httpMethod":"POST","path":"/","body":"{\"k\":\"caf\u00e9\"}\n\\"})";
  CHECK(must_translate(escaped).request.payload() == "{\"k\":\"caf\xc3\xa9\"}\n\\");
}

TEST_CASE("a base64 body is decoded where it lies in the event, at any length") {
  std::string bytes;
  for (int i = 0; i < 70000; ++i) bytes.push_back(static_cast<char>(i * 31 + 7));
  for (const std::size_t n : {std::size_t{1}, std::size_t{5}, std::size_t{6}, std::size_t{7}, std::size_t{13},
                              std::size_t{70000}}) {
    std::string enc;
    base64::append_encoded(enc, std::string_view(bytes).substr(0, n));
    const auto t = must_translate(R"({"httpMethod":"POST","path":"/","isBase64Encoded":true,"body":")" + enc +
                                  R"(","headers":{"x-after":"kept"}})");
    CHECK(t.request.payload() == bytes.substr(0, n));
    CHECK(header_value(t.request, "content-length") == std::to_string(n));
    CHECK(header_value(t.request, "x-after") == "kept");
  }
}

TEST_CASE("numbers are kept as written in an event with escapes, parsed in place") {
  const auto t = must_translate(
      R"({"httpMethod":"POST","path":"/","body":"a\"b","headers":{"x-q":"say \"hi\"","x-n":1.50}})");
  CHECK(header_value(t.request, "x-n") == "1.50");
  CHECK(header_value(t.request, "x-q") == "say \"hi\"");
  CHECK(t.request.payload() == "a\"b");
}

TEST_CASE("invalid base64 fails the translation whether the body is most of the event or a small part of it") {
  for (const std::size_t n : {std::size_t{8}, std::size_t{4000}}) {
    for (const std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      std::string body(n, 'Q');
      body[at] = '*';
      const auto f = must_fail(R"({"httpMethod":"POST","path":"/","isBase64Encoded":true,"body":")" + body +
                               R"(","headers":{"a":"b","c":"d","e":"f","g":"h","i":"j","k":"l","m":"n"}})");
      CHECK(f.type == error_types::invalid_event);
      CHECK(f.message.find("'body' is not valid base64 although 'isBase64Encoded' is true") != std::string::npos);
    }
  }
}
