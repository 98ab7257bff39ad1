// The local emulator's Invoke API paths: which function a path names, in every form Lambda's FunctionName takes.
#include <doctest/doctest.h>

#include "lambda_bridge/local/emulator.hpp"

using namespace lambda_bridge;

TEST_CASE("both invoke paths are recognised with the function they name, and nothing else is") {
  auto p = parse_invoke_path("/2015-03-31/functions/myfn/invocations");
  REQUIRE(p);
  CHECK_FALSE(p->streaming);
  CHECK(p->function == "myfn");
  p = parse_invoke_path(
      "/2021-11-15/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Amyfn/"
      "response-streaming-invocations");
  REQUIRE(p);
  CHECK(p->streaming);
  CHECK(p->function == "arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Amyfn");
  for (auto other : {"/2015-03-31/functions//invocations", "/2015-03-31/functions/a/b/invocations",
                     "/2015-03-31/functions/myfn", "/2015-03-31/functions/myfn/invocations/",
                     "/2021-11-15/functions/myfn/invocations",
                     "/2015-03-31/functions/myfn/response-streaming-invocations", "/", ""}) {
    CHECK_MESSAGE(!parse_invoke_path(other), other);
  }
}

TEST_CASE("a FunctionName is a name, an ARN or a partial ARN, with any qualifier, percent-encoded or not") {
  CHECK(function_name_of("myfn") == "myfn");
  CHECK(function_name_of("myfn:prod") == "myfn");
  CHECK(function_name_of("myfn%3A%24LATEST") == "myfn");
  CHECK(function_name_of("arn:aws:lambda:eu-west-1:123456789012:function:myfn") == "myfn");
  CHECK(function_name_of("arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Amyfn%3A7") == "myfn");
  CHECK(function_name_of("123456789012:function:myfn") == "myfn");
  CHECK(function_name_of("123456789012:function:myfn:live") == "myfn");
  for (auto bad : {"", "a:b:c", "myfn:1:2", "arn:aws:lambda:eu-west-1:1:layer:x",
                   "123456789012:function:", "arn:aws:lambda:eu-west-1:123456789012:function:myfn:1:2"}) {
    CHECK_MESSAGE(function_name_of(bad).empty(), bad);
  }
}

TEST_CASE("the emulated function is AWS_LAMBDA_FUNCTION_NAME, else function, with a Lambda ARN") {
  config cfg;
  CHECK(emulated_function_name(cfg) == "function");
  cfg.function.function_name = "myfn";
  CHECK(emulated_function_name(cfg) == "myfn");
  CHECK(emulated_function_arn("myfn") == "arn:aws:lambda:us-east-1:012345678912:function:myfn");
}
