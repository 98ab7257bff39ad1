// Extension mode's pure pieces: who the bridge is (argv[0], the variable), the Extensions API's documents, and
// the configuration that selects extension mode or emulator-only mode.
#include <doctest/doctest.h>

#include <map>

#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/config/launch.hpp"
#include "lambda_bridge/lambda/extensions_api.hpp"

using namespace lambda_bridge;

namespace {

config read_ok(std::map<std::string, std::string> vars) {
  auto r = read_config([vars](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
  REQUIRE(r.value);
  return *r.value;
}

}  // namespace

TEST_CASE("an executable in /opt/extensions is an extension named after its file") {
  CHECK(extension_name_for("/opt/extensions/lambda-bridge", std::nullopt) == "lambda-bridge");
  CHECK(extension_name_for("/opt/extensions/my-bridge", std::nullopt) == "my-bridge");
  CHECK_FALSE(extension_name_for("/opt/lambda-bridge", std::nullopt));
  CHECK_FALSE(extension_name_for("/opt/extensions/sub/lambda-bridge", std::nullopt));
  CHECK_FALSE(extension_name_for("lambda-bridge", std::nullopt));
  CHECK_FALSE(extension_name_for("", std::nullopt));
}

TEST_CASE("LAMBDA_BRIDGE_EXTENSION_MODE forces extension mode on or off") {
  CHECK(extension_name_for("/tmp/x/opt/extensions/lambda-bridge", true) == "lambda-bridge");
  CHECK(extension_name_for("lambda-bridge", true) == "lambda-bridge");
  CHECK_FALSE(extension_name_for("/opt/extensions/lambda-bridge", false));
  CHECK_FALSE(extension_name_for("/opt/extensions/", true));  // no file name to register under
}

TEST_CASE("a SHUTDOWN event is read with its reason and deadline") {
  auto ev = parse_extension_event(R"({"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":1700000002000})");
  REQUIRE(ev);
  CHECK(ev->event_type == "SHUTDOWN");
  CHECK(ev->shutdown_reason == "spindown");
  CHECK(ev->deadline_ms == 1700000002000);
}

TEST_CASE("an INVOKE event keeps its request id; unknown event types pass through") {
  auto ev = parse_extension_event(invoke_event_json(5, "req-1", "arn:aws:lambda:us-east-1:1:function:f", "Root=1"));
  REQUIRE(ev);
  CHECK(ev->event_type == "INVOKE");
  CHECK(ev->request_id == "req-1");
  CHECK(ev->deadline_ms == 5);
  auto future = parse_extension_event(R"({"eventType":"RESTORE","extra":[1,2]})");
  REQUIRE(future);
  CHECK(future->event_type == "RESTORE");
}

TEST_CASE("unreadable extension events are failures, not crashes") {
  for (const char* doc : {"", "not json", "[]", R"({"eventType":7})", R"({"shutdownReason":"spindown"})"}) {
    CAPTURE(doc);
    CHECK_FALSE(parse_extension_event(doc));
  }
  auto ev = parse_extension_event(R"({"eventType":"SHUTDOWN","deadlineMs":"soon"})");
  REQUIRE(ev);
  CHECK(ev->deadline_ms == 0);  // a deadline that is not a number is left unset
}

TEST_CASE("the event documents are Lambda's") {
  CHECK(shutdown_event_json("spindown", 42) == R"({"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":42})");
  CHECK(invoke_event_json(42, "id", "arn", "Root=1-2") ==
        R"({"eventType":"INVOKE","deadlineMs":42,"requestId":"id","invokedFunctionArn":"arn",)"
        R"("tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-2"}})");
}

TEST_CASE("a registration subscribes to INVOKE and SHUTDOWN only") {
  auto both = parse_register_events(R"({"events":["SHUTDOWN","INVOKE","SHUTDOWN"]})");
  REQUIRE(both);
  CHECK(*both == std::vector<std::string>{"SHUTDOWN", "INVOKE"});
  auto none = parse_register_events(R"({"events":[]})");
  REQUIRE(none);
  CHECK(none->empty());
  auto unknown = parse_register_events(R"({"events":["SHUTDOWN","REBOOT"]})");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("REBOOT") != std::string::npos);
  CHECK_FALSE(parse_register_events(R"({"events":[1]})"));
  CHECK_FALSE(parse_register_events(R"({"events":"SHUTDOWN"})"));
  CHECK_FALSE(parse_register_events(R"({})"));
  CHECK_FALSE(parse_register_events("nonsense"));
}

TEST_CASE("emulator-only mode puts the Runtime API on 9001 unless told otherwise") {
  CHECK(read_ok({}).runtime_api_port == 0);
  CHECK_FALSE(read_ok({}).emulator_only);
  const auto only = read_ok({{"LAMBDA_BRIDGE_EMULATOR_ONLY", "true"}});
  CHECK(only.emulator_only);
  CHECK(only.runtime_api_port == 9001);
  CHECK(read_ok({{"LAMBDA_BRIDGE_EMULATOR_ONLY", "1"}, {"LAMBDA_BRIDGE_RUNTIME_API_PORT", "0"}}).runtime_api_port == 0);
  CHECK(read_ok({{"LAMBDA_BRIDGE_RUNTIME_API_PORT", "9555"}}).runtime_api_port == 9555);
}

TEST_CASE("extension mode and Runtime API port settings are validated") {
  CHECK_FALSE(read_ok({}).extension_mode);
  CHECK(read_ok({{"LAMBDA_BRIDGE_EXTENSION_MODE", "false"}}).extension_mode == false);
  CHECK(read_ok({{"LAMBDA_BRIDGE_EXTENSION_MODE", "on"}}).extension_mode == true);
  auto bad = read_config([](std::string_view name) -> std::optional<std::string> {
    if (name == "LAMBDA_BRIDGE_EXTENSION_MODE") return "sometimes";
    if (name == "LAMBDA_BRIDGE_RUNTIME_API_PORT") return "70000";
    return std::nullopt;
  });
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].find("LAMBDA_BRIDGE_EXTENSION_MODE=\"sometimes\"") != std::string::npos);
  CHECK(bad.errors[1].find("LAMBDA_BRIDGE_RUNTIME_API_PORT=\"70000\"") != std::string::npos);
}

TEST_CASE("launch problems name the conflicting settings") {
  config c = read_ok({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}});
  const std::optional<std::string> ext = "lambda-bridge";
  CHECK(launch_problem(c, ext, false).empty());
  CHECK(launch_problem(c, std::nullopt, true).empty());
  CHECK(launch_problem(c, ext, true).find("given an app command") != std::string::npos);
  c.exec_mode = true;
  CHECK(launch_problem(c, ext, false).find("LAMBDA_BRIDGE_EXEC") != std::string::npos);
  c = read_ok({});
  CHECK(launch_problem(c, ext, false).find("AWS_LAMBDA_RUNTIME_API is not set") != std::string::npos);
  c = read_ok({{"LAMBDA_BRIDGE_EMULATOR_ONLY", "true"}});
  CHECK(launch_problem(c, std::nullopt, false).empty());
  CHECK(launch_problem(c, std::nullopt, true).find("starts no app") != std::string::npos);
  CHECK(launch_problem(c, ext, false).find("exclude each other") != std::string::npos);
}

TEST_CASE("emulator-only ports ignore the app's but not each other's") {
  config c = read_ok({{"LAMBDA_BRIDGE_EMULATOR_ONLY", "true"}});  // app 8080 = invoke API 8080: no app here
  CHECK(local_port_conflict(c).empty());
  c.runtime_api_port = 8080;
  CHECK(local_port_conflict(c).find("LAMBDA_BRIDGE_RUNTIME_API_PORT") != std::string::npos);
  c.runtime_api_port = 9001;
  c.gateway_port = 8080;
  CHECK(local_port_conflict(c).find("LAMBDA_BRIDGE_GATEWAY_PORT") != std::string::npos);
}
