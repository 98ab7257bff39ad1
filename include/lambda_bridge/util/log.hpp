// Logging for every component: spdlog to stderr, as text or as JSON (AWS_LAMBDA_LOG_FORMAT=JSON, so CloudWatch
// reads the fields), with the request id on every per-invocation line. Concurrent invocations share one thread,
// so the id is passed explicitly rather than kept in thread-local state. Payloads are logged at debug only.
#pragma once

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "lambda_bridge/util/log_options.hpp"

namespace lambda_bridge::log {

void init(log_format format, log_level level);

// A named value of one record. In JSON it is a field of the record itself, so CloudWatch Logs Insights can filter
// and aggregate on it (`filter status >= 500`); the text format does not write it, its message says it in words.
// Borrowed strings and plain numbers only: building a record's fields allocates nothing.
struct field {
  field() = default;
  field(std::string_view n, std::string_view v) : name(n), value(v) {}
  template <std::integral I>
  field(std::string_view n, I v) : name(n), value(static_cast<std::int64_t>(v)) {}
  // Written as milliseconds with three decimals (millis_text).
  field(std::string_view n, std::chrono::microseconds v) : name(n), value(v) {}

  std::string_view name;
  std::variant<std::string_view, std::int64_t, std::chrono::microseconds> value;
};

// A duration as milliseconds with three decimals ("12.345"), from integers: formatting a double costs more.
class millis_text {
 public:
  explicit millis_text(std::chrono::microseconds d);
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[32];
  std::size_t size_ = 0;
};

// Writes one line; `request_id` may be empty for lines outside an invocation.
void write(spdlog::level::level_enum level, std::string_view request_id, std::string_view message,
           std::span<const field> fields = {});

template <class... Args>
void at(spdlog::level::level_enum level, std::string_view request_id, fmt::format_string<Args...> f, Args&&... args) {
  if (!spdlog::should_log(level)) return;
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), f, std::forward<Args>(args)...);
  write(level, request_id, {buf.data(), buf.size()});
}

template <class... Args>
void debug(std::string_view rid, fmt::format_string<Args...> f, Args&&... a) { at(spdlog::level::debug, rid, f, std::forward<Args>(a)...); }
template <class... Args>
void info(std::string_view rid, fmt::format_string<Args...> f, Args&&... a) { at(spdlog::level::info, rid, f, std::forward<Args>(a)...); }
template <class... Args>
void warn(std::string_view rid, fmt::format_string<Args...> f, Args&&... a) { at(spdlog::level::warn, rid, f, std::forward<Args>(a)...); }
template <class... Args>
void error(std::string_view rid, fmt::format_string<Args...> f, Args&&... a) { at(spdlog::level::err, rid, f, std::forward<Args>(a)...); }

}  // namespace lambda_bridge::log
