// VPC Lattice (v1 and v2) events and results: mirrors src/core/events/lattice.cpp.
#include <doctest/doctest.h>

#include "core_test_support.hpp"

using namespace lambda_bridge;
using namespace test_support;

TEST_CASE("VPC Lattice v2 with the query inside the path uses it as the raw query") {
  const auto t = must_translate(test_support::fixture("aws-powertools__powertools-lambda-typescript/base.json"));
  CHECK(t.shape.source == event_source::lattice_v2);
  CHECK(t.request.target == "/echo?QS1=value1&QS1=value2&single=one");
  CHECK(header_values(t.request, "header1") == std::vector<std::string>{"value1", "value2"});
}

TEST_CASE("VPC Lattice results have a status description and single-valued headers") {
  const auto d = convert(event_source::lattice_v2, reply(503, app_headers, "down"));
  CHECK(str(d["statusDescription"]) == "503 Service Unavailable");
  CHECK(str(d["headers"]["X-Multi"]) == "one,two");
  CHECK(str(d["headers"]["Set-Cookie"]) == "a=1; Path=/,b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
}

TEST_CASE("a VPC Lattice event without x-forwarded-proto gets none: the service may be plain HTTP") {
  auto t =
      must_translate(R"({"version":"2.0","method":"GET","path":"/","requestContext":{"serviceNetworkArn":"a"}})");
  CHECK(header_values(t.request, "x-forwarded-proto").empty());
  t = must_translate(R"({"raw_path":"/","method":"GET"})");
  CHECK(header_values(t.request, "x-forwarded-proto").empty());
}
