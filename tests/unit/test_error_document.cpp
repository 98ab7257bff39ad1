// Lambda's error document: written once for every peer, read back from what a runtime posts.
#include <doctest/doctest.h>

#include "lambda_bridge/core/error_document.hpp"

using namespace lambda_bridge;

TEST_CASE("the error document has the Runtime API's fields, escaped, with an empty stack trace when asked") {
  std::string posted;
  append_error_json(posted, "Runtime.BackendTimeout", "said \"no\"\n");
  CHECK(posted == R"({"errorMessage":"said \"no\"\n","errorType":"Runtime.BackendTimeout","stackTrace":[]})");
  std::string answered;
  append_error_json(answered, "NotFound", "unknown path", stack_trace::omitted);
  CHECK(answered == R"({"errorMessage":"unknown path","errorType":"NotFound"})");
}

TEST_CASE("a posted error document reads back its type and message; anything else is not one") {
  std::string doc;
  append_error_json(doc, "Runtime.AppExited", "the app exited with status 3");
  const auto read = parse_error_json(doc);
  REQUIRE(read);
  CHECK(read->type == "Runtime.AppExited");
  CHECK(read->message == "the app exited with status 3");
  const auto partial = parse_error_json(R"({"errorType":7,"errorMessage":"m"})");
  REQUIRE(partial);
  CHECK(partial->type.empty());
  CHECK(partial->message == "m");
  CHECK_FALSE(parse_error_json("not json"));
  CHECK_FALSE(parse_error_json("[]"));
}
