// Every request fixture (real events published by other projects, tests/fixtures/SOURCES.md) maps to the exact
// method, target, headers and body that the spec demands. The expectations in fixture_expectations.json were
// derived from the spec and the fixture bytes independently of the implementation.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "support.hpp"

using namespace lambda_bridge;

namespace {

bool is_context_header(std::string_view n) {
  std::string l(n);
  for (auto& c : l) c = static_cast<char>(std::tolower(c));
  return l == "x-amzn-request-context" || l == "x-amzn-lambda-context" || l == "x-amzn-trace-id" || l == "x-amz-tenant-id";
}

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

}  // namespace

TEST_CASE("every request fixture maps to the exact request the spec demands") {
  const std::string table_text = test_support::read_file(std::string(LAMBDA_BRIDGE_FIXTURES) + "/../unit/fixture_expectations.json");
  rapidjson::Document table;
  table.Parse(table_text.c_str());
  REQUIRE_FALSE(table.HasParseError());
  REQUIRE(table.IsArray());
  CHECK(table.Size() >= 50);

  for (const auto& e : table.GetArray()) {
    const std::string name = str(e["fixture"]);
    CAPTURE(name);
    const std::string event = test_support::fixture(name);
    auto r = test_support::translate(event);
    REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
    const auto& req = r->request;
    CHECK(std::string(to_string(r->shape.source)) == str(e["source"]));
    CHECK(req.method == str(e["method"]));
    CHECK(req.target == str(e["target"]));
    if (e.HasMember("body")) {
      CHECK(req.payload() == str(e["body"]));
    } else if (e.HasMember("body_base64")) {
      std::string decoded;
      REQUIRE(base64::append_decoded(decoded, str(e["body_base64"])));
      CHECK(req.payload() == decoded);
    } else {
      CHECK(req.payload() == event);  // pass-through: byte for byte
    }

    std::vector<std::pair<std::string, std::string>> got, want;
    for (const auto& h : req.headers) {
      if (!is_context_header(h.name)) got.emplace_back(h.name, h.value);
    }
    for (const auto& h : e["headers"].GetArray()) want.emplace_back(str(h[0]), str(h[1]));
    CHECK(got == want);

    // Context headers: each exactly once; the request context is the event's, re-serialised compactly.
    CHECK(test_support::header_values(req, "x-amzn-lambda-context").size() == 1);
    CHECK(test_support::header_values(req, "x-amzn-trace-id") ==
          std::vector<std::string>{test_support::sample_context().trace_id});
    const auto rc = test_support::header_values(req, "x-amzn-request-context");
    REQUIRE(rc.size() == 1);
    rapidjson::Document sent, original;
    sent.Parse(rc[0].c_str());
    original.Parse(event.c_str());
    REQUIRE_FALSE(sent.HasParseError());
    if (r->shape.source == event_source::pass_through || !original.HasMember("requestContext")) {
      CHECK(sent.IsNull());
    } else {
      CHECK(sent == original["requestContext"]);
    }
  }
}

TEST_CASE("results have every member of the published response samples of their source") {
  // The *-response.json fixtures show what each source reads back; our result for the same source must have the
  // same member names (values differ). The ALB sample shows both header maps, one per mode.
  struct sample {
    const char* file;
    event_source source;
    bool multi_value;
    const char* not_in_this_mode;
  };
  for (const auto& s : {sample{"aws__aws-lambda-go/apigw-response.json", event_source::rest, false, ""},
                        sample{"aws__aws-lambda-go/alb-lambda-target-response.json", event_source::alb, false, "multiValueHeaders"},
                        sample{"aws__aws-lambda-go/alb-lambda-target-response.json", event_source::alb, true, "headers"},
                        sample{"awslabs__aws-lambda-rust-runtime/example-vpc-lattice-response.json", event_source::lattice_v2, false, ""},
                        sample{"aws__aws-lambda-go/lambda-urls-response.json", event_source::function_url, false, ""}}) {
    const std::string file = s.file;
    CAPTURE(file);
    rapidjson::Document sample_doc;
    const std::string text = test_support::fixture(s.file);
    sample_doc.Parse(text.c_str());
    REQUIRE_FALSE(sample_doc.HasParseError());
    std::string out;
    backend_reply reply{200, "OK", {{"Content-Type", "text/plain"}, {"Set-Cookie", "a=1"}}, "hello"};
    REQUIRE_FALSE(convert_reply(response_shape{s.source, s.multi_value, false}, reply, out, {}));
    rapidjson::Document ours;
    ours.Parse(out.c_str());
    for (auto it = sample_doc.MemberBegin(); it != sample_doc.MemberEnd(); ++it) {
      const std::string member = str(it->name);
      CAPTURE(member);
      CHECK(ours.HasMember(it->name) != (member == s.not_in_this_mode));
    }
  }
}
