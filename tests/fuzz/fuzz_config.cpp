// Proves that no environment, however odd, crashes the configuration reader or leaves the bridge without an
// answer: it either returns a configuration or says which variables are wrong.
//
// Input: NAME=VALUE lines (the last one of a name wins, as in a shell), looked up through read_config's lookup
// function as the real environment would be. Invariants: exactly one of a configuration and a non-empty error
// list; every error starts with the name of a variable that was set (NAME="value" is not valid: ...); a
// configuration's ports are non-zero and its paths start with '/'; every warning is one line and starts with the
// name of a variable that was set (a deprecated name in use, or an AWS_LWA_* or LAMBDA_BRIDGE_* name the bridge
// does not read), quoted when it holds other bytes than letters, digits and '_'.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "lambda_bridge/config/config.hpp"

using namespace lambda_bridge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string, std::less<>> vars;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    vars[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }

  std::vector<std::string> names;
  for (const auto& [name, value] : vars) names.push_back(name);
  const config_result r = read_config(
      [&vars](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
      },
      names);

  FUZZ_CHECK(r.value.has_value() != !r.errors.empty(), std::to_string(r.errors.size()) + " errors");
  for (const auto& e : r.errors) {
    const std::size_t eq = e.find("=\"");
    FUZZ_CHECK(eq != std::string::npos && eq > 0, e);
    const auto it = vars.find(std::string_view(e).substr(0, eq));
    FUZZ_CHECK(it != vars.end() && !it->second.empty(), e);
  }
  for (const auto& w : r.warnings) {
    // One log line each: an odd name is quoted with its control bytes escaped.
    FUZZ_CHECK(std::none_of(w.begin(), w.end(), [](char c) { return c == '\n' || c == '\r' || c == '\0'; }), w);
    if (w.starts_with('"')) continue;
    const auto it = vars.find(std::string_view(w).substr(0, w.find(' ')));
    FUZZ_CHECK(it != vars.end() && !it->second.empty(), w);
  }
  if (!r.value) return 0;
  const config& c = *r.value;
  FUZZ_CHECK(c.backend.port != 0 && !c.backend.host.empty(), c.backend.to_string());
  FUZZ_CHECK(c.readiness_port != 0, std::to_string(c.readiness_port));
  FUZZ_CHECK(!c.readiness_path.empty() && c.readiness_path.front() == '/', c.readiness_path);
  FUZZ_CHECK(!c.pass_through_path.empty() && c.pass_through_path.front() == '/', c.pass_through_path);
  FUZZ_CHECK(c.max_concurrency >= 1, std::to_string(c.max_concurrency));
  return 0;
}
