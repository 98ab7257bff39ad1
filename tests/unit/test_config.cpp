// Configuration: defaults, aws-lambda-web-adapter's names, and errors that name the variable and the value.
#include <doctest/doctest.h>

#include <map>

#include "lambda_bridge/config/config.hpp"
#include "lambda_bridge/config/help.hpp"

using namespace lambda_bridge;

namespace {

// Reads `vars` as the environment; the names of every variable set are passed too, as main passes environ's.
config_result read(std::map<std::string, std::string> vars) {
  std::vector<std::string> names;
  for (const auto& [name, value] : vars) names.push_back(name);
  return read_config(
      [vars](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
      },
      names);
}

std::string all_warnings(const config_result& r) {
  std::string s;
  for (const auto& w : r.warnings) s += w + "\n";
  return s;
}

std::string all_errors(const config_result& r) {
  std::string s;
  for (const auto& e : r.errors) s += e + "\n";
  return s;
}

}  // namespace

TEST_CASE("defaults match aws-lambda-web-adapter's") {
  const auto r = read({});
  REQUIRE(r.value);
  const auto& c = *r.value;
  CHECK(c.backend.host == "127.0.0.1");
  CHECK(c.backend.port == 8080);
  CHECK(c.readiness_port == 8080);
  CHECK(c.readiness_path == "/");
  CHECK(c.readiness == readiness_protocol::http);
  CHECK(c.readiness_healthy.contains(404));
  CHECK_FALSE(c.readiness_healthy.contains(500));
  CHECK(c.pass_through_path == "/events");
  CHECK(c.pool_idle_timeout == std::chrono::seconds(4));
  CHECK_FALSE(c.error_status_codes);
  CHECK_FALSE(c.runtime_api);
}

TEST_CASE("AWS_LWA_PORT wins over PORT and the readiness port follows the app port") {
  auto r = read({{"PORT", "3000"}});
  CHECK(r.value->backend.port == 3000);
  CHECK(r.value->readiness_port == 3000);
  r = read({{"PORT", "3000"}, {"AWS_LWA_PORT", "8000"}, {"AWS_LWA_READINESS_CHECK_PORT", "9000"}});
  CHECK(r.value->backend.port == 8000);
  CHECK(r.value->readiness_port == 9000);
}

TEST_CASE("the deprecated HOST works and warns once") {
  const auto r = read({{"HOST", "127.0.0.2"}});
  REQUIRE(r.value);
  CHECK(r.value->backend.host == "127.0.0.2");
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("HOST is deprecated") != std::string::npos);
}

TEST_CASE("booleans accept the usual spellings in any case and reject the rest") {
  for (auto t : {"true", "TRUE", "1", "yes", "On"}) CHECK(parse_bool(t) == true);
  for (auto f : {"false", "False", "0", "no", "OFF"}) CHECK(parse_bool(f) == false);
  for (auto bad : {"", "2", "enabled", "truee"}) CHECK_FALSE(parse_bool(bad));
  const auto r = read({{"LAMBDA_BRIDGE_STRIP_STAGE", "sure"}});
  CHECK_FALSE(r.value);
  CHECK(all_errors(r).find("LAMBDA_BRIDGE_STRIP_STAGE=\"sure\"") != std::string::npos);
}

TEST_CASE("an unusable value is an error naming the variable, the value and what is accepted") {
  const auto r = read({{"AWS_LWA_PORT", "notaport"},
                       {"AWS_LWA_READINESS_CHECK_PROTOCOL", "grpc"},
                       {"AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "200-abc"},
                       {"AWS_LWA_ERROR_STATUS_CODES", "500-400"},
                       {"AWS_LWA_INVOKE_MODE", "fast"},
                       {"AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS", "-1"},
                       {"AWS_LWA_PASS_THROUGH_PATH", "events"},
                       {"AWS_LWA_AUTHORIZATION_SOURCE", "bad header"},
                       {"AWS_LAMBDA_LOG_FORMAT", "xml"},
                       {"AWS_LAMBDA_RUNTIME_API", "nocolon"}});
  CHECK_FALSE(r.value);
  const auto e = all_errors(r);
  CHECK(r.errors.size() == 10);
  CHECK(e.find("AWS_LWA_PORT=\"notaport\" is not valid: expected a TCP port") != std::string::npos);
  CHECK(e.find("AWS_LWA_READINESS_CHECK_PROTOCOL=\"grpc\" is not valid: expected http or tcp") != std::string::npos);
  CHECK(e.find("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS=\"200-abc\"") != std::string::npos);
  CHECK(e.find("AWS_LWA_ERROR_STATUS_CODES=\"500-400\"") != std::string::npos);
  CHECK(e.find("AWS_LWA_INVOKE_MODE=\"fast\"") != std::string::npos);
  CHECK(e.find("AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS=\"-1\"") != std::string::npos);
  CHECK(e.find("AWS_LWA_PASS_THROUGH_PATH=\"events\"") != std::string::npos);
  CHECK(e.find("AWS_LWA_AUTHORIZATION_SOURCE=\"bad header\"") != std::string::npos);
  CHECK(e.find("AWS_LAMBDA_LOG_FORMAT=\"xml\"") != std::string::npos);
  CHECK(e.find("AWS_LAMBDA_RUNTIME_API=\"nocolon\"") != std::string::npos);
}

TEST_CASE("status lists take codes and ranges and refuse anything else") {
  const auto s = status_set::parse("200-399, 404");
  REQUIRE(s);
  CHECK(s->contains(200));
  CHECK(s->contains(399));
  CHECK(s->contains(404));
  CHECK_FALSE(s->contains(400));
  for (auto bad : {"", "abc", "200-", "-200", "99", "600", "300-200", "200,,300", "200;300"}) {
    CHECK_MESSAGE(!status_set::parse(bad), bad);
  }
}

TEST_CASE("the runtime API proxy carries invocation traffic when set") {
  const auto r = read({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}, {"AWS_LWA_LAMBDA_RUNTIME_API_PROXY", "127.0.0.1:9009"}});
  REQUIRE(r.value);
  CHECK(r.value->runtime_api->port == 9001);
  CHECK(r.value->invocation_api()->port == 9009);
}

TEST_CASE("Lambda's own variables fill the function environment and are never required") {
  const auto r = read({{"AWS_LAMBDA_FUNCTION_NAME", "fn"}, {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"},
                       {"AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"}, {"AWS_LAMBDA_LOG_LEVEL", "debug"},
                       {"AWS_LAMBDA_LOG_FORMAT", "JSON"}});
  REQUIRE(r.value);
  CHECK(r.value->function.function_name == "fn");
  CHECK(r.value->function.memory_mb == 512);
  CHECK(r.value->log_lvl == log_level::debug);
  CHECK(r.value->log_fmt == log_format::json);
}

TEST_CASE("an empty variable counts as unset") {
  const auto r = read({{"AWS_LWA_PORT", ""}, {"AWS_LWA_ERROR_STATUS_CODES", ""}});
  REQUIRE(r.value);
  CHECK(r.value->backend.port == 8080);
}

TEST_CASE("the emulator and supervision settings are read and validated") {
  auto r = read({{"LAMBDA_BRIDGE_EMULATOR_PORT", "0"}, {"LAMBDA_BRIDGE_GATEWAY_PORT", "off"},
                 {"LAMBDA_BRIDGE_GATEWAY_FORMAT", "ALB"}, {"AWS_LAMBDA_FUNCTION_TIMEOUT", "5"},
                 {"LAMBDA_BRIDGE_SHUTDOWN_GRACE_MS", "250"}, {"AWS_LWA_ASYNC_INIT", "true"}, {"LAMBDA_BRIDGE_EXEC", "no"}});
  REQUIRE(r.value);
  CHECK(r.value->emulator.port == 0);
  CHECK_FALSE(r.value->gateway_port);
  CHECK(r.value->gateway == gateway_format::alb);
  CHECK(r.value->function_timeout == std::chrono::seconds(5));
  CHECK(r.value->shutdown_grace == std::chrono::milliseconds(250));
  CHECK(r.value->async_init);
  CHECK_FALSE(r.value->exec_mode);
  r = read({{"LAMBDA_BRIDGE_EMULATOR_HOST", "localhost:80"}, {"LAMBDA_BRIDGE_GATEWAY_FORMAT", "soap"},
            {"AWS_LAMBDA_FUNCTION_TIMEOUT", "0"}, {"LAMBDA_BRIDGE_GATEWAY_PORT", "99999"}});
  CHECK_FALSE(r.value);
  CHECK(r.errors.size() == 4);
}

TEST_CASE("compression is a validated boolean") {
  CHECK(read({{"AWS_LWA_ENABLE_COMPRESSION", "true"}}).value->compression);
  CHECK_FALSE(read({}).value->compression);
  CHECK_FALSE(read({{"AWS_LWA_ENABLE_COMPRESSION", "gzip"}}).value);
}

TEST_CASE("the invoke mode is buffered by default and response_stream in any case turns streaming on") {
  CHECK_FALSE(read({}).value->response_stream);
  CHECK_FALSE(read({{"AWS_LWA_INVOKE_MODE", "buffered"}}).value->response_stream);
  CHECK(read({{"AWS_LWA_INVOKE_MODE", "response_stream"}}).value->response_stream);
  CHECK(read({{"AWS_LWA_INVOKE_MODE", "RESPONSE_STREAM"}}).value->response_stream);
  const auto r = read({{"AWS_LWA_INVOKE_MODE", "stream"}});
  CHECK_FALSE(r.value);
  CHECK(all_errors(r).find("buffered or response_stream") != std::string::npos);
}

TEST_CASE("aws-lambda-web-adapter's unprefixed names are honoured, each with a warning naming its new variable") {
  const auto r = read({{"READINESS_CHECK_PORT", "9000"},
                       {"READINESS_CHECK_PATH", "/healthz"},
                       {"READINESS_CHECK_PROTOCOL", "tcp"},
                       {"REMOVE_BASE_PATH", "/api"},
                       {"ASYNC_INIT", "true"}});
  REQUIRE(r.value);
  CHECK(r.value->readiness_port == 9000);
  CHECK(r.value->readiness_path == "/healthz");
  CHECK(r.value->readiness == readiness_protocol::tcp);
  CHECK(r.value->remove_base_path == "/api");
  CHECK(r.value->async_init);
  CHECK(r.warnings.size() == 5);
  const auto w = all_warnings(r);
  CHECK(w.find("READINESS_CHECK_PORT is deprecated; use AWS_LWA_READINESS_CHECK_PORT\n") != std::string::npos);
  CHECK(w.find("READINESS_CHECK_PATH is deprecated; use AWS_LWA_READINESS_CHECK_PATH\n") != std::string::npos);
  CHECK(w.find("READINESS_CHECK_PROTOCOL is deprecated; use AWS_LWA_READINESS_CHECK_PROTOCOL\n") !=
        std::string::npos);
  CHECK(w.find("REMOVE_BASE_PATH is deprecated; use AWS_LWA_REMOVE_BASE_PATH\n") != std::string::npos);
  CHECK(w.find("ASYNC_INIT is deprecated; use AWS_LWA_ASYNC_INIT\n") != std::string::npos);
}

TEST_CASE("the AWS_LWA_ name wins over its unprefixed one, which is reported as ignored") {
  const auto r = read({{"READINESS_CHECK_PATH", "/old"},
                       {"AWS_LWA_READINESS_CHECK_PATH", "/new"},
                       {"REMOVE_BASE_PATH", "/old"},
                       {"AWS_LWA_REMOVE_BASE_PATH", "/new"},
                       {"ASYNC_INIT", "true"},
                       {"AWS_LWA_ASYNC_INIT", "false"}});
  REQUIRE(r.value);
  CHECK(r.value->readiness_path == "/new");
  CHECK(r.value->remove_base_path == "/new");
  CHECK_FALSE(r.value->async_init);
  const auto w = all_warnings(r);
  CHECK(w.find("READINESS_CHECK_PATH is deprecated and ignored: AWS_LWA_READINESS_CHECK_PATH is set") !=
        std::string::npos);
  CHECK(w.find("REMOVE_BASE_PATH is deprecated and ignored: AWS_LWA_REMOVE_BASE_PATH is set") !=
        std::string::npos);
  CHECK(w.find("ASYNC_INIT is deprecated and ignored: AWS_LWA_ASYNC_INIT is set") != std::string::npos);
}

TEST_CASE("an unusable value under an unprefixed name is an error naming that name") {
  const auto r = read({{"READINESS_CHECK_PATH", "healthz"},
                       {"READINESS_CHECK_PORT", "0"},
                       {"READINESS_CHECK_PROTOCOL", "udp"},
                       {"ASYNC_INIT", "maybe"}});
  REQUIRE(r.errors.size() == 4);
  for (const auto* expected : {"READINESS_CHECK_PATH=\"healthz\" is not valid: expected a path starting with '/'",
                               "READINESS_CHECK_PORT=\"0\" is not valid", "ASYNC_INIT=\"maybe\" is not valid",
                               "READINESS_CHECK_PROTOCOL=\"udp\" is not valid: expected http or tcp"}) {
    CHECK_MESSAGE(all_errors(r).find(expected) != std::string::npos, expected);
  }
  CHECK(all_errors(r).find("AWS_LWA_") == std::string::npos);  // the name set, not the one it stands for
}

TEST_CASE("the older minimum unhealthy status means every status below it is healthy, with a warning") {
  auto r = read({{"AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "400"}});
  REQUIRE(r.value);
  CHECK(r.value->readiness_healthy.contains(100));
  CHECK(r.value->readiness_healthy.contains(399));
  CHECK_FALSE(r.value->readiness_healthy.contains(400));
  CHECK(all_warnings(r) ==
        "AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS is deprecated; use "
        "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS=100-399\n");
  r = read({{"AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "400"},
            {"AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "200-499"}});
  REQUIRE(r.value);
  CHECK(r.value->readiness_healthy.contains(404));
  CHECK(all_warnings(r).find("is deprecated and ignored: AWS_LWA_READINESS_CHECK_HEALTHY_STATUS is set") !=
        std::string::npos);
  r = read({{"AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "100"}});
  CHECK_FALSE(r.value);
  CHECK(all_errors(r).find("AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS=\"100\" is not valid: expected a status "
                           "code from 101 to 600") == 0);
}

TEST_CASE("an AWS_LWA_ or LAMBDA_BRIDGE_ name the bridge does not read is reported with the nearest one") {
  const auto r = read(
      {{"AWS_LWA_REMOVE_BASEPATH", "/api"}, {"LAMBDA_BRIDGE_STRIPSTAGE", "true"}, {"AWS_LWA_ENABLE_TLS", "true"}});
  REQUIRE(r.value);
  CHECK(r.value->remove_base_path.empty());
  CHECK(all_warnings(r) ==
        "AWS_LWA_ENABLE_TLS is not a variable lambda-bridge reads and is ignored (the nearest it reads is "
        "AWS_LWA_INVOKE_MODE; lambda-bridge --help lists them all)\n"
        "AWS_LWA_REMOVE_BASEPATH is not a variable lambda-bridge reads and is ignored; did you mean "
        "AWS_LWA_REMOVE_BASE_PATH?\n"
        "LAMBDA_BRIDGE_STRIPSTAGE is not a variable lambda-bridge reads and is ignored; did you mean "
        "LAMBDA_BRIDGE_STRIP_STAGE?\n");
}

TEST_CASE("an unknown name with other bytes than letters, digits and '_' is quoted and escaped, on one line") {
  const auto r = read({{"AWS_LWA_PORT ", "1"}, {"AWS_LWA_X\nWARN forged", "1"}});
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0] ==
        "\"AWS_LWA_PORT \" is not a variable lambda-bridge reads and is ignored; did you mean "
        "AWS_LWA_PORT?");
  CHECK(r.warnings[1].starts_with(R"("AWS_LWA_X\nWARN forged" is not a variable lambda-bridge reads)"));
}

TEST_CASE("known names, other prefixes and empty values raise no unknown-name warning") {
  std::map<std::string, std::string> vars{
      {"AWS_LWA_PORT", "3000"},         {"LAMBDA_BRIDGE_STRIP_STAGE", "true"},
      {"AWS_LAMBDA_RUNTIME_APIX", "x"},  // Lambda's own prefix: Lambda adds variables the bridge need not know
      {"MY_AWS_LWA_PORT", "x"},         {"AWS_LWA_TYPO", ""},  // empty counts as unset
  };
  for (const auto name : env::known_names) vars.emplace(name, "");
  const auto r = read(vars);
  REQUIRE(r.value);
  CHECK(r.warnings.empty());
}

TEST_CASE("without the environment's names no unknown-name check is made") {
  const auto r = read_config([](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_LWA_REMOVE_BASEPATH") return "/api";
    return std::nullopt;
  });
  REQUIRE(r.value);
  CHECK(r.warnings.empty());
}

TEST_CASE("--help names every variable the bridge reads") {
  for (const auto name : env::known_names) CHECK_MESSAGE(help_text().find(name) != std::string_view::npos, name);
}

TEST_CASE("the app's output is inherited by default, tagged on request, and any other value is refused") {
  CHECK(read({}).value->app_log == app_log_mode::inherit);
  CHECK(read({{"LAMBDA_BRIDGE_APP_LOG", "inherit"}}).value->app_log == app_log_mode::inherit);
  CHECK(read({{"LAMBDA_BRIDGE_APP_LOG", "tag"}}).value->app_log == app_log_mode::tag);
  CHECK(read({{"LAMBDA_BRIDGE_APP_LOG", "TAG"}}).value->app_log == app_log_mode::tag);
  const auto r = read({{"LAMBDA_BRIDGE_APP_LOG", "json"}});
  CHECK_FALSE(r.value);
  CHECK(all_errors(r).find("LAMBDA_BRIDGE_APP_LOG=\"json\" is not valid: expected inherit") != std::string::npos);
}
