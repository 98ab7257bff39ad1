#include "lambda_bridge/config/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <utility>

#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/uri.hpp"

extern char** environ;

namespace lambda_bridge {
namespace {

using text::lower;

template <class Int>
std::optional<Int> parse_int(std::string_view s, Int min, Int max) {
  Int v{};
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

// Levenshtein distance from `name` to the known name `known`: the fewest one-character insertions, deletions and
// substitutions between them; any value over `limit` once the distance is sure to exceed it (the search for the
// nearest name needs no more). One row of the table, over the known name, on the stack: known names are short.
// Left out of the fuzzers' coverage tracing: a trace call on each comparison of each cell made the configuration
// fuzzer many times slower, and the cells' branches say nothing about which inputs are worth keeping.
#if defined(__clang__)
#define LAMBDA_BRIDGE_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define LAMBDA_BRIDGE_NO_COVERAGE
#endif
LAMBDA_BRIDGE_NO_COVERAGE std::size_t edit_distance(std::string_view name, std::string_view known,
                                                    std::size_t limit) {
  // A shared prefix and suffix change nothing, and most names share AWS_LWA_ or LAMBDA_BRIDGE_.
  while (!name.empty() && !known.empty() && name.front() == known.front()) {
    name.remove_prefix(1);
    known.remove_prefix(1);
  }
  while (!name.empty() && !known.empty() && name.back() == known.back()) {
    name.remove_suffix(1);
    known.remove_suffix(1);
  }
  std::array<std::size_t, 64> row;
  if (known.size() >= row.size()) return limit + 1;  // no known name is this long (static_assert below)
  const std::size_t length_gap =
      name.size() > known.size() ? name.size() - known.size() : known.size() - name.size();
  if (length_gap > limit) return limit + 1;  // a lower bound of the distance
  for (std::size_t j = 0; j <= known.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= name.size(); ++i) {
    std::size_t diagonal = row[0];
    std::size_t row_min = row[0] = i;
    for (std::size_t j = 1; j <= known.size(); ++j) {
      const std::size_t above = row[j];
      std::size_t d = diagonal + (name[i - 1] == known[j - 1] ? 0 : 1);
      if (above + 1 < d) d = above + 1;
      if (row[j - 1] + 1 < d) d = row[j - 1] + 1;
      row[j] = d;
      diagonal = above;
      if (d < row_min) row_min = d;
    }
    if (row_min > limit) return limit + 1;  // every later row is at least as far
  }
  return row[known.size()];
}
static_assert(std::all_of(std::begin(env::known_names), std::end(env::known_names),
                          [](std::string_view k) { return k.size() < 64; }));

// A variable name for a one-line message: as it is when it is made of letters, digits and '_', else as a quoted
// JSON string in ASCII (a name may hold any byte but '=' and NUL, a line break among them).
std::string printable_name(std::string_view name) {
  const auto plain = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!name.empty() && std::all_of(name.begin(), name.end(), plain)) return std::string(name);
  std::string out;
  append_json_string_ascii(out, name);
  return out;
}

// Collects the errors of one read so that every bad variable is reported at once, not one per restart.
class reader {
 public:
  reader(const env_lookup& lookup, config_result& out) : lookup_(lookup), out_(out) {}

  // The value of `name`, else of the older name it falls back to (env::fallbacks).
  std::optional<std::string> get(std::string_view name) const { return value_of(source(name)); }

  // The variable `name` takes its value from: itself, or the older name when only that one is set.
  std::string_view source(std::string_view name) const {
    if (value_of(name)) return name;
    for (const auto& f : env::fallbacks) {
      if (f.name == name && value_of(f.older)) return f.older;
    }
    return name;
  }

  // Exactly `name`'s value; an empty value counts as unset (shells and templates often export empty variables).
  std::optional<std::string> value_of(std::string_view name) const {
    auto v = lookup_(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  }

  // A deprecated name in use: ignored when its replacement `name` is set, else read in its place.
  void deprecated(std::string_view older, std::string_view name, std::string_view use) {
    out_.warnings.push_back(value_of(name) ? std::string(older) +
                                                 " is deprecated and ignored: " + std::string(name) + " is set"
                                           : std::string(older) + " is deprecated; use " + std::string(use));
  }

  void deprecated_names() {
    for (const auto& f : env::fallbacks) {
      if (f.deprecated && value_of(f.older)) deprecated(f.older, f.name, f.name);
    }
  }

  // Set AWS_LWA_* and LAMBDA_BRIDGE_* names the bridge does not read, each with the nearest one it does.
  void unknown_names(std::span<const std::string> names) {
    std::vector<std::string_view> unknown;
    for (const std::string& n : names) {
      if ((n.starts_with("AWS_LWA_") || n.starts_with("LAMBDA_BRIDGE_")) && value_of(n) &&
          std::find(std::begin(env::known_names), std::end(env::known_names), n) == std::end(env::known_names)) {
        unknown.push_back(n);
      }
    }
    std::sort(unknown.begin(), unknown.end());
    unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
    for (const std::string_view n : unknown) {
      // The name sharing the longest prefix first: a typo's distance to it is small, which bounds (and so cuts
      // short) the distance to every other name; on a tie it stays the nearest.
      const auto shared = [&](std::string_view k) {
        return static_cast<std::size_t>(std::mismatch(n.begin(), n.end(), k.begin(), k.end()).first - n.begin());
      };
      std::string_view nearest = *std::max_element(std::begin(env::known_names), std::end(env::known_names),
                                                   [&](auto a, auto b) { return shared(a) < shared(b); });
      std::size_t best = edit_distance(n, nearest, std::max(n.size(), nearest.size()));
      for (const std::string_view k : env::known_names) {
        if (const auto d = edit_distance(n, k, best); d < best) {
          best = d;
          nearest = k;
        }
      }
      // A near name is a typo; a far one is a setting the bridge does not have (the nearest may still help).
      std::string w = printable_name(n) + " is not a variable lambda-bridge reads and is ignored";
      if (best <= n.size() / 3) {
        w += "; did you mean " + std::string(nearest) + "?";
      } else {
        w += " (the nearest it reads is " + std::string(nearest) + "; lambda-bridge --help lists them all)";
      }
      out_.warnings.push_back(std::move(w));
    }
  }

  // The error names the variable that was set: `name`, or the older name it fell back to.
  void fail(std::string_view name, std::string_view value, std::string_view accepted) {
    out_.errors.push_back(std::string(source(name)) + "=\"" + std::string(value) + "\" is not valid: expected " +
                          std::string(accepted));
  }

  std::optional<std::uint16_t> port(std::string_view name, const std::string& value) {
    auto p = parse_int<std::uint16_t>(value, 1, 65535);
    if (!p) fail(name, value, "a TCP port number from 1 to 65535");
    return p;
  }

  void boolean(std::string_view name, bool& target) {
    if (auto v = get(name)) {
      if (auto b = parse_bool(*v)) {
        target = *b;
      } else {
        fail(name, *v, "true/false, 1/0, yes/no or on/off");
      }
    }
  }

  // A whole number in [lo, hi] handed to `set`, or an error saying what is accepted.
  template <class T, class Set>
  void integer(std::string_view name, T lo, T hi, std::string_view accepted, Set&& set) {
    if (auto v = get(name)) {
      if (auto n = parse_int<T>(*v, lo, hi)) {
        set(*n);
      } else {
        fail(name, *v, accepted);
      }
    }
  }

  void seconds(std::string_view name, std::chrono::milliseconds& target) {
    integer<std::int64_t>(name, 0, 86'400, "a whole number of seconds from 0 to 86400",
                          [&](std::int64_t n) { target = std::chrono::seconds(n); });
  }

  void path(std::string_view name, std::string& target) {
    if (auto v = get(name)) {
      if (v->front() != '/' || !uri::is_field_value(*v) || v->find(' ') != std::string::npos) {
        fail(name, *v, "a path starting with '/' without spaces or control characters");
      } else {
        target = *v;
      }
    }
  }

  // One of a few names (any case), each standing for a value of `target`.
  template <class T>
  void one_of(std::string_view name, std::initializer_list<std::pair<std::string_view, T>> names,
              std::string_view accepted, T& target) {
    if (auto v = get(name)) {
      const std::string given = lower(*v);
      for (const auto& [n, value] : names) {
        if (given == n) {
          target = value;
          return;
        }
      }
      fail(name, *v, accepted);
    }
  }

  void statuses(std::string_view name, std::optional<status_set>& target) {
    if (auto v = get(name)) {
      if (auto s = status_set::parse(*v)) {
        target = std::move(*s);
      } else {
        fail(name, *v, "a comma-separated list of status codes and ranges (100-599), e.g. 200-399,404");
      }
    }
  }

 private:
  const env_lookup& lookup_;
  config_result& out_;
};

}  // namespace

std::optional<bool> parse_bool(std::string_view text) {
  const std::string v = lower(text);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return std::nullopt;
}

std::optional<host_port> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const auto port = parse_int<std::uint16_t>(text.substr(colon + 1), 1, 65535);
  if (!port || host.empty() || !uri::is_field_value(host) || host.find(' ') != std::string_view::npos) {
    return std::nullopt;
  }
  return host_port{std::string(host), *port};
}

config_result read_config(const env_lookup& lookup, std::span<const std::string> set_names) {
  config_result out;
  config c;
  reader r(lookup, out);
  r.deprecated_names();
  r.unknown_names(set_names);

  if (auto v = r.get(env::runtime_api)) {
    if (!(c.runtime_api = parse_host_port(*v))) r.fail(env::runtime_api, *v, "host:port");
  }
  if (auto v = r.get(env::runtime_api_proxy)) {
    if (!(c.runtime_api_proxy = parse_host_port(*v))) r.fail(env::runtime_api_proxy, *v, "host:port");
  }

  if (auto v = r.get(env::port)) {
    if (auto p = r.port(env::port, *v)) c.backend.port = *p;
  }
  if (auto v = r.get(env::host)) {
    if (v->find_first_of(" /?#") != std::string::npos || !uri::is_field_value(*v)) {
      r.fail(env::host, *v, "a host name or IP address");
    } else {
      c.backend.host = *v;
    }
  }

  c.readiness_port = c.backend.port;
  if (auto v = r.get(env::readiness_port)) {
    if (auto p = r.port(env::readiness_port, *v)) c.readiness_port = *p;
  }
  r.path(env::readiness_path, c.readiness_path);
  r.one_of(env::readiness_protocol, {{"http", readiness_protocol::http}, {"tcp", readiness_protocol::tcp}},
           "http or tcp", c.readiness);
  {
    std::optional<status_set> healthy;
    r.statuses(env::readiness_healthy_status, healthy);
    if (healthy) c.readiness_healthy = std::move(*healthy);
    // aws-lambda-web-adapter's older form: the lowest status that means not ready.
    if (auto v = r.value_of(env::readiness_min_unhealthy_deprecated)) {
      const auto n = parse_int<int>(*v, 101, 600);
      const std::string range = n ? "100-" + std::to_string(*n - 1) : std::string();
      if (!n) {
        r.fail(env::readiness_min_unhealthy_deprecated, *v, "a status code from 101 to 600");
      } else if (!r.value_of(env::readiness_healthy_status)) {
        c.readiness_healthy = *status_set::parse(range);
      }
      r.deprecated(env::readiness_min_unhealthy_deprecated, env::readiness_healthy_status,
                   std::string(env::readiness_healthy_status) + (n ? "=" + range : std::string()));
    }
  }
  r.integer<std::int64_t>(env::readiness_timeout, 1, 86'400, "a whole number of seconds from 1 to 86400",
                          [&](std::int64_t n) { c.readiness_timeout = std::chrono::seconds(n); });

  r.path(env::remove_base_path, c.remove_base_path);
  r.boolean(env::strip_stage, c.strip_stage);
  r.path(env::pass_through_path, c.pass_through_path);
  if (auto v = r.get(env::invoke_mode)) {
    // An unknown mode is refused, never served buffered silently (the aws-lambda-web-adapter fault the
    // configuration spec names).
    const std::string mode = lower(*v);
    if (mode == "response_stream") {
      c.response_stream = true;
    } else if (mode != "buffered") {
      r.fail(env::invoke_mode, *v, "buffered or response_stream");
    }
  }
  r.boolean(env::enable_compression, c.compression);
  r.statuses(env::error_status_codes, c.error_status_codes);
  if (auto v = r.get(env::authorization_source)) {
    if (!uri::is_token(*v)) {
      r.fail(env::authorization_source, *v, "an HTTP header name");
    } else {
      c.authorization_source = *v;
    }
  }
  r.seconds(env::pool_idle_timeout, c.pool_idle_timeout);
  r.integer<std::size_t>(env::max_event_bytes, 1024, std::size_t{256} << 20, "a byte count from 1024 to 268435456",
                         [&](std::size_t n) { c.max_event_bytes = n; });
  r.integer<std::int64_t>(env::deadline_reserve_ms, 0, 60'000, "milliseconds from 0 to 60000",
                          [&](std::int64_t n) { c.deadline_reserve = std::chrono::milliseconds(n); });

  r.integer<std::size_t>(env::max_concurrency, 1, 1024, "a whole number of concurrent invocations from 1 to 1024",
                         [&](std::size_t n) { c.max_concurrency = n; });
  r.boolean(env::async_init, c.async_init);
  r.boolean(env::exec_mode, c.exec_mode);
  {
    bool extension = false;
    if (r.get(env::extension_mode)) {
      r.boolean(env::extension_mode, extension);
      c.extension_mode = extension;
    }
  }
  r.boolean(env::emulator_only, c.emulator_only);
  if (c.emulator_only) c.runtime_api_port = 9001;
  r.integer<std::uint16_t>(env::runtime_api_port, 0, 65535, "a TCP port number from 0 (any free port) to 65535",
                           [&](std::uint16_t p) { c.runtime_api_port = p; });
  r.integer<std::int64_t>(env::shutdown_grace_ms, 0, 600'000, "milliseconds from 0 to 600000",
                          [&](std::int64_t n) { c.shutdown_grace = std::chrono::milliseconds(n); });
  if (auto v = r.get(env::emulator_host)) {
    unsigned char addr[16];
    if (::inet_pton(AF_INET, v->c_str(), addr) != 1 && ::inet_pton(AF_INET6, v->c_str(), addr) != 1) {
      r.fail(env::emulator_host, *v, "a numeric IP address to listen on, such as 0.0.0.0 or 127.0.0.1");
    } else {
      c.emulator.host = *v;
    }
  }
  r.integer<std::uint16_t>(env::emulator_port, 0, 65535, "a TCP port number from 0 (any free port) to 65535",
                           [&](std::uint16_t p) { c.emulator.port = p; });
  if (auto v = r.get(env::gateway_port)) {
    if (lower(*v) == "off") {
      c.gateway_port.reset();
    } else if (auto p = parse_int<std::uint16_t>(*v, 0, 65535)) {
      c.gateway_port = *p;
    } else {
      r.fail(env::gateway_port, *v, "a TCP port number from 0 (any free port) to 65535, or off");
    }
  }
  if (auto v = r.get(env::gateway_format)) {
    if (auto f = parse_gateway_format(*v)) {
      c.gateway = *f;
    } else {
      r.fail(env::gateway_format, *v, "http-api, rest, alb or function-url");
    }
  }
  r.integer<std::int64_t>(env::function_timeout, 1, 900, "whole seconds from 1 to 900",
                          [&](std::int64_t n) { c.function_timeout = std::chrono::seconds(n); });

  r.one_of(env::log_format, {{"text", log_format::text}, {"json", log_format::json}}, "Text or JSON", c.log_fmt);
  if (auto v = r.get(env::log_level)) {
    const std::string l = lower(*v);
    if (l == "trace") c.log_lvl = log_level::trace;
    else if (l == "debug") c.log_lvl = log_level::debug;
    else if (l == "info") c.log_lvl = log_level::info;
    else if (l == "warn" || l == "warning") c.log_lvl = log_level::warn;
    else if (l == "error") c.log_lvl = log_level::error;
    else if (l == "fatal") c.log_lvl = log_level::fatal;
    else r.fail(env::log_level, *v, "TRACE, DEBUG, INFO, WARN, ERROR or FATAL");
  }

  r.one_of(env::app_log, {{"inherit", app_log_mode::inherit}, {"tag", app_log_mode::tag}},
           "inherit (the app writes to the bridge's stdout and stderr itself) or tag (the bridge reads the app's "
           "output and writes each line out again with the request id)",
           c.app_log);

  c.function.function_name = r.get(env::function_name).value_or("");
  c.function.version = r.get(env::function_version).value_or("");
  c.function.log_group = r.get(env::log_group_name).value_or("");
  c.function.log_stream = r.get(env::log_stream_name).value_or("");
  r.integer<std::int64_t>(env::function_memory_size, 1, 1'000'000, "a size in MB",
                          [&](std::int64_t n) { c.function.memory_mb = n; });

  if (out.errors.empty()) out.value = std::move(c);
  return out;
}

std::optional<gateway_format> parse_gateway_format(std::string_view text) {
  const std::string t = lower(text);
  if (t == "http-api" || t == "http" || t == "v2") return gateway_format::http_api;
  if (t == "rest" || t == "v1") return gateway_format::rest;
  if (t == "alb") return gateway_format::alb;
  if (t == "function-url" || t == "url") return gateway_format::function_url;
  return std::nullopt;
}

std::vector<std::string> process_environment_names() {
  std::vector<std::string> names;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    names.emplace_back(entry.substr(0, entry.find('=')));
  }
  return names;
}

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace lambda_bridge
